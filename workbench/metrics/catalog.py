"""Reference-based metrics by name: how each scores one item and how items aggregate into a run's score.

Used by stand-alone scoring, prompt grids, the flores task and run comparison, so a metric means the same
everywhere. BLEU and chrF aggregate at corpus level (n-gram counts summed over items, as sacrebleu defines
them); the others are means of per-item values with a normal 95% interval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import WorkbenchError, suggest
from . import text
from .stats import mean, mean_stderr, normal_ci


@dataclass(frozen=True)
class TextMetric:
    name: str
    about: str
    item: Callable[[str, str, str | None], float] | None  # (prediction, reference, lang) -> score
    corpus: Callable[..., text.CorpusScore] | None = None  # (predictions, references, lang) -> corpus score
    top: float = 1.0  # the best possible score (100 for sacrebleu's scale)
    higher_is_better: bool = True
    needs_model: bool = False


@lru_cache(maxsize=4096)
def _rouge_all(prediction: str, reference: str) -> dict[str, float]:
    return text.rouge(prediction, reference)


def _rouge(kind: str) -> TextMetric:
    about = {
        "rouge1": "ROUGE-1 F: unigram overlap with the reference (rouge-score; Hangul-preserving tokens)",
        "rouge2": "ROUGE-2 F: bigram overlap with the reference",
        "rougeL": "ROUGE-L F: longest common subsequence of tokens",
        "rougeLsum": "ROUGE-Lsum F: LCS over newline-separated sentences (summary level)",
    }[kind]
    return TextMetric(kind, about, lambda p, r, lang: _rouge_all(p, r)[kind])


METRICS: dict[str, TextMetric] = {
    m.name: m
    for m in [
        TextMetric(
            "bleu",
            "BLEU (0-100): n-gram precision with a brevity penalty, corpus level (sacrebleu; ko-mecab for Korean)",
            lambda p, r, lang: text.sentence_bleu(p, r, lang=lang),
            lambda ps, rs, lang: text.corpus_bleu(ps, rs, lang=lang),
            top=100.0,
        ),
        TextMetric(
            "chrf",
            "chrF (0-100): character n-gram F-score, corpus level (sacrebleu)",
            lambda p, r, lang: text.sentence_chrf(p, r),
            lambda ps, rs, lang: text.corpus_chrf(ps, rs),
            top=100.0,
        ),
        *[_rouge(k) for k in text.ROUGE_TYPES],
        TextMetric(
            "exact_match",
            "1 if the answer equals the reference after SQuAD normalisation, else 0",
            lambda p, r, lang: text.exact_match(p, r),
        ),
        TextMetric(
            "f1",
            "SQuAD token F1 (0-1) after the same normalisation",
            lambda p, r, lang: text.token_f1(p, r),
        ),
        TextMetric(
            "perplexity",
            "token perplexity of the output under a scoring model (lower = more predictable; not quality)",
            None,
            top=float("inf"),
            higher_is_better=False,
            needs_model=True,
        ),
    ]
}


def check_metrics(names: Sequence[str] | str | None, *, allow_model: bool = True) -> list[str]:
    """The metric names, validated: unknown names raise a WorkbenchError that lists the known ones."""
    if names is None:
        return []
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = []
    for name in names:
        if name not in METRICS:
            raise WorkbenchError(
                f"Unknown metric {name!r}.{suggest(name, METRICS)} Available metrics: {', '.join(METRICS)}."
            )
        if METRICS[name].needs_model and not allow_model:
            raise WorkbenchError(
                f"Metric {name!r} needs a model to score with; use workbench.perplexity(...) (or %llm_ppl) "
                "for the perplexity of existing text, or add it to a grid."
            )
        out.append(name)
    return list(dict.fromkeys(out))


def normalization_record() -> dict[str, Any]:
    """What exact_match and f1 did to the text before comparing (stored with every run that uses them)."""
    return text.SQUAD.describe()


def item_scores(names: Sequence[str], prediction: str, reference: str, lang: str | None = None) -> dict[str, float]:
    """Per-item scores for the reference-based metrics in ``names`` (model-based ones are skipped)."""
    scores = {}
    for name in names:
        score = METRICS[name].item
        if score is not None:
            scores[name] = score(prediction, reference, lang)
    return scores


def aggregate(
    names: Sequence[str],
    records: Sequence[Mapping[str, Any]],
    *,
    prediction: str = "prediction",
    reference: str = "reference",
    lang: str | None = None,
) -> dict[str, Any]:
    """A run's metrics from its item records: corpus BLEU/chrF with signature and bootstrap interval, means
    with standard error and normal interval for the rest."""
    out: dict[str, Any] = {"n": len(records)}
    for name in names:
        spec = METRICS[name]
        if spec.corpus is not None:
            score = spec.corpus([r[prediction] for r in records], [r[reference] for r in records], lang)
            out.update(score.as_metrics())
            continue
        values = [float(r[name]) for r in records if r.get(name) is not None and r[name] == r[name]]
        value, stderr = mean(values), mean_stderr(values)
        out[name] = value
        out[f"{name}_stderr"] = stderr
        out[f"{name}_ci95"] = list(normal_ci(value, stderr, 0.0, spec.top))
    if any(n in ("exact_match", "f1") for n in names):
        out["normalization"] = normalization_record()
    return out
