"""Prompts, few-shot draws, scoring and aggregation of the benchmark suite, as lm-evaluation-harness defines them."""

from __future__ import annotations

import math
import random

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.metrics.classification import macro_f1
from workbench.metrics.groups import pooled_stderr
from workbench.models.base import GenerateResponse, LoglikelihoodResponse
from workbench.tasks import get_task
from workbench.tasks.gsm8k import exact_match, extract_flexible, extract_strict
from workbench.tasks.hellaswag import preprocess
from workbench.tasks.truthfulqa import QA_PRIMER, true_mass


def lls(*values: float) -> list[LoglikelihoodResponse]:
    return [LoglikelihoodResponse(v, False, 1) for v in values]


# ---- hellaswag ------------------------------------------------------------------------------------------
def test_hellaswag_query_capitalises_ctx_b_and_cleans_wikihow_markers():
    doc = {
        "activity_label": "Home and Garden",
        "ctx_a": "[header] How to plant roses [title] Pick a spot.",
        "ctx_b": "you want SUN",
        "endings": ["[step] Dig a hole.", "Water  daily."],
        "label": "1",
    }
    task = get_task("hellaswag")
    assert task.doc_to_text(doc) == "Home and Garden: How to plant roses. Pick a spot. You want sun"
    assert task.doc_to_choice(doc) == [" Dig a hole.", "Water daily."]  # the harness keeps the marker's space
    assert preprocess("  a [title] b  ") == "a. b"
    [item] = task.build_items([doc], [], 0)
    assert [r.continuation for r in item.requests] == ["  Dig a hole.", " Water daily."]


def test_hellaswag_and_winogrande_draw_n_plus_one_examples_and_drop_the_doc():
    """The harness's sampler draws n + 1 when fewshot_split == test_split (both unset for these two tasks)."""
    task = get_task("hellaswag")
    pool = [
        {"activity_label": f"A{i}", "ctx_a": "c", "ctx_b": "", "endings": ["x", "y"], "label": "0"} for i in range(9)
    ]
    docs = [pool[3], dict(pool[0], activity_label="D")]
    items = task.build_items(docs, pool, 2)
    rnd = random.Random(1234)
    for item, doc in zip(items, docs):
        shown = [d for d in rnd.sample(pool, 3) if d != doc][:2]
        assert item.prompt == "".join(f"{d['activity_label']}: c x\n\n" for d in shown) + task.doc_to_text(doc)


# ---- mmlu -----------------------------------------------------------------------------------------------
def _mmlu(subject: str, i: int) -> dict:
    return {"question": f" Q{i}? ", "subject": subject, "choices": ["w", "x", "y", "z"], "answer": i % 4}


def test_mmlu_prompt_has_the_subject_description_and_the_first_dev_examples_of_that_subject():
    task = get_task("mmlu")
    pool = [_mmlu("anatomy", i) for i in range(5)] + [_mmlu("virology", i) for i in range(5)]
    [item] = task.build_items([_mmlu("virology", 7)], pool, 2)
    block = "Q{i}?\nA. w\nB. x\nC. y\nD. z\nAnswer:"
    assert item.prompt == (
        "The following are multiple choice questions (with answers) about virology.\n\n"
        + block.format(i=0)
        + " A\n\n"
        + block.format(i=1)
        + " B\n\n"
        + block.format(i=7)
    )
    assert [r.continuation for r in item.requests] == [" A", " B", " C", " D"]
    with pytest.raises(WorkbenchError, match="more than the 5 dev examples of MMLU's virology"):
        task.build_items([_mmlu("virology", 7)], pool, 6)


def test_mmlu_group_limit_takes_the_first_items_of_every_subject():
    docs = [_mmlu("anatomy", i) for i in range(4)] + [_mmlu("virology", i) for i in range(3)]
    picked = get_task("mmlu").select_docs(docs, 2)
    assert [(d["subject"], d["question"]) for d in picked] == [
        ("anatomy", " Q0? "),
        ("anatomy", " Q1? "),
        ("virology", " Q0? "),
        ("virology", " Q1? "),
    ]


