"""Where judged items come from: a saved run (its samples), an ``EvalResult``, or a DataFrame.

An *item* is an id, a prompt, an optional reference, a model's output and the model's name. A run's records
are read by ``run.records.Sample`` (so a multiple-choice record gives the chosen option's text, a gsm8k or
generate-mode record its raw answer); a table's columns are found with the same aliases (``records.FIELDS``).
An item from a run also carries its identity (``item_fp``, a fingerprint of the document it scored; None in
records saved before it existed and in tables without an item_fp column), which the A/B sessions pair outputs
on. The item's key (what ratings and votes attach to) does not include it, so keys saved earlier still hold.

Judging an unfinished run (running, interrupted, failed) is refused unless asked for (``partial=True``):
:func:`unfinished` says which runs are, and how much of each is saved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import WorkbenchError
from ..run.records import FIELDS, ITEM_FP, Sample, column_for, first, text
from ..store import Store

ITEM_COLUMNS = ["item_key", "item_id", "model", "source", "prompt", "reference", "output", ITEM_FP]
TABLE_FIELDS = ("item_id", "prompt", "reference", "output", "model")  # what a table's columns can give
REQUIRED = ("item_id", "prompt", "output")


def item_key(item_id: Any, model: Any, prompt: Any, output: Any) -> str:
    """Stable id of one judged output: the same text from the same model for the same prompt."""
    payload = json.dumps([str(item_id), str(model), str(prompt), str(output)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def with_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its item_key column (re)computed from item_id, model, prompt and output."""
    out = frame.copy()
    out["item_key"] = [item_key(*r) for r in out[["item_id", "model", "prompt", "output"]].itertuples(False)]
    return out


def item_rows(frame: pd.DataFrame) -> list[dict[str, str | None]]:
    """Rows as dicts of text, missing values (NaN) as None."""
    return [{str(k): text(v) for k, v in row.items()} for row in frame.to_dict("records")]


