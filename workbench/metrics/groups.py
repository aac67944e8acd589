"""Group scores over subtasks, as lm-evaluation-harness aggregates them (size-weighted mean, pooled stderr)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def pooled_stderr(stderrs: Sequence[float], sizes: Sequence[int]) -> float:
    """The harness's pooled_sample_stderr: sqrt(sum((n_i - 1) n_i se_i^2) / (N - k) / N).

    Subtasks of one item (no stderr of their own) add nothing to the pooled variance.
    """
    total, k = sum(sizes), len(sizes)
    if total - k <= 0:
        return float("nan")
    var = sum((n - 1) * n * se**2 for se, n in zip(stderrs, sizes) if n > 1) / (total - k)
    return math.sqrt(var / total)
