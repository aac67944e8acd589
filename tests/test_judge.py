"""The judge's logic: verdict parsing, prompts, storage, summaries, position bias, escaping, resume, agreement.

The judge here is a scripted model (its reply is a function of what it is asked) so that every path,
including unreadable verdicts and a judge that always prefers the first answer, is exercised exactly.
The same calls through a real served model are in test_judge_served.py.
"""

from __future__ import annotations

import uuid

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.judge import JudgeResult, category_table, parse_rating, parse_verdict, radar, render
from workbench.judge.core import language_of
from workbench.judge.parse import combine, winner
from workbench.models.base import Capabilities, GenerateResponse
from workbench.store import Store

from .conftest import needs_model


class ScriptedJudge:
    """A Model whose reply is ``reply(user_message)``; fails with ``fail`` from call number ``fail_at`` on."""

    name = "scripted-judge"
    capabilities = Capabilities(loglikelihood=False, rolling=False)

    def __init__(self, reply, fail_at: int | None = None):
        self.reply, self.fail_at, self.calls = reply, fail_at, []

    def identity(self):
        return {"name": self.name, "kind": "test", "location": "-", "fingerprint": "test:scripted"}

    def loglikelihood(self, requests, *, batch_size=16, progress=None):
        raise NotImplementedError

    def rolling_loglikelihood(self, texts, *, progress=None):
        raise NotImplementedError

    def generate(self, requests, *, batch_size=8, progress=None):
        out = []
        for r in requests:
            if self.fail_at is not None and len(self.calls) + 1 >= self.fail_at:
                raise WorkbenchError("judge endpoint went away")
            self.calls.append(r)
            out.append(GenerateResponse(self.reply(r.prompt[-1]["content"]), prompt_tokens=100, completion_tokens=20))
            if progress:
                progress(1)
        return out

    def iter_generate(self, requests, *, batch_size=8, progress=None):
        for i, r in enumerate(requests):  # one call at a time: answers before a failing call arrive first
            yield i, self.generate([r], progress=progress)[0]


QUESTIONS = {
    0: ("writing", ["Write a haiku about rain.", "Now make it about snow."]),
    1: ("math", ["What is 12 * 12?", "And 13 * 13?"]),
    2: ("writing", ["Describe a sunrise.", "Shorter, please."]),
}


def saved_run(answers: dict[int, list[str]], model: str, questions=QUESTIONS, references=None) -> str:
    """A finished MT-Bench-style run holding the given answers (the judge's input)."""
    db = Store()
    run_id = db.create_run(
        run_key=uuid.uuid4().hex, task="mt_bench", model=model, model_identity={"name": model}, data_source="test",
        data_fingerprint="test", prompt_template="", config={}, versions={}, command="test", n_items=len(answers),
    )  # fmt: skip
    records = []
    for doc_id, turn_answers in answers.items():
        category, turns = questions[doc_id]
        refs = (references or {}).get(doc_id, [])
        records.append(
            {"doc_id": doc_id, "question_id": 100 + doc_id, "category": category, "turns": turns,
             "answers": turn_answers, "references": refs, "prompt": turns[0], "output": turn_answers[0]}
        )  # fmt: skip
    db.add_samples(run_id, records)
    db.finish_run(run_id, {"n": len(records)})
    return run_id


def rating_by_length(text: str) -> str:
    """Rates the last answer shown by its length; says nothing readable about answers containing 'mumble'."""
    marker = "### Assistant:" if "### Assistant:" in text else "[The assistant's answer]"
    last = text.rsplit(marker, 1)[-1].split("[End]")[0]
    if "mumble" in last:
        return "I am not sure what to think of this. <b>no verdict</b>"
    return f"<script>alert('x')</script> Fine answer. Rating: [[{min(10, len(last.split()))}]]"


