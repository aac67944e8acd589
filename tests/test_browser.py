"""The panels in a real JupyterLab, driven by headless Chromium: a click and a key press reach the store,
and model output holding <script> or <img onerror> is shown as text and runs nothing.

Needs Debian's chromium (`bash .ci/install-browser`) and the playwright package (`pip install -e .[test]`);
Playwright's own browser download is not used. Set WORKBENCH_SCREENSHOTS=$PWD/docs to refresh the README's
screenshots (docs/rating-panel.png, docs/arena-panel.png).
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

import workbench

from .conftest import needs_model

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `bash .ci/install-browser`"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright missing: pip install -e '.[test]'"
    ),
    needs_model,
    pytest.mark.integration,
]

SCRIPT = "<script>window.__pwned = 1</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
ROWS = [
    {
        "id": "plants-1",
        "question": "Which part of a plant takes in water from the soil?",
        "choices": {"text": ["roots", "leaves", "flowers", "seeds"], "label": ["A", "B", "C", "D"]},
        "answerKey": "A",
    },
    {
        "id": "unsafe-2",
        "question": f"{SCRIPT} Which of these animals is a mammal?",
        "choices": {"text": [f"{IMG} whale", "shark", "trout", "octopus"], "label": ["A", "B", "C", "D"]},
        "answerKey": "A",
    },
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def rows(store: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(store) as db:
        return db.execute(sql).fetchall()


def start_lab(root: Path, port: int, token: str) -> subprocess.Popen:
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}
    env["JUPYTERLAB_SETTINGS_DIR"] = str(root / ".settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(root / ".workspaces")
    settings = root / ".settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    settings.parent.mkdir(parents=True)
    settings.write_text('{"fetchNews": "false", "checkForUpdates": false}')  # no news toast over the panels
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if os.geteuid() == 0:  # CI runs as root
        cmd.append("--allow-root")
    log = open(root / "lab.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started (its own group)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def run_cell(page, index: int) -> None:
    """Click into the cell and press Shift+Enter, as a person would; wait until it has run."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    prompt = cell.locator(".jp-InputArea-prompt")
    wait_for(lambda: prompt.inner_text().strip() not in ("[ ]:", "[*]:"), 120, f"cell {index} to run")


def test_rating_and_arena_panels_in_jupyterlab(project, tmp_path):
    from playwright.sync_api import sync_playwright

    data = tmp_path / "questions.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    run = workbench.evaluate("arc_easy", data=str(data))  # the real default model on two items
    store = Path(os.environ["WORKBENCH_STORE"])
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"import workbench\npanel = workbench.rate({run.run_id!r}, rubric='1-5', annotator='browser')\npanel"
        ),
        nbformat.v4.new_code_cell(
            "from workbench.human import items\n"
            f"key = items({run.run_id!r}).assign(model='answer key')\n"
            "key['output'] = key['reference']\n"
            f"duel = workbench.arena({run.run_id!r}, key, annotator='browser', seed=3)\nduel"
        ),
    ]
    nbformat.write(nb, tmp_path / "panels.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    lab = start_lab(tmp_path, port, token)
    shots = Path(os.environ.get("WORKBENCH_SCREENSHOTS") or tmp_path)
    try:
        status = f"http://127.0.0.1:{port}/api/status?token={token}"

        def up() -> bool:
            try:
                return urllib.request.urlopen(status, timeout=2).status == 200
            except OSError:
                return False

        wait_for(up, 90, "JupyterLab to start (see lab.log)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/panels.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.get_by_text("| Idle").wait_for(timeout=120_000)  # the kernel is connected and ready

            try:
                run_cell(page, 0)
                panel = page.locator(".wb-panel").first
                panel.wait_for(timeout=120_000)
                page.wait_for_selector(".wb-keys", timeout=30_000)
                assert "Which part of a plant" in panel.inner_text()
                panel.screenshot(path=str(shots / "rating-panel.png"))

                panel.get_by_role("button", name="4", exact=True).click()
                sql = "SELECT value FROM ratings WHERE annotator = 'browser' AND action = 'rate' ORDER BY rowid"
                wait_for(lambda: rows(store, sql) == [("4",)], 30, "the click's rating row in SQLite")

                # the next item holds <script> and <img onerror>: shown as text, nothing ran
                wait_for(lambda: "Which of these animals" in panel.inner_text(), 30, "the second item")
                text = panel.inner_text()
                assert SCRIPT in text and IMG in text
                assert panel.locator("script").count() == 0 and panel.locator("img").count() == 0
                assert page.evaluate("window.__pwned") is None

                # the keyboard: focus the panel (not a text box) and press 2
                panel.locator(".wb-keys").click()
                page.keyboard.press("2")
                wait_for(lambda: rows(store, sql) == [("4",), ("2",)], 30, "the key press's rating row in SQLite")
                assert page.locator(".jp-Notebook .jp-MarkdownCell").count() == 0  # JupyterLab did not take the key

                run_cell(page, 1)
                duel = page.locator(".wb-panel").nth(1)
                duel.wait_for(timeout=60_000)
                assert "answer key" not in duel.inner_text() and "smollm2" not in duel.inner_text()  # names hidden
                duel.screenshot(path=str(shots / "arena-panel.png"))
                duel.get_by_role("button", name="A is better [a]").click()
                votes = "SELECT vote, model_left, model_right FROM votes WHERE annotator = 'browser'"
                stored = wait_for(lambda: rows(store, votes), 30, "the vote row in SQLite")
                assert stored[0][0] == "A" and {stored[0][1], stored[0][2]} == {"answer key", "smollm2-135m"}
                assert page.evaluate("window.__pwned") is None
            except Exception:
                page.screenshot(path=str(tmp_path / "failure.png"))  # what the browser showed
                raise
            browser.close()
    finally:
        stop(lab)
    for name in ("rating-panel.png", "arena-panel.png"):
        assert (shots / name).stat().st_size > 5_000
