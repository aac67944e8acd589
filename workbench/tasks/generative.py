"""Generative scoring of multiple-choice tasks, the way Horangi / llm-kr-eval score them.

Zero-shot, the model reads an instruction, the question and the labelled options (A., B., ...) and writes an
answer. The answer is normalised (NFKC, its first paragraph, stripped of spaces and quotes) and its label
extracted: the whole answer when it is a label, a label followed by punctuation ("B.", "(B)", "B) text"), or the
label on the answer's last line written "Answer: X" / "정답: X" (Horangi's current rule). Exact match against the
gold label; an answer with no label is wrong and recorded as an extraction failure. Each record keeps the raw
text.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from ..data import DataSpec
from ..errors import WorkbenchError
from ..models.base import GenerateRequest, GenerateResponse
from .base import ITEM_ERRORS, Item, MultipleChoiceTask, Row, Task, TaskBase, bad_item

MODES = ("loglikelihood", "generate")
LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
INSTRUCTIONS = {
    "en": "Answer the following multiple-choice question. Reply with the letter of the correct option only.",
    "ko": "다음 객관식 문제의 정답을 고르세요. 정답인 보기의 기호만 쓰세요.",
}
ANSWER_CUES = {"en": "Answer:", "ko": "정답:"}
QUOTES = "\"'`“”‘’「」『』"
FINAL_LINE = re.compile(r"^(?:answer|정답|답)\s*[:：]\s*\(?([A-Z])\)?(?![A-Za-z])", re.IGNORECASE)
LEADING_LABEL = re.compile(r"^\(?([A-Z])(?:[\).:]|$)")
MAX_NEW_TOKENS = 32


def normalize_answer(text: str) -> str:
    """NFKC, the first paragraph, stripped of surrounding spaces and quotes."""
    text = unicodedata.normalize("NFKC", text).strip()
    return text.split("\n\n")[0].strip().strip(QUOTES).strip()


def extract_label(text: str, labels: Sequence[str]) -> str | None:
    """The option label the answer (its first paragraph, normalised) names, or None when it names none."""
    answer = normalize_answer(text)
    if answer in labels:
        return answer
    last_line = answer.splitlines()[-1].strip().strip(QUOTES) if answer else ""
    match = LEADING_LABEL.match(answer) or FINAL_LINE.match(last_line)
    return match.group(1) if match and match.group(1) in labels else None


@dataclass
class GenerativeChoiceTask(TaskBase):
    """A multiple-choice task whose items the model answers by writing an option's label."""

    base: MultipleChoiceTask
    chat: bool = False
    max_new_tokens: int = MAX_NEW_TOKENS
    fewshot_split: str | None = None
    default_shots: int = 0
    fixed_shots: str = "--mode generate scores zero-shot, as Horangi does"

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def summary(self) -> str:
        return self.base.summary

    @property
    def data(self) -> DataSpec:
        return self.base.data

    @property
    def eval_split(self) -> str:
        return self.base.eval_split

    @property
    def metrics(self) -> tuple[str, ...]:
        return ("exact_match", "extraction_failed", *(m for m in self.base.metrics if m == "f1"))

    @property
    def instruction(self) -> str:
        return self.base.instruction or INSTRUCTIONS[self.base.language]

    @property
    def template(self) -> str:
        cue = "" if self.chat else "\n" + ANSWER_CUES[self.base.language]
        how = "generate, chat template" if self.chat else "generate"
        return f"[{how}] {self.instruction}\n\n{{question}}\nA. {{option}}\nB. {{option}}\n...{cue}"

    def select_docs(self, docs: Sequence[Row], limit: int | None) -> list[Row]:
        return self.base.select_docs(docs, limit)

    def shown_order(self, doc_id: int, n: int) -> list[int]:
        """Which original option is shown at each position (shuffled per doc when the gold one sits first)."""
        order = list(range(n))
        if self.base.shuffle_for_generation:
            random.Random(f"{self.base.name}:{doc_id}").shuffle(order)
        return order

    def prompt(self, doc: Row, options: Sequence[str]) -> str:
        listed = "".join(f"\n{label}. {option}" for label, option in zip(LABELS, options))
        text = f"{self.instruction}\n\n{self.base.doc_to_question(doc)}{listed}"
        return text if self.chat else f"{text}\n{ANSWER_CUES[self.base.language]}"

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]:
        items = []
        for doc_id, doc in enumerate(docs):
            self.base.check_doc(doc_id, doc)
            try:
                options = self.base.generation_options(doc)
                self.base.doc_to_question(doc)
            except ITEM_ERRORS as exc:
                raise bad_item(self.name, doc_id, exc) from None
            if len(options) > len(LABELS):
                raise WorkbenchError(
                    f"{self.name} item {doc_id} has {len(options)} options; at most 26 can be labelled."
                )
            order = self.shown_order(doc_id, len(options))
            text = self.prompt(doc, [options[i] for i in order])
            message = [{"role": "user", "content": text}] if self.chat else text
            items.append(Item(doc_id, doc, text, [GenerateRequest(message, self.max_new_tokens, 0.0)]))
        return items

    def score(self, item: Item, responses: Sequence[GenerateResponse]) -> Row:
        options = self.base.generation_options(item.doc)
        order = self.shown_order(item.doc_id, len(options))
        labels = list(LABELS[: len(options)])
        raw = responses[0].text
        label = extract_label(raw, labels)
        pred = order[labels.index(label)] if label is not None else -1
        gold = self.base.gold_indices(item.doc)
        return {
            "doc_id": item.doc_id,
            "gold": gold[0] if len(gold) == 1 else gold,
            "gold_label": "".join(labels[order.index(g)] for g in gold),
            "pred": pred,
            "raw": raw,
            "answer": normalize_answer(raw),
            "extracted": label,
            "extraction_failed": float(label is None),
            "exact_match": float(pred in gold),
            "question": self.base.doc_to_question(item.doc),
            "options": list(options),
            "shown": order,  # shown[k] = the option listed under label k
            "prompt": item.prompt,
            "chat": self.chat,
            **self.base.record_fields(item.doc),
        }

    def aggregate(self, records: Sequence[Row]) -> dict[str, Any]:
        return self.base.aggregate_metrics(records, self.metrics)


def has_choices(task: Task) -> TypeGuard[MultipleChoiceTask]:
    return isinstance(task, MultipleChoiceTask)


def for_mode(task: Task, mode: str | None, chat: bool = False) -> Task:
    """The task scored in ``mode`` ('loglikelihood' or 'generate'; None: the task's own way), with or without
    the model's chat template. Refuses combinations that do not apply, naming the fix."""
    if mode is not None and mode not in MODES:
        raise WorkbenchError(f"Unknown mode {mode!r}: use loglikelihood, generate, or both (to compare the two).")
    if not has_choices(task):
        if mode is not None:
            raise WorkbenchError(
                f"{task.name} has no answer choices to score by {mode}: --mode applies to multiple-choice tasks "
                f"only. {task.name} is scored its own way; leave --mode out."
            )
        return task.with_chat() if chat else task
    if mode == "generate":
        return GenerativeChoiceTask(task, chat=chat)
    if chat:
        raise WorkbenchError(
            f"--chat applies to generated answers: add --mode generate (or --mode both) to score {task.name} "
            "through the model's chat template. Log-likelihood scoring uses the plain prompt, as the harness does."
        )
    return task
