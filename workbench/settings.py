"""Where the workbench keeps things: project store, model cache, local data mirror.

Every location comes from an environment variable with a sensible default, read at call time so a
notebook can change it with ``os.environ`` without re-importing.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_ENV = "WORKBENCH_STORE"
CACHE_ENV = "WORKBENCH_CACHE_DIR"
DATA_ENV = "WORKBENCH_DATA_DIR"
DEFAULT_STORE_NAME = "workbench.sqlite"


def store_path() -> Path:
    """The project's SQLite file: ``$WORKBENCH_STORE`` or ``workbench.sqlite`` in the working directory."""
    return Path(os.environ.get(STORE_ENV) or Path.cwd() / DEFAULT_STORE_NAME)


def cache_dir() -> Path:
    """Cache root (dequantized models, fingerprints): ``$WORKBENCH_CACHE_DIR`` or ``~/.cache/workbench``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "workbench"


def data_dir() -> Path | None:
    """Local mirror of original benchmark files (``$WORKBENCH_DATA_DIR``), or None to use the hub."""
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else None
