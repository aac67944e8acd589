"""MT-Bench and Korean MT-Bench from the mirror: rows, references, per-category temperatures, both turns."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import workbench
from workbench.data import load_rows
from workbench.errors import WorkbenchError
from workbench.models.base import GenerateResponse
from workbench.tasks import get_task
from workbench.tasks.mt_bench import TEMPERATURE

from .conftest import MIRROR, needs_mirror, needs_model

pytestmark = needs_mirror


@pytest.mark.parametrize("name", ["mt_bench", "ko_mt_bench"])
def test_mirror_rows_and_references(name):
    task = get_task(name)
    rows = load_rows(task.data, task.eval_split).rows
    assert len(rows) == 80 and [r["question_id"] for r in rows] == list(range(81, 161))
    assert Counter(r["category"] for r in rows) == {c: 10 for c in TEMPERATURE}
    assert all(len(r["turns"]) == 2 for r in rows)
    by_id = {r["question_id"]: r for r in rows}
    gpt4 = {}
    for line in (MIRROR / name / "reference_answer" / "gpt-4.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        gpt4[record["question_id"]] = record["choices"][0]["turns"]
    assert len(gpt4) == 30 and all(by_id[q]["references"] == turns for q, turns in gpt4.items())
    assert {by_id[q]["category"] for q in gpt4} == {"math", "reasoning", "coding"}
    assert by_id[95]["references"] and by_id[81]["references"] == []  # the question's own reference field
    if name == "ko_mt_bench":
        assert task.language == "ko" and "하와이" in by_id[81]["turns"][0]


def test_requests_follow_the_reference_temperatures_and_carry_the_first_answer():
    task = get_task("mt_bench")
    rows = load_rows(task.data, task.eval_split).rows
    items = {i.doc["category"]: i for i in task.build_items(rows, [], 0)}
    # FastChat's gen_model_answer.py: creative categories sampled, factual ones near or fully greedy
    assert (TEMPERATURE["writing"], TEMPERATURE["roleplay"], TEMPERATURE["stem"], TEMPERATURE["humanities"]) == (
        0.7, 0.7, 0.1, 0.1,
    )  # fmt: skip
    assert {TEMPERATURE[c] for c in ("extraction", "math", "coding", "reasoning")} == {0.0} and len(items) == 8
    for category, item in items.items():
        (request,) = item.requests
        assert request.temperature == TEMPERATURE[category] and request.max_new_tokens == 1024
        assert (request.seed is not None) == (request.temperature > 0)
        assert request.prompt == [{"role": "user", "content": item.doc["turns"][0]}]
    writing = items["writing"]
    second = task.next_request(writing, ["First answer."])
    assert [m["role"] for m in second.prompt] == ["user", "assistant", "user"]
    assert second.prompt[1]["content"] == "First answer." and second.prompt[2]["content"] == writing.doc["turns"][1]
    assert task.next_request(writing, ["a", "b"]) is None
    record = task.score(
        writing, [GenerateResponse("One.", 5, 2, {"finish_reason": "stop"}), GenerateResponse("", 9, 8, {})]
    )
    assert record["answers"] == ["One.", ""] and record["answered"] == 0.5 and record["truncated"] == 0.0
    assert record["usage"] == {"calls": 2, "prompt_tokens": 14, "completion_tokens": 10}
    assert record["prompt"] == writing.doc["turns"][0] and record["output"] == "One."


def test_bad_input(tmp_path):
    with pytest.raises(WorkbenchError, match="zero-shot"):
        workbench.evaluate("mt_bench", shots=2, limit=1)
    with pytest.raises(WorkbenchError, match="does not generate text"):
        workbench.evaluate("arc_easy", limit=1, max_new_tokens=5)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"turns": ["fine"]}\n{"turns": 3}\n')
    with pytest.raises(WorkbenchError, match=r"bad\.jsonl, line 2, field 'turns'"):
        workbench.evaluate("mt_bench", data=str(bad))


@pytest.mark.integration
@needs_model
def test_local_model_answers_both_turns_of_your_own_questions(tmp_path):
    own = tmp_path / "mine.jsonl"
    own.write_text(json.dumps({"category": "stem", "turns": ["Name a planet.", "Name another one."]}) + "\n")
    result = workbench.evaluate("mt_bench", data=str(own), max_new_tokens=4)
    record = result.samples.iloc[0]
    assert record["category"] == "stem" and record["temperature"] == 0.1 and len(record["answers"]) == 2
    assert record["usage"]["calls"] == 2 and 0 < record["usage"]["completion_tokens"] <= 8
    assert result.metrics["usage"]["cost_usd"] == 0.0 and result.metrics["usage"]["price_source"] == "local model"
    assert result.metrics["n"] == 1 and 0 <= result.metrics["truncated"] <= 1
