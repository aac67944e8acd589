"""Scoring math: choice predictions, standard errors and intervals, aggregation."""

from __future__ import annotations

import math

from workbench.metrics import argmax, choice_predictions, mean_stderr, normal_ci
from workbench.models.base import LoglikelihoodResponse
from workbench.tasks import get_task
from workbench.tasks.base import Item


def test_argmax_takes_the_first_of_equal_values():
    assert argmax([-1.0, -0.5, -0.5]) == 1


def test_acc_norm_divides_by_choice_length_in_characters():
    # the long choice has the lower total but the higher per-character log-likelihood
    pred, pred_norm = choice_predictions([-4.0, -6.0], ["no", "absolutely yes"])
    assert (pred, pred_norm) == (0, 1)


def test_stderr_is_sample_std_over_sqrt_n():
    values = [1.0, 0.0, 1.0, 1.0]
    m = 0.75
    expected = math.sqrt(sum((v - m) ** 2 for v in values) / 3 / 4)
    assert math.isclose(mean_stderr(values), expected)
    assert math.isnan(mean_stderr([1.0]))


def test_interval_is_clipped_to_the_metric_range():
    lo, hi = normal_ci(0.98, 0.05)
    assert hi == 1.0 and math.isclose(lo, 0.98 - 1.959963984540054 * 0.05)


def test_score_and_aggregate_a_multiple_choice_item():
    task = get_task("arc_easy")
    doc = {"id": "x", "question": "q?", "choices": {"text": ["a", "bbbb"], "label": ["A", "B"]}, "answerKey": "B"}
    item = Item(0, doc, "Question: q?\nAnswer:")
    record = task.score(item, [LoglikelihoodResponse(-1.0, True, 1), LoglikelihoodResponse(-2.0, False, 2)])
    assert record["gold"] == 1 and record["pred"] == 0 and record["pred_norm"] == 1
    assert record["acc"] == 0.0 and record["acc_norm"] == 1.0
    metrics = task.aggregate([record, dict(record, acc=1.0)])
    assert metrics["n"] == 2 and metrics["acc"] == 0.5 and math.isclose(metrics["acc_stderr"], 0.5)
    assert metrics["acc_ci95"][0] == 0.0
