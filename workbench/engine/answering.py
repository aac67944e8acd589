"""Requests answered one (index, response) pair at a time, in the order they finish (runs, the judge, grid cells).

Streaming models (``capabilities.streaming``: API models) hand over each answer the moment it finishes, with
``capabilities.concurrency`` requests in flight. Local models get the whole list at once, so their batching and
shared-prefix planning span all of it, and hand over each answer as soon as its batch is done. Either way the
caller can save every answer on arrival, so an interrupted run loses only what is in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from ..models.base import (
    GenerateRequest,
    GenerateResponse,
    LocalModel,
    LoglikelihoodRequest,
    Model,
    Progress,
    RollingRequest,
    StreamingModel,
)


def advance(bar: Any) -> Progress:
    """``bar.update`` (a tqdm bar), never past its total: generation reports each token as a float share of its
    request, and the shares of a whole run can add up to a hair more than the total (tqdm then warns)."""

    def update(step: float) -> None:
        bar.update(max(0.0, min(step, bar.total - bar.n)) if bar.total is not None else step)

    return update


def answers(
    model: Model, requests: Sequence[Any], *, batch_size: int, progress: Progress | None = None
) -> Iterator[tuple[int, Any]]:
    """(index, response) for every request, as each finishes. The requests must be of one kind."""
    kinds = {type(r) for r in requests}
    if not kinds:
        return iter(())
    if len(kinds) > 1:
        raise TypeError(f"requests must be of one kind, got {sorted(k.__name__ for k in kinds)}")
    kind = kinds.pop()
    if model.capabilities.refuses({kind}):  # check_kinds refuses these before a run starts
        raise TypeError(f"{model.name} does not answer {kind.__name__}")
    if model.capabilities.streaming and kind is GenerateRequest:
        return cast(StreamingModel, model).iter_generate(requests, progress=progress)
    local = cast(LocalModel, model)
    if kind is LoglikelihoodRequest:
        return local.iter_loglikelihood(requests, batch_size=batch_size, progress=progress)
    if kind is GenerateRequest:
        return local.iter_generate(requests, batch_size=batch_size, progress=progress)
    if kind is RollingRequest:
        return local.iter_rolling([r.text for r in requests], progress=progress)
    raise TypeError(f"unknown request kind {kind.__name__}")


def answer_each(
    model: Model,
    requests: Sequence[GenerateRequest],
    on_answer: Callable[[int, GenerateResponse], None],
    *,
    batch_size: int = 8,
    progress: Progress | None = None,
) -> None:
    """Generate an answer for every request and call ``on_answer(index, response)`` for each as it finishes."""
    for i, response in answers(model, requests, batch_size=batch_size, progress=progress):
        on_answer(i, response)
