"""The public Python API. Magics and the CLI are thin shells over these functions."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import WorkbenchError
from .models import DEFAULT_MODEL
from .store import Store

PACKAGES = ("workbench", "torch", "transformers", "datasets", "numpy", "pandas", "tokenizers")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        dist = "llm-eval-workbench" if name == "workbench" else name
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


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
        from .tables import metrics_table

        return metrics_table(Store(self.store_path).run(self.run_id))

    def figure(self):
        """Interactive bar chart of the metrics with 95% error bars."""
        from .charts import metric_bars

        return metric_bars(self.summary())


def _check_count(name: str, value: int | None, minimum: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WorkbenchError(
            f"{name} must be a whole number of at least {minimum} (got {value!r})."
            + (" Leave --limit out to evaluate every item." if name == "--limit" else "")
        )


def _call_text(task: str, kwargs: dict[str, Any]) -> str:
    args = ", ".join([repr(task)] + [f"{k}={v!r}" for k, v in kwargs.items() if v is not None])
    return f"workbench.evaluate({args})"


def evaluate(
    task: str,
    model: str = DEFAULT_MODEL,
    *,
    limit: int | None = None,
    shots: int = 0,
    batch_size: int = 16,
    data: str | Path | None = None,
    store: str | Path | None = None,
    command: str | None = None,
) -> EvalResult:
    """Evaluate ``model`` on ``task`` and save the run and every scored item in the project store.

    Repeating a call that was interrupted resumes it: items already scored are not scored again.
    """
    from . import models, runner
    from .data import fingerprint, load_rows
    from .tasks import get_task

    _check_count("--limit", limit, 1)
    _check_count("--shots", shots, 0)
    _check_count("--batch-size", batch_size, 1)
    spec = get_task(task)
    rows = load_rows(spec.data, spec.eval_split, data)
    docs = rows.rows[:limit] if limit else rows.rows
    if not docs:
        raise WorkbenchError(f"{rows.source} has no rows for {task}; check the file or the mirror.")
    pool = load_rows(spec.data, spec.fewshot_split).rows if shots else []
    items = spec.build_items(docs, pool, shots)
    identity = models.describe(model)

    config = {"limit": limit, "shots": shots, "batch_size": batch_size, "fewshot_seed": 1234, "data": str(data or "")}
    data_fp = fingerprint(list(docs) + list(pool))
    key_fields = {
        "task": task,
        "model": identity["fingerprint"],
        "data": data_fp,
        "template": spec.template,
        "limit": limit,
        "shots": shots,
    }
    run_key = hashlib.sha256(json.dumps(key_fields, sort_keys=True).encode()).hexdigest()
    db = Store(store)
    run_id = db.resumable_run(run_key)
    done: set[int] = set()
    if run_id:
        done = db.done_doc_ids(run_id)
        db.mark_running(run_id)
        print(f"Resuming run {run_id}: {len(done)} of {len(items)} items already scored.")
    else:
        run_id = db.create_run(
            run_key=run_key,
            task=task,
            model=model,
            model_identity=identity,
            data_source=rows.source,
            data_fingerprint=data_fp,
            prompt_template=spec.template,
            config=config,
            versions=versions(),
            command=command or _call_text(task, {"model": model, "limit": limit, "shots": shots, "data": data}),
            n_items=len(items),
        )
    started = time.time()
    try:
        pending = [i for i in items if i.doc_id not in done]
        if pending:
            lm = models.load(model)
            runner.score_items(lm, spec, pending, db, run_id, batch_size=batch_size, description=f"{task} | {model}")
        metrics = spec.aggregate(db.sample_records(run_id))
        db.add_time(run_id, time.time() - started)
        db.finish_run(run_id, metrics)
    except BaseException as exc:
        db.add_time(run_id, time.time() - started)
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        db.fail_run(run_id, status, f"{type(exc).__name__}: {exc}")
        raise
    record = db.run(run_id)
    return EvalResult(run_id, task, model, metrics, record["duration_s"], db.path, resumed_items=len(done))


def runs(store: str | Path | None = None):
    """Saved runs as a table (newest first): id, status, task, model, main metric, items, time."""
    from .tables import runs_table

    return runs_table(Store(store).runs())


def samples(run_id: str, store: str | Path | None = None):
    """A saved run's per-item records as a DataFrame."""
    return Store(store).samples(run_id)


def tasks():
    """Every task with its splits, metrics and source."""
    import pandas as pd

    from .tasks import REGISTRY

    return pd.DataFrame(
        [
            {
                "task": t.name,
                "eval split": t.eval_split,
                "few-shot split": t.fewshot_split,
                "metrics": ", ".join(t.metrics),
                "hub dataset": f"{t.data.hub_path}/{t.data.hub_name or ''}",
                "about": t.summary,
            }
            for t in REGISTRY.values()
        ]
    )
