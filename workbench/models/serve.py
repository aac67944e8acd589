"""`transformers serve` on 127.0.0.1: a local model behind an OpenAI-compatible endpoint (tests, notebook 05,
and a local judge).

A server (about 1 GB) must not outlive the Python that started it, even one killed without running any exit
handler. Three things see to it:

* ``stop()``, the ``with`` block and an atexit handler stop it when Python ends normally;
* on Linux the server gets a parent-death signal (prctl PR_SET_PDEATHSIG, SIGKILL): the kernel kills it when
  the thread that started it ends, so this is set only when it is started from the main thread;
* each server is recorded in ``<cache dir>/servers/<pid>.json`` with the process that owns it; every
  ``start()`` first stops the servers whose owner is gone (one ``workbench:`` line on stderr for each).

The server runs in a session of its own, so a terminal's Ctrl-C reaches only Python, which stops it.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError, notice
from ..processes import HOST, alive, process_start
from ..settings import cache_dir
from .openai import PREFIX
from .registry import DEFAULT_MODEL, dequantized_dir, resolve

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def records_dir() -> Path:
    """Where running servers are recorded: ``<cache dir>/servers``."""
    return cache_dir() / "servers"


def _tie_to_this_thread() -> Any:
    """A preexec_fn that has the kernel kill the child when the calling thread ends (Linux), or None.

    Returned only for the main thread: the parent-death signal follows the thread that forked, so a server
    started from a worker thread would die with that thread, not with Python; the record covers that case.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: nothing is imported after the fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def tie() -> None:  # in the child, between fork and exec
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # Python died before the signal was set: nobody would stop this server
            os._exit(1)

    return tie


def stop_stale_servers() -> list[int]:
    """Stop every recorded server of this machine whose owning Python is gone; returns their pids.

    A server is recognised by its pid and start time, so a pid reused by another program is never touched;
    records of servers that already ended are removed.
    """
    stopped: list[int] = []
    try:
        records = sorted(records_dir().glob("*.json"))
    except OSError:
        return stopped
    for path in records:
        try:
            record = json.loads(path.read_text())
            pid, start = int(record["pid"]), record.get("start")
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # unreadable: written half-way by a process that died
            continue
        if record.get("host") != HOST:
            continue  # a cache folder shared between machines: not ours to judge
        if not alive(pid, start):
            path.unlink(missing_ok=True)
            continue
        if alive(int(record.get("owner", 0)), record.get("owner_start")):
            continue  # its Python is still running: its server, not stale
        _end_group(pid, start)
        path.unlink(missing_ok=True)
        stopped.append(pid)
        notice(
            f"stopped a `transformers serve` left running by a Python that ended (server pid {pid}, "
            f"port {record.get('port')}, model {record.get('model')}; its Python was pid {record.get('owner')})."
        )
    return stopped


def _end_group(pid: int, start: str | None, grace: float = 10.0) -> None:
    """SIGTERM the server's process group, then SIGKILL it if the server is still there after ``grace`` s."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        if not alive(pid, start):
            return
        try:
            os.killpg(pid, sig)  # the server leads its own session and group
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and alive(pid, start):
            time.sleep(0.05)


class LocalServer:
    """`transformers serve` on 127.0.0.1 answering for a local model: an OpenAI-compatible endpoint with no key.

        with LocalServer("smollm2-135m") as server:      # the default model's weights
            workbench.judge(run, judge=server.spec)

    ``spec`` is the ``openai:MODEL@URL`` spec that reaches it. Needs ``pip install "transformers[serving]"``
    (or this package's ``serve`` extra); it is stopped by ``stop()``, on leaving the ``with`` block, or when
    Python exits, even by a crash or SIGKILL (see the module docstring). ``threads`` sets the server's CPU
    threads (OMP_NUM_THREADS; default: inherited): 1 is fastest for a small model on a shared CPU. The server's
    output goes to ``log_path``.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        port: int | None = None,
        threads: int | None = None,
        startup_timeout: float = 300.0,
    ):
        self.model = model or DEFAULT_MODEL
        self.port = port
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.process: Any = None
        self.log_path: str | None = None
        self.record_path: Path | None = None
        self.source = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def spec(self) -> str:
        return f"{PREFIX}{self.source}@{self.url}"

    @property
    def command(self) -> list[str]:
        """What is run: the `transformers serve` command line (as python -m, so no PATH lookup is needed)."""
        import sys

        return [sys.executable, "-m", "transformers.cli.transformers", "serve", self.source]

    def start(self) -> LocalServer:
        """Start the server and wait until it lists its model; a clear error if it cannot start."""
        import importlib.util
        import socket
        import subprocess
        import tempfile

        import httpx

        missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
        if missing:
            raise WorkbenchError(
                f'`transformers serve` needs {", ".join(missing)}: pip install "transformers[serving]" '
                '(or pip install -e ".[serve]" in this project).'
            )
        stop_stale_servers()  # left by a Python that was killed before it could stop them
        spec = resolve(self.model)
        if spec.kind == "api":
            raise WorkbenchError(f"{self.model} is already behind an endpoint; serve a local model instead.")
        self.source = str(dequantized_dir(spec)) if spec.kind == "gguf" else spec.location
        if " " in self.source or "@" in self.source:
            raise WorkbenchError(f"Cannot serve from {self.source!r}: the path must not contain spaces or '@'.")
        if self.port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
        log = tempfile.NamedTemporaryFile("w", prefix="transformers-serve-", suffix=".log", delete=False)
        self.log_path = log.name
        argv = [*self.command, "--host", "127.0.0.1", "--port", str(self.port)]
        env = {**os.environ, **({"OMP_NUM_THREADS": str(self.threads)} if self.threads else {})}
        self.process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # its own process group: stop() ends all of it, Ctrl-C reaches only Python
            preexec_fn=_tie_to_this_thread(),  # killed by the kernel if this Python dies
        )
        log.close()
        atexit.register(self.stop)  # a kernel that exits without stop() does not leave the server behind
        self._record()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WorkbenchError(f"`transformers serve` exited with code {self.process.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        self.stop()
        raise WorkbenchError(f"`transformers serve` did not answer within {self.startup_timeout:g} s: {self.log()}")

    def log(self, chars: int = 1500) -> str:
        """The end of the server's output."""
        try:
            with open(self.log_path or "", encoding="utf-8", errors="replace") as f:
                return " ".join(f.read()[-chars:].split())
        except OSError:
            return "(no log)"

    def _record(self) -> None:
        """Write down the server and its owner, for the next start to find should this Python die."""
        me = os.getpid()
        record = {
            "pid": self.process.pid,
            "start": process_start(self.process.pid),
            "owner": me,
            "owner_start": process_start(me),
            "host": HOST,
            "port": self.port,
            "model": self.source,
            "log": self.log_path,
        }
        path = records_dir() / f"{self.process.pid}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record))
        except OSError:  # a read-only cache: the parent-death signal and atexit still stop it
            return
        self.record_path = path

    def stop(self) -> None:
        """Stop the server and its process group (and wait for them to exit)."""
        import subprocess

        if self.process is not None and self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, None)):
                try:
                    os.killpg(self.process.pid, sig)
                except (ProcessLookupError, PermissionError):
                    self.process.send_signal(sig)
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.record_path is not None:
            self.record_path.unlink(missing_ok=True)
            self.record_path = None
        self.process = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process is not None and self.process.poll() is None else "stopped"
        return f"LocalServer({self.model!r}, {self.url if self.port else 'no port yet'}, {state})"
