"""Runs and their scored samples."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import WorkbenchError, notice
from . import liveness
from .base import StoreBase
from .liveness import Writer

# The tables of this part (runs and samples) are defined, versioned and upgraded in migrations.py.
SCHEMA = ""

RUN_JSON_COLUMNS = ("model_identity", "config", "versions", "metrics")
WRITER_COLUMNS = ("writer_pid", "writer_host", "writer_start", "writer_token", "heartbeat_at")


class RunInProgress(WorkbenchError):
    """The unfinished run of this call is being written by a live process (``writer``), so it is not opened."""

    def __init__(self, run_id: str, writer: Writer, heartbeat_at: float | None):
        self.run_id, self.writer, self.heartbeat_at = run_id, writer, heartbeat_at
        super().__init__(f"Run {run_id} of this same call is being written by {writer.describe()}.")


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
        writer: Writer | None = None,
    ) -> str:
        with self._connect() as db:
            return self._insert_run(
                db,
                writer or liveness.this_process(),
                run_key=run_key,
                task=task,
                model=model,
                model_identity=model_identity,
                data_source=data_source,
                data_fingerprint=data_fingerprint,
                prompt_template=prompt_template,
                config=config,
                versions=versions,
                command=command,
                n_items=n_items,
            )

    @staticmethod
    def _insert_run(db: sqlite3.Connection, writer: Writer, **f: Any) -> str:
        run_id = uuid.uuid4().hex[:8]
        now = time.time()
        db.execute(
            "INSERT INTO runs (run_id, run_key, status, task, model, model_identity, data_source, data_fingerprint, "
            "prompt_template, config, versions, command, n_items, created_at, writer_pid, writer_host, writer_start, "
            "writer_token, heartbeat_at) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                f["run_key"],
                f["task"],
                f["model"],
                json.dumps(f["model_identity"]),
                f["data_source"],
                f["data_fingerprint"],
                f["prompt_template"],
                json.dumps(f["config"]),
                json.dumps(f["versions"]),
                f["command"],
                f["n_items"],
                now,
                *_writer_values(writer),
                now,
            ),
        )
        return run_id

    def resumable_run(self, run_key: str) -> str | None:
        """The newest unfinished run started by the same call (same task, model, data and parameters)."""
        with self._connect(write=False) as db:
            row = db.execute(
                "SELECT run_id FROM runs WHERE run_key = ? AND status != 'complete' ORDER BY created_at DESC LIMIT 1",
                (run_key,),
            ).fetchone()
        return row["run_id"] if row else None

    def complete_run(self, run_key: str) -> str | None:
        """The newest complete run of the same call, which a suite or leaderboard reuses instead of running again."""
        with self._connect(write=False) as db:
            row = db.execute(
                "SELECT run_id FROM runs WHERE run_key = ? AND status = 'complete' ORDER BY created_at DESC LIMIT 1",
                (run_key,),
            ).fetchone()
        return row["run_id"] if row else None

    def open_run(
        self, run_key: str, *, writer: Writer | None = None, separate: bool = False, **fields: Any
    ) -> tuple[str, bool]:
        """(run_id, resumed): the unfinished run with this key, taken over by ``writer`` (default: this process),
        or a new run; ``separate=True`` always makes a new one.

        Raises :class:`RunInProgress` when that unfinished run is still being written by a live process (see
        liveness.py). Finding and claiming happen in one write transaction, so of two processes opening the
        same call at once, the second sees the first's claim.
        """
        writer = writer or liveness.this_process()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = None
            if not separate:
                row = db.execute(
                    "SELECT * FROM runs WHERE run_key = ? AND status != 'complete' ORDER BY created_at DESC LIMIT 1",
                    (run_key,),
                ).fetchone()
            if row is None:
                return self._insert_run(db, writer, run_key=run_key, **fields), False
            found = dict(row)
            if found["status"] == "running" and liveness.writer_gone(self.path, found) is None:
                held = liveness.recorded_writer(found)
                assert held is not None  # a run without a recorded writer is never live
                raise RunInProgress(found["run_id"], held, found.get("heartbeat_at"))
            db.execute(
                "UPDATE runs SET status = 'running', error = NULL, writer_pid = ?, writer_host = ?, writer_start = ?, "
                "writer_token = ?, heartbeat_at = ? WHERE run_id = ?",
                (*_writer_values(writer), time.time(), found["run_id"]),
            )
            return found["run_id"], True

    def add_time(self, run_id: str, seconds: float) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET duration_s = duration_s + ? WHERE run_id = ?", (seconds, run_id))

    def finish_run(self, run_id: str, metrics: dict[str, Any], identity: dict[str, Any] | None = None) -> None:
        """Mark a run complete with its metrics; ``identity`` adds (or replaces) keys of its ``model_identity``
        in the same transaction (what the model's endpoint reported about itself during the run)."""
        with self._connect() as db:
            if identity:
                row = db.execute("SELECT model_identity FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                try:
                    recorded = json.loads(row["model_identity"]) if row and row["model_identity"] else {}
                except ValueError:  # an edited or damaged cell: keep what can be kept, the new keys
                    recorded = {}
                db.execute(
                    "UPDATE runs SET model_identity = ? WHERE run_id = ?",
                    (json.dumps({**(recorded if isinstance(recorded, dict) else {}), **identity}), run_id),
                )
            db.execute(
                "UPDATE runs SET status = 'complete', metrics = ?, finished_at = ? WHERE run_id = ?",
                (json.dumps(metrics), time.time(), run_id),
            )

    def fail_run(self, run_id: str, status: str, error: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE runs SET status = ?, error = ? WHERE run_id = ?", (status, error, run_id))

    def run(self, run_id: str) -> dict[str, Any]:
        """One run (JSON columns decoded); a 'running' run whose writer is gone is shown as 'interrupted'."""
        with self._connect(write=False) as db:
            row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise WorkbenchError(f"No run {run_id!r} in {self.path}. List runs with %llm_runs or `workbench runs`.")
        return self._shown(self._decoded([row])[0])

    def runs(self):
        """All runs, newest first, as a DataFrame (JSON columns decoded). A 'running' run whose writer is gone
        (its process ended, or sent no heartbeat for liveness.STALE_S) is shown as 'interrupted', with why in
        ``error``."""
        import pandas as pd

        with self._connect(write=False) as db:
            rows = db.execute("SELECT * FROM runs ORDER BY created_at DESC").fetchall()
        return pd.DataFrame([self._shown(r) for r in self._decoded(rows)], columns=_run_columns())

    def _decoded(self, rows: Sequence[sqlite3.Row]) -> list[dict[str, Any]]:
        """Runs with their JSON columns decoded. A cell that is not valid JSON (an edited or damaged file) is
        shown as None, named in one ``workbench:`` line on stderr, and keeps every other run readable."""
        bad: list[str] = []
        out = [_decode_run(r, bad) for r in rows]
        if bad:
            notice(
                f"{self.path}: {len(bad)} saved value(s) are not valid JSON and are shown as empty: "
                f"{'; '.join(bad)}. The file was edited or damaged; the rest of each run is shown as saved."
            )
        return out

    def _shown(self, run: dict[str, Any]) -> dict[str, Any]:
        if run["status"] == "running":
            gone = liveness.writer_gone(self.path, run)
            if gone is not None:
                run["status"] = "interrupted"
                run["error"] = run.get("error") or f"Interrupted: {gone}. Run the same call again to resume it."
        return run

    # ---- samples -------------------------------------------------------------------------------
    def add_samples(self, run_id: str, records: Iterable[dict[str, Any]], *, writer: Writer | None = None) -> None:
        """Save scored records (one transaction). Given the ``writer`` that opened the run, also refreshes its
        heartbeat, and refuses (saving nothing) when another process has taken the run over meanwhile."""
        now = time.time()
        with self._connect() as db:
            if writer is not None:
                claimed = db.execute(
                    "UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND writer_token = ?",
                    (now, run_id, writer.token),
                ).rowcount
                if not claimed:
                    row = db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                    other = liveness.recorded_writer(dict(row)) if row is not None else None
                    raise WorkbenchError(
                        f"Run {run_id} was taken over by {other.describe() if other else 'another process'} (this "
                        f"{writer.describe()} gave no sign of life for over {liveness.STALE_S:g} s, or the run was "
                        "deleted), so this process stops writing to it. Everything it saved before is kept; "
                        "`workbench runs` shows the run's state."
                    )
            db.executemany(
                "INSERT OR REPLACE INTO samples (run_id, doc_id, record, written_at) VALUES (?, ?, ?, ?)",
                [(run_id, int(r["doc_id"]), json.dumps(r, ensure_ascii=False), now) for r in records],
            )

    def sample_records(self, run_id: str) -> list[dict[str, Any]]:
        with self._connect(write=False) as db:
            rows = db.execute(
                "SELECT doc_id, record FROM samples WHERE run_id = ? ORDER BY doc_id", (run_id,)
            ).fetchall()
        out = []
        for r in rows:
            try:
                out.append(json.loads(r["record"]))
            except ValueError as exc:
                raise WorkbenchError(
                    f"A saved item of run {run_id} in {self.path} is not valid JSON (item {r['doc_id']}: {exc}): "
                    "the file was edited or damaged. Delete that item to score it again (DELETE FROM samples WHERE "
                    f"run_id = '{run_id}' AND doc_id = {r['doc_id']}) and run the same call again."
                ) from None
        return out

    def done_doc_ids(self, run_id: str) -> set[int]:
        with self._connect(write=False) as db:
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
        *WRITER_COLUMNS,
    ]


def _writer_values(writer: Writer) -> tuple[int, str, str | None, str]:
    return writer.pid, writer.host, writer.start, writer.token


def _decode_run(row: sqlite3.Row, bad: list[str]) -> dict[str, Any]:
    out = dict(row)
    for key in RUN_JSON_COLUMNS:
        if out.get(key):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                bad.append(f"run {out['run_id']} {key}")
                out[key] = None
    return out
