"""Blind A/B: every pair of models that answered the same item, shown in a random order, names hidden until the vote.

"The same item" is the same document: outputs of runs are paired on their items' identity (``item_fp``), never
on position alone, so runs of different data are refused and runs that share only some items pair only those
(the session says how many of each run's items that is). Records saved before items had an identity, and
tables, are paired on their item ids; for runs, only when all were made on the same data. A pair's item id (what
a vote is saved under) is the item's id when both outputs give the same one, as it always was, so votes saved
earlier still attach to their pairs.
"""

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
from ..run.records import ITEM_FP
from ..store import Store
from .cursor import Cursor
from .sources import coverage, item_rows, items, run_id_of, unfinished, with_keys

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
        shared: dict[str, tuple[int, int]] | None = None,
        partial: list[dict[str, Any]] | None = None,
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
        by = MATCH if MATCH in self.items.columns else "item_id"  # arena_items' matching, else the tables' ids
        for item_id, group in self.items.groupby(by, sort=False):
            answers = item_rows(group.drop_duplicates("model"))
            self.pairs += [Pair(str(item_id), a, b) for a, b in itertools.combinations(answers, 2)]
        if not self.pairs:
            raise WorkbenchError("No item was answered by two models: A/B pairs need the same item ids in both runs.")
        self.shared = dict(shared or {})  # source -> (items paired, items it has)
        self.partial = list(partial or [])  # the unfinished runs voted on (asked for: partial=True)
        self.states: dict[tuple[str, frozenset[str]], VoteState] = {}
        self.last_reveal = ""
        store.add_items(item_rows(self.items.drop(columns=[MATCH], errors="ignore")))
        super().__init__(store, annotator)
        notes = [n for n in (self.shared_note(), self.partial_note()) if n]  # until the first vote replaces them
        if notes:
            self.status = " ".join([self.status, *notes]).strip()

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
        partial: bool = False,
    ) -> ArenaSession:
        """A session over two or more runs (ids or ``EvalResult``s) or DataFrames (see ``arena_items``).

        ``name`` is the session's name in the store (default: the models, sorted). A run that is not complete
        (running, interrupted, failed) is refused: finish it first by repeating its call. ``partial=True`` pairs
        its saved items anyway; the panel's progress line then says so.
        """
        db = Store(next((s.store_path for s in sources if hasattr(s, "store_path")), None) or store)  # votes go here
        cut = unfinished(db, [run_id_of(s) for s in sources], partial=partial, doing="vote on")
        frame, shared = _arena_frame(sources, outputs=outputs, names=names, columns=columns, db=db)
        label = name or " vs ".join(sorted(frame["model"].unique()))
        return cls(
            frame, name=label, annotator=annotator, store=db, seed=seed, advance=advance, shared=shared, partial=cut
        )

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
            item_id=self.pairs[self.position].item_id,  # what the pair is loaded back under (_load, _key)
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

    def shared_counts(self) -> str:
        """'' when every item of every source is paired; else how many of each source's items are."""
        if all(paired == total for paired, total in self.shared.values()):
            return ""
        return ", ".join(f"{paired} of {source}'s {total} items" for source, (paired, total) in self.shared.items())

    def shared_note(self) -> str:
        counts = self.shared_counts()
        return f"Only the items the sources share are paired: {counts}." if counts else ""

    def partial_note(self) -> str:
        return f"These are partial runs: {'; '.join(coverage(i) for i in self.partial)}." if self.partial else ""

    def progress(self) -> str:
        line = f"{self.voted()} of {len(self)} pairs voted · pair {self.position + 1} of {len(self)}"
        if self.shared_counts():
            line += f" · only shared items: {self.shared_counts()}"
        if self.partial:
            line += f" · partial: {'; '.join(coverage(info) for info in self.partial)}"
        return line


MATCH = "match_id"  # the column arena_items pairs outputs on: the item's id, or its identity where ids differ


