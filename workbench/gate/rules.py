"""The rules, held against a candidate run: each gives an :class:`Outcome` (passed or not, the numbers, and why).

- ``not_worse: t`` with a stored run or a baseline file: the paired comparison of ``workbench.compare`` on the
  items both scored (baseline A, candidate B). It fails when the paired bootstrap 95% interval of
  candidate - baseline lies entirely below -t (for a metric where lower is better, such as perplexity:
  entirely above +t). An interval that reaches -t passes: the data do not show a drop larger than t.
- ``not_worse: t`` with ``{value: x}``: no items to pair, so the candidate's own 95% interval (the one its run
  records) is held against x: it fails when the interval's upper end is below x - t (lower is better: its lower
  end above x + t).
- ``floor: f`` fails when the candidate's score is below f; ``ceiling: c`` when it is above c.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..comparison import Comparison, compare_records, higher_is_better
from ..errors import WorkbenchError, suggest
from .baseline import Files, comparable
from .spec import Check, Rule


@dataclass(frozen=True)
class Outcome:
    """One rule on one candidate run."""

    check: Check
    rule: Rule
    passed: bool
    candidate: float  # the candidate's score (paired: on the shared items)
    reason: str  # a few words for the table: 'CI below -0.02', '< 0.4'
    detail: str  # the whole story in a sentence or two
    run_id: str
    baseline: float | None = None  # the baseline's score (paired: on the shared items; a value: the value)
    diff: float | None = None  # candidate - baseline
    ci95: tuple[float, float] | None = None  # of the difference
    against: str = ""  # what the baseline is, e.g. 'run 1a2b3c4d'
    n: int | None = None  # items compared

    @property
    def label(self) -> str:
        """'arc_easy smollm2-135m acc not_worse 0.02'."""
        return f"{self.check.task} {self.check.model} {self.rule.metric} {self.rule.label}"


def num(value: float) -> str:
    """A score as the table and messages show it: 3 decimals below 10, else the shortest form."""
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.4g}"


def signed(value: float) -> str:
    return f"{value:+.3f}" if abs(value) < 10 else f"{value:+.4g}"


def _interval(run: Mapping[str, Any], records: Sequence[Mapping[str, Any]], metric: str, rule: Rule):
    """The candidate's 95% interval: the run's recorded one, else a bootstrap of its per-item values."""
    from ..metrics.paired import bootstrap_interval

    recorded = (run.get("metrics") or {}).get(f"{metric}_ci95")
    if (
        isinstance(recorded, (list, tuple))
        and len(recorded) == 2
        and all(isinstance(v, (int, float)) for v in recorded)
    ):
        return float(recorded[0]), float(recorded[1])
    values = [r.get(metric) for r in records]
    if values and all(isinstance(v, (int, float)) for v in values):
        return bootstrap_interval([float(v) for v in values if v is not None], n_resamples=10_000)
    raise WorkbenchError(
        f"{rule.where}: run {run['run_id']} records no 95% interval for {metric} and no per-item values to "
        "compute one, so not_worse cannot hold it against a value; use floor instead."
    )


class Judge:
    """Holds one candidate run to its check's rules."""

    def __init__(self, check: Check, run_id: str, db: Any, files: Files):
        self.check, self.run_id, self.db, self.files = check, run_id, db, files
        self.run: dict[str, Any] = db.run(run_id)
        self._records: list[dict[str, Any]] | None = None
        self._compared: dict[str, Comparison] = {}

    @property
    def records(self) -> list[dict[str, Any]]:
        if self._records is None:
            self._records = self.db.sample_records(self.run_id)
        return self._records

    def outcomes(self) -> list[Outcome]:
        return [self.outcome(rule) for rule in self.check.rules]

    def outcome(self, rule: Rule) -> Outcome:
        from ..tables import metric_names

        names = metric_names(self.run)
        if rule.metric not in names:
            raise WorkbenchError(
                f"{rule.where}: run {self.run_id} ({self.check.task}) has no metric {rule.metric!r}."
                f"{suggest(rule.metric, names)} Its metrics: {', '.join(names) or 'none'}."
            )
        value = float(self.run["metrics"][rule.metric])
        if rule.kind == "floor":
            ok = value >= rule.threshold
            reason = f"{'>=' if ok else '<'} {rule.threshold:g}"
            detail = f"{rule.metric} = {num(value)}, {'at or above' if ok else 'below'} the floor {rule.threshold:g}."
            return Outcome(self.check, rule, ok, value, reason, detail, self.run_id)
        if rule.kind == "ceiling":
            ok = value <= rule.threshold
            reason = f"{'<=' if ok else '>'} {rule.threshold:g}"
            detail = f"{rule.metric} = {num(value)}, {'at or below' if ok else 'above'} the ceiling {rule.threshold:g}."
            return Outcome(self.check, rule, ok, value, reason, detail, self.run_id)
        assert self.check.baseline is not None  # the spec refuses not_worse without a baseline
        if self.check.baseline.kind == "value":
            return self.against_value(rule, value)
        return self.paired(rule)

    def against_value(self, rule: Rule, value: float) -> Outcome:
        baseline = self.check.baseline
        assert baseline is not None and baseline.value is not None
        x, t = baseline.value, rule.threshold
        lo, hi = _interval(self.run, self.records, rule.metric, rule)
        higher = higher_is_better(rule.metric)
        bound = x - t if higher else x + t
        ok = hi >= bound if higher else lo <= bound
        side, end = ("below", "upper") if higher else ("above", "lower")
        reason = f"CI reaches {num(bound)}" if ok else f"CI {side} {num(bound)}"
        verdict = (
            f"its {end} end reaches {num(bound)} (= {x:g} {'-' if higher else '+'} {t:g}): not shown worse"
            if ok
            else f"the whole interval lies {side} {num(bound)} (= {x:g} {'-' if higher else '+'} {t:g}): worse than "
            f"the baseline value by more than the tolerance {t:g}"
        )
        detail = f"{rule.metric} = {num(value)} [95% CI {num(lo)}, {num(hi)}] against the value {x:g}; {verdict}."
        return Outcome(
            self.check, rule, ok, value, reason, detail, self.run_id, x, value - x, (lo - x, hi - x), baseline.label
        )

    def comparison(self, rule: Rule) -> Comparison:
        if rule.metric not in self._compared:
            baseline = self.check.baseline
            assert baseline is not None
            if baseline.kind == "run":
                assert baseline.run is not None
                base, base_records = self.db.run(baseline.run), self.db.sample_records(baseline.run)
                records = self.records
            else:
                base, base_records = self.files.run_and_records(baseline, self.check)
                records = comparable(self.records)
            try:
                self._compared[rule.metric] = compare_records(base, self.run, base_records, records, metric=rule.metric)
            except WorkbenchError as exc:
                raise WorkbenchError(f"{rule.where}: {exc}") from None
        return self._compared[rule.metric]

    def paired(self, rule: Rule) -> Outcome:
        c = self.comparison(rule)
        b, t = c.bootstrap, rule.threshold
        lo, hi = b.ci95
        bound = -t if c.higher_is_better else t
        ok = hi >= bound if c.higher_is_better else lo <= bound
        side = "below" if c.higher_is_better else "above"
        baseline = self.check.baseline
        assert baseline is not None
        reason = f"CI reaches {signed(bound)}" if ok else f"CI {side} {signed(bound)}"
        verdict = (
            f"the interval reaches {signed(bound)}: not significantly worse by more than {t:g}"
            if ok
            else f"the whole interval lies {side} {signed(bound)}: significantly worse than the baseline by more "
            f"than {t:g}"
        )
        test = f"; McNemar exact p = {c.mcnemar.p_value:.3g}" if c.mcnemar else ""
        caveats = f" Caveats: {' '.join(c.caveats)}" if c.caveats else ""
        detail = (
            f"{rule.metric}: candidate {num(b.b)} vs baseline {num(b.a)} ({baseline.label}) on {c.n_shared} shared "
            f"items; candidate - baseline = {signed(b.diff)} [95% CI {signed(lo)}, {signed(hi)}] (paired bootstrap"
            f"{test}); {verdict}.{caveats}"
        )
        return Outcome(
            self.check, rule, ok, b.b, reason, detail, self.run_id, b.a, b.diff, (lo, hi), baseline.label, c.n_shared
        )
