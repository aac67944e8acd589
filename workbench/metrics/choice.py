"""Scoring multiple-choice items from per-choice log-likelihoods."""

from __future__ import annotations

from collections.abc import Sequence


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value; the first one on ties (as numpy.argmax)."""
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def choice_predictions(loglikelihoods: Sequence[float], choices: Sequence[str]) -> tuple[int, int]:
    """(pred, pred_norm): argmax of log-likelihood, and of log-likelihood per character of the choice.

    acc_norm divides by the choice's length in characters (without the leading space), which removes the
    bias towards short answers that a raw sum of token log-probabilities has.
    """
    pred = argmax(loglikelihoods)
    pred_norm = argmax([ll / len(c) if c else ll for ll, c in zip(loglikelihoods, choices)])
    return pred, pred_norm
