"""A finished (or reopened) judge run: its verdicts as tables, charts and a readable, escaped view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..run.records import Sample
from ..store import Store
from ..views import html
from .parse import combine

if TYPE_CHECKING:
    from .core import Conversation

# what each judged run asked and answered, item by item: judge.core's Conversations when the judge has just
# run, the runs' records read by Sample when a judge run is reopened (both have doc_id, question_id, category,
# questions and answers)
Judged = Sequence[tuple[dict[str, Any], Sequence["Conversation | Sample"]]]


@dataclass
class JudgeResult:
    """Verdicts of one judge run over one run (single grading) or two runs (pairwise)."""

    run_id: str
    store_path: Path
    record: dict[str, Any] = field(repr=False)
    judged: Judged = field(repr=False)
    resumed: int = 0

    @classmethod
    def load(
        cls,
        run_id: str,
        store: str | Path | None = None,
        *,
        judged: Judged | None = None,
        resumed: int = 0,
    ) -> JudgeResult:
        """A saved judge run by id (``%llm_runs`` lists them with task judge:single / judge:pairwise)."""
        db = Store(store, create=False)
        record = db.run(run_id)
        if not record["task"].startswith("judge:"):
            from ..errors import WorkbenchError

            raise WorkbenchError(f"Run {run_id} is a {record['task']} run, not a judge run.")
        if judged is None:
            judged = [(db.run(r), [Sample.of(s) for s in db.sample_records(r)]) for r in record["config"]["runs"]]
        return cls(run_id, db.path, record, judged, resumed)

    # ---- what was judged -----------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.record["config"]["mode"]

    @property
    def judge(self) -> str:
        return self.record["model"]

    @property
    def runs(self) -> list[str]:
        return list(self.record["config"]["runs"])

    @property
    def models(self) -> list[str]:
        return list(self.record["config"]["models"])

    @property
    def partial(self) -> list[dict[str, Any]]:
        """The unfinished runs this judge run covers part of (judged with partial=True): [{"run", "items", "of"}];
        [] when every judged run was complete."""
        recorded = self.record["config"].get("partial") or []
        return [recorded] if isinstance(recorded, dict) else list(recorded)

    def partial_note(self) -> str:
        """'4 of 10 items of run 1a2b3c4d' for each partial run ('' when none)."""
        return "; ".join(f"{p['items']} of {p['of']} items of run {p['run']}" for p in self.partial)

    @property
    def metrics(self) -> dict[str, Any]:
        return self.record.get("metrics") or self.compute_metrics()

    @property
    def judgments(self) -> pd.DataFrame:
        """One row per judge call, beside what it judged: question, answer(s), verdict, the judge's rationale."""
        frame = Store(self.store_path).judgments(self.run_id)
        convs = [{c.doc_id: c for c in convs} for _, convs in self.judged]
        first = convs[0]
        frame.insert(1, "question_id", [first[d].question_id for d in frame["doc_id"]])
        frame.insert(2, "category", [first[d].category for d in frame["doc_id"]])
        frame.insert(5, "question", [first[d].questions[t - 1] for d, t in zip(frame["doc_id"], frame["turn"])])
        if self.mode == "single":
            frame.insert(6, "answer", [first[d].answers[t - 1] for d, t in zip(frame["doc_id"], frame["turn"])])
        else:
            for k, name in ((0, "answer_a"), (1, "answer_b")):
                frame.insert(6 + k, name, [convs[k][d].answers[t - 1] for d, t in zip(frame["doc_id"], frame["turn"])])
        return frame.rename(columns={"judge_output": "rationale"})

    def scores(self) -> pd.DataFrame:
        """Single grading: one row per judged answer (score NaN where the judge's verdict was unreadable)."""
        frame = self.judgments
        return frame[["doc_id", "question_id", "category", "turn", "score", "parsed", "rationale"]]

    def verdicts(self) -> pd.DataFrame:
        """Pairwise: one row per compared answer with the verdict of each order and their combination."""
        frame = self.judgments
        keys = ["doc_id", "question_id", "category", "turn"]
        first, second = (frame[frame["swapped"] == k][[*keys, "verdict"]] for k in (0, 1))
        out = first.merge(second, on=keys, how="outer", suffixes=("", "_swapped"))
        out["outcome"] = [combine(_none(a), _none(b)) for a, b in zip(out["verdict"], out["verdict_swapped"])]
        return out

    # ---- summaries -----------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Single: mean score per category, per turn and overall with 95% intervals. Pairwise: win rates.
        A judge run over part of an unfinished run has the column ``partial`` saying how much of it."""
        from ..tables import judge_score_table, win_rate_table

        if self.mode == "single":
            table = judge_score_table(self.scores())
        else:
            table = win_rate_table(self.verdicts(), *self._labels())
        return table.assign(partial=self.partial_note()) if self.partial else table

    def by_category(self) -> pd.DataFrame:
        """Single grading: model, category, score and interval per category (the radar chart's input)."""
        table = self.summary()
        part = table[table["group"] == "category"].rename(columns={"name": "category"})
        return part.assign(model=self.models[0])[["model", "category", "score", "ci95_low", "ci95_high", "n"]]

    def figure(self):
        """Single: radar of the per-category scores. Pairwise: stacked verdict shares per category."""
        from ..charts import category_radar, win_rate_bars

        if self.mode == "single":
            return category_radar(self.by_category(), f"{self.models[0]} judged by {self.judge}")
        return win_rate_bars(self.summary())

    def usage(self) -> dict[str, Any]:
        """The judge's tokens and their cost (None when the judge model has no price)."""
        from ..models.pricing import price_of, usage_totals

        frame = Store(self.store_path).judgments(self.run_id)
        usages = frame[["prompt_tokens", "completion_tokens"]].to_dict("records")
        return usage_totals(usages, price_of(self.record["model_identity"]))

    def compute_metrics(self) -> dict[str, Any]:
        """The numbers saved with the judge run: overall score (or win rates), unreadable count, usage."""
        table = self.summary()
        overall = table.iloc[-1].to_dict()
        if self.mode == "single":
            out = {
                "n": int(overall["n"]),
                "score": overall["score"],
                "score_stderr": overall["stderr"],
                "score_ci95": [overall["ci95_low"], overall["ci95_high"]],
                "unparseable": int(overall["unparseable"]),
                "by_category": {r["name"]: r["score"] for r in table.to_dict("records") if r["group"] == "category"},
            }
        else:
            decided = sum(int(overall[k]) for k in ("wins", "losses", "ties", "inconsistent"))
            out = {
                "n": decided,
                **{k: overall[k] for k in ("win_rate", "loss_rate", "win_rate_adjusted", "position_bias")},
                "win_rate_adjusted_ci95": [overall["ci95_low"], overall["ci95_high"]],
                **{k: int(overall[k]) for k in ("wins", "losses", "ties", "inconsistent", "unparseable")},
            }
        out["usage"] = self.usage()
        return out

    def view(self, limit: int | None = 20, *, unparsed_only: bool = False):
        """The judged answers with the judge's rationale beside each, as escaped HTML."""
        frame = self.judgments
        if unparsed_only:
            frame = frame[~frame["parsed"]]
        if limit:
            frame = frame.head(limit)
        answers = ["answer"] if self.mode == "single" else ["answer_a", "answer_b"]
        verdict = "score" if self.mode == "single" else "verdict"
        headers = ["item", "category", "turn", "question", *answers, verdict, "judge's rationale"]
        body = []  # one row of cells per judgment
        for r in frame.to_dict("records"):
            shown = r[verdict] if r["parsed"] else "unreadable"
            if self.mode != "single" and r["parsed"]:
                shown = f"{shown} (asked {'B first' if r['swapped'] else 'A first'})"
            cells = [r["question_id"], r["category"], r["turn"], r["question"], *(r[a] for a in answers), shown]
            body.append([*cells, r["rationale"]])
        partial = f" (partial: {self.partial_note()})" if self.partial else ""
        title = html.escape(f"{self.mode} judgments by {self.judge} of {', '.join(self.models)}{partial}")
        return html.HTML(f"<div><b>{title}</b>{html.table(headers, body)}</div>")

    def with_human(self, other: JudgeResult | None = None, **options: Any) -> pd.DataFrame:
        """The judge's verdicts beside human A/B votes on the same items (see ``judge.agreement.with_human``)."""
        from .agreement import with_human

        return with_human(self, *([other] if other is not None else []), **options)

    def agreement(self, other: JudgeResult | None = None, **options: Any) -> pd.DataFrame:
        """Judge-human agreement with ties (S1) and without (S2), kappa and alpha (``judge.agreement``).

        Pairwise: against A/B votes on the two models. Single: against 1-10 ratings of the run's answers, or,
        with ``other`` (the same judge's grading of a second run), against A/B votes through the scores.
        """
        from .agreement import agreement

        return agreement(self, *([other] if other is not None else []), **options)

    def _labels(self) -> tuple[str, str]:
        a, b = self.models[:2]
        return (a, b) if a != b else (f"{a} ({self.runs[0]})", f"{b} ({self.runs[1]})")

    def __repr__(self) -> str:
        m = self.metrics
        if self.mode == "single":
            head = f"score {m['score']:.2f} [{m['score_ci95'][0]:.2f}, {m['score_ci95'][1]:.2f}]"
        else:
            head = f"win rate (adjusted) {m['win_rate_adjusted']:.2f}, position bias {m['position_bias']:.2f}"
        partial = f", partial: {self.partial_note()}" if self.partial else ""
        return (
            f"JudgeResult({self.run_id}: {self.mode}, judge {self.judge}, {head}, {m['unparseable']} unreadable"
            f"{partial})"
        )


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def category_table(*results: JudgeResult) -> pd.DataFrame:
    """Per-category scores of several single-grading results in one table (model, category, score, interval)."""
    frames = [r.by_category() for r in results]
    models = [r.models[0] for r in results]
    if len(set(models)) < len(models):  # the same model twice (two prompts, two settings): tell them apart
        frames = [f.assign(model=f"{m} ({r.runs[0]})") for f, m, r in zip(frames, models, results)]
    return pd.concat(frames, ignore_index=True)


def radar(*results: JudgeResult, title: str | None = None):
    """One radar chart of the per-category scores of several single-grading results (one trace each)."""
    from ..charts import category_radar

    return category_radar(category_table(*results), title)
