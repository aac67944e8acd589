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
# a folder holding one of these is a project's root: the search for its store goes no higher
PROJECT_MARKERS = (".git", ".hg", "pyproject.toml", "setup.py", "setup.cfg")


def store_path() -> Path:
    """The project's SQLite file: ``$WORKBENCH_STORE`` when set, else :func:`find_store` from the working
    directory, so notebooks in a subfolder and the shell at the project's root share one store."""
    env = os.environ.get(STORE_ENV)
    return Path(env) if env else find_store(Path.cwd())


def find_store(start: Path) -> Path:
    """The store for work started in ``start``, found the way git finds its repository.

    Walking up from ``start``: the first ``workbench.sqlite`` found; the walk stops at the project's root (the
    first folder with .git, pyproject.toml, ...: :data:`PROJECT_MARKERS`), whose ``workbench.sqlite`` is the
    store even before it exists. Outside any project and with no store above, ``start/workbench.sqlite``.
    """
    for folder in (start, *start.parents):
        candidate = folder / DEFAULT_STORE_NAME
        if candidate.is_file() or project_root(folder):
            return candidate
    return start / DEFAULT_STORE_NAME


def project_root(folder: Path) -> bool:
    """``folder`` is the root of a project (holds one of :data:`PROJECT_MARKERS`)."""
    return any((folder / marker).exists() for marker in PROJECT_MARKERS)


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
