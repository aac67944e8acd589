"""The store's schema, versioned: the ordered migrations that build and upgrade a project file.

A project file records its schema version in ``PRAGMA user_version`` and marks itself as a workbench store
with ``PRAGMA application_id`` (:data:`APPLICATION_ID`). :func:`open_store`, which every ``Store(...)`` calls,
decides from those two numbers (two pragma reads, no DDL, when the file is up to date):

* a new or empty file is created at the latest version;
* an older file is first copied next to itself (``NAME.v<old>-backup``, with SQLite's backup API; one line
  on stderr says where), then every pending migration runs in a single transaction, so a failure leaves
  the file at its old version, unchanged;
* a file from a newer workbench is refused with both versions and the fix (``pip install -U ...``);
* a file that is not ours (another program's SQLite file, even one with a ``runs`` table), a file that is
  not SQLite at all and a folder are refused with a message naming the path; nothing is written to them;
* a file that cannot be written (read-only media, a read-only folder, no write permission) is opened
  read-only as it is, without upgrading it (:func:`connect`); where nothing can be written, no new store is
  created, and a path running through a file ("notes.txt/x.sqlite") is refused.

Files written before versioning (up to commit b35d084) have ``user_version`` 0 and no application id; they
are recognised by their tables (``runs`` and ``samples`` with our columns, and no table of anyone else) and
upgraded like any older file; any other unmarked file with tables is another program's. Migration 1 is the
baseline, exactly the tables that code created, written with ``IF NOT EXISTS`` so it adopts those files as
they are.

Changing the schema is one new entry at the end of :data:`MIGRATIONS`, never an edit of an earlier one
(files in the field already ran those)::

    Migration(2, "runs.tags: free-form labels", "ALTER TABLE runs ADD COLUMN tags TEXT"),

``sql`` may hold several statements separated by ``;``; a migration that must rewrite data in Python gives
``apply=lambda db: ...`` (it gets the open connection, inside the transaction; commit nothing itself).
Then read and write the new column in the part of the store that uses it (runs.py, ratings.py, ...).
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import WorkbenchError

# 'LLMW' as a big-endian 32-bit integer: PRAGMA application_id of every workbench project store
APPLICATION_ID = 0x4C4C4D57
SQLITE_HEADER = b"SQLite format 3\x00"
UPGRADE_HINT = "pip install -U llm-eval-workbench"
STORE_HINT = "Give another path with store=... (or $WORKBENCH_STORE), e.g. a new file project.sqlite."


@dataclass(frozen=True)
class Migration:
    """One step of the schema: from ``version - 1`` to ``version``."""

    version: int
    summary: str
    sql: str = ""
    apply: Callable[[sqlite3.Connection], None] | None = None


# ---- migration 1: the baseline, the tables of the unversioned stores (frozen: never edit) -------------------
BASELINE = """
-- runs and their scored samples (runs.py)
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    run_key TEXT NOT NULL,
    status TEXT NOT NULL,            -- running | complete | failed | interrupted
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    model_identity TEXT NOT NULL,    -- JSON: name, kind, location, weights fingerprint
    data_source TEXT,
    data_fingerprint TEXT,
    prompt_template TEXT,
    config TEXT NOT NULL,            -- JSON: every parameter (limit, shots, batch size, seed, ...)
    versions TEXT NOT NULL,          -- JSON: package versions
    command TEXT,                    -- the magic line, CLI line or Python call that started it
    metrics TEXT,                    -- JSON, once complete
    n_items INTEGER,
    duration_s REAL DEFAULT 0,
    error TEXT,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs(run_key);
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    doc_id INTEGER NOT NULL,
    record TEXT NOT NULL,            -- JSON: gold, pred, scores, log-likelihoods, prompt, ...
    written_at REAL NOT NULL,
    PRIMARY KEY (run_id, doc_id)
);

