"""Opening a project file: what it is (ours, older, newer, another program's, damaged, read-only) and what to do.

:func:`open_store`, which every ``Store(...)`` calls, decides from ``PRAGMA application_id`` and
``PRAGMA user_version`` (two pragma reads, no DDL, when the file is up to date):

* a new or empty file is created at the latest version;
* an older file is first copied next to itself (``NAME.v<old>-backup``, with SQLite's backup API; one line
  on stderr says where), then every pending migration (migrations.py) runs in a single transaction, so a
  failure leaves the file at its old version, unchanged;
* a file from a newer workbench is refused with both versions and the fix (``pip install -U ...``);
* a file that is not ours (another program's SQLite file, even one with a ``runs`` table), a file that is
  not SQLite at all and a folder are refused with a message naming the path; nothing is written to them;
* a file that cannot be written (read-only media, a read-only folder, no write permission) is opened
  read-only as it is, without upgrading it (:func:`connect`); where nothing can be written, no new store is
  created, and a path running through a file ("notes.txt/x.sqlite") is refused.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import WorkbenchError
from . import migrations
from .migrations import (
    APPLICATION_ID,
    BASELINE_KEY_COLUMNS,
    BASELINE_TABLES,
    SQLITE_HEADER,
    STORE_HINT,
    UPGRADE_HINT,
    statements,
)


# ---- what a file is ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileState:
    """A store file's identity as found: application id, schema version and table names."""

    application_id: int
    version: int
    tables: frozenset[str]
    columns: dict[str, frozenset[str]]

    @property
    def empty(self) -> bool:
        return not self.tables and self.application_id == 0 and self.version == 0

    @property
    def ours(self) -> bool:
        """A workbench store: marked with our application id, or an unversioned file with our tables."""
        if self.application_id == APPLICATION_ID:
            return True
        if self.application_id != 0 or self.version != 0:
            return False
        if not all(set(BASELINE_KEY_COLUMNS[t]) <= self.columns.get(t, frozenset()) for t in BASELINE_KEY_COLUMNS):
            return False
        return self.tables <= BASELINE_TABLES


def _marks(db: sqlite3.Connection) -> tuple[int, int]:
    """(application id, schema version) from the file's header."""
    return db.execute("PRAGMA application_id").fetchone()[0], db.execute("PRAGMA user_version").fetchone()[0]


def _inspect(db: sqlite3.Connection) -> FileState:
    app_id, version = _marks(db)
    tables = frozenset(
        r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    )
    columns = {t: frozenset(r[1] for r in db.execute(f'PRAGMA table_info("{t}")')) for t in BASELINE_KEY_COLUMNS}
    return FileState(app_id, version, tables, {t: c for t, c in columns.items() if c})


def _refuse_foreign(path: Path, state: FileState) -> WorkbenchError:
    tables = ", ".join(sorted(state.tables)) or "none"
    added = sorted(state.tables - BASELINE_TABLES)
    hint = (
        f" If it is an old workbench project to which tables were added, move those ({', '.join(added)}) to "
        "another file and open it again."
        if BASELINE_TABLES <= state.tables and state.application_id == 0
        else ""
    )
    return WorkbenchError(
        f"{path} is a SQLite file of another program, not a workbench project store (its tables: {tables}; "
        f"application id {state.application_id}, version {state.version}). It was left untouched. {STORE_HINT}" + hint
    )


def _refuse_newer(path: Path, version: int) -> WorkbenchError:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        release = f" {installed('llm-eval-workbench')}"
    except PackageNotFoundError:  # run from a source tree that is not installed
        release = ""
    return WorkbenchError(
        f"{path} was written by a newer workbench: its store schema is version {version}, and this workbench"
        f"{release} reads versions up to {migrations.latest_version()}. Upgrade it with `{UPGRADE_HINT}` (the file "
        "was left untouched)."
    )


