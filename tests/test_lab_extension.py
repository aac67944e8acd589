"""The JupyterLab extension's server side (extensions/jupyterlab-workbench): its endpoints on a real `jupyter
server` on 127.0.0.1 with a token, and the pieces below them.

Checked against a real server: every endpoint needs Jupyter's authentication (403 without the token); only
store files under the server's root are read ('..', a store path outside, a symlink out of the root and
$WORKBENCH_STORE outside are refused with 403); the JSON has the shape the front end reads (no NaN); a store
being written by another process while the sidebar polls it gives whole, growing answers; and reading writes
nothing to the store file. Without a server: the committed labextension build matches its sources, a store
opened to browse is never created or upgraded, and the result bundle the notebook publishes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from workbench.errors import WorkbenchError
from workbench.store import Store

REPO = Path(__file__).resolve().parents[1]
EXT = REPO / "extensions" / "jupyterlab-workbench"
SCRIPT = "<script>window.__pwned = 1</script>"


# ---- a store written through the store layer (tiny fixtures: no model) -------------------------------------
def record(doc_id: int, right: bool, output: str = "") -> dict:
    choices = [f"answer {doc_id}", output or f"other {doc_id}"]  # a wrong answer picks the second
    return {"doc_id": doc_id, "gold": 0, "pred": 0 if right else 1, "acc": float(right), "choices": choices,
            "prompt": f"Question: item {doc_id}?\nAnswer:", "item_fp": f"fp{doc_id:04d}"}  # fmt: skip


def add_run(store: Store, model: str, rights: list[bool], *, finish: bool = True, script_at: int | None = None) -> str:
    fields = dict(
        task="arc_easy", model=model, model_identity={"name": model}, data_source="mirror:test",
        data_fingerprint="sha256:test", prompt_template="Question: {q}\nAnswer:", config={"limit": len(rights)},
        versions={"workbench": "test"}, command=f"%llm_eval arc_easy --model {model} --limit {len(rights)}",
        n_items=len(rights),
    )  # fmt: skip
    run_id = store.create_run(run_key=secrets.token_hex(8), **fields)
    store.add_samples(run_id, [record(i, r, SCRIPT if i == script_at else "") for i, r in enumerate(rights)])
    if finish:
        acc = sum(rights) / len(rights)
        store.finish_run(run_id, {"acc": acc, "acc_stderr": 0.1, "acc_ci95": [acc - 0.2, acc + 0.2],
                                  "odd": float("nan"), "n": len(rights)})  # fmt: skip
    return run_id


# ---- without a server ----------------------------------------------------------------------------------------
def sources_hash() -> str:
    """As scripts/stamp.js computes it after `jlpm build:prod`."""
    files = sorted(
        [p for d in ("src", "style") for p in (EXT / d).rglob("*") if p.is_file()] + [EXT / "package.json"],
        key=lambda p: p.relative_to(EXT).as_posix(),
    )
    h = hashlib.sha256()
    for p in files:
        h.update((p.relative_to(EXT).as_posix() + "\n").encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def test_committed_labextension_is_built_from_the_sources():
    built = EXT / "jupyterlab_workbench" / "labextension"
    assert (built / "static" / "style.js").is_file() and (built / "package.json").is_file()
    assert (built / "sources.sha256").read_text().strip() == sources_hash(), (
        "the committed labextension is older than src/, style/ or package.json: run `jlpm build:prod` in "
        "extensions/jupyterlab-workbench (Node 20) and commit jupyterlab_workbench/labextension/"
    )
    meta = json.loads((built / "package.json").read_text())
    assert meta["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")
    assert meta["jupyterlab"]["_build"]["mimeExtension"] and meta["jupyterlab"]["_build"]["extension"]


def test_front_end_never_parses_store_text_as_html():
    """Every element is built with textContent (src/dom.ts); no source file may use an HTML sink."""
    sinks = ("innerHTML", "outerHTML", "insertAdjacentHTML", "dangerouslySetInnerHTML", "document.write", "eval(")
    sources = sorted((EXT / "src").rglob("*.ts"))
    assert sources
    found = [f"{p.name}: {s}" for p in sources for s in sinks if s in p.read_text()]
    assert not found, found


def test_browse_store_never_creates_or_upgrades(tmp_path):
    from workbench.store.browse import BrowseStore

    missing = tmp_path / "none" / "workbench.sqlite"
    with pytest.raises(WorkbenchError, match="no project store"):
        BrowseStore(missing)
    assert not missing.parent.exists()
    old = tmp_path / "old.sqlite"
    shutil.copy(REPO / "tests" / "fixtures" / "project_v0.sqlite", old)
    before = old.read_bytes()
    with pytest.raises(WorkbenchError, match="older workbench"):
        BrowseStore(old)
    assert old.read_bytes() == before and not list(tmp_path.glob("old.sqlite.v*"))
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (x)")
    with pytest.raises(WorkbenchError, match="another program"):
        BrowseStore(other)


def test_browse_store_reads_progress_and_ratings(tmp_path):
    from workbench.store.browse import BrowseStore

    store = Store(tmp_path / "p.sqlite")
    done = add_run(store, "m1", [True, False, True])
    running = add_run(store, "m2", [True, True], finish=False)
    store.add_items([{"item_key": f"k{i}", "item_id": str(i), "model": "m1", "source": done} for i in range(2)])
    for annotator, key in (("ann", "k0"), ("ann", "k1"), ("bob", "k0")):
        store.add_rating(item_key=key, rubric="1-5", scale=list("12345"), annotator=annotator, action="rate", value="4")
    store.add_rating(item_key="k1", rubric="1-5", scale=list("12345"), annotator="eve", action="skip")
    browse = BrowseStore(tmp_path / "p.sqlite")
    rows = {r["run_id"]: r for r in browse.run_rows()}
    assert rows[done]["status"] == "complete" and rows[done]["n_scored"] == 3
    # not being recorded by any process now (this one opened it and went on): interrupted, 2 items saved
    assert rows[running]["status"] == "interrupted" and rows[running]["n_scored"] == 2
    assert browse.rating_counts() == {done: {"annotators": 2, "ratings": 3}}


def test_paths_are_confined_to_the_root(tmp_path):
    sys.path.insert(0, str(EXT))
    try:
        from jupyterlab_workbench.paths import Refused, store_for
    finally:
        sys.path.remove(str(EXT))
    root = tmp_path / "root"
    (root / "nb").mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    outside = tmp_path / "secret.sqlite"
    outside.write_bytes(b"")
    (root / "link.sqlite").symlink_to(outside)
    os.environ.pop("WORKBENCH_STORE", None)  # the autouse fixture's; restored by monkeypatch after the test
    assert store_for(root, "nb") == (root / "workbench.sqlite").resolve()  # the project root's, as the kernel's
    for bad in ({"folder": "../"}, {"folder": "nb/../.."}, {"store": "link.sqlite"}, {"store": "../secret.sqlite"}):
        with pytest.raises(Refused):
            store_for(root, **bad)


def test_result_bundle_beside_the_html():
    import pandas as pd

    from workbench.views.bundle import MIME, result_bundle

    raw = pd.DataFrame([{"task": "arc_easy", "metric": "acc", "value": 0.6, "stderr": 0.24, "ci95_low": 0.12,
                         "ci95_high": 1.0, "n": 5, "model": SCRIPT, "seconds": float("nan")}])  # fmt: skip
    shown = raw.assign(value=["0.60 ± 0.24 [0.12, 1.00]"])
    bundle = result_bundle(shown, raw, "arc_easy | m")
    assert MIME == "application/vnd.llm-workbench.result+json"
    assert bundle["columns"][:3] == ["task", "metric", "value"]
    assert bundle["rows"][0][2] == "0.60 ± 0.24 [0.12, 1.00]" and bundle["rows"][0][-1] is None
    assert bundle["chart"] == [{"label": "arc_easy acc", "value": 0.6, "low": 0.12, "high": 1.0}]
    json.dumps(bundle, allow_nan=False)


# ---- against a real jupyter server ---------------------------------------------------------------------------
def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root: Path, env: dict[str, str]):
        self.root, self.port, self.token = root, free_port(), secrets.token_hex(16)
        cmd = [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}"]  # fmt: skip
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log = root.parent / f"server-{self.port}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if self.get("/api/status")[0] == 200:
                    return
            except OSError:
                pass
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.3)
        raise AssertionError(f"jupyter server did not start: {self.log.read_text()}")

    def get(self, path: str, token: bool = True, **params: str) -> tuple[int, dict]:
        query = urllib.parse.urlencode(params)
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}" + (f"?{query}" if query else ""))
        if token:
            req.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                body = r.read().decode()
                return r.status, json.loads(body) if body else {}
        except urllib.error.HTTPError as e:
            body = e.read().decode()
            try:
                return e.code, json.loads(body)
            except ValueError:
                return e.code, {"text": body}

    def api(self, name: str, **params: str) -> tuple[int, dict]:
        return self.get(f"/jupyterlab-workbench/{name}", **params)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_STORE"}
    return {**env, "JUPYTER_RUNTIME_DIR": extra.pop("runtime"), **extra}


@pytest.fixture
def lab(tmp_path):
    assert importlib.util.find_spec("jupyterlab_workbench") is not None, (
        "the extension is not installed: SKIP_JUPYTER_BUILDER=1 pip install -e extensions/jupyterlab-workbench"
    )
    root = tmp_path / "root"
    (root / "nb").mkdir(parents=True)
    (root / "pyproject.toml").write_text("")  # the project's root: the kernel's store is root/workbench.sqlite
    server = Server(root, server_env(runtime=str(tmp_path / "runtime")))
    yield server
    server.stop()


@pytest.mark.integration
def test_endpoints_need_the_token(lab):
    Store(lab.root / "workbench.sqlite")
    for name in ("runs", "run", "items", "compare"):
        status, _ = lab.get(f"/jupyterlab-workbench/{name}", token=False, dir="nb", id="x", a="x", b="y")
        assert status == 403, name
    wrong = urllib.request.Request(f"http://127.0.0.1:{lab.port}/jupyterlab-workbench/runs?dir=nb")
    wrong.add_header("Authorization", "token " + "0" * 32)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(wrong, timeout=30)
    assert e.value.code == 403
    status, _ = lab.api("runs", dir="nb")
    assert status == 200


@pytest.mark.integration
def test_runs_run_items_and_compare_json(lab):
    store_file = lab.root / "workbench.sqlite"
    store = Store(store_file)
    a = add_run(store, "model-a", [True, False, True, False, True], script_at=1)
    b = add_run(store, "model-b", [True, True, True, False, False])
    running = add_run(store, "model-c", [True, True], finish=False)
    before = hashlib.sha256(store_file.read_bytes()).hexdigest()

    status, data = lab.api("runs", dir="nb")  # the notebook's folder: the kernel finds root/workbench.sqlite
    assert status == 200, data
    assert Path(data["store"]) == store_file.resolve()
    runs = {r["run_id"]: r for r in data["runs"]}
    assert [r["run_id"] for r in data["runs"]] == [running, b, a]  # newest first
    assert runs[a]["headline"] == {"metric": "acc", "value": 0.6, "stderr": 0.1, "ci95": [pytest.approx(0.4), 0.8]}
    assert runs[a]["status"] == "complete" and runs[a]["n_items"] == 5 and runs[a]["annotators"] == 0
    # the server's process is not the writer: its run shows as interrupted once the writer's heartbeat is old,
    # but this test process is alive and recent, so it is running with its progress
    assert runs[running]["status"] == "running" and runs[running]["progress"] == 1.0
    assert runs[running]["headline"] is None

    status, run = lab.api("run", dir="nb", id=a)
    assert status == 200
    assert [m["name"] for m in run["metrics"]] == ["acc", "odd"] and run["metrics"][1]["value"] is None  # NaN
    assert run["rerun"] == "%llm_eval arc_easy --model model-a --limit 5"
    assert run["settings"]["config"] == {"limit": 5} and run["settings"]["data_fingerprint"] == "sha256:test"

    status, page = lab.api("items", dir="nb", id=a, wrong="1")
    assert status == 200 and page["correct_by"] == "acc"
    assert page["total"] == 5 and page["wrong"] == 2 and [i["doc_id"] for i in page["items"]] == [1, 3]
    assert page["items"][0]["output"] == SCRIPT  # the text as saved; the front end shows it as text
    assert page["items"][0]["reference"] == "answer 1" and page["items"][0]["correct"] is False
    status, page = lab.api("items", dir="nb", id=a, offset="3", limit="10")
    assert [i["doc_id"] for i in page["items"]] == [3, 4] and page["matched"] == 5
    status, page = lab.api("items", dir="nb", id=a, q="ITEM 4")
    assert [i["doc_id"] for i in page["items"]] == [4]

    status, c = lab.api("compare", dir="nb", a=a, b=b)
    assert status == 200, c
    assert c["metric"] == "acc" and c["table"]["shared_items"] == 5
    assert c["table"]["b_minus_a"] == pytest.approx(0.0) and c["n_flips"] == 2
    assert {f["direction"] for f in c["flips"]} == {"A better", "B better"}

    status, bad = lab.api("run", dir="nb", id="nope")
    assert status == 400 and "No run 'nope'" in bad["message"]
    status, bad = lab.api("items", dir="nb", id=a, limit="0")
    assert status == 400 and "limit" in bad["message"]
    assert hashlib.sha256(store_file.read_bytes()).hexdigest() == before  # reading wrote nothing to the store


@pytest.mark.integration
def test_paths_outside_the_root_are_refused(lab, tmp_path):
    outside = tmp_path / "secret.sqlite"
    add_run(Store(outside), "secret-model", [True])
    (lab.root / "nb" / "link.sqlite").symlink_to(outside)
    (lab.root / "away").symlink_to(tmp_path, target_is_directory=True)
    for params in ({"dir": "../"}, {"dir": "nb/../.."}, {"store": "nb/link.sqlite"}, {"dir": "away"},
                   {"store": "../secret.sqlite"}):  # fmt: skip
        status, data = lab.api("runs", **params)
        assert status == 403, (params, data)
        assert "secret-model" not in json.dumps(data) and "not read" in data["message"]
    status, data = lab.api("runs", store=str(outside))  # an absolute path is taken relative to the root
    assert status == 400 and "secret-model" not in json.dumps(data)
    status, data = lab.api("runs", dir="nb")  # no store in the root yet: a message, nothing created
    assert status == 400 and "no project store" in data["message"]
    assert not (lab.root / "workbench.sqlite").exists()


@pytest.mark.integration
def test_workbench_store_outside_the_root_is_refused(tmp_path):
    outside = tmp_path / "elsewhere.sqlite"
    add_run(Store(outside), "m", [True])
    root = tmp_path / "root"
    root.mkdir()
    server = Server(root, server_env(runtime=str(tmp_path / "rt"), WORKBENCH_STORE=str(outside)))
    try:
        status, data = server.api("runs", dir="")
        assert status == 403 and "outside the folder" in data["message"]
    finally:
        server.stop()


WRITER = """
import secrets, sys, time
sys.path.insert(0, {tests!r})
from test_lab_extension import record
from workbench.store import Store
store = Store({path!r})
fields = dict(task="arc_easy", model="writer", model_identity={{}}, data_source="d", data_fingerprint="f",
              prompt_template="", config={{}}, versions={{}}, command="writer", n_items=300)
