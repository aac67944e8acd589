"""Groups, suites and leaderboards: definitions and bad input without a model; with the real default model, a
group's numbers equal its members run alone, the Open LLM Leaderboard suite records its published settings, and
a leaderboard with a model that cannot load fails only that model's cells and retries only them."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

import workbench
from workbench import suites
from workbench.api import EvalResult
from workbench.errors import WorkbenchError
from workbench.leaderboards import Failed, Leaderboard
from workbench.store import Store
from workbench.tasks import suites as defined

from .conftest import needs_mirror, needs_model

OPEN_LLM = [
    ("arc_challenge", 25, "acc_norm"),
    ("hellaswag", 10, "acc_norm"),
    ("mmlu", 5, "acc_subject_mean"),
    ("truthfulqa_mc2", 0, "acc"),
    ("winogrande", 5, "acc"),
    ("gsm8k", 5, "exact_match_strict"),
]


def test_the_open_llm_leaderboard_suite_has_the_published_settings():
    suite = defined.find("open_llm_leaderboard")
    assert suite is not None and suite.fixed
    assert [(m.task, m.shots, m.metric) for m in suite.members] == OPEN_LLM
    assert [m.task for m in defined.find("arc").members] == ["arc_easy", "arc_challenge"]
    assert [m.task for m in defined.find("truthfulqa").members] == ["truthfulqa_mc1", "truthfulqa_mc2"]
    assert len(defined.find("kobest").members) == 5
    assert [(m.task, m.shots, m.metric) for m in defined.find("ko_knowledge").members] == [
        ("kmmlu", 0, "acc"),
        ("haerae", 0, "acc"),
    ]
    horangi = defined.find("horangi")
    assert {(m.shots, m.mode, m.metric) for m in horangi.members} == {(0, "generate", "exact_match")}


def test_groups_and_suites_are_listed_and_fit_a_terminal():
    table = workbench.list_suites()
    assert {"arc", "truthfulqa", "kobest", "open_llm_leaderboard", "ko_knowledge", "horangi"} <= set(table["name"])
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "tasks"], capture_output=True, text=True, check=True)
    assert "open_llm_leaderboard" in out.stdout and "hellaswag (10-shot, acc_norm)" in out.stdout
    assert max(len(line) for line in out.stdout.splitlines()) <= 100


def test_unknown_suite_suggests_the_nearest_name():
    with pytest.raises(WorkbenchError, match=r"Unknown task 'open_llm_leaderbord'.*'open_llm_leaderboard'"):
        workbench.evaluate("open_llm_leaderbord")
    with pytest.raises(WorkbenchError, match=r"'arc'"):
        workbench.leaderboard("arcc", models=["smollm2-135m"])


def test_a_suite_refuses_settings_it_fixes_and_a_group_takes_them():
    with pytest.raises(WorkbenchError, match="published settings.*--shots cannot change them"):
        workbench.evaluate("open_llm_leaderboard", shots=3)
    with pytest.raises(WorkbenchError, match="--mode both compares one task"):
        workbench.evaluate("arc", mode="both")
    settings = suites.member_settings(defined.find("arc"), 3, "generate")
    assert [(m.task, s, mode) for m, s, mode in settings] == [
        ("arc_easy", 3, "generate"),
        ("arc_challenge", 3, "generate"),
    ]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: workbench.evaluate("arc", limit=0), "--limit must be a whole number of at least 1"),
        (lambda: workbench.leaderboard("arc", models=[]), "Empty model name|Name the models"),
        (lambda: workbench.evaluate("arc", model="smollm2-135m,,x"), "Empty model name"),
        (lambda: workbench.evaluate("arc", model="a,a"), "named twice"),
        (lambda: workbench.leaderboard("arc"), "Name the models"),
        (lambda: workbench.leaderboard("arc", models=["smollm2-135m"], limit=0), "--limit must be"),
        (lambda: workbench.evaluate("arc", data="rows.jsonl"), "data= applies to one task"),
        (lambda: workbench.leaderboard(run_ids="abc"), "list of run ids"),
    ],
)
def test_bad_input_is_refused_with_the_fix(call, message):
    with pytest.raises(WorkbenchError, match=message):
        call()


def test_define_suite_validates_and_runs_like_a_built_in():
    with pytest.raises(WorkbenchError, match="already a task"):
        workbench.define_suite("arc_easy", [("hellaswag", 0, "acc")])
    with pytest.raises(WorkbenchError, match="already a built-in suite"):
        workbench.define_suite("arc", [("hellaswag", 0, "acc")])
    with pytest.raises(WorkbenchError, match=r"Unknown task 'helaswag'.*'hellaswag'"):
        workbench.define_suite("mine", [("helaswag", 0, "acc")])
    with pytest.raises(WorkbenchError, match=r"no metric 'accnorm'.*'acc_norm'"):
        workbench.define_suite("mine", [("hellaswag", 0, "accnorm")])
    with pytest.raises(WorkbenchError, match="once in a suite"):
        workbench.define_suite("mine", [("hellaswag", 0), ("hellaswag", 10)])
    try:
        suite = workbench.define_suite("mine_test", [("arc_easy", 0, "acc"), "hellaswag"])
        assert [m.describe() for m in suite.members] == ["arc_easy (0-shot, acc)", "hellaswag"]
        assert "mine_test" in set(workbench.list_suites()["name"])
        with pytest.raises(WorkbenchError, match="replace=True"):
            workbench.define_suite("mine_test", ["arc_easy"])
        assert workbench.define_suite("mine_test", ["arc_easy"], replace=True).members[0].task == "arc_easy"
    finally:
        defined.SUITES.pop("mine_test", None)


def test_the_headline_is_the_plain_mean_with_combined_errors():
    head = suites.combined([(0.5, 0.1), (0.7, 0.2)])
    assert head["value"] == pytest.approx(0.6)
    assert head["stderr"] == pytest.approx(math.sqrt(0.01 + 0.04) / 2)
    assert head["ci95_low"] == pytest.approx(0.6 - 1.959964 * head["stderr"], abs=1e-5)


def _result(model, task, acc, stderr, n=100):
    metrics = {"acc": acc, "acc_stderr": stderr, "acc_ci95": [acc - 1.96 * stderr, acc + 1.96 * stderr], "n": n}
    return EvalResult(f"{model}-{task}", task, model, metrics, 1.0, Store().path)


def test_ranks_tie_where_intervals_overlap_and_failed_cells_have_no_headline():
    suite = defined.Suite("pair", (defined.Member("arc_easy"), defined.Member("arc_challenge")), "two")
    board = Leaderboard(suite, ["strong", "close", "weak", "broken"])
    for model, acc in (("strong", 0.80), ("close", 0.78), ("weak", 0.30)):
        board.runs[(model, "arc_easy")] = _result(model, "arc_easy", acc, 0.02)
        board.runs[(model, "arc_challenge")] = _result(model, "arc_challenge", acc - 0.1, 0.02)
    board.runs[("broken", "arc_easy")] = _result("broken", "arc_easy", 0.9, 0.02)
    board.runs[("broken", "arc_challenge")] = Failed("out of memory")
    heads = board.headlines().set_index("model")
    assert heads.loc["strong", "rank"] == 1 and heads.loc["close", "rank"] == 1  # intervals overlap: a tie
    assert heads.loc["weak", "rank"] == 3 and math.isnan(heads.loc["broken", "value"])
    table = board.table()
    assert list(table["model"]) == ["strong", "close", "weak", "broken"]
    assert list(table["rank"]) == ["=1", "=1", "3", ""]
    assert table.loc[3, "arc_challenge acc"] == "failed: out of memory"
    assert list(board.table(sort="arc_easy")["model"])[0] == "broken"
    assert list(board.failed()["model"]) == ["broken"]
    assert "1 cell(s) failed" in str(board) and "<script>" not in board._repr_html_()
    assert len(board.figure().data) == 4 and board.heatmap().data[0].z[3][1] is None
    view = board.view()  # the notebook's table, re-sorted by a drop-down
    assert view.children[1].value.index("strong") < view.children[1].value.index("broken")
    view.children[0].value = "arc_easy"
    assert view.children[1].value.index("broken") < view.children[1].value.index("strong")


@pytest.mark.integration
@needs_mirror
@needs_model
def test_a_group_equals_its_members_run_alone_and_a_rerun_reuses_them(tmp_path):
    group = workbench.evaluate("arc", limit=3, store=tmp_path / "group.sqlite")
    assert isinstance(group, workbench.SuiteResult) and set(group.runs) == {"arc_easy", "arc_challenge"}
    for task, run in group.runs.items():
        alone = workbench.evaluate(task, limit=3, store=tmp_path / f"{task}.sqlite")
        assert {k: v for k, v in alone.metrics.items()} == run.metrics
        assert list(alone.samples["pred"]) == list(run.samples["pred"])
    table = group.table()
    head = table[table["metric"] == "headline"].iloc[0]
    assert head["value"] == pytest.approx(
        (group.runs["arc_easy"].metrics["acc"] + group.runs["arc_challenge"].metrics["acc"]) / 2
    )
    again = workbench.evaluate("arc", limit=3, store=tmp_path / "group.sqlite")
    assert {t: r.run_id for t, r in again.runs.items()} == {t: r.run_id for t, r in group.runs.items()}
    assert len(Store(tmp_path / "group.sqlite").runs()) == 2  # nothing ran twice
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "workbench.cli",
            "eval",
            "arc",
            "--limit",
            "3",
            "--store",
            str(tmp_path / "group.sqlite"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "reusing complete run" in out.stdout and "headline" in out.stdout


@pytest.mark.integration
@needs_mirror
@needs_model
def test_the_open_llm_leaderboard_records_its_settings_in_each_run(tmp_path):
    """Every member runs with the leaderboard's shots; where the mirror lacks a few-shot split (HellaSwag's and
    WinoGrande's train splits are not in the shared mirror) that member fails with the fix named, the others go on."""
    board = workbench.leaderboard("open_llm_leaderboard", models=["smollm2-135m"], limit=1, store=tmp_path / "o.sqlite")
    db = Store(tmp_path / "o.sqlite")
    done = {}
    for task, shots, metric in OPEN_LLM:
        cell = board.runs[("smollm2-135m", task)]
        if isinstance(cell, Failed):
            assert "holds only" in cell.reason and "train split" in cell.reason, cell.reason
            continue
        run = db.run(cell.run_id)
        assert run["task"] == task and run["config"]["shots"] == shots and run["status"] == "complete"
        done[task] = run["metrics"][metric]
    assert {"arc_challenge", "mmlu", "truthfulqa_mc2", "gsm8k"} <= set(done)
    mmlu = board.runs[("smollm2-135m", "mmlu")].metrics
    assert mmlu["acc_subject_mean"] == pytest.approx(sum(s["acc"] for s in mmlu["subjects"].values()) / 57)
    if len(done) == len(OPEN_LLM):
        assert board.headlines()["value"][0] == pytest.approx(sum(done.values()) / len(done))
    else:
        with pytest.raises(WorkbenchError, match="members failed, so there is no headline.*reused"):
            workbench.evaluate("open_llm_leaderboard", limit=1, store=tmp_path / "o.sqlite")
        assert len(db.runs()) == len(done)  # the rerun reused every complete member


