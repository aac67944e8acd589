"""Typed sample records: every task's record read through one place (run.records.Sample), and every view
(judge, rating) reading from there, so a gsm8k run or a `--mode generate` run can be judged and rated."""

from __future__ import annotations

import pytest

import workbench
from workbench.human import RatingSession, ratings
from workbench.run.records import Sample, column_for
from workbench.store import Store

from .conftest import needs_mirror, needs_model
from .test_judge import ScriptedJudge

MC = {"doc_id": 0, "prompt": "Question: 2+2?\nAnswer:", "choices": ["3", "4"], "gold": 1, "pred": 0, "acc": 0.0}
GENERATED_LABEL = {
    "doc_id": 1, "question": "Which is a fruit?", "options": ["stone", "apple"], "gold": 1, "pred": 1,
    "raw": "B", "prompt": "Which is a fruit?\nA. stone\nB. apple\nAnswer:", "extracted": "B",
}  # fmt: skip
GSM8K = {"doc_id": 2, "question": "What is 3 + 4?", "target": "7", "raw": "3 + 4 = 7. #### 7", "prompt": "Q..."}
MT_BENCH = {
    "doc_id": 3, "question_id": 81, "category": "math", "language": "en", "turns": ["Q1", "Q2"],
    "answers": ["A1", "A2"], "references": ["R1", "R2"], "prompt": "Q1", "output": "A1", "reference": "R1",
}  # fmt: skip
TRANSLATION = {"doc_id": 4, "source": "Hello", "reference": "안녕하세요", "prediction": "안녕", "prompt": "En: Hello"}
CHAT_GRID = {"doc_id": 5, "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}],
             "prediction": "", "cached": False}  # fmt: skip
PERPLEXITY = {"doc_id": 6, "prompt": "Some text.", "loglikelihood": -12.5, "tokens": 4}


def test_each_task_record_reads_the_same_way():
    mc = Sample.of(MC)
    assert (mc.question, mc.output, mc.reference, mc.choices) == ("Question: 2+2?\nAnswer:", "3", "4", ("3", "4"))
    label = Sample.of(GENERATED_LABEL)
    assert (label.question, label.output, label.reference) == ("Which is a fruit?", "B", "apple")
    gsm = Sample.of(GSM8K)
    assert (gsm.question, gsm.output, gsm.reference) == ("What is 3 + 4?", "3 + 4 = 7. #### 7", "7")
    mt = Sample.of(MT_BENCH)
    assert mt.questions == ("Q1", "Q2") and mt.answers == ("A1", "A2") and mt.references == ("R1", "R2")
    assert (mt.category, mt.question_id, mt.language) == ("math", 81, "en")
    tr = Sample.of(TRANSLATION)
    assert (tr.output, tr.reference, tr.prompt) == ("안녕", "안녕하세요", "En: Hello")
    chat = Sample.of(CHAT_GRID)
    assert chat.question == "Hi?" and chat.answers == ("",)  # an empty answer is an answer, not a missing one
    ppl = Sample.of(PERPLEXITY)
    assert ppl.answers == () and ppl.output is None  # nothing generated: nothing to judge or rate


def test_tables_find_columns_by_the_same_aliases():
    assert column_for(["doc_id", "raw", "target"], "output") == "raw"
    assert column_for(["doc_id", "raw", "target"], "reference") == "target"
    assert column_for(["doc_id", "prediction", "raw"], "output") == "prediction"
    assert column_for(["doc_id"], "output") is None


@pytest.mark.integration
@needs_model
@needs_mirror
@pytest.mark.parametrize(
    "task,kwargs",
    [("gsm8k", {"shots": 0, "max_new_tokens": 12}), ("arc_easy", {"mode": "generate", "max_new_tokens": 4})],
)
def test_generated_answers_can_be_judged_and_rated(task, kwargs):
    run = workbench.evaluate(task, limit=2, **kwargs)
    records = Store().sample_records(run.run_id)
    assert all("raw" in r for r in records)  # the answer is kept in `raw` by these tasks

    seen = []
    judge = ScriptedJudge(lambda prompt: seen.append(prompt) or "Good. Rating: [[7]]")
    graded = workbench.judge(run, judge=judge, terse=True)
    assert graded.metrics["n"] == 2 and graded.metrics["score"] == pytest.approx(7.0)
    for record, prompt in zip(records, seen):
        assert record["raw"] in prompt  # the judge saw the model's own answer
        if task == "gsm8k":  # and the bare question, not the few-shot prompt
            assert record["question"] in prompt

    session = RatingSession.open(run, "1-5", annotator="ana")
    shown = [session.current["output"]]
    session.choose(4)
    shown.append(session.current["output"])
    session.choose(2)
    assert shown == [r["raw"] for r in records]
    assert sorted(ratings()["value"].astype(str)) == ["2", "4"]
