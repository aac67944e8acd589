"""Plotly figures of costs: a model's variants (score against memory and speed) and serving throughput. Pure
functions of DataFrames, as charts.py (kept apart so neither passes 500 lines)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from .charts import interval_bars


def pareto_front(cost: pd.Series, score: pd.Series, lower_cost_is_better: bool = True) -> list[bool]:
    """For each point, whether no other point is at least as good on both axes and better on one."""
    c = cost.to_numpy(dtype=float) * (1 if lower_cost_is_better else -1)
    s = score.to_numpy(dtype=float)
    out = []
    for i in range(len(c)):
        if pd.isna(c[i]) or pd.isna(s[i]):
            out.append(False)
            continue
        dominated = any(
            j != i and c[j] <= c[i] and s[j] >= s[i] and (c[j] < c[i] or s[j] > s[i])
            for j in range(len(c))
            if not (pd.isna(c[j]) or pd.isna(s[j]))
        )
        out.append(not dominated)
    return out


def variants_chart(table: pd.DataFrame, model: str, task: str):
    """Two panels for one task (rows of ``VariantResult.table()``): score against weights in memory (MB), and
    against generated tokens/s; each variant a point with its 95% interval; the Pareto front joined by a dashed
    line, its points filled, dominated ones hollow. Hover: the variant, score, difference from the reference, the
    flips, peak memory. Every text is HTML-escaped."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    panels = [("weights_mb", "weights in memory (MB)", True), ("gen_tok_s", "generated tokens/s", False)]
    fig = make_subplots(rows=1, cols=2, subplot_titles=[html.escape(t) for _, t, _ in panels], horizontal_spacing=0.1)

    def hover(row: Any) -> str:
        lines = [f"{row.variant}: {row.metric} {row.score:.4g} [{row.ci95_low:.4g}, {row.ci95_high:.4g}], n = {row.n}",
                 f"weights {row.weights_mb} MB in memory, {row.disk_mb} MB on disk, peak {row.peak_mb} MB",
                 f"{_num(row.gen_tok_s)} generated tokens/s, {_num(row.prompt_tok_s)} prompt tokens/s"]  # fmt: skip
        if row.diff_ci95_low is not None and not pd.isna(row.diff_ci95_low):
            lines.append(f"vs reference {row.diff:+.4g} [{row.diff_ci95_low:+.4g}, {row.diff_ci95_high:+.4g}], "
                         f"McNemar p {_num(row.mcnemar_p)}; flipped: {row.flipped_to_right} to right, "
                         f"{row.flipped_to_wrong} to wrong")  # fmt: skip
        return "<br>".join(html.escape(line) for line in lines)

    text = [hover(row) for row in table.itertuples()]
    labels = [html.escape(str(v)) for v in table["variant"]]
    for col, (column, title, lower) in enumerate(panels, start=1):
        front = pareto_front(table[column], table["score"], lower_cost_is_better=lower)
        fig.add_trace(
            go.Scatter(
                x=table[column], y=table["score"], mode="markers+text", text=labels, textposition="top center",
                marker={"size": 11, "symbol": ["circle" if f else "circle-open" for f in front]},
                error_y=interval_bars(table["score"], table["ci95_low"], table["ci95_high"]),
                hovertext=text, hovertemplate="%{hovertext}<extra></extra>", name="variants", showlegend=col == 1,
            ),
            row=1, col=col,
        )  # fmt: skip
        on = table[front].sort_values(column)
        if len(on) > 1:
            fig.add_trace(
                go.Scatter(x=on[column], y=on["score"], mode="lines", line={"dash": "dash", "color": "#d62728"},
                           name="Pareto front", showlegend=col == 1, hoverinfo="skip"),
                row=1, col=col,
            )  # fmt: skip
        fig.update_xaxes(title=html.escape(title), row=1, col=col)
    metric = table["metric"].iloc[0] if len(table) else "score"
    fig.update_yaxes(title=html.escape(str(metric)), row=1, col=1)
    fig.update_layout(
        title=html.escape(f"{model} on {task}: what each variant costs and scores (filled: on the Pareto front)"),
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return fig


def throughput_chart(table: pd.DataFrame, model: str):
    """Two panels against concurrency: generated tokens/s, and time to first token p50 (solid) and p95 (dotted);
    one line per schedule (continuous slot refill, static batching)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=["generated tokens/s", "time to first token (s)"])
    colors = {"continuous": "#1f77b4", "static": "#ff7f0e"}
    for schedule, part in table.groupby("schedule", sort=False):
        name = html.escape(str(schedule))
        color = colors.get(str(schedule), "#2ca02c")
        fig.add_trace(go.Scatter(x=part["concurrency"], y=part["tokens_per_s"], mode="lines+markers", name=name,
                                 legendgroup=name, line={"color": color}), row=1, col=1)  # fmt: skip
        for q, dash in (("p50", "solid"), ("p95", "dot")):
            fig.add_trace(
                go.Scatter(x=part["concurrency"], y=part[f"ttft_{q}_s"], mode="lines+markers", name=f"{name} {q}",
                           legendgroup=name, showlegend=False, line={"color": color, "dash": dash}),
                row=1, col=2,
            )  # fmt: skip
    fig.update_xaxes(title="concurrency (sequences at once)", type="log")
    fig.update_layout(
        title=html.escape(f"{model}: serving speed"), template="plotly_white", legend={"orientation": "h"}
    )
    return fig


def _num(x: Any) -> str:
    return "n/a" if x is None or pd.isna(x) else f"{x:.3g}"
