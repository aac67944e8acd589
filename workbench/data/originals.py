"""Checks shared by the mirror adapters of the original benchmark files: a file, a split or rows that are missing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import WorkbenchError
from ..settings import DATA_ENV
from .sources import Row, require_file

__all__ = ["check_count", "no_split", "require_file", "truncated"]


def check_count(path: Path, rows: Sequence[Row], expected: int | None) -> list[Row]:
    """``rows`` read from ``path``, refused when the original file holds more: a truncated copy."""
    if expected is not None and len(rows) != expected:
        raise WorkbenchError(
            f"{path} holds {len(rows)} items, but the original file has {expected}: the file is truncated or "
            f"damaged. Restore it (its source is in {path.parent}/SOURCE.md or the folder above), or point "
            f"${DATA_ENV} at a complete mirror."
        )
    return list(rows)


def no_split(benchmark: str, split: str, held: str) -> WorkbenchError:
    """The error for a split the mirror does not hold (few-shot examples usually come from train)."""
    why = " (few-shot examples come from it)" if split == "train" else ""
    return WorkbenchError(
        f"The data mirror holds only {held} of {benchmark}, not its {split} split{why}. Leave --shots out, or "
        f"unset ${DATA_ENV} to read {benchmark} from the Hugging Face hub."
    )


def truncated(path: Path, detail: str) -> WorkbenchError:
    """The error for a file that ends early or cannot be decoded."""
    return WorkbenchError(
        f"{path} is truncated or damaged ({detail}). Restore the original file, or point ${DATA_ENV} at a "
        "complete mirror."
    )
