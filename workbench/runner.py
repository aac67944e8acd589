"""Runs a task's items through a model: batches requests, shows progress, saves each scored item at once."""

from __future__ import annotations

from collections.abc import Sequence

from .models.base import GenerateRequest, LoglikelihoodRequest, Model, RollingRequest
from .store import Store
from .tasks import Item, Task


def chunks(items: Sequence[Item], min_requests: int) -> list[list[Item]]:
    """Consecutive groups of items holding at least ``min_requests`` requests (the last may hold fewer)."""
    out: list[list[Item]] = []
    current: list[Item] = []
    count = 0
    for item in items:
        current.append(item)
        count += len(item.requests)
        if count >= min_requests:
            out.append(current)
            current, count = [], 0
    if current:
        out.append(current)
    return out


def answer(model: Model, requests: list, *, batch_size: int, progress) -> list:
    """Send requests of one kind to the model's matching method."""
    kinds = {type(r) for r in requests}
    if kinds == {LoglikelihoodRequest}:
        return model.loglikelihood(requests, batch_size=batch_size, progress=progress)
    if kinds == {GenerateRequest}:
        return model.generate(requests, batch_size=batch_size, progress=progress)
    if kinds == {RollingRequest}:
        return model.rolling_loglikelihood([r.text for r in requests], progress=progress)
    raise TypeError(f"a batch must hold one request kind, got {sorted(k.__name__ for k in kinds)}")


def score_items(
    model: Model,
    task: Task,
    items: Sequence[Item],
    store: Store,
    run_id: str,
    *,
    batch_size: int,
    description: str,
) -> None:
    """Score ``items`` and write each group's records to the store as soon as it is scored."""
    from tqdm.auto import tqdm

    total = sum(len(i.requests) for i in items)
    with tqdm(total=total, desc=description, unit="req") as bar:
        for group in chunks(items, min_requests=4 * batch_size):
            requests = [r for item in group for r in item.requests]
            responses = answer(model, requests, batch_size=batch_size, progress=bar.update)
            records, start = [], 0
            for item in group:
                n = len(item.requests)
                records.append(task.score(item, responses[start : start + n]))
                start += n
            store.add_samples(run_id, records)
