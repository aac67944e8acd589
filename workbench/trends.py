"""Drift over time: the same evaluation repeated, each run against the one before it.

    workbench.evaluate("gsm8k", model="openai:gpt-4o-mini", limit=100)   # today, and again next week
    t = workbench.trend("gsm8k", "openai:gpt-4o-mini")
    t.table()      # time, run, score with its 95% interval, n, what the endpoint reported, change from the run before
    t.figure()     # the score over time; significant changes and changes of the reported model marked
    print(t.summary())

"The same evaluation" is what makes two calls the same call (the run key), less the model's weights: the task,
the options of the key (limit, shots, max_new_tokens), the data's fingerprint and the prompt template. Settings
given here narrow the runs to those made with them; the rest follow the newest run, and runs made otherwise are
named in a note. Each run is compared with the one before on the items both scored (``workbench.compare``:
paired bootstrap interval of the difference, McNemar's exact test for 0/1 metrics); a change counts as
significant when that 95% interval excludes 0. An API model's reported identity (model names and system
fingerprints, recorded per run) or a local model's weights fingerprint marks where the model itself changed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import options
from .comparison import Comparison, compare
from .errors import WorkbenchError, check_count
from .models import DEFAULT_MODEL
from .store import Store
from .tables import headline, metric_names

Row = dict[str, Any]
# the options that narrow a trend to the runs made with them (the options of evaluate's run key and prompt)
SETTINGS = ("limit", "shots", "mode", "chat", "max_new_tokens", "data")
# the options of evaluate's run key besides the task: runs with equal values (and equal data and prompt) are one
# evaluation repeated
KEYED = tuple(o.name for o in options.EVAL if o.key and o.name != "task")


@dataclass
class Trend:
    """Every complete run of one evaluation in time order, each compared with the one before."""

    task: str
    model: str
    metric: str
    runs: list[Row] = field(repr=False)
    comparisons: list[Comparison | None] = field(repr=False)  # with the run before; None for the first
    not_compared: list[str] = field(repr=False)  # why a run was not compared with the one before ('' when it was)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    store_path: Path | None = None

    def table(self):
        """One row per run, oldest first: time (UTC), run_id, score with stderr and 95% interval, n, what the model
        reported (``reported``) and whether that changed from the run before (``identity_changed``), and the
        change from the run before: ``change`` with its paired 95% interval, the bootstrap and McNemar p-values,
        the shared items and ``significant`` (the interval excludes 0)."""
        import pandas as pd

        rows, previous = [], None
        for run, comparison, why in zip(self.runs, self.comparisons, self.not_compared):
            metrics = run.get("metrics") or {}
            low, high = _pair(metrics.get(f"{self.metric}_ci95"))
            label, key = reported_identity(run)
            boot = comparison.bootstrap if comparison else None
            rows.append(
                {
                    "time": pd.to_datetime(run["created_at"], unit="s").floor("s"),
                    "run_id": run["run_id"],
                    "score": _number(metrics.get(self.metric)),
                    "stderr": _number(metrics.get(f"{self.metric}_stderr")),
                    "ci95_low": low,
                    "ci95_high": high,
                    "n": metrics.get("n"),
                    "reported": label,
                    "identity_changed": key is not None and previous is not None and key != previous,
                    "change": boot.diff if boot else math.nan,
                    "change_ci95_low": boot.ci95[0] if boot else math.nan,
                    "change_ci95_high": boot.ci95[1] if boot else math.nan,
                    "bootstrap_p": boot.p_value if boot else math.nan,
                    "mcnemar_p": comparison.mcnemar.p_value if comparison and comparison.mcnemar else math.nan,
                    "shared_items": comparison.n_shared if comparison else None,
                    "significant": bool(boot and (boot.ci95[0] > 0 or boot.ci95[1] < 0)),
                    "note": why or (" ".join(comparison.caveats) if comparison else ""),
                }
            )
            previous = key if key is not None else previous
        table = pd.DataFrame(rows)
        for column in ("n", "shared_items"):
            table[column] = table[column].astype("Int64")
        return table

    def heading(self) -> str:
        """What the trend follows, in one line."""
        settings = ", ".join(f"{k} {v}" for k, v in self.settings.items() if v not in (None, "", False))
        runs = f"{len(self.runs)} complete run{'s' if len(self.runs) != 1 else ''}"
        return f"{self.task} | {self.model}: {self.metric} over {runs}" + (f" ({settings})" if settings else "")

    def lines(self) -> list[str]:
        """The notes under the table: what the marks mean, the changes found, what was left out."""
        table = self.table()
        out = []
        if len(self.runs) == 1:
            command = self.runs[0].get("command") or f"workbench.evaluate({self.task!r}, model={self.model!r})"
            out.append(f"One run so far: a trend needs two. Repeat the same call later to add one: {command}")
        significant = table[table["significant"]]
        for row in significant.itertuples():
            out.append(
                f"* run {row.run_id}: {self.metric} changed by {row.change:+.4g} [{row.change_ci95_low:+.4g}, "
                f"{row.change_ci95_high:+.4g}] from the run before, paired on {row.shared_items} shared items."
            )
        for i in [int(i) for i in table.index[table["identity_changed"]]]:
            before = table["reported"][:i][table["reported"][:i] != NOT_RECORDED]
            was = before.iloc[-1] if len(before) else NOT_RECORDED
            out.append(f"! run {table['run_id'][i]}: the model reported {table['reported'][i]} (before: {was}).")
        if len(self.runs) > 1 and not len(significant):
            out.append("No run differs significantly from the one before (paired 95% intervals include 0).")
        out += [f"run {run['run_id']}: not compared: {why}" for run, why in zip(self.runs, self.not_compared) if why]
        return out + self.notes

    def summary(self, width: int = 100) -> str:
        """The trend as terminal text: the heading, one line per run, then the changes and notes."""
        import textwrap

        from .views.text import as_text

        view = self._view()
        notes = [textwrap.fill(line, width, subsequent_indent="  ") for line in self.lines()]
        heading = textwrap.fill(self.heading() + "; times in UTC.", width)
        table = as_text(
            view, width, keep=("reported",), whole=("time", "run", "score ± se [95% CI]", "change [95% CI]")
        )
        return "\n".join([heading, table, *notes])

    def figure(self):
        """The score over time with 95% error bars; significant changes and changes of reported identity marked."""
        from .charts import trend_chart

        return trend_chart(self.table(), self.metric, self.heading())

    def _view(self):
        """The table as a person reads it: each score and change with its interval, the marks in one column."""
        import pandas as pd

        from .views.text import with_interval

        table = self.table()
        times = table["time"].dt.strftime("%Y-%m-%d %H:%M")
        if times.str[:4].nunique() == 1:  # all from one year: month, day and time say enough
            times = times.str[5:]
        scores = table[["score", "stderr", "ci95_low", "ci95_high"]].itertuples(index=False)
        changes = table[["change", "change_ci95_low", "change_ci95_high"]].itertuples(index=False)
        return pd.DataFrame(
            {
                "time": times,
                "run": table["run_id"],
                "score ± se [95% CI]": [with_interval(*row) for row in scores],
                "n": ["" if pd.isna(n) else str(n) for n in table["n"]],
                "change [95% CI]": [
                    "" if math.isnan(d) else f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]" for d, lo, hi in changes
                ],
                "flag": [
                    ("*" if s else "") + ("!" if c else "")
                    for s, c in zip(table["significant"], table["identity_changed"])
                ],
                "reported": table["reported"],
            }
        )

    def _repr_html_(self) -> str:
        from .views import html

        view = self._view()
        notes = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines())
        return (
            f"<p><b>{html.escape(self.heading())}</b> (times in UTC; * significant change from the run before, "
            "! the reported model identity changed)</p>"
            + html.table(list(view.columns), view.itertuples(index=False))
            + (f"<ul>{notes}</ul>" if notes else "")
        )


NOT_RECORDED = "not recorded"


def reported_identity(run: Row) -> tuple[str, Any]:
    """(label, key) of what answered a run: the model names and system fingerprints its endpoint reported (API
    models), else its weights' fingerprint (local models). Equal keys: the same model. Key None: not recorded
    (an API run made before runs recorded it)."""
    identity = run.get("model_identity") or {}
    told = identity.get("reported")
    if isinstance(told, dict):
        models, prints = told.get("model") or {}, told.get("system_fingerprint") or {}
        label = " · ".join(part for part in (_counted(models), _counted(prints)) if part)
        return label or "nothing reported", (tuple(sorted(models)), tuple(sorted(prints)))
    if identity.get("kind") == "api" or not identity.get("fingerprint"):
        return NOT_RECORDED, None
    return f"weights {str(identity['fingerprint'])[:19]}", ("weights", identity["fingerprint"])


def _counted(counts: dict[str, int]) -> str:
    if len(counts) == 1:
        return next(iter(counts))
    return ", ".join(f"{name} ({count})" for name, count in counts.items())


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _pair(value: Any) -> tuple[float, float]:
    """A recorded 95% interval [low, high], or two NaNs."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return _number(value[0]), _number(value[1])
    return math.nan, math.nan


