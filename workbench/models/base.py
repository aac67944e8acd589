"""The model contract: three request kinds, as in lm-evaluation-harness.

- loglikelihood(context, continuation) -> (logprob of continuation, whether it is the greedy output)
- rolling_loglikelihood(text) -> log-probability of every token of the text (non-overlapping windows)
- generate(prompt or chat messages, params) -> generated text + token usage

Backends know nothing of tasks, the store or widgets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")
Progress = Callable[[float], object]  # what it returns is ignored (tqdm.update returns a bool)
"""Called with the number of requests just finished, so the runner can advance a progress bar. Generation may
report a request in parts as its tokens arrive (each token 1/max_new_tokens of it), so a bar moves steadily."""


@dataclass(frozen=True)
class LoglikelihoodRequest:
    context: str
    continuation: str


@dataclass(frozen=True)
class LoglikelihoodResponse:
    logprob: float
    is_greedy: bool
    n_tokens: int


@dataclass(frozen=True)
class RollingRequest:
    """Score every token of ``text`` (perplexity)."""

    text: str


@dataclass(frozen=True)
class GenerateRequest:
    prompt: str | Sequence[dict[str, str]]
    max_new_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    seed: int | None = None


# GenerateResponse.extra keys in which an API backend passes on what its endpoint said it is, per answer: the model
# name it reports (often a dated snapshot of the alias asked for) and its system fingerprint (the serving setup).
# Runs record them per item and in total (run/provenance.py), so a model changing under one name shows.
SERVED_MODEL = "served_model"
SYSTEM_FINGERPRINT = "system_fingerprint"


@dataclass(frozen=True)
class GenerateResponse:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # backend details: finish_reason, SERVED_MODEL, ...


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do, declared by the backend (the runner chooses its strategy from this, never by
    probing attributes)."""

    loglikelihood: bool = True  # scores continuations (needs prompt log-probabilities)
    rolling: bool = True  # scores every token of a text (perplexity)
    generate: bool = True
    streaming: bool = False  # iter_generate: answers arrive one by one, in the order they finish
    concurrency: int = 1  # requests in flight at once (API models)

    def refuses(self, request_kinds: set[type]) -> list[str]:
        """The request kinds of ``request_kinds`` this backend cannot answer, by name."""
        able = {LoglikelihoodRequest: self.loglikelihood, RollingRequest: self.rolling, GenerateRequest: self.generate}
        return sorted(k.__name__ for k in request_kinds if not able.get(k, False))


LOCAL = Capabilities()
API = Capabilities(loglikelihood=False, rolling=False, streaming=True)


@runtime_checkable
class Model(Protocol):
    """What every backend offers. ``identity`` says exactly which weights answered; ``capabilities`` what
    it can answer and how."""

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def identity(self) -> dict[str, Any]: ...

    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], *, batch_size: int = 16, progress: Progress | None = None
    ) -> list[LoglikelihoodResponse]: ...

    def rolling_loglikelihood(self, texts: Sequence[str], *, progress: Progress | None = None) -> list[list[float]]: ...

    def generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> list[GenerateResponse]: ...


class StreamingModel(Model, Protocol):
    """A backend whose ``capabilities.streaming`` is set: answers arrive as they finish."""

    def iter_generate(
        self, requests: Sequence[GenerateRequest], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, GenerateResponse]]: ...


@runtime_checkable
class LocalModel(Model, Protocol):
    """A backend that runs the weights here, so it knows its tokenizer and context window (perplexity counts
    tokens with them)."""

    @property
    def max_length(self) -> int: ...

    def encode(self, text: str) -> list[int]: ...

    # the same answers as (index, response) pairs in the order they finish: the runner hands a whole run's
    # requests over at once (so batching spans the run) and still saves each item as soon as it is complete
    def iter_loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, LoglikelihoodResponse]]: ...

    def iter_rolling(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, list[float]]]: ...

    def iter_generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> Iterator[tuple[int, GenerateResponse]]: ...


class _Iterating(Protocol):
    def iter_loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, LoglikelihoodResponse]]: ...

    def iter_rolling(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, list[float]]]: ...

    def iter_generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> Iterator[tuple[int, GenerateResponse]]: ...


class ListAnswers:
    """The list forms of the three request kinds (answers in request order), for a backend that writes the
    ``iter_*`` forms (answers as they finish)."""

    def loglikelihood(
        self: _Iterating,
        requests: Sequence[LoglikelihoodRequest],
        *,
        batch_size: int = 16,
        progress: Progress | None = None,
    ) -> list[LoglikelihoodResponse]:
        return in_order(self.iter_loglikelihood(requests, batch_size=batch_size, progress=progress), len(requests))

    def rolling_loglikelihood(
        self: _Iterating, texts: Sequence[str], *, progress: Progress | None = None
    ) -> list[list[float]]:
        return in_order(self.iter_rolling(texts, progress=progress), len(texts))

    def generate(
        self: _Iterating, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> list[GenerateResponse]:
        return in_order(self.iter_generate(requests, batch_size=batch_size, progress=progress), len(requests))


def in_order(pairs: Iterable[tuple[int, T]], n: int) -> list[T]:
    """The values of (index, value) pairs, which arrive in any order, as a list by index 0..n-1."""
    out: dict[int, T] = dict(pairs)
    return [out[i] for i in range(n)]


def rolling_windows(tokens: Sequence[int], prefix_token: int, max_len: int) -> list[tuple[list[int], list[int]]]:
    """Split a token list into (context, continuation) windows that score every token exactly once.

    Same windows as the harness's get_rolling_token_windows(context_len=1) + make_disjoint_window: the first
    window is conditioned on ``prefix_token``; each later window predicts the next ``max_len`` tokens,
    conditioned on as many preceding tokens as fit.
    """
    if not tokens:
        return []
    windows: list[tuple[list[int], list[int]]] = []
    first = min(max_len, len(tokens))
    windows.append(([prefix_token], list(tokens[:first])))
    start = first
    while start < len(tokens):
        end = min(start + max_len, len(tokens))
        # input = tokens[end - max_len - 1 : end - 1]; scored targets = tokens[start:end]
        ctx_start = max(0, end - max_len - 1)
        window = list(tokens[ctx_start:end])
        n_pred = end - start
        windows.append((window[: len(window) - n_pred], window[len(window) - n_pred :]))
        start = end
    return windows