run_id = store.create_run(run_key=secrets.token_hex(8), **fields)
print(run_id, flush=True)
for i in range(0, 300, 3):
    store.add_samples(run_id, [record(j, j % 2 == 0) for j in range(i, i + 3)])
    time.sleep(0.02)
store.finish_run(run_id, {{"acc": 0.5, "acc_stderr": 0.03, "acc_ci95": [0.44, 0.56], "n": 300}})
"""


@pytest.mark.integration
def test_a_store_being_written_while_it_is_read(lab):
    path = lab.root / "workbench.sqlite"
    Store(path)
    code = WRITER.format(tests=str(REPO / "tests"), path=str(path))
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        run_id = writer.stdout.readline().strip()
        seen: list[int] = []
        statuses = set()
        while True:
            status, data = lab.api("runs", dir="nb")
            assert status == 200, data
            (run,) = [r for r in data["runs"] if r["run_id"] == run_id]
            seen.append(run["n_scored"])
            statuses.add(run["status"])
            status, page = lab.api("items", dir="nb", id=run_id, limit="500")
            assert status == 200 and page["total"] == len(page["items"]) and page["total"] % 3 == 0  # whole saves
            if run["status"] == "complete":
                break
            assert writer.poll() is None or writer.returncode == 0
        assert writer.wait(60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
    assert seen == sorted(seen) and seen[-1] == 300 and len(set(seen)) > 2  # progress seen growing
    assert "running" in statuses and run["headline"]["value"] == 0.5