# ---- parsing ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("Good answer. Rating: [[7]]", 7.0),
        ("Rating: [[ 8.5 ]]", 8.5),
        ("Rating: [[9/10]]", 9.0),
        ("Use the scale [[1]] to [[10]]. ... Rating: [[6]]", 6.0),
        ("Final rating [7]", 7.0),
        ("평가: [[5]]", 5.0),
        ("Score: 4/10", 4.0),
        ("**Rating:** 3", 3.0),
        ("Rating: [1] to [10]\n[End]", None),  # the scale quoted back is not a rating
        ("[Rating: 1 to [10]]", None),
        ("평가: [[1]] ~ [[10]]. 평가: [[7]]", 7.0),
        ("Rating: [[0]]", None),
        ("Rating: [[11]]", None),
        ("Rating: [[rating]]", None),
        ("I think it is good.", None),
        ("", None),
    ],
)
def test_parse_rating(text, expected):
    assert parse_rating(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A is clearer. [[A]]", "A"),
        ("verdict: [[b]]", "B"),
        ("Both equal [[C]]", "tie"),
        ("[[tie]]", "tie"),
        ('Output "[[A]]" if A is better, "[[B]]" if B, "[[C]]" for a tie. My verdict: [[B]]', "B"),
        ("[[A]] if A is better, [[B]] if B is better, [[C]] for a tie", None),
        ("Your verdict: [[A]]\n[End]\n\nYour verdict ([[A]], [[B]]", "A"),  # a cut-off echo of the options
        ("[[A]], [[B]] or [[C]]", None),
        ("I pick [A]", "A"),
        ("Final verdict: B", "B"),
        ("Assistant A is better.", None),
        ("", None),
    ],
)
def test_parse_verdict(text, expected):
    assert parse_verdict(text) == expected


def test_verdicts_in_run_terms_and_both_orders():
    assert winner("A", swapped=False) == "a" and winner("A", swapped=True) == "b"
    assert winner("B", swapped=True) == "a" and winner("tie", swapped=True) == "tie" and winner(None, True) is None
    assert combine("a", "a") == "a" and combine("tie", "tie") == "tie"
    assert combine("a", "b") == "inconsistent" and combine("a", "tie") == "inconsistent"
    assert combine(None, "a") == "unparseable"


# ---- prompts ------------------------------------------------------------------------------------------
def test_prompts_carry_the_markers_and_what_is_judged():
    single = render("single", "en", ["Q1?"], [["A1."]])
    assert single[0]["role"] == "system" and "[[6]]" in single[0]["content"]
    assert "[Question]\nQ1?" in single[1]["content"] and "A1." in single[1]["content"]
    ref = render("single", "en", ["Q1?"], [["A1."]], ["R1."])
    assert "reference answer" in ref[0]["content"] and "[Reference answer]\nR1." in ref[1]["content"]
    multi = render("single", "en", ["Q1?", "Q2?"], [["A1.", "A2."]])
    assert "last message" in multi[0]["content"]
    assert multi[1]["content"].index("Q1?") < multi[1]["content"].index("A1.") < multi[1]["content"].index("Q2?")
    pair = render("pair", "en", ["Q1?"], [["first"], ["second"]])
    assert all(m in pair[0]["content"] for m in ("[[A]]", "[[B]]", "[[C]]"))
    assert (
        "[Assistant A's answer]\nfirst" in pair[1]["content"] and "[Assistant B's answer]\nsecond" in pair[1]["content"]
    )
    korean = render("single", "ko", ["하늘은 왜 파란가요?"], [["빛의 산란 때문입니다."]])
    assert "평가: [[6]]" in korean[0]["content"] and "한국어" in korean[0]["content"]
    assert "[질문]" in korean[1]["content"] and "[어시스턴트의 답변]" in korean[1]["content"]
    assert language_of("하늘은 왜 파란가요? Rayleigh") == "ko" and language_of("Why is the sky blue?") == "en"
    terse = render("pair", "ko", ["질문?"], [["가"], ["나"]], terse=True)
    assert (
        terse[1]["content"].endswith("판정 ([[A]], [[B]] 또는 [[C]]):")
        and terse[0] == render("pair", "ko", ["질문?"], [["가"], ["나"]])[0]
    )


def test_terse_prompts_are_named_and_recorded(project):
    run = saved_run({0: ["a b", "c"]}, "model-a")
    result = workbench.judge(run, judge=ScriptedJudge(rating_by_length), terse=True)
    assert list(result.judgments["prompt_name"]) == ["single-en-terse", "single-multi-en-terse"]
    assert result.judgments["messages"].iloc[0][1]["content"].endswith("Your rating (Rating: [[1]] to [[10]]):")
    record = Store().run(result.run_id)
    assert record["config"]["terse"] is True and "The user message ends with: Your rating" in record["prompt_template"]
    assert "terse=True" in record["command"]


