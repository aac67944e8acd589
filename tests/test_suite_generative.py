"""Generative (Horangi-style) scoring of multiple-choice tasks, mode selection, and the side-by-side views."""

from __future__ import annotations

import pandas as pd
import pytest

import workbench
from workbench.charts import mode_agreement
from workbench.errors import WorkbenchError
from workbench.models.base import GenerateResponse
from workbench.tables import mode_items, mode_table
from workbench.tasks import get_task
from workbench.tasks.generative import GenerativeChoiceTask, extract_label, for_mode, normalize_answer

ARC_DOC = {
    "id": "Q1",
    "question": "Which gas do plants take in?",
    "choices": {"text": ["Oxygen", "Carbon dioxide", "Helium"], "label": ["A", "B", "C"]},
    "answerKey": "B",
}


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("B", "B"),
        (" B\n", "B"),
        ("(C)", "C"),
        ("B. Carbon dioxide", "B"),
        ('"A"', "A"),
        ("Ｂ", "B"),  # full-width, NFKC
        ("I think so.\n정답: C", "C"),  # Horangi's final line
        ("Let me see.\nAnswer: (A)", "A"),
        ("B\n\nQuestion: next one", "B"),  # only the first paragraph
        ("The answer is B", None),
        ("A man would say so.", None),  # a word, not a label
        ("E", None),  # not one of the options
        ("", None),
    ],
)
def test_the_label_is_extracted_or_the_answer_counts_as_failed(text, label):
    assert extract_label(text, ["A", "B", "C", "D"]) == label


def test_answers_are_normalised_nfkc_first_paragraph_without_quotes():
    assert normalize_answer(" “Ｂ” \n\nmore") == "B"


def test_generative_prompt_lists_labelled_options_after_the_question_and_instruction():
    task = for_mode(get_task("arc_easy"), "generate")
    [item] = task.build_items([ARC_DOC], [], 0)
    assert item.prompt == (
        "Answer the following multiple-choice question. Reply with the letter of the correct option only.\n\n"
        "Question: Which gas do plants take in?\nA. Oxygen\nB. Carbon dioxide\nC. Helium\nAnswer:"
    )
    [request] = item.requests
    assert request.prompt == item.prompt and request.temperature == 0.0 and request.max_new_tokens == 32
    record = task.score(item, [GenerateResponse(" B. Carbon dioxide")])
    assert record["extracted"] == "B" and record["pred"] == 1 and record["exact_match"] == 1.0
    assert record["raw"] == " B. Carbon dioxide" and record["extraction_failed"] == 0.0
    failed = task.score(item, [GenerateResponse("Plants breathe.")])
    assert failed["pred"] == -1 and failed["exact_match"] == 0.0 and failed["extraction_failed"] == 1.0
    metrics = task.aggregate([record, failed])
    assert metrics["exact_match"] == 0.5 and metrics["extraction_failed"] == 0.5 and metrics["n"] == 2


def test_chat_mode_sends_one_user_message_without_the_answer_cue():
    task = for_mode(get_task("kobest_sentineg"), "generate", chat=True)
    [item] = task.build_items([{"sentence": "별로예요", "label": 0}], [], 0)
    [request] = item.requests
    assert request.prompt == [{"role": "user", "content": item.prompt}] and request.stop == ()
    assert item.prompt.startswith("문장의 감정이 긍정인지 부정인지 고르세요.")
    assert item.prompt.endswith("문장: 별로예요\nA. 부정\nB. 긍정")
    assert "[generate, chat template]" in task.template


def test_truthfulqa_options_are_shuffled_per_item_so_the_true_answer_is_not_always_a():
    task = for_mode(get_task("truthfulqa_mc1"), "generate")
    docs = [
        {
            "question": f"Q{i}?",
            "mc1_targets": {"choices": ["true", "f1", "f2", "f3"], "labels": [1, 0, 0, 0]},
            "mc2_targets": {"choices": ["true", "f1"], "labels": [1, 0]},
        }
        for i in range(12)
    ]
    items = task.build_items(docs, [], 0)
    records = [task.score(item, [GenerateResponse("A")]) for item in items]
    assert len({r["gold_label"] for r in records}) > 1
    assert all((r["exact_match"] == 1.0) == (r["gold_label"] == "A") for r in records)
    assert [i.prompt for i in task.build_items(docs, [], 0)] == [i.prompt for i in items]  # deterministic


