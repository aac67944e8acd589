"""Answering requests and saving each result as soon as it exists.

Helpers the judge, multi-turn tasks and API models share:

- ``answer_each`` sends independent requests and hands every response to a callback as it arrives (API
  models: in finishing order, ``concurrency`` in flight; local models: in batches).
- ``score_items`` answers multi-turn items (MT-Bench) turn by turn, each turn's request built from the
  answers before it, and saves every finished conversation at once, so an interrupted run resumes.
- ``score_streaming`` scores any task's items through an API model, saving each item as its answers arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..models.base import GenerateRequest, GenerateResponse, Model
from ..models.openai import as_finished
from ..models.pricing import response_usage
from ..store import Store
from ..tasks import Item


def answer_each(
    model: Model,
    requests: Sequence[GenerateRequest],
    on_answer: Callable[[int, GenerateResponse], None],
    *,
    batch_size: int = 8,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Generate an answer for every request and call ``on_answer(index, response)`` for each at once."""
    stream = getattr(model, "iter_generate", None)
    if stream is not None:
        for i, response in stream(requests, progress=progress):
            on_answer(i, response)
        return
    for start in range(0, len(requests), batch_size):
        chunk = list(requests[start : start + batch_size])
        for offset, response in enumerate(model.generate(chunk, batch_size=batch_size, progress=progress)):
            on_answer(start + offset, response)


def score_streaming(
    model: Model,
    task: Any,
    items: Sequence[Item],
    store: Store,
    run_id: str,
    *,
    batch_size: int,
    description: str,
) -> None:
    """For models that stream answers (API models): each item is scored and saved, with its token usage, the
    moment its last answer arrives, so an interrupted run loses only the requests in flight."""
    from tqdm.auto import tqdm

    requests = [r for item in items for r in item.requests]
    owner = [k for k, item in enumerate(items) for _ in item.requests]
    received: dict[int, dict[int, GenerateResponse]] = {k: {} for k in range(len(items))}

    def on_answer(i: int, response: GenerateResponse) -> None:
        k = owner[i]
        received[k][i] = response
        if len(received[k]) == len(items[k].requests):
            responses = [received[k][j] for j in sorted(received[k])]
            record = task.score(items[k], responses)
            record.setdefault("usage", response_usage(responses))
            store.add_samples(run_id, [record])

    with tqdm(total=len(requests), desc=description, unit="req") as bar:
        answer_each(model, requests, on_answer, batch_size=batch_size, progress=bar.update)


def _converse(model: Model, task: Any, item: Item) -> list[GenerateResponse]:
    responses: list[GenerateResponse] = []
    request = item.requests[0]
    while request is not None:
        responses.append(model.generate([request], batch_size=1)[0])
        request = task.next_request(item, [r.text.strip() for r in responses])
    return responses


def score_items(
    model: Model,
    task: Any,
    items: Sequence[Item],
    store: Store,
    run_id: str,
    *,
    batch_size: int,
    description: str,
) -> None:
    """Answer every turn of each item and write its record the moment its last turn is answered.

    API models hold ``concurrency`` conversations in flight; local models answer ``batch_size``
    conversations a turn at a time, batched.
    """
    from tqdm.auto import tqdm

    total = sum(len(i.doc["turns"]) for i in items)
    with tqdm(total=total, desc=description, unit="turn") as bar:
        concurrency = getattr(model, "concurrency", None)
        if concurrency:
            _threaded(model, task, items, store, run_id, concurrency, bar)
            return
        for start in range(0, len(items), batch_size):
            group = list(items[start : start + batch_size])
            answers: list[list[GenerateResponse]] = [[] for _ in group]
            requests = [(k, item.requests[0]) for k, item in enumerate(group)]
            while requests:
                out = model.generate([r for _, r in requests], batch_size=batch_size, progress=bar.update)
                for (k, _), response in zip(requests, out):
                    answers[k].append(response)
                requests = [
                    (k, nxt)
                    for k, item in enumerate(group)
                    if (nxt := task.next_request(item, [r.text.strip() for r in answers[k]])) is not None
                ]
            store.add_samples(run_id, [task.score(item, a) for item, a in zip(group, answers)])


def _threaded(model: Model, task: Any, items: Sequence[Item], store: Store, run_id: str, workers: int, bar) -> None:
    """One conversation per worker, each saved when done; an error stops new conversations from starting."""
    for item, responses in as_finished(lambda it: _converse(model, task, it), items, workers):
        store.add_samples(run_id, [task.score(item, responses)])
        bar.update(len(responses))
