"""Models behind an OpenAI-compatible endpoint: OpenAI, vLLM, TGI, llama.cpp's server, Ollama, `transformers serve`.

Specs: ``openai:gpt-4o-mini`` (OpenAI, or ``$OPENAI_BASE_URL`` when set) and ``openai:MODEL@http://host:port/v1``.

The key comes from the environment at the moment of each request and is kept nowhere else: not in the
spec, the run record, the model object or any message. ``OPENAI_API_KEY`` is sent only to OpenAI (or to
``$OPENAI_BASE_URL``, as the official client does); any other endpoint reads its own variable,
``WORKBENCH_API_KEY_<HOST>_<PORT>`` (see :func:`key_variable`), and gets no key when that is unset.

Only chat completions are used: chat endpoints return no log-probabilities for the prompt, so this backend
answers generation requests and refuses log-likelihood ones with an explanation.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from ..engine.concurrency import as_finished
from ..errors import WorkbenchError
from .base import (
    API,
    SERVED_MODEL,
    SYSTEM_FINGERPRINT,
    Capabilities,
    GenerateRequest,
    GenerateResponse,
    LoglikelihoodRequest,
    LoglikelihoodResponse,
    Progress,
)

log = logging.getLogger(__name__)

PREFIX = "openai:"
OPENAI_URL = "https://api.openai.com/v1"
OPENAI_KEY = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
CONCURRENCY_ENV = "WORKBENCH_API_CONCURRENCY"
TIMEOUT_ENV = "WORKBENCH_API_TIMEOUT"
RETRIES_ENV = "WORKBENCH_API_RETRIES"
SPEC = re.compile(r"^openai:(?P<model>[^@\s]+?)(?:@(?P<url>https?://\S+))?$")
RETRY_STATUS = {408, 409, 429}  # and every 5xx


def is_api_spec(spec: str) -> bool:
    """True for ``openai:...`` specs."""
    return spec.strip().startswith(PREFIX)


def parse_spec(spec: str) -> tuple[str, str]:
    """(model id, base URL) of an ``openai:`` spec, or a message naming the accepted forms."""
    m = SPEC.match(spec.strip())
    if not m:
        raise WorkbenchError(
            f"Cannot read the API model spec {spec!r}. Write `openai:MODEL` (OpenAI, or $OPENAI_BASE_URL when set) "
            "or `openai:MODEL@http://HOST:PORT/v1` for another OpenAI-compatible server (vLLM, TGI, Ollama, "
            "llama.cpp, transformers serve)."
        )
    url = (m["url"] or os.environ.get(BASE_URL_ENV) or OPENAI_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.username or parts.password:
        clean = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
        raise WorkbenchError(
            f"The endpoint URL of {m['model']!r} carries credentials. Remove them from the URL and put the key in "
            f"${key_variable(clean)} instead; keys are never written into model specs or run records."
        )
    return m["model"], url


def key_variable(base_url: str) -> str:
    """The environment variable holding the key for ``base_url``.

    OpenAI (and ``$OPENAI_BASE_URL``): ``OPENAI_API_KEY``. Elsewhere ``WORKBENCH_API_KEY_`` + host and port in
    capitals with other characters as ``_``: http://127.0.0.1:8000/v1 -> ``WORKBENCH_API_KEY_127_0_0_1_8000``.
    """
    parts = urlsplit(base_url)
    if parts.hostname == "api.openai.com" or base_url.rstrip("/") == (os.environ.get(BASE_URL_ENV) or "").rstrip("/"):
        return OPENAI_KEY
    where = f"{parts.hostname}_{parts.port}" if parts.port else str(parts.hostname)
    return "WORKBENCH_API_KEY_" + re.sub(r"[^A-Za-z0-9]+", "_", where).upper().strip("_")


def refusal(spec: str, what: str = "log-likelihood scoring") -> WorkbenchError:
    """Why an API model cannot score log-likelihoods, and what to do instead."""
    return WorkbenchError(
        f"{spec} is an API model, and {what} needs the log-probability of every prompt token, which chat "
        "endpoints do not return. Score this task by generation instead: `--mode generate` "
        "(mode='generate' in Python), or use a local model (an alias, .gguf file, directory or hub id)."
    )


def _env_number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise WorkbenchError(f"${name} must be a number of at least {minimum:g} (got {raw!r}).")
    return value


class OpenAIModel:
    """A chat-completions endpoint as a workbench Model (generation only).

    ``concurrency`` requests are in flight at once; timeouts, connection failures, 408/409/429 and 5xx
    answers and malformed bodies are retried ``max_retries`` times with exponential backoff (honouring
    Retry-After); 401/403 and 404 stop at once with a message naming the fix.

    ``timeout`` (``$WORKBENCH_API_TIMEOUT``, default 120 s) is a deadline for each attempt as a whole:
    connecting, sending and receiving the last byte of the answer. A server that trickles its answer (so no
    single read ever waits long) is given up on when the time is up, like a silent one.
    """

    def __init__(
        self,
        model: str,
        base_url: str = OPENAI_URL,
        *,
        name: str | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
    ):
        import httpx

        self.model = model
        self.base_url = base_url.rstrip("/")
        self.name = name or f"{PREFIX}{model}@{self.base_url}"
        self.key_env = key_variable(self.base_url)
        self.concurrency = int(concurrency or _env_number(CONCURRENCY_ENV, 4, 1))
        self.timeout = float(timeout or _env_number(TIMEOUT_ENV, 120.0, 0.001))
        self.max_retries = int(max_retries if max_retries is not None else _env_number(RETRIES_ENV, 5, 0))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._client = httpx.Client(timeout=self.timeout)
        if urlsplit(self.base_url).hostname == "api.openai.com" and not os.environ.get(self.key_env):
            raise WorkbenchError(
                f"{self.name} needs an API key: set ${self.key_env} in the environment (for example in the shell that "
                "starts Jupyter, or with os.environ in the notebook). Keys are read per request and never saved."
            )

    @classmethod
    def from_spec(cls, spec: str) -> OpenAIModel:
        model, url = parse_spec(spec)
        return cls(model, url, name=spec.strip())

    def __repr__(self) -> str:
        state = "set" if os.environ.get(self.key_env) else "not set"
        return f"OpenAIModel({self.model!r} at {self.base_url}, key from ${self.key_env} ({state}))"

    @property
    def capabilities(self) -> Capabilities:
        return replace(API, concurrency=self.concurrency)

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "api",
            "location": f"{self.model}@{self.base_url}",  # as registry.describe() gives it
            "model": self.model,
            "fingerprint": f"api:{self.model}@{self.base_url}",
            "backend": "openai-compatible",
            "key_variable": self.key_env,
        }

    # ---- log-likelihoods: refused ------------------------------------------------------------
    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], *, batch_size: int = 16, progress: Progress | None = None
    ) -> list[LoglikelihoodResponse]:
        raise refusal(self.name)

    def rolling_loglikelihood(self, texts: Sequence[str], *, progress: Progress | None = None) -> list[list[float]]:
        raise refusal(self.name, "perplexity (rolling log-likelihood)")

    # ---- generation ------------------------------------------------------------------------------
    def generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> list[GenerateResponse]:
        """Answers in request order. ``batch_size`` is ignored: ``concurrency`` sets the requests in flight."""
        out: list[GenerateResponse | None] = [None] * len(requests)
        for i, response in self.iter_generate(requests, progress=progress):
            out[i] = response
        return [r for r in out if r is not None]

    def iter_generate(
        self, requests: Sequence[GenerateRequest], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, GenerateResponse]]:
        """(index, response) pairs in the order they finish, so callers can save each before the next.

        At most ``concurrency`` requests are in flight; an interrupted caller loses only those.
        """
        calls = as_finished(lambda pair: self._complete(pair[1]), enumerate(requests), self.concurrency)
        for (i, _), response in calls:
            if progress:
                progress(1)
            yield i, response

    def _body(self, request: GenerateRequest) -> dict[str, Any]:
        messages = (
            [{"role": "user", "content": request.prompt}]
            if isinstance(request.prompt, str)
            else [dict(m) for m in request.prompt]
        )
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": request.temperature}
        # OpenAI's newer models take max_completion_tokens; other servers know max_tokens
        if urlsplit(self.base_url).hostname == "api.openai.com":
            body["max_completion_tokens"] = request.max_new_tokens
        else:
            body["max_tokens"] = request.max_new_tokens
        if request.stop:
            body["stop"] = list(request.stop)[:4]  # the API's limit; all stops are applied below as well
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _redact(self, text: str) -> str:
        key = os.environ.get(self.key_env)
        return text.replace(key, "***") if key else text

    def _complete(self, request: GenerateRequest) -> GenerateResponse:
        import httpx

        url = f"{self.base_url}/chat/completions"
        body = self._body(request)
        for attempt in range(self.max_retries + 1):
            started = time.monotonic()
            wait_s = None
            try:
                resp = self._post(url, body)
            except httpx.TimeoutException:
                reason = f"no complete answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                reason = f"could not connect ({type(exc).__name__}); is the server running?"
            else:
                status = resp.status_code
                if status == 200:
                    try:
                        return self._response(resp.json(), request, time.monotonic() - started, attempt + 1)
                    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                        reason = f"a malformed answer (not chat-completion JSON): {self._redact(resp.text[:200])!r}"
                elif status in (401, 403):
                    raise WorkbenchError(
                        f"{self.base_url} refused the request for {self.model!r} (HTTP {status}: "
                        f"{self._server_message(resp)}). Set ${self.key_env} to a valid key for this endpoint "
                        f"({'it is set but was not accepted' if os.environ.get(self.key_env) else 'it is not set'})."
                    )
                elif status == 404:
                    raise WorkbenchError(
                        f"{self.base_url} has no model {self.model!r} or no /chat/completions route (HTTP 404: "
                        f"{self._server_message(resp)}). Check the model name ({self.base_url}/models lists them) "
                        "and that the URL ends with the API root, usually /v1."
                    )
                elif status == 429 and "insufficient_quota" in resp.text:
                    raise WorkbenchError(
                        f"{self.base_url} says the account behind ${self.key_env} has no quota left (HTTP 429, "
                        "insufficient_quota); retrying will not help. Add credit or use another key."
                    )
                elif status in RETRY_STATUS or status >= 500:
                    reason = f"HTTP {status} ({self._server_message(resp)})"
                    wait_s = _retry_after(resp.headers.get("retry-after"))
                else:
                    raise WorkbenchError(
                        f"{self.base_url} rejected the request for {self.model!r} (HTTP {status}: "
                        f"{self._server_message(resp)})."
                    )
            if attempt == self.max_retries:
                raise WorkbenchError(
                    f"{self.name}: gave up after {attempt + 1} attempts; the last got {reason}. Answers already "
                    "received are saved: run the same call again to resume."
                )
            delay = min(self.max_backoff, wait_s if wait_s is not None else self.backoff * 2**attempt)
            delay *= 1 + 0.25 * random.random() if wait_s is None else 1
            log.warning("%s: %s; retry %d of %d in %.1f s", self.model, reason, attempt + 1, self.max_retries, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        """POST ``body`` and read the whole answer within ``self.timeout`` seconds, or raise httpx.TimeoutException.

        httpx's own timeouts limit each network operation, so an answer arriving one byte at a time never
        trips them. The exchange runs in a helper thread that stops at the first chunk past the deadline (or
        at a read that waits ``timeout``); this thread waits for it until the deadline and no longer.
        """
        import httpx

        deadline = time.monotonic() + self.timeout
        request = self._client.build_request("POST", url, json=body, headers=self._headers(), timeout=self.timeout)
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def exchange() -> None:
            try:
                resp = self._client.send(request, stream=True)
                try:
                    chunks = []
                    for chunk in resp.iter_raw():  # as sent: httpx.Response decodes it below
                        chunks.append(chunk)
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("the answer did not end before the deadline", request=request)
                finally:
                    resp.close()
                outcome["response"] = httpx.Response(
                    resp.status_code, headers=resp.headers, content=b"".join(chunks), request=request
                )
            except BaseException as exc:  # handed to the waiting thread, which raises it
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=exchange, name=f"{self.model}-request", daemon=True).start()
        if not done.wait(max(0.0, deadline - time.monotonic())):
            raise httpx.ReadTimeout(f"no complete answer within {self.timeout:g} s", request=request)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]

    def _server_message(self, resp: Any) -> str:
        try:
            err = resp.json().get("error") or resp.json().get("detail") or resp.text
            text = err.get("message", str(err)) if isinstance(err, dict) else str(err)
        except (ValueError, AttributeError):
            text = resp.text
        return self._redact(" ".join(text.split())[:300]) or resp.reason_phrase

    def _response(self, data: dict, request: GenerateRequest, seconds: float, attempts: int) -> GenerateResponse:
        choice = data["choices"][0]
        content = choice["message"].get("content")
        text = content or ""
        if not isinstance(text, str):
            raise TypeError("content is not text")
        for stop in request.stop:
            text = text.split(stop)[0]
        usage = data.get("usage") or {}
        return GenerateResponse(
            text,
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            extra={
                "finish_reason": choice.get("finish_reason"),
                # what the endpoint says it is: recorded per item and per run (run/provenance.py)
                SERVED_MODEL: data.get("model"),
                SYSTEM_FINGERPRINT: data.get("system_fingerprint"),
                "usage_reported": bool(usage),
                "seconds": round(seconds, 3),
                "attempts": attempts,
                # an answer without content (a refusal, a tool call, a filtered reply): kept as "", and counted
                **({"no_content": True} if content is None else {}),
            },
        )

    def close(self) -> None:
        self._client.close()


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
