"""Agreement statistics against published and reference values, and the agreement table over stored judgments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import workbench
from workbench.metrics.agreement import agreement_rate, cohen_kappa, krippendorff_alpha, pairwise_agreement_rate

from .test_ratings import item_table

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers x 12 units example
N = None
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_alpha_matches_the_published_example(level, published):
    assert round(krippendorff_alpha(KRIPPENDORFF_2011, level=level), 3) == published


def test_kappa_and_alpha_match_reference_implementations():
    # values from scikit-learn's cohen_kappa_score and the `krippendorff` package on the same data
    a, b = [1, 2, 3, 1, 2, 3, 3, 1], [1, 3, 3, 2, 2, 3, 1, 1]
    assert cohen_kappa(a, b) == pytest.approx(0.4285714285714286)
    assert cohen_kappa(a, b, weights="linear") == pytest.approx(0.4666666666666667)
    assert cohen_kappa(a, b, weights="quadratic") == pytest.approx(0.5)
    three = [a, b, [1, 2, 3, 2, None, 3, 2, 1]]
    assert krippendorff_alpha(three) == pytest.approx(0.7010869565217391)
    assert krippendorff_alpha(three, level="nominal") == pytest.approx(0.5625)


def test_cohen_kappa_textbook_example_and_edge_cases():
    # 50 items: both yes 20, yes/no 5, no/yes 10, both no 15 -> p_o 0.7, p_e 0.5, kappa 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(["x", None], ["x", "y"]) != cohen_kappa(["x", None], ["x", "y"])  # NaN: one class only
    assert math.isnan(cohen_kappa([], []))
    with pytest.raises(ValueError):
        cohen_kappa([1], [1, 2])


def test_mt_bench_agreement_rates_with_and_without_ties():
    # FastChat compute_agreement: ties (and both-bad) count as one verdict; S2 drops pairs with a tie
    judge = ["m1", "m2", "tie", "m1", "both_bad"]
    human = ["m1", "m1", "tie", "tie", "tie"]
    s1, s2 = agreement_rate(judge, human), agreement_rate(judge, human, include_ties=False)
    assert (s1.agree, s1.total) == (3, 5) and (s2.agree, s2.total) == (1, 2)
    # several people on one item: every pair of their votes is compared
    pooled = pairwise_agreement_rate([["m1", "m1", "m2"], ["tie", None, "tie"]])
    assert (pooled.agree, pooled.total) == (2, 4) and pooled.rate == 0.5


def test_agreement_table_over_ratings_and_votes():
    table = item_table(6)
    for name, values in (("ana", "554321"), ("bo", "544321"), ("cy", "123455")):
        panel = workbench.rate(table, rubric="1-5", annotator=name)
        for v in values:
            panel.session.choose(v)
    result = workbench.agreement().set_index("raters")
    assert result.loc["ana vs bo", "agreement"] == pytest.approx(5 / 6)
    assert result.loc["ana vs bo", "cohen_kappa"] == pytest.approx(cohen_kappa(list("554321"), list("544321")))
    assert result.loc["ana vs bo", "weighted_kappa"] > result.loc["ana vs bo", "cohen_kappa"]
    assert result.loc["ana vs cy", "krippendorff_alpha"] < 0 < result.loc["ana vs bo", "krippendorff_alpha"]
    assert result.loc["all (3 annotators)", "items"] == 6
    other = item_table(6, "other").assign(output="x")
    for name in ("ana", "bo"):
        s = workbench.arena(table, other, annotator=name).session
        while s.voted() < len(s):
            left, _ = s.shown()
            s.vote("tie" if name == "bo" and s.position == 0 else "A" if left["model"] == "m1" else "B")
    votes = workbench.agreement(workbench.votes()).iloc[0]
    assert votes["items"] == 6 and votes["agreement"] == pytest.approx(5 / 6)
    assert votes["agreement_no_ties"] == pytest.approx(5 / 5)
    free = pd.DataFrame({"item": [1, 1, 2, 2], "annotator": ["judge", "ana"] * 2, "value": ["A", "A", "B", "A"]})
    assert workbench.agreement(free).loc[0, "agreement"] == 0.5
