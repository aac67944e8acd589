"""Multi-turn items (MT-Bench): every turn's request holds the answers before it.

API models hold ``capabilities.concurrency`` conversations in flight; local models answer ``batch_size``
conversations a turn at a time, batched. Each conversation is saved the moment its last turn is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..models.base import GenerateRequest, GenerateResponse, Model
from ..run.records import stamp
from ..tasks import Item, Task
from .answering import advance
from .concurrency import as_finished

Save = Callable[[list[dict[str, Any]]], None]


def _converse(model: Model, task: Task, item: Item) -> list[GenerateResponse]:
    responses: list[GenerateResponse] = []
    request: GenerateRequest | None = item.requests[0]  # type: ignore[assignment]
    while request is not None:
        responses.append(model.generate([request], batch_size=1)[0])
        request = task.next_request(item, [r.text.strip() for r in responses])
    return responses


def score_conversations(
    model: Model, task: Task, items: Sequence[Item], save: Save, *, batch_size: int, description: str
) -> None:
    """Answer every turn of each item; write its record the moment its last turn is answered."""
    from tqdm.auto import tqdm

    total = sum(len(i.doc["turns"]) for i in items)
    with tqdm(total=total, desc=description, unit="turn") as bar:
        if model.capabilities.streaming:  # API models: each conversation on its own thread
            conversations = as_finished(lambda it: _converse(model, task, it), items, model.capabilities.concurrency)
            for item, responses in conversations:
                save([stamp(task.score(item, responses), item.doc, responses)])
                bar.update(len(responses))
            return
        for start in range(0, len(items), batch_size):
            group = list(items[start : start + batch_size])
            answers: list[list[GenerateResponse]] = [[] for _ in group]
            requests: list[tuple[int, Any]] = [(k, item.requests[0]) for k, item in enumerate(group)]
            while requests:
                out = model.generate([r for _, r in requests], batch_size=batch_size, progress=advance(bar))
                for (k, _), response in zip(requests, out):
                    answers[k].append(response)
                requests = [
                    (k, nxt)
                    for k, item in enumerate(group)
                    if (nxt := task.next_request(item, [r.text.strip() for r in answers[k]])) is not None
                ]
            save([stamp(task.score(item, a), item.doc, a) for item, a in zip(group, answers)])
