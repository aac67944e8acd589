"""Independent generation requests answered one callback at a time (the judge, grid cells, API runs).

Streaming models (``capabilities.streaming``: API models) hand over each answer the moment it finishes, with
``capabilities.concurrency`` requests in flight; local models answer in batches. Either way the caller
saves every answer before the next arrives, so an interrupted run loses only what is in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from ..models.base import GenerateRequest, GenerateResponse, Model, Progress, StreamingModel


def answer_each(
    model: Model,
    requests: Sequence[GenerateRequest],
    on_answer: Callable[[int, GenerateResponse], None],
    *,
    batch_size: int = 8,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> None:
    """Generate an answer for every request and call ``on_answer(index, response)`` for each at once.

    Local models take ``chunk_size`` requests (default ``batch_size``) per call, batched ``batch_size`` at a
    time; the callback runs for each answer of a chunk as soon as the chunk is done.
    """
    if model.capabilities.streaming:
        for i, response in cast(StreamingModel, model).iter_generate(requests, progress=progress):
            on_answer(i, response)
        return
    step = max(1, chunk_size or batch_size)
    for start in range(0, len(requests), step):
        chunk = list(requests[start : start + step])
        for offset, response in enumerate(model.generate(chunk, batch_size=batch_size, progress=progress)):
            on_answer(start + offset, response)
