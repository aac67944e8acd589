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

A run also records its writer (this process) and keeps a heartbeat while it is recorded (store/liveness.py):
a run whose process died shows as 'interrupted' and is resumed by the same call; a run still being written by
another live process is not shared: ``start`` refuses, naming that process, unless ``separate=True`` asks for
a run of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ..errors import WorkbenchError
from ..store import Store, liveness, run_key
from ..store.runs import RunInProgress
from .provenance import reported_over, versions

Record = dict[str, Any]

# how a caller asks for a run of its own beside one another process is writing (the message names it)
SEPARATE_OPTION = "separate=True (--separate on the command line)"


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

    def __init__(
        self,
        db: Store,
        run_id: str,
        spec: RunSpec,
        resumed: bool,
        done: set[Any],
        writer: liveness.Writer | None = None,
    ):
        self.db, self.run_id, self.spec, self.resumed = db, run_id, spec, resumed
        self.done = done  # what earlier attempts already saved (doc ids, or the caller's own keys)
        self.writer = writer  # this process, as recorded in the run when it was opened

    def pending(self, items: Sequence[T]) -> list[T]:
        """The items no earlier attempt saved."""
        return [i for i in items if i.doc_id not in self.done]

    def save(self, records: Iterable[Record]) -> None:
        """Write scored records at once (one transaction); refuses if another process took the run over."""
        self.db.add_samples(self.run_id, records, writer=self.writer)

    def records(self) -> list[Record]:
        return self.db.sample_records(self.run_id)

    @contextmanager
    def recording(self, share: float = 1.0) -> Iterator[Run]:
        """Adds the time spent (``share`` of it, where several runs share the work) to the run; any error or
        interrupt marks it failed / interrupted, never complete, and is raised again. While inside, the run is
        live: its heartbeat is refreshed in the background.

        If the store cannot record the failure either (a full disk), the original error is raised all the
        same, and the run, no longer recorded here, shows as 'interrupted' (liveness.py).
        """
        started = time.time()
        token = self.writer.token if self.writer else ""
        with liveness.active(self.db.path, self.run_id, token):
            try:
                yield self
            except BaseException as exc:
                status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                try:
                    self.db.add_time(self.run_id, (time.time() - started) * share)
                    self.db.fail_run(self.run_id, status, f"{type(exc).__name__}: {exc}")
                except (WorkbenchError, OSError):  # e.g. the disk that failed the run is still full
                    pass
                raise
        self.db.add_time(self.run_id, (time.time() - started) * share)

    def finish(self, metrics: dict[str, Any], records: Sequence[Record] | None = None) -> None:
        """Mark the run complete with its metrics, and record in its ``model_identity`` what the model's endpoint
        reported about itself over all the run's answers (``reported``: model names and system fingerprints with
        counts; nothing for local models). ``records``: the run's records when the caller has just read them."""
        reported = reported_over(self.records() if records is None else records)
        self.db.finish_run(self.run_id, metrics, identity={"reported": reported} if reported else None)


def start(
    db: Store,
    spec: RunSpec,
    *,
    done: Callable[[str], set[Any]] | None = None,
    noun: str = "items",
    verb: str = "scored",
    quiet: bool = False,
    separate: bool = False,
) -> Run:
    """Open the unfinished run with the spec's key (printing how much of it is saved), or create one.

    ``done(run_id)`` lists what a resumed run already holds (default: its items' doc ids). An unfinished run
    whose process is gone is resumed; one still being written by another live process is refused with a
    message naming it (wait for it, or pass ``separate=True``). ``separate=True`` always starts a new run.
    """
    writer = liveness.this_process()
    try:
        run_id, resumed = db.open_run(
            run_key(spec.key),
            writer=writer,
            separate=separate,
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
    except RunInProgress as busy:
        raise WorkbenchError(busy_message(busy, noun)) from None
    saved = (done or db.done_doc_ids)(run_id) if resumed else set()
    if resumed and not quiet:
        print(f"Resuming run {run_id}: {len(saved)} of {spec.n_items} {noun} already {verb}.")
    return Run(db, run_id, spec, resumed, saved, writer)


def busy_message(busy: RunInProgress, noun: str = "items") -> str:
    """Why a call is refused while another process writes its run, and the two ways on."""
    beat = f", last sign of life {time.time() - busy.heartbeat_at:.0f} s ago" if busy.heartbeat_at else ""
    return (
        f"Run {busy.run_id} of this same call is still being written by {busy.writer.describe()}{beat}. Two "
        f"processes writing one run would do its {noun} twice and add up their times, so this one did not start. "
        f"Either wait for it to finish (`workbench runs` shows it as complete, or as interrupted if that process "
        f"dies, when the same call resumes it), or start a separate run of your own with {SEPARATE_OPTION}."
    )


def save_complete(
    db: Store, spec: RunSpec, records: Sequence[Record], metrics: dict[str, Any], seconds: float = 0.0
) -> str:
    """A run whose items were all scored up front (stand-alone scores): saved and finished in one go."""
    run = start(db, spec, quiet=True)
    run.save(records)
    db.add_time(run.run_id, seconds)
    run.finish(metrics)
    return run.run_id
