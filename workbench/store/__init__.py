"""The project store: one SQLite file. This package is the only place in the workbench with SQL.

Each part lives in its own module and adds its tables; ``Store`` combines the parts.
"""

from __future__ import annotations

from .base import StoreBase
from .generations import GenerationsStore
from .judgments import JudgmentsStore
from .ratings import RatingsStore
from .runs import RunsStore, run_key


class Store(RunsStore, RatingsStore, GenerationsStore, JudgmentsStore):
    """Everything saved in a project: runs and samples (and, as they are added, other parts)."""


__all__ = ["Store", "StoreBase", "run_key"]
