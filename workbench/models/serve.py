"""`transformers serve` on 127.0.0.1: a local model behind an OpenAI-compatible endpoint (tests, notebook 05,
and a local judge)."""

from __future__ import annotations

import atexit
import os
import time
from typing import Any

from ..errors import WorkbenchError
from .openai import PREFIX
from .registry import DEFAULT_MODEL, dequantized_dir, resolve


class LocalServer:
    """`transformers serve` on 127.0.0.1 answering for a local model: an OpenAI-compatible endpoint with no key.

        with LocalServer("smollm2-135m") as server:      # the default model's weights
            workbench.judge(run, judge=server.spec)

    ``spec`` is the ``openai:MODEL@URL`` spec that reaches it. Needs ``pip install "transformers[serving]"``
    (or this package's ``serve`` extra); it is stopped by ``stop()``, on leaving the ``with`` block, or when
    Python exits. ``threads`` sets the server's CPU threads (OMP_NUM_THREADS; default:
    inherited): 1 is fastest for a small model on a shared CPU. The server's output goes to ``log_path``.
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
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        log.close()
        atexit.register(self.stop)  # a kernel that exits without stop() does not leave the server behind
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

    def stop(self) -> None:
        """Stop the server (and wait for it to exit)."""
        import subprocess

        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process is not None and self.process.poll() is None else "stopped"
        return f"LocalServer({self.model!r}, {self.url if self.port else 'no port yet'}, {state})"
