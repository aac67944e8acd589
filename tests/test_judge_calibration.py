"""Calibrating a judge against people's pairwise votes: the paper's arithmetic on a hand-computed example, the
data sources (rows in the hub dataset's schema, a Korean DataFrame, the store's arena votes), bad input, the
early stop on a judge that never answers in the format, resuming, and a real served model as the judge.

The judge is a scripted model (its reply is a function of the prompt), as in test_judge.py.
"""

from __future__ import annotations

import html
import json

import pandas as pd
import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.judge.calibration_stats import PUBLISHED, metrics_table
from workbench.store import Store

from .serving import served  # noqa: F401 (fixture)
from .test_judge import ScriptedJudge


def answers_in(text: str) -> tuple[str, str]:
    """The two answers shown (English or Korean prompt)."""
    ko = "[어시스턴트 A의 답변]" in text
    mark, end = ("[어시스턴트 {}의 답변]", "[끝]") if ko else ("[Assistant {}'s answer]", "[End]")
    return tuple(text.split(mark.format(s))[1].split(end)[0].strip() for s in "AB")  # type: ignore[return-value]


def scripted(text: str) -> str:
    """Prefers the longer answer ([[C]] on equal lengths); 'FIRST' questions: always A (position bias); 'SHORT':
    the shorter; 'MUMBLE': no verdict at all."""
    if "MUMBLE" in text:
        return "Both answers have merits."
    if "FIRST" in text:
        return "[[A]]"
    a, b = answers_in(text)
    if len(a) == len(b):
        return "[[C]]"
    return "[[A]]" if (len(a) > len(b)) != ("SHORT" in text) else "[[B]]"


