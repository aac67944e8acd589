"""The one runner: score a task's items with a model and hand each scored record to ``save`` at once.

The strategy follows what the task and the model declare:

- ``multi_turn`` tasks (MT-Bench): each turn's request is built from the answers before it;
- every other task: the requests go to the model in windows of thousands (local models batch and share prefixes
  across a whole window, API models keep ``concurrency`` requests in flight); each item is scored the moment its
  last answer arrives and saved within half a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..models.base import GenerateRequest, LoglikelihoodRequest, Model, Progress, RollingRequest
from ..models.pricing import response_usage
from ..run.records import stamp
from ..tasks import Item, Task
from .answering import advance, answers
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
# requests planned together: enough for batches and shared prefixes to span a whole benchmark run of usual size
# (ARC-Easy's 2,376 items are 9,500 requests), bounded so the tokenized requests of a full MMLU 5-shot run
# (56,000 requests of ~600 tokens, as Python lists) never sit in memory at once
WINDOW = 8192


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


def windows(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    """Consecutive groups of whole items holding about ``size`` requests each (an item is never split)."""
    out: list[Sequence[Item]] = []
    start = count = 0
    for end, item in enumerate(items, 1):
        count += len(item.requests)
        if count >= size:
            out.append(items[start:end])
            start, count = end, 0
    if start < len(items):
        out.append(items[start:])
    return out


def score_requests(
    model: Model, task: Task, items: Sequence[Item], save: Save, *, batch_size: int, description: str
) -> None:
    """The items' requests go to the model in windows of ``WINDOW`` requests (one window for most runs), so
    batching and shared-prefix planning span the window (local models) or ``concurrency`` requests are in flight
    (API models); each item is scored the moment its last answer arrives."""
    from tqdm.auto import tqdm

    saver = Saver(save)
    unit = unit_of(items)
    total = sum(len(item.requests) for item in items)
    with tqdm(total=total, desc=description, unit=unit, bar_format=bar_format(unit)) as bar:
        try:
            for window in windows(items, WINDOW):
                for k, responses in finished_items(model, window, batch_size=batch_size, progress=advance(bar)):
                    record = stamp(task.score(window[k], responses), window[k].doc, responses)
                    if model.capabilities.streaming and all(hasattr(r, "prompt_tokens") for r in responses):
                        # API calls: tokens used (and their price) per item
                        record.setdefault("usage", response_usage(responses))
                    saver.add(record)
        finally:
            saver.flush()


def finished_items(
    model: Model, items: Sequence[Item], *, batch_size: int, progress: Progress
) -> Iterator[tuple[int, list[Any]]]:
    """(item index, its responses in request order) for each item, the moment its last answer arrives."""
    requests = [r for item in items for r in item.requests]
    owner = [k for k, item in enumerate(items) for _ in item.requests]
    first = [0] * len(items)  # index of each item's first request
    for k in range(1, len(items)):
        first[k] = first[k - 1] + len(items[k - 1].requests)
    received: dict[int, dict[int, Any]] = {}
    for i, response in answers(model, requests, batch_size=batch_size, progress=progress):
        k = owner[i]
        got = received.setdefault(k, {})
        got[i - first[k]] = response
        if len(got) == len(items[k].requests):
            del received[k]
            yield k, [got[j] for j in range(len(got))]
