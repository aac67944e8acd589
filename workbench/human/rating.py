"""Rating: one annotator rates items one at a time on a rubric; every choice is one event in the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import WorkbenchError
from ..run.records import text
from ..store import Store
from .cursor import Cursor
from .rubric import Rubric
from .sources import coverage, item_rows, items, run_id_of, unfinished

_KEEP: Any = object()  # "leave this filter as it is"


@dataclass
class ItemState:
    """One annotator's judgment of one item so far."""

    value: str | None = None
    note: str | None = None
    skipped: bool = False


def replay(events: pd.DataFrame, key: str = "item_key") -> dict[str, ItemState]:
    """Replay rating events (oldest first) into each item's current state."""
    states: dict[str, ItemState] = {}
    for row in events.itertuples(index=False):
        state = states.setdefault(getattr(row, key), ItemState())
        if row.action == "rate":
            state.value = text(row.value)
        elif row.action == "skip":
            state.skipped = True
        note = text(row.note)
        if note is not None:
            state.note = note
    return states


class RatingSession(Cursor):
    """Rate items one at a time on a rubric; each call writes one event to the store at once.

    ``choose(value)``, ``skip()``, ``note(text)``, ``next()``, ``previous()`` and ``set_filters(...)`` are what
    the panel's buttons and keys call. Reopening (a new session on the same items, rubric and annotator)
    resumes at the first item the annotator has neither rated nor skipped.
    """

    def __init__(
        self,
        items: pd.DataFrame,
        rubric: Rubric,
        *,
        annotator: str | None = None,
        store: Store,
        advance: bool = True,
        partial: list[dict[str, Any]] | None = None,
    ):
        if items.empty:
            raise WorkbenchError("There is nothing to rate: the table of items is empty.")
        self.items = items.drop_duplicates("item_key").reset_index(drop=True)
        self.rubric = rubric
        self.advance = advance
        self.states: dict[str, ItemState] = {}
        self.filters: dict[str, Any] = {"unrated": False, "label": None, "model": None}
        self.partial = list(partial or [])  # the unfinished runs these items come from (asked for: partial=True)
        store.add_items(item_rows(self.items))
        super().__init__(store, annotator)
        if self.partial:
            self.status = f"{self.status} This is a partial run: {self.partial_note()}.".strip()

    @classmethod
    def open(
        cls,
        source: Any,
        rubric: str | Sequence[str] | Rubric = "1-5",
        *,
        annotator: str | None = None,
        columns: Mapping[str, str] | None = None,
        model: str | None = None,
        store: str | Path | None = None,
        advance: bool = True,
        partial: bool = False,
    ) -> RatingSession:
        """A session over a run (id or ``EvalResult``) or a DataFrame of items (see ``items`` for columns).

        A run that is not complete (running, interrupted, failed) is refused: finish it first by repeating its
        call. ``partial=True`` rates its saved items anyway; the panel's progress line then says so.
        """
        db = Store(getattr(source, "store_path", None) or store)  # ratings are written here
        cut = unfinished(db, [run_id_of(source)], partial=partial, doing="rate")
        found = items(source, columns=columns, model=model, store=db.path)
        return cls(found, Rubric.parse(rubric), annotator=annotator, store=db, advance=advance, partial=cut)

    def __len__(self) -> int:
        return len(self.items)

    def _load(self) -> None:
        events = self.store.rating_events(rubric=self.rubric.name, annotator=self.annotator)
        self.states = replay(events)

    @property
    def current(self) -> dict[str, Any]:
        """The item shown now (item_key, item_id, model, source, prompt, reference, output)."""
        return item_rows(self.items.iloc[[self.position]])[0]

    def state(self, position: int | None = None) -> ItemState:
        key = self.items.at[self.position if position is None else position, "item_key"]
        return self.states.get(key, ItemState())

    def resume_position(self) -> int:
        untouched = [i for i in range(len(self)) if self.state(i).value is None and not self.state(i).skipped]
        unrated = [i for i in range(len(self)) if self.state(i).value is None]
        return (untouched or unrated or [0])[0]

    def visible(self) -> list[int]:
        out = []
        for i in range(len(self)):
            state = self.state(i)
            if self.filters["unrated"] and state.value is not None:
                continue
            if self.filters["label"] is not None and state.value != self.filters["label"]:
                continue
            if self.filters["model"] is not None and self.items.at[i, "model"] != self.filters["model"]:
                continue
            out.append(i)
        return out

    def set_filters(self, *, unrated: bool | None = None, label: Any = _KEEP, model: Any = _KEEP) -> None:
        """Show only unrated items, items rated ``label``, or one ``model``'s items; None or '' clears a filter."""
        if unrated is not None:
            self.filters["unrated"] = bool(unrated)
        if label is not _KEEP:
            self.filters["label"] = str(label) if label not in (None, "") else None
        if model is not _KEEP:
            self.filters["model"] = str(model) if model not in (None, "") else None
        shown = self.visible()
        if not shown:
            self.status = "No item matches the filters."
        elif self.position not in shown:
            self._go(next((i for i in shown if i > self.position), shown[0]))

    def _write(self, action: str, value: str | None = None, note: str | None = None) -> None:
        annotator = self._need_annotator()
        self.store.add_rating(
            item_key=self.current["item_key"],
            rubric=self.rubric.name,
            scale=self.rubric.values,
            annotator=annotator,
            action=action,
            value=value,
            note=note,
            seconds=self.seconds(),
        )
        state = self.states.setdefault(self.current["item_key"], ItemState())
        if action == "rate":
            state.value = value
        elif action == "skip":
            state.skipped = True
        if note is not None:
            state.note = note

    def choose(self, value: Any) -> None:
        """Rate the current item ``value`` (one of the rubric's values), then move on if ``advance``."""
        text = str(value).strip()
        if text not in self.rubric.values:
            raise WorkbenchError(f"{value!r} is not on the {self.rubric.name} rubric; use one of {self.rubric.values}.")
        self._write("rate", value=text)
        self.status = f"Saved {text} for item {self.current['item_id']} ({self.rated()} of {len(self)} rated)."
        if self.advance:
            self.next()

    def skip(self) -> None:
        """Record that the current item was skipped and move to the next one."""
        self._write("skip")
        self.status = f"Skipped item {self.current['item_id']}."
        self.next()

    def note(self, text: str) -> None:
        """Save a free-text note on the current item (written when it differs from the saved one)."""
        text = text.strip()
        if text != (self.state().note or ""):
            self._write("note", note=text)
            self.status = f"Note saved for item {self.current['item_id']}."

    def rated(self) -> int:
        """How many of these items the annotator has rated."""
        return sum(self.state(i).value is not None for i in range(len(self)))

    def partial_note(self) -> str:
        """'' for complete runs; else how much of each unfinished run the items are."""
        return "; ".join(coverage(info) for info in self.partial)

    def progress(self) -> str:
        shown = self.visible()
        where = f"item {self.position + 1} of {len(self)}"
        if len(shown) < len(self):
            where += f" ({len(shown)} match the filters)"
        partial = f" · partial: {self.partial_note()}" if self.partial else ""
        return f"{self.rated()} of {len(self)} rated · {where}{partial}"
