"""Generations: every text a model generated for a prompt grid, which is also the grid's generation cache."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from .base import StoreBase

# The tables of this part (generations) are defined, versioned and upgraded in migrations.py.
SCHEMA = ""


class GenerationsStore(StoreBase):
    """Table ``generations``."""

    SCHEMA = SCHEMA

    def add_generations(self, rows: Iterable[dict[str, Any]]) -> None:
        """Save generations (one transaction); a key already present is replaced."""
        now = time.time()
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO generations (gen_key, cacheable, model, model_fingerprint, prompt, params, "
                "text, prompt_tokens, completion_tokens, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r["gen_key"],
                        int(bool(r["cacheable"])),
                        r["model"],
                        r["model_fingerprint"],
                        r["prompt"] if isinstance(r["prompt"], str) else json.dumps(r["prompt"], ensure_ascii=False),
                        json.dumps(r["params"], sort_keys=True),
                        r["text"],
                        r.get("prompt_tokens"),
                        r.get("completion_tokens"),
                        r.get("seconds"),
                        now,
                    )
                    for r in rows
                ],
            )

    def cached_generations(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The reusable generations among ``keys``, by key."""
        out: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        with self._connect(write=False) as db:
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                marks = ",".join("?" * len(part))
                for row in db.execute(
                    f"SELECT * FROM generations WHERE cacheable = 1 AND gen_key IN ({marks})", part
                ).fetchall():
                    out[row["gen_key"]] = dict(row, params=json.loads(row["params"]))
        return out

    def generations(self, model_fingerprint: str | None = None):
        """Saved generations (newest first) as a DataFrame, optionally of one model's weights only."""
        import pandas as pd

        query = "SELECT * FROM generations"
        args: tuple[str, ...] = ()
        if model_fingerprint:
            query, args = query + " WHERE model_fingerprint = ?", (model_fingerprint,)
        with self._connect(write=False) as db:
            rows = db.execute(query + " ORDER BY created_at DESC", args).fetchall()
        return pd.DataFrame([dict(r) for r in rows])
