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
    """Saved runs, newest first: what ran, on what, its headline metric (the task's own first metric: acc,
    exact_match_strict, word_perplexity, the judge's score, ...) with its standard error, and whether it finished.
    Counts are integers (nullable), scores floats; ``views.text.shown_runs`` formats it for a person."""
    columns = [
        "run_id",
        "created",
        "status",
        "task",
        "model",
        "items",
        "scored",
        "metric",
        "value",
        "stderr",
        "seconds",
        "tokens",
        "cost_usd",
        "command",
    ]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    heads = [headline(t, m) for t, m in zip(runs["task"], runs["metrics"])]
    table = pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "created": pd.to_datetime(runs["created_at"], unit="s").dt.strftime("%Y-%m-%d %H:%M"),
            "status": runs["status"],
            "task": runs["task"],
            "model": runs["model"],
            "items": runs["n_items"].astype("Int64"),
            "scored": pd.array([m.get("n") if isinstance(m, dict) else None for m in runs["metrics"]], dtype="Int64"),
            "metric": [h[0] for h in heads],
            "value": pd.array([h[1] for h in heads], dtype="Float64").astype(float),
            "stderr": pd.array([h[2] for h in heads], dtype="Float64").astype(float),
            "seconds": runs["duration_s"].astype(float).round(1),
            "tokens": pd.array([_usage(m, "prompt_tokens", "completion_tokens") for m in runs["metrics"]], "Int64"),
            "cost_usd": pd.array([_usage(m, "cost_usd") for m in runs["metrics"]], dtype="Float64").astype(float),
            "command": runs["command"],
        }
    )
    return table[columns].reset_index(drop=True)


def _is_metric(name: str, value: Any) -> bool:
    """A scalar score of a run's metrics (not its item count, a standard error or an interval)."""
    return (
        name != "n"
        and not name.endswith(("_stderr", "_ci95"))
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    )


def headline(task: str, metrics: Any) -> tuple[str | None, float | None, float | None]:
    """The one number that stands for a run: (metric, value, stderr).

    The task's own first metric when the task is registered (acc for ARC, exact_match_strict for GSM8K,
    word_perplexity for WikiText), else the first metric saved with a 95% interval (a judge's score, a pairwise
    win_rate_adjusted, a grid cell's chrF), else the first number. (None, None, None) for a run without metrics.
    """
    if not isinstance(metrics, dict):
        return None, None, None
    names = [k for k, v in metrics.items() if _is_metric(k, v)]
    try:
        from .tasks import REGISTRY

        own = list(REGISTRY[task].metrics) if task in REGISTRY else []
    except Exception:  # the listing never fails over a task it cannot look up
        own = []
    preferred = [m for m in own if m in names] + [m for m in names if f"{m}_ci95" in metrics] + names
    if not preferred:
        return None, None, None
    name = preferred[0]
    stderr = metrics.get(f"{name}_stderr")
    return name, float(metrics[name]), float(stderr) if isinstance(stderr, (int, float)) else None


def _usage(metrics: Any, *keys: str) -> Any:
    """Sum of ``keys`` of a run's recorded usage (API tokens, cost); None where nothing was recorded or priced."""
    usage = metrics.get("usage") if isinstance(metrics, dict) else None
    values = [usage.get(k) for k in keys] if usage else [None]
    return None if any(v is None for v in values) else sum(values)


