"""The real default model on real ARC items from the mirror: API, CLI, magics, resume, batch invariance."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

import workbench
from workbench import cli
from workbench.store import Store

from .conftest import MIRROR, needs_mirror, needs_model

pytestmark = [needs_mirror, needs_model, pytest.mark.integration]
LIMIT = 6


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One real run on the first LIMIT ARC-Easy test items, shared by the comparisons below."""
    import os

    store = tmp_path_factory.mktemp("ref") / "ref.sqlite"
    old = os.environ.get("WORKBENCH_DATA_DIR")
    os.environ["WORKBENCH_DATA_DIR"] = str(MIRROR)
    try:
        return workbench.evaluate("arc_easy", limit=LIMIT, store=store)
    finally:
        if old is None:
            os.environ.pop("WORKBENCH_DATA_DIR")


def test_evaluate_returns_metrics_samples_and_a_saved_run(reference):
    r = reference
    assert set(r.metrics) >= {"acc", "acc_stderr", "acc_ci95", "acc_norm", "acc_norm_stderr", "acc_norm_ci95"}
    assert r.metrics["n"] == LIMIT and 0.0 <= r.metrics["acc"] <= 1.0
    samples = r.samples
    assert list(samples["doc_id"]) == list(range(LIMIT))
    for column in ("doc_id", "gold", "pred", "pred_norm", "loglikelihoods", "prompt"):
        assert column in samples.columns
    first = samples.iloc[0]
    assert first["prompt"].startswith("Question: Which statement best explains why photosynthesis")
    assert len(first["loglikelihoods"]) == len(first["choices"]) == 4
    assert all(ll < 0 for ll in first["loglikelihoods"])
    assert r.metrics["acc"] == pytest.approx(samples["acc"].mean())
    run = Store(r.store_path).run(r.run_id)
    assert run["status"] == "complete" and run["n_items"] == LIMIT
    assert run["model_identity"]["fingerprint"].startswith("sha256:")
    assert run["data_fingerprint"].startswith("sha256:") and run["data_source"].startswith("mirror:")
    assert run["prompt_template"].startswith("Question: {question}")
    assert run["versions"]["transformers"] != "not installed" and run["command"].startswith("workbench.evaluate(")
    summary = r.summary()
    assert list(summary["metric"]) == ["acc", "acc_norm"]
    assert (summary["ci95_low"] <= summary["value"]).all() and (summary["value"] <= summary["ci95_high"]).all()
    fig = r.figure()
    assert fig.data[0].error_y.array is not None and list(fig.data[0].x) == ["acc", "acc_norm"]


def test_hub_schema_user_file_gives_the_same_rows_and_scores(reference, tmp_path):
    from workbench.data.arc import to_hub_row

    lines = (MIRROR / "arc" / "ARC-Easy" / "ARC-Easy-Test.jsonl").read_text().splitlines()[:LIMIT]
    path = tmp_path / "hub.jsonl"
    path.write_text("".join(json.dumps(to_hub_row(json.loads(x))) + "\n" for x in lines))
    r = workbench.evaluate("arc_easy", data=str(path))
    ref_run = Store(reference.store_path).run(reference.run_id)
    assert Store().run(r.run_id)["data_fingerprint"] == ref_run["data_fingerprint"]
    for a, b in zip(r.samples["loglikelihoods"], reference.samples["loglikelihoods"]):
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4


def test_predictions_do_not_depend_on_batch_size(reference):
    r1 = workbench.evaluate("arc_easy", limit=LIMIT, batch_size=1)
    assert list(r1.samples["pred"]) == list(reference.samples["pred"])
    assert list(r1.samples["pred_norm"]) == list(reference.samples["pred_norm"])
    for a, b in zip(r1.samples["loglikelihoods"], reference.samples["loglikelihoods"]):
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4


def test_an_interrupted_run_resumes_where_it_stopped(reference, monkeypatch, capsys):
    calls = {"n": 0}
    original = Store.add_samples

    def crash_after_first_write(self, run_id, records, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the kernel is interrupted mid-run
        original(self, run_id, records, **kwargs)

    monkeypatch.setattr(Store, "add_samples", crash_after_first_write)
    with pytest.raises(KeyboardInterrupt):
        workbench.evaluate("arc_easy", limit=LIMIT, batch_size=1)
    [run] = Store().runs().to_dict("records")
    assert run["status"] == "interrupted"
    scored_before = Store().done_doc_ids(run["run_id"])
    assert 0 < len(scored_before) < LIMIT

    monkeypatch.setattr(Store, "add_samples", original)
    resumed = workbench.evaluate("arc_easy", limit=LIMIT, batch_size=1)
    assert resumed.run_id == run["run_id"] and resumed.resumed_items == len(scored_before)
    assert f"{len(scored_before)} of {LIMIT} items already scored" in capsys.readouterr().out
    assert Store().run(resumed.run_id)["status"] == "complete"
    assert list(resumed.samples["pred"]) == list(reference.samples["pred"])
    assert math.isclose(resumed.metrics["acc"], reference.metrics["acc"])


def test_cli_eval_runs_and_tasks(capsys):
    assert cli.main(["eval", "arc_challenge", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "arc_challenge" in out and "acc_norm" in out and "saved in" in out
    assert cli.main(["runs"]) == 0
    assert "complete" in capsys.readouterr().out
    assert cli.main(["tasks"]) == 0
    assert "arc_easy" in capsys.readouterr().out
    assert Store().runs().iloc[0]["command"] == "workbench eval arc_challenge --limit 2"


def test_workbench_command_is_installed():
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "tasks"], capture_output=True, text=True, check=True)
    assert "arc_challenge" in out.stdout


def test_magics_in_an_ipython_shell(capsys):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    ip.display_formatter.formatters["text/html"].enabled = True  # as in a notebook kernel
    shown = []
    ip.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    ip.run_line_magic("llm_eval", "arc_easy --model smollm2-135m --limit 2")
    kinds = [k for d in shown for k in d]
    assert "text/html" in kinds  # the summary table
    assert "application/vnd.plotly.v1+json" in kinds  # the interactive chart
    runs = ip.run_line_magic("llm_runs", "")
    assert runs.iloc[0]["command"] == "%llm_eval arc_easy --model smollm2-135m --limit 2"
    assert runs.iloc[0]["status"] == "complete"
    doc = ip.find_line_magic("llm_eval").__doc__
    assert "--limit" in doc and "--shots" in doc and "--model" in doc
