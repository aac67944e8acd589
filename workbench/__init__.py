"""llm-eval-workbench: evaluate language models from a notebook, Python or a shell.

    %load_ext workbench
    %llm_eval arc_easy --model smollm2-135m --limit 50

Heavy libraries (torch, transformers, pandas, plotly) are imported on first use, so loading the
extension is instant.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
# public name -> (module that defines it, name there). Imported on first use.
_EXPORTS: dict[str, tuple[str, str]] = {
    "WorkbenchError": ("errors", "WorkbenchError"),
    # benchmarks (api.py); "tasks" is taken by the workbench.tasks subpackage, hence list_tasks
    **{n: ("api", n) for n in ("EvalResult", "evaluate", "runs", "samples", "compare_modes", "ModeComparison")},
    "list_tasks": ("api", "tasks"),
    "list_suites": ("api", "suites"),
    # groups, suites and leaderboards of many models
    **{n: ("suites", n) for n in ("define_suite", "SuiteResult")},
    **{n: ("leaderboards", n) for n in ("leaderboard", "Leaderboard")},
    # human evaluation: rating and blind A/B panels (the widget shell), rankings, agreement
    **{n: ("widgets", n) for n in ("rate", "arena", "grid_browser")},
    **{n: ("human", n) for n in ("ratings", "votes", "rankings", "ranking_figure", "agreement", "merge", "Rubric")},
    # text metrics, prompt grids, run comparison
    **{n: ("grids", n) for n in ("grid", "GridResult")},
    **{n: ("comparison", n) for n in ("compare", "Comparison")},
    **{n: ("diffing", n) for n in ("diff", "RunDiff")},  # why two runs' scores differ: their settings side by side
    **{n: ("gate", n) for n in ("check", "CheckResult")},  # the CI regression gate: a spec's rules held, PASS/FAIL
    **{n: ("trends", n) for n in ("trend", "Trend")},  # one evaluation repeated over time (drift of API models)
    "report": ("reports", "report"),  # one self-contained HTML file of runs, suites, leaderboards, comparisons
    "export_mlflow": ("mlflow_export", "export_mlflow"),  # runs as MLflow runs (params, metrics, items, report)
    **{n: ("scoring", n) for n in ("score", "ScoreResult", "perplexity", "PerplexityResult")},
    # LLM-as-a-judge and API models
    "judge": ("judge", ""),  # the callable package: workbench.judge(run) runs judge.core.judge; .calibrate, .radar
    "JudgeResult": ("judge.results", "JudgeResult"),
    # a judge calibrated against people's votes (also workbench.judge.calibrate)
    "calibrate_judge": ("judge.calibration", "calibrate"),
    "CalibrationResult": ("judge.calibration", "CalibrationResult"),
    "set_price": ("models.pricing", "set_price"),
    # what quantization costs: one model's variants side by side; serving speed at each concurrency
    **{n: ("model_variants", n) for n in ("variants", "VariantResult")},
    **{n: ("serving_speed", n) for n in ("throughput", "ThroughputResult")},
    "LocalServer": ("models.serve", "LocalServer"),
}
__all__ = sorted(_EXPORTS) + ["load_ipython_extension"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    import importlib

    module, attr = _EXPORTS[name]
    found = importlib.import_module(f".{module}", __name__)
    return getattr(found, attr) if attr else found


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext workbench`: registers %llm_eval and %llm_runs."""
    from .magics import load_ipython_extension as register

    register(ipython)
