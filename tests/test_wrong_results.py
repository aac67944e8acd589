"""Wrong results without an error: views over several runs match items by what they are, never by position,
and nothing treats part of a run as the whole.

- ``compare`` and ``arena`` match items on their identity (``item_fp``, a fingerprint of the document), pair
  repeated items by occurrence order, compare only the shared items and say how many of each run's items those
  are, and refuse runs with no item in common. Records saved before item identities existed are matched by
  position only when both runs were made on the same data (equal data fingerprints).
- judging, rating and voting on an unfinished run (running, interrupted, failed) is refused unless asked for
  with ``partial=True``, which records the partial coverage and shows it in every summary.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

import workbench
from workbench.data import fingerprint
from workbench.errors import WorkbenchError
from workbench.human import ArenaSession, RatingSession, item_key, items, votes
from workbench.judge import JudgeResult
from workbench.run.records import item_fingerprint
from workbench.store import Store

from .conftest import needs_mirror, needs_model
from .test_judge import ScriptedJudge, rating_by_length

FIXTURE = Path(__file__).parent / "fixtures" / "project_v0.sqlite"
EASY = [{"question": f"Which is easy number {i}?", "choices": ["a", "b"], "answer": "a"} for i in range(20)]
HARD = [{"question": f"Which is hard number {i}?", "choices": ["a", "b"], "answer": "b"} for i in range(20)]


def run_of(
    docs,
    values=None,
    *,
    model="m",
    task="arc_easy",
    data=None,
    template="Question: {question}",
    shots="",
    status="complete",
    n_items=None,
    identity=True,
) -> str:
    """A saved run over ``docs`` as the runner writes it: one record per document, stamped with its identity
    (``identity=False``: as written before records carried one)."""
    store = Store()
    values = [1.0] * len(docs) if values is None else values
    run_id = store.create_run(
        run_key=f"k{len(store.runs())}", task=task, model=model, model_identity={"fingerprint": f"sha256:{model}"},
        data_source=f"file:{task}.jsonl", data_fingerprint=data or fingerprint(docs), prompt_template=template,
        config={}, versions={}, command=f"workbench.evaluate({task!r}, model={model!r})",
        n_items=len(docs) if n_items is None else n_items,
    )  # fmt: skip
    records = []
    for i, (doc, value) in enumerate(zip(docs, values)):
        record = {"doc_id": i, "acc": float(value), "prompt": f"{shots}Question: {doc['question']}"}
        record["output"] = f"{model} answers {doc['question']}"
        if identity:
            record["item_fp"] = item_fingerprint(doc)
        records.append(record)
    store.add_samples(run_id, records)
    if status == "complete":
        store.finish_run(run_id, {"n": len(records), "acc": sum(values) / len(values)})
    elif status != "running":
        store.fail_run(run_id, status, "KeyboardInterrupt: ")
    return run_id


def no_python_warning(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call(*args, **kwargs)


# ---- compare ------------------------------------------------------------------------------------------------
def test_compare_refuses_runs_on_different_items():
    easy = run_of(EASY[:5], task="arc_easy")
    hard = run_of(HARD[:5], task="arc_challenge")
    with pytest.raises(WorkbenchError) as info:
        workbench.compare(easy, hard)
    message = str(info.value)
    assert "have no items in common" in message
    for named in (easy, hard, "arc_easy", "arc_challenge", "file:arc_easy.jsonl", "file:arc_challenge.jsonl"):
        assert named in message
    assert "same data" in message  # the fix


def test_compare_matches_items_by_identity_not_by_position():
    a = run_of(EASY[:6], [1, 1, 1, 0, 0, 0])
    b = run_of(EASY[:6][::-1], [0, 0, 0, 1, 1, 1])  # the same items in the reverse order, each scored as in A
    c = no_python_warning(workbench.compare, a, b)
    assert c.n_shared == 6 and list(c.items["diff"]) == [0.0] * 6 and c.flips().empty
    assert list(c.items["doc_id"]) == [0, 1, 2, 3, 4, 5] and list(c.items["doc_id_b"]) == [5, 4, 3, 2, 1, 0]
    assert c.table().iloc[0]["b_minus_a"] == 0 and c.caveats == []


def test_compare_covers_only_the_shared_items_and_says_how_many(capsys):
    a = run_of(EASY[:10], [1] * 10)
    b = run_of(EASY[6:14], [0] * 8)  # 4 of its 8 items (EASY 6-9) are among A's 10, at other positions
    c = no_python_warning(workbench.compare, a, b)
    assert c.n_shared == 4 and (c.n_a, c.n_b) == (10, 8)
    assert list(c.items["doc_id"]) == [6, 7, 8, 9] and list(c.items["doc_id_b"]) == [0, 1, 2, 3]
    row = c.table().iloc[0]
    assert (row["shared_items"], row["items_a"], row["items_b"]) == (4, 10, 8) and row["b_minus_a"] == -1
    assert "4 of run A's 10 items and 4 of run B's 8" in c.summary()
    assert "4 of run A's 10 items" in row["caveats"]
    err = capsys.readouterr().err
    assert err.startswith("workbench: ") and err.count("\n") == 1 and "4 of run A's 10 items" in err


def test_repeated_items_pair_in_order_of_occurrence():
    a = run_of([EASY[0], EASY[1], EASY[0]], [1, 0, 0])  # a file with a repeated row
    b = run_of([EASY[0], EASY[0], EASY[0], EASY[1]], [1, 0, 1, 1])
    c = workbench.compare(a, b)
    assert c.n_shared == 3 and (c.n_a, c.n_b) == (3, 4)
    assert list(c.items["doc_id"]) == [0, 1, 2] and list(c.items["doc_id_b"]) == [0, 3, 1]
    assert list(c.items["diff"]) == [0.0, 1.0, 0.0]


def test_zero_and_one_shot_runs_of_the_same_items_are_the_same_items(capsys):
    # the few-shot pool enters the data fingerprint, so the two fingerprints differ; the items do not
    zero = run_of(EASY[:5], [1, 0, 1, 0, 1], data="sha256:docs")
    one = run_of(EASY[:5], [1, 1, 1, 0, 0], data="sha256:docs+pool", shots="Question: an example\nAnswer: a\n\n")
    c = no_python_warning(workbench.compare, zero, one)
    assert c.n_shared == 5 and not any("fingerprint" in note for note in c.caveats)
    assert "5 shared items were shown different prompts" in c.summary()
    assert "5 shared items were shown different prompts" in c.table().iloc[0]["caveats"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("workbench: ") and "different prompts" in err
    assert ".py" not in err and "Warning" not in err


def test_every_caveat_is_in_the_summary_and_the_table_and_one_workbench_line(capsys):
    a = run_of(EASY[:4])
    b = run_of(EASY[:4], template="Q: {question}")
    Store().fail_run(b, "interrupted", "KeyboardInterrupt: ")  # reopened, then stopped: its metrics are saved
    c = no_python_warning(workbench.compare, a, b)
    assert len(c.caveats) == 2 and c.warnings == c.caveats
    for note in ("prompt templates differ", f"Run {b} is interrupted, not complete"):
        assert note in c.summary() and note in c.table().iloc[0]["caveats"]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("workbench: ") and "prompt templates differ" in err
    clean = workbench.compare(a, run_of(EASY[:4]))
    assert clean.caveats == [] and clean.table().iloc[0]["caveats"] == "" and "aveat" not in clean.summary()
    assert capsys.readouterr().err == ""


def test_records_without_item_identities_match_by_position_only_on_the_same_data():
    a = run_of(EASY[:4], [1, 0, 1, 0], identity=False, data="sha256:same")
    b = run_of(EASY[:4], [1, 1, 1, 1], identity=False, data="sha256:same")
    c = no_python_warning(workbench.compare, a, b)
    assert c.n_shared == 4 and c.matched_by == "doc_id" and c.bootstrap.diff == 0.5
    other = run_of(HARD[:4], identity=False, task="arc_challenge", data="sha256:other")
    for first, second in ((a, other), (run_of(EASY[:4]), other)):  # old vs old, new vs old
        with pytest.raises(WorkbenchError, match="saved before records carried item identities") as info:
            workbench.compare(first, second)
        message = str(info.value)
        assert other in message and "arc_challenge" in message and "Re-run" in message
        assert "workbench.evaluate('arc_challenge'" in message  # the call that makes a new run
    new = run_of(EASY[:4], [0, 0, 0, 0], data="sha256:same")  # a new run of an old run's data: by position
    assert workbench.compare(a, new).n_shared == 4
    empty = run_of([], status="running", n_items=4)  # nothing saved yet: not "items of other data"
    with pytest.raises(WorkbenchError, match=f"Run {empty} has no scored items yet"):
        workbench.compare(a, empty)


def test_an_old_project_file(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, path)  # written before records carried item identities
    runs = Store(path).runs()

    def ids(task, status="complete"):
        part = runs[(runs["task"] == task) & (runs["status"] == status)].sort_values("n_items", ascending=False)
        return list(part["run_id"])

    c = workbench.compare(*ids("score"), store=path)  # two systems' saved scores of the same references
    assert c.n_shared == 2 and c.metric == "bleu" and c.matched_by == "doc_id"
    (interrupted,) = ids("arc_easy", "interrupted")
    loglikelihood, generated = ids("arc_easy")  # 3 items, and 2 items in generate mode
    with pytest.raises(WorkbenchError, match="saved before records carried item identities"):
        workbench.compare(loglikelihood, interrupted, store=path)
    session = ArenaSession.open(*ids("grid"), annotator="ana", store=path)  # a grid's two prompts, same rows
    assert len(session) == 2
    with pytest.raises(WorkbenchError, match="saved before records carried item identities"):
        ArenaSession.open(loglikelihood, generated, store=path)
    with pytest.raises(WorkbenchError, match="interrupted: 1 of 2 items"):
        RatingSession.open(interrupted, annotator="ana", store=path)


# ---- arena --------------------------------------------------------------------------------------------------
def test_arena_refuses_runs_on_different_items():
    easy = run_of(EASY[:3], model="model-a", task="arc_easy")
    hard = run_of(HARD[:3], model="model-b", task="arc_challenge")
    with pytest.raises(WorkbenchError) as info:
        workbench.arena(easy, hard, annotator="ana")
    message = str(info.value)
    assert "no items in common" in message
    for named in (easy, hard, "arc_easy", "arc_challenge", "file:arc_challenge.jsonl", "same data"):
        assert named in message


def test_arena_pairs_only_the_shared_items_and_says_how_many():
    a = run_of(EASY[:10], model="model-a")
    b = run_of(EASY[6:14], model="model-b")
    s = workbench.arena(a, b, annotator="ana").session
    assert len(s) == 4 and s.shared == {f"run {a}": (4, 10), f"run {b}": (4, 8)}
    assert all(s.shown(i)[0]["prompt"] == s.shown(i)[1]["prompt"] for i in range(len(s)))
    assert f"4 of run {a}'s 10 items, 4 of run {b}'s 8 items" in s.progress()
    assert f"4 of run {a}'s 10 items" in s.status


def test_arena_pairs_the_same_items_wherever_they_are():
    a = run_of(EASY[:5], model="model-a")
    b = run_of(EASY[:5][::-1], model="model-b")
    s = workbench.arena(a, b, annotator="ana").session
    assert len(s) == 5 and s.shared == {f"run {a}": (5, 5), f"run {b}": (5, 5)} and "items" not in s.progress()
    for i in range(len(s)):
        left, right = s.shown(i)
        assert left["prompt"] == right["prompt"] and left["output"].split(" answers ")[1] in left["prompt"]
    s.vote("A")
    assert votes()["item_id"].tolist() == [s.pairs[0].item_id]
    again = workbench.arena(a, b, annotator="ana").session
    assert again.voted() == 1 and again.position == 1


def test_ratings_and_votes_saved_before_item_identities_still_attach(project):
    a = run_of(EASY[:3], model="model-a")
    b = run_of(EASY[:3], model="model-b")
    frame = items(a)
    assert list(frame["item_key"]) == [
        item_key(str(i), "model-a", f"Question: {d['question']}", f"model-a answers {d['question']}")
        for i, d in enumerate(EASY[:3])
    ]  # the key of an item is what it was before records carried an identity
    keys = {m: items(r).set_index("item_id")["item_key"] for m, r in (("model-a", a), ("model-b", b))}
    Store().add_vote(
        arena="model-a vs model-b",
        item_id="1",
        annotator="ana",
        left_key=keys["model-a"]["1"],
        right_key=keys["model-b"]["1"],
        model_left="model-a",
        model_right="model-b",
        vote="A",
        winner="model-a",
    )  # a vote saved before: its item is the doc id, its outputs their keys
    s = workbench.arena(a, b, annotator="ana").session
    assert s.voted() == 1 and s.state(1).vote == "A"
    Store().add_rating(item_key=keys["model-a"]["2"], rubric="1-5", scale=list("12345"), annotator="ana",
                       action="rate", value="4")  # fmt: skip
    rating = workbench.rate(a, annotator="ana").session
    assert rating.rated() == 1 and rating.state(2).value == "4"


def test_arena_over_old_records_matches_by_position_only_on_the_same_data():
    a = run_of(EASY[:3], model="model-a", identity=False, data="sha256:same")
    b = run_of(EASY[:3], model="model-b", identity=False, data="sha256:same")
    assert len(workbench.arena(a, b, annotator="ana").session) == 3
    other = run_of(HARD[:3], model="model-b", identity=False, data="sha256:other")
    with pytest.raises(WorkbenchError, match="saved before records carried item identities"):
        workbench.arena(a, other, annotator="ana")


# ---- unfinished runs ----------------------------------------------------------------------------------------
def test_rating_or_voting_on_an_unfinished_run_is_refused_unless_asked():
    running = run_of(EASY[:4], model="model-a", status="running", n_items=10)  # no process is writing it any more
    done = run_of(EASY[:10], model="model-b")
    with pytest.raises(WorkbenchError) as info:
        workbench.rate(running, annotator="ana")
    message = str(info.value)
    assert f"Run {running} is interrupted: 4 of 10 items" in message
    assert "workbench.evaluate('arc_easy', model='model-a')" in message and "partial=True" in message
    with pytest.raises(WorkbenchError, match="interrupted: 4 of 10 items"):
        workbench.arena(running, done, annotator="ana")
    rating = RatingSession.open(running, annotator="ana", partial=True)
    assert len(rating) == 4 and rating.partial == [{"run": running, "status": "interrupted", "items": 4, "of": 10}]
    assert f"partial: 4 of 10 items of run {running} (interrupted)" in rating.progress()
    assert "partial" in rating.status
    duel = ArenaSession.open(running, done, annotator="ana", partial=True)
    assert len(duel) == 4 and f"partial: 4 of 10 items of run {running}" in duel.progress()


def test_judging_an_unfinished_run_is_refused_by_default():
    run = run_of(EASY[:4], model="model-a", status="interrupted", n_items=10)
    judge = ScriptedJudge(rating_by_length)
    with pytest.raises(WorkbenchError) as info:
        workbench.judge(run, judge=judge)
    message = str(info.value)
    assert f"Run {run} is interrupted: 4 of 10 items" in message
    assert "workbench.evaluate('arc_easy', model='model-a')" in message and "partial=True" in message
    assert judge.calls == [] and list(workbench.runs()["task"]) == ["arc_easy"]  # no judge run was made
    other = run_of(EASY[:4], model="model-b")
    with pytest.raises(WorkbenchError, match="interrupted: 4 of 10 items"):
        workbench.judge(other, run, judge=judge)


def test_judging_a_partial_run_when_asked_records_it_in_every_summary():
    run = run_of(EASY[:4], model="model-a", status="interrupted", n_items=10)
    result = workbench.judge(run, judge=ScriptedJudge(rating_by_length), partial=True)
    record = Store().run(result.run_id)
    assert record["status"] == "complete"
    assert record["config"]["partial"] == {"run": run, "items": 4, "of": 10}
    for shown in (result, JudgeResult.load(result.run_id)):
        assert f"partial: 4 of 10 items of run {run}" in repr(shown)
        assert set(shown.summary()["partial"]) == {f"4 of 10 items of run {run}"}
        assert f"partial: 4 of 10 items of run {run}" in shown.view().data
    complete = workbench.judge(run_of(EASY[:4], model="model-b"), judge=ScriptedJudge(rating_by_length))
    assert "partial" not in repr(complete) and "partial" not in complete.summary()
    assert "partial" not in Store().run(complete.run_id)["config"]
    other = run_of(EASY[:4], model="model-b")
    pair = workbench.judge(other, run, judge=ScriptedJudge(lambda text: "[[A]]"), partial=True)
    assert Store().run(pair.run_id)["config"]["partial"] == {"run": run, "items": 4, "of": 10}
    assert f"partial: 4 of 10 items of run {run}" in repr(pair) and "partial" in pair.summary()


# ---- real runs ----------------------------------------------------------------------------------------------
@pytest.mark.integration
@needs_mirror
@needs_model
def test_real_arc_easy_and_arc_challenge_runs_are_not_compared():
    easy = workbench.evaluate("arc_easy", limit=3)
    hard = workbench.evaluate("arc_challenge", limit=3)
    with pytest.raises(WorkbenchError, match="have no items in common") as info:
        workbench.compare(easy.run_id, hard.run_id)
    assert "arc_easy" in str(info.value) and "arc_challenge" in str(info.value)
    with pytest.raises(WorkbenchError, match="no items in common"):
        workbench.arena(easy, hard, annotator="ana")


@needs_mirror
@pytest.mark.parametrize("category", ["stem", "humanities", "social_sciences", "other"])
def test_an_mmlu_category_scores_its_own_subjects_only(category):
    """A category's rows come from the whole benchmark (the hub's 'all' config, every mirror file): it scored
    all 57 subjects, 14,042 items, under the name mmlu:stem (3,153)."""
    from workbench.data import load_rows
    from workbench.data.mmlu import SUBJECTS
    from workbench.tasks import get_task

    task = get_task(f"mmlu:{category}")
    rows = load_rows(task.data, task.eval_split).rows
    docs = task.select_docs(rows, None)
    assert {d["subject"] for d in docs} == {s for s, (c, _) in SUBJECTS.items() if c == category}
    assert len(docs) == task.size
    limited = task.select_docs(rows, 2)
    assert len(limited) == 2 * len(task.subjects)
