"""FLORES-200 translation as a generation task, scored by corpus BLEU and chrF (sacrebleu).

Prompt in the harness's GPT-3 translation style: ``{Source} phrase: {source}\\n{Target} phrase:``, greedy,
stop at the first newline; few-shot examples from the dev split, joined by a blank line. BLEU uses the
target language's tokenizer (ko-mecab for Korean, zh for Chinese, char for Japanese, 13a otherwise).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..data import DataSpec
from ..data import flores as flores_data
from ..errors import WorkbenchError
from ..metrics import catalog
from ..models.base import GenerateRequest, GenerateResponse
from .base import FEWSHOT_SEED, Item, Row, TaskBase


@dataclass
class TranslationTask(TaskBase):
    name: str
    summary: str
    data: DataSpec
    source_name: str
    target_name: str
    target_lang: str
    eval_split: str = "devtest"
    fewshot_split: str | None = "dev"
    metrics: tuple[str, ...] = ("bleu", "chrf")
    max_new_tokens: int = 256

    @property
    def template(self) -> str:
        return f"{self.source_name} phrase: {{source}}\n{self.target_name} phrase:"

    def doc_to_text(self, doc: Row) -> str:
        return self.template.format(source=doc["source"])

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]:
        if shots and len(fewshot_pool) < shots:
            raise WorkbenchError(f"--shots {shots} is more than the {len(fewshot_pool)} dev sentences.")
        rnd = random.Random(FEWSHOT_SEED)
        items = []
        for doc_id, doc in enumerate(docs):
            shown = rnd.sample(list(fewshot_pool), shots) if shots else []
            prompt = "".join(f"{self.doc_to_text(d)} {d['target']}\n\n" for d in shown) + self.doc_to_text(doc)
            request = GenerateRequest(prompt, max_new_tokens=self.max_new_tokens, stop=("\n",))
            items.append(Item(doc_id, doc, prompt, [request]))
        return items

    def score(self, item: Item, responses: Sequence[GenerateResponse]) -> Row:
        prediction = responses[0].text.strip()
        reference = item.doc["target"]
        return {
            "doc_id": item.doc_id,
            "source": item.doc["source"],
            "reference": reference,
            "prediction": prediction,
            **catalog.item_scores(self.metrics, prediction, reference, self.target_lang),
            "prompt": item.prompt,
        }

    def aggregate(self, records: Sequence[Row]) -> dict[str, Any]:
        return catalog.aggregate(self.metrics, records, lang=self.target_lang)


def make(src: str, tgt: str) -> TranslationTask:
    (_, src_name), (tgt_code, tgt_name) = flores_data.LANGUAGES[src], flores_data.LANGUAGES[tgt]
    return TranslationTask(
        name=f"flores:{src}-{tgt}",
        summary=f"FLORES-200 {src_name} -> {tgt_name} translation (devtest), corpus BLEU and chrF.",
        data=flores_data.spec(src, tgt),
        source_name=src_name,
        target_name=tgt_name,
        target_lang=tgt_code,
    )


TASKS = [make(a, b) for x in ("ko", "ja", "zh", "de", "fr") for a, b in (("en", x), (x, "en"))] + [
    make("ko", "ja"),
    make("ja", "ko"),
]