def test_truthfulqa_mc2_counts_any_true_answer_as_correct():
    task = for_mode(get_task("truthfulqa_mc2"), "generate")
    doc = {
        "question": "Q?",
        "mc1_targets": {"choices": ["t"], "labels": [1]},
        "mc2_targets": {"choices": ["t1", "t2", "f"], "labels": [1, 1, 0]},
    }
    [item] = task.build_items([doc], [], 0)
    record = task.score(item, [GenerateResponse(item.prompt.split("\n")[3][0])])  # the label listed second
    assert record["gold"] == [0, 1] and record["exact_match"] == float(record["pred"] in (0, 1))


def test_modes_that_do_not_apply_are_refused_naming_the_fix():
    with pytest.raises(WorkbenchError, match=r"gsm8k has no answer choices to score by generate.*leave --mode out"):
        workbench.evaluate("gsm8k", mode="generate", limit=1)
    with pytest.raises(WorkbenchError, match=r"--chat applies to generated answers: add --mode generate"):
        workbench.evaluate("arc_easy", chat=True, limit=1)
    with pytest.raises(WorkbenchError, match=r"--mode generate scores zero-shot.*Leave --shots out"):
        workbench.evaluate("kobest_copa", mode="generate", shots=2, limit=1)
    with pytest.raises(WorkbenchError, match="gsm8k has no answer choices"):
        workbench.compare_modes("gsm8k", limit=1)
    assert isinstance(for_mode(get_task("mmlu"), "generate"), GenerativeChoiceTask)
    assert for_mode(get_task("gsm8k"), None, chat=True).chat


def _samples():
    ll = pd.DataFrame({"doc_id": [0, 1, 2, 3], "gold": [1, 0, 2, [0, 1]], "pred": [1, 0, 0, 1]})
    gen = pd.DataFrame(
        {
            "doc_id": [0, 1, 2, 3],
            "pred": [1, 2, -1, 0],
            "question": ["q0", "q1", "q2", "q3"],
            "options": [["a", "b", "c"]] * 4,
            "raw": ["B", "C", "<script>alert(1)</script>", "A"],
            "extracted": ["B", "C", None, "A"],
            "extraction_failed": [0.0, 0.0, 1.0, 0.0],
        }
    )
    return ll, gen


def test_mode_items_and_table_put_the_two_modes_side_by_side():
    items = mode_items(*_samples())
    assert list(items["agree"]) == [True, False, False, False]
    assert list(items["loglikelihood correct"]) == [True, True, False, True]
    assert list(items["generate correct"]) == [True, False, False, True]
    assert items.loc[3, "gold"] == "a | b" and items.loc[2, "generated answer"] == ""
    table = mode_table({"acc": 0.75, "n": 4}, {"exact_match": 0.5, "extraction_failed": 0.25, "n": 4}, items)
    rows = {(m, k): (v, n) for m, k, v, n in table[["mode", "measure", "value", "items"]].itertuples(index=False)}
    assert rows[("loglikelihood", "acc")][0] == 0.75 and rows[("generate", "extraction_failed")][0] == 0.25
    assert rows[("both", "same answer")] == (0.25, 1)
    assert rows[("both", "only loglikelihood correct")] == (0.25, 1) and rows[("both", "both wrong")] == (0.25, 1)
    assert "<script>" not in items.to_html() and "&lt;script&gt;" in items.to_html()


def test_agreement_chart_counts_the_outcomes_and_escapes_labels():
    fig = mode_agreement(mode_items(*_samples()), "<b>arc</b>")
    assert [t.name for t in fig.data] == [
        "both correct",
        "only loglikelihood correct",
        "only generate correct",
        "both wrong",
    ]
    assert [t.x[0] for t in fig.data] == [2, 1, 0, 1]
    assert "&lt;b&gt;arc&lt;/b&gt;" in fig.layout.title.text and "<b>" not in fig.layout.title.text
