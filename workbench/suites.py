"""Groups and suites: several tasks run as one, each member its own resumable run in the project store.

A *group* ('arc', 'truthfulqa', 'kobest') runs its members as the call asks (``--shots``, ``--mode`` apply to
each). A *suite* fixes each member's settings as a published leaderboard ran them ('open_llm_leaderboard',
'horangi'); its headline is computed as that leaderboard computed it (the plain mean of the members' scores).
Both are data, in :data:`SUITES`; ``define_suite`` adds a user's own. A member's numbers are exactly those of
running it alone: a suite only calls ``api.evaluate_task`` once per member, loading the model once, and reuses
any complete run of the same call already in the store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import WorkbenchError, suggest
from .tasks.suites import BUILT_IN, SUITES, Member, Suite, describe

if TYPE_CHECKING:
    import pandas as pd

    from .evaluation import EvalResult


def model_list(model: str | Sequence[str]) -> list[str]:
    """'a,b,c' or ['a', 'b'] as a list of model names; a single name as a list of one."""
    if isinstance(model, str) and "," not in model:
        return [model]  # one model: models.resolve judges the name
    if isinstance(model, str):
        from .models.registry import split_specs

        listed = split_specs(model)
    elif isinstance(model, Sequence) and all(isinstance(m, str) for m in model):
        listed = [m.strip() for m in model]
    else:
        from .models import resolve

        resolve(model)  # type: ignore[arg-type]  # refuses it, naming the accepted forms
        raise WorkbenchError(f"Name a model, or several as 'a,b' or a list (got {model!r:.60}).")
    if not listed or any(not m for m in listed):
        raise WorkbenchError(
            f"Empty model name in {model!r:.80}: give models as 'smollm2-135m,gemma3-270m' (no empty entries)."
        )
    if len(set(listed)) < len(listed):
        raise WorkbenchError(f"A model is named twice in {model!r:.80}; name each once.")
    return listed


def define_suite(
    name: str, members: Sequence[tuple[Any, ...] | str], about: str = "", *, replace: bool = False
) -> Suite:
    """Add a suite of your own: ``define_suite("my_suite", [("arc_easy", 0, "acc"), ("hellaswag", 10,
    "acc_norm")])``. Each member is (task, shots, metric) or (task, shots, metric, mode), or just a task name
    (its defaults). It is then run like a built-in one: ``evaluate("my_suite")``, ``leaderboard("my_suite",
    models=[...])``. Lives for this Python process; ``replace=True`` redefines one of yours."""
    from .tasks import REGISTRY, get_task
    from .tasks.generative import for_mode

    if not isinstance(name, str) or not name.strip() or "," in name:
        raise WorkbenchError(f"Name the suite with a word such as 'my_suite' (got {name!r:.60}).")
    if name in REGISTRY or name in BUILT_IN or (name in SUITES and not replace):
        what = "task" if name in REGISTRY else "built-in suite" if name in BUILT_IN else "suite you defined"
        hint = " Pass replace=True to redefine it." if what == "suite you defined" else ""
        raise WorkbenchError(f"{name!r} is already a {what}; choose another name.{hint}")
    if isinstance(members, str) or not members:
        raise WorkbenchError(
            "Give the members as a list, e.g. [('arc_easy', 0, 'acc'), ('hellaswag', 10, 'acc_norm')]."
        )
    parsed = []
    for m in members:
        entry = (m,) if isinstance(m, str) else tuple(m)
        if not 1 <= len(entry) <= 4:
            raise WorkbenchError(f"A member is (task, shots, metric) or (task, shots, metric, mode); got {m!r:.80}.")
        member = Member(*entry)
        task = for_mode(get_task(member.task), member.mode)  # unknown task or mode: refused, naming the fix
        if member.shots is not None and (isinstance(member.shots, bool) or not isinstance(member.shots, int)):
            raise WorkbenchError(f"{member.task}: shots must be a whole number (got {member.shots!r}).")
        if member.metric is not None and member.metric not in _metrics_of(task):
            raise WorkbenchError(
                f"{member.task} has no metric {member.metric!r}.{suggest(member.metric, _metrics_of(task))} "
                f"Its metrics: {', '.join(_metrics_of(task))}."
            )
        parsed.append(member)
    tasks = [m.task for m in parsed]
    if len(set(tasks)) < len(tasks):
        raise WorkbenchError("Each task may appear once in a suite; define a second suite for other settings.")
    SUITES[name] = Suite(name, tuple(parsed), about or f"Your suite: {', '.join(m.describe() for m in parsed)}.", True)
    return SUITES[name]


def _metrics_of(task: Any) -> list[str]:
    extra = ["acc_subject_mean"] if task.name == "mmlu" else []  # computed beside acc over several subjects
    return [*task.metrics, *extra]


def headline_metric(member: Member) -> str:
    if member.metric:
        return member.metric
    from .tasks import get_task
    from .tasks.generative import for_mode

    return str(for_mode(get_task(member.task), member.mode).metrics[0])


def member_settings(suite: Suite, shots: int | None, mode: str | None) -> list[tuple[Member, int | None, str | None]]:
    """Each member with the shots and mode its run uses; a suite's fixed settings refuse the call's own."""
    if mode == "both":
        raise WorkbenchError(
            f"--mode both compares one task's two scorings; run it on a member, e.g. "
            f"`%llm_eval {suite.members[0].task} --mode both`."
        )
    if suite.fixed and (shots is not None or mode is not None):
        given = " and ".join(x for x, v in (("--shots", shots), ("--mode", mode)) if v is not None)
        raise WorkbenchError(
            f"{suite.name} runs each member with its published settings ({describe(suite)}); {given} cannot "
            "change them. Leave it out, or define a suite of your own with workbench.define_suite."
        )
    return [
        (m, m.shots if m.shots is not None else shots, m.mode if m.mode is not None else mode) for m in suite.members
    ]


@dataclass
class SuiteResult:
    """One model's runs of a group or suite: ``runs`` (task -> that member's ``EvalResult``), ``table()``,
    ``headline()``, ``figure()``."""

    suite: Suite
    model: str
    runs: dict[str, EvalResult] = field(default_factory=dict)
    judged: Any = None  # the JudgeResult of the suite's judged task (Horangi's MT-Bench half), when a judge was given

    def table(self) -> pd.DataFrame:
        """One row per member task and metric (value, stderr, 95% interval, items, run), the metric that counts
        toward the headline marked, and the headline last."""
        import pandas as pd

        from .store import Store
        from .tables import metrics_table

        parts = []
        for member in self.suite.members:
            result = self.runs[member.task]
            part = metrics_table(Store(result.store_path).run(result.run_id))
            part.insert(2, "headline", part["metric"] == headline_metric(member))
            parts.append(part)
        if self.judged is not None:
            from .metrics import normal_ci

            value, stderr = self.judged_score()
            low, high = normal_ci(value, stderr)
            parts.append(pd.DataFrame([{"task": self.suite.judged, "metric": "judge score / 10", "headline": True,
                                        "value": value, "stderr": stderr, "ci95_low": low, "ci95_high": high,
                                        "n": self.judged.metrics.get("n"), "model": self.model,
                                        "run_id": self.judged.run_id}]))  # fmt: skip
        table = pd.concat(parts, ignore_index=True)
        head = self.headline()
        row = {"task": self.suite.name, "metric": "headline", "headline": True, "value": head["value"],
               "stderr": head["stderr"], "ci95_low": head["ci95_low"], "ci95_high": head["ci95_high"],
               "model": self.model}  # fmt: skip
        return pd.concat([table, pd.DataFrame([row])], ignore_index=True)

    summary = table

    @property
    def store_path(self) -> Path:
        return next(iter(self.runs.values())).store_path

    def scores(self) -> dict[str, tuple[float, float]]:
        """Each member's headline metric: task -> (value, stderr)."""
        return {m.task: member_score(self.runs[m.task].metrics, headline_metric(m)) for m in self.suite.members}

    def judged_score(self) -> tuple[float, float]:
        """The judged task's mean judge score brought to 0-1 (score / 10) and its standard error."""
        metrics = self.judged.metrics
        return float(metrics["score"]) / 10, float(metrics.get("score_stderr") or math.nan) / 10

    def headline(self) -> dict[str, float]:
        """The plain mean of the members' scores; with a judged half (Horangi), the mean of that and the judge's
        score / 10, as Horangi blends its two halves."""
        members = combined(list(self.scores().values()))
        if self.judged is None:
            return members
        return combined([(members["value"], members["stderr"]), self.judged_score()])

    def figure(self):
        """Each member's headline metric with its 95% interval, and the headline."""
        from .charts import metric_bars

        table = self.table()
        shown = table[table["headline"].astype(bool)].copy()
        shown["metric"] = [
            f"{t} {m}" if m != "headline" else f"{self.suite.name} (mean)"
            for t, m in zip(shown["task"], shown["metric"])
        ]
        shown["task"], shown["run_id"] = self.suite.name, ""
        return metric_bars(shown, title=f"{self.suite.name} | {self.model}")

    def __repr__(self) -> str:
        head = self.headline()
        return (
            f"SuiteResult({self.suite.name!r}, model={self.model!r}, headline={head['value']:.4f}, "
            f"runs={ {t: r.run_id for t, r in self.runs.items()} })"
        )


