"""LLM-as-a-judge: grade a run's answers 1-10, or compare two runs' answers in both orders.

    result = workbench.judge(run, judge="openai:gpt-4o")                    # single-answer grading
    result = workbench.judge(run_a, run_b, judge="openai:gpt-4o")           # pairwise, both orders
    result.summary(); result.figure(); result.view()                        # tables, chart, rationales
    workbench.judge.radar(result, other_result)                             # several models on one radar
    result.agreement(arena="...")                                           # judge vs people (S1 / S2)
    workbench.judge.calibrate(judge="openai:gpt-4o", dataset="mt_bench_human")  # the paper's experiment

This package is also callable (``workbench.judge(...)`` runs :func:`core.judge`), so importing it never
hides the API function of the same name. Its modules load on first use, so importing it costs nothing.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = [
    "CalibrationResult", "JudgeResult", "calibrate", "category_table", "judge", "parse_rating", "parse_verdict",
    "radar", "render",
]  # fmt: skip
_WHERE = {
    "judge": "core",
    "calibrate": "calibration",
    "CalibrationResult": "calibration",
    "JudgeResult": "results",
    "category_table": "results",
    "radar": "results",
    "parse_rating": "parse",
    "parse_verdict": "parse",
    "render": "prompts",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .core import judge

        return judge(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