def items(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    model: str | None = None,
    name: str | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """The items to judge from a run id, an ``EvalResult`` or a DataFrame, one row per output.

    Columns of the result: item_key, item_id, model, source, prompt, reference, output, item_fp (the item's
    identity where the records or the table hold one, else None). A DataFrame needs
    an id (item_id, doc_id or id), a prompt (prompt, input or question) and an output (output, generation,
    response, completion, prediction or raw); reference (or target) and model are optional. ``columns`` maps
    other names, e.g. ``{"output": "answer_text"}``. ``model`` names the model when the table has no model column;
    ``name`` labels the source (a run's id by default).
    """
    columns = dict(columns or {})
    if isinstance(source, pd.DataFrame):
        out = _from_table(source, columns, model, name or "table")
    else:
        run_id = getattr(source, "run_id", source)
        db = Store(getattr(source, "store_path", None) or store, create=False)
        if not isinstance(run_id, str):
            raise WorkbenchError(f"Cannot judge {type(source).__name__}: give a run id, an EvalResult or a DataFrame.")
        run = db.run(run_id)
        records = db.sample_records(run_id)
        if not records:
            raise WorkbenchError(f"Run {run_id} has no scored items yet; finish it with the same evaluate() call.")
        label, default_model = name or run_id, model or run["model"]
        if columns:  # the caller names the fields: read the records as a table
            out = _from_table(pd.DataFrame(records), columns, default_model, label)
        else:
            out = _from_samples(records, default_model, label, run_id)
    return with_keys(out)[ITEM_COLUMNS].reset_index(drop=True)


def _from_samples(records: list[dict[str, Any]], model: str, label: str, run_id: str) -> pd.DataFrame:
    samples = [Sample.of(r) for r in records]
    prompts = [s.prompt if s.prompt is not None else s.question for s in samples]
    outputs = [s.output if s.output is not None else _blank_answer(s.record) for s in samples]
    missing = [f for f, values in (("prompt", prompts), ("output", outputs)) if all(v is None for v in values)]
    if missing:
        fields = sorted(set().union(*records))
        raise WorkbenchError(
            f"Run {run_id} has nothing to judge: its records have no {' and no '.join(missing)} "
            f"(an output is one of {', '.join(FIELDS['output'])}, or choices with pred); their fields are {fields}. "
            "Rate a generation or multiple-choice run."
        )
    return pd.DataFrame(
        {
            "item_id": [str(s.doc_id) for s in samples],
            "model": [text(first(s.record, "model")) or model for s in samples],
            "source": label,
            "prompt": prompts,
            "reference": [s.reference for s in samples],
            "output": outputs,
            ITEM_FP: [text(s.record.get(ITEM_FP)) for s in samples],
        }
    )


def _blank_answer(record: dict[str, Any]) -> str | None:
    """An answer that is there but empty ('' when the model said nothing), which ``Sample`` reads as no answer."""
    column = column_for(record, "output")
    return text(record[column]) if column is not None else None


def _column(frame: pd.DataFrame, name: str, columns: Mapping[str, str]) -> str | None:
    if name in columns:
        if columns[name] not in frame.columns:
            raise WorkbenchError(
                f"Column {columns[name]!r} (given for {name}) is not in the table: {list(frame.columns)}"
            )
        return columns[name]
    return column_for(frame.columns, name)


def _chosen_options(frame: pd.DataFrame) -> pd.DataFrame:
    """Multiple-choice rows: the output is the chosen option's text, the reference the gold option's."""
    picked = [
        Sample.of({"doc_id": 0, "choices": list(r["choices"]), "pred": r["pred"], "gold": r.get("gold")})
        for r in frame.to_dict("records")
    ]
    out = frame.copy()
    out["output"] = [s.output for s in picked]
    if "gold" in frame.columns:
        out["reference"] = [s.reference for s in picked]
    return out


def _from_table(frame: pd.DataFrame, columns: dict[str, str], model: str | None, label: str) -> pd.DataFrame:
    if "output" not in columns and _column(frame, "output", columns) is None and {"choices", "pred"} <= set(frame):
        frame = _chosen_options(frame)
    found = {f: _column(frame, f, columns) for f in TABLE_FIELDS}
    missing = [f for f in REQUIRED if found[f] is None]
    if missing:
        wanted = "; ".join(f"{f}: one of {', '.join(FIELDS[f])}" for f in missing)
        raise WorkbenchError(
            f"The table has no column for {', '.join(missing)} ({wanted}). Its columns are {list(frame.columns)}; "
            'name yours with columns={"output": "my_column", ...}.'
        )
    return pd.DataFrame(
        {
            "item_id": frame[found["item_id"]].map(str),
            "model": frame[found["model"]].map(str) if found["model"] else (model or "model"),
            "source": label,
            "prompt": frame[found["prompt"]].map(text),
            "reference": frame[found["reference"]].map(text) if found["reference"] else None,
            "output": frame[found["output"]].map(text),
            ITEM_FP: frame[ITEM_FP].map(text) if ITEM_FP in frame.columns else None,
        }
    )


# ---- unfinished runs ---------------------------------------------------------------------------------------
def run_id_of(source: Any) -> str | None:
    """The run id of a source that is a run (an id or an ``EvalResult``); None for a table."""
    if isinstance(source, pd.DataFrame):
        return None
    run_id = getattr(source, "run_id", source)
    return run_id if isinstance(run_id, str) else None


def coverage(info: Mapping[str, Any]) -> str:
    """'4 of 10 items of run 1a2b3c4d (interrupted)': how much of an unfinished run is judged."""
    return f"{info['items']} of {info['of']} items of run {info['run']} ({info['status']})"


def unfinished(db: Store, run_ids: Sequence[str | None], *, partial: bool, doing: str) -> list[dict[str, Any]]:
    """The runs among ``run_ids`` that are not complete, each as {"run", "status", "items" (saved), "of"
    (planned)}. Unless ``partial``, the first one is refused: judging part of a run as if it were the whole
    gives a score of the wrong thing. ``doing`` names what would be done ('rate', 'judge', ...)."""
    out = []
    for run_id in dict.fromkeys(r for r in run_ids if r is not None):
        run = db.run(run_id)
        if run["status"] == "complete":
            continue
        info = {"run": run_id, "status": run["status"], "items": len(db.done_doc_ids(run_id)), "of": run["n_items"]}
        if not info["items"]:
            continue  # nothing saved yet: the caller says so (there is nothing to judge, partial or not)
        if not partial:
            call = f" ({run['command']})" if run.get("command") else ""
            raise WorkbenchError(
                f"Run {run_id} is {info['status']}: {info['items']} of {info['of']} items are saved, so to {doing} it "
                f"now would treat part of the run as the whole. Finish it by repeating its call{call}, which resumes "
                f"where it stopped; or pass partial=True to {doing} the {info['items']} saved items, recorded as "
                "covering a partial run."
            )
        out.append(info)
    return out
