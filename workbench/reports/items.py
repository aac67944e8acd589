"""Each run as the report shows it: its settings (what ran, on which weights and data, how, with which versions)
and its items (question, answer, reference, score), with the judge's verdicts and rationales and the human ratings
the store holds for them. Records are read through ``run.records.Sample``, as every other view reads them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from ..human.tables import ratings
from ..metrics.paired import is_binary
from ..run.records import Sample, text
from ..tables import headline, metric_names
from .sources import RunRef

PROMPT_CHARS = 2000  # of a prompt, its end is shown (the question comes after any few-shot examples)
OUTPUT_CHARS = 8000  # of an answer, its start
TURN = "\n\n--- turn {n} ---\n\n"


def clip(value: str | None, limit: int, *, tail: bool = False) -> str | None:
    """``value`` cut to ``limit`` characters (its end when ``tail``), saying how many are left out."""
    if value is None or len(value) <= limit:
        return value
    left = len(value) - limit
    if tail:
        return f"[... {left:,} earlier characters not shown]\n{value[-limit:]}"
    return f"{value[:limit]}\n[... {left:,} more characters not shown]"


def turns(parts: Sequence[str]) -> str | None:
    """One text of a multi-turn item's turns, each after a marker; a single turn as it is."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return "".join((TURN.format(n=i) if i > 1 else "") + p for i, p in enumerate(parts, 1))


def _when(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _json(value: Any) -> str:
    return "" if value in (None, {}, []) else json.dumps(value, ensure_ascii=False, indent=1, default=str)


def settings(run: dict[str, Any], scored: int) -> list[list[str]]:
    """(name, value) rows of a run's recorded settings, in the order a reader checks them."""
    versions = run.get("versions") or {}
    duration = run.get("duration_s")
    rows = [
        ("run id", run["run_id"]),
        ("status", run["status"] + (f": {run['error']}" if run.get("error") else "")),
        ("task", run["task"]),
        ("model", run["model"]),
        ("model identity", _json(run.get("model_identity"))),
        ("data source", run.get("data_source") or ""),
        ("data fingerprint", run.get("data_fingerprint") or ""),
        ("prompt template", run.get("prompt_template") or ""),
        ("config", _json(run.get("config"))),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items()) if isinstance(versions, dict) else ""),
        ("command", run.get("command") or ""),
        ("items", f"{scored} scored of {run.get('n_items')}"),
        ("created", _when(run.get("created_at"))),
        ("finished", _when(run.get("finished_at"))),
        ("duration", f"{duration:.1f} s" if isinstance(duration, (int, float)) else ""),
    ]
    return [[name, str(value)] for name, value in rows if value not in ("", None)]


def item_metric(run: dict[str, Any], records: Sequence[dict[str, Any]]) -> str | None:
    """The metric each item is scored by: the run's headline metric when its records hold it, else the first
    metric every record holds as a number."""
    wanted = [headline(run["task"], run.get("metrics"))[0], *metric_names(run)]
    for name in wanted:
        if name and records and all(isinstance(r.get(name), (int, float)) for r in records):
            return name
    return None


def judge_runs(db_runs: Sequence[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
    """The judge runs (task judge:single / judge:pairwise) that judged ``run_id``."""
    return [
        r
        for r in db_runs
        if str(r["task"]).startswith("judge:") and run_id in ((r.get("config") or {}).get("runs") or [])
    ]


def judge_notes(ref: RunRef, judges: Sequence[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """doc_id -> the judge's verdicts on that item (every turn and order), each with its whole rationale."""
    notes: dict[int, list[dict[str, Any]]] = {}
    for judge in judges:
        config = judge.get("config") or {}
        judged = list(config.get("runs") or [])
        single = config.get("mode") == "single"
        for j in ref.db.judgments(judge["run_id"]).to_dict("records"):
            if not j["parsed"]:
                verdict = "unreadable"
            elif single:
                verdict = f"score {text(j['score'])}"
            else:
                winner = {"a": judged[0], "b": judged[-1]}.get(str(j["verdict"]))
                verdict = f"run {winner} better" if winner else str(j["verdict"])
                verdict += f" ({'B' if j['swapped'] else 'A'} shown first)"
            notes.setdefault(int(j["doc_id"]), []).append(
                {
                    "by": f"{judge['model']} (judge run {judge['run_id']})",
                    "turn": int(j["turn"]),
                    "verdict": verdict,
                    "rationale": text(j["judge_output"]) or "",
                }
            )
    return notes


def rating_notes(ref: RunRef) -> dict[str, list[dict[str, Any]]]:
    """item id (the doc_id as text) -> each annotator's current rating of this run's output for it."""
    table = ratings(store=ref.db.path)
    table = table[table["source"] == ref.run_id]
    notes: dict[str, list[dict[str, Any]]] = {}
    for r in table.to_dict("records"):
        notes.setdefault(str(r["item_id"]), []).append(
            {
                "annotator": text(r["annotator"]) or "",
                "rubric": text(r["rubric"]) or "",
                "value": text(r["value"]) or "",
                "note": text(r.get("note")) or "",
            }  # fmt: skip
        )
    return notes


def item_row(
    record: dict[str, Any], metric: str | None, binary: bool, judged: list[dict[str, Any]], rated: list[dict[str, Any]]
) -> dict[str, Any]:
    sample = Sample.of(record)
    multi = len(sample.answers) > 1
    prompt = turns(sample.questions) if multi else (sample.prompt or sample.question)
    score = record.get(metric) if metric else None
    row: dict[str, Any] = {
        "doc": sample.doc_id,
        "prompt": clip(prompt, PROMPT_CHARS, tail=not multi),
        "output": clip(turns(sample.answers), OUTPUT_CHARS),
        "reference": clip(turns(sample.references), OUTPUT_CHARS),
        "score": score,
        "wrong": bool(binary and score == 0),
    }
    if sample.choices:
        row["choices"] = list(sample.choices)
    if judged:
        row["judge"] = judged
    if rated:
        row["ratings"] = rated
    return row


def run_view(ref: RunRef, db_runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A run's settings and items, with the judgments and ratings the store holds for its items."""
    records = ref.db.sample_records(ref.run_id)
    metric = item_metric(ref.run, records)
    binary = metric is not None and is_binary([float(r[metric]) for r in records])
    judges = judge_runs(db_runs, ref.run_id)
    judged = judge_notes(ref, judges)
    rated = rating_notes(ref)
    items = [
        item_row(r, metric, binary, judged.get(int(r["doc_id"]), []), rated.get(str(r["doc_id"]), [])) for r in records
    ]
    return {
        "run_id": ref.run_id,
        "label": ref.label(),
        "settings": settings(ref.run, len(records)),
        "metric": metric,
        "binary": binary,
        "wrong": sum(i["wrong"] for i in items),
        "judges": [f"{j['model']} ({j['run_id']}, {j['task']})" for j in judges],
        "rated": sum(bool(i.get("ratings")) for i in items),
        "items": items,
    }
