"""Is run B really better than run A? A paired, item-by-item comparison on the items both runs scored.

    c = workbench.compare("1a2b3c4d", "5e6f7a8b")
    c.table()    # A, B, B - A with a paired bootstrap 95% interval, McNemar's exact p for 0/1 metrics
    c.flips()    # the items that went each way
    c.figure()

Corpus metrics stay corpus metrics: BLEU and chrF are re-computed from sacrebleu's sufficient statistics in
every bootstrap resample, and perplexities from summed log-likelihoods and unit counts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import WorkbenchError, suggest
from .metrics.paired import McNemar, PairedBootstrap, is_binary, mcnemar_exact, paired_bootstrap
from .metrics.perplexity import bits_per_byte, perplexity
from .store import Store

Row = dict[str, Any]
PERPLEXITY_UNITS = {
    "token_perplexity": "tokens",
    "word_perplexity": "words",
    "byte_perplexity": "bytes",
    "bits_per_byte": "bytes",
}
SKIP_FIELDS = {"doc_id", "gold", "pred", "pred_norm", "windows", "cached", "loglikelihood", "words", "bytes", "tokens"}


@dataclass
class Comparison:
    """The paired comparison of two runs on one metric."""

    run_a: Row
    run_b: Row
    metric: str
    bootstrap: PairedBootstrap
    mcnemar: McNemar | None
    items: Any  # DataFrame: doc_id, a, b, diff (+ prompt, predictions when the runs have them)
    higher_is_better: bool = True
    warnings: list[str] = field(default_factory=list)

    @property
    def n_shared(self) -> int:
        return len(self.items)

    def table(self):
        """One row: both scores, B - A with its paired bootstrap interval, and the tests."""
        import pandas as pd

        d = self.items["diff"]
        better, worse = (d > 0, d < 0) if self.higher_is_better else (d < 0, d > 0)
        b = self.bootstrap
        return pd.DataFrame(
            [
                {
                    "metric": self.metric,
                    "run_a": self.run_a["run_id"],
                    "run_b": self.run_b["run_id"],
                    "shared_items": self.n_shared,
                    "a": b.a,
                    "b": b.b,
                    "b_minus_a": b.diff,
                    "ci95_low": b.ci95[0],
                    "ci95_high": b.ci95[1],
                    "bootstrap_p": b.p_value,
                    "mcnemar_p": self.mcnemar.p_value if self.mcnemar else None,
                    "b_better": int(better.sum()),
                    "a_better": int(worse.sum()),
                    "ties": int((d == 0).sum()),
                }
            ]
        )

    def flips(self):
        """Items whose score changed, B-better first (for 0/1 metrics: right in one run, wrong in the other)."""
        d = self.items["diff"]
        changed = self.items[d != 0].copy()
        better = changed["diff"] > 0 if self.higher_is_better else changed["diff"] < 0
        changed.insert(1, "direction", ["B better" if x else "A better" for x in better])
        return changed.sort_values(["direction", "doc_id"], ascending=[False, True]).reset_index(drop=True)

    def figure(self):
        from .charts import comparison_chart

        return comparison_chart(self.table(), self.items)

    def summary(self) -> str:
        """One sentence a person can read."""
        b = self.bootstrap
        verdict = "an interval that excludes 0" if b.ci95[0] > 0 or b.ci95[1] < 0 else "an interval that includes 0"
        test = f"; McNemar exact p = {self.mcnemar.p_value:.3g}" if self.mcnemar else ""
        return (
            f"{self.metric}: A {b.a:.4g}, B {b.b:.4g}, B - A = {b.diff:+.4g} "
            f"[{b.ci95[0]:+.4g}, {b.ci95[1]:+.4g}] over {self.n_shared} shared items ({verdict}){test}."
        )


def _metric_names(run: Row) -> list[str]:
    metrics = run.get("metrics") or {}
    return [
        k
        for k, v in metrics.items()
        if k != "n" and not k.endswith(("_stderr", "_ci95", "_signature")) and isinstance(v, (int, float))
    ]


def _pick_metric(run_a: Row, run_b: Row, records_a: Sequence[Row], records_b: Sequence[Row], metric: str | None):
    shared_run = [m for m in _metric_names(run_a) if m in _metric_names(run_b)]
    per_item = [m for m in shared_run if _has_values(records_a, m) and _has_values(records_b, m)]
    if metric is None:
        if not per_item:
            raise WorkbenchError(
                f"Runs {run_a['run_id']} and {run_b['run_id']} have no per-item metric in common "
                f"(A: {', '.join(_metric_names(run_a)) or 'none'}; B: {', '.join(_metric_names(run_b)) or 'none'})."
            )
        return per_item[0]
    if metric not in per_item:
        raise WorkbenchError(
            f"Metric {metric!r} is not scored per item in both runs.{suggest(metric, per_item)} "
            f"Metrics both runs have: {', '.join(per_item) or 'none'}."
        )
    return metric


def _has_values(records: Sequence[Row], name: str) -> bool:
    return bool(records) and all(isinstance(r.get(name), (int, float)) for r in records) and name not in SKIP_FIELDS


def _lang(run: Row) -> str | None:
    from .tasks import REGISTRY

    config = run.get("config") or {}
    return config.get("lang") or getattr(REGISTRY.get(run["task"]), "target_lang", None)


def _corpus_statistic(metric: str, records: Sequence[Row], lang: str | None):
    """(rows, statistic) that recompute a corpus metric on resampled items; None for plain means."""
    import numpy as np

    if metric in ("bleu", "chrf") and all("prediction" in r and "reference" in r for r in records):
        from .metrics.text import sacrebleu_statistics

        return sacrebleu_statistics(metric, [r["prediction"] for r in records], [r["reference"] for r in records], lang)
    unit = PERPLEXITY_UNITS.get(metric)
    if unit and all(r.get(unit) is not None and "loglikelihood" in r for r in records):
        rows = np.array([[float(r["loglikelihood"]), float(r[unit])] for r in records])
        fn: Callable[[float, float], float] = bits_per_byte if metric == "bits_per_byte" else perplexity  # type: ignore[assignment]

        def statistic(sample) -> float:
            total = sample.sum(axis=0)
            return fn(float(total[0]), int(total[1]))

        return rows, statistic
    return None


def _differences(run_a: Row, run_b: Row, recs_a: Mapping[int, Row], recs_b: Mapping[int, Row]) -> list[str]:
    notes = []
    if run_a["task"] != run_b["task"]:
        notes.append(f"The runs are of different tasks ({run_a['task']} vs {run_b['task']}).")
    if run_a.get("data_fingerprint") != run_b.get("data_fingerprint"):
        notes.append(
            "The runs' data fingerprints differ: they were made on different rows, so an item number may not "
            "mean the same item in both."
        )
    if (run_a.get("prompt_template") or "") != (run_b.get("prompt_template") or ""):
        notes.append(
            f"The prompt templates differ (A: {run_a.get('prompt_template')!r}, B: {run_b.get('prompt_template')!r}): "
            "the comparison measures the prompt as well as the model."
        )
    else:
        differing = [d for d in recs_a if d in recs_b and recs_a[d].get("prompt") != recs_b[d].get("prompt")]
        if differing:
            notes.append(f"{len(differing)} shared items were shown different prompts (e.g. doc {differing[0]}).")
    for run in (run_a, run_b):
        if run["status"] != "complete":
            notes.append(f"Run {run['run_id']} is {run['status']}, not complete.")
    return notes


def compare(
    run_a: str,
    run_b: str,
    *,
    metric: str | None = None,
    n_resamples: int = 10_000,
    seed: int = 1234,
    store: str | Path | None = None,
) -> Comparison:
    """Compare two saved runs item by item on the items both scored.

    The difference B - A gets a paired bootstrap 95% interval (the same resampled items for both runs),
    0/1 metrics also McNemar's exact test. Refuses runs with no items in common; warns when the data
    fingerprints or prompts differ. ``metric`` defaults to the first metric both runs score per item.
    """
    import pandas as pd

    from .metrics import catalog

    db = Store(store)
    a, b = db.run(run_a), db.run(run_b)
    recs_a = {int(r["doc_id"]): r for r in db.sample_records(run_a)}
    recs_b = {int(r["doc_id"]): r for r in db.sample_records(run_b)}
    shared = sorted(set(recs_a) & set(recs_b))
    if not shared:
        raise WorkbenchError(
            f"Runs {run_a} ({a['task']}, {len(recs_a)} items) and {run_b} ({b['task']}, {len(recs_b)} items) have no "
            "items in common, so there is nothing to compare item by item. Compare runs made on the same rows "
            "(same task or data, overlapping --limit)."
        )
    ra, rb = [recs_a[d] for d in shared], [recs_b[d] for d in shared]
    name = _pick_metric(a, b, ra, rb, metric)
    notes = _differences(a, b, recs_a, recs_b)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    va, vb = [float(r[name]) for r in ra], [float(r[name]) for r in rb]
    corpus_a, corpus_b = _corpus_statistic(name, ra, _lang(a)), _corpus_statistic(name, rb, _lang(b))
    if corpus_a and corpus_b:
        boot = paired_bootstrap(
            corpus_a[0], corpus_b[0], statistic_a=corpus_a[1], statistic_b=corpus_b[1],
            n_resamples=min(n_resamples, 1000), seed=seed,
        )  # fmt: skip
    else:
        boot = paired_bootstrap(va, vb, n_resamples=n_resamples, seed=seed)
    binary = not (corpus_a and corpus_b) and is_binary(va) and is_binary(vb)
    test = mcnemar_exact(va, vb) if binary else None
    items = pd.DataFrame({"doc_id": shared, "a": va, "b": vb, "diff": [y - x for x, y in zip(va, vb)]})
    for column in ("prompt", "prediction", "reference"):
        if all(column in r for r in ra):
            key = f"{column}_a" if column == "prediction" else column
            items[key] = [r[column] if isinstance(r[column], str) else str(r[column]) for r in ra]
            if column == "prediction" and all(column in r for r in rb):
                items["prediction_b"] = [r[column] for r in rb]
    spec = catalog.METRICS.get(name)
    higher = spec.higher_is_better if spec else name not in PERPLEXITY_UNITS
    return Comparison(a, b, name, boot, test, items, higher, notes)