# ---- finding the runs -----------------------------------------------------------------------------------------
def _recorded(name: str, value: Any) -> Any:
    """A setting as a run's config records it (``data`` as text)."""
    return str(value) if name == "data" else value


def _same_evaluation(run: Row) -> str:
    """What makes runs one evaluation repeated: the key's options, the data and the prompt template."""
    config = run.get("config") or {}
    key = {name: config.get(name) for name in KEYED}
    return json.dumps([key, run.get("data_fingerprint"), run.get("prompt_template")], sort_keys=True, default=str)


def _settings_text(run: Row) -> str:
    config = run.get("config") or {}
    return ", ".join(f"{n}={config.get(n)!r}" for n in SETTINGS if config.get(n) not in (None, "", False)) or "defaults"


def _no_runs(task: str, model: str, runs: list[Row], path: Path) -> WorkbenchError:
    of_task = sorted({str(r["model"]) for r in runs if r["task"] == task})
    unfinished = [r for r in runs if r["task"] == task and str(r["model"]) == model]
    also = f" The store has runs of {task} with {', '.join(of_task)}." if of_task else ""
    if unfinished:
        also = f" {len(unfinished)} run(s) of it are there but not complete: repeat their call to finish them."
    return WorkbenchError(
        f"No complete run of {task} with {model} in {path}.{also} Make one with "
        f"workbench.evaluate({task!r}, model={model!r}) (`workbench eval {task} --model {model}`, or "
        f"%llm_eval {task} --model {model}), and repeat the same call later: each call is a new run, and the "
        "trend follows them."
    )


