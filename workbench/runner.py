"""Runs a task's items through a model: batches requests, shows progress, saves each scored item at once."""

from __future__ import annotations

from collections.abc import Sequence

from .models.base import Model
from .store import Store
from .tasks import Item, MultipleChoiceTask


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


def score_items(
    model: Model,
    task: MultipleChoiceTask,
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
            responses = model.loglikelihood(requests, batch_size=batch_size, progress=bar.update)
            records, start = [], 0
            for item in group:
                n = len(item.requests)
                records.append(task.score(item, responses[start : start + n]))
                start += n
            store.add_samples(run_id, records)
