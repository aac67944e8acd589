"""The groups and suites, as data: several tasks run as one (``workbench.suites`` runs them).

A *group* ('arc', 'truthfulqa', 'kobest') runs its members as the call asks. A *suite* fixes each member's
shots, scoring mode and headline metric as a published leaderboard ran them ('open_llm_leaderboard', 'horangi').
``workbench.define_suite`` adds a user's own to :data:`SUITES`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Member:
    """One task of a group or suite: its shots and scoring mode (None: the call's, else the task's default) and
    the metric that counts toward the headline (None: the task's first metric)."""

    task: str
    shots: int | None = None
    metric: str | None = None
    mode: str | None = None

    def describe(self) -> str:
        settings = [f"{self.shots}-shot" if self.shots is not None else "", self.metric or "", self.mode or ""]
        shown = ", ".join(s for s in settings if s)
        return f"{self.task} ({shown})" if shown else self.task


@dataclass(frozen=True)
class Suite:
    """Members run one after the other; ``fixed`` suites keep their members' settings (the call may not change
    shots or mode), groups take the call's."""

    name: str
    members: tuple[Member, ...]
    about: str
    fixed: bool = False
    headline: str = "mean of the members' scores"
    judged: str | None = None  # a task the model answers and an LLM judge grades 1-10: the headline's other half

    @property
    def kind(self) -> str:
        return "suite" if self.fixed else "group"


def _suite(name: str, members: Iterable[tuple[Any, ...]], about: str, fixed: bool = False, **more: Any) -> Suite:
    return Suite(name, tuple(Member(*m) for m in members), about, fixed, **more)


SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        _suite("arc", [("arc_easy",), ("arc_challenge",)], "ARC Easy and Challenge."),
        _suite("truthfulqa", [("truthfulqa_mc1",), ("truthfulqa_mc2",)], "TruthfulQA MC1 and MC2."),
        _suite(
            "kobest",
            [(f"kobest_{t}",) for t in ("boolq", "copa", "hellaswag", "sentineg", "wic")],
            "The five KoBEST tasks.",
        ),
        _suite(
            "open_llm_leaderboard",
            [
                ("arc_challenge", 25, "acc_norm"),
                ("hellaswag", 10, "acc_norm"),
                ("mmlu", 5, "acc_subject_mean"),
                ("truthfulqa_mc2", 0, "acc"),
                ("winogrande", 5, "acc"),
                ("gsm8k", 5, "exact_match_strict"),
            ],
            "The Hugging Face Open LLM Leaderboard (v1): its six benchmarks, shots and metrics; the headline is "
            "their plain average.",
            fixed=True,
        ),
        _suite(
            "ko_knowledge",
            [("kmmlu", 0, "acc"), ("haerae", 0, "acc")],
            "Korean knowledge: KMMLU and HAE-RAE Bench as lm-evaluation-harness 0.4.13 defines them (its kmmlu and "
            "haerae tasks).",
            fixed=True,
        ),
        _suite(
            "horangi",
            [(f"kobest_{t}", 0, "exact_match", "generate") for t in ("boolq", "copa", "hellaswag", "sentineg", "wic")],
            "Horangi's way on the Korean tasks here: zero-shot, scored by the answer the model writes (the "
            "llm-kr-eval half); with judge=, Korean MT-Bench graded by that judge is the other half.",
            fixed=True,
            headline="(mean of the members' scores + Korean MT-Bench judge score / 10) / 2 with judge=, else the mean",
            judged="ko_mt_bench",
        ),
    )
}
BUILT_IN = frozenset(SUITES)


def find(name: str) -> Suite | None:
    return SUITES.get(name)


def names() -> list[str]:
    return list(SUITES)


def describe(suite: Suite) -> str:
    return ", ".join(m.describe() for m in suite.members)
