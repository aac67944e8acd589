"""Many models, one leaderboard: every model x task of a suite (or of a list of tasks), each its own resumable
run, complete runs of the same call reused; or a leaderboard rebuilt from runs already in the store.

A model that fails to load, or a task that fails for one model, fails only its cells: the others go on, the
failed cells show the reason, and rerunning the same call retries only them (the complete runs are reused).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import WorkbenchError
from .suites import ModelOnce, combined, headline_metric, member_score, member_settings, model_list
from .tasks.suites import Member, Suite, find

if TYPE_CHECKING:
    import pandas as pd

    from .evaluation import EvalResult


@dataclass(frozen=True)
class Failed:
    """A cell that did not finish: why, in one line."""

    reason: str


@dataclass
class Leaderboard:
    """Models x tasks: ``table()`` (scores with intervals, the headline and the rank), ``scores()`` (one row per
    cell, numbers), ``figure()`` (grouped bars), ``heatmap()``, ``failed()``; ``runs[(model, task)]`` holds each
    cell's ``EvalResult`` (or ``Failed``)."""

    suite: Suite
    models: list[str]
    runs: dict[tuple[str, str], EvalResult | Failed] = field(default_factory=dict)

    def scores(self) -> pd.DataFrame:
        """One row per model and task: the member's metric with stderr and 95% interval, items, run id, status."""
        import pandas as pd

        from .metrics import normal_ci

        rows = []
        for model in self.models:
            for member in self.suite.members:
                cell = self.runs.get((model, member.task), Failed("not run"))
                metric = headline_metric(member)
                row: dict[str, Any] = {"model": model, "task": member.task, "metric": metric}
                if isinstance(cell, Failed):
                    row.update(status="failed", error=cell.reason)
                else:
                    value, stderr = member_score(cell.metrics, metric)
                    low, high = cell.metrics.get(f"{metric}_ci95") or normal_ci(value, stderr)
                    row.update(value=value, stderr=stderr, ci95_low=low, ci95_high=high, n=cell.metrics.get("n"),
                               run_id=cell.run_id, status="complete")  # fmt: skip
                rows.append(row)
        columns = ["model", "task", "metric", "value", "stderr", "ci95_low", "ci95_high", "n", "run_id", "status",
                   "error"]  # fmt: skip
        return pd.DataFrame(rows, columns=columns)

    def headlines(self) -> pd.DataFrame:
        """Each model's headline (the plain mean of its members' scores) with its interval and rank; a model with
        a failed cell has no headline. Ranks tie where intervals overlap: a model's rank is 1 + the number of
        models whose interval lies wholly above its own."""
        import pandas as pd

        scores = self.scores()
        rows: list[dict[str, Any]] = []
        for model in self.models:
            part = scores[scores["model"] == model]
            if (part["status"] != "complete").any():
                rows.append({"model": model, "value": math.nan, "stderr": math.nan, "ci95_low": math.nan,
                             "ci95_high": math.nan})  # fmt: skip
            else:
                rows.append({"model": model, **combined(list(zip(part["value"], part["stderr"])))})
        table = pd.DataFrame(rows)
        table["rank"] = [
            pd.NA if math.isnan(r["value"]) else 1 + sum(o["ci95_low"] > r["ci95_high"] for o in rows if o is not r)
            for r in rows
        ]
        table["rank"] = table["rank"].astype("Int64")
        tied = table["rank"].duplicated(keep=False) & table["rank"].notna()
        table["tied"] = tied
        return table.sort_values(["rank", "value"], ascending=[True, False], na_position="last").reset_index(drop=True)

    def table(self, sort: str | None = None) -> pd.DataFrame:
        """One row per model: rank ('=1' when tied: intervals overlap), the headline and each task's score as
        'value [95% CI]' (or 'failed: reason'), best first; ``sort`` names a task column to sort by instead."""
        import pandas as pd

        heads = self.headlines()
        scores = self.scores()
        out = []
        for head in heads.to_dict("records"):
            row: dict[str, Any] = {
                "rank": "" if pd.isna(head["rank"]) else f"{'=' if head['tied'] else ''}{head['rank']}",
                "model": head["model"],
                "headline": _cell(head["value"], head["ci95_low"], head["ci95_high"]),
            }
            for cell in scores[scores["model"] == head["model"]].to_dict("records"):
                column = f"{cell['task']} {cell['metric']}"
                row[column] = (
                    f"failed: {cell['error']}"
                    if cell["status"] != "complete"
                    else _cell(cell["value"], cell["ci95_low"], cell["ci95_high"])
                )
                row[f"_{column}"] = cell["value"]
            row["_headline"] = head["value"]
            out.append(row)
        table = pd.DataFrame(out)
        if sort is not None:
            key = next((c for c in table.columns if c.startswith("_") and c[1:].split(" ")[0] == sort), None)
            if key is None:
                tasks = ", ".join(m.task for m in self.suite.members)
                raise WorkbenchError(f"Sort by 'headline' or a task ({tasks}); got {sort!r}.")
            table = table.sort_values(key, ascending=False, na_position="last")
        return table.drop(columns=[c for c in table.columns if c.startswith("_")]).reset_index(drop=True)

    def failed(self) -> pd.DataFrame:
        scores = self.scores()
        return scores.loc[scores["status"] != "complete", ["model", "task", "error"]].reset_index(drop=True)

    def figure(self):
        """Grouped bars: each task's score per model with 95% error bars, and the headline."""
        from .charts import leaderboard_bars

        return leaderboard_bars(self.scores(), self.headlines(), self.suite.name)

    def heatmap(self):
        """Models x tasks, coloured by score."""
        from .charts import leaderboard_heatmap

        return leaderboard_heatmap(self.scores(), self.suite.name)

    def view(self):
        """The table with a 'sort by' drop-down (headline or any task), for a notebook."""
        from .widgets import leaderboard_view

        return leaderboard_view(self)

    def _repr_html_(self) -> str:
        return self.table().to_html(index=False, escape=True)

    def __str__(self) -> str:
        import textwrap

        from .views.text import WIDTH, as_text

        failed = self.failed()
        reasons = "".join(
            "\n" + textwrap.shorten(f"  {f['model']} on {f['task']}: {f['error']}", width=WIDTH, placeholder=" …")
            for f in failed.to_dict("records")
        )
        note = f"\n{len(failed)} cell(s) failed; rerun the same call to retry only them:{reasons}" if reasons else ""
        return f"{self.suite.name}: {len(self.models)} models\n{as_text(self.table())}{note}"