def chat(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def row(qid, question, a, b, winner, judge="expert_0", model_a="m1", model_b="m2") -> dict:
    return {"question_id": qid, "model_a": model_a, "model_b": model_b, "winner": winner, "judge": judge,
            "conversation_a": chat(question, a), "conversation_b": chat(question, b), "turn": 1}  # fmt: skip


GPT4 = ["gpt-4", "pair-v2"]
# pair (m1 = a, m2 = b)     m1's answer        m2's answer           judge     people's votes            GPT-4
# q1                         longer              shorter                a         a (agree), tie (no)       a
# q2 (shown m2 first)        shorter             longer                 b         a (no), b (agree)         b
# q3                         equal               equal                  tie       tie, tie (bothbad) (both) -
# q4 FIRST                   -                   -                      flips->tie b (no)                   -
# q5 MUMBLE                  -                   -                      unreadable a (left out)             -
# q6 SHORT                   shorter             longer                 a         a (agree)                 b
ROWS = [
    row(1, "Explain tides.", "the moon pulls the sea", "gravity", "model_a"),
    row(1, "Explain tides.", "the moon pulls the sea", "gravity", "tie", judge="expert_1"),
    row(1, "Explain tides.", "the moon pulls the sea", "gravity", "model_a", judge=GPT4),
    row(2, "Name a colour.", "a fine deep blue", "red", "model_b", model_a="m2", model_b="m1"),  # m1 won
    row(2, "Name a colour.", "red", "a fine deep blue", "model_b", judge="expert_1"),
    row(2, "Name a colour.", "red", "a fine deep blue", "model_b", judge=GPT4),
    row(3, "Say a word.", "same", "four", "tie"),
    row(3, "Say a word.", "same", "four", "tie (bothbad)", judge="expert_1"),
    row(4, "FIRST: pick one.", "one", "two!", "model_b"),
    row(5, "MUMBLE: anything?", "yes", "no", "model_a"),
    row(6, "SHORT: be brief.", "ok", "a long rambling reply", "model_a"),
    row(6, "SHORT: be brief.", "ok", "a long rambling reply", "model_b", judge=GPT4),
    row(7, "Only authors voted.", "x", "y", "model_a", judge="author_0"),  # left out, as FastChat
]


def value(table: pd.DataFrame, metric: str) -> float:
    return float(table.set_index("metric").loc[metric, "value"])


def test_agreement_arithmetic_is_the_papers_on_a_hand_computed_example(project):
    judge = ScriptedJudge(scripted)
    result = workbench.judge.calibrate(judge=judge, dataset=pd.DataFrame(ROWS), turns=[1])
    assert len(judge.calls) == 12  # 6 judged pairs (q7 has no expert vote), both orders
    outcomes = dict(zip(result.verdicts["question_id"], result.verdicts["outcome"]))
    assert outcomes == {"1": "a", "2": "b", "3": "tie", "4": "inconsistent", "5": "unparseable", "6": "a"}
    t = result.summary()
    # matched (judge, human) votes on readable pairs: q1 (a,a) (a,tie); q2 (b,a) (b,b); q3 (tie,tie) (tie,tie);
    # q4 (tie,b); q6 (a,a): 5 agree of 8 -> S1 = 5/8
    assert value(t, "agreement with human (S1, ties)") == pytest.approx(5 / 8)
    # S2 leaves out every comparison with a tie: (a,a) (b,a) (b,b) (a,a) -> 3/4
    assert value(t, "agreement with human (S2, no ties)") == pytest.approx(3 / 4)
    # kappa: both raters a 3, b 2, tie 3 of 8; p_o = 5/8, p_e = (9+4+9)/64 = 22/64 -> (40-22)/(64-22) = 3/7
    assert value(t, "Cohen's kappa with human") == pytest.approx(3 / 7)
    # GPT-4's own verdicts: q1 a (judge a), q2 b (judge b), q6 b (judge a) -> 2/3 with and without ties
    assert value(t, "agreement with GPT-4 pair (S1, ties)") == pytest.approx(2 / 3)
    assert value(t, "agreement with GPT-4 pair (S2, no ties)") == pytest.approx(2 / 3)
    # position bias: 1 of the 5 readable pairs (q4) flips with the order
    assert value(t, "position bias (orders disagree)") == pytest.approx(1 / 5)
    # decisive verdicts q1 (longer), q2 (longer), q6 (shorter) -> 2/3 for the longer answer
    assert value(t, "decisive verdicts for the longer answer") == pytest.approx(2 / 3)
    assert value(t, "unreadable verdicts (pairs)") == 1
    s1 = t.set_index("metric").loc["agreement with human (S1, ties)"]
    assert s1["n"] == 8 and s1["published"] == PUBLISHED["GPT-4 pair vs human"]["s1"] == 0.66
    assert s1["ci95_low"] <= s1["value"] <= s1["ci95_high"]
    m = result.metrics
    assert m["s1"] == pytest.approx(5 / 8) and m["unreadable"] == 1 and m["usage"]["calls"] == 12
    run = Store().run(result.run_id)
    assert run["task"] == "judge:calibration" and run["status"] == "complete"
    assert run["config"]["temperature"] == 0.0 and run["config"]["seed"] is None and run["config"]["repeats"] == 1
    # the disagreements, named by model, with both answers; the HTML escapes them
    wrong = result.disagreements()
    assert sorted(zip(wrong["question_id"], wrong["human_vote"], wrong["judge_verdict"])) == [
        ("1", "tie", "m1"), ("2", "m1", "m2"), ("4", "m2", "tie")]  # fmt: skip
    assert set(wrong["answer_b"]) >= {"a fine deep blue"}
    fig = result.figure()
    assert [tr.name for tr in fig.data][1:] == ["GPT-4 pair vs human (paper)", "human vs human (paper)"]
    assert list(fig.data[0].y) == [pytest.approx(5 / 8), pytest.approx(3 / 4)]
    # rerunning the same call reopens the finished run: no judge call again
    again = ScriptedJudge(scripted)
    same = workbench.judge.calibrate(judge=again, dataset=pd.DataFrame(ROWS), turns=[1])
    assert same.run_id == result.run_id and again.calls == []


def test_metrics_table_by_hand_without_a_judge():
    votes = pd.DataFrame({"pair": [0, 0, 1], "question_id": ["q", "q", "r"], "turn": 1, "role": "human",
                          "vote": ["a", "b", "tie"]})  # fmt: skip
    verdicts = pd.DataFrame({"pair": [0, 1], "question_id": ["q", "r"], "turn": 1, "outcome": ["a", "inconsistent"],
                             "len_a": [5, 3], "len_b": [2, 3]})  # fmt: skip
    t = metrics_table(votes, verdicts, [1])
    assert value(t, "agreement with human (S1, ties)") == pytest.approx(2 / 3)  # (a,a) (a,b) (tie,tie)
    assert value(t, "agreement with human (S2, no ties)") == pytest.approx(1 / 2)  # (a,a) (a,b)
    assert value(t, "position bias (orders disagree)") == pytest.approx(1 / 2)
    assert value(t, "decisive verdicts for the longer answer") == 1.0
    assert "agreement with GPT-4 pair (S1, ties)" not in set(t["metric"])  # no GPT-4 votes in the data


def test_repeats_take_the_majority_and_record_the_spread(project, capsys):
    replies = iter(["[[A]]", "[[A]]", "[[B]]"] * 100)
    judge = ScriptedJudge(lambda text: next(replies))
    rows = pd.DataFrame(ROWS[:2])
    result = workbench.judge.calibrate(judge=judge, dataset=rows, turns=[1], repeats=3, temperature=0.7, seed=5)
    assert len(judge.calls) == 6 and sorted({r.seed for r in judge.calls}) == [5, 6, 7]
    assert {r.temperature for r in judge.calls} == {0.7}
    (spread,) = result.verdicts["repeat_agreement"]
    assert spread == pytest.approx(2 / 3)
    config = Store().run(result.run_id)["config"]
    assert (config["repeats"], config["temperature"], config["seed"]) == (3, 0.7, 5)
    workbench.judge.calibrate(judge=ScriptedJudge(scripted), dataset=rows, turns=[1], repeats=2)
    assert "repeats are identical" in capsys.readouterr().err


def test_a_judge_with_no_readable_verdict_stops_early(project):
    judge = ScriptedJudge(lambda text: "I think <b>both</b> are fine " * 20)
    rows = pd.DataFrame([row(i, f"Question {i}?", "yes", "no", "model_a") for i in range(10)])
    with pytest.raises(WorkbenchError, match=r"scripted-judge gave no readable verdict .* first 4 replies") as info:
        workbench.judge.calibrate(judge=judge, dataset=rows, turns=[1], stop_unreadable=4, batch_size=1)
    assert len(judge.calls) == 4 and "<b>both</b>" in str(info.value) and len(str(info.value)) < 600
    # never stopping: every verdict is counted as unreadable, none is scored, nothing disagrees
    kept = workbench.judge.calibrate(judge=judge, dataset=rows.head(2), turns=[1], stop_unreadable=None)
    assert kept.metrics["unreadable"] == 2 and kept.metrics["s1"] != kept.metrics["s1"]  # NaN: nothing compared
    assert kept.disagreements().empty and "unreadable" in repr(kept)


def test_bad_input_names_the_fix(project, tmp_path):
    judge = ScriptedJudge(scripted)
    frame = pd.DataFrame(ROWS)
    with pytest.raises(WorkbenchError, match="limit must be a whole number of at least 1"):
        workbench.judge.calibrate(judge=judge, dataset=frame, limit=0)
    with pytest.raises(WorkbenchError, match="lack the field.*winner, conversation_a"):
        workbench.judge.calibrate(judge=judge, dataset=frame.drop(columns=["winner", "conversation_a"]))
    with pytest.raises(WorkbenchError, match="turns are MT-Bench's turns"):
        workbench.judge.calibrate(judge=judge, dataset=frame, turns=[3])
    with pytest.raises(WorkbenchError, match="holds no human votes at turn"):
        workbench.judge.calibrate(judge=judge, dataset=frame, turns=[2])
    with pytest.raises(WorkbenchError, match="winner must be one of"):
        workbench.judge.calibrate(judge=judge, dataset=frame.assign(winner="left"))
    with pytest.raises(WorkbenchError, match="No file"):
        workbench.judge.calibrate(judge=judge, dataset=str(tmp_path / "votes.jsonl"))
    with pytest.raises(WorkbenchError, match="Name the judge"):
        workbench.judge.calibrate(dataset=frame)
    with pytest.raises(WorkbenchError, match="fewer turns"):
        workbench.judge.calibrate(judge=judge, dataset=frame.assign(turn=2), turns=[2])
    assert judge.calls == []


def test_a_korean_file_of_ones_own_votes(project, tmp_path):
    rows = [
        row("k1", "서울의 수도 역할을 설명해 주세요.", "서울은 대한민국의 수도로 정치와 경제의 중심입니다.", "수도",
            "model_a", model_a="우리-모델", model_b="기준-모델", judge="민수"),
        row("k2", "짧게 인사해 주세요.", "안녕", "안녕하세요, 반갑습니다!", "model_b", judge="지은"),
    ]  # fmt: skip
    path = tmp_path / "votes.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    judge = ScriptedJudge(lambda text: "[[A]]" if len(answers_in(text)[0]) > len(answers_in(text)[1]) else "[[B]]")
    result = workbench.judge.calibrate(judge=judge, dataset=str(path), turns=[1])
    assert all("[어시스턴트 A의 답변]" in r.prompt[-1]["content"] for r in judge.calls)
    assert value(result.summary(), "agreement with human (S1, ties)") == 1.0
    assert result.source == str(path)


def test_the_stores_own_arena_votes(project):
    db = Store()
    items = []
    shown = [("a careful long answer", "short"), ("<script>x</script>", "a much longer reply here")]
    for i, (left, right) in enumerate(shown):
        items += [{"item_key": f"l{i}", "item_id": str(i), "model": "left-model", "prompt": f"Q{i} <b>?</b>",
                   "output": left}, {"item_key": f"r{i}", "item_id": str(i), "model": "right-model",
                   "prompt": f"Q{i} <b>?</b>", "output": right}]  # fmt: skip
    db.add_items(items)
    for i, choice in enumerate(["A", "A"]):
        db.add_vote(arena="team", item_id=str(i), annotator="ana", left_key=f"l{i}", right_key=f"r{i}",
                    model_left="left-model", model_right="right-model", vote=choice, winner="left-model")  # fmt: skip
    result = workbench.judge.calibrate(judge=ScriptedJudge(scripted), dataset="arena:team", turns=[1])
    assert value(result.summary(), "agreement with human (S1, ties)") == pytest.approx(1 / 2)
    markup = result._repr_html_()
    assert "&lt;script&gt;x&lt;/script&gt;" in markup and "<script>x" not in markup
    with pytest.raises(WorkbenchError, match="No A/B votes in arena 'other'"):
        workbench.judge.calibrate(judge=ScriptedJudge(scripted), dataset="arena:other")


def test_calibrate_is_reached_as_workbench_judge_calibrate():
    from workbench.judge.calibration import calibrate

    # the lazy export is the callable package itself (as the attribute an import of a submodule leaves)
    judge = workbench.__getattr__("judge")
    assert judge is workbench.judge and judge.calibrate is calibrate and workbench.calibrate_judge is calibrate
    with pytest.raises(WorkbenchError, match="Name the judge model"):
        judge("1a2b3c4d")  # calling it still runs judge.core.judge


@pytest.mark.integration
def test_a_served_model_as_the_judge_on_rows_in_the_datasets_schema(served, project):  # noqa: F811
    rows = pd.DataFrame([row(1, "What colour is the sky?", "Blue.", "Green, always.", "model_a"),
                         row(2, "2 + 2?", "4", "5", "model_a", judge="expert_1")])  # fmt: skip
    result = workbench.judge.calibrate(judge=served.spec, dataset=rows, turns=[1], max_new_tokens=8, terse=True,
                                       stop_unreadable=None)  # fmt: skip
    saved = Store().judgments(result.run_id)
    assert len(saved) == 4 and saved["judge_output"].map(len).gt(0).all()
    unreadable = int((result.verdicts["outcome"] == "unparseable").sum())
    assert result.metrics["unreadable"] == unreadable and result.metrics["usage"]["calls"] == 4
    s1 = result.summary().set_index("metric").loc["agreement with human (S1, ties)"]
    assert s1["n"] == 2 - unreadable and (s1["value"] != s1["value"] or 0 <= s1["value"] <= 1)
    assert html.escape(saved["judge_output"].iloc[0]) in result._repr_html_() or not len(result.disagreements())


def test_magic_and_cli_reach_calibrate_and_report_bad_input(project, capsys):
    from IPython.testing.globalipapp import get_ipython

    from workbench import cli

    path = project / "votes.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS[:2]), encoding="utf-8")
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    assert ip.run_line_magic("llm_judge_calibrate", f"--judge smollm2-135m --dataset {path} --limit 0") is None
    assert "limit must be a whole number of at least 1" in capsys.readouterr().err
    assert ip.run_line_magic("llm_judge_calibrate", "--judge smollm2-135m --dataset nowhere.csv") is None
    assert "No file" in capsys.readouterr().err
    assert cli.main(["judge-calibrate", "--dataset", str(path), "--turns", "3"]) == 2
    assert "Name the judge to calibrate" in capsys.readouterr().err


def test_second_turns_are_judged_with_the_whole_conversation(project):
    def two_turns(qid, a, b, winner, turn):
        first = ["Write a word.", "Now a longer one."]
        conv = [lambda ans: [m for q, x in zip(first, ans) for m in chat(q, x)]][0]
        return {"question_id": qid, "model_a": "m1", "model_b": "m2", "winner": winner, "judge": "expert_0",
                "conversation_a": conv(a), "conversation_b": conv(b), "turn": turn}  # fmt: skip

    rows = pd.DataFrame([two_turns(1, ["hi", "hello there"], ["hey", "yo"], "model_a", 1),
                         two_turns(1, ["hi", "hello there"], ["hey", "yo"], "model_a", 2)])  # fmt: skip

    def judge_reply(text: str) -> str:  # m1's "hello there" wins turn 2; turn 1 ("hi" / "hey") is a tie
        if "hello there" not in text:
            return "[[C]]"
        return "[[A]]" if text.index("hello there") < text.index("yo") else "[[B]]"

    judge = ScriptedJudge(judge_reply)
    result = workbench.judge.calibrate(judge=judge, dataset=rows)
    names = [r.prompt[-1]["content"] for r in judge.calls]
    assert len(names) == 4 and sum("Now a longer one." in n for n in names) == 2
    table = result.table()
    assert set(table["turn"]) == {"1", "2", "all"}
    s1 = table[table["metric"] == "agreement with human (S1, ties)"].set_index("turn")["value"]
    assert s1["2"] == 1.0 and s1["all"] == pytest.approx(s1[["1", "2"]].mean())
    assert s1["1"] == 0.0  # a tie against the expert's m1
    assert result.figure().data[0].type == "bar" and "hey" in result._repr_html_()  # the turn-1 disagreement
