"""Blind A/B: every pair of models that answered the same item, shown in a random order, names hidden until the vote."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import WorkbenchError
from ..store import Store
from .cursor import Cursor
from .sources import item_rows, items, with_keys

VOTES = ("A", "B", "tie", "both_bad")  # A: the left output is better, B: the right one


@dataclass(frozen=True)
class Pair:
    """Two models' outputs for the same item, in a fixed canonical order (x, y)."""

    item_id: str
    x: dict[str, Any]
    y: dict[str, Any]

    @property
    def models(self) -> frozenset[str]:
        return frozenset((self.x["model"], self.y["model"]))


@dataclass
class VoteState:
    vote: str | None = None
    winner: str | None = None
    left_model: str | None = None  # the order in which the pair was shown when voted
    skipped: bool = False
    history: list[str] = field(default_factory=list)


def pair_models(frame: pd.DataFrame) -> pd.DataFrame:
    """Combine item tables for an A/B session; a model name used by two sources gets the source added."""
    clash = frame.groupby("model")["source"].nunique()
    clashing = set(clash[clash > 1].index)
    out = frame.copy()
    mask = out["model"].isin(clashing)
    out.loc[mask, "model"] = out.loc[mask, "model"] + " (" + out.loc[mask, "source"] + ")"
    return out


