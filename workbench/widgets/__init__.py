"""Notebook panels (ipywidgets; keyboard shortcuts through anywidget). Each is a thin view over a session."""

from .arena import ArenaPanel
from .rating import RatingPanel

__all__ = ["ArenaPanel", "RatingPanel"]