def _cell(value: float, low: float, high: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(low, float) and math.isnan(low):
        return f"{value:.3f}"
    return f"{value:.3f} [{low:.2f}, {high:.2f}]"


def _suite_of(tasks: str | Sequence[str]) -> Suite:
    """A suite or group by name, or the tasks named (each at its defaults) as a suite of their own."""
    if isinstance(tasks, str):
        found = find(tasks)
        if found is not None:
            return found
        tasks = [t.strip() for t in tasks.split(",")]
    if isinstance(tasks, str) or not isinstance(tasks, Sequence) or not tasks:
        raise WorkbenchError(
            f"Name a suite or group (e.g. 'open_llm_leaderboard', 'arc') or a list of tasks (got {tasks!r:.60})."
        )
    from .tasks import get_task

    for t in tasks:
        get_task(t)  # an unknown task (or suite name) is refused, naming the nearest
    return Suite(", ".join(tasks), tuple(Member(t) for t in tasks), "The tasks named.", fixed=False)


def leaderboard(
    suite: str | Sequence[str] | None = None,
    models: str | Sequence[str] | None = None,
    *,
    limit: int | None = None,
    shots: int | None = None,
    mode: str | None = None,
    store: str | Path | None = None,
    run_ids: Sequence[str] | None = None,
    command: str | None = None,
    **options: Any,
) -> Leaderboard:
    """``leaderboard("open_llm_leaderboard", models=["smollm2-135m", "gemma3-270m"], limit=20)``: every model on
    every member (``limit`` per member), each a resumable run; complete runs of the same calls are reused, so a
    rerun after a failure retries only the failed cells. ``leaderboard(run_ids=[...])`` rebuilds one from runs
    already in the store (its columns are their tasks)."""
    from . import models as registry
    from .errors import check_count
    from .evaluation import evaluate_task

    if run_ids is not None:
        if suite is not None or models is not None:
            raise WorkbenchError("Give either run_ids (a leaderboard of stored runs) or a suite and models, not both.")
        return from_runs(run_ids, store)
    if suite is None:
        raise WorkbenchError("Name a suite, group or tasks, e.g. leaderboard('arc', models=['smollm2-135m', ...]).")
    if models is None:
        raise WorkbenchError("Name the models, e.g. models=['smollm2-135m', 'gemma3-270m'].")
    check_count("--limit", limit, 1)
    check_count("--shots", shots, 0)
    names = model_list(models)
    board = _suite_of(suite)
    settings = member_settings(board, shots, mode)
    for name in names:
        registry.resolve(name)  # a misspelt model is refused before anything runs
    result = Leaderboard(board, names)
    for model in names:
        load = ModelOnce(model, options)
        for i, (member, member_shots, member_mode) in enumerate(settings, 1):
            print(f"{board.name} | {model}: {i}/{len(settings)} {member.describe()}")
            call = f"{command} [{model} on {member.task}]" if command else None
            if load.error is not None:
                print("  failed: the model did not load (above)")
                result.runs[(model, member.task)] = Failed(f"the model did not load: {load.error}")
                continue
            try:
                result.runs[(model, member.task)] = evaluate_task(
                    member.task, model, limit=limit, shots=member_shots, mode=member_mode, store=store,
                    command=call, reuse=True, loader=load, **options,
                )  # fmt: skip
            except Exception as error:  # one cell fails; the others go on (KeyboardInterrupt still stops)
                reason = str(error) if isinstance(error, WorkbenchError) else f"{type(error).__name__}: {error}"
                print(f"  failed: {reason}")
                result.runs[(model, member.task)] = Failed(reason)
    return result


def model_label(model: str, identity: dict[str, Any]) -> str:
    """A run's model as a leaderboard row names it: the spec, plus its adapter and any setting that changes its
    numbers, so a base model, its fine-tune and its bfloat16 or llama.cpp variants are rows of their own."""
    from .models import load_key

    label = model
    adapter = identity.get("adapter")
    if isinstance(adapter, dict) and adapter.get("path"):
        label += f" + {Path(adapter['path']).name}"
    settings = load_key(identity)
    values = (settings.get("backend"), settings.get("dtype"), settings.get("device"))
    shown = [str(v) for v in values if v not in (None, "transformers", "float32", "cpu")]
    return f"{label} ({', '.join(shown)})" if shown else label


def from_runs(run_ids: Sequence[str], store: str | Path | None = None) -> Leaderboard:
    """A leaderboard of runs already in the store: rows are their models, columns their tasks."""
    from .evaluation import EvalResult
    from .store import Store

    if isinstance(run_ids, str) or not run_ids:
        raise WorkbenchError("Give run_ids as a list of run ids, e.g. run_ids=['1a2b3c4d', '5e6f7a8b'].")
    db = Store(store, create=False)
    cells: dict[tuple[str, str], EvalResult | Failed] = {}
    members: dict[str, Member] = {}
    models: list[str] = []
    for run_id in run_ids:
        run = db.run(getattr(run_id, "run_id", run_id))  # refuses an id the store does not hold, naming it
        if run["status"] != "complete" or not run.get("metrics"):
            raise WorkbenchError(f"Run {run['run_id']} is {run['status']}; finish it first (repeat its call).")
        model = model_label(run["model"], run.get("model_identity") or {})
        key = (model, run["task"])
        if key in cells:
            raise WorkbenchError(f"Two runs of {model} on {run['task']}: give one run per model and task.")
        cells[key] = EvalResult(run["run_id"], run["task"], model, run["metrics"], run["duration_s"], db.path)
        config = run.get("config") or {}
        members.setdefault(run["task"], Member(run["task"], config.get("shots"), mode=config.get("mode")))
        models += [model] if model not in models else []
    board = Suite(", ".join(members), tuple(members.values()), "Runs from the store.")
    missing = {(m, t): Failed("no run given") for m in models for t in members if (m, t) not in cells}
    return Leaderboard(board, models, {**cells, **missing})
