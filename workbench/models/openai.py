"""Models behind an OpenAI-compatible endpoint: OpenAI, vLLM, TGI, llama.cpp's server, Ollama, `transformers serve`.

Specs: ``openai:gpt-4o-mini`` (OpenAI, or ``$OPENAI_BASE_URL`` when set) and ``openai:MODEL@http://host:port/v1``;
``openai:MODEL@URL1,URL2,...`` spreads the requests over several servers of the same model (replicas.py).

The key comes from the environment at the moment of each request and is kept nowhere else: not in the
spec, the run record, the model object or any message. ``OPENAI_API_KEY`` is sent only to OpenAI (or to
``$OPENAI_BASE_URL``, as the official client does); any other endpoint reads its own variable,
``WORKBENCH_API_KEY_<HOST>_<PORT>`` (see :func:`key_variable`), and gets no key when that is unset.
Retries, timeouts and the spreading over replicas are replicas.py's, shared with the completions backend.

Only chat completions are used: chat endpoints return no log-probabilities for the prompt, so this backend
answers generation requests and refuses log-likelihood ones with an explanation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any
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
from .replicas import BASE_URL_ENV, Replicas, key_variable, split_urls

if TYPE_CHECKING:
    from .loading import LoadSettings
    from .spec import ModelSpec

PREFIX = "openai:"
OPENAI_URL = "https://api.openai.com/v1"
CONCURRENCY_ENV = "WORKBENCH_API_CONCURRENCY"
TIMEOUT_ENV = "WORKBENCH_API_TIMEOUT"
RETRIES_ENV = "WORKBENCH_API_RETRIES"
SPEC = re.compile(r"^openai:(?P<model>[^@\s]+?)(?:@(?P<url>https?://\S+))?$")


# ---- the backend's module functions (registry.SCHEMES) --------------------------------------------------------
def parse(spec_text: str) -> ModelSpec:
    """The ``openai:`` spec's form checked (nothing contacted); kind "api", location ``MODEL@URL[,URL...]``."""
    from .spec import ModelSpec

    model, url = parse_spec(spec_text)
    return ModelSpec(spec_text.strip(), "api", f"{model}@{url}")


def capabilities(spec: ModelSpec) -> Capabilities:
    """Generation only, ``$WORKBENCH_API_CONCURRENCY`` requests in flight per replica."""
    replicas = len(spec.location.rpartition("@")[2].split(","))
    return replace(API, concurrency=int(_env_number(CONCURRENCY_ENV, 4, 1)) * replicas)


def fingerprint(spec: ModelSpec) -> str:
    """The model and where it is served: the weights behind an endpoint are not ours to hash."""
    return f"api:{spec.location}"


def load(spec: ModelSpec, settings: LoadSettings | None = None) -> OpenAIModel:
    return OpenAIModel.from_spec(spec.name)


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
            "llama.cpp, transformers serve), or `openai:MODEL@URL1,URL2` for several replicas of one model."
        )
    urls = endpoint_urls(m["model"], m["url"] or os.environ.get(BASE_URL_ENV) or OPENAI_URL)
    return m["model"], ",".join(urls)