def _check(task: Any, model: Any, metric: Any, settings: dict[str, Any]) -> None:
    for name, value in (("task", task), ("model", model)):
        if not isinstance(value, str) or not value.strip():
            raise WorkbenchError(
                f"Name the {name} as text, e.g. workbench.trend('arc_easy', 'openai:gpt-4o-mini') (got {value!r:.60})."
            )
    if metric is not None and (not isinstance(metric, str) or not metric):
        raise WorkbenchError(f"metric must be a metric's name, e.g. metric='acc' (got {metric!r:.60}).")
    check_count("--limit", settings["limit"], 1)
    check_count("--shots", settings["shots"], 0)
    check_count("--max-new-tokens", settings["max_new_tokens"], 1)
    if settings["mode"] not in (None, "loglikelihood", "generate"):
        raise WorkbenchError(
            f"mode must be 'loglikelihood' or 'generate' (got {settings['mode']!r:.60}); a --mode both call made "
            "one run of each: follow each with its own mode."
        )


def trend(
    task: str,
    model: str = DEFAULT_MODEL,
    *,
    store: str | Path | None = None,
    metric: str | None = None,
    limit: int | None = None,
    shots: int | None = None,
    mode: str | None = None,
    chat: bool | None = None,
    max_new_tokens: int | None = None,
    data: str | Path | None = None,
) -> Trend:
    """Every complete run of ``task`` with ``model`` (as it was named when evaluated) and the same settings, in
    time order, each compared item by item with the run before it (see the module docstring).

    The settings (limit, shots, mode, chat, max_new_tokens, data) narrow the runs to those made with them; settings
    left out follow the newest matching run. ``metric`` defaults to the task's headline metric. Repeating
    ``workbench.evaluate(task, model=...)`` adds a run: a single task's evaluation is never reused.
    """
    settings = {"limit": limit, "shots": shots, "mode": mode, "chat": chat, "max_new_tokens": max_new_tokens,
                "data": data}  # fmt: skip
    _check(task, model, metric, settings)
    task, model = task.strip(), model.strip()
    db = Store(store, create=False)
    every = db.runs().to_dict("records")
    ours = [
        r for r in every if r["task"] == task and model in (str(r["model"]), (r["model_identity"] or {}).get("name"))
    ]
    complete = [r for r in ours if r["status"] == "complete"]
    if not complete:
        raise _no_runs(task, model, every, db.path)
    wanted = {k: _recorded(k, v) for k, v in settings.items() if v is not None}
    matching = [r for r in complete if all((r.get("config") or {}).get(k) == v for k, v in wanted.items())]
    if not matching:
        made = sorted({_settings_text(r) for r in complete})
        raise WorkbenchError(
            f"No complete run of {task} with {model} was made with "
            f"{', '.join(f'{k}={v!r}' for k, v in wanted.items())}; its runs were made with: {'; '.join(made)}. "
            "Leave those settings out, or give the ones a run used."
        )
    newest = max(matching, key=lambda r: r["created_at"])
    group = sorted(
        (r for r in matching if _same_evaluation(r) == _same_evaluation(newest)), key=lambda r: r["created_at"]
    )
    notes = []
    others = [r for r in matching if _same_evaluation(r) != _same_evaluation(newest)]
    if others:
        made = sorted({_settings_text(r) for r in others})
        notes.append(
            f"Left out: {len(others)} other complete run(s) of {task} with {model} made with other settings, data or "
            f"prompts ({'; '.join(made)}); name those settings to follow them."
        )
    metric = metric or headline(task, newest.get("metrics"))[0]
    if metric is None or metric not in metric_names(newest):
        raise WorkbenchError(
            f"Run {newest['run_id']} of {task} has no metric {metric!r}; it has: "
            f"{', '.join(metric_names(newest)) or 'none'}. Pass one of those as metric=."
        )
    comparisons: list[Comparison | None] = [None]
    why: list[str] = [""]
    for before, run in zip(group, group[1:]):
        try:
            comparisons.append(compare(before["run_id"], run["run_id"], metric=metric, store=db.path))
            why.append("")
        except WorkbenchError as error:  # e.g. a metric not scored per item: the run is shown, not compared
            comparisons.append(None)
            why.append(str(error))
    config = newest.get("config") or {}
    shown = {k: config.get(k) for k in SETTINGS}
    return Trend(task, model, metric, group, comparisons, why, shown, notes, db.path)
