"""The public Python API. Magics and the CLI are thin shells over these functions."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import WorkbenchError
from .models import DEFAULT_MODEL
from .store import Store, run_key

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
        from .tables import metrics_table, with_usage

        run = Store(self.store_path).run(self.run_id)
        return with_usage(metrics_table(run), run)

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


def _resolve_shots(spec: Any, shots: int | None) -> int:
    """The task's own number of examples when ``shots`` is None; refused where the task fixes them."""
    default = getattr(spec, "default_shots", 0)
    if shots is None:
        return default
    fixed = getattr(spec, "fixed_shots", "")
    if fixed and shots != default:
        raise WorkbenchError(f"{fixed}: --shots {shots} cannot change that. Leave --shots out.")
    return shots


def _with_max_new_tokens(spec: Any, max_new_tokens: int) -> Any:
    """The task with another cap on generated tokens, or a message when it generates nothing."""
    import dataclasses

    _check_count("max_new_tokens", max_new_tokens, 1)
    if not dataclasses.is_dataclass(spec) or "max_new_tokens" not in {f.name for f in dataclasses.fields(spec)}:
        raise WorkbenchError(f"{spec.name} does not generate text, so max_new_tokens does not apply; leave it out.")
    return dataclasses.replace(spec, max_new_tokens=max_new_tokens)


def evaluate(
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
) -> EvalResult:
    """Evaluate ``model`` on ``task`` and save the run and every scored item in the project store.

    ``shots`` None uses the task's default (0; 5 for gsm8k). ``mode`` scores a multiple-choice task by
    'loglikelihood' (the default, as the harness) or 'generate' (the model writes the option's label, as
    Horangi); ``chat`` sends generated prompts through the model's chat template. ``max_new_tokens`` caps
    generated answers of generation tasks (default: the task's own limit).
    Repeating a call that was interrupted resumes it: items already scored are not scored again.
    """
    from . import models, runner
    from .data import fingerprint, load_rows
    from .models.openai import check_request_kinds
    from .models.pricing import run_usage
    from .tasks import get_task
    from .tasks.generative import for_mode

    _check_count("--limit", limit, 1)
    _check_count("--shots", shots, 0)
    _check_count("--batch-size", batch_size, 1)
    spec = for_mode(get_task(task), mode, chat)
    shots = _resolve_shots(spec, shots)
    if max_new_tokens is not None:
        spec = _with_max_new_tokens(spec, max_new_tokens)
    rows = load_rows(spec.data, spec.eval_split, data)
    select = getattr(spec, "select_docs", None)
    docs = select(rows.rows, limit) if select else (rows.rows[:limit] if limit else rows.rows)
    if not docs:
        raise WorkbenchError(f"{rows.source} has no rows for {task}; check the file or the mirror.")
    pool = load_rows(spec.data, spec.fewshot_split).rows if shots else []
    items = spec.build_items(docs, pool, shots)
    check_request_kinds(model, items)  # API models answer generation requests only
    identity = models.describe(model)

    config = {
        "limit": limit,
        "shots": shots,
        "batch_size": batch_size,
        "fewshot_seed": 1234,
        "data": str(data or ""),
        "mode": mode,
        "chat": chat,
        "max_new_tokens": max_new_tokens,
    }
    data_fp = fingerprint(list(docs) + list(pool))
    key_fields = {
        "task": task,
        "model": identity["fingerprint"],
        "data": data_fp,
        "template": spec.template,
        "limit": limit,
        "shots": shots,
        **({"max_new_tokens": max_new_tokens} if max_new_tokens is not None else {}),
    }
    db = Store(store)
    run_id, resumed = db.open_run(
        run_key(key_fields),
        task=task,
        model=model,
        model_identity=identity,
        data_source=rows.source,
        data_fingerprint=data_fp,
        prompt_template=spec.template,
        config=config,
        versions=versions(),
        command=command
        or _call_text(
            task,
            {"model": model, "limit": limit, "shots": shots, "data": data, "mode": mode, "chat": chat or None}
            | {"max_new_tokens": max_new_tokens},
        ),
        n_items=len(items),
    )
    done = db.done_doc_ids(run_id) if resumed else set()
    if resumed:
        print(f"Resuming run {run_id}: {len(done)} of {len(items)} items already scored.")
    with db.recording(run_id):
        pending = [i for i in items if i.doc_id not in done]
        if pending:
            lm = models.load(model)
            score_items = runner.score_items
            if getattr(spec, "multi_turn", False):  # each turn's request holds the answers before it
                from .judge.answers import score_items
            elif hasattr(lm, "iter_generate"):  # API models: each item saved the moment its answers arrive
                from .judge.answers import score_streaming as score_items
            score_items(lm, spec, pending, db, run_id, batch_size=batch_size, description=f"{task} | {model}")
        metrics = spec.aggregate(db.sample_records(run_id))
        metrics.update(run_usage(identity, db.sample_records(run_id)))  # tokens and cost, where recorded
    db.finish_run(run_id, metrics)
    record = db.run(run_id)
    return EvalResult(run_id, task, model, metrics, record["duration_s"], db.path, resumed_items=len(done))