def endpoint_urls(model: str, text: str) -> list[str]:
    """The replica URLs of ``text`` (``URL`` or ``URL1,URL2,...``); a URL carrying credentials is refused
    without repeating them."""
    for url in text.split(","):
        parts = urlsplit(url.strip())
        if parts.username or parts.password:
            clean = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
            raise WorkbenchError(
                f"The endpoint URL of {model!r} carries credentials. Remove them from the URL and put the key in "
                f"${key_variable(clean)} instead; keys are never written into model specs or run records."
            )
    return split_urls(text)


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
    """A chat-completions endpoint (or several replicas of one) as a workbench Model (generation only).

    ``concurrency`` requests are in flight at once on each replica; timeouts, connection failures, 408/409/429
    and 5xx answers and malformed bodies are retried ``max_retries`` times with exponential backoff (honouring
    Retry-After), on another replica where there is one; 401/403 and 404 stop at once with a message naming the
    fix (see replicas.py).

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
        self.model = model
        self.urls = split_urls(base_url)
        self.base_url = ",".join(self.urls)
        self.name = name or f"{PREFIX}{model}@{self.base_url}"
        self.replicas = connect(self.urls, self.name, model, concurrency, timeout, max_retries, backoff, max_backoff)
        self.key_env = self.replicas.replicas[0].key_env
        if urlsplit(self.urls[0]).hostname == "api.openai.com" and not os.environ.get(self.key_env):
            raise WorkbenchError(
                f"{self.name} needs an API key: set ${self.key_env} in the environment (for example in the shell that "
                "starts Jupyter, or with os.environ in the notebook). Keys are read per request and never saved."
            )

    @property
    def concurrency(self) -> int:
        """Requests in flight at once on each replica."""
        return self.replicas.per_replica

    @classmethod
    def from_spec(cls, spec: str) -> OpenAIModel:
        model, url = parse_spec(spec)
        return cls(model, url, name=spec.strip())

    def __repr__(self) -> str:
        return f"OpenAIModel({self.model!r} at {self.base_url}, {key_states(self.replicas)})"

    @property
    def capabilities(self) -> Capabilities:
        return replace(API, concurrency=self.replicas.concurrency)

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": "api",
            "location": f"{self.model}@{self.base_url}",  # as registry.describe() gives it
            "model": self.model,
            "fingerprint": f"api:{self.model}@{self.base_url}",
            "backend": "openai-compatible",
            "key_variable": self.key_env,
            **({"replicas": len(self.urls)} if len(self.urls) > 1 else {}),
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
        calls = as_finished(lambda pair: self._complete(pair[1]), enumerate(requests), self.replicas.concurrency)
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
        if urlsplit(self.urls[0]).hostname == "api.openai.com":
            body["max_completion_tokens"] = request.max_new_tokens
        else:
            body["max_tokens"] = request.max_new_tokens
        if request.stop:
            body["stop"] = list(request.stop)[:4]  # the API's limit; all stops are applied below as well
        if request.seed is not None:
            body["seed"] = request.seed
        return body

    def _complete(self, request: GenerateRequest) -> GenerateResponse:
        return self.replicas.post(
            "/chat/completions",
            self._body(request),
            lambda data, seconds, attempts: self._response(data, request, seconds, attempts),
            "chat-completion",
        )

    def _response(self, data: dict, request: GenerateRequest, seconds: float, attempts: int) -> GenerateResponse:
        choice = data["choices"][0]
        return answer(data, choice["message"].get("content"), request, seconds, attempts)

    def close(self) -> None:
        self.replicas.close()


def connect(
    urls: list[str],
    name: str,
    model: str,
    concurrency: int | None,
    timeout: float | None,
    max_retries: int | None,
    backoff: float,
    max_backoff: float,
) -> Replicas:
    """The replicas of an endpoint model, with the settings given or else those of the environment
    (``$WORKBENCH_API_CONCURRENCY`` per replica, ``$WORKBENCH_API_TIMEOUT``, ``$WORKBENCH_API_RETRIES``)."""
    return Replicas(
        urls,
        label=name,
        model=model,
        concurrency=int(concurrency or _env_number(CONCURRENCY_ENV, 4, 1)),
        timeout=float(timeout or _env_number(TIMEOUT_ENV, 120.0, 0.001)),
        max_retries=int(max_retries if max_retries is not None else _env_number(RETRIES_ENV, 5, 0)),
        backoff=backoff,
        max_backoff=max_backoff,
    )


def answer(
    data: dict[str, Any], content: Any, request: GenerateRequest, seconds: float, attempts: int
) -> GenerateResponse:
    """The GenerateResponse for the generated ``content`` of an endpoint's answer ``data`` (chat or completions):
    cut at the stop strings, with the token usage, what the endpoint says it is, and the attempts it took."""
    choice = data["choices"][0]
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


def key_states(replicas: Replicas) -> str:
    """Where each replica's key comes from and whether it is set (never the key)."""
    return ", ".join(
        f"key from ${r.key_env} ({'set' if os.environ.get(r.key_env) else 'not set'})"
        for r in {r.key_env: r for r in replicas.replicas}.values()
    )