def test_mmlu_group_metrics_are_size_weighted_with_the_pooled_stderr_and_categories():
    records = [{"subject": "anatomy", "acc": float(i < 3)} for i in range(4)]
    records += [{"subject": "virology", "acc": float(i < 1)} for i in range(2)]
    records += [{"subject": "philosophy", "acc": 1.0} for _ in range(3)]
    m = get_task("mmlu").aggregate(records)
    assert m["n"] == 9 and m["acc"] == pytest.approx(7 / 9)
    se_anatomy, se_virology = math.sqrt(0.25 / 4), math.sqrt(0.5 / 2)
    expected = math.sqrt((3 * 4 * se_anatomy**2 + 1 * 2 * se_virology**2 + 0) / (9 - 3) / 9)
    assert m["acc_stderr"] == pytest.approx(expected)
    assert m["acc_stem"] == pytest.approx(3 / 4)  # anatomy
    assert m["acc_other"] == pytest.approx(1 / 2)  # virology
    assert m["acc_humanities"] == 1.0 and "acc_social_sciences" not in m
    assert m["subjects"]["virology"] == {"n": 2, "acc": 0.5}
    assert pooled_stderr([se_anatomy], [4]) == pytest.approx(se_anatomy * math.sqrt(3 * 4 / 3 / 4))


def test_an_unknown_mmlu_subject_suggests_the_nearest():
    with pytest.raises(WorkbenchError, match=r"Unknown MMLU subject 'anatomyy'\. Did you mean 'mmlu:anatomy'"):
        workbench.evaluate("mmlu:anatomyy", limit=1)


# ---- truthfulqa -----------------------------------------------------------------------------------------
DOC_TQA = {
    "question": "Is the Earth flat?",
    "mc1_targets": {"choices": ["No.", "Yes."], "labels": [1, 0]},
    "mc2_targets": {"choices": ["No.", "It is round.", "Yes."], "labels": [1, 1, 0]},
}


def test_truthfulqa_prompt_is_the_fixed_six_pair_primer_then_the_question():
    task = get_task("truthfulqa_mc1")
    [item] = task.build_items([DOC_TQA], [], 0)
    assert item.prompt == QA_PRIMER + "\n\nQ: Is the Earth flat?\nA:"
    assert QA_PRIMER.count("Q: ") == 6 and QA_PRIMER.endswith("Barcelona, Spain.")
    assert [r.continuation for r in item.requests] == [" No.", " Yes."]
    assert task.score(item, lls(-1.0, -2.0))["acc"] == 1.0


def test_truthfulqa_mc2_is_the_normalised_probability_of_the_true_answers():
    task = get_task("truthfulqa_mc2")
    [item] = task.build_items([DOC_TQA], [], 0)
    record = task.score(item, lls(-1.0, -2.0, -0.5))
    p = [math.exp(-1.0), math.exp(-2.0), math.exp(-0.5)]
    assert record["acc"] == pytest.approx((p[0] + p[1]) / sum(p))
    assert record["gold"] == [0, 1] and record["pred"] == 2
    assert true_mass([-1000.0, -1001.0], [0, 1]) == pytest.approx(1 / (1 + math.e))  # no underflow


def test_truthfulqa_refuses_shots_because_its_examples_are_fixed():
    with pytest.raises(WorkbenchError, match=r"truthfulqa_mc1's prompt carries its own six example QA pairs.*--shots"):
        workbench.evaluate("truthfulqa_mc1", limit=1, shots=3)


# ---- winogrande -----------------------------------------------------------------------------------------
DOC_WG = {"sentence": "Ann gave Bo a gift because _ was kind.", "option1": "Ann", "option2": "Bo", "answer": "1"}


def test_winogrande_scores_one_continuation_after_each_filled_context():
    task = get_task("winogrande")
    shot = {"sentence": "The cat chased _ up the tree.", "option1": "Tom", "option2": "Ben", "answer": "2"}
    other = dict(shot, answer="1")
    [item] = task.build_items([DOC_WG], [shot, shot, other], 1)  # draws 2, keeps the first: shot
    prefix = "The cat chased Ben up the tree.\n\n"
    assert [(r.context, r.continuation) for r in item.requests] == [
        (prefix + "Ann gave Bo a gift because Ann", " was kind."),
        (prefix + "Ann gave Bo a gift because Bo", " was kind."),
    ]
    record = task.score(item, lls(-3.0, -5.0))
    assert record["gold"] == 0 and record["acc"] == 1.0


# ---- gsm8k ----------------------------------------------------------------------------------------------
def test_gsm8k_extractions_and_exact_match_follow_the_harness_filters():
    text = "She has 3 + 4 = 7 apples.\n#### 1,000.\nQuestion"
    assert extract_strict(text) == "1,000."
    assert extract_flexible(text) == "1,000."
    assert extract_flexible("costs $12.50 then 8 more") == "8"
    assert extract_flexible("total is $12.50") == "$12.50"
    assert extract_strict("the answer is 7") == "[invalid]"
    assert extract_flexible("no digits") == "[invalid]"
    reference = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs.\n#### 1000"
    assert exact_match("1,000.", reference) == 1.0
    assert exact_match("$1000", reference) == 1.0
    assert exact_match("100", reference) == 0.0


