"""Log-likelihoods (and generation) from an inference server's OpenAI ``/v1/completions`` route (vLLM, SGLang, TGI).

Spec: ``completions:MODEL@http://HOST:PORT/v1`` — ``MODEL`` is the name the server serves (vLLM: its ``--model``
argument or ``--served-model-name``) and also names the tokenizer, read here: an alias, a .gguf file, a local
transformers directory or a hub id. When the served name is no such thing, name the tokenizer at the end of the
spec: ``completions:MODEL@URL?tokenizer=DIR_OR_HUB_ID``. ``&max_length=N`` sets the context window where the
server does not report one (vLLM reports its ``--max-model-len``). Several replicas of one model:
``completions:MODEL@URL1,URL2?tokenizer=...`` (see replicas.py).

How a request is scored, as lm-evaluation-harness's ``local-completions`` model does it: context and
continuation are tokenized here exactly as the transformers backend does (``tokens.encode_pair``), the token ids are
sent as the prompt with ``echo=true, logprobs=1, max_tokens=1``, and the server's log-probabilities of the
echoed prompt tokens are read back: the continuation's are summed, and it is greedy where each of its tokens is
the top-1 token. A sequence longer than the window keeps its last ``max_length + 1`` tokens, as the transformers
backend does (``max_length`` is the server's window less the one token it generates). Rolling log-likelihoods
(perplexity) send the harness's windows the same way. Generation sends the prompt text (chat prompts through the
tokenizer's chat template) with ``max_tokens``, ``temperature``, ``stop`` and ``seed``.

No server's log-probabilities are trusted unchecked: :func:`load` asks each replica, before any run exists,

1. to echo a short prompt with its log-probabilities: every prompt token must get one (a server that returns
   none, like `transformers serve`, or fewer, is refused), and the tokens it echoes must be those the declared
   tokenizer makes of the text (else it serves another tokenizer);
2. to generate one token after the same prompt less its last token: the log-probability it gives that last token
   must equal the echoed one (llama-cpp-python 0.3.36's server scores each echoed token with the distribution
   that predicts the next, and fails here);
3. to echo the prompt sent as token ids: the same log-probabilities as for the text.

A server that fails is refused with the problem named, and `--mode generate` suggested (generation through
``openai:MODEL@URL`` needs no log-probabilities). Keys, retries, timeouts and concurrency are the chat backend's
(openai.py, replicas.py): ``$WORKBENCH_API_KEY_<HOST>_<PORT>``, ``$WORKBENCH_API_CONCURRENCY`` requests per
replica, ``$WORKBENCH_API_TIMEOUT``, ``$WORKBENCH_API_RETRIES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..engine.concurrency import as_finished
from ..errors import WorkbenchError
from .base import (
    Capabilities,
    GenerateRequest,
    GenerateResponse,
    ListAnswers,
    LoglikelihoodRequest,
    LoglikelihoodResponse,
    Progress,
    rolling_windows,
)
from .openai import CONCURRENCY_ENV, _env_number, answer, connect, endpoint_urls, key_states
from .replicas import Replicas
from .server_checks import Probe, echoed, served_window
from .tokens import HarnessTokens

if TYPE_CHECKING:
    from .loading import LoadSettings
    from .spec import ModelSpec

PREFIX = "completions:"
SPEC = re.compile(r"^completions:(?P<model>[^@\s]+?)@(?P<urls>https?://[^\s?]+)(?:\?(?P<query>\S*))?$")
OPTIONS = ("tokenizer", "max_length")
ACCEPTED = (
    "`completions:MODEL@http://HOST:PORT/v1` (MODEL as the server names it, and the tokenizer: an alias, .gguf "
    "file, directory or hub id), optionally `?tokenizer=DIR_OR_HUB_ID&max_length=N` at the end, and several "
    "replicas as `completions:MODEL@URL1,URL2`"
)
DEFAULT_WINDOW = 2048  # a server's context window when neither it nor the spec says


@dataclass(frozen=True)
class Options:
    model: str
    urls: list[str]
    tokenizer: str
    max_length: int | None


@dataclass(frozen=True)
class ServedLoglikelihood(LoglikelihoodResponse):
    """A log-likelihood with the tokens the server counted for it (runs record them, and their cost, per item)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# ---- the backend's module functions (registry.SCHEMES) --------------------------------------------------------
