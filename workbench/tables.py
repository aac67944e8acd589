"""Tables (pandas DataFrames) built from store rows. Pure functions: no I/O."""

from __future__ import annotations

from typing import Any

import pandas as pd


def metrics_table(run: dict[str, Any]) -> pd.DataFrame:
    """One row per metric of a run: value, stderr, 95% interval, items, model, seconds."""
    metrics = run.get("metrics") or {}
    rows = []
    for name, value in metrics.items():
        if name == "n" or name.endswith(("_stderr", "_ci95")) or not isinstance(value, (int, float)):
            continue
        lo, hi = metrics.get(f"{name}_ci95", [float("nan"), float("nan")])
        rows.append(
            {
                "task": run["task"],
                "metric": name,
                "value": value,
                "stderr": metrics.get(f"{name}_stderr"),
                "ci95_low": lo,
                "ci95_high": hi,
                "n": metrics.get("n"),
                "model": run["model"],
                "seconds": round(run.get("duration_s") or 0.0, 1),
                "run_id": run["run_id"],
            }
        )
    return pd.DataFrame(
        rows, columns=["task", "metric", "value", "stderr", "ci95_low", "ci95_high", "n", "model", "seconds", "run_id"]
    )


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Saved runs, newest first: what ran, on what, how it scored and whether it finished."""
    columns = [
        "run_id",
        "created",
        "status",
        "task",
        "model",
        "items",
        "scored",
        "acc",
        "acc_norm",
        "seconds",
        "command",
    ]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "created": pd.to_datetime(runs["created_at"], unit="s").dt.strftime("%Y-%m-%d %H:%M"),
            "status": runs["status"],
            "task": runs["task"],
            "model": runs["model"],
            "items": runs["n_items"],
            "scored": runs["metrics"].map(lambda m: m.get("n") if isinstance(m, dict) else None),
            "acc": runs["metrics"].map(lambda m: m.get("acc") if isinstance(m, dict) else None),
            "acc_norm": runs["metrics"].map(lambda m: m.get("acc_norm") if isinstance(m, dict) else None),
            "seconds": runs["duration_s"].round(1),
            "command": runs["command"],
        }
    )
    return table[columns].reset_index(drop=True)
