"""The benchmark suite end to end: the real default model on real mirror items (tiny limits)."""

from __future__ import annotations

import pytest

import workbench
from workbench import cli
from workbench.store import Store

from .conftest import needs_mirror, needs_model

pytestmark = [needs_mirror, needs_model, pytest.mark.integration]


def test_mmlu_subject_five_shot_and_truthfulqa_mc2_run_and_save_complete():
    r = workbench.evaluate("mmlu:anatomy", limit=2, shots=5)
    assert r.metrics["n"] == 2 and set(r.metrics) >= {"acc", "acc_stderr", "acc_ci95"}
    first = r.samples.iloc[0]
    assert first["prompt"].startswith("The following are multiple choice questions (with answers) about anatomy.\n\n")
    assert first["prompt"].count("\nAnswer:") == 6 and first["subject"] == "anatomy"
    assert all(ll < 0 for ll in first["loglikelihoods"]) and len(first["loglikelihoods"]) == 4
    mc2 = workbench.evaluate("truthfulqa_mc2", limit=2)
    assert all(0.0 <= a <= 1.0 for a in mc2.samples["acc"]) and isinstance(mc2.samples.iloc[0]["gold"], list)
    runs = Store().runs()
    assert list(runs["status"]) == ["complete", "complete"]
    assert runs.iloc[1]["config"]["shots"] == 5 and runs.iloc[0]["config"]["shots"] == 0


def test_winogrande_and_kobest_wic_score_with_their_metrics():
    wino = workbench.evaluate("winogrande", limit=2)
    assert set(wino.metrics) >= {"acc"} and "acc_norm" not in wino.metrics
    assert len(wino.samples.iloc[0]["loglikelihoods"]) == 2
    wic = workbench.evaluate("kobest_wic", limit=3)
    assert 0.0 <= wic.metrics["f1"] <= 1.0 and "f1_stderr" in wic.metrics
    assert list(wic.summary()["metric"]) == ["acc", "f1"]


def test_gsm8k_generates_five_shot_and_keeps_text_and_both_extractions():
    r = workbench.evaluate("gsm8k", limit=1)
    record = r.samples.iloc[0]
    assert record["prompt"].count("Question:") == 6  # five examples and the question
    assert isinstance(record["raw"], str) and "Question:" not in record["raw"]
    assert record["strict"] and record["flexible"] and record["target"] == "18"
    assert set(r.metrics) >= {"exact_match_strict", "exact_match_flexible"}
    assert Store().run(r.run_id)["config"]["shots"] == 5


def test_cli_caps_generated_tokens(capsys):
    assert cli.main(["eval", "gsm8k", "--limit", "1", "--max-new-tokens", "4"]) == 0
    run = Store().runs().iloc[0]
    assert Store().run(run["run_id"])["config"]["max_new_tokens"] == 4
    raw = workbench.samples(run["run_id"]).iloc[0]["raw"]
    assert 0 < len(raw.split()) <= 4  # each word takes at least one token


def test_both_modes_on_the_same_items_side_by_side(capsys):
    both = workbench.compare_modes("kobest_copa", limit=3)
    assert both.loglikelihood.metrics["n"] == both.generate.metrics["n"] == 3
    gen = both.generate.samples
    assert {"raw", "extracted", "extraction_failed", "exact_match", "pred"} <= set(gen.columns)
    assert all(isinstance(t, str) for t in gen["raw"])
    items = both.items()
    assert list(items["doc_id"]) == [0, 1, 2]
    assert len(both.disagreements()) == int((~items["agree"]).sum())
    table = both.table()
    assert set(table["mode"]) == {"loglikelihood", "generate", "both"}
    assert sum(t.x[0] for t in both.figure().data) == 3
    runs = Store().runs()
    assert (runs["status"] == "complete").all() and sorted(c["mode"] for c in runs["config"]) == [
        "generate",
        "loglikelihood",
    ]
    assert cli.main(["eval", "kobest_copa", "--mode", "both", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "same answer" in out and "items where the two modes disagree" in out


def test_generate_mode_with_the_chat_template():
    r = workbench.evaluate("arc_easy", limit=2, mode="generate", chat=True)
    assert list(r.samples["chat"]) == [True, True]
    assert set(r.metrics) >= {"exact_match", "extraction_failed"}
    assert "[generate, chat template]" in Store().run(r.run_id)["prompt_template"]


def test_magic_list_and_both_modes_display_tables_and_the_chart(capsys):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    ip.display_formatter.formatters["text/html"].enabled = True
    shown = []
    ip.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    ip.run_line_magic("llm_eval", "--list")
    listing, suites = shown[-2]["text/html"], shown[-1]["text/html"]  # the tasks, then the groups and suites
    assert "mmlu:&lt;subject&gt;" in listing and "kobest_wic" in listing and "10042" in listing  # subjects: one row
    assert "open_llm_leaderboard" in suites and "arc_challenge (25-shot, acc_norm)" in suites
    shown.clear()
    ip.run_line_magic("llm_eval", "kobest_sentineg --mode both --limit 2")
    kinds = [k for d in shown for k in d]
    assert kinds.count("text/html") == 2 and "application/vnd.plotly.v1+json" in kinds
    assert ip.run_line_magic("llm_eval", "gsm8k --mode generate --limit 1") is None
    assert "gsm8k has no answer choices" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "mmlu:anatomyy", "--limit", "1"], "Did you mean 'mmlu:anatomy'"),
        (["eval", "gsm8k", "--mode", "generate"], "gsm8k has no answer choices"),
        (["eval", "truthfulqa_mc2", "--shots", "5"], "carries its own six example QA pairs"),
        (["eval", "arc_easy", "--max-new-tokens", "4"], "does not generate text"),
    ],
)
def test_cli_refuses_bad_input_in_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: ") and message in err and "Traceback" not in err
    assert Store().runs().empty


def test_cli_tasks_lists_every_task_with_size_and_source(capsys):
    assert cli.main(["tasks"]) == 0
    out = capsys.readouterr().out
    for text in ("hellaswag", "10042", "mmlu:<subject>", "anatomy", "truthfulqa_mc2", "winogrande", "gsm8k"):
        assert text in out
    assert "kobest_copa" in out and "local mirror" in out and max(map(len, out.splitlines())) <= 100
    copa = workbench.list_tasks().set_index("task").loc["kobest_copa"]  # the full record stays in Python
    assert copa["mirror"] == "kobest/COPA/test.tsv" and copa["hub dataset"].startswith("skt/kobest_v1/copa")
