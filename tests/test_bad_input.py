"""Every bad input gets one clear message naming the fix, and no run is left looking complete."""

from __future__ import annotations

import json
import shutil

import pytest

import workbench
from workbench import cli
from workbench.errors import WorkbenchError
from workbench.store import Store

from .conftest import needs_mirror, needs_model

HUB_ROW = {"id": "a", "question": "q?", "choices": {"text": ["x", "y"], "label": ["A", "B"]}, "answerKey": "A"}


def no_complete_runs() -> bool:
    runs = Store().runs()
    return runs.empty or not (runs["status"] == "complete").any()


def test_unknown_task_suggests_the_nearest_names():
    with pytest.raises(WorkbenchError, match=r"Unknown task 'arc_esay'.*'arc_easy'"):
        workbench.evaluate("arc_esay", limit=1)
    assert no_complete_runs()


def test_unknown_model_lists_aliases_and_accepted_forms():
    with pytest.raises(WorkbenchError) as info:
        workbench.evaluate("arc_easy", model="smollm2-13m", limit=1, data=_user_file([HUB_ROW]))
    message = str(info.value)
    assert "smollm2-135m" in message and ".gguf" in message and "hub id" in message
    assert no_complete_runs()


@pytest.mark.parametrize("limit", [0, -3])
def test_non_positive_limit_is_refused(limit):
    with pytest.raises(WorkbenchError, match="--limit must be a whole number of at least 1"):
        workbench.evaluate("arc_easy", limit=limit)


def _user_file(rows, name="rows.jsonl"):
    with open(name, "w") as f:
        for row in rows:
            f.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return name


def test_malformed_jsonl_line_names_file_and_line():
    path = _user_file([HUB_ROW, '{"id": "b", "question": ', HUB_ROW])
    with pytest.raises(WorkbenchError, match=r"rows\.jsonl, line 2: not valid JSON"):
        workbench.evaluate("arc_easy", data=path)
    assert no_complete_runs()


def test_missing_column_names_it_and_lists_the_file_columns():
    row = {k: v for k, v in HUB_ROW.items() if k != "answerKey"}
    path = _user_file([row])
    with pytest.raises(WorkbenchError) as info:
        workbench.evaluate("arc_easy", data=path)
    message = str(info.value)
    assert "rows.jsonl, line 1" in message and "'answerKey'" in message and "choices, id, question" in message


def test_csv_with_a_ragged_line_names_the_line(tmp_path):
    (tmp_path / "rows.csv").write_text('id,question,choices,answerKey\na,q?,"{}",A\nb,q2?\n')
    with pytest.raises(WorkbenchError, match=r"rows\.csv, line 3"):
        workbench.evaluate("arc_easy", data="rows.csv")


def test_offline_without_a_mirror_says_how_to_point_at_one(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DATA_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(WorkbenchError, match=r"WORKBENCH_DATA_DIR.*data=") as info:
        workbench.evaluate("arc_easy", limit=1)
    assert "allenai/ai2_arc" in str(info.value)


@needs_mirror
def test_mirror_missing_a_file_names_it(tmp_path, monkeypatch):
    from .conftest import MIRROR

    broken = tmp_path / "mirror"
    shutil.copytree(MIRROR / "arc", broken / "arc")
    (broken / "arc" / "ARC-Easy" / "ARC-Easy-Test.jsonl").unlink()
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(broken))
    with pytest.raises(WorkbenchError, match=r"missing .*ARC-Easy-Test\.jsonl"):
        workbench.evaluate("arc_easy", limit=1)


@needs_mirror
@needs_model
def test_more_shots_than_the_train_split_holds():
    with pytest.raises(WorkbenchError, match=r"--shots 5000 is more than the 2251 examples.*at most 2251"):
        workbench.evaluate("arc_easy", limit=1, shots=5000)
    assert no_complete_runs()


def test_cli_reports_bad_input_in_one_line_and_exits_2(capsys):
    assert cli.main(["eval", "arc_esay", "--limit", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: Unknown task") and "Traceback" not in err


def test_magic_reports_bad_input_without_a_traceback(capsys):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    assert ip.run_line_magic("llm_eval", "arc_easy --limit 0") is None
    assert "--limit must be a whole number" in capsys.readouterr().err
