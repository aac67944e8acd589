"""The one runner: score a task's items with a model and hand each scored record to ``save`` at once.

The strategy follows what the task and the model declare:

- ``multi_turn`` tasks (MT-Bench): each turn's request is built from the answers before it;
- streaming models (API models): each item is scored and saved the moment its last answer arrives;
- otherwise batched: consecutive items whose requests fill a few batches go to the model together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..models.base import GenerateRequest, LoglikelihoodRequest, Model, Progress, RollingRequest
from ..models.pricing import response_usage
from ..run.records import stamp
from ..tasks import Item, Task
from .answering import answer_each
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
    elif model.capabilities.streaming:
        score_streaming(model, task, items, save, batch_size=batch_size, description=description)
    else:
        score_batched(model, task, items, save, batch_size=batch_size, description=description)


# ---- batched (local models) ---------------------------------------------------------------------------
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


def answer(model: Model, requests: list[Any], *, batch_size: int, progress: Progress) -> list[Any]:
    """Send requests of one kind to the model's matching method."""
    kinds = {type(r) for r in requests}
    if kinds == {LoglikelihoodRequest}:
        return model.loglikelihood(requests, batch_size=batch_size, progress=progress)
    if kinds == {GenerateRequest}:
        return model.generate(requests, batch_size=batch_size, progress=progress)
    if kinds == {RollingRequest}:
        return model.rolling_loglikelihood([r.text for r in requests], progress=progress)
    raise TypeError(f"a batch must hold one request kind, got {sorted(k.__name__ for k in kinds)}")


def score_batched(
    model: Model, task: Task, items: Sequence[Item], save: Save, *, batch_size: int, description: str
) -> None:
    """Groups of items go to the model together; each group's records are saved as soon as it is scored."""
    from tqdm.auto import tqdm

    total = sum(len(i.requests) for i in items)
    unit = unit_of(items)
    with tqdm(total=total, desc=description, unit=unit, bar_format=bar_format(unit)) as bar:
        for group in chunks(items, min_requests=4 * batch_size):
            requests = [r for item in group for r in item.requests]
            responses = answer(model, requests, batch_size=batch_size, progress=bar.update)
            records, start = [], 0
            for item in group:
                n = len(item.requests)
                records.append(stamp(task.score(item, responses[start : start + n]), item.doc))
                start += n
            save(records)


# ---- streaming (API models) ---------------------------------------------------------------------------
def score_streaming(
    model: Model, task: Task, items: Sequence[Item], save: Save, *, batch_size: int, description: str
) -> None:
    """Each item is scored and saved, with its token usage, the moment its last answer arrives, so an
    interrupted run loses only the requests in flight."""
    from tqdm.auto import tqdm

    requests: list[GenerateRequest] = []
    for item in items:
        for r in item.requests:
            if not isinstance(r, GenerateRequest):  # check_kinds refuses these before a run starts
                raise TypeError(f"a streaming model answers generation requests only, not {type(r).__name__}")
            requests.append(r)
    owner = [k for k, item in enumerate(items) for _ in item.requests]
    received: dict[int, dict[int, Any]] = {k: {} for k in range(len(items))}

    def on_answer(i: int, response: Any) -> None:
        k = owner[i]
        received[k][i] = response
        if len(received[k]) == len(items[k].requests):
            responses = [received[k][j] for j in sorted(received[k])]
            record = stamp(task.score(items[k], responses), items[k].doc)
            record.setdefault("usage", response_usage(responses))
            save([record])

    unit = unit_of(items)
    with tqdm(total=len(requests), desc=description, unit=unit, bar_format=bar_format(unit)) as bar:
        answer_each(model, requests, on_answer, batch_size=batch_size, progress=bar.update)
