"""Log-likelihoods (and generation) from an inference server's OpenAI ``/v1/completions`` route (vLLM, SGLang, TGI).

Spec: ``completions:MODEL@http://HOST:PORT/v1`` — ``MODEL`` is the name the server serves (vLLM: its ``--model``
argument or ``--served-model-name``) and also names the tokenizer, read here: an alias, a .gguf file, a local
transformers directory or a hub id. When the served name is no such thing, name the tokenizer at the end of the
spec: ``completions:MODEL@URL?tokenizer=DIR_OR_HUB_ID``. ``&max_length=N`` sets the context window where the
server does not report one (vLLM reports its ``--max-model-len``). Several replicas of one model:
``completions:MODEL@URL1,URL2?tokenizer=...`` (see replicas.py).

How a request is scored, as lm-evaluation-harness's ``local-completions`` model does it: context and
continuation are tokenized here exactly as the transformers backend does (``hf.encode_pair``), the token ids are
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

import math
import os
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
from .hf import encode, encode_pair
from .openai import CONCURRENCY_ENV, _env_number, answer, connect, endpoint_urls, key_states
from .replicas import Replicas

if TYPE_CHECKING:
    from .loading import LoadSettings
    from .registry import ModelSpec

PREFIX = "completions:"
SPEC = re.compile(r"^completions:(?P<model>[^@\s]+?)@(?P<urls>https?://[^\s?]+)(?:\?(?P<query>\S*))?$")
OPTIONS = ("tokenizer", "max_length")
ACCEPTED = (
    "`completions:MODEL@http://HOST:PORT/v1` (MODEL as the server names it, and the tokenizer: an alias, .gguf "
    "file, directory or hub id), optionally `?tokenizer=DIR_OR_HUB_ID&max_length=N` at the end, and several "
    "replicas as `completions:MODEL@URL1,URL2`"
)
DEFAULT_WINDOW = 2048  # a server's context window when neither it nor the spec says
PROBE = "one, two, three, four, five, six, seven, eight"  # its last token is the likeliest next one for any LM
TOLERANCE = 0.05  # nats: a server's echoed and generated log-probabilities of one token may differ by this much
TOP_K = 5  # alternatives asked for with the generated token (OpenAI's limit)


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
    from .registry import ModelSpec

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
class CompletionsModel(ListAnswers):
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
    def encode(self, text: str) -> list[int]:
        return encode(self.tokenizer, text)

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        return encode_pair(self.tokenizer, self.prefix_token_id, context, continuation)

    # ---- request kind 1: loglikelihood ----------------------------------------------------------------------
    def iter_loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, LoglikelihoodResponse]]:
        """(index, response) as each server answer arrives; ``batch_size`` is ignored (``concurrency`` requests
        are in flight)."""
        pairs = [self.encode_pair(r.context, r.continuation) for r in requests]
        for r, (_, cont) in zip(requests, pairs):
            if not cont:
                raise WorkbenchError(
                    f"Cannot score the continuation {r.continuation!r} after {r.context[-40:]!r}: the tokenizer merges "
                    "it into the context's last token, which leaves no continuation tokens (lm-evaluation-harness "
                    "refuses such requests too). End the context at a word boundary, or start the continuation "
                    "with a space."
                )
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
    def render_prompt(self, prompt: str | Sequence[dict[str, str]]) -> str:
        if isinstance(prompt, str):
            return prompt
        return self.tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)

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


def served_window(name: str, model: str, url: str) -> int | None:
    """The context window the server at ``url`` reports for ``model`` (vLLM's max_model_len; None where it says
    none), after checking that it answers and serves the model: one message for each failure."""
    import httpx

    from .openai import key_variable

    key = os.environ.get(key_variable(url))
    try:
        resp = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=10)
    except httpx.HTTPError as exc:
        raise WorkbenchError(
            f"{name}: the server at {url} does not answer ({type(exc).__name__}). Start it, or check the host, port "
            "and that the URL ends with the API root (usually /v1)."
        ) from None
    if resp.status_code in (401, 403):
        raise WorkbenchError(
            f"{url} refused to list its models (HTTP {resp.status_code}). Set ${key_variable(url)} to a valid key "
            "for this server."
        )
    try:
        served = {str(m["id"]): m for m in resp.json()["data"]}
    except (ValueError, KeyError, TypeError):
        return None  # no model list: the requests themselves will say whether the model is served
    if served and model not in served:
        raise WorkbenchError(
            f"{name}: the server at {url} serves {', '.join(map(repr, served))}, not {model!r}. Write the served "
            "name before the @ (and the tokenizer as ?tokenizer=... where that name is no tokenizer here)."
        )
    length = served.get(model, {}).get("max_model_len")
    return int(length) if isinstance(length, int) and length > 2 else None


def echoed(data: dict[str, Any], n: int) -> tuple[list[float], list[dict[str, float]], list[str]]:
    """The echoed prompt's log-probabilities, top log-probabilities and tokens (positions 1..n-1 must be there;
    position 0 has none). ValueError for an answer that has no log-probability for some prompt token."""
    logprobs = data["choices"][0]["logprobs"]
    values = list(logprobs["token_logprobs"] or [])
    tops = [t or {} for t in (logprobs.get("top_logprobs") or [])]
    tokens = [str(t) for t in (logprobs.get("tokens") or [])]
    if len(values) < n or any(v is None or not math.isfinite(v) for v in values[1:n]):
        raise ValueError(f"{sum(v is not None for v in values[1:n])} of {n - 1} prompt log-probabilities echoed")
    return [0.0, *[float(v) for v in values[1:n]]], [{}, *tops[1:n]], tokens[:n]


class Probe:
    """The checks of one replica (module docstring), each failure one WorkbenchError."""

    def __init__(self, model: CompletionsModel, url: str):
        self.model = model
        self.url = url
        self.replicas = connect([url], model.name, model.model, 1, None, 0, 0.0, 0.0)
        self.replica = self.replicas.replicas[0]

    def refuse(self, problem: str) -> WorkbenchError:
        return WorkbenchError(
            f"{self.model.name}: the server at {self.url} {problem} Its log-probabilities cannot score "
            "log-likelihood tasks. Score by generation instead: `--mode generate` (mode='generate' in Python) "
            f"with `openai:{self.model.model}@{self.url}`, or serve the model with vLLM."
        )

    def ask(self, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.replicas.post("/completions", {"model": self.model.model, **body},
                                                    lambda data, s, a: dict(data), "completion")  # fmt: skip
        return answer

    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        finally:
            self.replicas.close()

    def _run(self) -> dict[str, Any]:
        tokenizer = self.model.tokenizer
        ids = self.model.encode(PROBE)
        # 1. the prompt echoed with a log-probability for each token, and tokenized as the declared tokenizer does
        data = self.ask({"prompt": PROBE, "echo": True, "logprobs": 1, "max_tokens": 1, "temperature": 0})
        try:
            info = data["choices"][0].get("logprobs") or {}
            values, tokens = list(info.get("token_logprobs") or []), [str(t) for t in info.get("tokens") or []]
        except (KeyError, IndexError, TypeError, AttributeError):
            values, tokens = [], []
        if not values:
            raise self.refuse(
                "answers without prompt log-probabilities (no logprobs for the echoed prompt of /completions with "
                "echo=true, logprobs=1)."
            )
        ours = [_plain(tokenizer.decode([i])) for i in ids]
        if len(values) < len(ids) or len(tokens) < len(ids):
            raise self.refuse(
                f"echoed {len(values)} log-probabilities for a prompt of {len(ids)} tokens: the echoed "
                "log-probabilities do not cover the prompt."
            )
        # a server may add a BOS token to a text prompt that the declared tokenizer does not
        extra = next((e for e in (0, 1) if [_plain(t) for t in tokens[e : e + len(ids)]] == ours), None)
        if extra is None:
            raise WorkbenchError(
                f"{self.model.name}: the server at {self.url} tokenizes {PROBE!r} as {tokens[: len(ids) + 1]} but "
                f"the declared tokenizer {self.model.tokenizer_source!r} as {ours}: it serves another tokenizer, so "
                "the token boundaries of its scores would be wrong. Name its tokenizer: "
                f"`{self.model.name.split('?')[0]}?tokenizer=DIR_OR_HUB_ID`."
            )
        if len(values) < extra + len(ids):
            raise self.refuse(
                f"echoed {len(values)} log-probabilities for a prompt of {len(ids) + extra} tokens: the echoed "
                "log-probabilities do not cover the prompt."
            )
        echoed_last = values[extra + len(ids) - 1]
        if echoed_last is None or any(v is None for v in values[extra + 1 : extra + len(ids)]):
            raise self.refuse("echoes the prompt without a log-probability for each of its tokens.")
        # 2. the last token as the server scores it when generating after the rest
        rest = tokenizer.decode(ids[:-1])
        data = self.ask({"prompt": rest, "max_tokens": 1, "logprobs": TOP_K, "temperature": 0})
        try:
            tops = data["choices"][0]["logprobs"]["top_logprobs"][0] or {}
        except (KeyError, IndexError, TypeError):
            raise self.refuse("returns no log-probabilities for a generated token.") from None
        last = ours[-1]
        generated = next((float(v) for k, v in tops.items() if _plain(k) == last), None)
        if generated is None:
            raise self.refuse(
                f"does not rank {last!r} among its {TOP_K} likeliest tokens after {rest!r} (it ranks "
                f"{sorted(tops, key=lambda k: -tops[k])}), which any language model does."
            )
        if abs(generated - float(echoed_last)) > TOLERANCE:
            raise self.refuse(
                f"gives the last token of {PROBE!r} the log-probability {float(echoed_last):.4f} when echoing the "
                f"prompt but {generated:.4f} when generating it after the rest: its echoed log-probabilities are "
                "misaligned with the tokens (llama-cpp-python's server scores each echoed token with the "
                "distribution that predicts the next one)."
            )
        # 3. the same prompt as token ids: the same log-probabilities
        try:
            data = self.ask({"prompt": ids, "echo": True, "logprobs": 1, "max_tokens": 1, "temperature": 0})
            by_ids, _, _ = echoed(data, len(ids))
        except (WorkbenchError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise self.refuse(
                f"does not score a prompt sent as token ids ({str(exc)[:200]}), which exact token boundaries need."
            ) from None
        by_text = [float(v) for v in values[extra + 1 : extra + len(ids)]]
        worst = max(abs(a - b) for a, b in zip(by_ids[1:], by_text))
        if worst > TOLERANCE:
            raise self.refuse(
                f"scores the prompt sent as token ids differently from the same prompt as text (by up to {worst:.3f}): "
                "it does not read token ids as the declared tokenizer's."
            )
        return {"echoed": round(float(echoed_last), 5), "generated": round(generated, 5)}


def _plain(token: str) -> str:
    """A token's text for comparison: byte-level and SentencePiece space marks as spaces, outer spaces dropped."""
    return token.replace("\u0120", " ").replace("\u2581", " ").strip()