-- human judgments: the judged items, their ratings and blind A/B votes (ratings.py)
CREATE TABLE IF NOT EXISTS judged_items (
    item_key TEXT PRIMARY KEY,       -- hash of item id, model, prompt and output
    item_id TEXT NOT NULL,           -- the prompt's id in its source (a run's doc_id, a grid row, ...)
    model TEXT,
    source TEXT,                     -- run id, or the name given to a DataFrame
    prompt TEXT,
    reference TEXT,
    output TEXT,
    added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ratings (
    event_id TEXT PRIMARY KEY,
    item_key TEXT NOT NULL,
    rubric TEXT NOT NULL,            -- rubric name, e.g. '1-5', 'pass/fail', 'tone'
    scale TEXT NOT NULL,             -- JSON list of the rubric's values, in order
    annotator TEXT NOT NULL,
    action TEXT NOT NULL,            -- rate | skip | note
    value TEXT,                      -- the rating (rate events)
    note TEXT,
    seconds REAL,                    -- time spent on the item before this click
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ratings_by_rubric ON ratings(rubric, annotator);
CREATE TABLE IF NOT EXISTS votes (
    event_id TEXT PRIMARY KEY,
    arena TEXT NOT NULL,             -- the A/B session's name
    item_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    left_key TEXT NOT NULL,          -- the output shown on the left (A) ...
    right_key TEXT NOT NULL,         -- ... and on the right (B)
    model_left TEXT NOT NULL,
    model_right TEXT NOT NULL,
    vote TEXT NOT NULL,              -- A (left better) | B (right better) | tie | both_bad | skip
    winner TEXT,                     -- the winning model, 'tie' or 'both_bad'; NULL for a skip
    seconds REAL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS votes_by_arena ON votes(arena, annotator);

-- every text a model generated for a prompt grid, also the grid's generation cache (generations.py)
CREATE TABLE IF NOT EXISTS generations (
    gen_key TEXT PRIMARY KEY,        -- sha256(model weights + full prompt + params); 'once:<id>' if not reusable
    cacheable INTEGER NOT NULL,      -- 0 for sampling without a fixed seed: never served from the cache
    model TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    prompt TEXT NOT NULL,            -- the full prompt: text, or JSON chat messages
    params TEXT NOT NULL,            -- JSON: max_new_tokens, temperature, stop, seed
    text TEXT NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    seconds REAL,
    created_at REAL NOT NULL
);

-- one row per call of an LLM judge; the judging job itself is a run (judgments.py)
CREATE TABLE IF NOT EXISTS judgments (
    run_id TEXT NOT NULL,            -- the judge run (runs.run_id)
    doc_id INTEGER NOT NULL,         -- the judged item (doc_id in the judged run(s))
    turn INTEGER NOT NULL,           -- which answer was judged: 1 = first turn; later turns show the earlier ones
    swapped INTEGER NOT NULL,        -- pairwise: 1 when the second run's answer was shown first (as A); single: 0
    prompt_name TEXT NOT NULL,       -- e.g. single-ref-multi-en (judge/prompts.py)
    score REAL,                      -- single: the 1-10 rating; NULL when the judge's text holds none
    verdict TEXT,                    -- pairwise: 'a', 'b' or 'tie' in the judged runs' terms; NULL when unreadable
    shown_verdict TEXT,              -- pairwise: what the judge wrote ('A', 'B', 'tie'), before un-swapping
    parsed INTEGER NOT NULL,         -- 1 when a verdict was read; 0 keeps the text and counts as no verdict
    judge_output TEXT NOT NULL,      -- the judge's whole reply: its rationale and verdict
    messages TEXT NOT NULL,          -- JSON: exactly what the judge was sent
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    written_at REAL NOT NULL,
    PRIMARY KEY (run_id, doc_id, turn, swapped)
);
"""

# the tables of an unversioned (version 0) store, and the columns that identify its runs and samples tables
BASELINE_TABLES = frozenset({"runs", "samples", "judged_items", "ratings", "votes", "generations", "judgments"})
BASELINE_KEY_COLUMNS = {
    "runs": {"run_id", "run_key", "status", "task", "model", "model_identity", "config", "versions", "created_at"},
    "samples": {"run_id", "doc_id", "record", "written_at"},
}

MIGRATIONS: list[Migration] = [
    Migration(1, "baseline: runs, samples, judged items, ratings, votes, generations, judgments", BASELINE),
    Migration(
        2,
        "runs.writer_*, heartbeat_at: the process writing a running run, so a dead one's run shows as interrupted "
        "and a live one's is not shared (liveness.py)",
        """
        -- the process that opened the run last: pid, host name, start token (boot, pid namespace, start time)
        ALTER TABLE runs ADD COLUMN writer_pid INTEGER;
        ALTER TABLE runs ADD COLUMN writer_host TEXT;
        ALTER TABLE runs ADD COLUMN writer_start TEXT;
        -- new at each opening: a writer whose run was taken over by another process stops
        ALTER TABLE runs ADD COLUMN writer_token TEXT;
        -- refreshed while the writer works
        ALTER TABLE runs ADD COLUMN heartbeat_at REAL;
        """,
    ),
]


def latest_version() -> int:
    """The schema version this workbench writes: the last migration's."""
    return MIGRATIONS[-1].version if MIGRATIONS else 0


SCHEMA_VERSION = latest_version()


def statements(sql: str) -> list[str]:
    """The complete SQL statements of a script, in order (``;`` inside strings and comments kept in place)."""
    out, current = [], ""
    for part in sql.split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if _strip_comments(current).strip(" \n\t;"):
                out.append(current.strip())
            current = ""
    if _strip_comments(current).strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement in a migration: {current.strip()[:80]!r}")
    return out


def _strip_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


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
        f"{release} reads versions up to {latest_version()}. Upgrade it with `{UPGRADE_HINT}` (the file was left "
        "untouched)."
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
    latest = latest_version()
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
            for migration in [m for m in MIGRATIONS if m.version > old]:
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