# ---- single grading -------------------------------------------------------------------------------------
def test_single_grading_stores_every_verdict_and_never_scores_an_unreadable_one(project):
    answers = {0: ["Rain taps the roof softly", "Snow"], 1: ["144 is the answer here", "mumble"], 2: ["Gold", "Sun"]}
    run = saved_run(answers, "model-a", references={1: ["144", "169"]})
    judge = ScriptedJudge(rating_by_length)
    result = workbench.judge(run, judge=judge)
    frame = result.judgments
    assert len(frame) == 6 and len(judge.calls) == 6
    names = dict(zip(zip(frame["doc_id"], frame["turn"]), frame["prompt_name"]))
    assert names[(0, 1)] == "single-en" and names[(0, 2)] == "single-multi-en"
    assert names[(1, 1)] == "single-ref-en" and names[(1, 2)] == "single-ref-multi-en"  # math: reference shown
    math_prompt = frame.set_index(["doc_id", "turn"]).loc[(1, 2), "messages"][1]["content"]
    assert "144" in math_prompt and "169" in math_prompt and "mumble" in math_prompt
    unread = frame[~frame["parsed"]]
    assert list(zip(unread["doc_id"], unread["turn"])) == [(1, 2)] and unread["score"].isna().all()
    assert "no verdict" in unread["rationale"].iloc[0]
    m = result.metrics
    assert m["unparseable"] == 1 and m["n"] == 5
    scored = frame["score"].dropna()
    assert m["score"] == pytest.approx(scored.mean()) and scored.min() >= 1
    assert m["by_category"]["math"] == pytest.approx(5.0)  # only the readable math verdict counts
    table = result.summary()
    assert list(table["name"]) == ["writing", "math", "turn 1", "turn 2", "overall"]
    overall = table.iloc[-1]
    assert overall["ci95_low"] <= overall["score"] <= overall["ci95_high"] and overall["unparseable"] == 1
    assert m["usage"]["calls"] == 6 and m["usage"]["prompt_tokens"] == 600 and m["usage"]["cost_usd"] == 0.0
    fig = result.figure()
    assert fig.data[0].type == "scatterpolar" and set(fig.data[0].theta) == {"writing", "math"}
    html = result.view(limit=None).data
    assert "<script>" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;b&gt;no verdict&lt;/b&gt;" in html and "unreadable" in html
    assert "Rain taps the roof softly" in html
    runs = workbench.runs()
    assert "judge:single" in set(runs["task"])
    assert JudgeResult.load(result.run_id).metrics == m  # reopened from the store
    other = workbench.judge(saved_run(answers, "model-b"), judge=judge)
    both = category_table(result, other)
    assert list(both["model"].unique()) == ["model-a", "model-b"] and len(both) == 4
    assert [t.name for t in radar(result, other).data] == ["model-a", "model-b"]
    assert "unreadable" in repr(result)


def test_reference_and_turn_options(project):
    run = saved_run({1: ["144", "169"]}, "model-a", references={1: ["144", "169"]})
    never = workbench.judge(run, judge=ScriptedJudge(rating_by_length), reference=False, turns=[1])
    assert list(never.judgments["prompt_name"]) == ["single-en"]
    writing = saved_run({0: ["a", "b"]}, "model-b", references={0: ["ref", "ref2"]})
    always = workbench.judge(writing, judge=ScriptedJudge(rating_by_length), reference=True)
    assert list(always.judgments["prompt_name"]) == ["single-ref-en", "single-ref-multi-en"]


def test_interrupted_judging_resumes(project):
    run = saved_run({0: ["a b c", "d"], 2: ["e f", "g h i"]}, "model-a")
    with pytest.raises(WorkbenchError, match="went away"):
        workbench.judge(run, judge=ScriptedJudge(rating_by_length, fail_at=3), batch_size=1)
    failed = workbench.runs().iloc[0]
    assert failed["task"] == "judge:single" and failed["status"] == "failed"
    assert len(Store().judgments(failed["run_id"])) == 2
    judge = ScriptedJudge(rating_by_length)
    result = workbench.judge(run, judge=judge, batch_size=1)
    assert result.run_id == failed["run_id"] and result.resumed == 2 and len(judge.calls) == 2
    assert len(result.judgments) == 4 and Store().run(result.run_id)["status"] == "complete"


# ---- pairwise -------------------------------------------------------------------------------------------
def prefers_first(text: str) -> str:
    return "The first answer is better. [[A]]"


