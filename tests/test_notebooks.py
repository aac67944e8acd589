"""The teaching notebooks: each runs top to bottom on the real model with its own defaults, within its time budget.

Every notebook must finish in ``BUDGET_S`` (5 minutes) on one CPU with the settings it ships with (Binder gives
one CPU); larger runs sit behind the variables of its cell tagged 'parameters'. The executing test records each
notebook's time (printed in the session's summary, and as a junit property) and fails only far beyond the
budget, ``SLACK`` times it, because CI machines are busy and slower than a quiet one. The fast tests read the
notebooks without running them.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import nbformat
import pytest

from .conftest import REPO, needs_mirror, needs_model

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
BUDGET_S = 300  # one CPU, the notebook's defaults
SLACK = 3  # fail only beyond 3x the budget: a busy CI machine is slower, a doubled default is not


def read(path: Path):
    return nbformat.read(path, as_version=4)


def parameters(nb) -> str:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "a notebook has exactly one cell tagged 'parameters'"
    return cells[0].source


@pytest.mark.integration
@needs_mirror
@needs_model
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_within_its_budget(path: Path, tmp_path, record_property):
    from nbclient import NotebookClient

    from workbench.store import Store

    nb = read(path)  # its own defaults: what a reader (and Binder) runs
    client = NotebookClient(
        nb, timeout=SLACK * BUDGET_S, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    record_property("notebook_seconds", (path.name, round(seconds, 1), BUDGET_S, SLACK))  # conftest prints these
    print(f"{path.name}: {seconds:.0f} s (budget {BUDGET_S} s)")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    runs = Store().runs()  # the kernel inherits $WORKBENCH_STORE from the test's environment
    assert not runs.empty and (runs["status"] == "complete").all()
    assert seconds <= SLACK * BUDGET_S, (
        f"{path.name} took {seconds:.0f} s with its defaults: far beyond its budget of {BUDGET_S} s on one CPU. "
        "Lower the defaults in its 'parameters' cell (and name the larger setting in a comment there)."
    )


# ---- fast: read, not run --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_defaults_are_marked_with_the_larger_setting(path: Path):
    """The cell tagged 'parameters' comes first among code cells and names, for each size it sets, the larger
    setting that gives numbers worth comparing."""
    nb = read(path)
    source = parameters(nb)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", []), "the parameters cell is the first code cell"
    sizes = [line for line in source.splitlines() if re.match(r"[A-Z_]+ = \d", line)]
    assert sizes, "the parameters cell sets at least one size"
    assert all("#" in line for line in sizes), f"each size says what a larger run takes: {sizes}"
    assert re.search(r"larger|full|all \d|bigger", source, re.I), "the parameters cell names the larger setting"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_are_saved_without_outputs(path: Path):
    nb = read(path)
    assert not [c for c in nb.cells if c.cell_type == "code" and (c.outputs or c.execution_count)]


def test_the_quickstart_names_every_magic():
    """Notebook 01 says what %load_ext registers: every magic of the extension, and how many."""
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    magics = ip.magics_manager.lsmagic()
    ours = [f"%{m}" for m in magics["line"] if m.startswith("llm_")]
    ours += [f"%%{m}" for m in magics["cell"] if m.startswith("llm_")]
    text = "\n".join(c.source for c in read(REPO / "notebooks" / "01_quickstart.ipynb").cells)
    assert len(ours) == 15, ours
    missing = [m for m in ours if not re.search(re.escape(m) + r"\b", text)]
    assert not missing, f"notebook 01 does not name {missing}"
    assert "fifteen magics" in text