@pytest.mark.integration
@needs_mirror
@needs_model
def test_a_leaderboard_fails_only_the_broken_models_cells_and_retries_only_them(tmp_path, capsys):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)  # a file that is not a model: it fails to load
    store = tmp_path / "board.sqlite"
    board = workbench.leaderboard("arc", models=["smollm2-135m", str(broken)], limit=2, store=store)
    failed = board.failed()
    assert set(failed["model"]) == {str(broken)} and len(failed) == 2
    assert all(isinstance(board.runs[("smollm2-135m", t)], EvalResult) for t in ("arc_easy", "arc_challenge"))
    assert [r["status"] for r in Store(store).runs().to_dict("records")] == ["complete", "complete"]
    capsys.readouterr()
    again = workbench.evaluate("arc", model=f"smollm2-135m,{broken}", limit=2, store=store)
    out = capsys.readouterr().out
    assert out.count("reusing complete run") == 2 and len(again.failed()) == 2
    assert len(Store(store).runs()) == 2  # no run of the good model repeated, nothing half-made for the broken one
    rebuilt = workbench.leaderboard(
        run_ids=[r.run_id for r in board.runs.values() if isinstance(r, EvalResult)], store=store
    )
    assert (
        list(rebuilt.table()["model"]) == ["smollm2-135m"]
        and rebuilt.table()["headline"][0] == board.table()["headline"][0]
    )