def judge_score_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Judge ratings (1-10) per category, per turn and overall: mean, stderr, 95% interval, answers, unreadable.

    ``scores`` has one row per judged answer: category, turn, score (NaN where the verdict was unreadable).
    Unreadable verdicts are counted, never averaged in.
    """
    from .metrics import mean, mean_stderr, normal_ci

    def row(group: str, name: str, part: pd.DataFrame) -> dict[str, Any]:
        values = [float(v) for v in part["score"].dropna()]
        value, stderr = mean(values), mean_stderr(values)
        lo, hi = normal_ci(value, stderr, 1.0, 10.0)
        return {
            "group": group,
            "name": name,
            "score": value,
            "stderr": stderr,
            "ci95_low": lo,
            "ci95_high": hi,
            "n": len(values),
            "unparseable": int(part["score"].isna().sum()),
        }

    rows = [row("category", str(c), part) for c, part in scores.groupby("category", sort=False)]
    if scores["turn"].nunique() > 1:
        rows += [row("turn", f"turn {t}", part) for t, part in scores.groupby("turn")]
    rows.append(row("overall", "overall", scores))
    return pd.DataFrame(rows, columns=["group", "name", "score", "stderr", "ci95_low", "ci95_high", "n", "unparseable"])


def win_rate_table(verdicts: pd.DataFrame, model_a: str, model_b: str) -> pd.DataFrame:
    """Pairwise outcomes per category and overall, FastChat's way: an inconsistent verdict is a tie.

    ``verdicts`` has one row per compared answer: category and outcome ('a', 'b', 'tie', 'inconsistent' or
    'unparseable'). win_rate = wins / decided, win_rate_adjusted = (wins + ties / 2) / decided with a 95%
    interval, position_bias = inconsistent / decided (decided: every comparison with a readable outcome).
    """
    from .metrics import mean, mean_stderr, normal_ci

    points = {"a": 1.0, "b": 0.0, "tie": 0.5, "inconsistent": 0.5}

    def row(name: str, part: pd.DataFrame) -> dict[str, Any]:
        counts = part["outcome"].value_counts()
        values = [points[o] for o in part["outcome"] if o in points]
        decided = len(values)
        adjusted, stderr = mean(values), mean_stderr(values)
        lo, hi = normal_ci(adjusted, stderr)

        def share(outcome: str) -> float:
            return counts.get(outcome, 0) / decided if decided else float("nan")

        return {
            "category": name,
            "model_a": model_a,
            "model_b": model_b,
            "wins": int(counts.get("a", 0)),
            "losses": int(counts.get("b", 0)),
            "ties": int(counts.get("tie", 0)),
            "inconsistent": int(counts.get("inconsistent", 0)),
            "unparseable": int(counts.get("unparseable", 0)),
            "win_rate": share("a"),
            "loss_rate": share("b"),
            "win_rate_adjusted": adjusted,
            "ci95_low": lo,
            "ci95_high": hi,
            "position_bias": share("inconsistent"),
        }

    rows = [row(str(c), part) for c, part in verdicts.groupby("category", sort=False)]
    rows.append(row("overall", verdicts))
    return pd.DataFrame(rows)


def _correct(pred: Any, gold: Any) -> bool:
    return pred in gold if isinstance(gold, list) else pred == gold


def mode_items(scored: pd.DataFrame, generated: pd.DataFrame) -> pd.DataFrame:
    """Per item, the log-likelihood run's and the generative run's answers side by side.

    ``scored``: samples of a log-likelihood run (doc_id, gold, pred); ``generated``: samples of a generative run
    of the same items (doc_id, pred, options, raw, extracted, extraction_failed, question).
    """
    both = scored[["doc_id", "gold", "pred"]].merge(
        generated[["doc_id", "pred", "question", "options", "raw", "extracted", "extraction_failed"]],
        on="doc_id",
        suffixes=("_ll", "_gen"),
    )

    def text(options: list, index: Any) -> str:
        indices = index if isinstance(index, list) else [index]
        return " | ".join(str(options[i]) for i in indices if 0 <= i < len(options))

    rows = []
    for r in both.to_dict(orient="records"):
        ll_ok, gen_ok = _correct(r["pred_ll"], r["gold"]), _correct(r["pred_gen"], r["gold"])
        rows.append(
            {
                "doc_id": r["doc_id"],
                "question": r["question"],
                "gold": text(r["options"], r["gold"]),
                "loglikelihood answer": text(r["options"], r["pred_ll"]),
                "generated text": r["raw"],
                "generated answer": text(r["options"], r["pred_gen"]),
                "extraction failed": bool(r["extraction_failed"]),
                "loglikelihood correct": ll_ok,
                "generate correct": gen_ok,
                "agree": r["pred_ll"] == r["pred_gen"],
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "doc_id",
            "question",
            "gold",
            "loglikelihood answer",
            "generated text",
            "generated answer",
            "extraction failed",
            "loglikelihood correct",
            "generate correct",
            "agree",
        ],
    )


def mode_table(scored: dict[str, Any], generated: dict[str, Any], items: pd.DataFrame) -> pd.DataFrame:
    """Both modes' scores (value, stderr, 95% interval), then how the two compare item by item."""
    rows = []
    for mode, metrics, names in (
        ("loglikelihood", scored, ("acc",)),
        ("generate", generated, ("exact_match", "extraction_failed")),
    ):
        for name in names:
            lo, hi = metrics.get(f"{name}_ci95", [float("nan"), float("nan")])
            row = {"mode": mode, "measure": name, "value": metrics.get(name), "stderr": metrics.get(f"{name}_stderr")}
            rows.append({**row, "ci95_low": lo, "ci95_high": hi, "items": metrics.get("n")})
    n = len(items)
    ll, gen = items["loglikelihood correct"], items["generate correct"]
    for name, count in (
        ("same answer", int(items["agree"].sum())),
        ("both correct", int((ll & gen).sum())),
        ("only loglikelihood correct", int((ll & ~gen).sum())),
        ("only generate correct", int((~ll & gen).sum())),
        ("both wrong", int((~ll & ~gen).sum())),
    ):
        rows.append({"mode": "both", "measure": name, "value": count / n if n else float("nan"), "items": count})
    return pd.DataFrame(rows, columns=["mode", "measure", "value", "stderr", "ci95_low", "ci95_high", "items"])


def with_usage(table: pd.DataFrame, run: dict[str, Any]) -> pd.DataFrame:
    """A run's metric table with its token usage and cost in dollars (None when the price is unknown), when the
    run recorded usage (generation through an API model, MT-Bench answers, judge runs)."""
    usage = (run.get("metrics") or {}).get("usage")
    if not usage:
        return table
    table = table.assign(
        prompt_tokens=usage["prompt_tokens"], completion_tokens=usage["completion_tokens"], cost_usd=usage["cost_usd"]
    )
    return table.assign(no_content=usage["no_content"]) if usage.get("no_content") else table


def metric_names(run: dict[str, Any]) -> list[str]:
    """A run's metric names with a number (not n, stderr, intervals or signatures), in the run's order."""
    metrics = run.get("metrics") or {}
    return [
        k
        for k, v in metrics.items()
        if k != "n" and not k.endswith(("_stderr", "_ci95", "_signature")) and isinstance(v, (int, float))
    ]
