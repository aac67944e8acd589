"""Standard errors and confidence intervals, as lm-evaluation-harness reports them."""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054


def mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else float("nan")


def mean_stderr(values: Sequence[float]) -> float:
    """Standard error of the mean: sample standard deviation (n - 1) over sqrt(n), the harness's formula."""
    n = len(values)
    if n < 2:
        return float("nan")
    m = mean(values)
    var = sum((v - m) ** 2 for v in values) / (n - 1)
    return math.sqrt(var / n)


def normal_ci(value: float, stderr: float, lo: float = 0.0, hi: float = 1.0) -> tuple[float, float]:
    """95% normal-approximation interval value +- 1.96 stderr, clipped to the metric's range."""
    if math.isnan(stderr):
        return (float("nan"), float("nan"))
    return (max(lo, value - Z95 * stderr), min(hi, value + Z95 * stderr))
