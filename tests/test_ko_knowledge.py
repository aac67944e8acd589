"""KMMLU and HAE-RAE Bench as lm-evaluation-harness 0.4.13's default tasks define them: rows in the hub schema
(written to temporary files, Korean text) -> prompts, continuations, gold, few-shot context, group metrics."""

from __future__ import annotations

import glob
import json
import math
import random
from pathlib import Path

import pytest

import workbench
from workbench.data import haerae as haerae_data
from workbench.data import kmmlu as kmmlu_data
from workbench.data import load_rows
from workbench.errors import WorkbenchError
from workbench.tasks import MultipleChoiceTask, get_task

from .conftest import needs_model

# ---- rows in the hub schema ---------------------------------------------------------------------------------
HISTORY_TEST = [
    {"question": " 조선을 건국한 인물은? ", "answer": 2, "A": "왕건", "B": "이성계", "C": "궁예", "D": "견훤",
     "Category": "HUMSS", "Human Accuracy": 0.81},
    {"question": "훈민정음을 반포한 왕은?", "answer": 3, "A": "태조", "B": "태종", "C": "세종", "D": "세조",
     "Category": "HUMSS", "Human Accuracy": 0.92},
    {"question": "임진왜란이 일어난 해는?", "answer": 1, "A": "1592년", "B": "1636년", "C": "1876년", "D": "1910년",
     "Category": "HUMSS", "Human Accuracy": 0.77},
]  # fmt: skip
HISTORY_DEV = [
    {"question": f"개발용 문제 {i}번: 고려의 수도는?", "answer": 1 + i % 4, "A": "개경", "B": "한양", "C": "경주",
     "D": "평양", "Category": "HUMSS", "Human Accuracy": 0.5}
    for i in range(5)
]  # fmt: skip
MATH_TEST = [
    {"question": "2 + 3 = ?", "answer": 4, "A": 3, "B": 4, "C": 6, "D": 5, "Category": "STEM", "Human Accuracy": 0.9},
    {"question": "7 × 6 = ?", "answer": 2, "A": 40, "B": 42, "C": 44, "D": 48, "Category": "STEM",
     "Human Accuracy": 0.9},
]  # fmt: skip


def haerae_query(question: str, options: list[str]) -> str:
    listed = "\n".join(f"({'ABCDE'[i]}) {o}" for i, o in enumerate(options))
    return (
        "다음 질문을 읽고 정답으로 가장 알맞은 것을 고르시요.\n\n"
        f"### 질문: \n{question}\n\n### 선택지: \n{listed}\n\n### 정답:"
    )


def haerae_row(question: str, options: list[str], answer: str) -> dict:
    return {"query": haerae_query(question, options), "answer": answer, "options": str(options)}


