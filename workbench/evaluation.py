"""One task's run for one model: the data read, the items built, the model asked, every record saved through
the run lifecycle, the metrics aggregated. ``api.evaluate`` (and the suites and leaderboards above it) call it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import options
from .errors import WorkbenchError, check_count
from .models import DEFAULT_MODEL
from .models.loading import LoadSettings
from .store import Store

if TYPE_CHECKING:
    from .tasks import Task


@dataclass
class EvalResult:
    """One finished run: its metrics, its samples (a DataFrame) and where it is stored."""

    run_id: str
    task: str
    model: str
    metrics: dict[str, Any]
    duration_s: float
    store_path: Path
    resumed_items: int = 0
    _samples: Any = field(default=None, repr=False)

    @property
    def samples(self):
        """One row per item: doc_id, gold, pred, pred_norm, loglikelihoods, prompt, ..."""
        if self._samples is None:
            self._samples = Store(self.store_path).samples(self.run_id)
        return self._samples

    def summary(self):
        """Metric table: value, standard error, 95% interval, items, model, time taken."""
        from .tables import metrics_table, with_usage

        run = Store(self.store_path).run(self.run_id)
        return with_usage(metrics_table(run), run)

    def figure(self):
        """Interactive bar chart of the metrics with 95% error bars."""
        from .charts import metric_bars

        return metric_bars(self.summary())


def _resolve_shots(spec: Task, shots: int | None) -> int:
    """The task's own number of examples when ``shots`` is None; refused where the task fixes them."""
    if shots is None:
        return spec.default_shots
    if spec.fixed_shots and shots != spec.default_shots:
        raise WorkbenchError(f"{spec.fixed_shots}: --shots {shots} cannot change that. Leave --shots out.")
    return shots


def evaluate_task(
    task: str,
    model: str = DEFAULT_MODEL,
    *,
    limit: int | None = None,
    shots: int | None = None,
    batch_size: int = 16,
    data: str | Path | None = None,
    store: str | Path | None = None,
    command: str | None = None,
    mode: str | None = None,
    chat: bool = False,
    max_new_tokens: int | None = None,
    separate: bool = False,
    reuse: bool = False,
    loader: Callable[[], Any] | None = None,
    device: str | None = None,
    dtype: str | None = None,
    adapter: str | Path | None = None,
    backend: str | None = None,
) -> EvalResult:
    """One task's run (``evaluate`` for a single task). ``reuse`` returns the newest complete run of the same
    call instead of running it again (suites and leaderboards); ``loader`` gives the model (loaded once for
    every member of a suite; default: ``models.load``)."""
    from . import models
    from .data import fingerprint, load_rows
    from .engine.runner import check_kinds, score_items
    from .models.pricing import run_usage
    from .run import lifecycle
    from .store import run_key
    from .tasks import get_task
    from .tasks.generative import for_mode

    check_count("--limit", limit, 1)
    check_count("--shots", shots, 0)
    check_count("--batch-size", batch_size, 1, required=True)
    check_count("max_new_tokens", max_new_tokens, 1)
    models.resolve(model)  # a bad model name is refused before any data is read
    settings = LoadSettings.of(device, dtype, str(adapter) if adapter else None, backend)
    identity = models.describe(model, settings)  # a device or dtype this machine cannot do: refused here
    spec = for_mode(get_task(task), mode, chat)
    shots = _resolve_shots(spec, shots)
    if max_new_tokens is not None:
        spec = spec.with_max_new_tokens(max_new_tokens)
    rows = load_rows(spec.data, spec.eval_split, data)
    docs = spec.select_docs(rows.rows, limit)
    if not docs:
        raise WorkbenchError(f"{rows.source} has no rows for {task}; check the file or the mirror.")
    # a task without a fewshot split takes no shots: its build_items says so
    pool = load_rows(spec.data, spec.fewshot_split).rows if shots and spec.fewshot_split is not None else []
    items = spec.build_items(docs, pool, shots)
    check_kinds(model, items)  # API models answer generation requests only

    values = {"task": task, "model": model, "limit": limit, "shots": shots, "batch_size": batch_size, "data": data,
              "store": store, "mode": mode, "chat": chat, "max_new_tokens": max_new_tokens,
              "separate": separate, "device": device, "dtype": dtype, "adapter": adapter,
              "backend": backend}  # fmt: skip
    data_fp = fingerprint(list(docs) + list(pool))
    key = {**options.key_fields(options.EVAL, values), "model": identity["fingerprint"], "data": data_fp,
           "template": spec.template, **models.load_key(identity)}  # fmt: skip
    db = Store(store)
    done = db.complete_run(run_key(key)) if reuse and not separate else None
    if done is not None:
        record = db.run(done)
        print(f"{task} | {model}: reusing complete run {done} of the same call.")
        return EvalResult(done, task, model, record["metrics"], record["duration_s"], db.path)
    lm = (
        loader or functools.partial(models.load, model, settings)
    )()  # before the run exists: a model that cannot load
    run = lifecycle.start(  # leaves no failed run behind
        db,
        lifecycle.RunSpec(
            task=task,
            model=model,
            identity=identity,
            source=rows.source,
            data_fingerprint=data_fp,
            template=spec.template,
            config=options.config(options.EVAL, values),
            key=key,
            command=command or options.call_text("evaluate", options.EVAL, values),
            n_items=len(items),
        ),
        separate=separate,
    )
    with run.recording():
        pending = run.pending(items)
        if pending:
            score_items(lm, spec, pending, run.save, batch_size=batch_size, description=f"{task} | {model}")
        records = run.records()
        metrics = spec.aggregate(records)
        metrics.update(run_usage(identity, records))  # tokens and cost, where recorded
    run.finish(metrics, records)
    record = db.run(run.run_id)
    return EvalResult(run.run_id, task, model, metrics, record["duration_s"], db.path, resumed_items=len(run.done))
