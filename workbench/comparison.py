"""Is run B really better than run A? A paired, item-by-item comparison on the items both runs scored.

    c = workbench.compare("1a2b3c4d", "5e6f7a8b")
    c.table()    # A, B, B - A with a paired bootstrap 95% interval, McNemar's exact p for 0/1 metrics
    c.flips()    # the items that went each way
    c.figure()

Items are matched by what they are, never by position: each record carries its item's identity (``item_fp``, a
fingerprint of the document it scored), and a document that occurs several times is paired in order of
occurrence. Only the shared items are compared, and the result says how many of each run's items those are;
runs with no item in common are refused. Records saved before items had an identity are matched by item number
only when both runs were made on the same data (equal data fingerprints), else refused with the fix (re-run).
Anything else to keep in mind (different prompts, an unfinished run) is a caveat, in ``summary()``, in
``table()`` and in one ``workbench:`` line when the comparison is made.

Corpus metrics stay corpus metrics: BLEU and chrF are re-computed from sacrebleu's sufficient statistics in
every bootstrap resample, and perplexities from summed log-likelihoods and unit counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import WorkbenchError, notice, suggest
from .metrics.paired import McNemar, PairedBootstrap, is_binary, mcnemar_exact, paired_bootstrap
from .metrics.perplexity import bits_per_byte, perplexity
from .run.records import ITEM_FP, has_identities, occurrences
from .store import Store
from .tables import metric_names

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
    """The paired comparison of two runs on one metric, over the items both runs scored."""

    run_a: Row
    run_b: Row
    metric: str
    bootstrap: PairedBootstrap
    mcnemar: McNemar | None
    items: Any  # DataFrame: doc_id (A's), [doc_id_b], a, b, diff (+ prompt, predictions when the runs have them)
    higher_is_better: bool = True
    caveats: list[str] = field(default_factory=list)
    n_a: int = 0  # items run A scored (the shared ones are n_shared of them)
    n_b: int = 0
    matched_by: str = "item"  # "item": by item identity (item_fp); "doc_id": by item number (older records)
    settings: str = ""  # the recorded settings that differ, in one line (workbench.diff); '' when none

    @property
    def n_shared(self) -> int:
        return len(self.items)

    @property
    def warnings(self) -> list[str]:
        """The caveats (the name earlier versions used)."""
        return self.caveats

    def table(self):
        """One row: both scores, B - A with its paired bootstrap interval, the tests, how many of each run's items
        were compared and the caveats ('' when none)."""
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
                    "items_a": self.n_a,
                    "items_b": self.n_b,
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
                    "caveats": " ".join(self.caveats),
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
        """One sentence a person can read, then the caveats; the settings that differ on a line of their own."""
        b = self.bootstrap
        verdict = "an interval that excludes 0" if b.ci95[0] > 0 or b.ci95[1] < 0 else "an interval that includes 0"
        test = f"; McNemar exact p = {self.mcnemar.p_value:.3g}" if self.mcnemar else ""
        caveats = f" Caveats: {' '.join(self.caveats)}" if self.caveats else ""
        settings = f"\nSettings that differ (workbench.diff shows them): {self.settings}." if self.settings else ""
        return (
            f"{self.metric}: A {b.a:.4g}, B {b.b:.4g}, B - A = {b.diff:+.4g} "
            f"[{b.ci95[0]:+.4g}, {b.ci95[1]:+.4g}] over {self.n_shared} shared items ({verdict}){test}.{caveats}"
            f"{settings}"
        )


# ---- which items are the same item ---------------------------------------------------------------------------
def described(run: Row, n_items: int) -> str:
    """'1a2b3c4d (arc_easy on mirror:/data, 5 items)': a run as the refusals name it."""
    return f"{run['run_id']} ({run['task']} on {run.get('data_source') or 'unknown data'}, {n_items} items)"


def _names(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def no_shared_items(runs: Sequence[str], doing: str, fix: str) -> WorkbenchError:
    """The refusal of runs that scored no item in common (``runs`` as :func:`described` names them)."""
    return WorkbenchError(
        f"Runs {_names(list(runs))} have no items in common: no document scored in one was scored in the other, "
        f"so there is nothing to {doing}. {fix} runs made on the same data (the same task or file, with "
        "overlapping --limit)."
    )


def predating(runs: Sequence[tuple[Row, int]], old: Sequence[Row], doing: str) -> WorkbenchError:
    """The refusal of runs whose records have no item identities and whose data differ: matching them by item
    number could pair different questions. The fix is to re-run the old ones (their recorded calls)."""
    which = _names([r["run_id"] for r in old])
    prints = _names(sorted({str(r.get("data_fingerprint"))[:19] for r, _ in runs}))
    calls = "; ".join(f"{r['command']}" for r in old if r.get("command"))
    return WorkbenchError(
        f"Runs {_names([described(r, n) for r, n in runs])} cannot be matched item by item to {doing}: run(s) "
        f"{which} were saved before records carried item identities (item_fp), and the runs were made on different "
        f"data (data fingerprints {prints}), so an item number may not mean the same item in each. Re-run {which} "
        f"with this version of the workbench (repeat the call{': ' + calls if calls else ''}) and use the new "
        "run(s): their items are matched by what they are."
    )


def match(run_a: Row, run_b: Row, recs_a: Sequence[Row], recs_b: Sequence[Row]) -> tuple[list[tuple[Row, Row]], str]:
    """The (A, B) record pairs of the items both runs scored, in A's order, and what matched them ("item" or
    "doc_id"); refuses runs with no item in common and older records of different data."""
    for run, recs in ((run_a, recs_a), (run_b, recs_b)):
        if not recs:
            call = f" ({run['command']})" if run.get("command") else ""
            raise WorkbenchError(f"Run {run['run_id']} has no scored items yet; finish it by repeating its call{call}.")
    if has_identities(recs_a) and has_identities(recs_b):
        by_b = dict(zip(occurrences([r[ITEM_FP] for r in recs_b]), recs_b))
        keys_a = occurrences([r[ITEM_FP] for r in recs_a])
        pairs, by = [(r, by_b[k]) for k, r in zip(keys_a, recs_a) if k in by_b], "item"
    else:
        if run_a.get("data_fingerprint") != run_b.get("data_fingerprint"):
            old = [run for run, recs in ((run_a, recs_a), (run_b, recs_b)) if not has_identities(recs)]
            raise predating([(run_a, len(recs_a)), (run_b, len(recs_b))], old, "compare them")
        by_doc = {int(r["doc_id"]): r for r in recs_b}
        pairs, by = [(r, by_doc[int(r["doc_id"])]) for r in recs_a if int(r["doc_id"]) in by_doc], "doc_id"
    if not pairs:
        raise no_shared_items(
            [described(run_a, len(recs_a)), described(run_b, len(recs_b))], "compare item by item", "Compare"
        )
    return pairs, by


def _pick_metric(run_a: Row, run_b: Row, records_a: Sequence[Row], records_b: Sequence[Row], metric: str | None):
    shared_run = [m for m in metric_names(run_a) if m in metric_names(run_b)]
    per_item = [m for m in shared_run if _has_values(records_a, m) and _has_values(records_b, m)]
    if metric is None:
        if not per_item:
            raise WorkbenchError(
                f"Runs {run_a['run_id']} and {run_b['run_id']} have no per-item metric in common "
                f"(A: {', '.join(metric_names(run_a)) or 'none'}; B: {', '.join(metric_names(run_b)) or 'none'})."
            )
        return per_item[0]
    from .metrics import catalog

    metric = catalog.column(metric)  # a metric script's path: the field its values were recorded under
    if metric not in per_item:
        whole = " (both runs have it only as one score over all items)" if metric in shared_run else ""
        raise WorkbenchError(
            f"Metric {metric!r} is not scored per item in both runs{whole}.{suggest(metric, per_item)} "
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


def _caveats(run_a: Row, run_b: Row, pairs: Sequence[tuple[Row, Row]], n_a: int, n_b: int) -> list[str]:
    notes = []
    if len(pairs) < n_a or len(pairs) < n_b:
        notes.append(
            f"Only the items both runs scored are compared: {len(pairs)} of run A's {n_a} items and "
            f"{len(pairs)} of run B's {n_b}."
        )
    if run_a["task"] != run_b["task"]:
        notes.append(f"The runs are of different tasks ({run_a['task']} vs {run_b['task']}).")
    if (run_a.get("prompt_template") or "") != (run_b.get("prompt_template") or ""):
        notes.append(
            f"The prompt templates differ (A: {run_a.get('prompt_template')!r}, B: {run_b.get('prompt_template')!r}): "
            "the comparison measures the prompt as well as the model."
        )
    else:
        differing = [ra["doc_id"] for ra, rb in pairs if ra.get("prompt") != rb.get("prompt")]
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

    Items are matched by their identity (see the module docstring); only the shared items are compared. The
    difference B - A gets a paired bootstrap 95% interval (the same resampled items for both runs), 0/1 metrics
    also McNemar's exact test. Refuses runs with no items in common; caveats (a partial overlap, different
    prompts, an unfinished run) are in the result's ``caveats``, ``summary()`` and ``table()``, and printed as
    one ``workbench:`` line. ``metric`` defaults to the first metric both runs score per item.
    """
    db = Store(store, create=False)  # reading: a mistyped path is named, never created
    a, b = db.run(run_a), db.run(run_b)
    recs_a, recs_b = db.sample_records(run_a), db.sample_records(run_b)
    return compare_records(a, b, recs_a, recs_b, metric=metric, n_resamples=n_resamples, seed=seed)


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better (the catalog says; perplexities are not)."""
    from .metrics import catalog

    spec = catalog.METRICS.get(metric)
    return spec.higher_is_better if spec else metric not in PERPLEXITY_UNITS


def compare_records(
    a: Row,
    b: Row,
    recs_a: Sequence[Row],
    recs_b: Sequence[Row],
    *,
    metric: str | None = None,
    n_resamples: int = 10_000,
    seed: int = 1234,
) -> Comparison:
    """:func:`compare` of two run rows (as ``Store.run`` returns them) and their records, wherever they were read
    from: the store, or a baseline file of ``workbench check`` (workbench.gate.baseline)."""
    import pandas as pd

    from .diffing import between

    run_a, run_b = a["run_id"], b["run_id"]
    pairs, matched_by = match(a, b, recs_a, recs_b)
    ra, rb = [p[0] for p in pairs], [p[1] for p in pairs]
    name = _pick_metric(a, b, ra, rb, metric)
    notes = _caveats(a, b, pairs, len(recs_a), len(recs_b))
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
    items = pd.DataFrame({"doc_id": [int(r["doc_id"]) for r in ra]})
    doc_b = [int(r["doc_id"]) for r in rb]
    if doc_b != list(items["doc_id"]):  # matched by identity at other positions: B's item numbers too
        items["doc_id_b"] = doc_b
    items = items.assign(a=va, b=vb, diff=[y - x for x, y in zip(va, vb)])
    for column in ("prompt", "prediction", "reference"):
        if all(column in r for r in ra):
            key = f"{column}_a" if column == "prediction" else column
            items[key] = [r[column] if isinstance(r[column], str) else str(r[column]) for r in ra]
            if column == "prediction" and all(column in r for r in rb):
                items["prediction_b"] = [r[column] for r in rb]
    higher = higher_is_better(name)
    if notes:  # one line, as the shells print errors (never a Python warning pointing into this file)
        notice(f"comparing {run_a} (A) and {run_b} (B): {' '.join(notes)}")
    settings = between(a, b).differences()  # the one line of workbench.diff's verdict that names the settings
    return Comparison(a, b, name, boot, test, items, higher, notes, len(recs_a), len(recs_b), matched_by, settings)
