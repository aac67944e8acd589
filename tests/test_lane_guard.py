"""The fast-lane guard in conftest.py: a test without the `integration` marker that loads a model fails with the
fix named, and nothing one test does (patching models.load itself) switches the guard on for the tests after it.
Run in a child pytest so the guard meets real test outcomes, in order."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from .conftest import REPO

INNER = """
import pytest
import workbench.models as models
from workbench.models import registry


@pytest.fixture(scope="module")
def loaded():
    return models.load("smollm2-135m")


def test_a_patches_load_itself(monkeypatch):
    monkeypatch.setattr(models, "load", lambda *args, **kwargs: "stand-in")
    assert models.load("smollm2-135m") == "stand-in"


def test_b_still_guarded_after_a():
    with pytest.raises(pytest.fail.Exception, match="without the `integration` marker"):
        models.load("smollm2-135m")
    with pytest.raises(pytest.fail.Exception, match="Dequantizing"):
        registry.dequantized_dir(None)


@pytest.mark.integration
def test_c_marked_test_is_not_guarded(tmp_path):
    (tmp_path / "config.json").write_text("{}")  # a transformers directory the real load fails on, quickly
    with pytest.raises(ValueError):
        models.load(str(tmp_path))
    with pytest.raises(AttributeError):  # the real dequantized_dir, given no model spec
        registry.dequantized_dir(None)


def test_d_module_fixture_loading_a_model(loaded):
    pass
"""


def test_guard_catches_unmarked_loads_and_never_leaks(tmp_path):
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import *  # noqa: F403\n\n\n"
        "def pytest_configure(config):\n"
        "    config.addinivalue_line('markers', 'integration: loads a model')\n"
    )
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    out = done.stdout + done.stderr
    assert "3 passed, 1 error" in out, out
    assert "ERROR at setup of test_d_module_fixture_loading_a_model" in out, out
    assert "Loading the model 'smollm2-135m' in a test without the `integration` marker" in out, out
