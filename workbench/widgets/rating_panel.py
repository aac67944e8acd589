"""The rating panel: one item at a time, a button (and a key) per rubric value; ``rate`` opens one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..human import RatingSession, Rubric
from ..views.html import escape
from .panel import Panel, text_block


def rate(
    source: Any,
    rubric: str | Sequence[str] | Rubric = "1-5",
    *,
    annotator: str | None = None,
    columns: Mapping[str, str] | None = None,
    model: str | None = None,
    store: str | Path | None = None,
    advance: bool = True,
    partial: bool = False,
) -> RatingPanel:
    """A rating panel over a run (id or ``EvalResult``) or a DataFrame of items; see ``workbench.human.items``.

    Every click is saved at once; reopening resumes at the first item not yet rated. ``partial=True`` rates a run
    that is not complete (its saved items only), and says so in the panel. ``panel.session``
    records ratings from code with the same calls the buttons make (``choose``, ``skip``, ``note``, ...).
    """
    session = RatingSession.open(
        source, rubric, annotator=annotator, columns=columns, model=model, store=store, advance=advance, partial=partial
    )
    return RatingPanel(session)


class RatingPanel(Panel):
    """Draws a ``RatingSession``; ``panel.session`` records ratings from code with the same calls."""

    def __init__(self, session: RatingSession):
        rubric = session.rubric
        self.title = f"Rate: {rubric.name}"
        choice_keys = {k: (lambda v=v: session.choose(v)) for k, v in rubric.keys.items()}
        keys = list(rubric.keys)
        key_help = (
            f"{keys[0]}-{keys[-1]} rate"
            if rubric.kind == "scale"
            else " ".join(f"{k}={v}" for k, v in rubric.keys.items())
        )
        super().__init__(session, choice_keys, key_help)
        self.choices = {
            v: W.Button(
                description=v if k == v else f"{v} [{k}]", tooltip=f"rate {v} (key {k})", layout=W.Layout(width="auto")
            )
            for k, v in rubric.keys.items()
        }
        for key, button in zip(rubric.keys, self.choices.values()):
            button.on_click(lambda _b, key=key: self.press(key))
        self.note = W.Textarea(
            placeholder="note (optional; saved when you leave the box)",
            continuous_update=False,
            layout=W.Layout(width="100%", height="3em"),
        )
        self._drawing = False
        self.note.observe(self._note_changed, "value")
        any_option = [("any", "")]  # "" rather than None: a dropdown shows None as no selection
        self.unrated = W.Checkbox(value=False, description="unrated only", indent=False)
        self.label = W.Dropdown(options=any_option + [(v, v) for v in rubric.values], description="rated as")
        models = list(dict.fromkeys(session.items["model"]))
        self.model = W.Dropdown(options=any_option + [(m, m) for m in models], description="model")
        for name, box in (("unrated", self.unrated), ("label", self.label), ("model", self.model)):
            box.observe(
                lambda change, name=name: self._act(lambda: session.set_filters(**{name: change["new"]})),
                "value",
            )
        filters = W.HBox([W.HTML("<b>Show</b>&nbsp;"), self.unrated, self.label, self.model])
        self.widget = self.layout(
            [filters, self.item, W.HBox(list(self.choices.values())), self.note, W.HBox(list(self.nav.values()))]
        )
        self.refresh()

    def _note_changed(self, change: dict) -> None:
        if not self._drawing:
            self._act(lambda: self.session.note(change["new"]))

    def render_item(self) -> None:
        s = self.session
        item = s.current
        state = s.state()
        head = f"item {item['item_id']} · model {item['model']} · from {item['source']}"
        mine = f"your rating: {state.value}" if state.value is not None else "not rated yet"
        self.item.value = (
            f"<div style='color:#666'>{escape(head)} · <b>{escape(mine)}</b></div>"
            + text_block("Prompt", item["prompt"])
            + (text_block("Reference", item["reference"]) if item["reference"] is not None else "")
            + text_block("Output", item["output"])
        )
        for value, button in self.choices.items():
            button.button_style = "success" if value == state.value else ""
        self._drawing = True
        try:
            self.note.value = state.note or ""
        finally:
            self._drawing = False
        disabled = s.annotator is None
        for button in [*self.choices.values(), *self.nav.values()]:
            button.disabled = disabled
