"""ARC rows and prompts: both file forms give identical rows, prompts and few-shot draws as the harness."""

from __future__ import annotations

import json
import random

import pytest

from workbench.data import fingerprint
from workbench.data.arc import to_hub_row
from workbench.tasks import get_task

ORIGINAL = {
    "id": "Q1",
    "question": {
        "stem": "Which gas do plants take in?",
        "choices": [{"text": "Oxygen", "label": "A"}, {"text": "Carbon dioxide", "label": "B"}],
    },
    "answerKey": "B",
}
HUB = {
    "id": "Q1",
    "question": "Which gas do plants take in?",
    "choices": {"text": ["Oxygen", "Carbon dioxide"], "label": ["A", "B"]},
    "answerKey": "B",
}


def test_both_arc_forms_give_the_same_row_and_fingerprint():
    assert to_hub_row(ORIGINAL) == to_hub_row(HUB) == HUB
    assert fingerprint([to_hub_row(ORIGINAL)]) == fingerprint([to_hub_row(HUB)])


def test_choices_serialised_as_json_in_a_csv_cell_are_read():
    row = dict(HUB, choices=json.dumps(HUB["choices"]))
    assert to_hub_row(row) == HUB


def test_zero_shot_prompt_and_continuations_follow_the_harness():
    task = get_task("arc_easy")
    [item] = task.build_items([HUB], [], shots=0)
    assert item.prompt == "Question: Which gas do plants take in?\nAnswer:"
    assert [(r.context, r.continuation) for r in item.requests] == [
        (item.prompt, " Oxygen"),
        (item.prompt, " Carbon dioxide"),
    ]
    assert task.doc_to_target(HUB) == 1


def test_numeric_labels_map_answer_key_to_index():
    doc = dict(HUB, choices={"text": ["a", "b", "c"], "label": ["1", "2", "3"]}, answerKey="3")
    assert get_task("arc_challenge").doc_to_target(doc) == 2


def test_few_shot_examples_drawn_with_random_1234_in_document_order():
    task = get_task("arc_easy")
    pool = [dict(HUB, id=f"P{i}", question=f"Pool question {i}?") for i in range(10)]
    docs = [dict(HUB, id=f"D{i}", question=f"Test question {i}?") for i in range(3)]
    items = task.build_items(docs, pool, shots=2)
    rnd = random.Random(1234)
    for item, doc in zip(items, docs):
        shots = rnd.sample(pool, 2)
        expected = "".join(f"Question: {s['question']}\nAnswer: Carbon dioxide\n\n" for s in shots)
        assert item.prompt == expected + f"Question: {doc['question']}\nAnswer:"


def test_asking_for_more_shots_than_the_pool_holds_names_the_limit():
    with pytest.raises(Exception, match="at most 1"):
        get_task("arc_easy").build_items([HUB], [HUB], shots=2)