LOAN_WORDS = [
    haerae_row("언택트의 순화어로 알맞은 것은?", ["비전속", "부대기", "기대주", "상대방", "비대면"], "(E)"),
    haerae_row("팝업 창의 순화어로 알맞은 것은?", ["알림창", "대화창", "반짝창", "새창", "쪽창"], "(C)"),
    haerae_row("스크린도어의 순화어로 알맞은 것은?", ["안전문", "출입문", "유리문", "방풍문", "차단문"], "(A)"),
    haerae_row("로드맵의 순화어로 알맞은 것은?", ["청사진", "단계별 이행안", "이정표", "지도", "계획서"], "(B)"),
]
HISTORY_Q = [
    haerae_row("고구려를 세운 인물은?", ["온조", "주몽", "박혁거세", "김수로", "대조영"], "(B)"),
    haerae_row("발해를 세운 인물은?", ["대조영", "궁예", "견훤", "왕건", "주몽"], "(A)"),
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def items(task_name: str, file: Path, limit: int | None = None, pool: list | None = None, shots: int = 0):
    task = get_task(task_name)
    docs = task.select_docs(load_rows(task.data, task.eval_split, file).rows, limit)
    return task, task.build_items(docs, pool or [], shots)


# ---- KMMLU ------------------------------------------------------------------------------------------------
def test_kmmlu_subject_prompt_choices_and_gold_are_the_harness_default_task(tmp_path):
    task, built = items("kmmlu:korean_history", write_jsonl(tmp_path / "h.jsonl", HISTORY_TEST))
    first = built[0]
    assert (
        first.prompt == "조선을 건국한 인물은?\nA. 왕건\nB. 이성계\nC. 궁예\nD. 견훤\n정답："
    )  # question stripped, U+FF1A
    assert [(r.context, r.continuation) for r in first.requests] == [(first.prompt, f" {x}") for x in "ABCD"]
    assert [task.doc_to_target(i.doc) for i in built] == [1, 2, 0]  # answer - 1
    assert task.metrics == ("acc",) and task.fewshot_split == "dev" and task.default_shots == 0
    assert task.data.hub_path == "HAERAE-HUB/KMMLU" and task.data.hub_name == "Korean-History"


def test_kmmlu_numeric_options_print_as_the_hub_loader_gives_them(tmp_path):
    _, built = items("kmmlu:math", write_jsonl(tmp_path / "m.jsonl", MATH_TEST))
    assert built[0].prompt == "2 + 3 = ?\nA. 3\nB. 4\nC. 6\nD. 5\n정답："


def test_kmmlu_csv_mirror_reads_the_hub_files(tmp_path, monkeypatch):
    import pandas as pd

    data = tmp_path / "mirror" / "kmmlu" / "data"
    data.mkdir(parents=True)
    pd.DataFrame(HISTORY_TEST).to_csv(data / "Korean-History-test.csv", index=False)
    pd.DataFrame(MATH_TEST).to_csv(data / "math-TEST.csv", index=False)  # the name's case does not matter
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "mirror"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    spec = kmmlu_data.spec(["korean_history", "math"])
    rows = load_rows(spec, "test").rows
    assert [r["subject"] for r in rows] == ["korean_history"] * 3 + ["math"] * 2
    assert rows[3]["A"] == "3" and rows[0]["answer"] == 2 and rows[0]["question"] == " 조선을 건국한 인물은? "
    with pytest.raises(WorkbenchError, match=r"missing .*kmmlu/data/Korean-History-dev\.csv.*KMMLU Korean-History dev"):
        load_rows(spec, "dev")


def test_kmmlu_mirror_takes_column_types_from_the_first_split_as_the_hub_loader_does(tmp_path, monkeypatch):
    """The hub's loader reads a config's splits in order (train, dev, test) and casts each to the first one's
    column types: an empty cell in a numeric column of train makes the test file's integers print as 5.0."""
    import pandas as pd

    data = tmp_path / "mirror" / "kmmlu" / "data"
    data.mkdir(parents=True)
    pd.DataFrame(MATH_TEST).to_csv(data / "Math-test.csv", index=False)
    pd.DataFrame([{**MATH_TEST[0], "D": None}]).to_csv(data / "Math-train.csv", index=False)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "mirror"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    task = get_task("kmmlu:math")
    assert isinstance(task, MultipleChoiceTask)
    docs = load_rows(task.data, "test").rows
    assert task.doc_to_text(docs[0]) == "2 + 3 = ?\nA. 3\nB. 4\nC. 6\nD. 5.0\n정답："
    assert load_rows(task.data, "train").rows[0]["D"] == "None"  # the harness's {{D}} of a missing value


def test_kmmlu_few_shot_context_is_drawn_per_subject_from_dev_with_seed_1234(tmp_path):
    pool = [kmmlu_data.to_row({**r, "subject": "korean_history"}, None) for r in HISTORY_DEV]
    task, built = items("kmmlu:korean_history", write_jsonl(tmp_path / "h.jsonl", HISTORY_TEST), pool=pool, shots=3)
    rnd = random.Random(1234)  # the harness's sampler: one generator per task, consumed in doc order
    for item in built:
        shown = rnd.sample(pool, 3)
        block = "".join(
            f"{str(d['question']).strip()}\nA. {d['A']}\nB. {d['B']}\nC. {d['C']}\nD. {d['D']}\n정답： "
            f"{'ABCD'[int(d['answer']) - 1]}\n\n"
            for d in shown
        )
        assert item.prompt == block + task.doc_to_text(item.doc)


def test_kmmlu_group_needs_a_subject_column_and_limits_each_subject(tmp_path):
    rows = [{**r, "subject": "Korean-History"} for r in HISTORY_TEST] + [{**r, "subject": "math"} for r in MATH_TEST]
    task, built = items("kmmlu", write_jsonl(tmp_path / "all.jsonl", rows), limit=2)
    assert [i.doc["subject"] for i in built] == ["korean_history", "korean_history", "math", "math"]
    stem_task, stem_items = items("kmmlu:stem", write_jsonl(tmp_path / "all2.jsonl", rows))
    assert [i.doc["subject"] for i in stem_items] == ["math", "math"]  # only the category's own subjects
    no_subject = write_jsonl(tmp_path / "bare.jsonl", HISTORY_TEST)
    with pytest.raises(WorkbenchError, match=r"bare\.jsonl, line 1: missing column 'subject'.*subject"):
        items("kmmlu", no_subject)
    bad = write_jsonl(tmp_path / "bad.jsonl", [{**HISTORY_TEST[0], "subject": "astrology"}])
    with pytest.raises(WorkbenchError, match=r"field 'subject': 'astrology' is not a KMMLU subject"):
        items("kmmlu", bad)
    wrong = write_jsonl(tmp_path / "wrong.jsonl", [{**HISTORY_TEST[0], "answer": 0}])
    with pytest.raises(WorkbenchError, match=r"wrong\.jsonl, line 1, field 'answer': 0; .*1 \(A\) to 4 \(D\)"):
        items("kmmlu:korean_history", wrong)


def test_kmmlu_group_metrics_are_size_weighted_with_pooled_stderr():
    from workbench.metrics.groups import pooled_stderr

    task = get_task("kmmlu")
    records = [{"subject": "korean_history", "acc": float(i % 2)} for i in range(6)]
    records += [{"subject": "math", "acc": 1.0}, {"subject": "math", "acc": 0.0}, {"subject": "math", "acc": 1.0}]
    m = task.aggregate(records)
    assert m["acc"] == pytest.approx(5 / 9)
    hist, math_ = m["subjects"]["korean_history"], m["subjects"]["math"]
    assert (hist["n"], math_["n"]) == (6, 3)
    se = [0.5 / math.sqrt(5) * math.sqrt(6 / 6), math.sqrt((2 / 3 * 1 / 3) * 3 / 2 / 3)]
    assert m["acc_stderr"] == pytest.approx(pooled_stderr(se, [6, 3]))
    assert m["acc_humss"] == pytest.approx(0.5) and m["acc_stem"] == pytest.approx(2 / 3)
    assert m["acc_subject_mean"] == pytest.approx((0.5 + 2 / 3) / 2)  # the paper's macro average


def test_kmmlu_names_and_sizes():
    listing = workbench.list_tasks().set_index("task")
    assert len([t for t in listing.index if t.startswith("kmmlu:")]) == 45 + 4
    assert listing.loc["kmmlu", "size"] == 35030 and listing.loc["kmmlu:math", "size"] == 300
    assert listing.loc["kmmlu:math", "hub dataset"] == "HAERAE-HUB/KMMLU/Math"
    assert listing.loc["kmmlu:math", "mirror"] == "kmmlu/data/Math-test.csv"
    assert listing.loc["haerae", "mirror"] == "haerae/data/*-test.csv"
    assert listing.loc["haerae_rare_word", "hub dataset"] == "HAERAE-HUB/HAE_RAE_BENCH/rare_words"
    assert listing.loc["haerae", "size"] == 1091 and listing.loc["haerae_history", "size"] == 188
    from workbench.tasks import kmmlu

    with pytest.raises(WorkbenchError, match=r"Unknown KMMLU subject 'korean_histroy'.*'kmmlu:korean_history'"):
        raise kmmlu.unknown("kmmlu:korean_histroy")


# ---- HAE-RAE Bench ------------------------------------------------------------------------------------------
def test_haerae_subset_prompt_choices_and_gold_are_the_harness_default_task(tmp_path):
    task, built = items("haerae_loan_word", write_jsonl(tmp_path / "lw.jsonl", LOAN_WORDS))
    assert built[0].prompt == LOAN_WORDS[0]["query"]
    assert [r.continuation for r in built[0].requests] == [" (A)", " (B)", " (C)", " (D)", " (E)"]
    assert [task.doc_to_target(i.doc) for i in built] == [4, 2, 0, 1]
    assert task.metrics == ("acc", "acc_norm") and task.fewshot_split == task.eval_split == "test"
    assert task.data.hub_path == "HAERAE-HUB/HAE_RAE_BENCH" and task.data.hub_name == "loan_words"
    assert task.doc_to_question(built[0].doc).endswith("언택트의 순화어로 알맞은 것은?")
    assert task.generation_options(built[0].doc) == ["비전속", "부대기", "기대주", "상대방", "비대면"]


def test_haerae_few_shot_comes_from_test_without_the_item_itself(tmp_path):
    path = write_jsonl(tmp_path / "lw.jsonl", LOAN_WORDS)
    task = get_task("haerae_loan_word")
    pool = load_rows(task.data, "test", path).rows
    _, built = items("haerae_loan_word", path, pool=pool, shots=2)
    rnd = random.Random(1234)
    for item in built:
        shown = [d for d in rnd.sample(pool, 3) if d != item.doc][:2]
        block = "".join(f"{d['query']} {d['answer']}\n\n" for d in shown)
        assert item.prompt == block + item.doc["query"]
    with pytest.raises(WorkbenchError, match=r"--shots 4 needs 5 test items .*loan_words.*it has 4\. Use at most 3"):
        items("haerae_loan_word", path, pool=pool, shots=4)


def test_haerae_group_reads_a_subset_column_and_weights_by_size(tmp_path):
    rows = [{**r, "subset": "loan_words"} for r in LOAN_WORDS] + [{**r, "subset": "haerae_history"} for r in HISTORY_Q]
    task, built = items("haerae", write_jsonl(tmp_path / "all.jsonl", rows), limit=3)
    assert [i.doc["subset"] for i in built] == ["loan_words"] * 3 + ["history"] * 2
    records = [{"subset": "loan_words", "acc": 1.0, "acc_norm": 1.0}] * 3 + [
        {"subset": "history", "acc": 0.0, "acc_norm": 0.0}
    ]
    m = task.aggregate(records)
    assert m["acc"] == m["acc_norm"] == pytest.approx(0.75)
    assert m["subsets"] == {"history": {"n": 1, "acc": 0.0, "acc_norm": 0.0}, "loan_words": {"n": 3, "acc": 1.0,
                                                                                          "acc_norm": 1.0}}  # fmt: skip
    with pytest.raises(WorkbenchError, match=r"line 1: missing column 'subset'"):
        items("haerae", write_jsonl(tmp_path / "bare.jsonl", LOAN_WORDS))
    with pytest.raises(WorkbenchError, match=r"field 'answer': '\(F\)'; .*\(A\) to \(E\)"):
        items("haerae_history", write_jsonl(tmp_path / "f.jsonl", [{**HISTORY_Q[0], "answer": "(F)"}]))


def test_haerae_mirror_layout(tmp_path, monkeypatch):
    import pandas as pd

    data = tmp_path / "mirror" / "haerae" / "data"
    data.mkdir(parents=True)
    pd.DataFrame(HISTORY_Q).to_csv(data / "history-test.csv", index=False)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "mirror"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    rows = load_rows(haerae_data.spec(["history"]), "test").rows
    assert rows[0]["query"] == HISTORY_Q[0]["query"] and rows[1]["options"][0] == "대조영"
    with pytest.raises(WorkbenchError, match=r"missing .*haerae/data/general_knowledge-test\.csv"):
        load_rows(haerae_data.spec(list(haerae_data.SUBSETS)), "test")


# ---- missing data ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("task", "hub"), [("haerae_history", "HAERAE-HUB/HAE_RAE_BENCH/history"), ("kmmlu:law", "HAERAE-HUB/KMMLU/Law")]
)
def test_offline_without_a_mirror_says_what_to_do(monkeypatch, task, hub):
    import datasets

    calls = []

    def offline(*args, **kwargs):  # never reach the network from a test
        calls.append(args)
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    monkeypatch.delenv("WORKBENCH_DATA_DIR", raising=False)
    with pytest.raises(WorkbenchError) as info:
        workbench.evaluate(task, limit=1)
    message = str(info.value)
    assert hub in message and "WORKBENCH_DATA_DIR" in message and "data=" in message
    assert calls and calls[0][:2] == tuple(hub.rsplit("/", 1))


