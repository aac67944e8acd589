"""Mirror adapters of the benchmark suite: each original format gives hub-schema rows; broken files are named."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

import workbench
from workbench.data import fingerprint, load_rows
from workbench.data import hellaswag as hellaswag_data
from workbench.data import kobest as kobest_data
from workbench.data import mmlu as mmlu_data
from workbench.data import truthfulqa as truthfulqa_data
from workbench.data import winogrande as winogrande_data
from workbench.errors import WorkbenchError
from workbench.store import Store
from workbench.tasks import get_task

from .conftest import MIRROR, needs_mirror


def no_complete_runs() -> bool:
    runs = Store().runs()
    return runs.empty or not (runs["status"] == "complete").any()


# ---- each format -> hub rows (tiny fixtures) --------------------------------------------------------------
def test_hellaswag_text_items_become_hub_rows_whose_query_is_the_first_line(tmp_path):
    text = "Roof shingle removal: A man is on a roof. he\n3\ne0.\ne1.\ne2.\ne3.\nHealth: She sits.\n0\na\nb\nc\nd\n"
    rows = hellaswag_data.parse_text(text, tmp_path / "x.txt")
    assert rows[0] == {
        "activity_label": "Roof shingle removal",
        "ctx_a": "A man is on a roof. he",
        "ctx_b": "",
        "ctx": "A man is on a roof. he",
        "endings": ["e0.", "e1.", "e2.", "e3."],
        "label": "3",
    }
    task = get_task("hellaswag")
    assert task.doc_to_text(rows[0]) == "Roof shingle removal: A man is on a roof. he"
    assert task.doc_to_target(rows[1]) == 0


def test_hellaswag_text_cut_inside_an_item_is_refused_with_the_file_name(tmp_path):
    with pytest.raises(WorkbenchError, match=r"x\.txt is truncated or damaged \(7 lines"):
        hellaswag_data.parse_text("a: b\n1\nc\nd\ne\nf\ng: h\n", tmp_path / "x.txt")


def test_winogrande_partial_form_and_hub_form_give_the_same_row():
    partial = {
        "context_options": [
            "The cup fell off the table because the cup",
            "The cup fell off the table because the table",
        ],
        "continuation": "was too close to the edge.",
        "gold": 0,
    }
    hub = {
        "sentence": "The cup fell off the table because the _ was too close to the edge.",
        "option1": "cup",
        "option2": "table",
        "answer": "1",
    }
    assert winogrande_data.to_hub_row(partial) == winogrande_data.to_hub_row(hub) == hub
    task = get_task("winogrande")
    assert task.doc_to_choice(hub) == partial["context_options"]
    assert task.continuation(hub) == partial["continuation"]


def test_truthfulqa_original_answer_objects_become_hub_lists_in_file_order():
    original = {"question": "Q?", "mc1_targets": {"yes": 1, "no": 0}, "mc2_targets": {"yes": 1, "sure": 1, "no": 0}}
    hub = {
        "question": "Q?",
        "mc1_targets": {"choices": ["yes", "no"], "labels": [1, 0]},
        "mc2_targets": {"choices": ["yes", "sure", "no"], "labels": [1, 1, 0]},
    }
    assert truthfulqa_data.to_hub_row(original) == truthfulqa_data.to_hub_row(hub) == hub


def test_mmlu_csv_columns_and_hub_schema_give_the_same_row():
    csv_row = {"question": "2+2?", "A": "3", "B": "4", "C": "5", "D": "6", "answer": "B"}
    hub = {"question": "2+2?", "subject": "elementary_mathematics", "choices": ["3", "4", "5", "6"], "answer": 1}
    assert mmlu_data.to_hub_row(csv_row, "elementary_mathematics") == mmlu_data.to_hub_row(hub) == hub


def test_kobest_tsv_columns_map_to_hub_fields_with_mixed_case_answers():
    boolq = kobest_data.spec("boolq").normalize
    assert boolq({"ID": "1", "Text": "p", "Question": "q?", "Answer": "TRUE"}) == {
        "paragraph": "p",
        "question": "q?",
        "label": 1,
    }
    assert boolq({"paragraph": "p", "question": "q?", "label": 0})["label"] == 0
    copa = kobest_data.spec("copa").normalize
    row = {"ID": "1", "sentence": "s.", "question": "결과", "1": "a.", "2": "b.", "Answer": "2"}
    assert copa(row) == {"premise": "s.", "question": "결과", "alternative_1": "a.", "alternative_2": "b.", "label": 1}
    wic = kobest_data.spec("wic").normalize
    row = {"Target": "철", "SENTENCE1": "[철]에", "SENTENCE2": "[철]을", "ANSWER": "False"}
    assert wic(row) == {"word": "철", "context_1": "[철]에", "context_2": "[철]을", "label": 0}
    with pytest.raises(ValueError, match="True or False"):
        boolq({"Text": "p", "Question": "q", "Answer": "maybe"})


def test_a_user_file_for_an_mmlu_subject_reads_the_original_csv_columns(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("question,A,B,C,D,answer\nWhich bone?,femur,skull,rib,ulna,A\n")
    rows = load_rows(get_task("mmlu:anatomy").data, "test", path).rows
    assert rows == [
        {"question": "Which bone?", "subject": "anatomy", "choices": ["femur", "skull", "rib", "ulna"], "answer": 0}
    ]


# ---- the real mirror --------------------------------------------------------------------------------------
@needs_mirror
@pytest.mark.parametrize(
    "task",
    ["hellaswag", "mmlu", "truthfulqa_mc1", "winogrande", "gsm8k", "kobest_boolq", "kobest_copa", "kobest_hellaswag"]
    + ["kobest_sentineg", "kobest_wic", "mmlu:anatomy"],
)
def test_every_mirror_file_reads_in_full_in_the_hub_schema(task):
    spec = get_task(task)
    rows = load_rows(spec.data, spec.eval_split).rows
    assert len(rows) == spec.size
    assert all(set(spec.data.columns) <= set(row) for row in rows)
    assert [spec.data.normalize(r) for r in rows[:20]] == rows[:20]  # hub rows are a fixed point


@needs_mirror
def test_mirror_rows_match_the_counts_in_source_md():
    hellaswag = load_rows(hellaswag_data.SPEC, "validation").rows
    assert Counter(r["label"] for r in hellaswag) == {"0": 2515, "1": 2485, "2": 2584, "3": 2458}
    wino = load_rows(winogrande_data.SPEC, "validation").rows
    assert Counter(r["answer"] for r in wino) == {"1": 628, "2": 639}
    assert len(load_rows(mmlu_data.spec(None), "dev").rows) == 285
    assert len(load_rows(mmlu_data.spec(None), "validation").rows) == 1531
    assert len(load_rows(get_task("gsm8k").data, "train").rows) == 7473
    for name, subset in kobest_data.SUBSETS.items():
        assert len(load_rows(kobest_data.spec(name), "validation").rows) == subset.sizes["validation"]


@needs_mirror
def test_a_user_file_in_the_hub_schema_gives_the_mirror_fingerprint(tmp_path):
    spec = get_task("kobest_copa").data
    rows = load_rows(spec, "test").rows[:5]
    path = tmp_path / "copa.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    assert fingerprint(load_rows(spec, "test", path).rows) == fingerprint(rows)


# ---- a broken mirror: the file is named, nothing is marked complete ---------------------------------------
def _mirror_copy(tmp_path, monkeypatch, *folders):
    """A writable copy of some mirror folders, set as the mirror."""
    root = tmp_path / "mirror"
    for folder in folders:
        shutil.copytree(MIRROR / folder, root / folder, copy_function=shutil.copyfile)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(root))
    return root


@needs_mirror
def test_truncated_bz2_names_the_file(tmp_path, monkeypatch):
    root = _mirror_copy(tmp_path, monkeypatch, "hellaswag")
    path = root / hellaswag_data.FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WorkbenchError, match=r"hellaswag_val_full\.txt\.bz2 is truncated or damaged"):
        workbench.evaluate("hellaswag", limit=1)
    assert no_complete_runs()


@needs_mirror
def test_mmlu_csv_cut_mid_line_names_file_and_line(tmp_path, monkeypatch):
    root = _mirror_copy(tmp_path, monkeypatch, "mmlu")
    path = root / "mmlu" / "test" / "anatomy_test.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\n", 2000) - 30], encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"anatomy_test\.csv, line \d+: expected 6 fields"):
        workbench.evaluate("mmlu:anatomy", limit=1)
    assert no_complete_runs()


@needs_mirror
def test_a_file_missing_its_last_rows_is_refused_as_truncated(tmp_path, monkeypatch):
    root = _mirror_copy(tmp_path, monkeypatch, "kobest", "truthfulqa")
    path = root / "kobest" / "COPA" / "test.tsv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-3]), encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"COPA/test\.tsv holds 997 items, but the original file has 1000"):
        workbench.evaluate("kobest_copa", limit=1)
    mc = root / truthfulqa_data.FILE
    mc.write_text(mc.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    with pytest.raises(WorkbenchError, match=r"v1/mc_task\.json is truncated or damaged \(not valid JSON"):
        workbench.evaluate("truthfulqa_mc2", limit=1)
    assert no_complete_runs()


@needs_mirror
def test_missing_files_and_splits_are_named(tmp_path, monkeypatch):
    root = _mirror_copy(tmp_path, monkeypatch, "gsm8k", "winogrande")
    (root / "gsm8k" / "train.jsonl").unlink()
    with pytest.raises(WorkbenchError, match=r"missing .*gsm8k/train\.jsonl \(GSM8K train split\)"):
        workbench.evaluate("gsm8k", limit=1)  # 5-shot by default: examples come from train
    with pytest.raises(WorkbenchError, match=r"only the validation \(dev\) split of WinoGrande, not its train split"):
        workbench.evaluate("winogrande", limit=1, shots=1)
    assert no_complete_runs()
