"""A leaderboard's table, sortable in the notebook: a drop-down of columns (the headline, each task) re-sorts it."""

from __future__ import annotations

from typing import Any

import ipywidgets as W


def leaderboard_view(board: Any) -> W.VBox:
    """``board`` (a ``Leaderboard``) as a table with a 'sort by' drop-down: the headline (the rank order) or any
    task, best first. The table is ``board.table(sort=...)`` rendered by pandas, which escapes every cell."""
    choices = [("headline (rank)", None)] + [(m.task, m.task) for m in board.suite.members]
    pick = W.Dropdown(options=choices, description="sort by")
    view = W.HTML(board.table().to_html(index=False, escape=True))

    def resort(change: dict[str, Any]) -> None:
        view.value = board.table(sort=change["new"]).to_html(index=False, escape=True)

    pick.observe(resort, names="value")
    return W.VBox([pick, view])
