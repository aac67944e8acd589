"""Runs and their scored samples."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .base import StoreBase

# The tables of this part (runs and samples) are defined, versioned and upgraded in migrations.py.
SCHEMA = ""

RUN_JSON_COLUMNS = ("model_identity", "config", "versions", "metrics")


def run_key(fields: Any) -> str:
    """The identity of a call: equal fields (task, weights, data, parameters) give an equal key."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


class RunsStore(StoreBase):
    """Tables ``runs`` and ``samples``."""

    SCHEMA = SCHEMA

    # ---- runs ----------------------------------------------------------------------------------
    def create_run(
        self,
        *,
        run_key: str,
        task: str,
        model: str,
        model_identity: dict,
        data_source: str,
        data_fingerprint: str,
        prompt_template: str,
        config: dict,
        versions: dict,
        command: str,
        n_items: int,
    ) -> str:
        run_id = uuid.uuid4().hex[:8]
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (run_id, run_key, status, task, model, model_identity, data_source, "
                "data_fingerprint, prompt_template, config, versions, command, n_items, created_at) "
                "VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    run_key,
                    task,
                    model,
                    json.dumps(model_identity),
                    data_source,
                    data_fingerprint,
                    prompt_template,
                    json.dumps(config),
                    json.dumps(versions),
                    command,
                    n_items,
                    time.time(),
                ),
            )
        return run_id

    def resumable_run(self, run_key: str) -> str | None:
        """The newest unfinished run started by the same call (same task, model, data and parameters)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT run_id FROM runs WHERE run_key = ? AND status != 'complete' ORDER BY created_at DESC LIMIT 1",
                (run_key,),
            ).fetchone()
        return row["run_id"] if row else None

    def open_run(self, run_key: str, **fields: Any) -> tuple[str, bool]:
        """(run_id, resumed): the unfinished run with this key, marked running again, or a new run."""
        run_id = self.resumable_run(run_key)
        if run_id:
            self.mark_running(run_id)
            return run_id, True
        return self.create_run(run_key=run_key, **fields), False

    @contextmanager
    def recording(self, run_id: str) -> Iterator[None]:
        """Adds the time spent to the run; on any error or interrupt marks it failed/interrupted, never complete."""
        started = time.time()
        try:
            yield
        except BaseException as exc:
            self.add_time(run_id, time.time() - started)
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.fail_run(run_id, status, f"{type(exc).__name__}: {exc}")
            raise
        self.add_time(run_id, time.time() - started)

    def mark_running(self, run_id: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET status = 'running', error = NULL WHERE run_id = ?", (run_id,))

    def add_time(self, run_id: str, seconds: float) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET duration_s = duration_s + ? WHERE run_id = ?", (seconds, run_id))

    def finish_run(self, run_id: str, metrics: dict[str, Any]) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = 'complete', metrics = ?, finished_at = ? WHERE run_id = ?",
                (json.dumps(metrics), time.time(), run_id),
            )

    def fail_run(self, run_id: str, status: str, error: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET status = ?, error = ? WHERE run_id = ?", (status, error, run_id))

    def run(self, run_id: str) -> dict[str, Any]:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            from ..errors import WorkbenchError

            raise WorkbenchError(f"No run {run_id!r} in {self.path}. List runs with %llm_runs or `workbench runs`.")
        return _decode_run(row)

    def runs(self):
        """All runs, newest first, as a DataFrame (JSON columns decoded)."""
        import pandas as pd

        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY created_at DESC").fetchall()
        return pd.DataFrame([_decode_run(r) for r in rows], columns=_run_columns())

    # ---- samples -------------------------------------------------------------------------------
    def add_samples(self, run_id: str, records: Iterable[dict[str, Any]]) -> None:
        now = time.time()
        with self._connect() as db:
            db.executemany(
                "INSERT OR REPLACE INTO samples (run_id, doc_id, record, written_at) VALUES (?, ?, ?, ?)",
                [(run_id, int(r["doc_id"]), json.dumps(r, ensure_ascii=False), now) for r in records],
            )

    def sample_records(self, run_id: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT record FROM samples WHERE run_id = ? ORDER BY doc_id", (run_id,)).fetchall()
        return [json.loads(r["record"]) for r in rows]

    def done_doc_ids(self, run_id: str) -> set[int]:
        with self._connect() as db:
            return {r[0] for r in db.execute("SELECT doc_id FROM samples WHERE run_id = ?", (run_id,))}

    def samples(self, run_id: str, columns: Sequence[str] | None = None):
        """A run's samples as a DataFrame, one row per item."""
        import pandas as pd

        frame = pd.DataFrame(self.sample_records(run_id))
        return frame[list(columns)] if columns is not None and not frame.empty else frame


def _run_columns() -> list[str]:
    return [
        "run_id",
        "run_key",
        "status",
        "task",
        "model",
        "model_identity",
        "data_source",
        "data_fingerprint",
        "prompt_template",
        "config",
        "versions",
        "command",
        "metrics",
        "n_items",
        "duration_s",
        "error",
        "created_at",
        "finished_at",
    ]


def _decode_run(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for key in RUN_JSON_COLUMNS:
        if out.get(key):
            out[key] = json.loads(out[key])
    return out
