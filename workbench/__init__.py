"""llm-eval-workbench: evaluate language models from a notebook, Python or a shell.

    %load_ext workbench
    %llm_eval arc_easy --model smollm2-135m --limit 50

Heavy libraries (torch, transformers, pandas, plotly) are imported on first use, so loading the
extension is instant.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["EvalResult", "WorkbenchError", "evaluate", "load_ipython_extension", "runs", "samples", "tasks"]

_API = {"EvalResult", "evaluate", "runs", "samples", "tasks"}


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "WorkbenchError":
        from .errors import WorkbenchError

        return WorkbenchError
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext workbench`: registers %llm_eval and %llm_runs."""
    from .magics import load_ipython_extension as register

    register(ipython)
