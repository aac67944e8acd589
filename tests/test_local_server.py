"""A LocalServer does not outlive the Python that started it: killed with SIGKILL (no atexit, no `with` exit),
its server goes too (parent-death signal), and a server that was left behind anyway is found and stopped by
the next start (a record under the cache folder).

The fast tests run LocalServer.start() in a child Python with a stand-in server command (a few lines of
http.server answering /v1/models), so no model is loaded; one integration test does the same with the real
`transformers serve`.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from .conftest import REPO, needs_model

needs_serving = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("fastapi", "uvicorn")),
    reason='LocalServer needs pip install "transformers[serving]"',
)
linux = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process checks read /proc (Linux)")

STAND_IN = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"{}")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[-1])), H).serve_forever()
"""

CHILD = """
import os, signal, sys, threading
from workbench.models.serve import LocalServer

class StandIn(LocalServer):
    @property
    def command(self):
        return [sys.executable, "-c", {stand_in!r}]

def start():
    server = {cls}({model!r}, startup_timeout=60).start()
    print("server", server.process.pid, flush=True)

if {in_thread!r}:
    worker = threading.Thread(target=start)
    worker.start()
    worker.join()
else:
    start()
{then}
"""
DIE = "os.kill(os.getpid(), signal.SIGKILL)  # no atexit handler, no `with` exit: a crash"


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def server_pid(stdout: str) -> int:
    """The pid the child printed on its `server PID` line (other lines: the workbench's own output)."""
    (line,) = [line for line in stdout.splitlines() if line.startswith("server ")]
    return int(line.split()[1])


def child(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def model_dir(tmp_path, monkeypatch) -> Path:
    """A folder LocalServer accepts as a transformers model (the stand-in never reads it); records go to a
    cache folder of this test's own."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def stand_in(model: Path, *, in_thread: bool = False, then: str = DIE) -> str:
    return textwrap.dedent(CHILD).format(
        stand_in=STAND_IN, cls="StandIn", model=str(model), in_thread=in_thread, then=then
    )


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@linux
@needs_serving
def test_the_server_goes_when_its_python_is_killed(model_dir):
    done = child(stand_in(model_dir))
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    server = server_pid(done.stdout)
    try:
        assert gone_within(server, 5), f"the server (pid {server}) outlived the Python that started it"
    finally:
        kill(server)


@linux
@needs_serving
def test_a_server_left_behind_is_stopped_by_the_next_start(model_dir):
    # started from a worker thread, the server cannot be tied to that thread's life (the parent-death signal
    # follows the thread, not the process): only the record finds it once its Python is gone
    done = child(stand_in(model_dir, in_thread=True))
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    stale = server_pid(done.stdout)
    try:
        assert alive(stale)
        again = child(stand_in(model_dir, then="server = None"))  # a later start, which then exits normally
        assert again.returncode == 0, again.stderr[-2000:]
        assert gone_within(stale, 5), f"the server left behind (pid {stale}) is still running"
        lines = [line for line in again.stderr.splitlines() if line.startswith("workbench:")]
        assert len(lines) == 1 and str(stale) in lines[0] and "stopped" in lines[0], again.stderr[-2000:]
        assert gone_within(server_pid(again.stdout), 5)  # the later one stopped at its own exit (atexit)
        assert not list((model_dir.parent / "cache" / "servers").glob("*"))  # no record left
    finally:
        kill(stale)


@linux
@needs_serving
def test_a_live_pythons_server_is_left_alone(model_dir):
    owner = subprocess.Popen(
        [sys.executable, "-c", stand_in(model_dir, then="print('up', flush=True); sys.stdin.read()")],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        server = server_pid(owner.stdout.readline())
        assert owner.stdout.readline().strip() == "up"
        again = child(stand_in(model_dir, then="server = None"))
        assert again.returncode == 0, again.stderr[-2000:]
        assert alive(server) and "workbench:" not in again.stderr  # its owner is alive: not stale
    finally:
        owner.stdin.close()
        owner.wait(30)
    assert gone_within(server, 5)  # stopped when its owner exited


@linux
@needs_serving
@needs_model
@pytest.mark.integration
def test_the_real_server_goes_when_its_python_is_killed(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    code = textwrap.dedent(f"""
        import os, signal
        from workbench.models.serve import LocalServer
        server = LocalServer(threads=1, startup_timeout=300).start()
        print("server", server.process.pid, flush=True)
        {DIE}
    """)
    done = child(code, timeout=400)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    server = server_pid(done.stdout)
    try:
        assert gone_within(server, 10), f"`transformers serve` (pid {server}) outlived the Python that started it"
    finally:
        kill(server)