# ---- against the installed harness's own YAML (when the side venv is here) ------------------------------------
HARNESS_TASKS = sorted(glob.glob("/work/lmeval-venv/lib/python3*/site-packages/lm_eval/tasks"))


@pytest.mark.skipif(not HARNESS_TASKS, reason="lm-evaluation-harness side venv not found")
def test_templates_render_as_the_harness_yaml_renders_them(tmp_path):
    jinja2 = pytest.importorskip("jinja2")
    yaml = pytest.importorskip("yaml")
    root = Path(HARNESS_TASKS[-1])
    env = jinja2.Environment(loader=jinja2.BaseLoader(), undefined=jinja2.StrictUndefined)
    cases = [
        ("kmmlu/default/_default_kmmlu_yaml", "kmmlu:korean_history", HISTORY_TEST),
        ("kmmlu/default/_default_kmmlu_yaml", "kmmlu:math", MATH_TEST),
        ("haerae/_default_haerae_yaml", "haerae_loan_word", LOAN_WORDS),
    ]
    for yaml_path, name, rows in cases:
        cfg = yaml.safe_load((root / yaml_path).read_text(encoding="utf-8"))
        task, built = items(name, write_jsonl(tmp_path / "rows.jsonl", rows))
        assert task.eval_split == cfg["test_split"] and task.fewshot_split == cfg["fewshot_split"]
        for raw, item in zip(rows, built):
            assert item.prompt == env.from_string(cfg["doc_to_text"]).render(**raw)
            assert [r.continuation for r in item.requests] == [" " + c for c in cfg["doc_to_choice"]]
            target = env.from_string(cfg["doc_to_target"]).render(**raw)
            gold = int(target) if target.isdigit() else cfg["doc_to_choice"].index(target)
            assert task.doc_to_target(item.doc) == gold
        assert list(task.metrics) == [m["metric"] for m in cfg["metric_list"]]


