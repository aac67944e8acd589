"""Plotly figures from DataFrames. Pure functions: no I/O, no store access."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd


def metric_bars(table: pd.DataFrame, title: str | None = None):
    """Bar per metric (and per run when the table holds several) with 95% interval error bars.

    Scores on one scale (all between 0 and 1: accuracies, rates) share one axis from 0 to 1. Metrics on
    different scales (perplexity, byte perplexity and bits per byte; BLEU beside ROUGE) each get their own panel
    and axis, so that no bar is flattened by another's units.
    """
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    metrics = list(dict.fromkeys(table["metric"]))
    one_scale = len(metrics) == 1 or bool(table["value"].dropna().between(0, 1).all())
    columns = 1 if one_scale else min(len(metrics), 4)
    rows = 1 if one_scale else -(-len(metrics) // columns)
    titles = None if one_scale else [html.escape(str(m)) for m in metrics]
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.08)
    runs = table.groupby(["task", "model", "run_id"], sort=False)
    for i, ((task, model, run_id), part) in enumerate(runs):
        label = html.escape(f"{task} | {model} ({run_id})")
        panels = [(part, 1, 1)] if one_scale else []
        if not one_scale:
            for j, metric in enumerate(metrics):
                panels.append((part[part["metric"] == metric], j // columns + 1, j % columns + 1))
        for k, (bars, row, col) in enumerate(panels):
            if bars.empty:
                continue
            fig.add_trace(
                go.Bar(
                    x=bars["metric"],
                    y=bars["value"],
                    name=label,
                    legendgroup=label,
                    showlegend=k == 0,
                    marker_color=qualitative.Plotly[i % len(qualitative.Plotly)],
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": bars["ci95_high"] - bars["value"],
                        "arrayminus": bars["value"] - bars["ci95_low"],
                    },
                    customdata=bars[["stderr", "ci95_low", "ci95_high", "n"]].to_numpy(),
                    hovertemplate="%{x}: %{y:.4g} +- %{customdata[0]:.3g} (se)<br>95% CI [%{customdata[1]:.4g}, "
                    "%{customdata[2]:.4g}]<br>n = %{customdata[3]}<extra>" + label + "</extra>",
                ),
                row=row,
                col=col,
            )
    default = ", ".join(dict.fromkeys(f"{t} ({n} items)" for t, n in zip(table["task"], table["n"])))
    fig.update_layout(
        title=html.escape(title or default),
        barmode="group",
        template="plotly_white",
        legend={"orientation": "h"},
    )
    if one_scale:
        fig.update_yaxes(title="score", **({"range": [0, 1]} if table["value"].between(0, 1).all() else {}))
    else:
        fig.update_xaxes(showticklabels=False)  # each panel names its metric in its title
    return fig


def grid_heatmap(cells: pd.DataFrame, metric: str | None):
    """Prompt x model heatmap of a prompt grid: colour = the cell's score, hover = n and 95% interval.

    Columns are models (with their parameters when a grid varies them); every label is HTML-escaped.
    """
    import plotly.graph_objects as go

    column = cells["model"] if cells["params"].nunique() == 1 else cells["model"] + " | " + cells["params"]
    cells = cells.assign(column=column.map(html.escape), row=cells["prompt"].astype(str).map(html.escape))
    rows, cols = list(dict.fromkeys(cells["row"])), list(dict.fromkeys(cells["column"]))
    z: list[list[Any]] = [[None] * len(cols) for _ in rows]
    extra: list[list[Any]] = [[None] * len(cols) for _ in rows]
    for cell in cells.to_dict(orient="records"):
        i, j = rows.index(cell["row"]), cols.index(cell["column"])
        if metric:
            z[i][j] = cell[metric]
            extra[i][j] = [cell["n"], cell[f"{metric}_ci95_low"], cell[f"{metric}_ci95_high"], cell["from_cache"]]
        else:
            z[i][j], extra[i][j] = 0, [cell["n"], None, None, cell["from_cache"]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cols,
            y=rows,
            customdata=extra,
            colorscale="Viridis",
            texttemplate="%{z:.3g}",
            hovertemplate="prompt %{y}<br>%{x}<br>" + html.escape(metric or "outputs") + " %{z:.4g}"
            "<br>95% CI [%{customdata[1]:.4g}, %{customdata[2]:.4g}]<br>n = %{customdata[0]}"
            " (%{customdata[3]} from cache)<extra></extra>",
        )
    )
    fig.update_layout(
        title=html.escape(f"{metric or 'outputs'} by prompt and model"),
        xaxis={"title": "model"},
        yaxis={"title": "prompt", "autorange": "reversed"},
        template="plotly_white",
    )
    return fig


def comparison_chart(table: pd.DataFrame, items: pd.DataFrame):
    """Two panels: both runs' scores, and B - A with its paired 95% interval (a line marks no difference)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    row = table.iloc[0]
    metric = html.escape(str(row["metric"]))
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"{metric} per run", f"B - A ({row['shared_items']} items)"))
    names = [html.escape(f"A {row['run_a']}"), html.escape(f"B {row['run_b']}")]
    fig.add_trace(go.Bar(x=names, y=[row["a"], row["b"]], marker_color=["#8da0cb", "#fc8d62"]), 1, 1)
    fig.add_trace(
        go.Scatter(
            x=[row["b_minus_a"]],
            y=["B - A"],
            mode="markers",
            marker={"size": 12, "color": "#1b9e77"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [row["ci95_high"] - row["b_minus_a"]],
                "arrayminus": [row["b_minus_a"] - row["ci95_low"]],
            },
            hovertemplate="B - A %{x:.4g}<br>95% CI ["
            + f"{row['ci95_low']:.4g}, {row['ci95_high']:.4g}]<br>B better on {row['b_better']}, A better on "
            + f"{row['a_better']}, ties {row['ties']}<extra></extra>",
        ),
        1,
        2,
    )
    fig.add_vline(x=0, line_dash="dash", line_color="grey", row=1, col=2)
    fig.update_layout(
        title=html.escape(
            f"{row['metric']}: B - A = {row['b_minus_a']:+.4g} [{row['ci95_low']:+.4g}, {row['ci95_high']:+.4g}]"
        ),
        showlegend=False,
        template="plotly_white",
    )
    return fig