@pytest.mark.integration
@needs_mirror
@needs_model
def test_horangi_scores_the_korean_tasks_by_the_generated_answer_zero_shot(tmp_path):
    # 8 tokens hold a label; the default cap lets a rambling 135M model write for a minute per item on a CPU
    result = workbench.evaluate("horangi", limit=2, max_new_tokens=8, store=tmp_path / "h.sqlite")
    db = Store(tmp_path / "h.sqlite")
    assert set(result.runs) == {f"kobest_{t}" for t in ("boolq", "copa", "hellaswag", "sentineg", "wic")}
    for run in result.runs.values():
        config = db.run(run.run_id)["config"]
        assert config["mode"] == "generate" and config["shots"] == 0 and config["max_new_tokens"] == 8
        assert "exact_match" in run.metrics and "extraction_failed" in run.metrics
    scores = [r.metrics["exact_match"] for r in result.runs.values()]
    assert result.headline()["value"] == pytest.approx(sum(scores) / 5)


@pytest.mark.integration
@needs_mirror
@needs_model
def test_horangi_with_a_judge_blends_the_two_halves_as_horangi_does(tmp_path):
    from .test_judge import ScriptedJudge

    judge = ScriptedJudge(lambda text: "Rating: [[7]]")
    result = workbench.evaluate("horangi", limit=1, max_new_tokens=8, judge=judge, store=tmp_path / "h.sqlite")
    assert result.judged is not None and result.judged.metrics["score"] == 7
    members = suites.combined(list(result.scores().values()))["value"]
    assert result.headline()["value"] == pytest.approx((members + 0.7) / 2)
    table = result.table()
    assert list(table["metric"])[-2:] == ["judge score / 10", "headline"]
    with pytest.raises(WorkbenchError, match="judge= applies to horangi"):
        workbench.evaluate("arc", limit=1, judge=judge)


def test_judge_applies_to_a_judged_suite_only():
    with pytest.raises(WorkbenchError, match="judge= applies to a suite"):
        workbench.evaluate("arc_easy", judge="openai:x")
    with pytest.raises(WorkbenchError, match="leave them out for a leaderboard"):
        workbench.evaluate("horangi", model="a,b", judge="openai:x")