def arena_items(
    *sources: Any,
    outputs: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    columns: Mapping[str, str] | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """The items of an A/B session: every source's items that another source also answered, with model names
    made distinct and the column ``match_id`` that pairs them (see the module docstring)."""
    return _arena_frame(sources, outputs=outputs, names=names, columns=columns, db=Store(store))[0]


def _arena_frame(
    sources: Sequence[Any],
    *,
    outputs: Sequence[str] | None,
    names: Sequence[str] | None,
    columns: Mapping[str, str] | None,
    db: Store,
) -> tuple[pd.DataFrame, dict[str, tuple[int, int]]]:
    """(the paired items, {source: (items paired, items it has)})."""
    if not sources:
        raise WorkbenchError("Give at least two runs, or one DataFrame holding several models' outputs.")
    if outputs:
        if len(sources) != 1 or not isinstance(sources[0], pd.DataFrame):
            raise WorkbenchError("outputs= names columns of one DataFrame; pass exactly one DataFrame with it.")
        frame = sources[0]
        parts = [items(frame, columns={**(columns or {}), "output": col}, model=col, name=col) for col in outputs]
        runs: list[dict[str, Any] | None] = [None] * len(parts)
    else:
        parts = [items(s, columns=columns, store=db.path) for s in sources]
        runs = [db.run(r) if (r := run_id_of(s)) is not None else None for s in sources]
    if names is not None:
        if len(names) != len(parts):
            raise WorkbenchError(f"names= needs one name per source ({len(parts)}), got {len(names)}.")
        parts = [p.assign(model=n) for p, n in zip(parts, names)]
    labels = [f"run {r['run_id']}" if r is not None else str(p["source"].iloc[0]) for r, p in zip(runs, parts)]
    matched = _match(parts, runs)
    # the key must follow the (possibly renamed) model, so renamed outputs are distinct items
    frame = with_keys(pair_models(pd.concat(matched, ignore_index=True)))
    frame["_part"] = [k for k, p in enumerate(parts) for _ in range(len(p))]
    paired = frame.groupby(MATCH)["model"].transform("nunique") > 1
    if not paired.any() and any(r is not None for r in runs):
        from ..comparison import described, no_shared_items

        shown = [
            described(r, len(p)) if r is not None else f"{lab} ({len(p)} items)"
            for r, p, lab in zip(runs, parts, labels)
        ]
        raise no_shared_items(shown, "pair for blind A/B votes", "Vote on")
    shared = {lab: (int(paired[frame["_part"] == k].sum()), len(p)) for k, (lab, p) in enumerate(zip(labels, parts))}
    frame = frame.drop(columns="_part")
    return (frame[paired] if paired.any() else frame).reset_index(drop=True), shared


def _match(parts: list[pd.DataFrame], runs: Sequence[dict[str, Any] | None]) -> list[pd.DataFrame]:
    """Each source's items with the id they are paired on (``match_id``).

    When every item carries its identity, pair on it (a document repeated within a source, in order of
    occurrence); the pair keeps its items' own id when they agree on one (as before identities existed), else
    takes the identity. Otherwise (tables, records saved before identities) pair on the items' ids, which for
    runs is only safe when all were made on the same data.
    """
    from ..comparison import predating
    from ..run.records import has_identities, occurrences

    if all(len(p) and p[ITEM_FP].notna().all() for p in parts):
        keys = [
            [f"{fp}#{k}" if k else fp for (_, fp), k in occurrences(list(zip(p["model"], p[ITEM_FP])))] for p in parts
        ]
        ids: dict[str, list[str]] = {}
        for p, ks in zip(parts, keys):
            for key, item_id in zip(ks, p["item_id"]):
                ids.setdefault(key, []).append(item_id)
        # an answered-by-one item keeps its identity: its id could be another item's id in another source
        same = {k: v[0] for k, v in ids.items() if len(v) > 1 and len(set(v)) == 1}
        return [p.assign(**{MATCH: [same.get(k, k) for k in ks]}) for p, ks in zip(parts, keys)]
    present = [(r, p) for r, p in zip(runs, parts) if r is not None]
    if len({r.get("data_fingerprint") for r, _ in present}) > 1:
        old = [r for r, p in present if not has_identities(p.to_dict("records"))]
        if not old:  # every run has identities, a table has none
            raise WorkbenchError(
                "The runs were made on different data and the tables have no item_fp column, so the tables' items "
                "can only be paired by id, which may pair different questions. Vote on the runs alone, or give the "
                "tables the item_fp column of the runs' samples (workbench.samples(run_id))."
            )
        raise predating([(r, len(p)) for r, p in present], old, "pair their outputs")
    return [p.assign(**{MATCH: p["item_id"]}) for p in parts]
