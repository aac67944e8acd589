"""Agreement between raters (people, or an LLM judge and people). Pure functions: no I/O.

* ``cohen_kappa``: two raters, the same items; optionally weighted for ordered scales.
* ``krippendorff_alpha``: any number of raters, missing ratings allowed; nominal, ordinal, interval or ratio.
* ``agreement_rate`` / ``pairwise_agreement_rate``: the plain agreement rates of the MT-Bench paper
  (Zheng et al. 2023, Table 5): S1 counts every vote (ties included), S2 only pairs where neither vote is a tie.

A rating is any hashable value (``4``, ``"pass"``, ``"A"``); ``None`` or NaN means "not rated".
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

TIES = ("tie", "both_bad")  # votes that count as ties (FastChat counts "tie (bothbad)" as a tie)
LEVELS = ("nominal", "ordinal", "interval", "ratio")


def is_missing(value: object) -> bool:
    """True for None and NaN (a rating that was not given)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def ordered_categories(values: Iterable[Hashable], categories: Sequence[Hashable] | None = None) -> list[Hashable]:
    """``categories`` if given (checked to cover ``values``), else the distinct values sorted."""
    seen = list(dict.fromkeys(v for v in values if not is_missing(v)))
    if categories is None:
        try:
            return sorted(seen)  # type: ignore[type-var]
        except TypeError:
            return sorted(seen, key=str)
    unknown = [v for v in seen if v not in categories]
    if unknown:
        raise ValueError(f"values {unknown!r} are not among the categories {list(categories)!r}")
    return list(categories)


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    *,
    weights: str | None = None,
    categories: Sequence[Hashable] | None = None,
) -> float:
    """Cohen's kappa of two raters over the same items: (p_observed - p_chance) / (1 - p_chance).

    ``a[i]`` and ``b[i]`` rate item i; items either rater left unrated are dropped. ``weights`` None counts
    only exact agreement; 'linear' or 'quadratic' give partial credit on an ordered scale (``categories``
    in order, else the values sorted). NaN when there are no items or chance agreement is already perfect.
    """
    if len(a) != len(b):
        raise ValueError(f"the two raters must rate the same items (got {len(a)} and {len(b)} ratings)")
    pairs = [(x, y) for x, y in zip(a, b) if not is_missing(x) and not is_missing(y)]
    if not pairs:
        return float("nan")
    cats = ordered_categories([v for p in pairs for v in p], categories)
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    observed = np.zeros((k, k))
    for x, y in pairs:
        observed[index[x], index[y]] += 1
    observed /= len(pairs)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    grid = np.subtract.outer(np.arange(k), np.arange(k))
    if weights is None:
        disagreement = (grid != 0).astype(float)
    elif weights == "linear":
        disagreement = np.abs(grid) / max(k - 1, 1)
    elif weights == "quadratic":
        disagreement = grid**2 / max(k - 1, 1) ** 2
    else:
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    chance = float((disagreement * expected).sum())
    if chance == 0:
        return float("nan")
    return 1.0 - float((disagreement * observed).sum()) / chance


def krippendorff_alpha(
    ratings: Sequence[Sequence[Hashable]],
    *,
    level: str = "ordinal",
    categories: Sequence[Hashable] | None = None,
) -> float:
    """Krippendorff's alpha, 1 - D_observed / D_expected, for any number of raters with missing ratings.

    ``ratings`` is a raters x items table: ``ratings[r][i]`` is rater r's value for item i, None/NaN if
    not rated. Items rated by fewer than two raters are ignored. ``level``: 'nominal' (labels),
    'ordinal' (ordered scale: ``categories`` in order, else values sorted), 'interval' or 'ratio' (numbers).
    Checked against Krippendorff (2011), "Computing Krippendorff's alpha-reliability".
    NaN when fewer than two values are pairable or all pairable values are equal.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if not ratings:
        return float("nan")
    n_items = len(ratings[0])
    if any(len(row) != n_items for row in ratings):
        raise ValueError("every rater's row must have one entry per item (None where not rated)")
    units = [[row[i] for row in ratings if not is_missing(row[i])] for i in range(n_items)]
    units = [u for u in units if len(u) >= 2]
    cats = ordered_categories([v for u in units for v in u], categories)
    if len(cats) < 2:
        return float("nan")
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    coincidence = np.zeros((k, k))
    for unit in units:
        counts = Counter(index[v] for v in unit)
        m = len(unit)
        for c, nc in counts.items():
            for d, nd in counts.items():
                coincidence[c, d] += (nc * (nd - (c == d))) / (m - 1)
    totals = coincidence.sum(axis=1)
    n = totals.sum()
    delta = _distances(level, cats, totals)
    observed = float((coincidence * delta).sum())
    expected = float((np.outer(totals, totals) * delta).sum()) / (n - 1)
    if expected == 0:
        return float("nan")
    return 1.0 - observed / expected


def _distances(level: str, cats: list[Hashable], totals: np.ndarray) -> np.ndarray:
    k = len(cats)
    if level == "nominal":
        return 1.0 - np.eye(k)
    if level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(totals)])
        out = np.zeros((k, k))
        for c, d in itertools.product(range(k), repeat=2):
            lo, hi = min(c, d), max(c, d)
            out[c, d] = (cum[hi + 1] - cum[lo] - (totals[c] + totals[d]) / 2) ** 2
        return out
    try:
        values = np.array([float(c) for c in cats])  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{level} alpha needs numeric ratings; use level='nominal' or 'ordinal'") from exc
    diff = np.subtract.outer(values, values)
    if level == "interval":
        return diff**2
    total = np.add.outer(values, values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num((diff / total) ** 2)


@dataclass(frozen=True)
class AgreementRate:
    """Agreeing vote pairs out of compared pairs; ``rate`` is NaN when nothing was compared."""

    agree: int
    total: int

    @property
    def rate(self) -> float:
        return self.agree / self.total if self.total else float("nan")


def _same(x: Hashable, y: Hashable, ties: Sequence[Hashable]) -> bool:
    return x == y or (x in ties and y in ties)


def agreement_rate(
    a: Sequence[Hashable], b: Sequence[Hashable], *, include_ties: bool = True, ties: Sequence[Hashable] = TIES
) -> AgreementRate:
    """How often two raters give the same verdict on the same items (MT-Bench paper, FastChat).

    ``include_ties`` True is setup S1 (every item both rated; all tie values count as one verdict);
    False is S2 (items where either vote is a tie are left out). Votes must be in a common frame, e.g.
    the winner's name rather than "left"/"right".
    """
    if len(a) != len(b):
        raise ValueError(f"the two raters must rate the same items (got {len(a)} and {len(b)} votes)")
    return pairwise_agreement_rate(([x, y] for x, y in zip(a, b)), include_ties=include_ties, ties=ties)


def pairwise_agreement_rate(
    items: Iterable[Sequence[Hashable]], *, include_ties: bool = True, ties: Sequence[Hashable] = TIES
) -> AgreementRate:
    """Agreement over every pair of votes given to the same item (FastChat's human-vs-human rate).

    ``items`` yields, per item, the votes of all raters who judged it (missing ones as None).
    """
    agree = total = 0
    for votes in items:
        present = [v for v in votes if not is_missing(v)]
        for x, y in itertools.combinations(present, 2):
            if not include_ties and (x in ties or y in ties):
                continue
            total += 1
            agree += _same(x, y, ties)
    return AgreementRate(agree, total)
