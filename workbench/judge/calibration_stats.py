"""The arithmetic of a judge calibration: agreement with people as the MT-Bench paper and FastChat count it.

Per-vote agreement (FastChat ``compute_agreement.py``, ``get_mt_bench_agreement``): for every (question, pair of
models, turn) the judge gave a readable verdict on, each of the other rater's votes on it is one comparison. S1
counts every comparison, any two ties agreeing (``tie`` and ``tie (bothbad)`` alike); S2 leaves out comparisons
where either side is a tie. The judge's verdict on a pair is its two presentation orders combined: equal -> that
verdict, different -> a tie (as FastChat treats inconsistent GPT-4 pair verdicts), either unreadable -> no
verdict (counted, never compared). Intervals: percentile bootstrap over questions (a question's votes move
together), 1000 resamples, vectorised: each resample weights per-question counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..metrics.agreement import agreement_rate, cohen_kappa

JUDGE_VOTE = {"a": "a", "b": "b", "tie": "tie", "inconsistent": "tie"}  # 'unparseable' -> no verdict
RESAMPLES = 1000
# Zheng et al. 2023, "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena" (NeurIPS 2023 Datasets and
# Benchmarks, arXiv:2306.05685), Table 5: agreement with the MT-Bench expert votes, S1 with ties, S2 without.
SOURCE = "Zheng et al. 2023, Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena, Table 5"
PUBLISHED: dict[str, dict[str, float]] = {
    "GPT-4 pair vs human": {"s1": 0.66, "s2": 0.85},
    "human vs human": {"s1": 0.63, "s2": 0.81},
}


def majority(verdicts: Sequence[str | None]) -> tuple[str | None, float]:
    """(the most frequent readable verdict, its share of the readable ones): a split vote is 'tie'; none -> None."""
    readable = [v for v in verdicts if v is not None]
    if not readable:
        return None, float("nan")
    counts = Counter(readable).most_common()
    top = counts[0][1]
    winner = counts[0][0] if len(counts) == 1 or counts[1][1] < top else "tie"
    return winner, top / len(readable)


def matched(votes: pd.DataFrame, verdicts: pd.DataFrame, role: str) -> pd.DataFrame:
    """One row per vote of ``role`` on a pair with a readable judge verdict: question_id, turn, judge, other."""
    judged = verdicts.assign(judge_vote=verdicts["outcome"].map(JUDGE_VOTE)).dropna(subset=["judge_vote"])
    mine = votes[votes["role"] == role][["pair", "question_id", "turn", "vote"]]
    out = mine.merge(judged[["pair", "judge_vote"]], on="pair")
    out = out.rename(columns={"judge_vote": "judge", "vote": "other"})
    return out[["question_id", "turn", "pair", "judge", "other"]]


def s1(rows: pd.DataFrame) -> float:
    return agreement_rate(list(rows["judge"]), list(rows["other"]), include_ties=True).rate


def s2(rows: pd.DataFrame) -> float:
    return agreement_rate(list(rows["judge"]), list(rows["other"]), include_ties=False).rate


def kappa(rows: pd.DataFrame) -> float:
    return cohen_kappa(list(rows["judge"]), list(rows["other"]), categories=["a", "b", "tie"])


def position_bias(rows: pd.DataFrame) -> float:
    """Share of readable pair verdicts whose two orders disagree."""
    readable = rows[rows["outcome"] != "unparseable"]
    return float((readable["outcome"] == "inconsistent").mean()) if len(readable) else float("nan")


def longer_wins(rows: pd.DataFrame) -> float:
    """Share of decisive verdicts (a or b, both orders agreeing) that went to the longer answer (equal lengths
    left out)."""
    decisive = rows[rows["outcome"].isin(["a", "b"]) & (rows["len_a"] != rows["len_b"])]
    if decisive.empty:
        return float("nan")
    longer = np.where(decisive["len_a"] > decisive["len_b"], "a", "b")
    return float((decisive["outcome"].to_numpy() == longer).mean())


def resample_counts(questions: Sequence[str], seed: int = 1234) -> tuple[np.ndarray, np.ndarray]:
    """(question index of each row, resamples x questions matrix of how often each question was drawn)."""
    names = sorted(set(questions))
    position = {q: i for i, q in enumerate(names)}
    owner = np.array([position[q] for q in questions], dtype=int)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(RESAMPLES, len(names)))
    counts = np.zeros((RESAMPLES, len(names)))
    np.add.at(counts, (np.repeat(np.arange(RESAMPLES), len(names)), draws.ravel()), 1)
    return owner, counts


def ratio_interval(questions: Sequence[str], hits: np.ndarray, counted: np.ndarray) -> tuple[float, float]:
    """95% percentile interval of sum(hits) / sum(counted) over resampled questions (whole questions drawn)."""
    if len(set(questions)) < 2 or not counted.any():
        return (float("nan"), float("nan"))
    owner, counts = resample_counts(questions)
    n_questions = counts.shape[1]
    per_hits = np.bincount(owner, weights=hits.astype(float), minlength=n_questions)
    per_counted = np.bincount(owner, weights=counted.astype(float), minlength=n_questions)
    num, den = counts @ per_hits, counts @ per_counted
    values = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return _percentiles(values)


def kappa_interval(rows: pd.DataFrame) -> tuple[float, float]:
    """95% percentile interval of Cohen's kappa (a, b, tie) over resampled questions."""
    questions = list(rows["question_id"])
    if len(set(questions)) < 2:
        return (float("nan"), float("nan"))
    owner, counts = resample_counts(questions)
    cats = {"a": 0, "b": 1, "tie": 2}
    cells = np.array([cats[j] * 3 + cats[o] for j, o in zip(rows["judge"], rows["other"])])
    per_q = np.zeros((counts.shape[1], 9))
    np.add.at(per_q, (owner, cells), 1)
    table = (counts @ per_q).reshape(-1, 3, 3)
    total = table.sum(axis=(1, 2))
    observed = np.trace(table, axis1=1, axis2=2) / total
    expected = (table.sum(axis=2) * table.sum(axis=1)).sum(axis=1) / total**2
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(expected < 1, (observed - expected) / (1 - expected), np.nan)
    return _percentiles(values)


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    if np.isnan(values).all():  # no resample defined the measure (e.g. kappa where everyone always agrees)
        return (float("nan"), float("nan"))
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return float(low), float(high)


