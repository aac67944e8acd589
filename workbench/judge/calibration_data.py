"""The pairwise votes a judge is calibrated against: MT-Bench's human judgments, a file, a DataFrame or an arena.

Every source becomes one table in the schema of ``lmsys/mt_bench_human_judgments`` (Zheng et al. 2023, CC BY
4.0): question_id, model_a, model_b, winner (model_a / model_b / tie / tie (bothbad)), judge, conversation_a,
conversation_b (lists of {role, content}) and turn. Votes are then put in FastChat's frame
(``compute_agreement.py``): the pair's models sorted by name, the winner swapped with them, so that votes on
(question, pair, turn) from either presentation compare. Who voted decides the vote's role: the dataset's
GPT-4 pair verdicts (judge ``["gpt-4", "pair-v2"]`` or its ``gpt4_pair`` split) are ``gpt4``, MT-Bench's authors
(``author_*``) are left out as in FastChat, everyone else is ``human``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import WorkbenchError

HUB = "lmsys/mt_bench_human_judgments"
SPLITS = ("human", "gpt4_pair")
NEEDED = ("question_id", "model_a", "model_b", "winner", "conversation_a", "conversation_b", "turn")
WINNERS = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "tie"}
ARENA_WINNERS = {"A": "model_a", "B": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}
READERS = {".jsonl": "jsonl", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class Pair:
    """One judged pair: a question's conversation with each model, up to the judged turn (a before b by name)."""

    question_id: Any
    model_a: str
    model_b: str
    turn: int
    questions: tuple[str, ...]
    answers_a: tuple[str, ...]
    answers_b: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (str(self.question_id), self.model_a, self.model_b, self.turn)


def load_votes(dataset: Any, store: Any = None) -> tuple[pd.DataFrame, str]:
    """(rows in the dataset's schema, a name for the source)."""
    if isinstance(dataset, pd.DataFrame):
        return dataset.copy(), "dataframe"
    if not isinstance(dataset, (str, Path)):
        raise WorkbenchError(
            f"dataset= takes 'mt_bench_human', a file, a DataFrame or 'arena[:NAME]', not {type(dataset).__name__}."
        )
    text = str(dataset)
    if text == "mt_bench_human":
        return _hub(), HUB
    if text == "arena" or text.startswith("arena:"):
        name = text.partition(":")[2] or None
        return arena_votes(name, store), text
    path = Path(text).expanduser()
    if path.suffix.lower() not in READERS:
        raise WorkbenchError(
            f"dataset={text!r} is neither 'mt_bench_human', 'arena[:NAME]' nor a .jsonl/.json/.csv/.parquet file."
        )
    if not path.is_file():
        raise WorkbenchError(f"No file {path}: give the path of a JSONL/JSON/CSV/Parquet file of pairwise votes.")
    kind = READERS[path.suffix.lower()]
    if kind == "parquet":
        return pd.read_parquet(path), str(path)
    if kind == "csv":
        return pd.read_csv(path), str(path)
    return pd.read_json(path, lines=kind == "jsonl", dtype=False), str(path)


def _hub() -> pd.DataFrame:
    try:
        from datasets import load_dataset

        loaded = load_dataset(HUB)
    except Exception as exc:  # offline, no access: the message says what to do instead
        raise WorkbenchError(
            f"Could not load {HUB} from the Hugging Face hub ({type(exc).__name__}: {str(exc)[:200]}). Download it "
            "where the hub is reachable and pass dataset='FILE.jsonl' (its rows in the same schema)."
        ) from exc
    frames = [loaded[s].to_pandas().assign(judge_role=s) for s in SPLITS if s in loaded]
    return pd.concat(frames, ignore_index=True)


def arena_votes(arena: str | None, store: Any = None) -> pd.DataFrame:
    """The store's A/B votes (of one arena) in the dataset's schema: each vote one first-turn judgment."""
    from ..human import votes

    table = votes(arena=arena, store=store)
    table = table[table["vote"].isin(list(ARENA_WINNERS))]
    if table.empty:
        where = f" in arena {arena!r}" if arena else ""
        raise WorkbenchError(f"No A/B votes{where} in the store; collect some with workbench.arena(run_a, run_b).")
    prompts = table["prompt_left"].fillna("")
    return pd.DataFrame(
        {
            "question_id": table["item_id"].astype(str),
            "model_a": table["model_left"],
            "model_b": table["model_right"],
            "winner": table["vote"].map(ARENA_WINNERS),
            "judge": table["annotator"],
            "conversation_a": [_chat(q, a) for q, a in zip(prompts, table["output_left"].fillna(""))],
            "conversation_b": [_chat(q, a) for q, a in zip(prompts, table["output_right"].fillna(""))],
            "turn": 1,
        }
    ).reset_index(drop=True)


