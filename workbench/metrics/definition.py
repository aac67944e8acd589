"""What a reference-based metric is (:class:`TextMetric`) and the mean-with-interval most of them aggregate by.

Below both :mod:`workbench.metrics.catalog` (our metrics by name) and :mod:`workbench.metrics.community` (metrics of
the Hugging Face ``evaluate`` library), so the catalog can load a community metric without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import text
from .stats import mean, mean_stderr, normal_ci


@dataclass(frozen=True)
class TextMetric:
    name: str
    about: str
    # (prediction, reference, lang) -> the item's score, or its columns' scores when a metric gives several
    item: Callable[[str, str, str | None], float | dict[str, float]] | None
    corpus: Callable[..., text.CorpusScore] | None = None  # (predictions, references, lang) -> corpus score
    top: float = 1.0  # the best possible score (100 for sacrebleu's scale)
    higher_is_better: bool = True
    needs_model: bool = False
    bottom: float = 0.0  # the worst possible score (intervals are clipped to [bottom, top])
    # (records, prediction field, reference field, lang) -> the run's metrics, for a metric aggregating its own way
    summarize: Callable[[Sequence[Mapping[str, Any]], str, str, str | None], dict[str, Any]] | None = None


def mean_metrics(name: str, records: Sequence[Mapping[str, Any]], bottom: float, top: float) -> dict[str, Any]:
    """The mean of field ``name`` over the records that have a number there, its standard error and normal 95%
    interval (clipped to [bottom, top])."""
    values = [float(r[name]) for r in records if r.get(name) is not None and r[name] == r[name]]
    value, stderr = mean(values), mean_stderr(values)
    return {name: value, f"{name}_stderr": stderr, f"{name}_ci95": list(normal_ci(value, stderr, bottom, top))}
