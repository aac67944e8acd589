"""Is your judge as good as the paper's? Calibrate any judge against human pairwise votes.

    result = workbench.judge.calibrate(judge="openai:gpt-4o-mini", dataset="mt_bench_human", limit=200)
    result.table(); result.figure(); result.disagreements(); result.summary()

Runs the MT-Bench paper's experiment (Zheng et al. 2023, Table 5; FastChat ``compute_agreement.py``) on the judge
you choose: every judged pair (question, two models, turn) of the votes is put to the judge in both orders through
``judge.core`` (the same prompts, parsing and storage as ``workbench.judge``: one resumable judge run, every call
saved with its tokens), and its verdicts are compared with the people's votes (``calibration_stats``). The votes
come from ``lmsys/mt_bench_human_judgments``, a file or DataFrame in its schema, or the store's arena votes
(``calibration_data``). ``repeats=k`` asks every verdict k times (at ``temperature``; seed + k per repeat) and
takes the majority, recording how often the repeats agreed. Judge calls are stored with doc_id
``pair * repeats + repeat``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .. import options
from ..errors import WorkbenchError, check_count, notice
from ..models.base import Model
from ..store import Store
from . import core, prompts
from .calibration_data import Pair, load_votes, normalize
from .calibration_stats import PUBLISHED, SOURCE, majority, matched, metrics_table
from .parse import combine

TURNS = (1, 2)  # MT-Bench's turns


def calibrate(
    judge: str | Model | None = None,
    dataset: Any = "mt_bench_human",
    *,
    limit: int | None = None,
    turns: Sequence[int] | None = None,
    repeats: int = 1,
    temperature: float = 0.0,
    seed: int | None = None,
    language: str = "auto",
    terse: bool = False,
    max_new_tokens: int = 1024,
    stop_unreadable: int | None = 10,
    batch_size: int = 8,
    separate: bool = False,
    store: str | Path | None = None,
    command: str | None = None,
) -> CalibrationResult:
    """Judge every pair the people voted on, in both orders, and measure agreement with them.

    ``dataset``: 'mt_bench_human' (the hub's ``lmsys/mt_bench_human_judgments``, both splits), a JSONL/JSON/CSV/
    Parquet file or a DataFrame in its schema, or 'arena' / 'arena:NAME' (this store's A/B votes). ``limit``:
    the first N judged pairs. ``turns``: [1], [2] or both (default). ``stop_unreadable``: stop when that many
    first judge calls hold no readable verdict at all (None: never). Repeating the call resumes it; a finished
    one is reopened.
    """
    from ..data import fingerprint
    from ..run import lifecycle
    from ..store.runs import run_key

    if judge is None:
        raise WorkbenchError("Name the judge to calibrate: judge='openai:gpt-4o-mini' or a local model spec.")
    for name, value in (("limit", limit), ("max_new_tokens", max_new_tokens), ("batch_size", batch_size)):
        check_count(name, value, 1)
    check_count("repeats", repeats, 1, required=True)
    check_count("stop_unreadable", stop_unreadable, 1)
    turns = list(TURNS) if turns is None else [turns] if isinstance(turns, int) else list(turns)
    if not turns or any(t not in TURNS for t in turns):
        raise WorkbenchError(f"turns are MT-Bench's turns 1 and/or 2, e.g. turns=[1] (got {turns!r}).")
    if language not in ("auto", *prompts.WORDINGS):
        raise WorkbenchError(f"language must be 'auto', 'en' or 'ko' (got {language!r}).")
    if not isinstance(temperature, (int, float)) or temperature < 0:
        raise WorkbenchError(f"temperature must be a number of at least 0 (got {temperature!r}).")
    if repeats > 1 and temperature == 0:
        notice(f"repeats={repeats} at temperature 0: the repeats are identical answers unless a temperature is set.")

    rows, source = load_votes(dataset, store)
    votes, pairs = normalize(rows, source, turns)
    pairs = [p for i, p in enumerate(pairs) if i in set(votes.loc[votes["role"] == "human", "pair"])]
    if not pairs:
        raise WorkbenchError(f"{source} holds no human votes at turn(s) {', '.join(map(str, turns))}.")
    pairs = pairs[:limit] if limit else pairs
    index = {p.key: i for i, p in enumerate(pairs)}
    votes = votes[votes["key"].isin(index)].assign(pair=lambda v: v["key"].map(index)).reset_index(drop=True)

    calls = _calls(pairs, repeats, language, terse)
    judge_name, identity, load = core._judge_model(judge)
    used = prompts.templates(sorted({c.prompt_name for c in calls}))
    values = {"judge": judge_name, "dataset": dataset, "limit": limit, "turns": turns, "repeats": repeats,
              "temperature": float(temperature), "seed": seed, "language": language, "terse": terse,
              "max_new_tokens": max_new_tokens, "stop_unreadable": stop_unreadable, "batch_size": batch_size,
              "separate": separate, "store": store}  # fmt: skip
    config = {**options.config(options.JUDGE_CALIBRATE, values), "mode": "pairwise", "pairs": len(pairs)}
    data_fp = fingerprint([vars(p) for p in pairs])
    key = {"judge": identity["fingerprint"], "data": data_fp, "prompts": used, "task": "calibration", **config}
    db = Store(store)
    done = None if separate else db.complete_run(run_key(key))
    if done is not None:
        return CalibrationResult.build(done, db, judge_name, source, votes, pairs, repeats)
    spec = lifecycle.RunSpec(
        task="judge:calibration",
        model=judge_name,
        identity=identity,
        source=source,
        data_fingerprint=data_fp,
        template=json.dumps(used, ensure_ascii=False, indent=1),
        config=config,
        key=key,
        command=command or options.call_text("workbench.judge.calibrate", options.JUDGE_CALIBRATE, values),
        n_items=len(calls),
    )
    run = lifecycle.start(db, spec, done=db.judgment_keys, noun="judgments", verb="saved", separate=separate)
    with run.recording():
        pending = [c for c in calls if (c.doc_id, c.turn, c.swapped) not in run.done]
        model = load() if pending else None
        first = max(0, (stop_unreadable or 0) - len(run.done))
        for chunk in (pending[:first], pending[first:]):
            _check_readable(db, run.run_id, judge_name, stop_unreadable)
            _ask(model, chunk, repeats, run.run_id, db, max_new_tokens, batch_size, temperature, seed)
        result = CalibrationResult.build(run.run_id, db, judge_name, source, votes, pairs, repeats)
    run.finish(result.compute_metrics())
    return CalibrationResult.build(run.run_id, db, judge_name, source, votes, pairs, repeats)


def _calls(pairs: Sequence[Pair], repeats: int, language: str, terse: bool) -> list[core.Call]:
    """Both orders of every pair at its turn, ``repeats`` times (doc_id = pair * repeats + repeat)."""
    out = []
    for i, p in enumerate(pairs):
        lang = language if language != "auto" else core.language_of(" ".join(p.questions))
        sides = [core.Conversation(i, p.question_id, "", lang, p.questions, s) for s in (p.answers_a, p.answers_b)]
        planned = core.plan("pair", sides[:1], sides[1:], reference=False, turns=[p.turn], terse=terse)
        out += [replace(c, doc_id=i * repeats + r) for r in range(repeats) for c in planned]
    return out


def _ask(model, calls, repeats, run_id, db, max_new_tokens, batch_size, temperature, seed) -> None:
    for r in range(repeats):  # repeat r asks with seed + r, so seeded repeats at a temperature differ
        mine = [c for c in calls if c.doc_id % repeats == r]
        if mine:
            repeat_seed = None if seed is None else seed + r
            core.ask(model, mine, "pair", run_id, db, max_new_tokens, batch_size, temperature, repeat_seed)


def _check_readable(db: Store, run_id: str, judge: str, first: int | None) -> None:
    """Stop when the judge's first ``first`` replies (or more) hold no readable verdict at all."""
    saved = db.judgments(run_id)
    if first is None or len(saved) < first or saved["parsed"].astype(bool).any():
        return
    text = " ".join(str(saved["judge_output"].iloc[0]).split())
    shown = text if len(text) <= 160 else text[:160] + "..."
    raise WorkbenchError(
        f"The judge {judge} gave no readable verdict ([[A]], [[B]] or [[C]]) in its first {len(saved)} replies, "
        f"so calibration stopped before spending the rest. One reply: {shown!r}. Try terse=True (small judges), a "
        "larger max_new_tokens or another judge; stop_unreadable=None never stops."
    )


@dataclass
class CalibrationResult:
    """A judge's verdicts on the people's pairs, their agreement with the people, and the paper's figures."""

    run_id: str
    store_path: Path
    judge: str
    source: str
    votes: pd.DataFrame = field(repr=False)
    verdicts: pd.DataFrame = field(repr=False)
    record: dict[str, Any] = field(repr=False)
    _table: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def build(cls, run_id: str, db: Store, judge: str, source: str, votes: pd.DataFrame, pairs: Sequence[Pair],
              repeats: int) -> CalibrationResult:  # fmt: skip
        verdicts = _verdicts(db.judgments(run_id), pairs, repeats)
        return cls(run_id, db.path, judge, source, votes, verdicts, db.run(run_id))

    def table(self) -> pd.DataFrame:
        """Every measure per turn and over all turns, with a 95% interval (bootstrap over questions), its count
        and the paper's published figure beside it where the paper has one."""
        if self._table is None:
            self._table = metrics_table(self.votes, self.verdicts, sorted(set(self.verdicts["turn"])))
        return self._table.copy()

    def summary(self) -> pd.DataFrame:
        """The measures over all judged turns (one turn: that turn)."""
        table = self.table()
        scope = "all" if "all" in set(table["turn"]) else table["turn"].iloc[0]
        return table[table["turn"] == scope].drop(columns="turn").reset_index(drop=True)

    def compute_metrics(self) -> dict[str, Any]:
        from ..models.pricing import price_of, usage_totals

        rows = {r["metric"]: r for r in self.summary().to_dict("records")}
        pick = {"s1": "agreement with human (S1, ties)", "s2": "agreement with human (S2, no ties)",
                "kappa": "Cohen's kappa with human", "position_bias": "position bias (orders disagree)",
                "longer_wins": "decisive verdicts for the longer answer"}  # fmt: skip
        out: dict[str, Any] = {k: rows[m]["value"] for k, m in pick.items()}
        out |= {f"{k}_ci95": [rows[m]["ci95_low"], rows[m]["ci95_high"]] for k, m in pick.items() if k != "kappa"}
        out["unreadable"] = int((self.verdicts["outcome"] == "unparseable").sum())
        out["n"] = len(self.verdicts)
        frame = Store(self.store_path).judgments(self.run_id)
        usages = frame[["prompt_tokens", "completion_tokens"]].to_dict("records")
        out["usage"] = usage_totals(usages, price_of(self.record["model_identity"]))
        return out

    @property
    def metrics(self) -> dict[str, Any]:
        return self.record.get("metrics") or self.compute_metrics()

    def figure(self):
        """S1 and S2 of this judge (95% intervals) beside the paper's GPT-4 and human-human bars."""
        from ..charts import calibration_bars

        return calibration_bars(self.summary(), self.judge, PUBLISHED, SOURCE)

    def disagreements(self) -> pd.DataFrame:
        """Each human vote the judge's verdict disagrees with (ties counted as one verdict), with both answers."""
        rows = matched(self.votes, self.verdicts, "human")
        rows = rows[(rows["judge"] != rows["other"]).to_numpy(dtype=bool)]  # both 'tie' agree (ties are one verdict)
        info = self.verdicts.set_index("pair")
        out = rows.join(info[["model_a", "model_b", "question", "answer_a", "answer_b", "outcome", "rationale"]],
                        on="pair")  # fmt: skip
        name = {"a": out["model_a"], "b": out["model_b"]}
        for col in ("judge", "other"):
            out[col] = [name[v].loc[i] if v in name else v for i, v in zip(out.index, out[col])]
        out = out.rename(columns={"judge": "judge_verdict", "other": "human_vote"})
        cols = ["question_id", "turn", "model_a", "model_b", "human_vote", "judge_verdict", "outcome", "question",
                "answer_a", "answer_b", "rationale"]  # fmt: skip
        return out[cols].reset_index(drop=True)

    def view(self, limit: int | None = 20) -> Any:
        """The summary and the disagreements to read, as escaped HTML."""
        from ..views import html

        summary = self.summary()
        heads = list(summary.columns)
        body = html.table(heads, summary.itertuples(index=False), floats=".3f")
        wrong = self.disagreements()
        wrong = wrong.head(limit) if limit else wrong
        title = html.escape(f"Calibration of {self.judge} on {self.source} (run {self.run_id})")
        more = html.table(list(wrong.columns), wrong.itertuples(index=False))
        return html.HTML(f"<div><b>{title}</b>{body}<b>Disagreements with the people</b>{more}</div>")

    def _repr_html_(self) -> str:
        return self.view()._repr_html_()

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"CalibrationResult({self.run_id}: judge {self.judge} on {self.source}, {m['n']} pairs, S1 {m['s1']:.2f} "
            f"S2 {m['s2']:.2f} (paper's GPT-4: {PUBLISHED['GPT-4 pair vs human']['s1']:.2f} / "
            f"{PUBLISHED['GPT-4 pair vs human']['s2']:.2f}), position bias {m['position_bias']:.2f}, "
            f"{m['unreadable']} unreadable)"
        )


def _verdicts(saved: pd.DataFrame, pairs: Sequence[Pair], repeats: int) -> pd.DataFrame:
    """One row per pair: each order's (majority) verdict, their combination, the repeats' agreement, lengths."""
    by: dict[tuple[int, int], list[tuple[str | None, str]]] = {}
    for r in saved.to_dict("records"):
        verdict = r["verdict"] if r["parsed"] else None
        by.setdefault((r["doc_id"] // repeats, r["swapped"]), []).append((verdict, r["judge_output"]))
    out = []
    for i, p in enumerate(pairs):
        orders = [majority([v for v, _ in by.get((i, s), [])]) for s in (0, 1)]
        asked = by.get((i, 0), []) + by.get((i, 1), [])
        shares = [s for _, s in orders if s == s]
        out.append({
            "pair": i, "question_id": str(p.question_id), "turn": p.turn, "model_a": p.model_a,
            "model_b": p.model_b, "verdict_ab": orders[0][0], "verdict_ba": orders[1][0],
            "outcome": combine(orders[0][0], orders[1][0]),
            "repeat_agreement": sum(shares) / len(shares) if shares else float("nan"),
            "len_a": len(p.answers_a[-1]), "len_b": len(p.answers_b[-1]), "question": p.questions[-1],
            "answer_a": p.answers_a[-1], "answer_b": p.answers_b[-1],
            "rationale": asked[0][1] if asked else "",
        })  # fmt: skip
    return pd.DataFrame(out)


__all__ = ["PUBLISHED", "CalibrationResult", "calibrate"]