def member_score(metrics: dict[str, Any], metric: str) -> tuple[float, float]:
    value = metrics.get(metric)
    if not isinstance(value, (int, float)):
        raise WorkbenchError(f"The run has no metric {metric!r} (it has {', '.join(sorted(metrics))}).")
    stderr = metrics.get(f"{metric}_stderr")
    return float(value), float(stderr) if isinstance(stderr, (int, float)) else math.nan


def combined(scores: Sequence[tuple[float, float]]) -> dict[str, float]:
    """The plain mean of the scores (each between 0 and 1), its standard error (the members' independent errors
    combined) and 95% interval."""
    from .metrics import normal_ci

    if not scores:
        return {"value": math.nan, "stderr": math.nan, "ci95_low": math.nan, "ci95_high": math.nan}
    value = sum(v for v, _ in scores) / len(scores)
    stderr = math.sqrt(sum(se**2 for _, se in scores)) / len(scores)
    low, high = normal_ci(value, stderr)
    return {"value": value, "stderr": stderr, "ci95_low": low, "ci95_high": high}


class ModelOnce:
    """The model loaded on first use and kept for every member; a model that failed to load fails the same way
    again without a second try (a leaderboard marks all of its cells failed)."""

    def __init__(self, model: str, options: dict[str, Any] | None = None):
        from .models.loading import LoadSettings

        self.model = model
        self.settings = LoadSettings.from_options(options or {})  # device, dtype, adapter, backend
        self.loaded: Any = None
        self.error: Exception | None = None

    def __call__(self) -> Any:
        from . import models

        if self.error is not None:
            raise self.error
        if self.loaded is None:
            try:
                self.loaded = models.load(self.model, self.settings)
            except Exception as error:
                self.error = error
                raise
        return self.loaded


