"""KMMLU: 45 subjects of four-option Korean exam questions, scored as lm-evaluation-harness 0.4.13's default
``kmmlu`` task (``lm_eval/tasks/kmmlu/default``): one task per subject (``kmmlu:<subject>``), the four category
groups (``kmmlu:stem``, ``kmmlu:applied_science``, ``kmmlu:humss``, ``kmmlu:other``) and the whole benchmark
(``kmmlu``).

Prompt ``{question.strip()}\\nA. {A}\\nB. {B}\\nC. {C}\\nD. {D}\\n정답：`` (a full-width colon), continuations
`` A`` .. `` D``, gold ``answer - 1``; acc. Zero-shot by default, as the harness; ``--shots K`` draws K of the
subject's five dev examples with ``random.Random(1234)``, one generator per subject consumed in that subject's
document order (each subject is its own harness task). A group's acc is the size-weighted mean over its
subjects (= the mean over all its items) with the harness's pooled standard error; ``acc_subject_mean`` beside
it counts each subject once (the macro average the KMMLU paper reports). ``--limit N`` takes the first N items of
each subject, as the harness's limit does.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..data import kmmlu as kmmlu_data
from ..errors import WorkbenchError
from ..metrics import normal_ci
from ..metrics.groups import pooled_stderr
from .base import FEWSHOT_SEED, ITEM_ERRORS, Item, MultipleChoiceTask, Row, bad_item, summarize, unknown_subject

LETTERS = list(kmmlu_data.LETTERS)
CATEGORY_NAMES = {
    "stem": "STEM",
    "applied_science": "applied science",
    "humss": "humanities and social sciences",
    "other": "other",
}


# ---- shared by the grouped Korean knowledge tasks (KMMLU subjects, HAE-RAE subsets) ---------------------------
def first_per_group(docs: Sequence[Row], limit: int | None, field: str, members: Sequence[str]) -> list[Row]:
    """The docs of the task's own groups (``doc[field]`` in ``members``), the first ``limit`` of each."""
    taken: dict[str, int] = {}
    out = []
    for doc in docs:
        group = doc[field]
        if group not in members or (limit and taken.get(group, 0) >= limit):
            continue
        taken[group] = taken.get(group, 0) + 1
        out.append(doc)
    return out


def build_grouped_items(
    task: MultipleChoiceTask, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int, field: str, what: str
) -> list[Item]:
    """Items whose few-shot examples come from the doc's own group (``doc[field]``), drawn as the harness draws
    them when each group is a task of its own: one ``Random(1234)`` per group, consumed in that group's doc order."""
    pools: dict[str, list[Row]] = {}
    for row in fewshot_pool:
        pools.setdefault(row[field], []).append(row)
    rngs: dict[str, random.Random] = {}
    items = []
    for doc_id, doc in enumerate(docs):
        task.check_doc(doc_id, doc)
        group = doc[field]
        pool = pools.get(group, [])
        if shots and len(pool) < shots:
            raise WorkbenchError(
                f"--shots {shots} is more than the {len(pool)} {task.fewshot_split} examples of {what} {group}; "
                f"use at most {len(pool)}."
            )
        try:
            prefix = task.doc_description(doc)
            if shots:
                rnd = rngs.setdefault(group, random.Random(FEWSHOT_SEED))
                prefix += task.fewshot_block(task.fewshot_examples(rnd, pool, shots, doc))
            items.append(task.make_item(doc_id, doc, prefix))
        except ITEM_ERRORS as exc:
            raise bad_item(task.name, doc_id, exc) from None
    return items


def grouped_metrics(
    records: Sequence[Row],
    metrics: Sequence[str],
    field: str,
    groups: dict[str, list[str]],
    breakdown: str,
    member_mean: str = "",
) -> dict[str, Any]:
    """Each metric over all records; over each group of members (``<metric><suffix>``: the size-weighted mean of
    its members with the harness's pooled stderr; suffix "" is the task's own group, whose stderr then replaces
    the plain one); with ``member_mean``, ``<metric>_<member_mean>``: the members' plain mean; and per member
    (``breakdown``: {member: {n, metric...}}), when there are several."""
    out = summarize(records, metrics)
    by_member: dict[str, list[Row]] = {}
    for r in records:
        by_member.setdefault(r[field], []).append(r)
    if len(by_member) <= 1:
        return out
    per_member = {m: summarize(rs, metrics) for m, rs in sorted(by_member.items())}
    for suffix, members in groups.items():
        present = [m for m in members if m in per_member]
        if not present:
            continue
        sizes = [per_member[m]["n"] for m in present]
        for metric in metrics:
            value = sum(per_member[m][metric] * n for m, n in zip(present, sizes)) / sum(sizes)
            stderr = pooled_stderr([per_member[m][f"{metric}_stderr"] for m in present], sizes)
            out[f"{metric}{suffix}"], out[f"{metric}{suffix}_stderr"] = value, stderr
            out[f"{metric}{suffix}_ci95"] = list(normal_ci(value, stderr))
    if member_mean:  # each member counted once (KMMLU's paper reports this macro average)
        for metric in metrics:
            value = sum(v[metric] for v in per_member.values()) / len(per_member)
            stderr = math.sqrt(sum(v[f"{metric}_stderr"] ** 2 for v in per_member.values())) / len(per_member)
            out[f"{metric}_{member_mean}"], out[f"{metric}_{member_mean}_stderr"] = value, stderr
            out[f"{metric}_{member_mean}_ci95"] = list(normal_ci(value, stderr))
    out[breakdown] = {m: {"n": v["n"], **{k: v[k] for k in metrics}} for m, v in per_member.items()}
    return out