def prefers_longer(text: str) -> str:
    a = text.split("[Assistant A's answer]")[1].split("[End]")[0]
    b = text.split("[Assistant B's answer]")[1].split("[End]")[0]
    return "[[A]]" if len(a) > len(b) else "[[B]]" if len(b) > len(a) else "[[C]]"


def test_pairwise_in_both_orders_exposes_position_bias(project):
    a = saved_run({0: ["a long detailed answer", "x"], 1: ["short", "y"], 2: ["same", "z"]}, "model-a")
    b = saved_run({0: ["brief", "x"], 1: ["a much longer answer here", "y"], 2: ["same", "z"]}, "model-b")
    biased = workbench.judge(a, b, judge=ScriptedJudge(prefers_first), turns=[1])
    assert len(biased.judgments) == 6 and sorted(biased.judgments["swapped"]) == [0, 0, 0, 1, 1, 1]
    assert set(biased.verdicts()["outcome"]) == {"inconsistent"}
    m = biased.metrics
    assert m["position_bias"] == 1.0 and m["win_rate_adjusted"] == 0.5 and m["wins"] == m["losses"] == 0
    fair = workbench.judge(a, b, judge=ScriptedJudge(prefers_longer), turns=[1])
    outcomes = dict(zip(fair.verdicts()["doc_id"], fair.verdicts()["outcome"]))
    assert outcomes == {0: "a", 1: "b", 2: "tie"}
    m = fair.metrics
    assert (m["wins"], m["losses"], m["ties"], m["inconsistent"], m["position_bias"]) == (1, 1, 1, 0, 0.0)
    assert m["win_rate"] == pytest.approx(1 / 3) and m["win_rate_adjusted"] == pytest.approx(0.5)
    swapped = fair.judgments.set_index(["doc_id", "swapped"])
    assert swapped.loc[(0, 1), "shown_verdict"] == "B" and swapped.loc[(0, 1), "verdict"] == "a"
    table = fair.summary()
    assert list(table["category"]) == ["writing", "math", "overall"] and table.iloc[-1]["model_a"] == "model-a"
    assert fair.figure().data[0].type == "bar"
    html = fair.view().data
    assert "a much longer answer here" in html and "asked B first" in html


def test_pairwise_in_korean_uses_korean_prompts(project):
    ko = {0: ("writing", ["비에 대한 하이쿠를 써 주세요.", "이번에는 눈에 대해."])}
    a, b = saved_run({0: ["빗방울", "눈"]}, "a", ko), saved_run({0: ["비가 온다", "눈이 온다"]}, "b", ko)
    result = workbench.judge(a, b, judge=ScriptedJudge(prefers_first))
    assert set(result.judgments["prompt_name"]) == {"pair-ko", "pair-multi-ko"}
    assert "[어시스턴트 A와의 대화]" in result.judgments["messages"].iloc[-1][1]["content"]


def test_bad_judge_calls_name_the_fix(project):
    run = saved_run({0: ["a", "b"]}, "model-a")
    other = saved_run({1: ["c", "d"]}, "model-b")
    judge = ScriptedJudge(rating_by_length)
    with pytest.raises(WorkbenchError, match="Name the judge model"):
        workbench.judge(run)
    with pytest.raises(WorkbenchError, match="mode must be"):
        workbench.judge(run, judge=judge, mode="best")
    with pytest.raises(WorkbenchError, match="compares two runs"):
        workbench.judge(run, judge=judge, mode="pairwise")
    with pytest.raises(WorkbenchError, match="share no items"):
        workbench.judge(run, other, judge=judge)
    judged = workbench.judge(run, judge=judge)
    with pytest.raises(WorkbenchError, match="itself a judge run"):
        workbench.judge(judged.run_id, judge=judge)
    db = Store()
    arc = db.create_run(
        run_key="k", task="arc_easy", model="m", model_identity={}, data_source="", data_fingerprint="",
        prompt_template="", config={}, versions={}, command="", n_items=1,
    )  # fmt: skip
    with pytest.raises(WorkbenchError, match="no answers yet"):
        workbench.judge(arc, judge=judge)
    db.add_samples(arc, [{"doc_id": 0, "gold": 1, "pred": 0, "loglikelihoods": [-1.0, -2.0]}])
    db.finish_run(arc, {"n": 1})
    with pytest.raises(WorkbenchError, match="no question/answer to judge.*loglikelihoods"):
        workbench.judge(arc, judge=judge)


