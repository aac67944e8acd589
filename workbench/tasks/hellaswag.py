"""HellaSwag: pick the most plausible continuation of an activity description, as lm-evaluation-harness scores it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..data import hellaswag as hellaswag_data
from .base import MultipleChoiceTask, Row


def preprocess(text: str) -> str:
    """The harness's HellaSwag cleanup: strip, ' [title]' -> '. ', drop '[...]' markers, collapse one double space."""
    text = text.strip()
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    return text.replace("  ", " ")


@dataclass
class HellaSwag(MultipleChoiceTask):
    def doc_to_text(self, doc: Row) -> str:
        return preprocess(doc["activity_label"] + ": " + doc["ctx_a"] + " " + doc["ctx_b"].capitalize())

    def doc_to_choice(self, doc: Row) -> list[str]:
        return [preprocess(e) for e in doc["endings"]]

    def doc_to_target(self, doc: Row) -> int:
        return int(doc["label"])


TASKS = [
    HellaSwag(
        name="hellaswag",
        summary="Commonsense sentence completion: the most plausible ending of a video or WikiHow activity "
        "description (4 endings, adversarially filtered).",
        data=hellaswag_data.SPEC,
        eval_split="validation",
        fewshot_split="train",
        template="preprocess({activity_label}: {ctx_a} {ctx_b.capitalize()}) {ending}",
        fewshot_excludes_doc=True,  # the harness's fewshot_split and test_split are both unset
        size=hellaswag_data.SIZES["validation"],
        mirror=hellaswag_data.FILE,
        instruction="Choose the ending that best continues the text. Reply with the letter of that ending only.",
    )
]
