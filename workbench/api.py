"""The public Python API. Magics and the CLI are thin shells over these functions."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import options
from .errors import WorkbenchError, check_count
from .models import DEFAULT_MODEL
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
    separate: bool = False,
) -> EvalResult:
    """Evaluate ``model`` on ``task`` and save the run and every scored item in the project store.

    ``shots`` None uses the task's default (0; 5 for gsm8k). ``mode`` scores a multiple-choice task by
    'loglikelihood' (the default, as the harness) or 'generate' (the model writes the option's label, as
    Horangi); ``chat`` sends generated prompts through the model's chat template. ``max_new_tokens`` caps
    generated answers of generation tasks (default: the task's own limit).
    Repeating a call that was interrupted resumes it: items already scored are not scored again. While another
    live process runs the same call, the call is refused naming that process; ``separate=True`` starts a run
    of its own instead.
    """
    from . import models
    from .data import fingerprint, load_rows
    from .engine.runner import check_kinds, score_items
    from .models.pricing import run_usage
    from .run import lifecycle
    from .tasks import get_task
    from .tasks.generative import for_mode

    check_count("--limit", limit, 1)
    check_count("--shots", shots, 0)
    check_count("--batch-size", batch_size, 1, required=True)
    check_count("max_new_tokens", max_new_tokens, 1)
    models.resolve(model)  # a bad model name is refused before any data is read
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
    identity = models.describe(model)

    values = {"task": task, "model": model, "limit": limit, "shots": shots, "batch_size": batch_size, "data": data,
              "store": store, "mode": mode, "chat": chat, "max_new_tokens": max_new_tokens,
              "separate": separate}  # fmt: skip
    data_fp = fingerprint(list(docs) + list(pool))
    key = {**options.key_fields(options.EVAL, values), "model": identity["fingerprint"], "data": data_fp,
           "template": spec.template}  # fmt: skip
    lm = models.load(model)  # before the run exists: a model that cannot load leaves no failed run behind
    db = Store(store)
    run = lifecycle.start(
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
    run.finish(metrics)
    record = db.run(run.run_id)
    return EvalResult(run.run_id, task, model, metrics, record["duration_s"], db.path, resumed_items=len(run.done))


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

    if store is not None and not isinstance(store, (str, Path)):
        raise WorkbenchError(
            f"store must be the path of a project store file, e.g. store='project.sqlite' (got {store!r:.60})."
        )
    return runs_table(Store(store, create=False).runs())


def samples(run_id: str, store: str | Path | None = None):
    """A saved run's per-item records as a DataFrame; a run id the store does not hold is refused, naming it."""
    run_id = getattr(run_id, "run_id", run_id)  # an EvalResult (or any result with a run_id) names its run
    if not isinstance(run_id, str) or not run_id:
        raise WorkbenchError(
            f"Name a run by its id, e.g. workbench.samples('1a2b3c4d') (got {run_id!r:.60}); workbench.runs() "
            "lists them."
        )
    if store is not None and not isinstance(store, (str, Path)):
        raise WorkbenchError(
            f"store must be the path of a project store file, e.g. store='project.sqlite' (got {store!r:.60})."
        )
    db = Store(store, create=False)
    db.run(run_id)  # refuses a run id the store does not hold, naming the store and how to list its runs
    return db.samples(run_id)


# Eval-split sizes and mirror files of the tasks that do not declare them yet (``size=`` / ``mirror=`` in their
# task definitions would make these unnecessary): the listing never loads data to count rows.
_LISTED: dict[str, tuple[int, str]] = {
    "arc_easy": (2376, "arc/ARC-Easy/ARC-Easy-Test.jsonl"),
    "arc_challenge": (1172, "arc/ARC-Challenge/ARC-Challenge-Test.jsonl"),
    "wikitext": (62, "wikitext2/wiki.test.tokens"),
    "flores:": (1012, "flores200/devtest/"),  # every FLORES-200 pair: 1012 devtest sentences per language
}


def _listed(task: Task) -> tuple[int, str] | None:
    name = task.name
    return _LISTED.get(name) or (_LISTED["flores:"] if name.startswith("flores:") else None)


def _task_size(task: Task) -> int | None:
    """Items in the task's eval split, known without loading it (None for a task that does not say)."""
    if task.size is not None:
        return task.size
    listed = _listed(task)
    return listed[0] if listed else None


def tasks():
    """Every task with its size, splits, default shots, metrics, scoring modes and where its rows come from:
    the hub dataset, and the file that holds the eval split in a local mirror ($WORKBENCH_DATA_DIR). Nothing
    is loaded. ``workbench tasks`` and ``%llm_eval --list`` show it in fewer columns."""
    import pandas as pd

    from .tasks import REGISTRY
    from .tasks.generative import has_choices

    rows = []
    for t in REGISTRY.values():
        shots = t.default_shots
        listed = _listed(t)
        mirror = t.mirror or (listed[1] if listed else "")
        if mirror.endswith("/"):  # one file per language
            mirror += "*." + t.eval_split
        rows.append(
            {
                "task": t.name,
                "size": _task_size(t),
                "eval split": t.eval_split,
                "few-shot split": t.fewshot_split,
                "shots": f"{shots} (fixed)" if t.fixed_shots else shots,
                "metrics": ", ".join(t.metrics),
                "modes": "loglikelihood, generate" if has_choices(t) else "",
                "hub dataset": f"{t.data.hub_path}/{t.data.hub_name}" if t.data.hub_name else t.data.hub_path,
                "mirror": mirror,
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
    separate: bool = False,
) -> ModeComparison:
    """Score a multiple-choice task's items by log-likelihood and by generated answers, to compare the two.

    Both runs are saved. ``shots`` applies to the log-likelihood run; generative scoring is zero-shot. ``chat``
    sends the generative prompts through the model's chat template; ``max_new_tokens`` caps generated answers.
    """
    from .tasks import get_task
    from .tasks.generative import for_mode

    for_mode(get_task(task), "generate", chat)  # refuse a task without choices before running anything
    run = functools.partial(
        evaluate, task, model, limit=limit, batch_size=batch_size, data=data, store=store, command=command,
        separate=separate,
    )  # fmt: skip
    scored = run(shots=shots, mode="loglikelihood")
    generated = run(mode="generate", chat=chat, max_new_tokens=max_new_tokens)
    return ModeComparison(scored, generated)
