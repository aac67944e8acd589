"""Human judgments: the items people judge, their ratings and their blind A/B votes.

Ratings and votes are append-only event logs: every click is one row, written at once in its own
transaction, never updated. A person's current rating of an item is their latest event for it. Rows have
random ids, so merging stores from several people is a union that can be repeated safely.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import StoreBase
from .opening import connect

# The tables of this part (judged_items, ratings and votes) are defined, versioned and upgraded in migrations.py.
SCHEMA = ""

ITEM_COLUMNS = ("item_key", "item_id", "model", "source", "prompt", "reference", "output", "added_at")
RATING_COLUMNS = (
    "event_id",
    "item_key",
    "rubric",
    "scale",
    "annotator",
    "action",
    "value",
    "note",
    "seconds",
    "created_at",
)
VOTE_COLUMNS = (
    "event_id",
    "arena",
    "item_id",
    "annotator",
    "left_key",
    "right_key",
    "model_left",
    "model_right",
    "vote",
    "winner",
    "seconds",
    "created_at",
)


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _clean(value: Any) -> Any:
    """None for NaN (pandas' missing value), so CSV round trips keep NULLs."""
    return None if isinstance(value, float) and value != value else value


class RatingsStore(StoreBase):
    """Tables ``judged_items``, ``ratings`` and ``votes``."""

    SCHEMA = SCHEMA

    def add_items(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Remember the items being judged (kept once per item_key)."""
        now = time.time()
        rows = [tuple(_clean(i.get(c, now if c == "added_at" else None)) for c in ITEM_COLUMNS) for i in items]
        with self._connect() as db:
            db.executemany(_insert("judged_items", ITEM_COLUMNS), rows)

    def add_rating(
        self,
        *,
        item_key: str,
        rubric: str,
        scale: Sequence[str],
        annotator: str,
        action: str,
        value: str | None = None,
        note: str | None = None,
        seconds: float | None = None,
    ) -> str:
        """Append one rating event (one click) and return its id."""
        event_id = uuid.uuid4().hex
        row = (event_id, item_key, rubric, json.dumps(list(scale)), annotator, action, value, note, seconds)
        with self._connect() as db:
            db.execute(_insert("ratings", RATING_COLUMNS), (*row, time.time()))
        return event_id

    def add_vote(
        self,
        *,
        arena: str,
        item_id: str,
        annotator: str,
        left_key: str,
        right_key: str,
        model_left: str,
        model_right: str,
        vote: str,
        winner: str | None,
        seconds: float | None = None,
    ) -> str:
        """Append one vote event (one click) and return its id."""
        event_id = uuid.uuid4().hex
        row = (event_id, arena, item_id, annotator, left_key, right_key, model_left, model_right, vote, winner)
        with self._connect() as db:
            db.execute(_insert("votes", VOTE_COLUMNS), (*row, seconds, time.time()))
        return event_id

    def rating_events(self, *, rubric: str | None = None, annotator: str | None = None):
        """Every rating event with its item (item_id, model, source, prompt, reference, output), oldest first."""
        item_cols = [c for c in ITEM_COLUMNS if c not in ("item_key", "added_at")]
        select = ", ".join(f"i.{c}" for c in item_cols)
        joins = "LEFT JOIN judged_items i ON i.item_key = e.item_key"
        return self._select(
            "ratings", select, joins, {"rubric": rubric, "annotator": annotator}, [*RATING_COLUMNS, *item_cols]
        )

    def vote_events(self, *, arena: str | None = None, annotator: str | None = None):
        """Every vote event with both outputs (and their prompts and sources), oldest first."""
        sides = (("left", "l"), ("right", "r"))
        extra = ["reference"] + [f"{c}_{side}" for c in ("prompt", "output", "source") for side, _ in sides]
        select = "l.reference AS reference, " + ", ".join(
            f"{alias}.{c} AS {c}_{side}" for c in ("prompt", "output", "source") for side, alias in sides
        )
        joins = " ".join(f"LEFT JOIN judged_items {a} ON {a}.item_key = e.{s}_key" for s, a in sides)
        return self._select("votes", select, joins, {"arena": arena, "annotator": annotator}, [*VOTE_COLUMNS, *extra])

    def _select(self, table: str, select: str, joins: str, filters: dict[str, Any], columns: list[str]):
        import pandas as pd

        used = {k: v for k, v in filters.items() if v is not None}
        where = ("WHERE " + " AND ".join(f"e.{k} = ?" for k in used)) if used else ""
        sql = f"SELECT e.*, {select} FROM {table} e {joins} {where} ORDER BY e.created_at, e.rowid"
        with self._connect(write=False) as db:
            rows = [dict(r) for r in db.execute(sql, list(used.values()))]
        return pd.DataFrame(rows, columns=columns)

    def import_events(
        self,
        *,
        items: Iterable[Mapping[str, Any]] = (),
        ratings: Iterable[Mapping[str, Any]] = (),
        votes: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, int]:
        """Add rows exported elsewhere; rows already present (same id) are skipped. Returns rows added."""
        added = {}
        with self._connect() as db:
            for table, columns, rows in (
                ("judged_items", ITEM_COLUMNS, items),
                ("ratings", RATING_COLUMNS, ratings),
                ("votes", VOTE_COLUMNS, votes),
            ):
                before = db.total_changes
                rows = [{**r, "added_at": r.get("added_at") or r.get("created_at") or time.time()} for r in rows]
                db.executemany(_insert(table, columns), [tuple(_clean(r.get(c)) for c in columns) for r in rows])
                added[table] = db.total_changes - before
        return added

    @staticmethod
    def read_tables(path: str | Path) -> dict[str, list[dict[str, Any]]]:
        """The judged items, ratings and votes of another store file, opened read-only: nothing is written to it
        or beside it, so a store on read-only media (or in a folder that cannot be written) is read as well."""
        db = connect(Path(path), read_only=True)
        db.row_factory = sqlite3.Row
        try:
            present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            return {
                table: [dict(r) for r in db.execute(f"SELECT * FROM {table}")] if table in present else []
                for table in ("judged_items", "ratings", "votes")
            }
        finally:
            db.close()
