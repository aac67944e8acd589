"""Text-overlap metrics: BLEU and chrF (sacrebleu), ROUGE (rouge-score), exact match and token F1.

Every function here is pure: predictions and references in, numbers out. Corpus-level BLEU/chrF and ROUGE
come from the libraries that define them; this module only chooses their settings and records them.

What they measure: n-gram overlap with one reference. What they do not: meaning. A faithful paraphrase that
uses other words scores low, and a fluent sentence that copies the reference's words but says something
false scores high.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
KANA = re.compile(r"[\u3040-\u30ff]")
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
# sacrebleu tokenizer by target language (ISO 639-1/3 codes or FLORES codes such as kor_Hang)
LANG_TOKENIZERS = {"ko": "ko-mecab", "kor": "ko-mecab", "zh": "zh", "zho": "zh", "ja": "char", "jpn": "char"}


# ---- BLEU and chrF (sacrebleu) ----------------------------------------------------------------------
def bleu_tokenizer(lang: str | None = None, texts: Sequence[str] = ()) -> str:
    """sacrebleu tokenizer for a target language: 'ko-mecab' for Korean, 'zh' for Chinese, 'char' for
    Japanese (no MeCab dictionary for Japanese is installed), '13a' (sacrebleu's default) otherwise.

    Without ``lang`` the script of ``texts`` decides (Hangul, Kana, Han, else 13a).
    """
    if lang:
        return LANG_TOKENIZERS.get(lang.split("_")[0].split("-")[0].lower(), "13a")
    joined = "".join(texts)
    if HANGUL.search(joined):
        return "ko-mecab"
    if KANA.search(joined):
        return "char"
    if HAN.search(joined):
        return "zh"
    return "13a"


@dataclass(frozen=True)
class CorpusScore:
    """A corpus-level score with sacrebleu's signature and, when bootstrapped, a 95% interval."""

    name: str
    score: float
    signature: str
    ci95: tuple[float, float] | None = None

    def as_metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.name: self.score, f"{self.name}_signature": self.signature}
        if self.ci95 is not None:
            out[f"{self.name}_ci95"] = list(self.ci95)
        return out


