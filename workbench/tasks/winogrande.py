"""WinoGrande: pronoun resolution by partial scoring, as lm-evaluation-harness scores it.

Each option fills the blank in the sentence up to it (one context per option); the model scores the same
continuation, the rest of the sentence, after each context. The option whose context makes the continuation
most likely is the prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..data import winogrande as winogrande_data
from ..models.base import LoglikelihoodRequest
from .base import Item, MultipleChoiceTask, Row


@dataclass
class Winogrande(MultipleChoiceTask):
    def doc_to_choice(self, doc: Row) -> list[str]:
        """The sentence up to the blank, filled with each option (one context per option)."""
        blank = doc["sentence"].index("_")
        return [doc["sentence"][:blank] + option for option in (doc["option1"], doc["option2"])]

    def doc_to_target(self, doc: Row) -> int:
        return {"1": 0, "2": 1}[doc["answer"]]

    def continuation(self, doc: Row) -> str:
        """The rest of the sentence after the blank, the text every context is scored on."""
        return doc["sentence"][doc["sentence"].index("_") + 1 :].strip()

    def fewshot_block(self, shots: Sequence[Row]) -> str:
        """Shown examples are the sentence filled with the right option (the harness's multiple-input layout)."""
        return "".join(
            self.doc_to_choice(d)[self.doc_to_target(d)]
            + self.target_delimiter
            + self.continuation(d)
            + self.fewshot_delimiter
            for d in shots
        )

    def make_item(self, doc_id: int, doc: Row, prefix: str) -> Item:
        continuation = self.target_delimiter + self.continuation(doc)
        requests = [LoglikelihoodRequest(prefix + context, continuation) for context in self.doc_to_choice(doc)]
        return Item(doc_id, doc, prefix + doc["sentence"], requests)

    def doc_to_question(self, doc: Row) -> str:
        return doc["sentence"]

    def generation_options(self, doc: Row) -> list[str]:
        return [doc["option1"], doc["option2"]]


TASKS = [
    Winogrande(
        name="winogrande",
        summary="Winograd-style pronoun resolution at scale: which of two names or things fills the blank "
        "(partial scoring, 1267 dev sentences).",
        data=winogrande_data.SPEC,
        eval_split="validation",
        fewshot_split="train",
        template="{sentence up to _}{option} | {rest of sentence}",
        metrics=("acc",),
        fewshot_excludes_doc=True,  # the harness's fewshot_split and test_split are both unset
        size=winogrande_data.SIZES["validation"],
        mirror=winogrande_data.FILE,
        instruction="Which option correctly fills the blank (_) in the sentence? Reply with the letter of that "
        "option only.",
    )
]
