"""The SQLite connection every part of the store shares."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..settings import store_path
from .migrations import damaged, open_store


class StoreBase:
    """A project's SQLite file. Safe to open from several processes (WAL journal, busy timeout).

    Each part of the store (runs, ratings, ...) is a subclass holding that part's queries; the ``Store``
    class combines them. The tables themselves are created and upgraded by the versioned migrations in
    ``migrations.py``: opening checks the file's schema version (cheap when it is up to date), creates a new
    file, upgrades an older one in place after a backup copy, and refuses a newer file or another program's.
    """

    SCHEMA = ""  # kept for compatibility; the schema lives in migrations.py

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else store_path()
        self.schema_version = open_store(self.path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.row_factory = sqlite3.Row
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # locked, constraint, ...: the caller's business
                raise
            raise damaged(self.path, exc) from exc  # "malformed", "not a database": the file itself
        finally:
            db.close()
