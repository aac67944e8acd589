"""ARC rows: the original AI2 JSONL (``question.stem``) and the hub schema give identical rows."""

from __future__ import annotations

from pathlib import Path

from .files import read_jsonl
from .sources import DataSpec, Row, require_file

SPLIT_FILES = {"train": "Train", "validation": "Dev", "test": "Test"}


def to_hub_row(row: Row) -> Row:
    """One ARC question in the hub schema: id, question, choices{text,label}, answerKey."""
    question = row["question"]
    if isinstance(question, dict):  # original AI2 form
        choices = question["choices"]
        return {
            "id": row["id"],
            "question": question["stem"],
            "choices": {"text": [c["text"] for c in choices], "label": [c["label"] for c in choices]},
            "answerKey": row["answerKey"],
        }
    choices = row["choices"]
    if isinstance(choices, str):  # a CSV/Parquet cell holding JSON
        import json

        choices = json.loads(choices)
    if not isinstance(choices, dict) or "text" not in choices or "label" not in choices:
        raise ValueError("choices (an object with 'text' and 'label' lists)")
    return {
        "id": row.get("id", ""),
        "question": question,
        "choices": {"text": list(choices["text"]), "label": list(choices["label"])},
        "answerKey": row["answerKey"],
    }


def spec(subset: str) -> DataSpec:
    """ARC-Easy or ARC-Challenge."""

    def mirror(root: Path, split: str) -> list[Row]:
        path = require_file(root / "arc" / subset / f"{subset}-{SPLIT_FILES[split]}.jsonl", f"{subset} {split} split")
        return [to_hub_row(r) for r in read_jsonl(path)]

    return DataSpec("allenai/ai2_arc", subset, mirror, to_hub_row, ("question", "choices", "answerKey"))
