"""The public Python API. Magics and the CLI are thin shells over these functions."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import WorkbenchError
from .evaluation import EvalResult, evaluate_task
from .models import DEFAULT_MODEL
from .store import Store

if TYPE_CHECKING:
    from .tasks import Task


def evaluate(
    task: str,
    model: str | Sequence[str] = DEFAULT_MODEL,
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
    judge: Any = None,
    device: str | None = None,
    dtype: str | None = None,
    adapter: str | Path | None = None,
    backend: str | None = None,
) -> Any:
    """Evaluate ``model`` on ``task`` and save the run and every scored item in the project store.

    ``task`` is a task ('arc_easy'), a group ('arc': every member, each its own run) or a suite with published
    settings ('open_llm_leaderboard'); a group or suite returns a ``SuiteResult``, a task an ``EvalResult``.
    Several models ('a,b' or a list) return a ``Leaderboard`` (``workbench.leaderboard``).
    ``shots`` None uses the task's default (0; 5 for gsm8k). ``mode`` scores a multiple-choice task by
    'loglikelihood' (the default, as the harness) or 'generate' (the model writes the option's label, as
    Horangi); ``chat`` sends generated prompts through the model's chat template. ``max_new_tokens`` caps
    generated answers of generation tasks (default: the task's own limit).
    Repeating a call that was interrupted resumes it: items already scored are not scored again. While another
    live process runs the same call, the call is refused naming that process; ``separate=True`` starts a run
    of its own instead. ``judge`` (a judge model, for 'horangi') adds the suite's LLM-judged half.
    ``device`` ('auto', 'cpu', 'cuda', 'cuda:N', 'mps') and ``dtype`` ('auto', 'float32', 'bfloat16', 'float16',
    'int8') say where and in which number format local weights run (auto: CUDA if present, else MPS, else the CPU;
    float32 on the CPU, bfloat16 on CUDA); ``adapter`` merges a PEFT (LoRA) adapter folder into the base model;
    ``backend='llama.cpp'`` runs a GGUF alias or file through llama.cpp as deployed. All are recorded in the run.
    """
    from . import suites
    from .tasks import suites as defined

    values: dict[str, Any] = {"limit": limit, "shots": shots, "batch_size": batch_size, "store": store,
                              "command": command, "mode": mode, "chat": chat, "max_new_tokens": max_new_tokens,
                              "separate": separate, "device": device, "dtype": dtype, "adapter": adapter,
                              "backend": backend}  # fmt: skip
    names = suites.model_list(model)
    if len(names) > 1:
        from .leaderboards import leaderboard

        if data is not None or judge is not None:
            raise WorkbenchError("data= and judge= apply to one model's runs; leave them out for a leaderboard.")
        return leaderboard(task, models=names, **values)
    found = defined.find(task) if isinstance(task, str) else None
    if found is not None:
        if data is not None:
            raise WorkbenchError(
                f"{task} runs several tasks, each with its own rows: data= applies to one task. Leave it out, or "
                "evaluate the member it is for."
            )
        return suites.run_suite(found, names[0], judge=judge, **values)
    if judge is not None:
        raise WorkbenchError(
            "judge= applies to a suite with a judged half (horangi); to judge a run's answers use "
            "workbench.judge(run, judge=...)."
        )
    return evaluate_task(task, names[0], data=data, **values)


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


def suites():
    """Every group and suite: its kind (a group takes the call's shots and mode; a suite fixes them), members with
    their settings, how the headline is computed, and what it is. ``define_suite`` adds your own."""
    import pandas as pd

    from .tasks import suites as defined

    rows = [
        {"name": s.name, "kind": s.kind, "members": defined.describe(s), "headline": s.headline, "about": s.about}
        for s in defined.SUITES.values()
    ]
    return pd.DataFrame(rows, columns=["name", "kind", "members", "headline", "about"])


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
    device: str | None = None,
    dtype: str | None = None,
    adapter: str | Path | None = None,
    backend: str | None = None,
) -> ModeComparison:
    """Score a multiple-choice task's items by log-likelihood and by generated answers, to compare the two.

    Both runs are saved. ``shots`` applies to the log-likelihood run; generative scoring is zero-shot. ``chat``
    sends the generative prompts through the model's chat template; ``max_new_tokens`` caps generated answers.
    """
    from .tasks import get_task
    from .tasks.generative import for_mode

    for_mode(get_task(task), "generate", chat)  # refuse a task without choices before running anything
    run = functools.partial(
        evaluate_task, task, model, limit=limit, batch_size=batch_size, data=data, store=store, command=command,
        separate=separate, device=device, dtype=dtype, adapter=adapter, backend=backend,
    )  # fmt: skip
    scored = run(shots=shots, mode="loglikelihood")
    generated = run(mode="generate", chat=chat, max_new_tokens=max_new_tokens)
    return ModeComparison(scored, generated)
