"""The blind A/B panel through Python: hidden names, random sides, votes stored with the order shown."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.human import votes

from .test_ratings import SCRIPT, item_table, mc_run


def two_models(n: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = item_table(n, "model-a")
    b = item_table(n, "model-b").assign(output=[f"{SCRIPT} other {i}" for i in range(n)])
    return a, b


def test_names_hidden_until_the_vote_then_stored_with_the_order_shown(project):
    a, b = two_models(4)
    panel = workbench.arena(a, b, annotator="ana")
    s = panel.session
    assert s.name == "model-a vs model-b" and len(s) == 4
    assert "model-a" not in panel.item.value and "model-b" not in panel.item.value
    left, right = s.shown()
    panel.choices["A"].click()
    with sqlite3.connect(project / "project.sqlite") as db:
        row = db.execute("SELECT model_left, model_right, vote, winner, left_key FROM votes").fetchone()
    assert row == (left["model"], right["model"], "A", left["model"], left["item_key"])
    assert f"A was {left['model']}, B was {right['model']}" in panel.reveal.value
    panel.press("p")  # back to the voted pair: now the names show, in the same order
    assert s.shown() == (left, right) and f"A: {left['model']}" in panel.item.value
    panel.press("n")
    for key in "btx":
        panel.press(key)
    assert votes()["vote"].tolist() == ["A", "B", "tie", "both_bad"]
    assert "4 of 4 pairs voted" in panel.progress.value


def test_sides_are_random_per_item_and_stable_when_reopened():
    a, b = two_models(24)
    s = workbench.arena(a, b, annotator="ana").session
    orders = [s.shown(i)[0]["model"] for i in range(len(s))]
    assert 4 <= orders.count("model-a") <= 20  # both sides occur (binomial(24, 1/2))
    again = workbench.arena(a, b, annotator="ana").session
    assert [again.shown(i)[0]["model"] for i in range(len(again))] == orders
    other = workbench.arena(a, b, annotator="bo").session
    assert [other.shown(i)[0]["model"] for i in range(len(other))] != orders


def test_reopening_resumes_and_outputs_are_escaped():
    a, b = two_models(3)
    first = workbench.arena(a, b, annotator="ana")
    first.session.vote("B")
    first.session.skip()
    again = workbench.arena(a, b, annotator="ana")
    assert again.session.position == 2 and again.session.voted() == 1
    shown = again.item.value
    assert "<script" not in shown and "<img" not in shown and "&lt;script&gt;" in shown


def test_several_output_columns_of_one_table_and_three_models_make_all_pairs():
    table = pd.DataFrame({"id": [1, 2], "prompt": ["p1", "p2"], "x": ["a", "b"], "y": ["c", "d"], "z": ["e", "f"]})
    s = workbench.arena(table, outputs=["x", "y", "z"], annotator="ana").session
    assert len(s) == 6 and set(s.models) == {"x", "y", "z"}
    with pytest.raises(WorkbenchError, match="at least two models"):
        workbench.arena(table.assign(output=table.x))


def test_two_runs_of_the_same_model_are_told_apart():
    from workbench.store import Store

    store = Store()
    first, second = mc_run(store), mc_run(store)
    s = workbench.arena(first, second, annotator="ana").session
    assert sorted(s.models) == sorted([f"m ({first})", f"m ({second})"])
    named = workbench.arena(first, second, names=["zero-shot", "few-shot"], annotator="ana").session
    assert named.models == ["zero-shot", "few-shot"] and named.name == "few-shot vs zero-shot"


def test_rankings_from_votes_with_intervals_and_chart():
    a, b = two_models(12)
    c = item_table(12, "model-c").assign(output="c")
    s = workbench.arena(a, b, c, annotator="ana").session
    while s.voted() < len(s):  # a consistent preference: model-a > model-b > model-c, one upset
        left, right = s.shown()
        better = min(left["model"], right["model"])
        upset = s.position == 0
        s.vote("A" if (left["model"] == better) != upset else "B")
    table = workbench.rankings(rounds=50)
    for method in ("bradley_terry", "elo"):
        part = table[table.method == method]
        assert part["model"].tolist() == ["model-a", "model-b", "model-c"]
        assert (part["ci95_low"] <= part["rating"]).all() and (part["rating"] <= part["ci95_high"]).all()
        assert part["battles"].tolist() == [24, 24, 24]
    fig = workbench.ranking_figure(table)
    assert len(fig.data) == 2 and fig.data[0].error_x.array is not None
    assert workbench.agreement(votes()).empty  # one annotator: nobody to agree with