def writable(path: Path) -> bool:
    """The store file (or, for a new one, its folder) can be written: SQLite also needs the folder, for its
    journal files beside the store (``-wal``, ``-shm``)."""
    if not os.access(path.parent, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def why_read_only(path: Path) -> str:
    """Why ``path`` cannot be written, in a few words."""
    try:
        if os.statvfs(path if path.exists() else path.parent).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    except OSError:
        pass
    if path.exists() and not os.access(path, os.W_OK):
        return "the file cannot be written"
    return f"its folder {path.parent} cannot be written"


def connect(path: Path, *, read_only: bool = False, autocommit: bool = False) -> sqlite3.Connection:
    """A connection to the store (``autocommit``: no implicit transactions); ``read_only`` opens it without
    writing anything, even beside it.

    Read-only, SQLite first opens the file as it is (``mode=ro``: it still sees changes in a ``-wal`` file),
    which needs the WAL index file (``-shm``) beside it; where that cannot be created either (a read-only folder
    or medium), it reads the file alone (``immutable=1``).
    """

    def open_(target: str | Path, uri: bool = False) -> sqlite3.Connection:
        if autocommit:
            return sqlite3.connect(target, timeout=30, isolation_level=None, uri=uri)
        return sqlite3.connect(target, timeout=30, uri=uri)

    if not read_only:
        return open_(path)
    uri = "file:" + quote(str(Path(path).resolve()))
    db = open_(uri + "?mode=ro", uri=True)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file now
        return db
    except sqlite3.OperationalError:
        db.close()
    return open_(uri + "?immutable=1", uri=True)


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest existing folder of the path that is not a folder ("notes.txt" in notes.txt/x.sqlite)."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def check_path(path: Path, create: bool = True) -> None:
    """Refuse a folder, a path through a file, or a file that is not SQLite before SQLite opens (or creates
    anything beside) it; make the store's folder when ``create``."""
    if path.is_dir():
        raise WorkbenchError(
            f"{path} is a folder, not a project store file. Give a file in it, e.g. "
            f"store='{path / 'project.sqlite'}' (or set $WORKBENCH_STORE to one)."
        )
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise WorkbenchError(
            f"{blocker} is a file, not a folder, so the project store {path} cannot be inside it. Nothing was "
            f"created. {STORE_HINT}"
        )
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkbenchError(
                f"Cannot create the folder {path.parent} for the project store {path}: "
                f"{exc.strerror or exc}. {STORE_HINT}"
            ) from exc
    if not path.exists():
        return
    try:
        with path.open("rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise WorkbenchError(
            f"Cannot read the project store {path}: {exc}. Check its permissions. {STORE_HINT}"
        ) from exc
    if head and (len(head) < 100 or not head.startswith(SQLITE_HEADER)):
        raise WorkbenchError(
            f"{path} is not a SQLite file (it may be truncated, or another kind of file), so it cannot be a "
            f"project store. It was left untouched: restore it from a backup ({path.name}.v<N>-backup beside it, if "
            f"there is one) or move it aside. {STORE_HINT}"
        )


def damaged(path: Path, exc: sqlite3.Error) -> WorkbenchError:
    """The error for a store file SQLite cannot read: truncated, damaged, or held by another program."""
    return WorkbenchError(
        f"{path} cannot be read as a project store ({exc}): the file is damaged (e.g. truncated by an "
        "interrupted copy) or held by another program. The workbench wrote nothing to it: restore it from a "
        f"backup ({path.name}.v<N>-backup beside it, if there is one) or move it aside. {STORE_HINT}"
    )


def cannot_create(path: Path) -> WorkbenchError:
    return WorkbenchError(
        f"The project store {path} does not exist and cannot be created: {why_read_only(path)} (read-only). "
        f"{STORE_HINT}"
    )


# ---- opening: check, create or upgrade ----------------------------------------------------------------------
def open_store(path: Path, *, create: bool = True) -> int:
    """Make ``path`` a usable store at the latest version (see the module docstring); returns the version.

    A store that cannot be written is checked and left as it is (its version is returned, even an older
    one: it can be read, not upgraded). ``create=False`` makes no folder and, for a missing file, no store.
    """
    check_path(path, create)
    latest = migrations.latest_version()
    can_write = writable(path)
    new = not path.exists() or path.stat().st_size == 0
    if new and not create:
        raise WorkbenchError(f"There is no project store at {path}; nothing was created. {STORE_HINT}")
    if new and not can_write:
        raise cannot_create(path)
    try:
        db = connect(path, read_only=not can_write, autocommit=True)
    except sqlite3.Error as exc:
        raise damaged(path, exc) from exc
    try:
        try:
            if _marks(db) == (APPLICATION_ID, latest):
                return latest  # the common case: up to date, two pragma reads and nothing written
            state = _inspect(db)
        except sqlite3.Error as exc:
            raise damaged(path, exc) from exc
        _check_state(path, state, latest)
        if not can_write:
            if state.empty:
                raise cannot_create(path)
            return state.version  # read as it is: upgrading would write
        return _upgrade(db, path, latest)
    finally:
        db.close()


def _check_state(path: Path, state: FileState, latest: int) -> None:
    if not state.empty and not state.ours:
        raise _refuse_foreign(path, state)
    if state.version > latest:
        raise _refuse_newer(path, state.version)


def _upgrade(db: sqlite3.Connection, path: Path, latest: int) -> int:
    """Create or upgrade the store in one write transaction; the backup is taken inside it, before any change."""
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("BEGIN IMMEDIATE")  # holds off other writers; another process may have upgraded meanwhile
    except sqlite3.Error as exc:
        if type(exc) is sqlite3.DatabaseError:  # malformed, not a database
            raise damaged(path, exc) from exc
        raise WorkbenchError(
            f"The project store {path} must be created or upgraded to schema version {latest}, but it cannot be "
            f"written ({exc}). Make the file and its folder writable, or close the program holding it. {STORE_HINT}"
        ) from exc
    try:
        state = _inspect(db)
        if state.application_id == APPLICATION_ID and state.version == latest:
            db.execute("COMMIT")
            return latest
        _check_state(path, state, latest)
        old = state.version
        try:
            backup = None if state.empty else _backup(path, old)
        except (OSError, sqlite3.Error) as exc:
            raise WorkbenchError(
                f"The project store {path} needs an upgrade from schema version {old} to {latest}, but its backup "
                f"copy could not be written beside it ({exc}); nothing was changed. Free some space or fix the "
                "folder's permissions, then open it again."
            ) from exc
        current = old
        try:
            for migration in [m for m in migrations.MIGRATIONS if m.version > old]:
                current = migration.version
                for statement in statements(migration.sql):
                    db.execute(statement)
                if migration.apply is not None:
                    migration.apply(db)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {latest}")
            db.execute("COMMIT")
        except Exception as exc:
            kept = f"; the old file is also copied at {backup}" if backup else ""
            raise WorkbenchError(
                f"Upgrading the project store {path} from schema version {old} to {latest} failed in migration "
                f"{current} ({type(exc).__name__}: {exc}). Nothing was changed: the file is still at version "
                f"{old}{kept}. Please report this with the message."
            ) from exc
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    if backup is not None:
        print(
            f"Upgraded the project store {path} from schema version {old} to {latest}; "
            f"the old file was copied first to {backup}.",
            file=sys.stderr,
        )
    return latest


def _backup(path: Path, version: int) -> Path:
    """Copy the file as it is now to ``NAME.v<version>-backup`` (a new name if that exists) beside it."""
    target = path.with_name(f"{path.name}.v{version}-backup")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.v{version}-backup-{n}")
    # a second connection: SQLite refuses a backup from the connection holding the write transaction, and
    # this one reads the last committed state, which nothing can change while that transaction is held
    source = sqlite3.connect(path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except BaseException:
        copy.close()
        target.unlink(missing_ok=True)
        raise
    finally:
        source.close()
        copy.close()
    return target
