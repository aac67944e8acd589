"""The one runner: score a task's items with a model and hand each scored record to ``save`` at once.

The strategy follows what the task and the model declare:

- ``multi_turn`` tasks (MT-Bench): each turn's request is built from the answers before it;
- every other task: all requests go to the model at once (local models batch across the whole run, API models
  keep ``concurrency`` requests in flight); each item is scored the moment its last answer arrives and saved
  within half a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..models.base import GenerateRequest, LoglikelihoodRequest, Model, RollingRequest
from ..models.pricing import response_usage
from ..run.records import stamp
from ..tasks import Item, Task
from .answering import answers
from .multiturn import score_conversations

Record = dict[str, Any]
Save = Callable[[list[Record]], None]


# what one step of a bar counts: log-likelihood tasks send one request per answer choice
UNITS = {LoglikelihoodRequest: "choice", GenerateRequest: "answer", RollingRequest: "text"}
# answers being written grow token by token: the bar shows their share done, not a count that rounds
GROWING = "{l_bar}{bar}| of {total_fmt} {unit}s [{elapsed}<{remaining}]"


def bar_format(unit: str) -> str | None:
    return GROWING if unit == "answer" else None


def unit_of(items: Sequence[Item]) -> str:
    kinds = {type(r) for item in items[:1] for r in item.requests}
    return UNITS.get(next(iter(kinds)), "request") if len(kinds) == 1 else "request"


def check_kinds(model_name: str, items: Sequence[Item]) -> None:
    """Refuse, before a run is created or weights are loaded, requests the model cannot answer."""
    from ..models import check_requests

    check_requests(model_name, {type(r) for item in items for r in item.requests})


def score_items(
    model: Model,
    task: Task,
    items: Sequence[Item],
    save: Save,
    *,
    batch_size: int,
    description: str,
) -> None:
    """Score ``items`` with the strategy the task and model call for; ``save`` gets records as they are made."""
    if task.multi_turn:
        score_conversations(model, task, items, save, batch_size=batch_size, description=description)
    else:
        score_requests(model, task, items, save, batch_size=batch_size, description=description)


# ---- single-turn items (every other task) -----------------------------------------------------------
SAVE_EVERY_S = 0.5  # finished items wait at most this long before they are written (one transaction)


class Saver:
    """Records of finished items, written in one transaction at most every ``SAVE_EVERY_S`` seconds and once
    more at the end, even when the run stops with an error: an interrupted run keeps every finished item, and a
    killed one loses at most the last half second."""

    def __init__(self, save: Save):
        self.save, self.records, self.last = save, list[Record](), time.monotonic()

    def add(self, record: Record) -> None:
        self.records.append(record)
        if time.monotonic() - self.last >= SAVE_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if self.records:
            records, self.records = self.records, []
            self.save(records)
        self.last = time.monotonic()


def score_requests(
    model: Model, task: Task, items: Sequence[Item], save: Save, *, batch_size: int, description: str
) -> None:
    """Every item's requests go to the model in one call, so batching and shared-prefix planning span the whole
    run (local models) or ``concurrency`` requests are in flight (API models); each item is scored the moment
    its last answer arrives."""
    from tqdm.auto import tqdm

    requests = [r for item in items for r in item.requests]
    owner = [k for k, item in enumerate(items) for _ in item.requests]
    first = [0] * len(items)  # index of each item's first request
    for k in range(1, len(items)):
        first[k] = first[k - 1] + len(items[k - 1].requests)
    received: dict[int, dict[int, Any]] = {}
    saver = Saver(save)
    unit = unit_of(items)
    with tqdm(total=len(requests), desc=description, unit=unit, bar_format=bar_format(unit)) as bar:
        try:
            for i, response in answers(model, requests, batch_size=batch_size, progress=bar.update):
                k = owner[i]
                got = received.setdefault(k, {})
                got[i - first[k]] = response
                if len(got) == len(items[k].requests):
                    del received[k]
                    responses = [got[j] for j in range(len(got))]
                    record = stamp(task.score(items[k], responses), items[k].doc)
                    if model.capabilities.streaming:  # API calls: tokens used (and their price) per item
                        record.setdefault("usage", response_usage(responses))
                    saver.add(record)
        finally:
            saver.flush()