# ---- a model ------------------------------------------------------------------------------------------------
@pytest.mark.integration
@needs_model
def test_haerae_and_kmmlu_evaluate_with_the_default_model(tmp_path):
    rows = [{**r, "subset": "loan_words"} for r in LOAN_WORDS] + [{**r, "subset": "history"} for r in HISTORY_Q]
    r = workbench.evaluate("haerae", model="smollm2-135m", data=write_jsonl(tmp_path / "h.jsonl", rows), limit=4)
    assert r.metrics["n"] == 6 and all(math.isfinite(r.metrics[k]) for k in ("acc", "acc_norm", "acc_stderr"))
    k = workbench.evaluate("kmmlu:korean_history", data=write_jsonl(tmp_path / "k.jsonl", HISTORY_TEST), limit=4)
    assert k.metrics["n"] == 3 and math.isfinite(k.metrics["acc"])
    assert len(k.samples) == 3 and set(k.samples["subject"]) == {"korean_history"}


# ---- the groups from the hub: one config per subject or subset, read in turn ---------------------------------
def test_a_group_reads_each_of_its_hub_configs_and_names_the_rows_by_them(monkeypatch):
    """The hub holds KMMLU and HAE-RAE as one config per subject / subset; a group reads each config in turn,
    each row named by its config (the hub's rows carry no subject). Here the hub is a dict of rows per config."""
    import datasets

    from workbench.data import haerae as haerae_data
    from workbench.data import kmmlu as kmmlu_data

    hub = {
        ("HAERAE-HUB/KMMLU", "Korean-History", "test"): HISTORY_TEST,
        ("HAERAE-HUB/KMMLU", "Math", "test"): MATH_TEST,
        ("HAERAE-HUB/HAE_RAE_BENCH", "loan_words", "test"): LOAN_WORDS,
        ("HAERAE-HUB/HAE_RAE_BENCH", "history", "test"): HISTORY_Q,
    }
    asked = []

    def served(path, name, split):
        asked.append(name)
        return hub[(path, name, split)]

    monkeypatch.setattr(datasets, "load_dataset", served)
    monkeypatch.delenv("WORKBENCH_DATA_DIR", raising=False)
    rows = load_rows(kmmlu_data.spec(["korean_history", "math"]), "test")
    assert asked == ["Korean-History", "Math"] and rows.source == "hub:HAERAE-HUB/KMMLU/2 configs:test"
    assert [r["subject"] for r in rows.rows] == ["korean_history"] * 3 + ["math"] * 2
    assert rows.rows[3]["D"] == "5"
    subsets = load_rows(haerae_data.spec(["loan_words", "history"]), "test").rows
    assert [r["subset"] for r in subsets] == ["loan_words"] * 4 + ["history"] * 2
    assert subsets[4]["query"] == HISTORY_Q[0]["query"]
