"""The SQLite connection every part of the store shares."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import WorkbenchError, notice
from ..settings import STORE_ENV, find_store, store_path
from .opening import STORE_HINT, check_path, connect, damaged, open_store, why_read_only, writable

_ANNOUNCED: set[str] = set()  # found stores already named on stderr by this process
# SQLite's primary result codes (sqlite3 has them as constants from Python 3.11, its type stubs not yet)
SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN = 8, 10, 13, 14


class StoreBase:
    """A project's SQLite file. Safe to open from several processes (WAL journal, busy timeout).

    Each part of the store (runs, ratings, ...) is a subclass holding that part's queries; the ``Store``
    class combines them. The tables themselves are created and upgraded by the versioned migrations in
    ``migrations.py``: opening checks the file's schema version (cheap when it is up to date), creates a new
    file, upgrades an older one in place after a backup copy, and refuses a newer file or another program's.

    ``path`` None is the project's store (``settings.store_path()``: ``$WORKBENCH_STORE``, else the nearest
    ``workbench.sqlite`` here or above); the first time this process writes to a store found that way, one
    ``workbench:`` line on stderr names it. ``create=False`` is for reading: a missing store is an error naming
    the path, and nothing is created. A store that cannot be written (read-only media or folder) can be read;
    writing to it is an error that says so. SQLite's faults (full disk, read-only, unreadable or damaged file)
    each become one :class:`WorkbenchError` naming the file.
    """

    SCHEMA = ""  # kept for compatibility; the schema lives in migrations.py

    def __init__(self, path: str | Path | None = None, *, create: bool = True):
        self.from_env = path is None and bool(os.environ.get(STORE_ENV))
        self.found = path is None and not self.from_env  # found by walking up, not named
        self.path = Path(path) if path is not None else store_path()
        existed = self.path.is_file()
        if not create and not self.path.exists():
            check_path(self.path, create=False)  # a path through a file has its own message
            raise self._missing()
        self.schema_version = open_store(self.path, create=create)
        self.read_only = not writable(self.path)
        if not existed:
            self._announce()

    def _missing(self) -> WorkbenchError:
        where = f" (${STORE_ENV})" if self.from_env else ""
        project = find_store(Path.cwd())
        here = (
            f"from {Path.cwd()} that is {project}"
            if project.is_file() and project.resolve() != self.path.resolve()
            else f"from {Path.cwd()} there is none yet"
        )
        return WorkbenchError(
            f"There is no project store at {self.path}{where}; nothing was created (listing and reading never "
            "create a store). A project's store is $WORKBENCH_STORE when set, else the nearest workbench.sqlite in "
            f"the working folder or a folder above it, up to the project's root (with .git or pyproject.toml): "
            f"{here}. Check the path, or give the store with --store PATH (store=PATH in Python)."
        )

    def _announce(self) -> None:
        """Name a store found by walking up, once per process, when it is first written."""
        key = str(self.path.resolve())
        if self.found and key not in _ANNOUNCED:
            _ANNOUNCED.add(key)
            notice(
                f"using the project store {key} (found from {Path.cwd()}; set $WORKBENCH_STORE or "
                "pass store=... for another)"
            )

    def _read_only_error(self) -> WorkbenchError:
        wal = self.path.with_name(self.path.name + "-wal")
        return WorkbenchError(
            f"The project store {self.path} is read-only ({why_read_only(self.path)}): its runs, samples and "
            "ratings can be read, but nothing can be saved to it. To add to it, copy it"
            + (f" together with {wal.name} beside it" if wal.exists() else "")
            + " to a folder you can write to and use the copy: store=COPY (--store COPY), or $WORKBENCH_STORE."
        )

    def _fault(self, exc: sqlite3.DatabaseError) -> WorkbenchError | None:
        """The one message for a fault of the file or its disk; None for the caller's business (locked, ...)."""
        if type(exc) is sqlite3.DatabaseError:  # "malformed", "not a database": the file itself
            return damaged(self.path, exc)
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary result code
        if code == SQLITE_FULL:
            return WorkbenchError(
                f"The project store {self.path} could not be written: the disk is full ({exc}). Everything saved "
                "before is kept. Free some space, then run the same call again to resume."
            )
        if code == SQLITE_READONLY:
            return self._read_only_error()
        if code == SQLITE_CANTOPEN:
            return WorkbenchError(
                f"The project store {self.path} could not be opened ({exc}): check that it and its folder still "
                f"exist and can be read (and written, to save). {STORE_HINT}"
            )
        if code == SQLITE_IOERR:
            return WorkbenchError(
                f"The project store {self.path} could not be read or written: the disk reported an error ({exc}). "
                "If it is full, free some space; everything saved before is kept, and running the same call "
                "again resumes."
            )
        return None

    @contextmanager
    def _connect(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction (committed on success, rolled back on error); ``write=False`` for reading only."""
        if write:
            if self.read_only:
                raise self._read_only_error()
            self._announce()
        db = connect(self.path, read_only=self.read_only)
        try:
            if not self.read_only:
                db.execute("PRAGMA journal_mode=WAL")
            db.row_factory = sqlite3.Row
            with db:
                yield db
        except sqlite3.DatabaseError as exc:
            fault = self._fault(exc)
            if fault is None:
                raise
            raise fault from exc
        finally:
            db.close()
