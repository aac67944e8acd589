"""What a task is: rows -> requests, responses -> per-sample scores -> metrics. Tasks never call a model."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..data import DataSpec
from ..errors import WorkbenchError
from ..metrics import choice_predictions, mean, mean_stderr, normal_ci
from ..models.base import GenerateRequest, LoglikelihoodRequest, LoglikelihoodResponse, RollingRequest

Row = dict[str, Any]
FEWSHOT_SEED = 1234  # the harness's default fewshot seed


@dataclass
class Item:
    """One document turned into the requests that score it (all of one kind)."""

    doc_id: int
    doc: Row
    prompt: str
    requests: list[LoglikelihoodRequest] | list[GenerateRequest] | list[RollingRequest] = field(default_factory=list)


class Task(Protocol):
    """What the runner needs of any task: rows -> items of requests, responses -> records -> metrics."""

    name: str
    summary: str
    data: DataSpec
    eval_split: str
    fewshot_split: str | None
    template: str
    metrics: tuple[str, ...]

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]: ...

    def score(self, item: Item, responses: Sequence[Any]) -> Row: ...

    def aggregate(self, records: Sequence[Row]) -> dict[str, Any]: ...


@dataclass
class MultipleChoiceTask:
    """A task scored by the log-likelihood of each choice as a continuation of the prompt.

    Prompt = description + shots x (text + target_delimiter + answer + fewshot_delimiter) + text, and each
    choice is scored as target_delimiter + choice: lm-evaluation-harness's multiple_choice layout.
    """

    name: str
    summary: str
    data: DataSpec
    eval_split: str
    fewshot_split: str | None
    template: str  # how doc_to_text reads, recorded with each run
    description: str = ""
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"
    metrics: tuple[str, ...] = ("acc", "acc_norm")

    # ---- the three things a concrete task defines ----------------------------------------------
    def doc_to_text(self, doc: Row) -> str:
        raise NotImplementedError

    def doc_to_choice(self, doc: Row) -> list[str]:
        raise NotImplementedError

    def doc_to_target(self, doc: Row) -> int:
        raise NotImplementedError

    # ---- rows -> requests ----------------------------------------------------------------------
    def fewshot_block(self, shots: Sequence[Row]) -> str:
        return "".join(
            self.doc_to_text(d)
            + self.target_delimiter
            + self.doc_to_choice(d)[self.doc_to_target(d)]
            + self.fewshot_delimiter
            for d in shots
        )

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]:
        """Prompts and requests for each doc; few-shot examples drawn as the harness draws them.

        One Random(1234) is consumed in document order, so doc i gets the same examples here as there.
        """
        if shots and len(fewshot_pool) < shots:
            raise WorkbenchError(
                f"--shots {shots} is more than the {len(fewshot_pool)} examples in {self.name}'s "
                f"{self.fewshot_split} split; use at most {len(fewshot_pool)}."
            )
        rnd = random.Random(FEWSHOT_SEED)
        items = []
        for doc_id, doc in enumerate(docs):
            prefix = self.description
            if shots:
                prefix += self.fewshot_block(rnd.sample(list(fewshot_pool), shots))
            prompt = prefix + self.doc_to_text(doc)
            requests = [LoglikelihoodRequest(prompt, self.target_delimiter + c) for c in self.doc_to_choice(doc)]
            items.append(Item(doc_id, doc, prompt, requests))
        return items

    # ---- responses -> scores -> metrics --------------------------------------------------------
    def score(self, item: Item, responses: Sequence[LoglikelihoodResponse]) -> Row:
        choices = self.doc_to_choice(item.doc)
        lls = [r.logprob for r in responses]
        gold = self.doc_to_target(item.doc)
        pred, pred_norm = choice_predictions(lls, choices)
        return {
            "doc_id": item.doc_id,
            "gold": gold,
            "pred": pred,
            "pred_norm": pred_norm,
            "acc": float(pred == gold),
            "acc_norm": float(pred_norm == gold),
            "loglikelihoods": lls,
            "is_greedy": [r.is_greedy for r in responses],
            "choices": choices,
            "prompt": item.prompt,
        }

    def aggregate(self, records: Sequence[Row]) -> dict[str, Any]:
        out: dict[str, Any] = {"n": len(records)}
        for metric in self.metrics:
            values = [float(r[metric]) for r in records]
            value, stderr = mean(values), mean_stderr(values)
            out[metric] = value
            out[f"{metric}_stderr"] = stderr
            out[f"{metric}_ci95"] = list(normal_ci(value, stderr))
        return out
