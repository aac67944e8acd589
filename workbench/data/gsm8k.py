"""GSM8K rows (``openai/gsm8k``, config ``main``): the original JSONL already has the hub's fields."""

from __future__ import annotations

from pathlib import Path

from .files import located_jsonl
from .originals import check_count, no_split, require_file
from .sources import DataSpec, Row, mirror_rows

SIZES = {"train": 7473, "test": 1319}


def read_mirror(root: Path, split: str) -> list[Row]:
    if split not in SIZES:
        raise no_split("GSM8K", split, "the train and test splits")
    path = require_file(root / "gsm8k" / f"{split}.jsonl", f"GSM8K {split} split")
    return check_count(path, mirror_rows(path, located_jsonl(path), to_hub_row), SIZES[split])


def to_hub_row(row: Row) -> Row:
    """question, answer (the worked solution ending in ``#### <number>``)."""
    return {"question": str(row["question"]), "answer": str(row["answer"])}


SPEC = DataSpec("openai/gsm8k", "main", read_mirror, to_hub_row, ("question", "answer"))
