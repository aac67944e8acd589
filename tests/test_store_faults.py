"""Store faults each get one clear message, and a store that can only be read can still be read: a read-only
location, a folder path that is a file, a full disk in the middle of a run, one corrupt JSON cell, a mistyped
store path given to a reading command, and merging from a store on read-only media.

Read-only locations are real ones: as root (who may write anywhere) the file and its folder are made immutable
(chattr +i); otherwise their write permissions are removed. A full disk is a small tmpfs in a mount namespace
of a child process (unshare -m), so SQLite meets a real ENOSPC.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.run import lifecycle
from workbench.store import Store

from .conftest import REPO

FIXTURE = Path(__file__).parent / "fixtures" / "project_v0.sqlite"
SPEC = lifecycle.RunSpec(
    task="t", model="m", identity={}, source="s", data_fingerprint="d", template="", config={"limit": 2},
    key={"call": 1}, command="c", n_items=2,
)  # fmt: skip


def saved_run(path: Path) -> str:
    """A store at ``path`` holding one complete run with two samples and one rating."""
    db = Store(path)
    run = lifecycle.start(db, SPEC)
    with run.recording():
        run.save([{"doc_id": 0, "acc": 1.0}, {"doc_id": 1, "acc": 0.0}])
    run.finish({"acc": 0.5, "n": 2})
    db.add_items([{"item_key": "k1", "item_id": "0", "model": "m", "output": "yes"}])
    db.add_rating(
        item_key="k1", rubric="1-5", scale=["1", "2", "3", "4", "5"], annotator="ana", action="rate", value="4"
    )
    return run.run_id


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def read_only() -> Iterator:
    """``read_only(*paths)`` makes files and folders really read-only for this process until the test ends."""
    undo: list = []

    def apply(*paths: Path) -> None:
        for path in paths:
            if os.geteuid() == 0:
                done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
                if done.returncode != 0:
                    pytest.skip(f"cannot make {path} read-only as root here (chattr +i: {done.stderr.strip()})")
                undo.append(["chattr", "-i", str(path)])
            else:
                mode = path.stat().st_mode
                path.chmod(mode & ~0o222)
                undo.append((path, mode))
        probe = next(p for p in paths if p.is_dir()) / "probe"
        try:
            probe.touch()
        except OSError:
            return
        probe.unlink()
        pytest.skip("this system lets the test write into a read-only folder")

    yield apply
    for step in reversed(undo):
        if isinstance(step, list):
            subprocess.run(step, check=True)
        else:
            step[0].chmod(step[1])


# ---- a read-only location ------------------------------------------------------------------------------------
def test_a_store_on_read_only_media_can_still_be_read(tmp_path, read_only):
    path = tmp_path / "media" / "project.sqlite"
    run_id = saved_run(path)
    read_only(path, path.parent)
    before = listing(path.parent)

    db = Store(path)
    assert list(db.runs()["run_id"]) == [run_id] and db.run(run_id)["status"] == "complete"
    assert list(db.samples(run_id)["acc"]) == [1.0, 0.0]
    assert list(workbench.runs(store=path)["run_id"]) == [run_id]
    assert len(db.rating_events()) == 1

    with pytest.raises(WorkbenchError) as err:  # writing: one message naming the path and what to do
        lifecycle.start(db, SPEC)
    message = str(err.value)
    assert str(path) in message and "read-only" in message and "copy" in message and "damaged" not in message
    assert listing(path.parent) == before  # nothing created beside it (no -wal, -shm)


def test_an_old_store_on_read_only_media_is_read_without_upgrading(tmp_path, read_only):
    path = tmp_path / "media" / "project.sqlite"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    read_only(path, path.parent)
    runs = Store(path).runs()
    assert len(runs) > 0 and set(runs["status"]) <= {"complete", "failed", "interrupted"}
    assert listing(path.parent) == ["project.sqlite"]  # no backup, no upgrade


def test_a_new_store_in_a_read_only_folder_says_so(tmp_path, read_only):
    folder = tmp_path / "media"
    folder.mkdir()
    read_only(folder)
    with pytest.raises(WorkbenchError) as err:
        Store(folder / "project.sqlite")
    message = str(err.value)
    assert str(folder / "project.sqlite") in message and "read-only" in message and "damaged" not in message


def test_a_store_on_read_only_media_can_be_merged(tmp_path, read_only):
    theirs = tmp_path / "media" / "theirs.sqlite"
    saved_run(theirs)
    read_only(theirs, theirs.parent)
    tables = Store.read_tables(theirs)
    assert [r["value"] for r in tables["ratings"]] == ["4"] and len(tables["judged_items"]) == 1
    added = workbench.merge([theirs], store=tmp_path / "mine.sqlite")
    assert added.to_dict("records")[0]["ratings"] == 1


# ---- paths that cannot be a store --------------------------------------------------------------------------------
@pytest.mark.parametrize("inside", ["x.sqlite", "sub/dir/x.sqlite"])
def test_a_folder_in_the_path_that_is_a_file_gets_one_message(tmp_path, inside):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(WorkbenchError) as err:
        Store(tmp_path / "notes.txt" / inside)
    message = str(err.value)
    assert f"{tmp_path / 'notes.txt'} is a file, not a folder" in message and "store=" in message
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_reading_command_does_not_create_a_store(tmp_path):
    typo = tmp_path / "typo" / "dir" / "x.sqlite"
    with pytest.raises(WorkbenchError) as err:
        Store(typo, create=False)
    message = str(err.value)
    assert f"There is no project store at {typo}" in message and "nothing was created" in message
    assert "$WORKBENCH_STORE" in message and "workbench.sqlite" in message  # how the project's store is found
    assert not (tmp_path / "typo").exists()
    saved_run(tmp_path / "real.sqlite")
    assert len(Store(tmp_path / "real.sqlite", create=False).runs()) == 1


def test_workbench_runs_with_a_mistyped_store_says_so(tmp_path, capsys):
    from workbench import cli

    assert cli.main(["runs", "--store", str(tmp_path / "typo" / "dir" / "x.sqlite")]) == 2
    assert "There is no project store at" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


# ---- damaged cells -------------------------------------------------------------------------------------------
def test_one_corrupt_json_cell_does_not_hide_the_other_runs(tmp_path, capsys):
    path = tmp_path / "p.sqlite"
    good = saved_run(path)
    bad = lifecycle.save_complete(Store(path), lifecycle.RunSpec(**{**vars(SPEC), "key": 2}), [], {"acc": 1.0})
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE runs SET config = '{\"limit\": 2' WHERE run_id = ?", (bad,))  # cut short
    db.close()
    capsys.readouterr()

    runs = Store(path).runs().set_index("run_id")
    assert set(runs.index) == {good, bad} and runs.loc[good, "config"] == {"limit": 2}
    assert runs.loc[bad, "config"] is None and runs.loc[bad, "metrics"] == {"acc": 1.0}
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("workbench:")]
    assert len(notes) == 1 and bad in notes[0] and "config" in notes[0] and "not valid JSON" in notes[0]
    assert set(workbench.runs(store=path)["run_id"]) == {good, bad}  # `workbench runs` lists both
    assert Store(path).run(bad)["metrics"] == {"acc": 1.0}


def test_a_corrupt_sample_names_its_run_and_item(tmp_path):
    path = tmp_path / "p.sqlite"
    run_id = saved_run(path)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE samples SET record = 'not json' WHERE doc_id = 1")
    db.close()
    with pytest.raises(WorkbenchError) as err:
        Store(path).sample_records(run_id)
    assert f"run {run_id}" in str(err.value) and "item 1" in str(err.value) and str(path) in str(err.value)


# ---- a full disk -------------------------------------------------------------------------------------------------
FILL = """
import json, os, sys
from workbench.errors import WorkbenchError
from workbench.run import lifecycle
from workbench.store import Store