# ---- judge and people -------------------------------------------------------------------------------------
def vote(db: Store, item: int, annotator: str, winner: str) -> None:
    """A human A/B vote on item ``item`` between model-a (left) and model-b (right)."""
    choice = {"model-a": "A", "model-b": "B"}.get(winner, winner)
    db.add_vote(arena="ab", item_id=str(item), annotator=annotator, left_key=f"l{item}", right_key=f"r{item}",
                model_left="model-a", model_right="model-b", vote=choice,
                winner=winner if winner in ("model-a", "model-b") else choice)  # fmt: skip


def test_judge_and_human_votes_in_one_table_and_one_agreement_call(project):
    a = saved_run({0: ["a long detailed answer", "x"], 1: ["short", "y"], 2: ["same", "z"]}, "model-a")
    b = saved_run({0: ["brief", "x"], 1: ["a much longer answer here", "y"], 2: ["same", "z"]}, "model-b")
    result = workbench.judge(a, b, judge=ScriptedJudge(prefers_longer), turns=[1])  # a, b, tie
    db = Store()
    vote(db, 0, "ana", "model-a")  # agrees
    vote(db, 1, "ana", "model-a")  # disagrees
    vote(db, 2, "ana", "tie")  # agrees (both ties)
    joined = result.with_human()
    assert list(joined["agree"]) == [True, False, True] and set(joined["annotator"]) == {"ana"}
    table = result.agreement().set_index("raters")
    row = table.loc["ana vs judge:scripted-judge"]
    assert row["items"] == 3 and row["agreement"] == pytest.approx(2 / 3)
    assert row["agreement_no_ties"] == pytest.approx(1 / 2)  # the tie item is left out
    # two single-grading results compared through their scores, as in the MT-Bench paper
    judge = ScriptedJudge(rating_by_length)
    single_a, single_b = workbench.judge(a, judge=judge, turns=[1]), workbench.judge(b, judge=judge, turns=[1])
    derived = single_a.agreement(single_b).set_index("raters").loc["ana vs judge:scripted-judge"]
    assert derived["items"] == 3 and derived["agreement"] == pytest.approx(2 / 3)


def test_judge_scores_against_human_ratings(project):
    from workbench import human

    run = saved_run({0: ["one two three four", "x"], 2: ["one two", "y"]}, "model-a")
    result = workbench.judge(run, judge=ScriptedJudge(rating_by_length), turns=[1])  # scores 4 and 2
    items = human.items(run)
    db = Store()
    db.add_items(items.to_dict("records"))
    scale = [str(v) for v in range(1, 11)]
    for key, value in zip(items["item_key"], ["4", "5"]):
        db.add_rating(item_key=key, rubric="1-10", scale=scale, annotator="ana", action="rate", value=value)
    row = result.agreement().set_index("raters").loc["ana vs judge:scripted-judge"]
    assert row["items"] == 2 and row["agreement"] == pytest.approx(0.5)
    db.add_rating(item_key=items["item_key"][0], rubric="1-5", scale=["1", "2", "3", "4", "5"], annotator="bo",
                  action="rate", value="3")  # fmt: skip
    with pytest.raises(WorkbenchError, match="not the judge's 1-10 scale"):
        result.agreement(rubric="1-5")


# ---- the magic and the command line (a real local model as the judge) -------------------------------------
@pytest.mark.integration
@needs_model
def test_llm_judge_magic_and_cli(project, capsys):
    from IPython.testing.globalipapp import get_ipython

    from workbench import cli

    run = saved_run({0: ["Rain falls on the roof.", "Snow."]}, "model-a")
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    assert ip.run_line_magic("llm_judge", f"{run} --judge smollm2-135m --turns 1 --max-new-tokens 4") is None
    judged = ip.user_ns["_judged"]
    assert judged.mode == "single" and len(judged.judgments) == 1 and judged.judge == "smollm2-135m"
    assert Store().run(judged.run_id)["command"].startswith("%llm_judge ")
    assert ip.run_line_magic("llm_judge", f"{run} --turns x --judge smollm2-135m") is None
    assert "--turns takes turn numbers" in capsys.readouterr().err
    assert cli.main(["judge", run, "--judge", "smollm2-135m", "--turns", "2", "--max-new-tokens", "4"]) == 0
    out = capsys.readouterr().out
    assert "JudgeResult(" in out and "overall" in out and "judge usage" in out
    assert cli.main(["judge", run]) == 2 and "Name the judge model" in capsys.readouterr().err
