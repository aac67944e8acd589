"""The blind A/B panel: two outputs for the same prompt, names hidden until the vote; ``arena`` opens one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..human import ArenaSession
from ..views.html import escape
from .panel import BOX, Panel, text_block

VOTE_BUTTONS = {
    "a": ("A", "A is better [a]"),
    "b": ("B", "B is better [b]"),
    "t": ("tie", "tie [t]"),
    "x": ("both_bad", "both bad [x]"),
}


def arena(
    *sources: Any,
    outputs: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    name: str | None = None,
    annotator: str | None = None,
    columns: Mapping[str, str] | None = None,
    seed: int = 0,
    store: str | Path | None = None,
    advance: bool = True,
    partial: bool = False,
) -> ArenaPanel:
    """A blind A/B panel over two or more runs (ids or ``EvalResult``s) or DataFrames of items.

    One DataFrame with a model column holding several names compares those models; ``outputs`` names
    several output columns of one DataFrame to compare instead. ``names`` renames the sources (one per
    source); ``name`` is the session's name in the store (default: the models, sorted). ``partial=True`` votes on
    runs that are not complete (their saved items only), and says so in the panel.
    """
    session = ArenaSession.open(
        *sources,
        outputs=outputs,
        names=names,
        name=name,
        annotator=annotator,
        columns=columns,
        seed=seed,
        store=store,
        advance=advance,
        partial=partial,
    )
    return ArenaPanel(session)


class ArenaPanel(Panel):
    """Draws an ``ArenaSession``; ``panel.session.vote('A')`` records a vote from code."""

    title = "Blind A/B: which output is better?"

    def __init__(self, session: ArenaSession):
        choice_keys = {k: (lambda v=v: session.vote(v)) for k, (v, _) in VOTE_BUTTONS.items()}
        super().__init__(session, choice_keys, "a A better · b B better · t tie · x both bad")
        self.choices = {}
        for key, (vote, label) in VOTE_BUTTONS.items():
            button = W.Button(description=label, tooltip=f"vote {vote} (key {key})", layout=W.Layout(width="auto"))
            button.on_click(lambda _b, key=key: self.press(key))
            self.choices[vote] = button
        self.reveal = W.HTML()
        self.widget = self.layout(
            [self.item, W.HBox(list(self.choices.values())), W.HBox(list(self.nav.values())), self.reveal]
        )
        self.refresh()

    def render_item(self) -> None:
        s = self.session
        left, right = s.shown()
        state = s.state()
        names = s.revealed()
        same_prompt = left["prompt"] == right["prompt"]

        def column(side: str, out: dict) -> str:
            who = f"{side}: {out['model']}" if names else side
            prompt = "" if same_prompt else text_block(f"Prompt {side}", out["prompt"])
            return f"<div style='flex:1;min-width:0'>{prompt}{text_block(who, out['output'])}</div>"

        top = text_block("Prompt", left["prompt"]) if same_prompt else ""
        ref = text_block("Reference", left["reference"]) if left["reference"] is not None else ""
        voted = f"you voted {state.vote}" if state.vote else "names are hidden until you vote"
        self.item.value = (
            f"<div style='color:#666'>item {escape(str(left['item_id']))} · {escape(voted)}</div>"
            f"{top}{ref}<div style='display:flex;gap:12px'>{column('A', left)}{column('B', right)}</div>"
        )
        for vote, button in self.choices.items():
            button.button_style = "success" if vote == state.vote else ""
            button.disabled = s.annotator is None
        for button in self.nav.values():
            button.disabled = s.annotator is None
        self.reveal.value = f"<div style='{BOX};max-height:none'>{escape(s.last_reveal)}</div>" if s.last_reveal else ""
