"""The project store: one SQLite file. This package is the only place in the workbench with SQL.

Each part lives in its own module with its queries; ``Store`` combines the parts. The tables are versioned
in ``migrations.py`` (``PRAGMA user_version``; ``SCHEMA_VERSION`` is the version this workbench writes): a
new column is one new migration there.
"""

from __future__ import annotations

from .base import StoreBase
from .generations import GenerationsStore
from .judgments import JudgmentsStore
from .migrations import APPLICATION_ID, SCHEMA_VERSION
from .ratings import RatingsStore
from .runs import RunsStore, run_key


class Store(RunsStore, RatingsStore, GenerationsStore, JudgmentsStore):
    """Everything saved in a project: runs and samples (and, as they are added, other parts)."""


__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "Store", "StoreBase", "run_key"]
