"""Plotly figures from DataFrames. Pure functions: no I/O, no store access."""

from __future__ import annotations

import html

import pandas as pd


def metric_bars(table: pd.DataFrame, title: str | None = None):
    """Bar per metric (and per run when the table holds several) with 95% interval error bars."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for (task, model, run_id), part in table.groupby(["task", "model", "run_id"], sort=False):
        label = html.escape(f"{task} | {model} ({run_id})")
        fig.add_trace(
            go.Bar(
                x=part["metric"],
                y=part["value"],
                name=label,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": part["ci95_high"] - part["value"],
                    "arrayminus": part["value"] - part["ci95_low"],
                },
                customdata=part[["stderr", "ci95_low", "ci95_high", "n"]].to_numpy(),
                hovertemplate="%{x}: %{y:.3f} +- %{customdata[0]:.3f} (se)<br>95% CI [%{customdata[1]:.3f}, "
                "%{customdata[2]:.3f}]<br>n = %{customdata[3]}<extra>" + label + "</extra>",
            )
        )
    default = ", ".join(dict.fromkeys(f"{t} ({n} items)" for t, n in zip(table["task"], table["n"])))
    fig.update_layout(
        title=html.escape(title or default),
        yaxis={"title": "score", "range": [0, 1]},
        barmode="group",
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return fig