def test_gsm8k_is_five_shot_generation_with_the_harness_stop_sequences():
    task = get_task("gsm8k")
    pool = [{"question": f"q{i}", "answer": f"a{i}\n#### {i}"} for i in range(10)]
    doc = {"question": "How many?", "answer": "2+2=4\n#### 4"}
    [item] = task.build_items([doc], pool, task.default_shots)
    shown = random.Random(1234).sample(pool, 5)
    assert item.prompt == "".join(f"Question: {d['question']}\nAnswer: {d['answer']}\n\n" for d in shown) + (
        "Question: How many?\nAnswer:"
    )
    [request] = item.requests
    assert (request.max_new_tokens, request.temperature, request.stop) == (
        256,
        0.0,
        ("Question:", "</s>", "<|im_end|>"),
    )
    record = task.score(item, [GenerateResponse(" 2 + 2 = 4\n#### 4")])
    assert (record["strict"], record["exact_match_strict"], record["exact_match_flexible"]) == ("4", 1.0, 1.0)
    assert task.aggregate([record])["exact_match_strict"] == 1.0
    chat = task.with_chat().build_items([doc], pool, 0)[0].requests[0]
    assert chat.prompt == [{"role": "user", "content": "Question: How many?\nAnswer:"}]


# ---- kobest ---------------------------------------------------------------------------------------------
def test_kobest_prompts_are_the_harness_templates():
    cases = {
        "kobest_boolq": ({"paragraph": "문단.", "question": "맞나?", "label": 1}, "문단. 질문: 맞나? 답변: ", " 예"),
        "kobest_copa": (
            {
                "premise": "비가 왔다.",
                "question": "결과",
                "alternative_1": "젖었다.",
                "alternative_2": "말랐다.",
                "label": 0,
            },
            "비가 왔다.  그래서",
            " 젖었다.",
        ),
        "kobest_sentineg": ({"sentence": "좋아요", "label": 1}, "문장: 좋아요 긍부정:", " 긍정"),
        "kobest_wic": (
            {"word": "철", "context_1": "[철]에", "context_2": "[철]을", "label": 0},
            "문장1: [철]에 문장2: [철]을 두 문장에서 철가 같은 뜻으로 쓰였나?",
            " 아니오",
        ),
        "kobest_hellaswag": (
            {"context": "맥락.", **{f"ending_{i}": f"끝{i}." for i in range(1, 5)}, "label": 2},
            "문장: 맥락.",
            " 끝3.",
        ),
    }
    for name, (doc, prompt, gold) in cases.items():
        task = get_task(name)
        [item] = task.build_items([doc], [], 0)
        assert item.prompt == prompt, name
        assert item.requests[task.doc_to_target(doc)].continuation == gold, name


def test_kobest_copa_gold_is_found_by_the_correct_alternative_text():
    doc = {"premise": "p", "question": "원인", "alternative_1": "same", "alternative_2": "same", "label": 1}
    assert get_task("kobest_copa").doc_to_target(doc) == 0  # as the harness: choices.index(text)


def test_macro_f1_matches_sklearn_on_known_cases():
    assert macro_f1([(0, 0), (0, 1), (1, 1), (1, 1), (0, 0)]) == pytest.approx(0.8)  # sklearn: 0.8
    assert macro_f1([(0, 0), (0, -1), (1, 1), (1, 1), (0, 0)]) == pytest.approx(0.6)  # sklearn: 0.6
    assert macro_f1([(1, 1), (1, 1)]) == 1.0


def test_kobest_records_aggregate_to_acc_and_macro_f1_with_a_bootstrap_stderr():
    task = get_task("kobest_boolq")
    records = [{"gold": g, "pred": p, "acc": float(g == p)} for g, p in [(0, 0), (0, 1), (1, 1), (1, 1), (0, 0)]]
    m = task.aggregate(records)
    assert m["acc"] == pytest.approx(0.8) and m["f1"] == pytest.approx(0.8)
    assert 0 < m["f1_stderr"] < 0.5 and m["f1_ci95"][0] <= m["f1"] <= m["f1_ci95"][1]
    assert m == task.aggregate(records)  # the bootstrap is seeded
