"""Which process is writing a run, and whether it still is.

A process that opens a run records itself in the run: pid, host and a start token (``writer_*`` columns,
migration 2), and refreshes ``heartbeat_at`` while it works (every save, and every :data:`HEARTBEAT_S` from a
background thread while the run is being recorded). A run whose status is 'running' has a live writer when:

* the writer is this process: the run is being recorded here right now (:func:`active` holds it);
* the writer is on this machine (same host, boot and pid namespace): its pid still names the same process
  (same start time, so a reused pid does not count), and its heartbeat is fresh;
* the writer is elsewhere (another host sharing the file): its heartbeat is fresh.

Fresh means younger than :data:`STALE_S`. Anything else is a run whose writer is gone: ``Store.runs()``
shows it as 'interrupted', and the same call resumes it.

The process checks themselves (``alive``, ``process_start``) live in ``workbench/processes.py``, which a
LocalServer also uses to find a server whose Python is gone.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..processes import HOST, MACHINE, alive, process_start

HEARTBEAT_S = 10.0  # how often a recording process refreshes the heartbeat of its runs
STALE_S = 90.0  # a running run whose heartbeat is older than this has no live writer, wherever it was


@dataclass(frozen=True)
class Writer:
    """The process writing a run: pid, host, start token, and a token of its own for this claim of the run."""

    pid: int
    host: str
    start: str | None
    token: str

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


def this_process() -> Writer:
    """This process as a writer, with a new claim token."""
    pid = os.getpid()
    return Writer(pid, HOST, process_start(pid), uuid.uuid4().hex)


def recorded_writer(row: Mapping[str, Any]) -> Writer | None:
    """The writer recorded in a runs row (None for runs written before writers were recorded)."""
    pid = row.get("writer_pid")
    if pid is None or pid != pid:  # missing, or NaN in a DataFrame
        return None
    return Writer(
        int(pid), str(row.get("writer_host") or ""), row.get("writer_start") or None, row.get("writer_token") or ""
    )


# ---- runs being recorded in this process -------------------------------------------------------------------
_ACTIVE: dict[tuple[str, str], tuple[str, int]] = {}  # (store path, run id) -> (claim token, nesting depth)
_LOCK = threading.Lock()
_BEATING = threading.Event()  # set while the heartbeat thread runs
_IDLE = threading.Event()  # set when the last recorded run leaves: the heartbeat thread ends at once


def _key(path: str | Path) -> str:
    return str(Path(path).resolve())


@contextmanager
def active(path: str | Path, run_id: str, token: str) -> Iterator[None]:
    """While inside, this process is recording the run: it is live here, and its heartbeat is refreshed."""
    key = (_key(path), run_id)
    with _LOCK:
        _, depth = _ACTIVE.get(key, (token, 0))
        _ACTIVE[key] = (token, depth + 1)
        start_beating = not _BEATING.is_set()
        if start_beating:
            _BEATING.set()
    if start_beating:
        threading.Thread(target=_beat, name="workbench-run-heartbeat", daemon=True).start()
    try:
        yield
    finally:
        with _LOCK:
            held, depth = _ACTIVE.pop(key, (token, 1))
            if depth > 1:
                _ACTIVE[key] = (held, depth - 1)
            if not _ACTIVE:
                _IDLE.set()


def is_active(path: str | Path, run_id: str, token: str | None) -> bool:
    with _LOCK:
        held = _ACTIVE.get((_key(path), run_id))
    return held is not None and held[0] == token


def _beat() -> None:
    """Refresh the heartbeat of every run recorded in this process; ends when none is left."""
    while True:
        idle = _IDLE.wait(HEARTBEAT_S)
        with _LOCK:
            _IDLE.clear()
            runs = list(_ACTIVE.items())
            if not runs:
                _BEATING.clear()
                return
        if idle:  # the runs left and others came meanwhile: their opening is fresh, beat on schedule
            continue
        now = time.time()
        for (path, run_id), (token, _) in runs:
            try:
                db = sqlite3.connect(path, timeout=5)
                try:
                    with db:
                        db.execute(
                            "UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND writer_token = ?",
                            (now, run_id, token),
                        )
                finally:
                    db.close()
            except sqlite3.Error:  # busy, full, read-only: the next save or beat tries again
                pass


# ---- is a running run's writer still there? ------------------------------------------------------------------
def writer_gone(path: str | Path, row: Mapping[str, Any], now: float | None = None) -> str | None:
    """Why the writer of a 'running' run is gone (a sentence), or None while it is live."""
    writer = recorded_writer(row)
    if writer is None:
        return "its process was not recorded (started by an older workbench) and nothing is writing it"
    me = this_process()
    # pids can be compared only on this machine, within one boot and pid namespace
    same_machine = writer.start.rsplit(":", 1)[0] == MACHINE if writer.start else me.start is None
    local = writer.host == HOST and same_machine
    if local and writer.pid == me.pid and writer.start == me.start:
        if is_active(path, row["run_id"], writer.token):
            return None
        return "this process stopped writing it without recording how it ended"
    if local and not alive(writer.pid, writer.start):
        return f"its {writer.describe()} ended without finishing it"
    beat = row.get("heartbeat_at")
    age = (now or time.time()) - float(beat) if beat is not None and beat == beat else None
    if age is None or age > STALE_S:
        since = f" for {age:.0f} s" if age is not None else ""
        return f"no sign of life from its {writer.describe()}{since}"
    return None
