"""A run knows its writer: a run whose process died shows as 'interrupted' (and the same call resumes it), and a
second process making the same call while the first still writes is refused with the first's pid and the two
choices (wait, or a separate run), instead of sharing the run and adding up both processes' times.

The writers here are real processes (child Pythons); no model is needed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from workbench.errors import WorkbenchError
from workbench.run import lifecycle
from workbench.store import Store, liveness

from .conftest import REPO

SPEC = lifecycle.RunSpec(
    task="t", model="m", identity={}, source="s", data_fingerprint="d", template="", config={},
    key={"same": "call"}, command="c", n_items=4,
)  # fmt: skip
OPEN = """
import os, signal, sys
from workbench.run import lifecycle
from workbench.store import Store
spec = lifecycle.RunSpec(task="t", model="m", identity={{}}, source="s", data_fingerprint="d", template="",
                         config={{}}, key={{"same": "call"}}, command="c", n_items=4)
db = Store({path!r})
run = lifecycle.start(db, spec)
"""


def child_code(path, body: str) -> str:
    return textwrap.dedent(OPEN).format(path=str(path)) + textwrap.dedent(body)


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def raw(path, sql: str, *args) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, args)
    db.close()


def test_a_run_whose_process_was_killed_shows_as_interrupted_and_resumes(project, capsys):
    path = project / "project.sqlite"
    code = child_code(
        path,
        """
        with run.recording():
            run.save([{"doc_id": 0}, {"doc_id": 1}])
            print(run.run_id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)  # a crash: nothing records how the run ended
        """,
    )
    done = subprocess.run([sys.executable, "-c", code], env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    run_id = done.stdout.split()[0]

    db = Store(path)
    (row,) = db.runs().to_dict("records")
    assert row["run_id"] == run_id and row["status"] == "interrupted"
    assert "ended without finishing it" in row["error"]
    assert db.run(run_id)["status"] == "interrupted"

    run = lifecycle.start(db, SPEC)  # the same call resumes it
    assert run.run_id == run_id and run.resumed and run.done == {0, 1}
    assert f"Resuming run {run_id}: 2 of 4 items already scored" in capsys.readouterr().out
    with run.recording():
        assert db.run(run_id)["status"] == "running"  # written by this process now
        run.save([{"doc_id": 2}, {"doc_id": 3}])
    run.finish({"n": 4})
    assert db.run(run_id)["status"] == "complete" and len(db.sample_records(run_id)) == 4


def test_a_second_process_is_refused_while_the_first_writes(project):
    path = project / "project.sqlite"
    code = child_code(
        path,
        """
        with run.recording():
            run.save([{"doc_id": 0}])
            print(run.run_id, os.getpid(), flush=True)
            sys.stdin.read()  # working until the test closes stdin
        run.finish({"n": 1})
        """,
    )
    first = subprocess.Popen(
        [sys.executable, "-c", code], env=env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        run_id, pid = first.stdout.readline().split()
        db = Store(path)
        assert db.run(run_id)["status"] == "running"  # live: its process is there and recording
        with pytest.raises(WorkbenchError) as err:
            lifecycle.start(db, SPEC)
        message = str(err.value)
        assert run_id in message and f"process {pid}" in message
        assert "wait" in message and "separate=True" in message

        separate = lifecycle.start(db, SPEC, separate=True)  # explicitly: a run of its own, not a share of the first
        assert separate.run_id != run_id and not separate.resumed and separate.done == set()
        with separate.recording():
            separate.save([{"doc_id": 0}, {"doc_id": 1}])
        separate.finish({"n": 2})
    finally:
        first.stdin.close()
        first.wait(60)
    assert first.returncode == 0
    runs = {r["run_id"]: r for r in Store(path).runs().to_dict("records")}
    assert {r["status"] for r in runs.values()} == {"complete"}
    assert len(Store(path).sample_records(run_id)) == 1  # nothing of the second process in the first's run


def test_a_writer_on_another_machine_is_live_while_its_heartbeat_is_fresh(project):
    db = Store()
    run = lifecycle.start(db, SPEC)
    raw(db.path, "UPDATE runs SET writer_host = 'gpu-box', writer_pid = 4242, writer_start = NULL")

    raw(db.path, "UPDATE runs SET heartbeat_at = ?", time.time() - 5)
    assert db.run(run.run_id)["status"] == "running"
    with pytest.raises(WorkbenchError, match="process 4242 on gpu-box"):
        lifecycle.start(db, SPEC)

    raw(db.path, "UPDATE runs SET heartbeat_at = ?", time.time() - liveness.STALE_S - 5)
    row = db.run(run.run_id)
    assert row["status"] == "interrupted" and "no sign of life from its process 4242 on gpu-box" in row["error"]
    assert lifecycle.start(db, SPEC).run_id == run.run_id  # taken over and resumed


def test_a_recording_run_keeps_its_heartbeat_fresh(project, monkeypatch):
    monkeypatch.setattr(liveness, "HEARTBEAT_S", 0.05)
    db = Store()
    run = lifecycle.start(db, SPEC)
    first = db.run(run.run_id)["heartbeat_at"]
    with run.recording():
        time.sleep(0.6)  # no save meanwhile: only the heartbeat thread writes
        assert db.run(run.run_id)["heartbeat_at"] > first
    run.finish({})


def test_a_run_left_running_by_this_process_is_not_live(project):
    """A run this process opened but no longer records (its end could not be written) is not 'running'."""
    db = Store()
    run = lifecycle.start(db, SPEC)
    with run.recording():
        assert db.run(run.run_id)["status"] == "running"
    assert db.run(run.run_id)["status"] == "interrupted"  # neither finished nor failed, and nobody writes it
    assert lifecycle.start(db, SPEC, quiet=True).run_id == run.run_id


def test_a_writer_whose_run_was_taken_over_stops(project):
    db = Store()
    run = lifecycle.start(db, SPEC)
    with run.recording():
        run.save([{"doc_id": 0}])
        raw(db.path, "UPDATE runs SET writer_token = 'another', writer_pid = 4242")  # resumed elsewhere
        with pytest.raises(WorkbenchError, match="taken over by process 4242"):
            run.save([{"doc_id": 1}])
    assert [r["doc_id"] for r in db.sample_records(run.run_id)] == [0]


def test_a_running_run_from_before_writers_were_recorded_is_interrupted(project):
    db = Store()
    run = lifecycle.start(db, SPEC)
    raw(db.path, "UPDATE runs SET writer_pid = NULL, writer_host = NULL, writer_start = NULL, writer_token = NULL")
    row = db.run(run.run_id)
    assert row["status"] == "interrupted" and "older workbench" in row["error"]
    assert lifecycle.start(db, SPEC, quiet=True).run_id == run.run_id
