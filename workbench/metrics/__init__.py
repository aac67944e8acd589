"""Pure metric functions: no I/O, no models."""

from .agreement import agreement_rate, cohen_kappa, krippendorff_alpha, pairwise_agreement_rate
from .choice import argmax, choice_predictions
from .paired import bootstrap_interval, mcnemar_exact, paired_bootstrap
from .perplexity import bits_per_byte, corpus_scores, perplexity, text_scores
from .ranking import bradley_terry, elo_ratings, rank_models
from .stats import mean, mean_stderr, normal_ci
from .text import (
    corpus_bleu,
    corpus_chrf,
    exact_match,
    rouge,
    sentence_bleu,
    sentence_chrf,
    token_f1,
)

__all__ = [
    "agreement_rate",
    "argmax",
    "bits_per_byte",
    "bootstrap_interval",
    "bradley_terry",
    "choice_predictions",
    "cohen_kappa",
    "corpus_bleu",
    "corpus_chrf",
    "corpus_scores",
    "elo_ratings",
    "exact_match",
    "krippendorff_alpha",
    "mcnemar_exact",
    "mean",
    "mean_stderr",
    "normal_ci",
    "paired_bootstrap",
    "pairwise_agreement_rate",
    "perplexity",
    "rank_models",
    "rouge",
    "sentence_bleu",
    "sentence_chrf",
    "text_scores",
    "token_f1",
]
