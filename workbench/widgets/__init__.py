"""Notebook panels (ipywidgets; keyboard shortcuts through anywidget). Each is a thin view over a session.

``rate`` and ``arena`` (``workbench.rate`` / ``workbench.arena``) build a session from ``workbench.human``
and return the panel that draws it; nothing in ``workbench.human`` knows the panels exist. ``grid_browser``
shows a ``GridResult``'s outputs cell by cell; ``leaderboard_view`` a ``Leaderboard``'s table, sortable.
"""

from .arena_panel import ArenaPanel, arena
from .grid_browser import grid_browser
from .leaderboard_view import leaderboard_view
from .rating_panel import RatingPanel, rate

__all__ = ["ArenaPanel", "RatingPanel", "arena", "grid_browser", "leaderboard_view", "rate"]