class ArenaSession(Cursor):
    """Blind A/B voting over every pair of models that answered the same item.

    Left/right order is random per pair and annotator (reproducible from ``seed``); names stay hidden
    until the vote. ``vote('A' | 'B' | 'tie' | 'both_bad')``, ``skip()``, ``next()`` and ``previous()`` are
    what the panel calls. Each vote is stored with the order shown.
    """

    def __init__(
        self,
        items: pd.DataFrame,
        *,
        name: str,
        annotator: str | None = None,
        store: Store,
        seed: int = 0,
        advance: bool = True,
    ):
        self.items = items.drop_duplicates("item_key").reset_index(drop=True)
        self.models = list(dict.fromkeys(self.items["model"]))
        if len(self.models) < 2:
            raise WorkbenchError(
                f"A blind A/B session needs outputs of at least two models or prompts; got {self.models}. "
                "Pass two runs (or a table with a model column holding two names)."
            )
        self.name = name
        self.seed = seed
        self.advance = advance
        self.pairs: list[Pair] = []
        for item_id, group in self.items.groupby("item_id", sort=False):
            answers = item_rows(group.drop_duplicates("model"))
            self.pairs += [Pair(str(item_id), a, b) for a, b in itertools.combinations(answers, 2)]
        if not self.pairs:
            raise WorkbenchError("No item was answered by two models: A/B pairs need the same item ids in both runs.")
        self.states: dict[tuple[str, frozenset[str]], VoteState] = {}
        self.last_reveal = ""
        store.add_items(item_rows(self.items))
        super().__init__(store, annotator)

    @classmethod
    def open(
        cls,
        *sources: Any,
        outputs: Sequence[str] | None = None,
        names: Sequence[str] | None = None,
        name: str | None = None,
        annotator: str | None = None,
        columns: Mapping[str, str] | None = None,
        seed: int = 0,
        store: str | Path | None = None,
        advance: bool = True,
    ) -> ArenaSession:
        """A session over two or more runs (ids or ``EvalResult``s) or DataFrames (see ``arena_items``).

        ``name`` is the session's name in the store (default: the models, sorted).
        """
        db = Store(next((s.store_path for s in sources if hasattr(s, "store_path")), None) or store)
        frame = arena_items(*sources, outputs=outputs, names=names, columns=columns, store=db.path)
        label = name or " vs ".join(sorted(frame["model"].unique()))
        return cls(frame, name=label, annotator=annotator, store=db, seed=seed, advance=advance)

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self) -> None:
        self.states = {}
        for row in self.store.vote_events(arena=self.name, annotator=self.annotator).itertuples(index=False):
            state = self.states.setdefault((row.item_id, frozenset((row.model_left, row.model_right))), VoteState())
            state.history.append(row.vote)
            if row.vote == "skip":
                state.skipped = True
            else:
                state.vote, state.winner, state.left_model = row.vote, row.winner, row.model_left

    def _key(self, position: int | None = None) -> tuple[str, frozenset[str]]:
        pair = self.pairs[self.position if position is None else position]
        return pair.item_id, pair.models

    def state(self, position: int | None = None) -> VoteState:
        return self.states.get(self._key(position), VoteState())

    def resume_position(self) -> int:
        untouched = [i for i in range(len(self)) if self.state(i).vote is None and not self.state(i).skipped]
        unvoted = [i for i in range(len(self)) if self.state(i).vote is None]
        return (untouched or unvoted or [0])[0]

    def shown(self, position: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """(left, right) outputs as shown: the voted order if voted, else a random order fixed per annotator."""
        pair = self.pairs[self.position if position is None else position]
        state = self.state(position)
        if state.left_model is not None:
            flip = state.left_model != pair.x["model"]
        else:
            token = json.dumps([self.seed, self.name, self.annotator, pair.item_id, sorted(pair.models)])
            flip = hashlib.sha256(token.encode()).digest()[0] % 2 == 1
        return (pair.y, pair.x) if flip else (pair.x, pair.y)

    def revealed(self, position: int | None = None) -> bool:
        """Whether model names may be shown: only once this annotator has voted on the pair."""
        return self.state(position).vote is not None

    def vote(self, choice: str) -> None:
        """Vote 'A' (left better), 'B' (right better), 'tie' or 'both_bad' on the pair shown, then move on."""
        if choice not in VOTES:
            raise WorkbenchError(f"A vote is one of {', '.join(VOTES)} (A = left, B = right), not {choice!r}.")
        left, right = self.shown()
        winner = {"A": left["model"], "B": right["model"]}.get(choice, choice)
        self._record(choice, winner, left, right)
        state = self.states.setdefault(self._key(), VoteState())
        state.vote, state.winner, state.left_model = choice, winner, left["model"]
        self.last_reveal = f"Item {left['item_id']}: A was {left['model']}, B was {right['model']}; you voted {choice}."
        self.status = f"Saved. {self.voted()} of {len(self)} pairs voted."
        if self.advance:
            self.next()

    def skip(self) -> None:
        """Record a skip for the pair shown and move on."""
        left, right = self.shown()
        self._record("skip", None, left, right)
        self.states.setdefault(self._key(), VoteState()).skipped = True
        self.status = f"Skipped item {left['item_id']}."
        self.next()

    def _record(self, choice: str, winner: str | None, left: dict[str, Any], right: dict[str, Any]) -> None:
        self.store.add_vote(
            arena=self.name,
            item_id=str(left["item_id"]),
            annotator=self._need_annotator(),
            left_key=left["item_key"],
            right_key=right["item_key"],
            model_left=left["model"],
            model_right=right["model"],
            vote=choice,
            winner=winner,
            seconds=self.seconds(),
        )

    def voted(self) -> int:
        return sum(self.state(i).vote is not None for i in range(len(self)))

    def progress(self) -> str:
        return f"{self.voted()} of {len(self)} pairs voted · pair {self.position + 1} of {len(self)}"


def arena_items(
    *sources: Any,
    outputs: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    columns: Mapping[str, str] | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """The items of an A/B session: every source's items, with model names made distinct."""
    if not sources:
        raise WorkbenchError("Give at least two runs, or one DataFrame holding several models' outputs.")
    if outputs:
        if len(sources) != 1 or not isinstance(sources[0], pd.DataFrame):
            raise WorkbenchError("outputs= names columns of one DataFrame; pass exactly one DataFrame with it.")
        frame = sources[0]
        parts = [items(frame, columns={**(columns or {}), "output": col}, model=col, name=col) for col in outputs]
    else:
        parts = [items(s, columns=columns, store=store) for s in sources]
    if names is not None:
        if len(names) != len(parts):
            raise WorkbenchError(f"names= needs one name per source ({len(parts)}), got {len(names)}.")
        parts = [p.assign(model=n) for p, n in zip(parts, names)]
    # the key must follow the (possibly renamed) model, so renamed outputs are distinct items
    return with_keys(pair_models(pd.concat(parts, ignore_index=True)))
