"""Paired statistics for two systems scored on the same items: bootstrap interval and McNemar's test.

Pairing matters: two runs on the same items share the items' difficulty, so the difference of their
scores varies far less than either score. Comparing two separate intervals throws that away.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Statistic = Callable[[np.ndarray], float]


@dataclass(frozen=True)
class PairedBootstrap:
    """Difference B - A of a statistic, with a percentile interval from resampling items with replacement."""

    a: float
    b: float
    diff: float
    ci95: tuple[float, float]
    n: int
    n_resamples: int
    seed: int
    p_value: float  # two-sided: twice the share of resampled differences on the other side of zero


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    statistic_a: Statistic | None = None,
    statistic_b: Statistic | None = None,
    n_resamples: int = 10_000,
    seed: int = 1234,
) -> PairedBootstrap:
    """Paired bootstrap of B - A over items (Koehn 2004; Efron & Tibshirani).

    ``a`` and ``b`` are per-item rows in the same item order: values (the statistic is their mean) or rows
    of sufficient statistics with ``statistic_a`` / ``statistic_b`` that turn resampled rows into a corpus
    score (corpus BLEU and chrF). Each resample draws the same item indices for both systems.
    """
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a_arr) != len(b_arr) or len(a_arr) == 0:
        raise ValueError("paired_bootstrap needs the same, non-zero number of items on both sides")
    stat_a = statistic_a or (lambda rows: float(rows.mean()))
    stat_b = statistic_b or (lambda rows: float(rows.mean()))
    point_a, point_b = stat_a(a_arr), stat_b(b_arr)
    rng = np.random.default_rng(seed)
    n = len(a_arr)
    diffs = np.empty(n_resamples)
    if statistic_a is None and statistic_b is None:  # vectorised mean difference
        d = b_arr - a_arr
        for start in range(0, n_resamples, 1000):
            size = min(1000, n_resamples - start)
            idx = rng.integers(0, n, size=(size, n))
            diffs[start : start + size] = d[idx].mean(axis=1)
    else:
        for i in range(n_resamples):
            idx = rng.integers(0, n, size=n)
            diffs[i] = stat_b(b_arr[idx]) - stat_a(a_arr[idx])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    diff = point_b - point_a
    other_side = int(np.sum(diffs <= 0) if diff > 0 else np.sum(diffs >= 0))
    # (count + 1) / (resamples + 1): never exactly 0 from a finite number of resamples
    p = float(min(1.0, 2 * (other_side + 1) / (n_resamples + 1))) if diff != 0 else 1.0
    return PairedBootstrap(point_a, point_b, diff, (float(lo), float(hi)), n, n_resamples, seed, p)


def bootstrap_interval(
    rows: Sequence[float] | np.ndarray,
    statistic: Statistic | None = None,
    *,
    n_resamples: int = 1000,
    seed: int = 1234,
) -> tuple[float, float]:
    """Percentile 95% interval of one system's statistic (the mean, or a corpus score from resampled rows)."""
    arr = np.asarray(rows, dtype=float)
    stat = statistic or (lambda sample: float(sample.mean()))
    rng = np.random.default_rng(seed)
    values = [stat(arr[rng.integers(0, len(arr), size=len(arr))]) for _ in range(n_resamples)]
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


@dataclass(frozen=True)
class McNemar:
    """Exact McNemar test on paired 0/1 outcomes: only the items where the systems disagree count."""

    a_only: int  # A right, B wrong
    b_only: int  # B right, A wrong
    p_value: float


def mcnemar_exact(a: Sequence[float], b: Sequence[float]) -> McNemar:
    """Two-sided exact McNemar test: under 'no difference', each disagreement is a fair coin (binomial, 0.5)."""
    from scipy.stats import binomtest

    a_only = sum(1 for x, y in zip(a, b) if x == 1 and y == 0)
    b_only = sum(1 for x, y in zip(a, b) if x == 0 and y == 1)
    n = a_only + b_only
    p = 1.0 if n == 0 else float(binomtest(min(a_only, b_only), n, 0.5).pvalue)
    return McNemar(a_only, b_only, p)


def is_binary(values: Sequence[float]) -> bool:
    """True when every value is 0 or 1 (accuracy, exact match): McNemar's test applies."""
    return all(v in (0, 1) for v in values)
