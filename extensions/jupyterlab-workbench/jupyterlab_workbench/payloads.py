"""What the endpoints answer: runs, one run, a page of its items and a paired comparison, as plain JSON values.

Everything is read through ``workbench.store.browse.BrowseStore`` (read-only) and the workbench's own views of
a run: ``tables.headline`` (the number that stands for a run), ``run.records.Sample`` (which field of a record is
the prompt, the output, the reference) and ``comparison.compare_records`` (the paired comparison). NaN and
infinities, which a run's metrics may hold, become null: the browser's JSON has no NaN.
"""

from __future__ import annotations

import math
from typing import Any

from workbench.errors import WorkbenchError
from workbench.run.records import Sample
from workbench.store.browse import BrowseStore
from workbench.tables import headline, metric_names

PAGE_MAX = 500  # items per page at most


def clean(value: Any) -> Any:
    """``value`` with NaN and infinities as None, tuples as lists and other objects as text: valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return clean(value.item())
    return str(value)


def interval(metrics: dict[str, Any], name: str) -> list[float] | None:
    ci = metrics.get(f"{name}_ci95")
    return list(ci) if isinstance(ci, (list, tuple)) and len(ci) == 2 else None


def metric_rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every metric of a run with its standard error and 95% interval, in the run's order."""
    metrics = run.get("metrics") or {}
    return [
        {"name": m, "value": metrics[m], "stderr": metrics.get(f"{m}_stderr"), "ci95": interval(metrics, m)}
        for m in metric_names(run)
    ]


def summary(run: dict[str, Any], ratings: dict[str, dict[str, int]]) -> dict[str, Any]:
    """A run as the sidebar lists it."""
    name, value, stderr = headline(run["task"], run.get("metrics"))
    n_items, scored = run.get("n_items"), run.get("n_scored")
    rated = ratings.get(run["run_id"], {})
    return {
        "run_id": run["run_id"],
        "status": run["status"],
        "task": run["task"],
        "model": run["model"],
        "created_at": run.get("created_at"),
        "finished_at": run.get("finished_at"),
        "duration_s": run.get("duration_s"),
        "n_items": n_items,
        "n_scored": scored,
        "progress": scored / n_items if n_items and scored is not None else None,
        "error": run.get("error"),
        "headline": None
        if name is None
        else {"metric": name, "value": value, "stderr": stderr, "ci95": interval(run.get("metrics") or {}, name)},
        "annotators": rated.get("annotators", 0),
        "ratings": rated.get("ratings", 0),
        "command": run.get("command"),
    }


def runs(store: BrowseStore) -> dict[str, Any]:
    ratings = store.rating_counts()
    rows = [summary(r, ratings) for r in store.run_rows()]
    return clean({"store": str(store.path), "runs": rows})


def _correctness_metric(run: dict[str, Any], records: list[dict[str, Any]]) -> str | None:
    """The per-item 0/1 score that says right or wrong: the headline metric when it is one, else the first."""
    name = headline(run["task"], run.get("metrics"))[0]
    names = ([name] if name else []) + metric_names(run)
    for m in names:
        values = [r.get(m) for r in records]
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v in (0, 1) for v in values):
            return m
    return None


def run(store: BrowseStore, run_id: str) -> dict[str, Any]:
    """One run: its summary, metrics with intervals, everything recorded to reproduce it, the rerun command."""
    row = store.run(run_id)
    row["n_scored"] = store.scored_count(run_id)
    out = summary(row, store.rating_counts())
    out["metrics"] = metric_rows(row)
    out["settings"] = {
        "task": row["task"],
        "model": row["model"],
        "model_identity": row.get("model_identity"),
        "config": row.get("config"),
        "data_source": row.get("data_source"),
        "data_fingerprint": row.get("data_fingerprint"),
        "prompt_template": row.get("prompt_template"),
        "run_key": row.get("run_key"),
        "versions": row.get("versions"),
    }
    out["rerun"] = row.get("command") or ""
    out["store"] = str(store.path)
    return clean(out)


def item(record: dict[str, Any], scores: list[str], correct_by: str | None) -> dict[str, Any]:
    s = Sample.of(record)
    return {
        "doc_id": s.doc_id,
        "prompt": s.prompt if s.prompt is not None else s.question,
        "output": s.output,
        "reference": s.reference,
        "correct": None if correct_by is None else bool(record.get(correct_by) == 1),
        "scores": {m: record.get(m) for m in scores if isinstance(record.get(m), (int, float))},
    }


def items(
    store: BrowseStore, run_id: str, *, offset: int = 0, limit: int = 100, wrong: bool = False, search: str = ""
) -> dict[str, Any]:
    """A page of a run's items (prompt, output, reference, correct or not, per-item scores); ``wrong`` keeps the
    items scored wrong, ``search`` those whose prompt, output or reference holds the text (case-insensitive)."""
    if offset < 0 or not 0 < limit <= PAGE_MAX:
        raise WorkbenchError(f"offset must be 0 or more and limit between 1 and {PAGE_MAX} (got {offset}, {limit}).")
    row = store.run(run_id)
    records = store.sample_records(run_id)
    scores = [m for m in metric_names(row) if any(m in r for r in records[:50])]
    correct_by = _correctness_metric(row, records)
    if wrong and correct_by is None:
        raise WorkbenchError(
            f"Run {run_id} has no per-item right-or-wrong score (its metrics: {', '.join(scores) or 'none'}), so "
            "it cannot be filtered to wrong answers."
        )
    shown = [item(r, scores, correct_by) for r in records]
    n_wrong = sum(1 for i in shown if i["correct"] is False)
    if wrong:
        shown = [i for i in shown if i["correct"] is False]
    if search:
        needle = search.lower()
        shown = [i for i in shown if any(needle in (i[k] or "").lower() for k in ("prompt", "output", "reference"))]
    return clean(
        {
            "run_id": run_id,
            "total": len(records),
            "wrong": n_wrong if correct_by else None,
            "matched": len(shown),
            "offset": offset,
            "correct_by": correct_by,
            "scores": scores,
            "items": shown[offset : offset + limit],
        }
    )


def compare(store: BrowseStore, run_a: str, run_b: str, metric: str | None = None) -> dict[str, Any]:
    """The paired comparison of two runs (``workbench.compare``): B - A with its interval, the tests, the flips."""
    from workbench.comparison import compare_records

    a, b = store.run(run_a), store.run(run_b)
    c = compare_records(a, b, store.sample_records(run_a), store.sample_records(run_b), metric=metric)
    table = c.table().iloc[0].to_dict()
    flips = c.flips()
    keep = [
        k for k in ("doc_id", "direction", "a", "b", "diff", "prompt", "prediction_a", "prediction_b") if k in flips
    ]
    return clean(
        {
            "run_a": summary({**a, "n_scored": c.n_a}, {}),
            "run_b": summary({**b, "n_scored": c.n_b}, {}),
            "metric": c.metric,
            "summary": c.summary(),
            "table": table,
            "caveats": c.caveats,
            "settings": c.settings,
            "flips": flips[keep].head(PAGE_MAX).to_dict(orient="records"),
            "n_flips": len(flips),
        }
    )