def run_suite(
    suite: Suite,
    model: str,
    *,
    limit: int | None = None,
    shots: int | None = None,
    mode: str | None = None,
    store: str | Path | None = None,
    command: str | None = None,
    loader: Callable[[], Any] | None = None,
    judge: Any = None,
    **options: Any,
) -> SuiteResult:
    """Every member of ``suite`` for ``model`` (``limit`` per member), the model loaded once, complete runs of the
    same calls reused. A suite with a judged task (Horangi's Korean MT-Bench) runs it too when ``judge`` names a
    judge model, and grades its answers (``workbench.judge``); without one the headline is the members' mean."""
    from . import models
    from .errors import check_count
    from .evaluation import evaluate_task

    check_count("--limit", limit, 1)
    check_count("--shots", shots, 0)
    settings = member_settings(suite, shots, mode)
    if judge is not None and suite.judged is None:
        raise WorkbenchError(f"{suite.name} has no judged task; judge= applies to horangi. Leave it out.")
    models.resolve(model)
    load = loader or ModelOnce(model, options)
    result = SuiteResult(suite, model)
    failed: dict[str, WorkbenchError] = {}
    for i, (member, member_shots, member_mode) in enumerate(settings, 1):
        print(f"{suite.name} {i}/{len(settings)}: {member.describe()} | {model}")
        call = f"{command} [member {member.task}]" if command else None
        try:
            result.runs[member.task] = evaluate_task(
                member.task, model, limit=limit, shots=member_shots, mode=member_mode, store=store, command=call,
                reuse=True, loader=load, **options,
            )  # fmt: skip
        except WorkbenchError as error:  # the other members go on; their runs are kept and reused on a rerun
            if load.error is not None if isinstance(load, ModelOnce) else False:
                raise
            print(f"  {member.task} failed: {error}")
            failed[member.task] = error
    if judge is not None and suite.judged is not None and not failed:
        from .judge.core import judge as grade

        print(f"{suite.name}: {suite.judged} | {model}, answers graded by the judge")
        answered = evaluate_task(
            suite.judged, model, limit=limit, store=store, reuse=True, loader=load,
            **{k: v for k, v in options.items() if k not in ("chat",)},
        )  # fmt: skip
        result.judged = grade(answered, judge=judge, store=store, limit=limit)
    elif suite.judged is not None and judge is None:
        print(f"{suite.name}: the headline is the members' half; judge='openai:MODEL@URL' adds {suite.judged}.")
    if failed:
        done = ", ".join(f"{t} ({r.run_id})" for t, r in result.runs.items()) or "none"
        reasons = " ".join(f"{t}: {e}" for t, e in failed.items())
        raise WorkbenchError(
            f"{suite.name}: {len(failed)} of {len(settings)} members failed, so there is no headline. {reasons} "
            f"Complete members are saved and reused when you repeat the call: {done}."
        )
    return result
