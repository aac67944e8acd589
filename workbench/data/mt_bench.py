"""MT-Bench questions (English, and the Korean adaptation) with their reference answers.

Mirror: ``mt_bench/`` or ``ko_mt_bench/`` holding FastChat's ``question.jsonl`` and
``reference_answer/gpt-4.jsonl``. Hub (English only): ``lighteval/mt-bench``, the same questions with their
short ``reference`` field but without the GPT-4 reference answers. A user's file needs ``turns`` (a list of
user messages, or JSON text of one) or a single ``question``; ``category`` and ``question_id`` are optional.

Rows: ``{question_id, category, turns, references}``; ``references`` holds one reference answer per turn:
the GPT-4 reference answers where the mirror has them (math, reasoning, coding), else the question's own
``reference`` field, else nothing.
"""

from __future__ import annotations

from pathlib import Path

from .files import read_jsonl
from .sources import DataSpec, Row, RowError, json_cell, require_file

NEED_REFERENCE = ("math", "reasoning", "coding")  # categories graded against a reference answer (FastChat)


def _texts(value: object, what: str) -> list[str]:
    if isinstance(value, str):
        is_list = value.strip().startswith("[")
        value = json_cell(value, what, '["first message", "second message"]') if is_list else [value]
    if value is None:
        return []
    if hasattr(value, "tolist"):  # a Parquet list cell
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise RowError(what, f'must be a list of strings, e.g. ["first message", "second message"]; got {value!r:.60}.')
    return list(value)


def to_row(row: Row) -> Row:
    """One question in this module's row form, from FastChat's form, the hub's or a user's file."""
    if "turns" in row:
        turns = _texts(row["turns"], "turns")
    else:
        turns = [str(row["question"])]
    if not turns or not all(t.strip() for t in turns):
        raise RowError("turns", f'{turns!r:.60}; give at least one non-empty user message, e.g. ["Write a haiku."].')
    given = row.get("references")
    references = _texts(given if given is not None and len(given) else row.get("reference"), "reference")
    qid = row.get("question_id")
    return {
        "question_id": int(qid) if qid not in (None, "") else None,
        "category": str(row.get("category") or "general"),
        "turns": turns,
        "references": [r for r in references if r is not None],
    }


def spec(folder: str, hub_path: str) -> DataSpec:
    """MT-Bench in ``folder`` of the mirror (``mt_bench`` or ``ko_mt_bench``)."""

    def mirror(root: Path, split: str) -> list[Row]:
        base = root / folder
        questions = read_jsonl(require_file(base / "question.jsonl", f"{folder} questions"))
        answers = read_jsonl(require_file(base / "reference_answer" / "gpt-4.jsonl", f"{folder} reference answers"))
        by_id = {a["question_id"]: a["choices"][0]["turns"] for a in answers}
        rows = []
        for q in questions:
            row = to_row(q)
            if q["question_id"] in by_id:
                row["references"] = list(by_id[q["question_id"]])
            rows.append(row)
        return rows

    return DataSpec(hub_path, None, mirror, to_row, ("turns (or question)",))
