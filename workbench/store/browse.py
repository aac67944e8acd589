"""Reading a project store to browse it (the JupyterLab extension's server side): never create, upgrade or write.

``Store(path)`` makes a file usable: it creates a missing store and upgrades an older one in place. A browser
beside the notebook must do neither, so :class:`BrowseStore` opens the file read-only as it is and refuses
(one :class:`WorkbenchError` naming the fix) a missing file, another program's file, and a file at a schema
version other than this workbench's. It adds the reads a browser needs and the other parts lack: every run with
how many items it has scored so far, and the human ratings per run.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from . import Store, migrations
from .opening import _check_state, _inspect, _marks, check_path, connect, damaged


class BrowseStore(Store):
    """A project store opened only to read it: nothing is created, upgraded or written, even beside it."""

    def __init__(self, path: str | Path):  # no super().__init__(): it would create or upgrade the file
        self.path = Path(path)
        self.from_env = self.found = False
        if not self.path.is_file():
            check_path(self.path, create=False)  # a folder, or a path through a file, has its own message
            raise WorkbenchError(
                f"There is no project store at {self.path} yet: run an evaluation in this folder (it creates "
                "workbench.sqlite), or set $WORKBENCH_STORE to the store to browse."
            )
        check_path(self.path, create=False)  # a file that is not SQLite is refused before SQLite reads it
        self.schema_version = _readable_version(self.path)
        self.read_only = True

    # ---- runs ----------------------------------------------------------------------------------
    def run_rows(self) -> list[dict[str, Any]]:
        """Every run, newest first, as ``Store.run`` gives one (JSON decoded, a dead writer's run 'interrupted'),
        with ``n_scored``: how many of its items are saved so far (the progress of a running run)."""
        with self._connect(write=False) as db:
            rows = db.execute(
                "SELECT runs.*, (SELECT count(*) FROM samples WHERE samples.run_id = runs.run_id) AS n_scored "
                "FROM runs ORDER BY created_at DESC"
            ).fetchall()
        return [self._shown(r) for r in self._decoded(rows)]

    def scored_count(self, run_id: str) -> int:
        """How many items of the run are saved so far."""
        with self._connect(write=False) as db:
            return int(db.execute("SELECT count(*) FROM samples WHERE run_id = ?", (run_id,)).fetchone()[0])

    # ---- human ratings -------------------------------------------------------------------------
    def rating_counts(self) -> dict[str, dict[str, int]]:
        """Per run (the rated items' source): {'annotators': distinct annotators, 'ratings': rate events}."""
        with self._connect(write=False) as db:
            rows = db.execute(
                "SELECT judged_items.source AS run_id, count(DISTINCT ratings.annotator) AS annotators, "
                "count(*) AS ratings FROM ratings JOIN judged_items ON judged_items.item_key = ratings.item_key "
                "WHERE ratings.action = 'rate' GROUP BY judged_items.source"
            ).fetchall()
        return {r["run_id"]: {"annotators": int(r["annotators"]), "ratings": int(r["ratings"])} for r in rows}


def _readable_version(path: Path) -> int:
    """The file's schema version, when this workbench reads it as it is; refuses anything else, writing nothing."""
    latest = migrations.latest_version()
    try:
        db = connect(path, read_only=True, autocommit=True)
    except sqlite3.Error as exc:
        raise damaged(path, exc) from exc
    try:
        try:
            if _marks(db) == (migrations.APPLICATION_ID, latest):
                return latest
            state = _inspect(db)
        except sqlite3.Error as exc:
            raise damaged(path, exc) from exc
    finally:
        db.close()
    _check_state(path, state, latest)  # another program's file, or a newer workbench's: refused with the fix
    if state.empty:
        raise WorkbenchError(f"{path} is an empty file, not a project store yet: run an evaluation to fill it.")
    raise WorkbenchError(
        f"The project store {path} was written by an older workbench (schema version {state.version}; this one "
        f"reads {latest}). Browsing never upgrades a file: open it once from the workbench (e.g. `workbench runs "
        f"--store {path}`), which upgrades it after a backup copy, then refresh."
    )
