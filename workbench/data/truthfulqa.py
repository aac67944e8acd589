"""TruthfulQA multiple-choice rows in the hub schema (``truthfulqa/truthful_qa``, config ``multiple_choice``).

The mirror's ``truthfulqa/v1/mc_task.json`` is the 2021 release the harness and the Open LLM Leaderboard use
(817 questions); its ``{answer: 0|1}`` objects become the hub's ``{choices, labels}`` lists, in file order.
"""

from __future__ import annotations

import json
from pathlib import Path

from .originals import check_count, no_split, require_file, truncated
from .sources import DataSpec, Row

FILE = "truthfulqa/v1/mc_task.json"
SIZES = {"validation": 817}


def targets(value) -> dict[str, list]:
    """``{answer: label}`` (original) or ``{choices, labels}`` (hub) -> ``{choices, labels}``."""
    if isinstance(value, str):  # a CSV/Parquet cell holding JSON
        value = json.loads(value)
    if isinstance(value, dict) and set(value) == {"choices", "labels"}:
        choices, labels = list(value["choices"]), [int(x) for x in value["labels"]]
    elif isinstance(value, dict):
        choices, labels = list(value), [int(x) for x in value.values()]
    else:
        raise ValueError("mc1_targets/mc2_targets (objects of answers and 0/1 labels)")
    if not choices or len(choices) != len(labels):
        raise ValueError("mc1_targets/mc2_targets (as many labels as choices)")
    return {"choices": [str(c) for c in choices], "labels": labels}


def to_hub_row(row: Row) -> Row:
    return {
        "question": row["question"],
        "mc1_targets": targets(row["mc1_targets"]),
        "mc2_targets": targets(row["mc2_targets"]),
    }


def read_mirror(root: Path, split: str) -> list[Row]:
    if split not in SIZES:
        raise no_split("TruthfulQA", split, "the validation split")
    path = require_file(root / FILE, "TruthfulQA multiple-choice questions (2021 release)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise truncated(path, f"not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise truncated(path, "expected a JSON list of questions")
    return check_count(path, [to_hub_row(r) for r in data], SIZES[split])


SPEC = DataSpec(
    "truthfulqa/truthful_qa", "multiple_choice", read_mirror, to_hub_row, ("question", "mc1_targets", "mc2_targets")
)
