"""Judgments of an LLM judge: one row per judge call, written as soon as the judge answers.

A judging job is a run in the ``runs`` table (task ``judge:single`` or ``judge:pair``, model = the judge), so
it is listed, resumed and reproduced like any run; its calls are rows here.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .base import StoreBase

# The tables of this part (judgments) are defined, versioned and upgraded in migrations.py.
SCHEMA = ""

COLUMNS = (
    "run_id",
    "doc_id",
    "turn",
    "swapped",
    "prompt_name",
    "score",
    "verdict",
    "shown_verdict",
    "parsed",
    "judge_output",
    "messages",
    "prompt_tokens",
    "completion_tokens",
)


class JudgmentsStore(StoreBase):
    """Table ``judgments``."""

    SCHEMA = SCHEMA

    def add_judgment(self, row: dict[str, Any]) -> None:
        """Save one judge call (replacing an earlier one with the same key)."""
        values = [json.dumps(row[c], ensure_ascii=False) if c == "messages" else row.get(c) for c in COLUMNS]
        with self._connect() as db:
            db.execute(
                f"INSERT OR REPLACE INTO judgments ({', '.join(COLUMNS)}, written_at) "
                f"VALUES ({', '.join('?' * len(COLUMNS))}, ?)",
                (*values, time.time()),
            )

    def judgment_keys(self, run_id: str) -> set[tuple[int, int, int]]:
        """(doc_id, turn, swapped) of the calls already saved for a judge run."""
        with self._connect(write=False) as db:
            rows = db.execute("SELECT doc_id, turn, swapped FROM judgments WHERE run_id = ?", (run_id,))
            return {(r[0], r[1], r[2]) for r in rows}

    def judgments(self, run_id: str):
        """A judge run's calls as a DataFrame, in item, turn and order sequence."""
        import pandas as pd

        with self._connect(write=False) as db:
            rows = db.execute(
                "SELECT * FROM judgments WHERE run_id = ? ORDER BY doc_id, turn, swapped", (run_id,)
            ).fetchall()
        frame = pd.DataFrame([dict(r) for r in rows], columns=[*COLUMNS, "written_at"])
        frame["messages"] = frame["messages"].map(json.loads)
        frame["parsed"] = frame["parsed"].astype(bool)
        return frame
