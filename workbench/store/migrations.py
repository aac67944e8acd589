"""The store's schema, versioned: the ordered migrations that build and upgrade a project file.

A project file records its schema version in ``PRAGMA user_version`` and marks itself as a workbench store
with ``PRAGMA application_id`` (:data:`APPLICATION_ID`). :func:`opening.open_store`, which every ``Store(...)``
calls, decides from those two numbers what to do (opening.py: create, upgrade after a backup, or refuse).

Files written before versioning (up to commit b35d084) have ``user_version`` 0 and no application id; they
are recognised by their tables (``runs`` and ``samples`` with our columns, and no table of anyone else) and
upgraded like any older file; any other unmarked file with tables is another program's. Migration 1 is the
baseline, exactly the tables that code created, written with ``IF NOT EXISTS`` so it adopts those files as
they are.

Changing the schema is one new entry at the end of :data:`MIGRATIONS`, never an edit of an earlier one
(files in the field already ran those)::

    Migration(3, "runs.tags: free-form labels", "ALTER TABLE runs ADD COLUMN tags TEXT"),

``sql`` may hold several statements separated by ``;``; a migration that must rewrite data in Python gives
``apply=lambda db: ...`` (it gets the open connection, inside the transaction; commit nothing itself).
Then read and write the new column in the part of the store that uses it (runs.py, ratings.py, ...).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

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