def _agreeing(rows: pd.DataFrame, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    judge, other = rows["judge"].to_numpy(), rows["other"].to_numpy()
    counted = np.ones(len(rows), bool) if ties else (judge != "tie") & (other != "tie")
    return (judge == other) & counted, counted


def metrics_table(votes: pd.DataFrame, verdicts: pd.DataFrame, turns: Sequence[int]) -> pd.DataFrame:
    """metric, turn, value, ci95_low, ci95_high, n, published: per turn judged and over all of them."""
    out = []
    scopes: list[tuple[str, list[int]]] = [(str(t), [t]) for t in turns]
    if len(turns) > 1:
        scopes.append(("all", list(turns)))
    for label, scope in scopes:
        pairs = verdicts[verdicts["turn"].isin(scope)].reset_index(drop=True)
        for role, name, published in (("human", "human", "GPT-4 pair vs human"), ("gpt4", "GPT-4 pair", None)):
            rows = matched(votes[votes["turn"].isin(scope)], pairs, role).reset_index(drop=True)
            if role == "gpt4" and rows.empty:
                continue
            ref = PUBLISHED[published] if published else {}
            qs = list(rows["question_id"])
            for setup, fn, ties in (("S1, ties", s1, True), ("S2, no ties", s2, False)):
                hits, counted = _agreeing(rows, ties)
                value = fn(rows) if len(rows) else float("nan")
                out.append(_row(f"agreement with {name} ({setup})", label, value, ratio_interval(qs, hits, counted),
                                int(counted.sum()), ref.get("s1" if ties else "s2")))  # fmt: skip
            value = kappa(rows) if len(rows) else float("nan")
            out.append(_row(f"Cohen's kappa with {name}", label, value, kappa_interval(rows), len(rows), None))
        qs = list(pairs["question_id"].astype(str))
        outcome = pairs["outcome"].to_numpy()
        readable, flipped = outcome != "unparseable", outcome == "inconsistent"
        out.append(_row("position bias (orders disagree)", label, position_bias(pairs),
                        ratio_interval(qs, flipped, readable), int(readable.sum()), None))  # fmt: skip
        longer = np.where(pairs["len_a"] > pairs["len_b"], "a", "b")
        decisive = np.isin(outcome, ["a", "b"]) & (pairs["len_a"] != pairs["len_b"]).to_numpy()
        ci = ratio_interval(qs, decisive & (outcome == longer), decisive)
        value = longer_wins(pairs)
        out.append(_row("decisive verdicts for the longer answer", label, value, ci, int(decisive.sum()), None))
        unreadable = float((~readable).sum())
        out.append(_row("unreadable verdicts (pairs)", label, unreadable, (np.nan, np.nan), len(pairs), None))
    return pd.DataFrame(out)


def _row(metric: str, turn: str, value: float, ci: tuple[float, float], n: int, published: float | None) -> dict:
    return {"metric": metric, "turn": turn, "value": value, "ci95_low": ci[0], "ci95_high": ci[1], "n": n,
            "published": published}  # fmt: skip
