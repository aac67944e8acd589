"""Reference-based metrics by name: how each scores one item and how items aggregate into a run's score.

Used by stand-alone scoring, prompt grids, the flores task and run comparison, so a metric means the same
everywhere. BLEU and chrF aggregate at corpus level (n-gram counts summed over items, as sacrebleu defines
them); the others are means of per-item values with a normal 95% interval.

:func:`metric` is the one place a name becomes a metric: ours by name, or a Hugging Face ``evaluate`` metric
(``evaluate:NAME`` or a metric script's path, :mod:`workbench.metrics.community`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..errors import WorkbenchError, suggest
from . import text
from .definition import TextMetric, mean_metrics


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


def metric(name: str) -> TextMetric:
    """The metric a name means: one of ours, else an ``evaluate`` metric (``evaluate:NAME`` or the path of a metric
    script), loaded once; anything else is refused with the nearest names."""
    if name in METRICS:
        return METRICS[name]
    from . import community

    if community.is_spec(name):
        return community.resolve(name)
    raise WorkbenchError(
        f"Unknown metric {name!r}.{suggest(name, METRICS)} Available metrics: {', '.join(METRICS)}; or a Hugging "
        f"Face evaluate metric: evaluate:NAME (e.g. evaluate:{name}) or the path of a metric script (.py)."
    )


SUFFIXES = ("_stderr", "_ci95", "_signature")  # a metric's companions in a run's metrics, not values


def column(name: str) -> str:
    """The record field that holds a metric's per-item values, without loading anything: the name itself for ours
    (and for a task's own fields such as acc), ``evaluate:NAME`` for a metric script's path."""
    from . import community

    return community.label(name) if name not in METRICS and community.is_spec(name) else name


def columns(names: Sequence[str], keys: Iterable[str]) -> list[str]:
    """The fields among ``keys`` (a record's, a run's metrics) that hold the values of the metrics ``names``: a
    metric's own name, or ``NAME.KEY`` for each number of a metric that gives several (evaluate:rouge.rouge1)."""
    keys = list(keys)
    out: list[str] = []
    for name in names:
        label = metric(name).name
        out += [k for k in keys if k.startswith(label + ".") and not k.endswith(SUFFIXES)] or [label]
    return list(dict.fromkeys(out))


def check_metrics(names: Sequence[str] | str | None, *, allow_model: bool = True) -> list[str]:
    """The metric names, validated (community metrics loaded): unknown names raise a WorkbenchError that lists the
    known ones."""
    if names is None:
        return []
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out: dict[str, str] = {}  # name -> the label its values are recorded under
    for name in names:
        spec = metric(name)
        if spec.needs_model and not allow_model:
            raise WorkbenchError(
                f"Metric {name!r} needs a model to score with; use workbench.perplexity(...) (or %llm_ppl) "
                "for the perplexity of existing text, or add it to a grid."
            )
        same = [n for n, label in out.items() if label == spec.name and n != name]
        if same:
            raise WorkbenchError(
                f"Metrics {same[0]!r} and {name!r} would both be recorded as {spec.name!r}; rename one of the "
                "scripts (a script's values are recorded under evaluate:<its file name>)."
            )
        out[name] = spec.name
    return list(out)


def normalization_record() -> dict[str, Any]:
    """What exact_match and f1 did to the text before comparing (stored with every run that uses them)."""
    return text.SQUAD.describe()


def item_scores(names: Sequence[str], prediction: str, reference: str, lang: str | None = None) -> dict[str, float]:
    """Per-item scores for the reference-based metrics in ``names`` (model-based ones are skipped)."""
    scores: dict[str, float] = {}
    for name in names:
        score = metric(name).item
        if score is not None:
            value = score(prediction, reference, lang)
            scores.update(value if isinstance(value, dict) else {name: value})
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
        spec = metric(name)
        if spec.summarize is not None:
            out.update(spec.summarize(records, prediction, reference, lang))
            continue
        if spec.corpus is not None:
            score = spec.corpus([r[prediction] for r in records], [r[reference] for r in records], lang)
            out.update(score.as_metrics())
            continue
        out.update(mean_metrics(name, records, spec.bottom, spec.top))
    if any(n in ("exact_match", "f1") for n in names):
        out["normalization"] = normalization_record()
    return out