path = sys.argv[1]
spec = lifecycle.RunSpec(task="t", model="m", identity={}, source="s", data_fingerprint="d", template="", config={},
                         key={"call": 1}, command="c", n_items=10**6)
run = lifecycle.start(Store(path), spec)
out = {}
try:
    with run.recording():
        for i in range(10**6):  # until the disk is full
            run.save([{"doc_id": i, "pad": os.urandom(4000).hex()}])
except BaseException as exc:
    out["error"] = [type(exc).__name__, str(exc)]
db = Store(path)
out["status"] = db.run(run.run_id)["status"]
out["saved"] = len(db.done_doc_ids(run.run_id))
print(json.dumps(out))
"""


def test_a_full_disk_mid_run_gives_one_message_and_leaves_no_running_run(tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to mount a small file system")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = f'mount -t tmpfs -o size=2m tmpfs "{disk}" && exec "{sys.executable}" -c "$0" "{disk / "p.sqlite"}"'
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, textwrap.dedent(FILL)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 and "mount" in done.stderr and "Traceback" not in done.stderr:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    kind, message = out["error"]
    assert kind == "WorkbenchError", message
    assert "p.sqlite" in message and "full" in message and "run the same call again to resume" in message
    assert out["saved"] > 0  # what was saved before the disk filled is kept and readable
    assert out["status"] != "running"
