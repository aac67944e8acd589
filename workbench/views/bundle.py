"""The workbench's own result output: a JSON bundle (``application/vnd.llm-workbench.result+json``) beside the
HTML table, which the JupyterLab extension (extensions/jupyterlab-workbench) renders as a table and a chart of
the scores with their intervals. Saved in the notebook, it shows without a kernel; frontends without the
extension (VS Code, nbviewer) show the HTML next to it. Pure: tables in, JSON values out.
"""

from __future__ import annotations

import math
from typing import Any

MIME = "application/vnd.llm-workbench.result+json"


def _value(v: Any) -> Any:
    """A cell as JSON: numbers (NaN and missing as None), else text."""
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):
        try:
            v = v.item()
        except (ValueError, TypeError):
            return str(v)
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v if math.isfinite(v) else None
    try:
        if v != v:  # pandas' NA and NaT
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def result_bundle(shown: Any, raw: Any, title: str = "") -> dict[str, Any]:
    """The bundle of a result table: ``shown`` (the table as people read it) as columns and rows, and from
    ``raw`` (the same rows with numbers: value, ci95_low, ci95_high) the chart's bars for scores in [0, 1]."""
    columns = [str(c) for c in shown.columns]
    rows = [[_value(v) for v in row] for row in shown.itertuples(index=False)]
    chart = []
    names = set(raw.columns)
    if {"value", "ci95_low", "ci95_high"} <= names:
        labels = [c for c in ("task", "metric") if c in names]
        for rec in raw.to_dict("records"):
            value, low, high = _value(rec["value"]), _value(rec["ci95_low"]), _value(rec["ci95_high"])
            if isinstance(value, (int, float)) and 0 <= value <= 1:
                label = " ".join(str(rec[c]) for c in labels if rec.get(c) is not None)
                chart.append({"label": label, "value": value, "low": low, "high": high})
    return {"title": title, "columns": columns, "rows": rows, "chart": chart}