def judge(run: Any, other: Any = None, **options: Any):
    """LLM-as-a-judge over saved runs: single 1-10 grading, or pairwise in both orders (``workbench.judge.core``).

    ``workbench.judge(run, judge="openai:gpt-4o")``; ``workbench.judge(run_a, run_b, judge=...)``. Returns a
    ``JudgeResult``: ``summary()``, ``figure()``, ``view()``, ``agreement()``.
    """
    from .judge.core import judge as judge_runs

    return judge_runs(run, other, **options)


def runs(store: str | Path | None = None):
    """Saved runs as a table (newest first): id, status, task, model, main metric, items, time."""
    from .tables import runs_table

    return runs_table(Store(store).runs())


def samples(run_id: str, store: str | Path | None = None):
    """A saved run's per-item records as a DataFrame."""
    return Store(store).samples(run_id)


def _task_size(task: Any) -> int | None:
    """Items in the task's eval split: known for most tasks, else counted in the mirror when there is one."""
    size = getattr(task, "size", None)
    if size is not None:
        return size
    import warnings

    from .data import load_rows
    from .settings import data_dir

    if data_dir() is None:
        return None
    try:
        with warnings.catch_warnings():  # a mirror's notes on its files belong to runs, not to the list
            warnings.simplefilter("ignore")
            return len(load_rows(task.data, task.eval_split).rows)
    except WorkbenchError:
        return None


def tasks():
    """Every task with its size, splits, default shots, metrics, scoring modes and source."""
    import pandas as pd

    from .tasks import REGISTRY
    from .tasks.generative import has_choices

    rows = []
    for t in REGISTRY.values():
        shots = getattr(t, "default_shots", 0)
        rows.append(
            {
                "task": t.name,
                "size": _task_size(t),
                "eval split": t.eval_split,
                "few-shot split": t.fewshot_split,
                "shots": f"{shots} (fixed)" if getattr(t, "fixed_shots", "") else shots,
                "metrics": ", ".join(t.metrics),
                "modes": "loglikelihood, generate" if has_choices(t) else "",
                "hub dataset": f"{t.data.hub_path}/{t.data.hub_name or ''}",
                "mirror": getattr(t, "mirror", ""),
                "about": t.summary,
            }
        )
    frame = pd.DataFrame(rows)
    frame["size"] = frame["size"].astype("Int64")
    return frame


@dataclass
class ModeComparison:
    """The same items scored both ways: by log-likelihood (as the harness) and by the answer the model writes."""

    loglikelihood: EvalResult
    generate: EvalResult

    def items(self):
        """One row per item: each mode's answer and correctness, whether they agree, the generated text."""
        from .tables import mode_items

        return mode_items(self.loglikelihood.samples, self.generate.samples)

    def table(self):
        """Both scores with intervals, the extraction failure rate, and how often the two modes agree."""
        from .tables import mode_table

        return mode_table(self.loglikelihood.metrics, self.generate.metrics, self.items())

    def disagreements(self):
        """The items where the two modes pick different answers."""
        items = self.items()
        return items[~items["agree"]].reset_index(drop=True)

    def figure(self):
        """Stacked bar: items both modes get right, only one gets right, both get wrong."""
        from .charts import mode_agreement

        return mode_agreement(self.items(), f"{self.loglikelihood.task} | {self.loglikelihood.model}")


def compare_modes(
    task: str,
    model: str = DEFAULT_MODEL,
    *,
    limit: int | None = None,
    shots: int | None = None,
    batch_size: int = 16,
    data: str | Path | None = None,
    store: str | Path | None = None,
    command: str | None = None,
    chat: bool = False,
    max_new_tokens: int | None = None,
) -> ModeComparison:
    """Score a multiple-choice task's items by log-likelihood and by generated answers, to compare the two.

    Both runs are saved. ``shots`` applies to the log-likelihood run; generative scoring is zero-shot. ``chat``
    sends the generative prompts through the model's chat template; ``max_new_tokens`` caps generated answers.
    """
    from .tasks import get_task
    from .tasks.generative import for_mode

    for_mode(get_task(task), "generate", chat)  # refuse a task without choices before running anything
    common = {"limit": limit, "batch_size": batch_size, "data": data, "store": store, "command": command}
    scored = evaluate(task, model, shots=shots, mode="loglikelihood", **common)
    generated = evaluate(task, model, mode="generate", chat=chat, max_new_tokens=max_new_tokens, **common)
    return ModeComparison(scored, generated)
