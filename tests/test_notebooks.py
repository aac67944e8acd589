"""The teaching notebooks run top to bottom on the real model, with a small item limit."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from workbench.store import Store

from .conftest import REPO, needs_mirror, needs_model

pytestmark = pytest.mark.integration
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def with_parameters(nb, **values):
    """Replace the cell tagged 'parameters' by one assigning ``values`` (papermill's convention)."""
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = "\n".join(f"{k} = {v!r}" for k, v in values.items())
            return nb
    raise AssertionError("notebook has no cell tagged 'parameters'")


@needs_mirror
@needs_model
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path: Path, tmp_path):
    nb = with_parameters(nbformat.read(path, as_version=4), LIMIT=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    runs = Store().runs()  # the kernel inherits $WORKBENCH_STORE from the test's environment
    assert not runs.empty and (runs["status"] == "complete").all()
