"""HAE-RAE Bench: Korean vocabulary, history and general knowledge, scored as lm-evaluation-harness 0.4.13's
``haerae`` tasks (``lm_eval/tasks/haerae``): one task per subset (``haerae_general_knowledge``, ``haerae_history``,
``haerae_loan_word``, ``haerae_rare_word``, ``haerae_standard_nomenclature``) and the group (``haerae``).

The prompt is the row's ``query`` as it stands (it lists the options and ends in ``### 정답:``); the continuations
are `` (A)`` .. `` (E)``, the gold the row's ``answer`` label; acc and acc_norm (the labels have equal length, so
the two agree). Zero-shot by default, as the harness; ``--shots K`` draws from the subset's own test split, as the
harness does when the few-shot split is the test split: ``Random(1234)`` per subset draws K + 1 and drops the doc
itself. The group's scores are size-weighted over the subsets with the harness's pooled standard error;
``--limit N`` takes the first N items of each subset.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..data import haerae as haerae_data
from ..errors import WorkbenchError
from .base import Item, MultipleChoiceTask, Row
from .kmmlu import build_grouped_items, first_per_group, grouped_metrics

LABELS = list(haerae_data.LABELS)
OPTION_LINE = re.compile(r"^\(([A-E])\)\s?(.*)$")
ANSWER_CUE = re.compile(r"\s*(?:###\s*)?정답\s*[:：]\s*$")


@dataclass
class HAERAE(MultipleChoiceTask):
    subsets: tuple[str, ...] = ()
    language: str = "ko"

    def doc_to_text(self, doc: Row) -> str:
        return doc["query"]

    def doc_to_choice(self, doc: Row) -> list[str]:
        return LABELS

    def doc_to_target(self, doc: Row) -> int:
        return LABELS.index(doc["answer"])

    def doc_to_question(self, doc: Row) -> str:
        """The query without its option list and answer cue (generative scoring lists the options itself)."""
        query = doc["query"]
        head = query.split("### 선택지", 1)[0] if "### 선택지" in query else ANSWER_CUE.sub("", query)
        return head.strip()

    def generation_options(self, doc: Row) -> list[str]:
        """The row's ``options``, or else the ``(A) ...`` lines of its query."""
        if doc.get("options"):
            return list(doc["options"])
        found = [m.group(2).strip() for m in map(OPTION_LINE.match, doc["query"].splitlines()) if m]
        if len(found) != len(LABELS):
            raise ValueError(f"the query lists {len(found)} options (A)-(E) and the row has no 'options'")
        return found

    def record_fields(self, doc: Row) -> Row:
        return {"subset": doc["subset"]}

    def fewshot_examples(self, rnd: random.Random, pool: list[Row], shots: int, doc: Row) -> list[Row]:
        """The harness's draw when the few-shot split is the test split: K + 1 examples, the doc itself dropped;
        when that leaves fewer than K (the doc occurs twice), K from the pool without the doc."""
        if shots + 1 > len(pool):
            raise WorkbenchError(
                f"--shots {shots} needs {shots + 1} test items of HAE-RAE Bench's {doc['subset']} (the few-shot "
                f"examples come from the test split, the item itself left out); it has {len(pool)}. Use at most "
                f"{len(pool) - 1}."
            )
        drawn = [d for d in rnd.sample(pool, shots + 1) if d != doc][:shots]
        if len(drawn) < shots:
            drawn = rnd.sample([d for d in pool if d != doc], shots)
        return drawn

    def select_docs(self, docs: Sequence[Row], limit: int | None) -> list[Row]:
        """The task's own subsets' items (a user's file may hold others), the first ``limit`` of each."""
        return first_per_group(docs, limit, "subset", self.subsets)

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]:
        return build_grouped_items(self, docs, fewshot_pool, shots, "subset", "HAE-RAE Bench's")

    def aggregate_metrics(self, records: Sequence[Row], metrics: Sequence[str]) -> dict[str, Any]:
        """Each metric over all items; per subset (``subsets``) for the group."""
        return grouped_metrics(records, metrics, "subset", {"": list(self.subsets)}, "subsets")


SUMMARIES = {
    "general_knowledge": "Korean general knowledge: traditions, law, K-pop, K-drama and more (five options).",
    "history": "Korean history (five options).",
    "loan_words": "Loan words: the Korean word a foreign loan word is replaced with (five options).",
    "rare_words": "Rare Korean words: the one that fits a definition (five options).",
    "standard_nomenclature": "Standard nomenclature: the official Korean term for a concept (five options).",
}


def make(name: str, subsets: Sequence[str], summary: str) -> HAERAE:
    return HAERAE(
        name=name,
        summary=summary,
        data=haerae_data.spec(subsets),
        eval_split="test",
        fewshot_split="test",
        template="{query} {(A)|(B)|(C)|(D)|(E)}",
        metrics=("acc", "acc_norm"),
        fewshot_excludes_doc=True,
        size=sum(haerae_data.SIZES[s] for s in subsets),
        mirror="haerae/data/" + (f"{subsets[0]}-test.csv" if len(subsets) == 1 else "*-test.csv"),
        instruction="다음 질문을 읽고 정답인 보기의 기호만 쓰세요.",
        subsets=tuple(subsets),
    )


TASKS = [
    make(
        "haerae",
        list(haerae_data.SUBSETS),
        "HAE-RAE Bench: Korean vocabulary, history and general knowledge, five options each; the size-weighted "
        "mean over its five subsets. From the hub, each subset's config in turn; a data= file for it needs a "
        "subset column.",
    ),
    *(make(task, [subset], SUMMARIES[subset]) for subset, task in haerae_data.SUBSETS.items()),
]
