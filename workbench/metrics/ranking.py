"""Ratings from pairwise comparisons: online Elo and Bradley-Terry, with bootstrap intervals.

The formulas follow Chatbot Arena (see ``shared/docs/judge-spec.md``):

* Online Elo: ``E_a = 1 / (1 + base ** ((R_b - R_a) / scale))``, ``R_a += k (S_a - E_a)``, starting at
  ``init``; k = 4, base 10, scale 400, init 1000.
* Bradley-Terry: maximise ``sum w [y log s(a (t_a - t_b)) + (1 - y) log(1 - s(a (t_a - t_b)))]`` with
  ``a = ln(base)``, ties ``y = 0.5``; ratings ``R = scale * t + init``.
* Intervals: ``rounds`` bootstrap resamples of the comparisons, 2.5% and 97.5% quantiles;
  ``rank_i = 1 + #{j : low_j > high_i}``.

A comparison ("battle") is a tuple ``(model_a, model_b, score_a)`` with score_a 1 (a won), 0 (b won) or
0.5 (tie). Pure functions: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Battle = tuple[str, str, float]

K_FACTOR = 4.0
BASE = 10.0
SCALE = 400.0
INIT = 1000.0
# Chatbot Arena fits Bradley-Terry as a logistic regression with C = 1e6, i.e. this tiny L2 penalty: it
# changes nothing measurable unless a model won (or lost) every comparison, where it keeps ratings finite.
L2 = 1e-6


def _check(battles: Iterable[Battle]) -> list[Battle]:
    out = []
    for a, b, s in battles:
        if a == b:
            raise ValueError(f"a model cannot be compared with itself ({a!r})")
        if s not in (0, 0.5, 1):
            raise ValueError(f"score_a must be 1 (a won), 0 (b won) or 0.5 (tie), got {s!r}")
        out.append((str(a), str(b), float(s)))
    return out


def models_of(battles: Iterable[Battle]) -> list[str]:
    """Every model that appears in ``battles``, in order of first appearance."""
    return list(dict.fromkeys(m for a, b, _ in battles for m in (a, b)))


def elo_ratings(
    battles: Iterable[Battle],
    *,
    k: float = K_FACTOR,
    base: float = BASE,
    scale: float = SCALE,
    init: float = INIT,
    models: Sequence[str] | None = None,
) -> dict[str, float]:
    """Online Elo over ``battles`` in the given order; the result depends on that order."""
    battles = _check(battles)
    ratings = dict.fromkeys(models or models_of(battles), init)
    for a, b, s in battles:
        ra, rb = ratings.setdefault(a, init), ratings.setdefault(b, init)
        expected_a = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        ratings[a] = ra + k * (s - expected_a)
        ratings[b] = rb + k * ((1.0 - s) - (1.0 - expected_a))
    return ratings


def bradley_terry(
    battles: Iterable[Battle],
    *,
    weights: Sequence[float] | None = None,
    base: float = BASE,
    scale: float = SCALE,
    init: float = INIT,
    l2: float = L2,
    models: Sequence[str] | None = None,
) -> dict[str, float]:
    """Maximum-likelihood Bradley-Terry ratings (ties count half a win for each side).

    ``weights`` (one per battle) repeat comparisons, as a bootstrap resample does. The problem is convex;
    it is solved by damped Newton steps to machine precision (the optimum L-BFGS-B approaches).
    Strengths are centred (mean ``t`` = 0), so the mean rating is ``init``.
    """
    battles = _check(battles)
    names = list(models or models_of(battles))
    if not names:
        return {}
    index = {m: i for i, m in enumerate(names)}
    w = np.ones(len(battles)) if weights is None else np.asarray(weights, dtype=float)
    ia = np.array([index[a] for a, _, _ in battles], dtype=int)
    ib = np.array([index[b] for _, b, _ in battles], dtype=int)
    y = np.array([s for _, _, s in battles], dtype=float)
    alpha = math.log(base)
    n = len(names)

    def objective(theta: np.ndarray) -> float:
        z = alpha * (theta[ia] - theta[ib])
        # -[y log s(z) + (1-y) log s(-z)] = log(1 + e^z) - y z, computed stably
        return float(np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * l2 * theta @ theta)

    theta = np.zeros(n)
    value = objective(theta)
    for _ in range(200):
        z = alpha * (theta[ia] - theta[ib])
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # logistic, without overflow
        g_battle = w * (p - y) * alpha
        grad = np.bincount(ia, g_battle, n) - np.bincount(ib, g_battle, n) + l2 * theta
        h_battle = w * p * (1.0 - p) * alpha**2
        hess = l2 * np.eye(n)
        np.add.at(hess, (ia, ia), h_battle)
        np.add.at(hess, (ib, ib), h_battle)
        np.add.at(hess, (ia, ib), -h_battle)
        np.add.at(hess, (ib, ia), -h_battle)
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while True:  # backtracking keeps every step a descent step
            candidate = theta - t * step
            new_value = objective(candidate)
            if new_value <= value + 1e-4 * t * float(grad @ -step) or t < 1e-10:
                break
            t *= 0.5
        theta, improvement, value = candidate, value - new_value, new_value
        if np.max(np.abs(grad)) < 1e-10 or improvement < 1e-15:
            break
    theta -= theta.mean()
    return {m: float(scale * theta[i] + init) for m, i in index.items()}


@dataclass(frozen=True)
class RankedModel:
    """One model's rating with its 95% bootstrap interval and the comparisons behind it."""

    model: str
    rating: float
    ci95_low: float
    ci95_high: float
    rank: int
    battles: int
    wins: float  # ties count half
    losses: float