def _chat(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def role_of(judge: Any, default: str = "human") -> str:
    """'gpt4' for a GPT-4 pair verdict, 'author' for MT-Bench's authors (left out, as FastChat), else default."""
    if isinstance(judge, (list, tuple)) or hasattr(judge, "tolist"):  # the hub's ["gpt-4", "pair-v2"]
        parts = [str(p) for p in list(judge)]
        if len(parts) >= 2 and parts[0] == "gpt-4" and parts[1].startswith("pair"):
            return "gpt4"
        judge = " ".join(parts)
    text = str(judge or "")
    if text.startswith("author"):
        return "author"
    return "gpt4" if "gpt-4" in text and "pair" in text else default


def normalize(rows: pd.DataFrame, source: str, turns: Sequence[int]) -> tuple[pd.DataFrame, list[Pair]]:
    """(votes: key, question_id, pair index, role, judge, vote 'a'/'b'/'tie' in the sorted frame, the pairs)."""
    missing = [c for c in NEEDED if c not in rows.columns]
    if missing:
        raise WorkbenchError(
            f"The votes of {source} lack the field(s) {', '.join(missing)} (they have {', '.join(map(str, rows))}). "
            f"Give rows in the schema of {HUB}: {', '.join(NEEDED)} (and judge, who voted)."
        )
    unknown = sorted({str(w) for w in rows["winner"] if w not in WINNERS})
    if unknown:
        raise WorkbenchError(f"winner must be one of {', '.join(WINNERS)} (found {', '.join(unknown[:5])}).")
    rows = rows[rows["turn"].astype(int).isin(list(turns))]
    roles = rows["judge_role"] if "judge_role" in rows else [None] * len(rows)
    judges = rows["judge"] if "judge" in rows else ["human"] * len(rows)
    pairs: dict[tuple[str, str, str, int], Pair] = {}
    out = []
    for r, split, judge in zip(rows.to_dict("records"), roles, judges):
        first, second = sorted([str(r["model_a"]), str(r["model_b"])])
        flipped = first != str(r["model_a"])
        conv = {"a": _turns(r["conversation_a"], source), "b": _turns(r["conversation_b"], source)}
        turn = int(r["turn"])
        vote = WINNERS[r["winner"]]
        if flipped:
            conv = {"a": conv["b"], "b": conv["a"]}
            vote = {"a": "b", "b": "a"}.get(vote, vote)
        pair = Pair(r["question_id"], first, second, turn, *_sides(conv, turn, r["question_id"], source))
        pairs.setdefault(pair.key, pair)
        role = "gpt4" if split == "gpt4_pair" else role_of(judge)
        out.append({"key": pair.key, "question_id": str(r["question_id"]), "turn": turn, "role": role,
                    "judge": str(judge), "vote": vote})  # fmt: skip
    table = pd.DataFrame(out, columns=["key", "question_id", "turn", "role", "judge", "vote"])
    index = {k: i for i, k in enumerate(pairs)}
    table.insert(1, "pair", table["key"].map(index))
    return table[table["role"] != "author"].reset_index(drop=True), list(pairs.values())


def _turns(conversation: Any, source: str) -> list[dict[str, str]]:
    if isinstance(conversation, str):
        try:
            conversation = json.loads(conversation)
        except json.JSONDecodeError as exc:
            raise WorkbenchError(f"A conversation in {source} is text but not JSON: {conversation[:80]!r}.") from exc
    messages = [dict(m) for m in conversation]
    if not all("role" in m and "content" in m for m in messages):
        raise WorkbenchError(f"Conversations in {source} are lists of {{role, content}} messages.")
    return messages


def _sides(conv: dict[str, list[dict[str, str]]], turn: int, qid: Any, source: str) -> tuple[tuple[str, ...], ...]:
    questions = tuple(m["content"] for m in conv["a"] if m["role"] == "user")[:turn]
    answers = [tuple(m["content"] for m in conv[s] if m["role"] == "assistant")[:turn] for s in ("a", "b")]
    if len(questions) < turn or any(len(a) < turn for a in answers):
        raise WorkbenchError(
            f"Question {qid} in {source} is judged at turn {turn} but its conversations hold fewer turns."
        )
    return (questions, answers[0], answers[1])
