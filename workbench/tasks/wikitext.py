"""Perplexity tasks: WikiText-2 as lm-evaluation-harness scores it, and any text column.

Each document is one rolling log-likelihood request (non-overlapping windows of the model's length, every
token scored once). Word and byte counts come from the original text before detokenization, as in the
harness; token counts only when a tokenizer is given (the workbench.perplexity path).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..data import DataSpec
from ..data import wikitext as wikitext_data
from ..errors import WorkbenchError
from ..metrics.perplexity import byte_count, corpus_scores, text_scores, word_count
from ..models.base import RollingRequest
from .base import Item, Row, TaskBase

METRICS = ("word_perplexity", "byte_perplexity", "bits_per_byte")


def wikitext_detokenizer(page: str) -> str:
    """The harness's wikitext_detokenizer (lm_eval/tasks/wikitext/preprocess_wikitext.py), rule for rule."""
    s = page
    s = s.replace("s '", "s'")
    s = re.sub(r"/' [0-9]/", r"/'[0-9]/", s)
    for a, b in ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", ".")):
        s = s.replace(a, b)
    for p in (":", ";", ".", "!", "?", ","):
        s = s.replace(f" {p} ", f"{p} ")
    s = re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", s)
    s = re.sub(r"\[\s*([^\]]*?)\s*\]", r"[\1]", s)
    s = re.sub(r"{\s*([^}]*?)\s*}", r"{\1}", s)
    s = re.sub(r"\"\s*([^\"]*?)\s*\"", r'"\1"', s)
    s = re.sub(r"'\s*([^']*?)\s*'", r"'\1'", s)
    s = s.replace("= = = =", "====").replace("= = =", "===").replace("= =", "==")
    s = s.replace(" " + chr(176) + " ", chr(176))
    s = s.replace(" \n", "\n").replace("\n ", "\n")
    s = s.replace(" N ", " 1 ")
    s = s.replace(" 's", "'s")
    return s


@dataclass
class PerplexityTask(TaskBase):
    """Rolling log-likelihood of one text column per row; corpus perplexities over all rows."""

    name: str
    summary: str
    data: DataSpec
    column: str = "page"
    eval_split: str = "test"
    fewshot_split: str | None = None
    template: str = "{page}"
    metrics: tuple[str, ...] = METRICS
    detokenize: Callable[[str], str] | None = None
    count_tokens: Callable[[str], int] | None = None  # the scoring model's tokenizer, when known

    def target(self, doc: Row) -> str:
        text = doc[self.column]
        return self.detokenize(text) if self.detokenize else text

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]:
        if shots:
            raise WorkbenchError(f"{self.name} measures perplexity and takes no few-shot examples; drop --shots.")
        return [Item(i, doc, self.target(doc), [RollingRequest(self.target(doc))]) for i, doc in enumerate(docs)]

    def score(self, item: Item, responses: Sequence[Any]) -> Row:
        windows = [float(x) for x in responses[0]]
        original = item.doc[self.column]
        tokens = self.count_tokens(item.prompt) if self.count_tokens else None
        return {
            "doc_id": item.doc_id,
            **text_scores(sum(windows), word_count(original), byte_count(original), tokens),
            "windows": len(windows),
            "prompt": item.prompt,
        }

    def aggregate(self, records: Sequence[Row]) -> dict[str, Any]:
        corpus = corpus_scores(records)
        names = [m for m in ("token_perplexity", *METRICS) if m in corpus]
        units = {k: corpus[k] for k in ("loglikelihood", "tokens", "words", "bytes") if k in corpus}
        return {"n": len(records), **{m: corpus[m] for m in names}, "totals": units}


TASKS = [
    PerplexityTask(
        name="wikitext",
        summary="WikiText-2 test pages, rolling log-likelihood; word/byte perplexity and bits per byte "
        "(the mirror holds the tokenized variant: not comparable with published raw-v1 numbers).",
        data=wikitext_data.SPEC,
        detokenize=wikitext_detokenizer,
    )
]