def options(spec_text: str) -> Options:
    """What a ``completions:`` spec says, checked for form only (nothing is contacted)."""
    m = SPEC.match(spec_text.strip())
    if not m:
        raise WorkbenchError(f"Cannot read the server model spec {spec_text!r}. Write {ACCEPTED}.")
    query = dict(parse_qsl(m["query"] or "", keep_blank_values=True))
    unknown = sorted(set(query) - set(OPTIONS))
    if unknown:
        raise WorkbenchError(
            f"{spec_text}: unknown option {', '.join(unknown)}; a completions spec takes {' and '.join(OPTIONS)} "
            "(`?tokenizer=DIR_OR_HUB_ID&max_length=N`)."
        )
    length = query.get("max_length")
    if length is not None and (not length.isdigit() or int(length) < 2):
        raise WorkbenchError(
            f"{spec_text}: max_length must be a whole number of tokens of at least 2 (got {length!r})."
        )
    if "tokenizer" in query and not query["tokenizer"]:
        raise WorkbenchError(f"{spec_text}: ?tokenizer= names no tokenizer; give a directory, .gguf file or hub id.")
    urls = endpoint_urls(m["model"], m["urls"])
    return Options(m["model"], urls, query.get("tokenizer") or m["model"], int(length) if length else None)


def parse(spec_text: str) -> ModelSpec:
    from .spec import ModelSpec

    found = options(spec_text)
    return ModelSpec(spec_text.strip(), "completions", f"{found.model}@{','.join(found.urls)}")


def capabilities(spec: ModelSpec) -> Capabilities:
    per_replica = int(_env_number(CONCURRENCY_ENV, 4, 1))
    return Capabilities(True, True, True, streaming=True, concurrency=per_replica * len(options(spec.name).urls))


def fingerprint(spec: ModelSpec) -> str:
    """The served model, its replicas and the tokenizer that splits its requests: nothing here can hash the
    weights behind a server."""
    found = options(spec.name)
    tokenizer = f"?tokenizer={found.tokenizer}" if found.tokenizer != found.model else ""
    return f"completions:{found.model}@{','.join(found.urls)}{tokenizer}"


def load(spec: ModelSpec, settings: LoadSettings | None = None) -> CompletionsModel:
    """The model, once every replica has passed the checks of the module docstring."""
    found = options(spec.name)
    windows = [served_window(spec.name, found.model, url) for url in found.urls]  # before a tokenizer is loaded
    reported = [w for w in windows if w]
    tokenizer = load_tokenizer(found.tokenizer, spec.name)
    model = CompletionsModel(
        spec.name,
        found.model,
        found.urls,
        tokenizer,
        tokenizer_source=found.tokenizer,
        max_length=found.max_length or (min(reported) if reported else None),
    )
    model.check()
    return model


def load_tokenizer(source: str, spec_text: str) -> Any:
    """The tokenizer ``source`` names (an alias, .gguf file, directory or hub id), or a message naming the fix."""
    from transformers import AutoTokenizer

    from .registry import dequantized_dir, resolve

    fix = (
        f"Name the server's tokenizer at the end of the spec: `{spec_text.split('?')[0]}?tokenizer=DIR_OR_HUB_ID` "
        "(a local transformers directory, a .gguf file or a hub id)."
    )
    try:
        where = resolve(source)
    except WorkbenchError as exc:
        raise WorkbenchError(f"{spec_text}: {source!r} names no tokenizer here ({exc}). {fix}") from None
    if where.kind not in ("gguf", "dir", "hub", "mlflow"):
        raise WorkbenchError(f"{spec_text}: {source!r} names no tokenizer here. {fix}")
    try:
        if where.kind == "gguf":  # the dequantized folder's (made once, then cached), as the other backends use
            return AutoTokenizer.from_pretrained(str(dequantized_dir(where)))
        kwargs = {"revision": where.revision} if where.revision else {}
        return AutoTokenizer.from_pretrained(where.location, **kwargs)
    except (OSError, ValueError) as exc:
        raise WorkbenchError(
            f"{spec_text}: could not load the tokenizer {source!r} ({str(exc).splitlines()[0][:200]}). {fix}"
        ) from None


