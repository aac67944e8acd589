"""Perplexity from rolling log-likelihoods, per token, word and byte, as lm-evaluation-harness computes it.

A text's total log-likelihood (natural log) comes from scoring every token once in non-overlapping windows.
Perplexity per unit is exp(-total / units): the number of equally likely choices the model was, on average,
torn between for each unit. Token perplexity depends on the tokenizer, so it only compares models that share
one; word and byte perplexity and bits per byte compare any models on the same text.

What it measures: how well the model predicts this exact text. What it does not: whether the model's own
outputs are good. A model that has memorised the text, or text in its training data, scores very well.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

UNITS = ("token", "word", "byte")


def word_count(text: str) -> int:
    """Words as the harness counts them: ``len(re.split(r"\\s+", text))`` (leading or trailing whitespace
    adds an empty 'word', exactly as in its wikitext task)."""
    return len(re.split(r"\s+", text))


def byte_count(text: str) -> int:
    """UTF-8 bytes of the text."""
    return len(text.encode("utf-8"))


def perplexity(loglikelihood: float, units: int) -> float:
    """exp(-loglikelihood / units); NaN when there are no units."""
    return math.exp(-loglikelihood / units) if units > 0 else float("nan")


def bits_per_byte(loglikelihood: float, n_bytes: int) -> float:
    """-loglikelihood / bytes / ln 2: the average code length per byte of text, in bits."""
    return -loglikelihood / n_bytes / math.log(2) if n_bytes > 0 else float("nan")


def text_scores(loglikelihood: float, words: int, n_bytes: int, tokens: int | None = None) -> dict[str, Any]:
    """Per-text perplexities and bits per byte from its total log-likelihood and unit counts."""
    out: dict[str, Any] = {
        "loglikelihood": loglikelihood,
        "words": words,
        "bytes": n_bytes,
        "word_perplexity": perplexity(loglikelihood, words),
        "byte_perplexity": perplexity(loglikelihood, n_bytes),
        "bits_per_byte": bits_per_byte(loglikelihood, n_bytes),
    }
    if tokens is not None:
        out["tokens"] = tokens
        out["token_perplexity"] = perplexity(loglikelihood, tokens)
    return out


def corpus_scores(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Corpus perplexities: exp(-sum of log-likelihoods / sum of units) over all texts (the harness's
    weighted_perplexity), not a mean of per-text perplexities. Token perplexity only when every record has
    a token count."""
    records = list(records)
    total = sum(float(r["loglikelihood"]) for r in records)
    words = sum(int(r["words"]) for r in records)
    n_bytes = sum(int(r["bytes"]) for r in records)
    out = text_scores(total, words, n_bytes)
    if records and all(r.get("tokens") is not None for r in records):
        tokens = sum(int(r["tokens"]) for r in records)
        out["tokens"] = tokens
        out["token_perplexity"] = perplexity(total, tokens)
    out["n"] = len(records)
    return out