def ranks_from_intervals(low: Sequence[float], high: Sequence[float]) -> list[int]:
    """Arena ranks: 1 + the number of models whose interval lies entirely above this model's upper bound."""
    return [1 + sum(int(lo_j > hi_i) for lo_j in low) for hi_i in high]


def bootstrap(
    battles: Sequence[Battle],
    fit: Callable[..., dict[str, float]],
    *,
    rounds: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """``rounds`` x models array of ratings, each fitted on ``len(battles)`` comparisons drawn with replacement.

    Draws come in random order (which matters for online Elo). Columns follow ``models_of(battles)``.
    """
    battles = _check(battles)
    names = models_of(battles)
    rng = np.random.default_rng(seed)
    out = np.empty((rounds, len(names)))
    for r in range(rounds):
        draw = rng.integers(0, len(battles), len(battles))
        ratings = fit([battles[i] for i in draw], models=names)
        out[r] = [ratings[m] for m in names]
    return out


METHODS: dict[str, Callable[..., dict[str, float]]] = {"bradley_terry": bradley_terry, "elo": elo_ratings}


def rank_models(
    battles: Iterable[Battle], method: str = "bradley_terry", *, rounds: int = 100, seed: int = 0
) -> list[RankedModel]:
    """Ratings of every model by ``method`` ('bradley_terry' or 'elo') with 95% bootstrap intervals, best first."""
    if method not in METHODS:
        raise ValueError(f"unknown ranking method {method!r}; use one of {', '.join(METHODS)}")
    battles = _check(battles)
    if not battles:
        return []
    fit = METHODS[method]
    names = models_of(battles)
    point = fit(battles, models=names)
    draws = bootstrap(battles, fit, rounds=rounds, seed=seed)
    low, high = np.percentile(draws, 2.5, axis=0), np.percentile(draws, 97.5, axis=0)
    ranks = ranks_from_intervals(list(low), list(high))
    rows = []
    for i, m in enumerate(names):
        mine = [(s if a == m else 1.0 - s) for a, b, s in battles if m in (a, b)]
        rows.append(
            RankedModel(
                m, point[m], float(low[i]), float(high[i]), ranks[i], len(mine), sum(mine), len(mine) - sum(mine)
            )
        )
    return sorted(rows, key=lambda r: (r.rank, -r.rating))