def interval_bars(value: pd.Series, low: pd.Series, high: pd.Series) -> dict:
    """Plotly error-bar settings drawing the interval [low, high] around each value."""
    return {"type": "data", "symmetric": False, "array": high - value, "arrayminus": value - low}


def ranking_chart(table: pd.DataFrame, title: str | None = None):
    """Each model's rating (Bradley-Terry and/or Elo) as a point with its 95% interval, best at the top."""
    import plotly.graph_objects as go

    fig = go.Figure()
    labels = {"bradley_terry": "Bradley-Terry", "elo": "online Elo"}
    for method, part in table.groupby("method", sort=False):
        part = part.sort_values("rating")
        fig.add_trace(
            go.Scatter(
                x=part["rating"],
                y=[html.escape(str(m)) for m in part["model"]],
                mode="markers",
                name=labels.get(str(method), html.escape(str(method))),
                error_x=interval_bars(part["rating"], part["ci95_low"], part["ci95_high"]),
                customdata=part[["ci95_low", "ci95_high", "rank", "battles"]].to_numpy(),
                hovertemplate="%{y}: %{x:.0f}<br>95% interval [%{customdata[0]:.0f}, %{customdata[1]:.0f}]"
                "<br>rank %{customdata[2]} · %{customdata[3]} votes<extra>%{fullData.name}</extra>",
            )
        )
    n = int(table["battles"].sum() / 2 / max(table["method"].nunique(), 1)) if len(table) else 0
    fig.update_layout(
        title=html.escape(title or f"Ratings from {n} votes, with 95% bootstrap intervals"),
        xaxis={"title": "rating (1000 = average)"},
        scattermode="group",  # Bradley-Terry and Elo side by side for each model
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return fig


def category_radar(table: pd.DataFrame, title: str | None = None):
    """Radar of mean judge score (1-10) per category, one trace per model; hover shows the 95% interval.

    ``table`` has columns model, category, score and optionally ci95_low, ci95_high, n.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for model, part in table.groupby("model", sort=False):
        part = pd.concat([part, part.iloc[:1]])  # close the loop
        extra = part.reindex(columns=["ci95_low", "ci95_high", "n"])
        fig.add_trace(
            go.Scatterpolar(
                r=part["score"],
                theta=part["category"].map(html.escape),
                name=html.escape(str(model)),
                fill="toself",
                opacity=0.6,
                customdata=extra.to_numpy(),
                hovertemplate="%{theta}: %{r:.2f}<br>95% CI [%{customdata[0]:.2f}, %{customdata[1]:.2f}]"
                "<br>n = %{customdata[2]}<extra>" + html.escape(str(model)) + "</extra>",
            )
        )
    fig.update_layout(
        title=html.escape(title or "Judge score per category (1-10)"),
        polar={"radialaxis": {"range": [0, 10]}},
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return fig


def win_rate_bars(table: pd.DataFrame, title: str | None = None):
    """Stacked shares of wins, ties, inconsistent verdicts and losses per category (a ``win_rate_table``)."""
    import plotly.graph_objects as go

    a, b = html.escape(str(table["model_a"].iloc[0])), html.escape(str(table["model_b"].iloc[0]))
    decided = table[["wins", "losses", "ties", "inconsistent"]].sum(axis=1).where(lambda s: s > 0)
    fig = go.Figure()
    for column, label in (
        ("wins", f"{a} better"),
        ("ties", "tie"),
        ("inconsistent", "inconsistent (flipped with order)"),
        ("losses", f"{b} better"),
    ):
        fig.add_trace(
            go.Bar(
                y=table["category"].map(html.escape),
                x=table[column] / decided,
                name=label,
                orientation="h",
                customdata=table[column],
                hovertemplate="%{y}: %{x:.0%} (%{customdata})<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(
        title=html.escape(title or f"{a} vs {b}: pairwise verdicts (both orders)"),
        barmode="stack",
        xaxis={"title": "share of comparisons", "range": [0, 1], "tickformat": ".0%"},
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return fig


def mode_agreement(items: pd.DataFrame, title: str = ""):
    """One stacked bar per outcome of scoring the same items both ways: both right, only one right, both wrong.

    ``items``: tables.mode_items. Hover shows the count, the share, and how many generated answers had no label.
    """
    import plotly.graph_objects as go

    ll, gen = items["loglikelihood correct"], items["generate correct"]
    failed = items["extraction failed"]
    n = max(len(items), 1)
    fig = go.Figure()
    for name, mask, color in (
        ("both correct", ll & gen, "#1b9e77"),
        ("only loglikelihood correct", ll & ~gen, "#7570b3"),
        ("only generate correct", ~ll & gen, "#d95f02"),
        ("both wrong", ~ll & ~gen, "#bbbbbb"),
    ):
        count = int(mask.sum())
        fig.add_trace(
            go.Bar(
                y=["items"],
                x=[count],
                name=name,
                orientation="h",
                marker_color=color,
                text=[f"{count}"],
                hovertemplate=f"{name}: {count} of {len(items)} ({count / n:.0%}); "
                f"{int((mask & failed).sum())} with no label extracted<extra></extra>",
            )
        )
    agree = int(items["agree"].sum())
    heading = f"{title}: " if title else ""
    fig.update_layout(
        title=html.escape(
            f"{heading}log-likelihood vs generated answers, {len(items)} items; same answer on {agree}, "
            f"different on {len(items) - agree}"
        ),
        barmode="stack",
        xaxis={"title": "items"},
        template="plotly_white",
        legend={"orientation": "h"},
        height=260,
    )
    return fig


def leaderboard_bars(scores: pd.DataFrame, headlines: pd.DataFrame, title: str):
    """Grouped bars: one group per task (and the headline), one bar per model, 95% interval error bars."""
    import plotly.graph_objects as go
    from plotly.colors import qualitative

    fig = go.Figure()
    done = scores[scores["status"] == "complete"]
    for i, model in enumerate(dict.fromkeys(scores["model"])):
        part = done[done["model"] == model]
        head = headlines[headlines["model"] == model]
        x = [html.escape(f"{t} {m}") for t, m in zip(part["task"], part["metric"])] + ["headline"]
        y = [*part["value"], *head["value"]]
        low = [*part["ci95_low"], *head["ci95_low"]]
        high = [*part["ci95_high"], *head["ci95_high"]]
        fig.add_trace(
            go.Bar(
                x=x,
                y=y,
                name=html.escape(str(model)),
                marker_color=qualitative.Plotly[i % len(qualitative.Plotly)],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [h - v for h, v in zip(high, y)],
                    "arrayminus": [v - lo for v, lo in zip(y, low)],
                },  # fmt: skip
                hovertemplate="%{x}: %{y:.4g}<extra>" + html.escape(str(model)) + "</extra>",
            )
        )
    fig.update_layout(
        title=html.escape(f"{title}: scores with 95% intervals"),
        barmode="group",
        template="plotly_white",
        legend={"orientation": "h"},
        yaxis={"title": "score", "range": [0, 1]},
    )
    return fig


def leaderboard_heatmap(scores: pd.DataFrame, title: str):
    """Models x tasks, coloured by score (an empty cell: the run failed)."""
    import plotly.graph_objects as go

    models = list(dict.fromkeys(scores["model"]))
    columns = list(dict.fromkeys(f"{t} {m}" for t, m in zip(scores["task"], scores["metric"])))
    z: list[list[Any]] = [[None] * len(columns) for _ in models]
    for cell in scores.to_dict(orient="records"):
        if cell["status"] == "complete":
            z[models.index(cell["model"])][columns.index(f"{cell['task']} {cell['metric']}")] = cell["value"]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[html.escape(c) for c in columns],
            y=[html.escape(str(m)) for m in models],
            colorscale="Viridis",
            zmin=0,
            zmax=1,
            texttemplate="%{z:.3f}",
            hovertemplate="%{y}<br>%{x}: %{z:.4g}<extra></extra>",
        )
    )
    fig.update_layout(
        title=html.escape(f"{title}: models x tasks"), template="plotly_white", yaxis={"autorange": "reversed"}
    )
    return fig


def trend_chart(table: pd.DataFrame, metric: str, title: str):
    """A score over time (``Trend.table()``): one point per run with its 95% interval, joined by a line; a run that
    differs significantly from the one before is ringed, one whose reported model identity changed is starred.
    Hover shows the run, its interval, what the model reported and the change; every text is HTML-escaped."""
    import plotly.graph_objects as go

    def hover(row: Any) -> str:
        lines = [f"run {row.run_id}, {row.time:%Y-%m-%d %H:%M} UTC", f"{metric} {row.score:.4g} "
                 f"[{row.ci95_low:.4g}, {row.ci95_high:.4g}], n = {row.n}", f"reported: {row.reported}"]  # fmt: skip
        if not pd.isna(row.change):
            lines.append(f"change {row.change:+.4g} [{row.change_ci95_low:+.4g}, {row.change_ci95_high:+.4g}]"
                         + (" significant" if row.significant else ""))  # fmt: skip
        if row.identity_changed:
            lines.append("the reported model identity changed")
        return "<br>".join(html.escape(line) for line in lines)

    text = [hover(row) for row in table.itertuples()]
    fig = go.Figure(
        go.Scatter(
            x=table["time"],
            y=table["score"],
            mode="lines+markers",
            name=html.escape(metric),
            hovertext=text,
            error_y=interval_bars(table["score"], table["ci95_low"], table["ci95_high"]),
            hovertemplate="%{hovertext}<extra></extra>",
        )  # fmt: skip
    )
    for column, name, marker in (
        ("significant", "significant change from the run before", {"symbol": "diamond-open", "color": "#d62728"}),
        ("identity_changed", "reported model identity changed", {"symbol": "star-open", "color": "#9467bd"}),
    ):
        marked = table[column].to_numpy(dtype=bool)
        if marked.any():
            fig.add_trace(
                go.Scatter(
                    x=table["time"][marked],
                    y=table["score"][marked],
                    mode="markers",
                    name=name,
                    marker={**marker, "size": 18, "line": {"width": 2}},
                    hovertext=[t for t, m in zip(text, marked) if m],
                    hovertemplate="%{hovertext}<extra></extra>",
                )  # fmt: skip
            )
    fig.update_layout(
        title=html.escape(title),
        xaxis={"title": "time (UTC)"},
        yaxis={"title": html.escape(metric)},
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return fig


def calibration_bars(summary: pd.DataFrame, judge: str, published: dict[str, dict[str, float]], source: str):
    """A judge's agreement with people, S1 (ties) and S2 (no ties) with 95% intervals, beside published bars."""
    import plotly.graph_objects as go

    setups = ("S1, ties", "S2, no ties")
    rows = summary.set_index("metric")
    mine = rows.loc[[f"agreement with human ({s})" for s in setups]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=list(setups),
            y=mine["value"],
            name=html.escape(f"{judge} vs human (this calibration)"),
            error_y=interval_bars(mine["value"], mine["ci95_low"], mine["ci95_high"]),
            customdata=mine[["ci95_low", "ci95_high", "n"]].to_numpy(),
            hovertemplate="%{x}: %{y:.0%}<br>95% CI [%{customdata[0]:.0%}, %{customdata[1]:.0%}], "
            "%{customdata[2]} votes<extra></extra>",
        )
    )
    for name, figures in published.items():
        label = html.escape(f"{name} (paper)")
        fig.add_trace(
            go.Bar(
                x=list(setups),
                y=[figures["s1"], figures["s2"]],
                name=label,
                opacity=0.6,
                hovertemplate="%{x}: %{y:.0%}<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(
        title=html.escape(f"Agreement with human experts: {judge} beside {source}"),
        barmode="group",
        yaxis={"title": "agreement", "range": [0, 1], "tickformat": ".0%"},
        template="plotly_white",
        legend={"orientation": "h"},
    )
    return fig
