"""GSM8K: grade-school math word problems, scored on the answer the model writes, as lm-evaluation-harness does.

5-shot by default (examples from train, drawn with seed 1234), greedy generation up to 256 tokens stopping at
"Question:". Two extractions of the final number: strict ("#### <number>", the training format) and flexible
(the last number in the text). Exact match ignores case, commas, "$", everything up to "#### " and a final period,
on both the extracted answer and the reference solution.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..data import gsm8k as gsm8k_data
from ..models.base import GenerateRequest, GenerateResponse
from .base import Item, PromptTask, Row

INVALID = "[invalid]"
STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
IGNORE = (",", "\\$", "(?s).*#### ", "\\.$")  # the harness's regexes_to_ignore, applied in this order
STOP = ("Question:", "</s>", "<|im_end|>")


def extract(text: str, pattern: re.Pattern, which: int) -> str:
    """The harness's regex filter: match ``which`` (0 first, -1 last), its first non-empty group, stripped."""
    found = pattern.findall(text)
    if not found:
        return INVALID
    match = found[which]
    if isinstance(match, tuple):
        match = next((m for m in match if m), INVALID)
    return match.strip()


def extract_strict(text: str) -> str:
    return extract(text, STRICT, 0)


def extract_flexible(text: str) -> str:
    return extract(text, FLEXIBLE, -1)


def normalize(text: str) -> str:
    for pattern in IGNORE:
        text = re.sub(pattern, "", text)
    return text.lower()


def exact_match(prediction: str, reference: str) -> float:
    """The harness's exact_match with ignore_case and regexes_to_ignore."""
    return float(normalize(prediction) == normalize(reference))


@dataclass
class GSM8K(PromptTask):
    chat: bool = False
    max_new_tokens: int = 256

    def doc_to_text(self, doc: Row) -> str:
        return f"Question: {doc['question']}\nAnswer:"

    def fewshot_answer(self, doc: Row) -> str:
        return doc["answer"]

    def make_item(self, doc_id: int, doc: Row, prefix: str) -> Item:
        prompt = prefix + self.doc_to_text(doc)
        message = [{"role": "user", "content": prompt}] if self.chat else prompt
        return Item(doc_id, doc, prompt, [GenerateRequest(message, self.max_new_tokens, 0.0, STOP)])

    def score(self, item: Item, responses: Sequence[GenerateResponse]) -> Row:
        text = responses[0].text
        strict, flexible = extract_strict(text), extract_flexible(text)
        reference = item.doc["answer"]
        return {
            "doc_id": item.doc_id,
            "target": normalize(reference),
            "question": item.doc["question"],  # what a judge or a rater reads (the prompt holds the shots too)
            "raw": text,
            "strict": strict,
            "flexible": flexible,
            "exact_match_strict": exact_match(strict, reference),
            "exact_match_flexible": exact_match(flexible, reference),
            "extraction_failed": float(strict == INVALID),
            "prompt": item.prompt,
            "chat": self.chat,
        }

    def with_chat(self) -> GSM8K:
        """The same task with the prompt sent as one user message through the model's chat template."""
        return replace(self, chat=True, template=self.template + " [as a chat message]")


TASKS = [
    GSM8K(
        name="gsm8k",
        summary="Grade-school math word problems; the model writes a solution, its final number must match "
        "(strict '#### n' and flexible last-number extraction).",
        data=gsm8k_data.SPEC,
        eval_split="test",
        fewshot_split="train",
        template="Question: {question}\nAnswer: {solution ending in #### n}",
        metrics=("exact_match_strict", "exact_match_flexible"),
        default_shots=5,
        size=gsm8k_data.SIZES["test"],
        mirror="gsm8k/test.jsonl",
    )
]
