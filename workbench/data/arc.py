"""ARC rows: the original AI2 JSONL (``question.stem``) and the hub schema give identical rows."""

from __future__ import annotations

from pathlib import Path

from .files import located_jsonl
from .sources import DataSpec, Row, RowError, json_cell, mirror_rows, require_file

SPLIT_FILES = {"train": "Train", "validation": "Dev", "test": "Test"}


CHOICES_JSON = '{"text": ["first", "second"], "label": ["A", "B"]}'


def check_choices(texts: list, labels: list, answer: object) -> None:
    """At least two options, one label per text, and the answer among the labels."""
    if len(texts) < 2:
        raise RowError("choices", f"no options ({len(texts)} given); an item needs at least two, e.g. {CHOICES_JSON}.")
    if len(texts) != len(labels):
        raise RowError(
            "choices", f"{len(texts)} texts but {len(labels)} labels; give one label per text, e.g. {CHOICES_JSON}."
        )
    if answer not in labels:
        raise RowError(
            "answerKey",
            f"{answer!r} is not one of the labels {', '.join(map(str, labels))}. Set answerKey to the label of the "
            "correct choice.",
        )


def to_hub_row(row: Row) -> Row:
    """One ARC question in the hub schema: id, question, choices{text,label}, answerKey."""
    question = row["question"]
    if isinstance(question, dict):  # original AI2 form
        choices = question["choices"]
        texts, labels = [c["text"] for c in choices], [c["label"] for c in choices]
        check_choices(texts, labels, row["answerKey"])
        return {
            "id": row["id"],
            "question": question["stem"],
            "choices": {"text": texts, "label": labels},
            "answerKey": row["answerKey"],
        }
    choices = json_cell(row["choices"], "choices", CHOICES_JSON)
    if not isinstance(choices, dict) or "text" not in choices or "label" not in choices:
        raise RowError("choices", f"must be an object with 'text' and 'label' lists, e.g. {CHOICES_JSON}.")
    texts, labels = list(choices["text"]), list(choices["label"])
    check_choices(texts, labels, row["answerKey"])
    return {
        "id": row.get("id", ""),
        "question": question,
        "choices": {"text": texts, "label": labels},
        "answerKey": row["answerKey"],
    }


def spec(subset: str) -> DataSpec:
    """ARC-Easy or ARC-Challenge."""

    def mirror(root: Path, split: str) -> list[Row]:
        path = require_file(root / "arc" / subset / f"{subset}-{SPLIT_FILES[split]}.jsonl", f"{subset} {split} split")
        return mirror_rows(path, located_jsonl(path), to_hub_row)

    return DataSpec("allenai/ai2_arc", subset, mirror, to_hub_row, ("question", "choices", "answerKey"))
