"""The JupyterLab extension in a real JupyterLab, driven by headless Chromium: a real evaluation run in a notebook
appears in the Evaluations sidebar with its score, its panel opens, the wrong answers are one click away, a model
output holding <script> is shown as text, "Insert code" writes the loading cell, and the result output renders
from the saved notebook through the extension's MIME renderer.

Needs Debian's chromium (`bash .ci/install-browser`), the playwright package (`pip install -e .[test]`) and the
extension (`make install`). WORKBENCH_SCREENSHOTS=docs refreshes
docs/lab-extension.png.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import urllib.request
from pathlib import Path

import nbformat
import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.store import Store

from .conftest import needs_mirror, needs_model
from .test_browser import CHROMIUM, CHROMIUM_ARGS, free_port, run_cell, start_lab, stop, wait_for

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `bash .ci/install-browser`"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright missing: pip install -e '.[test]'"
    ),
    needs_model,
    needs_mirror,
    pytest.mark.integration,
]

SCRIPT = "<script>window.__pwned = 1</script>"
MIME = "application/vnd.llm-workbench.result+json"


def add_unsafe_run(store: Path, real: list[dict]) -> str:
    """A finished run, written through the store layer, of the real run's first two items (the same item
    identities, so the two compare): the first answered right, the second wrong with an output holding <script>."""
    db = Store(store)
    run_id = db.create_run(
        run_key=secrets.token_hex(8), task="arc_easy", model="unsafe-model", model_identity={"name": "unsafe"},
        data_source="test", data_fingerprint="test", prompt_template="", config={"limit": 2}, versions={},
        command="%llm_eval arc_easy --model unsafe-model --limit 2", n_items=2,
    )  # fmt: skip
    right = {**real[0], "pred": real[0]["gold"], "acc": 1.0}
    choices = list(real[1]["choices"])
    wrong_pick = (int(real[1]["gold"]) + 1) % len(choices)
    choices[wrong_pick] = SCRIPT
    wrong = {**real[1], "choices": choices, "pred": wrong_pick, "acc": 0.0}
    db.add_samples(run_id, [right, wrong])
    db.finish_run(run_id, {"acc": 0.5, "acc_stderr": 0.5, "acc_ci95": [0.0, 1.0], "n": 2})
    return run_id


def run_ids(store: Path) -> list[str]:
    try:
        return list(workbench.runs(store=store)["run_id"])
    except WorkbenchError:  # no store yet: the kernel has not started the run
        return []


def test_evaluations_sidebar_in_jupyterlab(project, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    assert importlib.util.find_spec("jupyterlab_workbench") is not None, (
        "the extension is not installed: SKIP_JUPYTER_BUILDER=1 pip install -e extensions/jupyterlab-workbench"
    )
    monkeypatch.delenv("WORKBENCH_STORE")  # the kernel finds the store of the notebook's folder, as a user's does
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    root = tmp_path / "lab"
    folder = root / "evals"
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text("")  # the project's root: its store is evals/workbench.sqlite
    store = folder / "workbench.sqlite"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("%load_ext workbench\n%llm_eval arc_easy --limit 5")]
    nbformat.write(nb, folder / "quick.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    lab = start_lab(root, port, token)
    shots = Path(os.environ.get("WORKBENCH_SCREENSHOTS") or tmp_path)
    try:

        def up() -> bool:
            try:
                return (
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2).status == 200
                )
            except OSError:
                return False

        wait_for(up, 90, "JupyterLab to start (see lab.log)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/evals/quick.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.get_by_text("| Idle").wait_for(timeout=120_000)
            try:
                page.locator('.jp-SideBar [data-id="jupyterlab-workbench-evaluations"]').click()
                sidebar = page.locator(".wb-lab-sidebar")
                sidebar.wait_for(timeout=30_000)

                # a real evaluation in the notebook; the sidebar shows it, then its score when it is complete
                run_cell(page, 0)
                (run_id,) = wait_for(lambda: run_ids(store), 120, "the run in the store")
                row = sidebar.locator(f'.wb-lab-run[data-run-id="{run_id}"]')
                row.wait_for(timeout=30_000)
                complete = row.locator(".wb-lab-badge-complete")
                complete.wait_for(timeout=60_000)  # the sidebar refreshed by itself
                acc = workbench.runs(store=store)["value"].iloc[0]
                assert f"acc {acc:.3f}" in row.locator(".wb-lab-run-score").inner_text()
                assert "smollm2-135m" in row.inner_text()

                # the result output is the extension's renderer (the bundle beside the HTML table)
                result = page.locator(".jp-Notebook .wb-lab-result")
                result.wait_for(timeout=30_000)
                assert "acc_norm" in result.inner_text() and result.locator("svg.wb-lab-chart").count() == 1

                # open it, then the wrong answers in one more click
                row.locator(".wb-lab-run-body").click()
                panel = page.locator(".wb-lab-runpanel").last
                panel.locator(".wb-lab-item").first.wait_for(timeout=30_000)
                assert panel.locator(".wb-lab-item").count() == 5
                samples = workbench.samples(run_id, store=store)
                wrong = sorted(int(d) for d in samples[samples["acc"] == 0]["doc_id"])
                panel.locator(".wb-lab-wrong-toggle").check()
                wait_for(lambda: panel.locator(".wb-lab-item").count() == len(wrong), 30, "the wrong answers")
                shown = [int(panel.locator(".wb-lab-item").nth(i).get_attribute("data-doc-id") or -1)
                         for i in range(len(wrong))]  # fmt: skip
                assert shown == wrong
                assert panel.locator(".wb-lab-item-wrong").count() == len(wrong)
                assert "%llm_eval arc_easy --limit 5" in panel.locator(".wb-lab-rerun").inner_text()
                page.screenshot(path=str(shots / "lab-extension.png"))

                # a model output holding <script> is shown as text and runs nothing
                unsafe = add_unsafe_run(store, Store(store).sample_records(run_id))
                sidebar.locator(".wb-lab-refresh").click()
                sidebar.locator(f'.wb-lab-run[data-run-id="{unsafe}"] .wb-lab-run-body').click()
                panel = page.locator(".wb-lab-runpanel").last
                panel.locator(".wb-lab-item").first.wait_for(timeout=30_000)
                panel.locator(".wb-lab-wrong-toggle").check()
                wait_for(lambda: panel.locator(".wb-lab-item").count() == 1, 30, "the one wrong answer")
                output = panel.locator(".wb-lab-item .wb-lab-output")
                assert output.inner_text().strip() == SCRIPT
                assert panel.locator("script").count() == 0
                assert page.evaluate("window.__pwned") is None

                # Insert code: select the real run, one click puts the loading cell in the notebook
                page.locator(".lm-TabBar-tab", has_text="quick.ipynb").first.click()
                sidebar.locator(f'.wb-lab-run[data-run-id="{run_id}"] .wb-lab-pick').check()
                sidebar.locator(".wb-lab-insert").click()
                code = f'workbench.samples("{run_id}")'
                editors = page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor")
                wait_for(lambda: any(code in t for t in editors.all_inner_texts()), 30, "the inserted cell")

                # Compare: the two runs item by item, on the two items they share
                sidebar.locator(f'.wb-lab-run[data-run-id="{unsafe}"] .wb-lab-pick').check()
                sidebar.locator(".wb-lab-compare").click()
                compared = page.locator(".wb-lab-comparepanel").last
                compared.locator(".wb-lab-compare-table").wait_for(timeout=60_000)
                expected = workbench.compare(run_id, unsafe, store=store)
                text = compared.inner_text()
                assert expected.summary().splitlines()[0][:60] in text
                assert "shared items\t2" in text or "shared items 2" in text.replace("\t", " ")
                assert compared.locator("script").count() == 0 and page.evaluate("window.__pwned") is None

                # saved, and opened again: the result renders from the file
                page.locator(".lm-TabBar-tab", has_text="quick.ipynb").first.click()
                page.keyboard.press("Control+s")
                wait_for(lambda: MIME in (folder / "quick.ipynb").read_text(), 30, "the saved notebook")
                saved = nbformat.read(folder / "quick.ipynb", as_version=4)
                bundles = [o for o in saved.cells[0].outputs if MIME in o.get("data", {})]
                assert len(bundles) == 1 and "text/html" in bundles[0]["data"]  # the HTML fallback beside it
                page.reload()
                page.locator(".jp-Notebook .wb-lab-result").wait_for(timeout=120_000)
            except Exception:
                page.screenshot(path=str(tmp_path / "failure.png"))
                raise
            browser.close()
    finally:
        stop(lab)
    assert (shots / "lab-extension.png").stat().st_size > 5_000
