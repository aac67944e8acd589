"""MMLU: 57 subjects of four-option questions, one task per subject (``mmlu:<subject>``), the four category groups
(``mmlu:stem``, ...) and the whole benchmark (``mmlu``), scored and grouped as lm-evaluation-harness does.

A group's score is the size-weighted mean over its subjects (= the mean over all its items) with the harness's
pooled standard error; ``acc_subject_mean`` beside it counts each subject once (the Open LLM Leaderboard v1's
MMLU score). ``--limit N`` takes the first N items of each subject, as the harness's limit does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..data import mmlu as mmlu_data
from ..errors import WorkbenchError
from ..metrics import normal_ci
from ..metrics.groups import pooled_stderr
from .base import MultipleChoiceTask, Row, summarize, unknown_subject

LETTERS = list(mmlu_data.LETTERS)


@dataclass
class MMLU(MultipleChoiceTask):
    subjects: tuple[str, ...] = ()

    def doc_description(self, doc: Row) -> str:
        return (
            f"The following are multiple choice questions (with answers) about {doc['subject'].replace('_', ' ')}.\n\n"
        )

    def doc_to_text(self, doc: Row) -> str:
        options = "".join(f"\n{letter}. {choice}" for letter, choice in zip(LETTERS, doc["choices"]))
        return f"{doc['question'].strip()}{options}\nAnswer:"

    def doc_to_choice(self, doc: Row) -> list[str]:
        return LETTERS

    def doc_to_target(self, doc: Row) -> int:
        return int(doc["answer"])

    def doc_to_question(self, doc: Row) -> str:
        return self.doc_description(doc).strip() + "\n\n" + doc["question"].strip()

    def generation_options(self, doc: Row) -> list[str]:
        return list(doc["choices"])

    def record_fields(self, doc: Row) -> Row:
        return {"subject": doc["subject"]}

    def fewshot_examples(self, rnd: random.Random, pool: list[Row], shots: int, doc: Row) -> list[Row]:
        """The first ``shots`` dev examples of the doc's own subject (the harness's first_n sampler)."""
        same = [d for d in pool if d["subject"] == doc["subject"]]
        if len(same) < shots:
            raise WorkbenchError(
                f"--shots {shots} is more than the {len(same)} dev examples of MMLU's {doc['subject']}; "
                f"use at most {len(same)}."
            )
        return super().fewshot_examples(rnd, same, shots, doc)

    def select_docs(self, docs: Sequence[Row], limit: int | None) -> list[Row]:
        """The items of this task's subjects (a category's rows come from the hub's or mirror's whole benchmark),
        the first ``limit`` of each subject."""
        docs = [d for d in docs if d["subject"] in self.subjects]
        if not limit:
            return docs
        taken: dict[str, int] = {}
        out = []
        for doc in docs:
            if taken.get(doc["subject"], 0) < limit:
                taken[doc["subject"]] = taken.get(doc["subject"], 0) + 1
                out.append(doc)
        return out

    def aggregate_metrics(self, records: Sequence[Row], metrics: Sequence[str]) -> dict[str, Any]:
        """Each metric over all items, per category (``<metric>_<category>``) and per subject (``subjects``)."""
        out = summarize(records, metrics)
        if len(self.subjects) == 1:
            return out
        by_subject: dict[str, list[Row]] = {}
        for r in records:
            by_subject.setdefault(r["subject"], []).append(r)
        per_subject = {s: summarize(rs, metrics) for s, rs in sorted(by_subject.items())}
        groups = {"": list(per_subject)}
        for category in mmlu_data.CATEGORIES:
            members = [s for s in per_subject if mmlu_data.SUBJECTS[s][0] == category]
            if members and len(members) < len(per_subject):
                groups[f"_{category}"] = members
        for suffix, members in groups.items():
            n = sum(per_subject[s]["n"] for s in members)
            for m in metrics:
                value = sum(per_subject[s][m] * per_subject[s]["n"] for s in members) / n
                stderr = pooled_stderr(
                    [per_subject[s][f"{m}_stderr"] for s in members], [per_subject[s]["n"] for s in members]
                )
                out[f"{m}{suffix}"], out[f"{m}{suffix}_stderr"] = value, stderr
                out[f"{m}{suffix}_ci95"] = list(normal_ci(value, stderr))
        for m in metrics:  # each subject counting once, as the Open LLM Leaderboard (v1) averaged MMLU
            value = sum(v[m] for v in per_subject.values()) / len(per_subject)
            stderr = math.sqrt(sum(v[f"{m}_stderr"] ** 2 for v in per_subject.values())) / len(per_subject)
            out[f"{m}_subject_mean"], out[f"{m}_subject_mean_stderr"] = value, stderr
            out[f"{m}_subject_mean_ci95"] = list(normal_ci(value, stderr))
        out["subjects"] = {s: {"n": v["n"], **{m: v[m] for m in metrics}} for s, v in per_subject.items()}
        return out


def make(name: str, subjects: Sequence[str], summary: str) -> MMLU:
    return MMLU(
        name=name,
        summary=summary,
        data=mmlu_data.spec(subjects[0] if len(subjects) == 1 else None),
        eval_split="test",
        fewshot_split="dev",
        template="The following are multiple choice questions (with answers) about {subject}.\n\n"
        "{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\nAnswer: {letter}",
        metrics=("acc",),
        fewshot_sampler="first_n",
        size=sum(mmlu_data.SUBJECTS[s][1] for s in subjects),
        mirror="mmlu/test/" + (f"{subjects[0]}_test.csv" if len(subjects) == 1 else "*_test.csv"),
        subjects=tuple(subjects),
    )


CATEGORY_TASKS = {
    c: make(
        f"mmlu:{c}",
        [s for s, (cat, _) in sorted(mmlu_data.SUBJECTS.items()) if cat == c],
        f"MMLU's {c.replace('_', ' ')} subjects, size-weighted as the harness's mmlu_{c} group.",
    )
    for c in mmlu_data.CATEGORIES
}
TASKS = [
    make(
        "mmlu",
        sorted(mmlu_data.SUBJECTS),
        "57 subjects of four-option questions (STEM, humanities, social sciences, other); the size-weighted "
        "mean over all, plus each category.",
    ),
    *CATEGORY_TASKS.values(),
    *(
        make(f"mmlu:{s}", [s], f"MMLU {s.replace('_', ' ')} ({category.replace('_', ' ')}).")
        for s, (category, _) in sorted(mmlu_data.SUBJECTS.items())
    ),
]


def unknown(name: str) -> WorkbenchError:
    """The error for ``mmlu:<something>`` that is neither a subject nor a category."""
    return unknown_subject(name, "MMLU", list(mmlu_data.SUBJECTS), list(mmlu_data.CATEGORIES))
