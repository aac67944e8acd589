"""MT-Bench and Korean MT-Bench: the model answers every turn of a conversation; a judge grades the answers.

Each question has two user turns; the second refers to the first answer, so turn 2's request is built from
the model's own turn-1 answer (``next_request``; the multi-turn runner in ``judge/answers.py`` drives it).
Sampling temperature per category as FastChat's gen_model_answer.py: 0.7 for writing and roleplay, 0.1 for
stem and humanities, greedy otherwise. Scores come from ``workbench.judge(run, judge=...)``; the run itself
records the answers and two checks: the share of turns answered (non-empty) and cut off at the token limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..data import DataSpec
from ..data import mt_bench as mt_data
from ..errors import WorkbenchError
from ..models.base import GenerateRequest, GenerateResponse
from ..models.pricing import response_usage
from .base import Item, Row, TaskBase, summarize

TEMPERATURE = {
    "writing": 0.7,
    "roleplay": 0.7,
    "extraction": 0.0,
    "math": 0.0,
    "coding": 0.0,
    "reasoning": 0.0,
    "stem": 0.1,
    "humanities": 0.1,
}
DEFAULT_TEMPERATURE = 0.7  # FastChat's default for categories outside its table
SEED = 1234  # for the sampled categories, where the backend honours seeds


@dataclass
class MTBenchTask(TaskBase):
    """Multi-turn open questions answered by the model; graded afterwards by an LLM judge."""

    name: str
    summary: str
    data: DataSpec
    language: str  # 'en' or 'ko': the judge prompts follow it
    eval_split: str = "train"  # the hub copy's only split; the mirror has one file
    fewshot_split: str | None = None
    size: int | None = 80
    mirror: str = ""
    metrics: tuple[str, ...] = ("answered", "truncated")
    max_new_tokens: int = 1024  # FastChat's default
    multi_turn: bool = True
    template: str = "chat: user turn 1 -> model answer -> user turn 2 -> model answer (no system prompt)"

    def temperature(self, doc: Row) -> float:
        return TEMPERATURE.get(doc["category"], DEFAULT_TEMPERATURE)

    def request(self, doc: Row, answers: Sequence[str]) -> GenerateRequest:
        """The request for the turn after ``answers``: every earlier turn and answer as chat messages."""
        messages: list[dict[str, str]] = []
        for question, answer in zip(doc["turns"], answers):
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        messages.append({"role": "user", "content": doc["turns"][len(answers)]})
        temperature = self.temperature(doc)
        return GenerateRequest(
            messages,
            max_new_tokens=self.max_new_tokens,
            temperature=temperature,
            seed=SEED if temperature > 0 else None,
        )

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]:
        if shots:
            raise WorkbenchError(f"{self.name} is answered zero-shot: leave out --shots (got {shots}).")
        return [Item(i, doc, doc["turns"][0], [self.request(doc, [])]) for i, doc in enumerate(docs)]

    def next_request(self, item: Item, answers: Sequence[str]) -> GenerateRequest | None:
        """The next turn's request given the answers so far, or None when every turn is answered."""
        return self.request(item.doc, answers) if len(answers) < len(item.doc["turns"]) else None

    def score(self, item: Item, responses: Sequence[GenerateResponse]) -> Row:
        doc = item.doc
        answers = [r.text.strip() for r in responses]
        finish = [r.extra.get("finish_reason") for r in responses]
        limit = self.max_new_tokens
        cut = [f == "length" or (f is None and r.completion_tokens >= limit) for f, r in zip(finish, responses)]
        references = doc["references"]
        return {
            "doc_id": item.doc_id,
            "question_id": doc["question_id"] if doc["question_id"] is not None else item.doc_id,
            "category": doc["category"],
            "language": self.language,
            "turns": doc["turns"],
            "answers": answers,
            "references": references,
            # turn 1 in the columns other views read (rating panels, exports)
            "prompt": doc["turns"][0],
            "output": answers[0],
            "reference": references[0] if references else None,
            "temperature": self.temperature(doc),
            "finish_reasons": finish,
            "answered": sum(bool(a) for a in answers) / len(answers),
            "truncated": sum(cut) / len(cut),
            "usage": response_usage(responses),
        }

    def aggregate(self, records: Sequence[Row]) -> dict[str, Any]:
        return summarize(records, self.metrics)


def make(name: str, hub_path: str, language: str, summary: str) -> MTBenchTask:
    return MTBenchTask(name, summary, mt_data.spec(name, hub_path), language, mirror=f"{name}/question.jsonl")


TASKS = [
    make(
        "mt_bench",
        "lighteval/mt-bench",
        "en",
        "MT-Bench: 80 two-turn open questions in 8 categories, graded 1-10 by an LLM judge (workbench.judge).",
    ),
    make(
        "ko_mt_bench",
        "wandb/FastChat (branch korean; the mirror holds the files)",
        "ko",
        "Korean MT-Bench (W&B Korea / Horangi): the 80 questions in Korean, judged with Korean prompts.",
    ),
]
