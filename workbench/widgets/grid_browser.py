"""A grid's outputs, cell by cell: a drop-down of cells and, below it, the (escaped) outputs of the chosen one."""

from __future__ import annotations

from typing import Any

import ipywidgets as W


def grid_browser(result: Any) -> W.VBox:
    """A drop-down of ``result``'s cells (a ``GridResult``); choosing one shows its outputs below it.

    The outputs come from ``result.outputs_html`` (escaped). Drop-down labels are plain text, never HTML.
    """
    options = [
        (f"{c['prompt']} | {c['model']} | {c['params']}", (c["prompt"], c["model"], c["params"]))
        for c in result.cells.to_dict(orient="records")
    ]
    pick = W.Dropdown(options=options, description="cell")
    view = W.HTML(result.outputs_html(*options[0][1]))
    pick.observe(lambda change: setattr(view, "value", result.outputs_html(*change["new"])), names="value")
    return W.VBox([pick, view])
