"""The store's schema version: old project files upgrade in place with every row kept, newer and foreign files
are refused untouched, and damaged files or folders get one clear message. No model needed: fast."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.store import APPLICATION_ID, SCHEMA_VERSION, Store, migrations

FIXTURE = Path(__file__).parent / "fixtures" / "project_v0.sqlite"
TABLES = ("runs", "samples", "judged_items", "ratings", "votes", "generations", "judgments")


def read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write and creates nothing beside the file (no -wal, no -shm)."""
    return sqlite3.connect(f"file:{path}?immutable=1", uri=True)


def raw_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, as SQLite holds it, in rowid order: the columns the v0 fixture has (later
    migrations add columns, which old rows hold as NULL)."""
    fixture = read_only(FIXTURE)
    try:
        names = {t: [r[1] for r in fixture.execute(f"PRAGMA table_info({t})")] for t in TABLES}
    finally:
        fixture.close()
    db = read_only(path)
    try:
        return {t: db.execute(f"SELECT {', '.join(names[t])} FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    finally:
        db.close()


def marks(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA application_id").fetchone()[0], db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def schema(path: Path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return sorted(db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    finally:
        db.close()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


@pytest.fixture
def v0(tmp_path) -> Path:
    """A copy of the project file written by the unversioned store (commit b35d084)."""
    path = tmp_path / "old" / "project.sqlite"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    return path


# ---- the fixture itself ----------------------------------------------------------------------------------
def test_fixture_is_an_unversioned_store_with_every_kind_of_row():
    assert FIXTURE.stat().st_size < 1_000_000
    rows = raw_rows(FIXTURE)
    db = read_only(FIXTURE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    assert db.execute("PRAGMA application_id").fetchone()[0] == 0
    tasks = {r[0] for r in db.execute("SELECT task FROM runs")}
    statuses = {r[0] for r in db.execute("SELECT status FROM runs")}
    db.close()
    assert {"arc_easy", "gsm8k", "perplexity", "score", "grid", "judge:single"} <= tasks
    assert {"complete", "interrupted"} <= statuses
    assert all(rows[t] for t in TABLES), {t: len(r) for t, r in rows.items()}


# ---- upgrading an unversioned file -------------------------------------------------------------------------
def test_v0_file_upgrades_in_place_with_every_row_intact_and_a_backup(v0, capsys):
    before = raw_rows(FIXTURE)
    store = Store(v0)
    assert store.schema_version == SCHEMA_VERSION and marks(v0) == (APPLICATION_ID, SCHEMA_VERSION)
    assert raw_rows(v0) == before  # row for row, column for column

    backup = v0.with_name("project.sqlite.v0-backup")
    assert backup.is_file() and raw_rows(backup) == before and marks(backup) == (0, 0)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(backup) in err[0] and "from schema version 0 to" in err[0]

    listing = siblings(v0)
    Store(v0)
    Store(v0)
    assert siblings(v0) == listing  # an up-to-date file: no second backup
    assert capsys.readouterr().err == ""
    assert schema(v0) == schema(Store(v0.with_name("fresh.sqlite")).path)  # same tables as a new file


def test_public_api_reads_the_upgraded_file(v0):
    raw = raw_rows(FIXTURE)
    runs = workbench.runs(store=v0)
    assert sorted(runs["run_id"]) == sorted(r[0] for r in raw["runs"])
    store = Store(v0)
    for row in raw["runs"]:
        run = store.run(row[0])
        assert (run["status"], run["task"], run["model"], run["n_items"]) == (row[2], row[3], row[4], row[13])
        assert run["config"] == json.loads(row[9])
    by_run: dict[str, list[dict]] = {}
    for run_id, _doc_id, record, _written in raw["samples"]:
        by_run.setdefault(run_id, []).append(json.loads(record))
    for run_id, records in by_run.items():
        frame = workbench.samples(run_id, store=v0)
        assert sorted(frame["doc_id"]) == sorted(r["doc_id"] for r in records)
        assert store.sample_records(run_id) == sorted(records, key=lambda r: r["doc_id"])

    ratings = workbench.ratings(latest=False, store=v0)
    assert sorted(ratings["event_id"]) == sorted(r[0] for r in raw["ratings"])
    assert set(ratings["action"]) == {"rate", "note", "skip"}
    assert sorted(workbench.ratings(store=v0)["value"]) == sorted(r[6] for r in raw["ratings"] if r[5] == "rate")
    votes = workbench.votes(latest=False, store=v0)
    assert sorted(votes["event_id"]) == sorted(r[0] for r in raw["votes"])
    assert len(workbench.votes(store=v0)) == sum(r[8] != "skip" for r in raw["votes"])
    assert sorted(store.generations()["gen_key"]) == sorted(r[0] for r in raw["generations"])
    judge_run = raw["judgments"][0][0]
    assert len(store.judgments(judge_run)) == sum(r[0] == judge_run for r in raw["judgments"])


def test_upgraded_file_takes_new_writes(v0):
    store = Store(v0)
    run_id = store.create_run(
        run_key="k",
        task="arc_easy",
        model="m",
        model_identity={},
        data_source="x",
        data_fingerprint="y",
        prompt_template="",
        config={},
        versions={},
        command="c",
        n_items=1,
    )
    store.add_samples(run_id, [{"doc_id": 0, "acc": 1.0}])
    store.finish_run(run_id, {"acc": 1.0})
    assert len(Store(v0).runs()) == len(raw_rows(FIXTURE)["runs"]) + 1


# ---- new files and the cheap path --------------------------------------------------------------------------
def test_new_and_empty_files_are_created_at_the_latest_version_without_a_backup(tmp_path, capsys):
    new = tmp_path / "sub" / "new.sqlite"
    Store(new)
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    Store(empty)
    for path in (new, empty):
        assert marks(path) == (APPLICATION_ID, SCHEMA_VERSION)
        assert set(TABLES) <= {r[1] for r in schema(path) if r[0] == "table"}
    assert not list(tmp_path.rglob("*backup*")) and capsys.readouterr().err == ""


def test_opening_an_up_to_date_file_reads_two_pragmas_and_writes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "p.sqlite"
    Store(path)
    seen: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        db = connect(*args, **kwargs)
        db.set_trace_callback(seen.append)
        return db

    monkeypatch.setattr(sqlite3, "connect", traced)
    Store(path)
    assert seen == ["PRAGMA application_id", "PRAGMA user_version"]


# ---- refusals: newer, foreign, damaged, folders ---------------------------------------------------------------
def test_a_file_from_a_newer_workbench_is_refused_untouched(tmp_path):
    path = tmp_path / "p.sqlite"
    Store(path)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    data, listing = path.read_bytes(), siblings(path)
    with pytest.raises(WorkbenchError) as err:
        Store(path)
    message = str(err.value)
    assert str(path) in message and f"version {SCHEMA_VERSION + 1}" in message
    assert f"up to {SCHEMA_VERSION}" in message and "pip install -U llm-eval-workbench" in message
    assert path.read_bytes() == data and siblings(path) == listing


RUNS = "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO runs VALUES (1, '5k'), (2, '10k');"
FOREIGN = {
    "runs and more": RUNS + "CREATE TABLE laps (run INTEGER, t REAL); INSERT INTO laps VALUES (1, 61.5);",
    "runs alone": RUNS,
    "runs and samples": RUNS + "CREATE TABLE samples (run_id, doc_id);",
    "our tables and theirs": migrations.BASELINE
    + "CREATE TABLE invoices (id INTEGER); INSERT INTO invoices VALUES (1);",
    "marked by another program": "PRAGMA application_id = 1234; " + migrations.BASELINE,
    "versioned by another program": "PRAGMA user_version = 7; " + RUNS,
}


@pytest.mark.parametrize("script", FOREIGN.values(), ids=FOREIGN.keys())
@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_another_programs_sqlite_file_is_refused_and_left_byte_for_byte(tmp_path, script, journal):
    path = tmp_path / "theirs.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA journal_mode={journal}")
    db.executescript(script)
    db.close()
    data, listing = path.read_bytes(), siblings(path)
    with pytest.raises(WorkbenchError) as err:
        Store(path)
    assert str(path) in str(err.value) and "another program" in str(err.value) and "untouched" in str(err.value)
    assert path.read_bytes() == data and siblings(path) == listing


@pytest.mark.parametrize("content", [b"hello", b"name,score\nana,4\n" * 20, b"SQLite format 3\x00" + b"\x00" * 20])
def test_a_file_that_is_not_sqlite_gets_one_clear_message(tmp_path, content):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(content)
    with pytest.raises(WorkbenchError, match="is not a SQLite file") as err:
        Store(path)
    assert str(path) in str(err.value) and "store=" in str(err.value)
    assert path.read_bytes() == content and siblings(path) == ["notes.sqlite"]


@pytest.mark.parametrize("size", [100, 4096, 30_000])
def test_a_truncated_store_gets_one_clear_message(v0, size):
    v0.write_bytes(FIXTURE.read_bytes()[:size])
    with pytest.raises(WorkbenchError, match="damaged") as err:
        Store(v0)
    assert str(v0) in str(err.value) and "backup" in str(err.value)
    assert v0.read_bytes() == FIXTURE.read_bytes()[:size]


def test_a_store_damaged_after_opening_gives_the_same_message(tmp_path):
    path = tmp_path / "p.sqlite"
    store = Store(path)
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(WorkbenchError, match="damaged"):
        store.runs()


def test_a_folder_is_refused_with_the_fix(tmp_path):
    with pytest.raises(WorkbenchError) as err:
        Store(tmp_path)
    assert str(tmp_path) in str(err.value) and "is a folder" in str(err.value)
    assert str(tmp_path / "project.sqlite") in str(err.value)


# ---- the migration mechanism, with a test-only second migration ------------------------------------------------
NEXT = SCHEMA_VERSION + 1  # the test-only migrations come after the real ones
ADD_TAGS = migrations.Migration(NEXT, "runs.tags", "ALTER TABLE runs ADD COLUMN tags TEXT; UPDATE runs SET tags = '[]'")


def columns(path: Path, table: str) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    finally:
        db.close()


def test_a_new_column_is_one_migration_and_upgrades_v0_and_v1_files(v0, tmp_path, monkeypatch):
    v1 = tmp_path / "v1.sqlite"
    Store(v1)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ADD_TAGS])
    for path, old in ((v0, 0), (v1, SCHEMA_VERSION)):
        assert Store(path).schema_version == NEXT and marks(path) == (APPLICATION_ID, NEXT)
        assert "tags" in columns(path, "runs")
        assert path.with_name(f"{path.name}.v{old}-backup").is_file()
    db = sqlite3.connect(v0)
    assert {r[0] for r in db.execute("SELECT tags FROM runs")} == {"[]"}
    db.close()
    new = tmp_path / "new.sqlite"
    Store(new)
    assert schema(new) == schema(v1) == schema(v0)


def test_a_failing_migration_leaves_the_file_at_its_old_version(v0, monkeypatch):
    before = raw_rows(FIXTURE)

    def boom(db):
        db.execute("UPDATE runs SET status = 'lost'")
        raise RuntimeError("disk on fire")

    broken = migrations.Migration(NEXT + 1, "fails half-way", "ALTER TABLE samples ADD COLUMN extra TEXT", apply=boom)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ADD_TAGS, broken])
    with pytest.raises(WorkbenchError) as err:
        Store(v0)
    message = str(err.value)
    assert f"from schema version 0 to {NEXT + 1}" in message and f"migration {NEXT + 1}" in message
    assert "disk on fire" in message
    assert "still at version 0" in message and "v0-backup" in message
    assert marks(v0) == (0, 0) and raw_rows(v0) == before
    assert "tags" not in columns(v0, "runs") and "extra" not in columns(v0, "samples")
    assert "judgments" in {r[1] for r in schema(v0)}

    # fixed in a later release: the same file upgrades, with a second backup beside the first
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:NEXT]])
    assert Store(v0).schema_version == NEXT and raw_rows(v0)["samples"] == before["samples"]
    assert {"project.sqlite.v0-backup", "project.sqlite.v0-backup-2"} <= set(siblings(v0))


def test_two_processes_upgrading_at_once_make_one_backup(v0):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=Store, args=(str(v0),)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert marks(v0) == (APPLICATION_ID, SCHEMA_VERSION)
    assert [n for n in siblings(v0) if "backup" in n] == ["project.sqlite.v0-backup"]
    assert raw_rows(v0) == raw_rows(FIXTURE)


def test_migration_scripts_split_into_statements():
    assert len(migrations.statements(migrations.BASELINE)) == 10
    assert migrations.statements("-- a; comment\nSELECT 'x;y'; SELECT 2;") == [
        "-- a; comment\nSELECT 'x;y';",
        "SELECT 2;",
    ]
    assert [m.version for m in migrations.MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