# ---- KMMLU --------------------------------------------------------------------------------------------------
@dataclass
class KMMLU(MultipleChoiceTask):
    subjects: tuple[str, ...] = ()
    language: str = "ko"

    def doc_to_text(self, doc: Row) -> str:
        options = "".join(f"\n{letter}. {doc[letter]}" for letter in LETTERS)
        return f"{doc['question'].strip()}{options}\n정답："

    def doc_to_choice(self, doc: Row) -> list[str]:
        return LETTERS

    def doc_to_target(self, doc: Row) -> int:
        return int(doc["answer"]) - 1

    def doc_to_question(self, doc: Row) -> str:
        return doc["question"].strip()

    def generation_options(self, doc: Row) -> list[str]:
        return [doc[letter] for letter in LETTERS]

    def record_fields(self, doc: Row) -> Row:
        return {"subject": doc["subject"]}

    def select_docs(self, docs: Sequence[Row], limit: int | None) -> list[Row]:
        """The task's own subjects' items (a user's file may hold others), the first ``limit`` of each."""
        return first_per_group(docs, limit, "subject", self.subjects)

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]:
        return build_grouped_items(self, docs, fewshot_pool, shots, "subject", "KMMLU's")

    def aggregate_metrics(self, records: Sequence[Row], metrics: Sequence[str]) -> dict[str, Any]:
        """Each metric over all items (the harness's micro average); for ``kmmlu`` also per category
        (``acc_stem``, ...); with several subjects, ``acc_subject_mean`` (each subject once: the KMMLU paper's
        macro average) and per subject (``subjects``)."""
        groups: dict[str, list[str]] = {"": list(self.subjects)}
        categories = {kmmlu_data.SUBJECTS[s][1] for s in self.subjects}
        if len(categories) > 1:
            for category in kmmlu_data.CATEGORIES:
                groups[f"_{category}"] = [s for s in self.subjects if kmmlu_data.SUBJECTS[s][1] == category]
        return grouped_metrics(records, metrics, "subject", groups, "subjects", member_mean="subject_mean")


TEMPLATE = "{question}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\n정답： {A|B|C|D}"


def make(name: str, subjects: Sequence[str], summary: str) -> KMMLU:
    one = kmmlu_data.SUBJECTS[subjects[0]][0] if len(subjects) == 1 else "*"
    return KMMLU(
        name=name,
        summary=summary,
        data=kmmlu_data.spec(subjects),
        eval_split="test",
        fewshot_split="dev",
        template=TEMPLATE,
        metrics=("acc",),
        size=sum(kmmlu_data.SUBJECTS[s][2] for s in subjects),
        mirror=f"kmmlu/data/{one}-test.csv",
        instruction="다음 문제를 읽고 정답인 보기의 기호만 쓰세요.",
        subjects=tuple(subjects),
    )


def _title(subject: str) -> str:
    return kmmlu_data.SUBJECTS[subject][0].replace("-", " ")


ALL = sorted(kmmlu_data.SUBJECTS)
# the hub keeps each subject in a config of its own; a group reads each in turn (DataSpec.hub_configs)
GROUP_DATA = "From the hub, each subject's config in turn; a data= file for it needs a subject column."
CATEGORY_TASKS = {
    c: make(
        f"kmmlu:{c}",
        [s for s in ALL if kmmlu_data.SUBJECTS[s][1] == c],
        f"KMMLU's {CATEGORY_NAMES[c]} subjects, size-weighted as the harness's kmmlu_{c} group. {GROUP_DATA}",
    )
    for c in kmmlu_data.CATEGORIES
}
TASKS = [
    make(
        "kmmlu",
        ALL,
        "45 subjects of four-option questions from Korean exams (KMMLU); the size-weighted mean over all, plus "
        f"each category. {GROUP_DATA}",
    ),
    *CATEGORY_TASKS.values(),
    *(make(f"kmmlu:{s}", [s], f"KMMLU {_title(s)} ({CATEGORY_NAMES[kmmlu_data.SUBJECTS[s][1]]}).") for s in ALL),
]


def unknown(name: str) -> WorkbenchError:
    """The error for ``kmmlu:<something>`` that is neither a subject nor a category."""
    return unknown_subject(name, "KMMLU", list(kmmlu_data.SUBJECTS), list(kmmlu_data.CATEGORIES))
