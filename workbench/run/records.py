"""Typed sample records: the one place that says which field of a saved record holds what.

Every task writes one record (a JSON object) per item; its scoring fields differ by task, but every view
that shows or judges an item (rating and arena panels, the judge, ``compare``, exports) needs the same few
things: what the model was asked, what it answered, the reference, and the options. ``Sample.of(record)``
reads them here, and nowhere else:

- multiple-choice records scored by log-likelihood hold ``choices`` and ``pred``/``gold`` indices: the
  output is the chosen option's text, the reference the gold option's;
- generated answers sit in ``output`` (MT-Bench, turn 1), ``prediction`` (translation, grids, scores) or
  ``raw`` (gsm8k, ``--mode generate``);
- MT-Bench records keep every turn (``turns``/``answers``/``references``).

User tables (a DataFrame to rate) are read with the same aliases through :func:`column_for`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .provenance import reported_by

Record = dict[str, Any]

# item field -> the record keys (or table columns) that hold it, first match wins
FIELDS: dict[str, tuple[str, ...]] = {
    "item_id": ("item_id", "doc_id", "id"),
    "question": ("question", "prompt", "input"),
    "prompt": ("prompt", "input", "question"),
    "output": ("output", "generation", "response", "completion", "prediction", "raw"),
    "reference": ("reference", "target"),
    "model": ("model",),
}


ITEM_FP = "item_fp"  # the record's item identity: a fingerprint of the document it scored


def item_fingerprint(doc: Mapping[str, Any]) -> str:
    """The identity of one document (a data row): equal rows from any run, file or split give equal ids, so two
    runs are matched item by item on what they scored, never on position alone."""
    blob = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def stamp(record: Record, doc: Mapping[str, Any], responses: Sequence[Any] = ()) -> Record:
    """``record`` with its item's identity (``item_fp``) added, and what the model's endpoint reported about
    itself in the item's ``responses`` (``reported``, see provenance.reported_by) when it reported anything."""
    record[ITEM_FP] = item_fingerprint(doc)
    told = reported_by(responses)
    if told is not None:
        record.setdefault("reported", told)
    return record


def text(value: Any) -> str | None:
    """A value as text; None (and NaN) stay None, chat messages and lists become JSON."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _present(value: Any) -> bool:
    return text(value) not in (None, "")


def first(record: Mapping[str, Any], name: str) -> Any:
    """The first non-empty value among ``FIELDS[name]`` in ``record``; else "" when one of them holds an empty
    text (a model that answered nothing did answer); else None."""
    found = next((record[k] for k in FIELDS[name] if k in record and _present(record[k])), None)
    if found is None and any(record.get(k) == "" for k in FIELDS[name]):
        return ""
    return found


def column_for(columns: Iterable[str], name: str) -> str | None:
    """The column of a table that holds item field ``name`` (first alias present), else None."""
    present = set(columns)
    return next((c for c in FIELDS[name] if c in present), None)


def question_text(value: Any) -> str | None:
    """The question a human or a judge reads: chat messages give their last user message."""
    if isinstance(value, list):
        users = [m.get("content", "") for m in value if isinstance(m, dict) and m.get("role") == "user"]
        return users[-1] if users else text(value)
    return text(value)


def _option(choices: Any, index: Any) -> str | None:
    try:
        k = int(index)
    except (TypeError, ValueError):
        return None
    return str(choices[k]) if isinstance(choices, Sequence) and 0 <= k < len(choices) else None


@dataclass(frozen=True)
class Sample:
    """What one saved record says about its item, whatever task wrote it."""

    doc_id: int
    prompt: str | None  # the full text the model read (few-shot examples included)
    questions: tuple[str, ...]  # what was asked, one per turn (the bare question where the record keeps it)
    answers: tuple[str, ...]  # what the model answered, one per turn
    references: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    category: str = "general"
    language: str | None = None
    question_id: Any = None
    record: Record = field(default_factory=dict, repr=False, compare=False)

    @property
    def output(self) -> str | None:
        """The first turn's answer (the whole answer for single-turn tasks)."""
        return self.answers[0] if self.answers else None

    @property
    def reference(self) -> str | None:
        return self.references[0] if self.references else None

    @property
    def question(self) -> str | None:
        return self.questions[0] if self.questions else None

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Sample:
        """Read a record of any task (see the module docstring for where each field comes from)."""
        doc_id = int(record["doc_id"])
        common = {
            "doc_id": doc_id,
            "prompt": question_text(record.get("prompt")),
            "category": str(record.get("category") or "general"),
            "language": record.get("language"),
            "question_id": record.get("question_id", doc_id),
            "record": dict(record),
        }
        if isinstance(record.get("turns"), list) and isinstance(record.get("answers"), list):  # multi-turn
            answers = tuple(str(a) for a in record["answers"])
            return cls(
                questions=tuple(str(q) for q in record["turns"][: len(answers)]),
                answers=answers,
                references=tuple(record.get("references") or ()),
                **common,
            )
        question = question_text(first(record, "question"))
        questions = (question,) if question is not None else ()
        choices = record.get("choices") if isinstance(record.get("choices"), list) else None
        options = choices if choices is not None else record.get("options")
        if choices is not None and first(record, "output") is None:  # scored by log-likelihood
            output, reference = _option(choices, record.get("pred")), _option(choices, record.get("gold"))
        else:
            output, reference = text(first(record, "output")), text(first(record, "reference"))
            if reference is None and isinstance(options, list):  # a generated label: the gold option's text
                reference = _option(options, record.get("gold"))
        return cls(
            questions=questions,
            answers=(output,) if output is not None else (),
            references=(reference,) if reference is not None else (),
            choices=tuple(str(c) for c in options) if isinstance(options, list) else None,
            **common,
        )


def samples(records: Sequence[Mapping[str, Any]]) -> list[Sample]:
    return [Sample.of(r) for r in records]


def has_identities(records: Sequence[Mapping[Any, Any]]) -> bool:
    """Whether every record carries its item's identity (records saved before item_fp existed do not)."""
    return bool(records) and all(r.get(ITEM_FP) for r in records)


def occurrences(identities: Sequence[Any]) -> list[tuple[Any, int]]:
    """Each identity with its occurrence number: a document repeated in a run is paired in order of occurrence."""
    seen: Counter = Counter()
    out = []
    for identity in identities:
        out.append((identity, seen[identity]))
        seen[identity] += 1
    return out
