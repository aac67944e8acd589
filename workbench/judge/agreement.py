"""The judge beside the people: its verdicts joined with human votes or ratings, and their agreement.

The judge becomes one more annotator (``judge:<model>``) in the tables of ``workbench.human``, and agreement is
computed by ``workbench.human.agreement``: agreement with ties (MT-Bench's S1), without ties (S2), Cohen's kappa
and Krippendorff's alpha. Pairwise judge verdicts compare with blind A/B votes (an inconsistent verdict is a
tie); two single-grading results compare with votes through their scores (the higher score wins, as in the
MT-Bench paper); one single-grading result compares with 1-10 ratings of the same run's answers. Human
judgments are of first answers (what rating panels show of an MT-Bench run), so ``turn`` defaults to 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import WorkbenchError

if TYPE_CHECKING:  # results imports this module for JudgeResult.agreement: only the annotations need the class
    from .results import JudgeResult

VOTE = {"a": "A", "b": "B", "tie": "tie", "inconsistent": "tie"}
JUDGE_SCALE = [str(v) for v in range(1, 11)]


def _outcomes(results: Sequence[JudgeResult], turn: int) -> pd.DataFrame:
    """doc_id, outcome ('a', 'b', 'tie', 'inconsistent') from one pairwise or two single results."""
    if len(results) == 1 and results[0].mode == "pairwise":
        table = results[0].verdicts()
        table = table[(table["turn"] == turn) & (table["outcome"] != "unparseable")]
        return table[["doc_id", "outcome"]]
    if len(results) == 2 and all(r.mode == "single" for r in results):
        a, b = (r.scores() for r in results)
        both = (
            a[a["turn"] == turn]
            .merge(b[b["turn"] == turn], on="doc_id", suffixes=("_a", "_b"))
            .dropna(subset=["score_a", "score_b"])
        )
        outcome = ["a" if x > y else "b" if y > x else "tie" for x, y in zip(both["score_a"], both["score_b"])]
        return pd.DataFrame({"doc_id": both["doc_id"], "outcome": outcome})
    raise WorkbenchError("Compare human votes with one pairwise judge result, or with two single-grading results.")


def judge_votes(*results: JudgeResult, turn: int = 1, names: Sequence[str] | None = None) -> pd.DataFrame:
    """The judge's verdicts as rows of a ``workbench.votes()`` table (annotator ``judge:<model>``).

    ``names`` renames the two compared models, as ``workbench.arena(..., names=...)`` does for people.
    Unreadable verdicts are left out.
    """
    models = results[0].models if len(results) == 1 else [r.models[0] for r in results]
    a, b = list(names) if names else models[:2]
    if a == b:
        raise WorkbenchError(f"Both runs are from {a!r}; give them distinct names=[...] as in workbench.arena.")
    outcomes = _outcomes(results, turn)
    vote = outcomes["outcome"].map(VOTE)
    return pd.DataFrame(
        {
            "arena": "judge",
            "item_id": outcomes["doc_id"].astype(str),
            "annotator": f"judge:{results[0].judge}",
            "model_left": a,
            "model_right": b,
            "vote": vote,
            "winner": [{"A": a, "B": b}.get(v, "tie") for v in vote],
        }
    )


def with_human(
    *results: JudgeResult,
    arena: str | None = None,
    turn: int = 1,
    names: Sequence[str] | None = None,
    store: str | None = None,
) -> pd.DataFrame:
    """Judge verdicts and human votes on the same items in one table (one row per human vote).

    Columns: item_id, model_left, model_right, judge_winner, annotator, human_winner, agree.
    """
    judged = judge_votes(*results, turn=turn, names=names)
    people = _human_votes(judged, arena, store or results[0].store_path)
    people = people.assign(human_winner=people["winner"].where(~people["vote"].isin(["tie", "both_bad"]), "tie"))
    joined = judged[["item_id", "model_left", "model_right", "winner"]].rename(columns={"winner": "judge_winner"})
    out = joined.merge(people[["item_id", "annotator", "human_winner"]], on="item_id", how="inner")
    out["agree"] = out["judge_winner"] == out["human_winner"]
    return out.reset_index(drop=True)


def _human_votes(judged: pd.DataFrame, arena: str | None, store) -> pd.DataFrame:
    from .. import human

    pair = {judged["model_left"].iloc[0], judged["model_right"].iloc[0]} if len(judged) else set()
    votes = human.votes(arena=arena, store=store)
    mask = [{left, right} == pair for left, right in zip(votes["model_left"], votes["model_right"])]
    return votes[mask]


def agreement(
    *results: JudgeResult,
    arena: str | None = None,
    rubric: str | None = None,
    turn: int = 1,
    names: Sequence[str] | None = None,
    store: str | None = None,
) -> pd.DataFrame:
    """Judge-human agreement, with ties (``agreement``, S1) and without (``agreement_no_ties``, S2), and kappa.

    Pairwise result(s): against the A/B votes on the same two models (``arena`` picks one session). One
    single-grading result: against 1-10 ratings of that run's answers (``rubric``, default '1-10').
    """
    from .. import human

    where = store or results[0].store_path
    if len(results) == 1 and results[0].mode == "single":
        return human.agreement(_rating_frame(results[0], rubric or "1-10", turn, where), level="ordinal")
    judged = judge_votes(*results, turn=turn, names=names)
    people = _human_votes(judged, arena, where)
    if people.empty:
        raise WorkbenchError(
            f"No human votes compare {judged['model_left'].iloc[0]!r} with {judged['model_right'].iloc[0]!r}"
            f"{f' in arena {arena!r}' if arena else ''}. Collect some with workbench.arena(run_a, run_b)."
        )
    columns = ["arena", "item_id", "annotator", "model_left", "model_right", "vote", "winner"]
    return human.agreement(pd.concat([judged[columns], people[columns]], ignore_index=True))


def _rating_frame(result: JudgeResult, rubric: str, turn: int, store) -> pd.DataFrame:
    """item / annotator / value rows: the judge's 1-10 scores and people's ratings of the same answers."""
    from .. import human

    rated = human.ratings(rubric=rubric, store=store)
    if rated.empty:
        raise WorkbenchError(
            f"No human ratings with rubric {rubric!r}. Rate the run's answers on the judge's scale with "
            f"workbench.rate({result.runs[0]!r}, rubric='1-10')."
        )
    keys = human.items(result.runs[0], store=store)[["item_key", "item_id"]]
    scores = result.scores()
    scores = scores[(scores["turn"] == turn) & scores["score"].notna()]
    scores = scores.assign(item_id=scores["doc_id"].astype(str))
    judge_rows = scores.merge(keys, on="item_id")[["item_key", "score"]]
    judge_rows = pd.DataFrame(
        {"item": judge_rows["item_key"], "annotator": f"judge:{result.judge}", "value": judge_rows["score"].round()}
    )
    people = rated[rated["item_key"].isin(keys["item_key"])]
    if any(json.loads(scale) != JUDGE_SCALE for scale in people["scale"]):
        raise WorkbenchError(
            f"Rubric {rubric!r} is not the judge's 1-10 scale; compare the judge with ratings made with rubric='1-10'."
        )
    values = people["value"].astype(int)
    human_rows = pd.DataFrame({"item": people["item_key"], "annotator": people["annotator"], "value": values})
    return pd.concat([judge_rows.astype({"value": int}), human_rows], ignore_index=True)
