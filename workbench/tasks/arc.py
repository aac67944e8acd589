"""ARC (AI2 Reasoning Challenge), Easy and Challenge sets, as lm-evaluation-harness scores them."""

from __future__ import annotations

from dataclasses import dataclass

from ..data import arc as arc_data
from .base import MultipleChoiceTask, Row


@dataclass
class ARC(MultipleChoiceTask):
    def doc_to_text(self, doc: Row) -> str:
        return f"Question: {doc['question']}\nAnswer:"

    def doc_to_choice(self, doc: Row) -> list[str]:
        return list(doc["choices"]["text"])

    def doc_to_target(self, doc: Row) -> int:
        labels = doc["choices"]["label"]
        if doc["answerKey"] not in labels:
            raise ValueError(f"answerKey {doc['answerKey']!r} is not one of the labels {labels}")
        return labels.index(doc["answerKey"])


def make(subset: str, name: str, summary: str) -> ARC:
    return ARC(
        name=name,
        summary=summary,
        data=arc_data.spec(subset),
        eval_split="test",
        fewshot_split="train",
        template="Question: {question}\nAnswer: {choice}",
    )


TASKS = [
    make("ARC-Easy", "arc_easy", "Grade-school science questions (easy set), 3-5 choices."),
    make(
        "ARC-Challenge",
        "arc_challenge",
        "Grade-school science questions that retrieval and word co-occurrence fail on.",
    ),
]
