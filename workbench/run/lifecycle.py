"""The one run lifecycle: a spec gives a key; the key opens the unfinished run it names or a new one; each
item is saved the moment it is scored; the run ends complete with its metrics, or failed / interrupted.

    run = lifecycle.start(db, spec)             # resumes an unfinished run of the same call
    with run.recording():                        # time spent; an error or interrupt marks it, never complete
        for records in ...:
            run.save(records)                    # written at once: a killed process loses only what is in flight
        metrics = task.aggregate(run.records())
    run.finish(metrics)

Every kind of run (evaluate, perplexity, score, grid cells, judge) goes through here, so every kind resumes
after a crash, and every run records the same provenance (model identity, data fingerprint, template,
config, package versions, the command that started it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..store import Store, run_key
from .provenance import versions

Record = dict[str, Any]


class HasDocId(Protocol):
    doc_id: int


T = TypeVar("T", bound=HasDocId)


@dataclass(frozen=True)
class RunSpec:
    """Everything a run records before it starts. ``key`` holds what makes two calls the same call: an
    unfinished run with an equal key is resumed instead of starting a new one."""

    task: str
    model: str
    identity: dict[str, Any]
    source: str
    data_fingerprint: str
    template: str
    config: dict[str, Any]
    key: Any
    command: str
    n_items: int


class Run:
    """An open run of the project store: save records as they are scored, then finish it."""

    def __init__(self, db: Store, run_id: str, spec: RunSpec, resumed: bool, done: set[Any]):
        self.db, self.run_id, self.spec, self.resumed = db, run_id, spec, resumed
        self.done = done  # what earlier attempts already saved (doc ids, or the caller's own keys)

    def pending(self, items: Sequence[T]) -> list[T]:
        """The items no earlier attempt saved."""
        return [i for i in items if i.doc_id not in self.done]

    def save(self, records: Iterable[Record]) -> None:
        """Write scored records at once (one transaction)."""
        self.db.add_samples(self.run_id, records)

    def records(self) -> list[Record]:
        return self.db.sample_records(self.run_id)

    @contextmanager
    def recording(self, share: float = 1.0) -> Iterator[Run]:
        """Adds the time spent (``share`` of it, where several runs share the work) to the run; any error or
        interrupt marks it failed / interrupted, never complete, and is raised again."""
        started = time.time()
        try:
            yield self
        except BaseException as exc:
            self.db.add_time(self.run_id, (time.time() - started) * share)
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self.db.fail_run(self.run_id, status, f"{type(exc).__name__}: {exc}")
            raise
        self.db.add_time(self.run_id, (time.time() - started) * share)

    def finish(self, metrics: dict[str, Any]) -> None:
        self.db.finish_run(self.run_id, metrics)


def start(
    db: Store,
    spec: RunSpec,
    *,
    done: Callable[[str], set[Any]] | None = None,
    noun: str = "items",
    verb: str = "scored",
    quiet: bool = False,
) -> Run:
    """Open the unfinished run with the spec's key (printing how much of it is saved), or create one.

    ``done(run_id)`` lists what a resumed run already holds (default: its items' doc ids).
    """
    run_id, resumed = db.open_run(
        run_key(spec.key),
        task=spec.task,
        model=spec.model,
        model_identity=spec.identity,
        data_source=spec.source,
        data_fingerprint=spec.data_fingerprint,
        prompt_template=spec.template,
        config=spec.config,
        versions=versions(),
        command=spec.command,
        n_items=spec.n_items,
    )
    saved = (done or db.done_doc_ids)(run_id) if resumed else set()
    if resumed and not quiet:
        print(f"Resuming run {run_id}: {len(saved)} of {spec.n_items} {noun} already {verb}.")
    return Run(db, run_id, spec, resumed, saved)


def save_complete(
    db: Store, spec: RunSpec, records: Sequence[Record], metrics: dict[str, Any], seconds: float = 0.0
) -> str:
    """A run whose items were all scored up front (stand-alone scores): saved and finished in one go."""
    run = start(db, spec, quiet=True)
    run.save(records)
    db.add_time(run.run_id, seconds)
    run.finish(metrics)
    return run.run_id
