"""Elo and Bradley-Terry ratings (judge-spec formulas), bootstrap intervals and Arena ranks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from workbench.metrics.ranking import bootstrap, bradley_terry, elo_ratings, rank_models, ranks_from_intervals

BATTLES = (
    [("A", "B", 1.0)] * 3
    + [("A", "B", 0.0)]
    + [("B", "C", 1.0)] * 2
    + [("B", "C", 0.5)]
    + [("A", "C", 1.0)] * 2
    + [("C", "A", 1.0)]
)


def test_online_elo_by_hand():
    # K=4, base 10, scale 400, start 1000: A wins at even odds (+2), then B wins at 10^(4/400) odds against
    ratings = elo_ratings([("A", "B", 1.0), ("B", "A", 1.0)])
    gain = 4 * (1 - 1 / (1 + 10 ** ((1002 - 998) / 400)))
    assert math.isclose(ratings["B"], 998 + gain) and math.isclose(ratings["A"], 1002 - gain)
    assert elo_ratings([("A", "B", 0.5)]) == {"A": 1000.0, "B": 1000.0}


def zermelo(battles, iterations=5000):
    """Hunter's MM iteration for Bradley-Terry strengths (ties as half wins): an independent solver."""
    names = sorted({m for a, b, _ in battles for m in (a, b)})
    wins = {m: sum(s if a == m else 1 - s for a, b, s in battles if m in (a, b)) for m in names}
    p = dict.fromkeys(names, 1.0)
    for _ in range(iterations):
        p = {m: wins[m] / sum(1 / (p[a] + p[b]) for a, b, _ in battles if m in (a, b)) for m in names}
        mean_log = sum(math.log10(v) for v in p.values()) / len(p)
        p = {m: 10 ** (math.log10(v) - mean_log) for m, v in p.items()}
    return {m: 400 * math.log10(v) + 1000 for m, v in p.items()}


def test_bradley_terry_is_the_maximum_likelihood_fit():
    fitted = bradley_terry(BATTLES, l2=0.0)
    expected = zermelo(BATTLES)
    for m in expected:
        assert fitted[m] == pytest.approx(expected[m], abs=1e-6)
    assert sum(fitted.values()) / 3 == pytest.approx(1000)
    # at the optimum each model's expected score equals its observed score (ties counted half)
    for m in fitted:
        observed = sum(s if a == m else 1 - s for a, b, s in BATTLES if m in (a, b))
        p = [1 / (1 + 10 ** ((fitted[b if a == m else a] - fitted[m]) / 400)) for a, b, _ in BATTLES if m in (a, b)]
        assert sum(p) == pytest.approx(observed, abs=1e-8)


def test_ties_count_half_a_win_and_weights_repeat_battles():
    even = bradley_terry([("A", "B", 0.5)] * 4)
    assert even["A"] == pytest.approx(1000) and even["B"] == pytest.approx(1000)
    tie_as_halves = bradley_terry([("A", "B", 1.0), ("A", "B", 0.5)], l2=0.0)
    as_wins = bradley_terry([("A", "B", 1.0)] * 3 + [("A", "B", 0.0)], l2=0.0)
    # 1.5 of 2 is the same win share as 3 of 4: same ratings
    assert tie_as_halves["A"] == pytest.approx(as_wins["A"], abs=1e-6)
    weighted = bradley_terry([("A", "B", 1.0), ("A", "B", 0.0)], weights=[3, 1])
    assert weighted["A"] == pytest.approx(bradley_terry([("A", "B", 1.0)] * 3 + [("A", "B", 0.0)])["A"])


def test_a_model_that_won_everything_stays_finite():
    ratings = bradley_terry([("A", "B", 1.0)] * 5)
    assert all(math.isfinite(r) for r in ratings.values()) and ratings["A"] > ratings["B"] + 1000


def test_arena_ranks_count_models_clearly_above():
    low, high = [1100, 1050, 900, 880], [1200, 1150, 1000, 1060]
    assert ranks_from_intervals(low, high) == [1, 1, 3, 2]


def test_bootstrap_intervals_are_reproducible_and_cover_the_fit():
    draws = bootstrap(BATTLES * 5, bradley_terry, rounds=30, seed=7)
    assert draws.shape == (30, 3)
    assert np.array_equal(draws, bootstrap(BATTLES * 5, bradley_terry, rounds=30, seed=7))
    for method in ("bradley_terry", "elo"):
        table = rank_models(BATTLES * 10, method, rounds=60, seed=1)
        assert [r.model for r in table] == ["A", "B", "C"]
        assert all(r.ci95_low <= r.rating <= r.ci95_high for r in table)
        assert {r.model: (r.wins, r.losses) for r in table} == {"A": (50, 20), "B": (35, 35), "C": (15, 45)}
    with pytest.raises(ValueError, match="score_a"):
        rank_models([("A", "B", 2)])
