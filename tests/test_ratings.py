"""The rating panel through Python: clicks and keys write at once, resume, filters, notes, escaping, merging."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pandas as pd
import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.human import Rubric, items, merge, ratings
from workbench.store import Store

from .test_store import new_run

SCRIPT = "<script>window.pwned = 1</script>"
IMG = '<img src=x onerror="window.pwned = 2">'


def item_table(n: int = 4, model: str | list[str] = "m1") -> pd.DataFrame:
    models = model if isinstance(model, list) else [model] * n
    return pd.DataFrame(
        {
            "item_id": [str(i) for i in range(n)],
            "prompt": [f"Question {i}: {SCRIPT}" for i in range(n)],
            "reference": [f"answer {i}" for i in range(n)],
            "output": [f"{IMG} output {i}" for i in range(n)],
            "model": models,
        }
    )


def stored_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT annotator, action, value, note, seconds FROM ratings ORDER BY rowid").fetchall()


def mc_run(store: Store) -> str:
    """A saved multiple-choice run as the runner writes it (two items)."""
    run_id = new_run(store)
    store.add_samples(
        run_id,
        [
            {"doc_id": 0, "prompt": "Question: 2+2?\nAnswer:", "choices": ["3", "4"], "gold": 1, "pred": 0},
            {"doc_id": 1, "prompt": f"Question: {SCRIPT}\nAnswer:", "choices": ["a", IMG], "gold": 1, "pred": 1},
        ],
    )
    store.finish_run(run_id, {"acc": 0.5, "n": 2})
    return run_id


def test_rubrics_parse_scales_pass_fail_and_labels():
    assert Rubric.parse("1-5").values == ("1", "2", "3", "4", "5")
    ten = Rubric.parse("1-10")
    assert ten.keys["0"] == "10" and ten.keys["1"] == "1" and ten.level == "ordinal"
    assert Rubric.parse("pass/fail").values == ("pass", "fail")
    labels = Rubric.parse(["correct", "partly", "wrong"])
    assert labels.kind == "labels" and labels.keys == {"1": "correct", "2": "partly", "3": "wrong"}
    for bad in ("1-20", "stars", [], [str(i) for i in range(11)]):
        with pytest.raises(WorkbenchError, match="rubric"):
            Rubric.parse(bad)


def test_items_from_a_multiple_choice_run_show_the_chosen_and_the_gold_answer():
    store = Store()
    run_id = mc_run(store)
    table = items(run_id)
    assert table["output"].tolist() == ["3", IMG]
    assert table["reference"].tolist() == ["4", IMG]
    assert set(table["model"]) == {"m"} and set(table["source"]) == {run_id}
    assert table["item_key"].is_unique


def test_items_from_a_table_name_missing_columns():
    with pytest.raises(WorkbenchError, match="no column for output"):
        items(pd.DataFrame({"id": [1], "prompt": ["p"]}))
    table = items(pd.DataFrame({"id": [1], "input": ["p"], "text": ["o"]}), columns={"output": "text"}, model="x")
    assert table.loc[0, ["item_id", "prompt", "output", "model"]].tolist() == ["1", "p", "o", "x"]


def test_each_click_and_key_is_written_at_once(project):
    panel = workbench.rate(item_table(), rubric="1-5")
    assert all(b.disabled for b in panel.choices.values())  # no name yet: nothing can be saved
    panel.annotator.value = "ana"
    assert not any(b.disabled for b in panel.choices.values())
    panel.choices["4"].click()
    rows = stored_rows(project / "project.sqlite")
    assert [r[:3] for r in rows] == [("ana", "rate", "4")] and rows[0][4] >= 0
    assert panel.session.position == 1  # moved on
    panel.keys.press("2")  # the keyboard: "2" rates 2
    panel.keys.press("p")  # back to item 1
    assert panel.session.position == 1
    panel.nav["skip"].click()
    panel.keys.press("ArrowLeft")
    panel.note.value = "the model repeats itself"
    assert [r[1:4] for r in stored_rows(project / "project.sqlite")] == [
        ("rate", "4", None),
        ("rate", "2", None),
        ("skip", None, None),
        ("note", None, "the model repeats itself"),
    ]
    assert panel.choices["2"].button_style == "success" and panel.note.value == "the model repeats itself"
    assert panel.progress.value.startswith("2 of 4 rated")


def test_reopening_resumes_at_the_first_unrated_item():
    table = item_table(5)
    first = workbench.rate(table, rubric="pass/fail", annotator="ana")
    first.session.choose("pass")
    first.session.choose("fail")
    first.session.skip()
    again = workbench.rate(table, rubric="pass/fail", annotator="ana")
    assert again.session.position == 3 and again.session.rated() == 2
    assert again.session.state(1).value == "fail"
    # another annotator starts at the beginning; another rubric is a separate question
    assert workbench.rate(table, rubric="pass/fail", annotator="bo").session.position == 0
    assert workbench.rate(table, rubric="1-5", annotator="ana").session.position == 0
    for _ in range(2):
        again.session.choose("pass")
    # every item seen: the skipped one is the first still unrated
    assert workbench.rate(table, rubric="pass/fail", annotator="ana").session.position == 2


def test_filters_unrated_label_and_model():
    panel = workbench.rate(item_table(6, ["a", "b"] * 3), rubric="1-5", annotator="ana", advance=False)
    s = panel.session
    s.choose(5)
    s.next()
    s.choose(1)
    panel.unrated.value = True
    assert s.visible() == [2, 3, 4, 5] and s.position == 2
    panel.unrated.value = False
    panel.label.value = "5"
    assert s.visible() == [0] and s.position == 0
    panel.label.value = ""
    panel.model.value = "b"
    assert s.visible() == [1, 3, 5] and s.position == 1
    assert s.next() and s.position == 3
    assert "match the filters" in panel.progress.value


def test_model_output_is_shown_as_text():
    panel = workbench.rate(item_table(), rubric="1-5", annotator="ana")
    shown = panel.item.value
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in shown
    assert "&lt;img src=x onerror=&quot;window.pwned = 2&quot;&gt;" in shown
    assert "<script" not in shown and "<img" not in shown


def test_values_off_the_rubric_and_missing_annotator_are_refused(project):
    panel = workbench.rate(item_table(), rubric="1-5")
    panel.press("3")
    assert "Type your name" in panel.status.value and stored_rows(project / "project.sqlite") == []
    panel.annotator.value = "ana"
    with pytest.raises(WorkbenchError, match="not on the 1-5 rubric"):
        panel.session.choose(7)


def _annotate(path: str, name: str, n: int) -> None:
    from workbench.human import RatingSession, Rubric, items

    session = RatingSession(items(item_table(n)), Rubric.parse("1-10"), annotator=name, store=Store(path))
    for i in range(n):
        session.choose(str(i % 10 + 1))


def test_two_processes_rating_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "class.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_annotate, args=(path, name, 40)) for name in ("ana", "bo")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    table = ratings(store=path)
    assert len(table) == 80 and table.groupby("annotator").size().to_dict() == {"ana": 40, "bo": 40}


def test_ratings_from_several_people_merge_into_one_store(tmp_path):
    table = item_table(4)
    for name, values in (("ana", "5533"), ("bo", "5433"), ("cy", "4433")):
        panel = workbench.rate(table, rubric="1-5", annotator=name, store=tmp_path / f"{name}.sqlite")
        for v in values:
            panel.session.choose(v)
    ratings(latest=False, store=tmp_path / "bo.sqlite").to_csv(tmp_path / "bo.csv", index=False)
    sources = [tmp_path / "ana.sqlite", tmp_path / "bo.csv", tmp_path / "cy.sqlite"]
    report = merge(sources, store=tmp_path / "class.sqlite")
    assert report["ratings"].tolist() == [4, 4, 4]
    assert merge(sources, store=tmp_path / "class.sqlite")["ratings"].tolist() == [0, 0, 0]  # idempotent
    merged = ratings(store=tmp_path / "class.sqlite")
    assert len(merged) == 12 and merged["prompt"].str.contains("<script>").all()
    agreement = workbench.agreement(merged)
    assert agreement["raters"].tolist() == ["ana vs bo", "ana vs cy", "bo vs cy", "all (3 annotators)"]
    assert agreement.loc[0, "agreement"] == 0.75 and agreement.loc[0, "items"] == 4
    with pytest.raises(WorkbenchError, match="neither a ratings nor a votes export"):
        (tmp_path / "x.csv").write_text("a,b\n1,2\n")
        merge([tmp_path / "x.csv"], store=tmp_path / "class.sqlite")


def test_llm_rate_and_llm_arena_magics_open_the_panels():
    from IPython.testing.globalipapp import get_ipython

    from workbench.widgets import ArenaPanel, RatingPanel

    store = Store()
    run_id, other = mc_run(store), mc_run(store)
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    panel = ip.run_line_magic("llm_rate", f"{run_id} --rubric good,bad --annotator ana")
    assert isinstance(panel, RatingPanel) and panel.session.rubric.values == ("good", "bad")
    newest = ip.run_line_magic("llm_rate", "--annotator ana")
    assert newest.session.items["source"].iloc[0] == other
    duel = ip.run_line_magic("llm_arena", f"{run_id} {other} --annotator ana --name prompts")
    assert isinstance(duel, ArenaPanel) and duel.session.name == "prompts" and len(duel.session) == 2
