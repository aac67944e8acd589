"""The SQLite connection every part of the store shares."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..settings import store_path


class StoreBase:
    """A project's SQLite file. Safe to open from several processes (WAL journal, busy timeout).

    Each part of the store (runs, ratings, ...) is a subclass with its own ``SCHEMA``; the
    ``Store`` class combines them and creates every part's tables on open.
    """

    SCHEMA = ""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        schemas = dict.fromkeys(cls.__dict__.get("SCHEMA", "") for cls in reversed(type(self).__mro__))
        with self._connect() as db:
            for schema in schemas:
                if schema:
                    db.executescript(schema)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.row_factory = sqlite3.Row
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()