# ---- the model -----------------------------------------------------------------------------------------------
class CompletionsModel(HarnessTokens, ListAnswers):
    """A model behind one or more ``/v1/completions`` servers, scoring log-likelihoods from echoed prompts."""

    def __init__(
        self,
        name: str,
        model: str,
        urls: Sequence[str],
        tokenizer: Any,
        *,
        tokenizer_source: str,
        max_length: int | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
    ):
        self.name = name
        self.model = model
        self.urls = list(urls)
        self.tokenizer = tokenizer
        self.tokenizer_source = tokenizer_source
        bos = tokenizer.bos_token_id
        self.prefix_token_id = bos if bos is not None else tokenizer.eos_token_id
        self.replicas: Replicas = connect(
            self.urls, name, model, concurrency, timeout, max_retries, backoff, max_backoff
        )
        self.window = max_length  # the server's context window (prompt and generated tokens)
        self.checked: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"CompletionsModel({self.model!r} at {','.join(self.urls)}, {key_states(self.replicas)})"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(True, True, True, streaming=True, concurrency=self.replicas.concurrency)

    @property
    def max_length(self) -> int:
        """Tokens a scored sequence may hold before its last one: the window less the generated token."""
        return (self.window or DEFAULT_WINDOW) - 2

    def identity(self) -> dict[str, Any]:
        spec = parse(self.name)
        return {
            "name": self.name,
            "kind": "completions",
            "location": spec.location,
            "fingerprint": fingerprint(spec),
            "backend": "completions",
            "model": self.model,
            "tokenizer": self.tokenizer_source,
            "max_length": self.max_length,
            "key_variable": self.replicas.replicas[0].key_env,
            **({"replicas": len(self.urls)} if len(self.urls) > 1 else {}),
        }

    def close(self) -> None:
        self.replicas.close()

    # ---- tokens, as the transformers backend makes them -------------------------------------------------------
    # ---- request kind 1: loglikelihood ----------------------------------------------------------------------
    def iter_loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, LoglikelihoodResponse]]:
        """(index, response) as each server answer arrives; ``batch_size`` is ignored (``concurrency`` requests
        are in flight)."""
        pairs = self.token_pairs(requests)
        calls = as_finished(lambda pair: self._score(*pair[1]), enumerate(pairs), self.replicas.concurrency)
        for (i, _), response in calls:
            if progress:
                progress(1)
            yield i, response

    def _score(self, context: Sequence[int], continuation: Sequence[int]) -> ServedLoglikelihood:
        """The continuation's log-probability, and whether it is greedy, from one echoed prompt."""
        seq = (list(context) + list(continuation))[-(self.max_length + 1) :]
        n = min(len(continuation), len(seq) - 1)
        body = {"model": self.model, "prompt": seq, "max_tokens": 1, "temperature": 0, "logprobs": 1, "echo": True}

        def read(data: dict[str, Any], seconds: float, attempts: int) -> ServedLoglikelihood:
            logprobs, tops, _ = echoed(data, len(seq))
            span = range(len(seq) - n, len(seq))
            greedy = all(logprobs[j] >= max(tops[j].values()) - 1e-6 for j in span)
            usage = data.get("usage") or {}
            return ServedLoglikelihood(
                float(sum(logprobs[j] for j in span)),
                bool(greedy),
                n,
                prompt_tokens=int(usage.get("prompt_tokens") or len(seq)),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                extra={"seconds": round(seconds, 3), "attempts": attempts},
            )

        return self.replicas.post("/completions", body, read, "completion")

    # ---- request kind 2: rolling loglikelihood ----------------------------------------------------------------
    def iter_rolling(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, list[float]]]:
        """(index, window log-likelihoods) for each text once all its windows (the harness's) are answered."""
        windows = [rolling_windows(self.encode(text), self.prefix_token_id, self.max_length) for text in texts]
        jobs = [
            (k, w, ctx, cont) for k, text_windows in enumerate(windows) for w, (ctx, cont) in enumerate(text_windows)
        ]
        got: dict[int, dict[int, float]] = {}
        for k, text_windows in enumerate(windows):
            if not text_windows:  # an empty text: nothing to score
                if progress:
                    progress(1)
                yield k, []
        calls = as_finished(lambda job: self._score(job[2], job[3]), jobs, self.replicas.concurrency)
        for (k, w, _, _), response in calls:
            scores = got.setdefault(k, {})
            scores[w] = response.logprob
            if len(scores) == len(windows[k]):
                del got[k]
                if progress:
                    progress(1)
                yield k, [scores[j] for j in range(len(scores))]

    # ---- request kind 3: generate ------------------------------------------------------------------------------
    def iter_generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> Iterator[tuple[int, GenerateResponse]]:
        """(index, response) pairs in the order they finish; ``concurrency`` requests per replica in flight."""
        calls = as_finished(lambda pair: self._generate(pair[1]), enumerate(requests), self.replicas.concurrency)
        for (i, _), response in calls:
            if progress:
                progress(1)
            yield i, response

    def _generate(self, request: GenerateRequest) -> GenerateResponse:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": self.render_prompt(request.prompt),
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
        }
        if request.stop:
            body["stop"] = list(request.stop)[:4]  # the API's limit; all stops are applied by answer() as well
        if request.seed is not None:
            body["seed"] = request.seed
        return self.replicas.post(
            "/completions",
            body,
            lambda data, seconds, attempts: answer(data, data["choices"][0].get("text"), request, seconds, attempts),
            "completion",
        )

    # ---- trust no server unchecked --------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse, naming the problem, a replica whose prompt log-probabilities cannot be trusted (module
        docstring)."""
        for url in self.urls:
            self.checked[url] = Probe(self, url).run()