def _check_pairs(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")


@lru_cache(maxsize=32)
def _sacrebleu_metric(kind: str, tokenize: str, sentence: bool):
    from sacrebleu.metrics import BLEU, CHRF

    if kind == "bleu":
        return BLEU(tokenize=tokenize, effective_order=sentence)
    return CHRF()


def corpus_bleu(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    lang: str | None = None,
    tokenize: str | None = None,
    n_bootstrap: int = 1000,
) -> CorpusScore:
    """Corpus BLEU (0-100) of one reference per prediction: sacrebleu, tokenizer chosen by target language.

    Counts n-gram matches over the whole corpus (not an average of sentence scores). ``n_bootstrap`` > 1 adds
    a percentile bootstrap 95% interval over items (seed 1234), from sacrebleu's per-sentence statistics.
    """
    return _corpus("bleu", predictions, references, tokenize or bleu_tokenizer(lang, references), n_bootstrap)


def corpus_chrf(predictions: Sequence[str], references: Sequence[str], *, n_bootstrap: int = 1000) -> CorpusScore:
    """Corpus chrF (0-100): character n-gram F-score (beta 2), needs no word tokenizer, so it suits Korean."""
    return _corpus("chrf", predictions, references, "none", n_bootstrap)


def _corpus(kind: str, predictions, references, tokenize: str, n_bootstrap: int) -> CorpusScore:
    _check_pairs(predictions, references)
    metric = _sacrebleu_metric(kind, tokenize, False)
    result = metric.corpus_score(list(predictions), [list(references)])
    ci = None
    if n_bootstrap > 1 and len(predictions) > 1:
        from .paired import bootstrap_interval

        stats, score = _statistics(metric, predictions, references)
        ci = bootstrap_interval(stats, score, n_resamples=n_bootstrap)
    return CorpusScore(kind, float(result.score), metric.get_signature().format(), ci)


def sentence_bleu(prediction: str, reference: str, *, lang: str | None = None, tokenize: str | None = None) -> float:
    """BLEU (0-100) of one sentence, with effective order (sacrebleu's recommendation for single sentences)."""
    metric = _sacrebleu_metric("bleu", tokenize or bleu_tokenizer(lang, [reference]), True)
    return float(metric.sentence_score(prediction, [reference]).score)


def sentence_chrf(prediction: str, reference: str) -> float:
    """chrF (0-100) of one sentence."""
    return float(_sacrebleu_metric("chrf", "none", True).sentence_score(prediction, [reference]).score)


def sacrebleu_statistics(kind: str, predictions: Sequence[str], references: Sequence[str], lang: str | None = None):
    """Per-sentence sufficient statistics (n x k array) and a function that turns resampled rows into a corpus
    score, so corpus BLEU/chrF can be bootstrapped over items (sacrebleu's own paired test does the same)."""
    tokenize = bleu_tokenizer(lang, references) if kind == "bleu" else "none"
    return _statistics(_sacrebleu_metric(kind, tokenize, False), predictions, references)


def _statistics(metric, predictions: Sequence[str], references: Sequence[str]):
    import numpy as np

    stats = np.array(metric._extract_corpus_statistics(list(predictions), [list(references)]), dtype=float)

    def score(rows) -> float:
        return float(metric._compute_score_from_stats(list(rows.sum(axis=0))).score)

    return stats, score


# ---- ROUGE (rouge-score) ------------------------------------------------------------------------------
class UnicodeTokenizer:
    """A rouge-score tokenizer that keeps every script.

    rouge-score's default tokenizer lowercases and then deletes everything outside [a-z0-9], so Korean,
    Chinese or Japanese text becomes empty and ROUGE silently returns 0. This one gives:
    - text with Hangul: MeCab-ko morphemes (the segmentation sacrebleu's ko-mecab uses), punctuation dropped;
    - other text: lowercased words of letters and digits of any script, Han/Kana characters one token each.
    Plain ASCII text gets exactly the default tokenizer's tokens (and Porter stems with ``use_stemmer``).
    """

    def __init__(self, use_stemmer: bool = False):
        from rouge_score.tokenizers import DefaultTokenizer

        self.default = DefaultTokenizer(use_stemmer=use_stemmer)

    def tokenize(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        if text.isascii():
            return self.default.tokenize(text)
        if HANGUL.search(text):
            words = _ko_mecab()(text).split()
        else:
            words = re.findall(r"[^\W_]+", text)
        tokens: list[str] = []
        for word in words:
            if HAN.search(word) or KANA.search(word):
                tokens.extend(ch for ch in word if not ch.isspace())
            elif re.search(r"[^\W_]", word):
                tokens.append(word)
        return tokens


@lru_cache(maxsize=1)
def _ko_mecab():
    from sacrebleu.tokenizers.tokenizer_ko_mecab import TokenizerKoMecab

    return TokenizerKoMecab()


@lru_cache(maxsize=8)
def _rouge_scorer(types: tuple[str, ...], use_stemmer: bool):
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(types), tokenizer=UnicodeTokenizer(use_stemmer))


def rouge(
    prediction: str, reference: str, *, types: Sequence[str] = ROUGE_TYPES, use_stemmer: bool = False
) -> dict[str, float]:
    """ROUGE F-measures (0-1) of one prediction against one reference, via rouge-score.

    rouge1/rouge2: unigram/bigram overlap; rougeL: longest common subsequence; rougeLsum: LCS over sentences
    split at newlines (summary-level). Tokens from :class:`UnicodeTokenizer`, so Korean scores correctly.
    """
    scores = _rouge_scorer(tuple(types), use_stemmer).score(reference, prediction)
    return {name: float(s.fmeasure) for name, s in scores.items()}


# ---- exact match and token F1 -------------------------------------------------------------------------
@dataclass(frozen=True)
class Normalization:
    """How answers are normalised before exact match / token F1; recorded with every score.

    The default is SQuAD's: lowercase, drop punctuation, drop English articles, collapse whitespace
    (plus Unicode NFKC, so full-width and half-width forms compare equal).
    """

    nfkc: bool = True
    lowercase: bool = True
    strip_punctuation: bool = True
    remove_articles: bool = True
    collapse_whitespace: bool = True

    def __call__(self, text: str) -> str:
        if self.nfkc:
            text = unicodedata.normalize("NFKC", text)
        if self.lowercase:
            text = text.lower()
        if self.strip_punctuation:
            text = "".join(ch for ch in text if ch not in PUNCTUATION)
        if self.remove_articles:
            text = re.sub(r"\b(a|an|the)\b", " ", text)
        if self.collapse_whitespace:
            text = " ".join(text.split())
        return text

    def describe(self) -> dict[str, bool]:
        return asdict(self)


PUNCTUATION = frozenset(string.punctuation) | {ch for ch in "“”‘’…·、。，！？：；（）「」『』《》【】〈〉~"}
SQUAD = Normalization()


def exact_match(prediction: str, reference: str, normalization: Normalization = SQUAD) -> float:
    """1.0 when the normalised prediction equals the normalised reference, else 0.0."""
    return float(normalization(prediction) == normalization(reference))


def token_f1(prediction: str, reference: str, normalization: Normalization = SQUAD) -> float:
    """SQuAD token F1 (0-1): harmonic mean of precision and recall of the whitespace tokens shared after
    normalisation (each token counted as often as it occurs in both)."""
    pred, ref = normalization(prediction).split(), normalization(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)
