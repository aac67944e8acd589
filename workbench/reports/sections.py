"""The report's sections, as plain data for the page: each thing's headline table with 95% intervals and its
charts (the figures of workbench.charts, as Plotly JSON), and the paired comparison when two runs of one task are
given. Tables are formatted here for a person (views.text.shown); the page only places their cells as text."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..comparison import Comparison, compare
from ..errors import WorkbenchError
from ..leaderboards import Leaderboard
from ..suites import SuiteResult
from ..tables import metrics_table
from ..views.text import shown
from .sources import RunRef, Thing

Section = dict[str, Any]  # {"title", "tables": [...], "charts": [...], "notes": [...]}


def cell(value: Any) -> Any:
    """A table cell as the page shows it: text, or a number; missing values as ''."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, (int, float)):
        return value
    return str(value)


def table_data(frame: pd.DataFrame, title: str = "") -> dict[str, Any]:
    """A DataFrame as {"title", "columns", "rows"} of cells."""
    return {
        "title": title,
        "columns": [str(c) for c in frame.columns],
        "rows": [[cell(v) for v in row] for row in frame.itertuples(index=False)],
    }


def chart(fig: Any) -> dict[str, Any]:
    """A Plotly figure as its JSON (data and layout), as plotly.py writes it for plotly.js."""
    return json.loads(fig.to_json())


def runs_section(refs: Sequence[RunRef]) -> Section:
    """Runs named by id: one row per run and metric, and a bar chart of them with 95% error bars."""
    from ..charts import metric_bars

    frames = [metrics_table(r.run) for r in refs]
    table = (
        pd.concat([f for f in frames if not f.empty], ignore_index=True) if any(not f.empty for f in frames) else None
    )
    what = refs[0].label() if len(refs) == 1 else f"{len(refs)} runs"
    notes = [f"Run {r.run_id} is {r.run['status']}: {r.run.get('error') or 'not complete'}" for r in refs
             if r.run["status"] != "complete"]  # fmt: skip
    if table is None:
        return {"title": what, "tables": [], "charts": [], "notes": [*notes, "No scores saved yet."]}
    return {
        "title": what,
        "tables": [table_data(shown(table), "Scores with 95% intervals")],
        "charts": [chart(metric_bars(table))],
        "notes": notes,
    }


def suite_section(result: SuiteResult) -> Section:
    return {
        "title": f"{result.suite.name} | {result.model}",
        "tables": [table_data(shown(result.table()), f"{result.suite.name}: each member and the headline")],
        "charts": [chart(result.figure())],
        "notes": [f"{result.suite.name}: {result.suite.about} Headline: {result.suite.headline}."],
    }


def leaderboard_section(board: Leaderboard) -> Section:
    tables = [table_data(board.table(), f"{board.suite.name}: models ranked ('=' ties: intervals overlap)")]
    failed = board.failed()
    if len(failed):
        tables.append(table_data(failed, "Failed cells"))
    return {
        "title": f"{board.suite.name}: {len(board.models)} models",
        "tables": tables,
        "charts": [chart(board.figure()), chart(board.heatmap())],
        "notes": [f"{board.suite.name}: {board.suite.about}"],
    }


def comparison_section(result: Comparison) -> Section:
    """B - A with its paired bootstrap interval, McNemar's exact test (0/1 metrics) and the items that flipped."""
    flips = result.flips()
    return {
        "title": f"Paired comparison: A {result.run_a['run_id']} vs B {result.run_b['run_id']}",
        "tables": [table_data(shown(result.table()), "B - A on the shared items")],
        "charts": [chart(result.figure())],
        "notes": [result.summary()],
        "flips": table_data(flips, f"{len(flips)} items that changed (B better first)"),
    }


def sections(things: Sequence[Thing], runs: Sequence[RunRef]) -> list[Section]:
    """One section per thing (runs named one after another share one), then the paired comparison of exactly two
    runs of the same task when no comparison was given."""
    out: list[Section] = []
    pending: list[RunRef] = []
    for thing in things:
        if isinstance(thing, RunRef):
            pending.append(thing)
            continue
        if pending:
            out.append(runs_section(pending))
            pending = []
        if isinstance(thing, SuiteResult):
            out.append(suite_section(thing))
        elif isinstance(thing, Leaderboard):
            out.append(leaderboard_section(thing))
        else:
            out.append(comparison_section(thing))
    if pending:
        out.append(runs_section(pending))
    given = any(isinstance(t, Comparison) for t in things)
    if len(runs) == 2 and not given and runs[0].run["task"] == runs[1].run["task"]:
        out.append(paired(*runs))
    return out


def paired(a: RunRef, b: RunRef) -> Section:
    """The comparison of two runs; when they cannot be compared (no shared items, no per-item metric, other
    stores), a section saying why: the rest of the report stands."""
    try:
        if a.db.path.resolve() != b.db.path.resolve():
            raise WorkbenchError(f"runs {a.run_id} and {b.run_id} are in different stores ({a.db.path}, {b.db.path})")
        return comparison_section(compare(a.run_id, b.run_id, store=a.db.path))
    except WorkbenchError as why:
        title = f"Paired comparison: A {a.run_id} vs B {b.run_id}"
        return {"title": title, "tables": [], "charts": [], "notes": [f"Not compared: {why}"]}
