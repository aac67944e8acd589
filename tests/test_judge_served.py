"""A real `transformers serve` (the default model's weights on 127.0.0.1) as the answering model and as the
judge: MT-Bench answers, single grading, pairwise judging in both orders, and a prompt grid judged after.

A 135M model is a poor judge: its verdicts are often unreadable. The tests hold the workbench to what it
promises either way: every reply is stored with its text, a readable verdict is in range, an unreadable one is
counted as such and never scored as zero.
"""

from __future__ import annotations

import html
import math

import pytest

import workbench
from workbench.store import Store

from .conftest import needs_mirror
from .serving import served  # noqa: F401 (fixture)

pytestmark = [needs_mirror, pytest.mark.integration]


def check_single(result, calls: int) -> None:
    frame = result.judgments
    assert len(frame) == calls and frame["rationale"].map(len).gt(0).all()
    for parsed, score in zip(frame["parsed"], frame["score"]):
        assert (1 <= score <= 10) if parsed else score is None or score != score
    assert result.metrics["unparseable"] == int((~frame["parsed"]).sum())
    assert result.metrics["usage"]["calls"] == calls and result.metrics["usage"]["completion_tokens"] > 0


def test_mt_bench_answered_and_judged_through_the_server(served, project):  # noqa: F811
    first = workbench.evaluate("mt_bench", model=served.spec, limit=1, max_new_tokens=4)
    second = workbench.evaluate("mt_bench", model=served.spec, limit=1, max_new_tokens=6)
    assert first.run_id != second.run_id and all(len(a) == 2 for a in first.samples["answers"])

    graded = workbench.judge(first, judge=served.spec, turns=[1], max_new_tokens=16)
    check_single(graded, calls=1)
    run = Store().run(graded.run_id)
    assert run["task"] == "judge:single" and run["model_identity"]["kind"] == "api" and run["status"] == "complete"
    assert graded.metrics["usage"]["cost_usd"] == 0.0
    assert graded.judgments["question"].iloc[0] == first.samples["turns"].iloc[0][0]
    assert html.escape(graded.judgments["rationale"].iloc[0]) in graded.view().data

    pair = workbench.judge(first, second, judge=served.spec, turns=[1], max_new_tokens=8)
    frame = pair.judgments
    assert sorted(frame["swapped"]) == [0, 1] and frame["rationale"].map(len).gt(0).all()
    assert frame["messages"].iloc[0][1]["content"] != frame["messages"].iloc[1][1]["content"]  # order swapped
    (outcome,) = pair.verdicts()["outcome"]
    assert outcome in {"a", "b", "tie", "inconsistent", "unparseable"}
    m = pair.metrics
    decided = m["wins"] + m["losses"] + m["ties"] + m["inconsistent"]
    assert decided + m["unparseable"] == 1
    if decided:
        assert m["position_bias"] == pytest.approx(m["inconsistent"] / decided)
    else:
        assert math.isnan(m["position_bias"])


def test_grid_through_the_server_then_judged(served, project):  # noqa: F811
    grid = workbench.grid(
        {"brief": "Answer in a few words: {q}"},
        [served.spec],
        rows=[{"q": "What colour is the sky on a clear day?"}],
        params={"max_new_tokens": 4},
    )
    (cell_run,) = grid.cells["run_id"]
    assert grid.outputs()["prediction"].iloc[0].strip()
    result = workbench.judge(cell_run, judge=served.spec, max_new_tokens=8)
    check_single(result, calls=1)
    assert result.judgments["question"].iloc[0] == "Answer in a few words: What colour is the sky on a clear day?"
    assert result.judgments["answer"].iloc[0] == grid.outputs()["prediction"].iloc[0]
