"""TruthfulQA multiple-choice rows in the hub schema (``truthfulqa/truthful_qa``, config ``multiple_choice``).

The mirror's ``truthfulqa/v1/mc_task.json`` is the 2021 release the harness and the Open LLM Leaderboard use
(817 questions); its ``{answer: 0|1}`` objects become the hub's ``{choices, labels}`` lists, in file order.
"""

from __future__ import annotations

import json
from pathlib import Path

from .originals import check_count, no_split, require_file, truncated
from .sources import DataSpec, Row, RowError, json_cell

FILE = "truthfulqa/v1/mc_task.json"
SIZES = {"validation": 817}


TARGETS_JSON = '{"choices": ["a true answer", "a false one"], "labels": [1, 0]}'


def targets(value, field: str = "mc1_targets") -> dict[str, list]:
    """``{answer: label}`` (original) or ``{choices, labels}`` (hub) -> ``{choices, labels}``."""
    value = json_cell(value, field, TARGETS_JSON)
    try:
        if isinstance(value, dict) and set(value) == {"choices", "labels"}:
            choices, labels = list(value["choices"]), [int(x) for x in value["labels"]]
        elif isinstance(value, dict):
            choices, labels = list(value), [int(x) for x in value.values()]
        else:
            raise RowError(field, f"must be an object of answers and 0/1 labels, e.g. {TARGETS_JSON}.")
    except (TypeError, ValueError) as exc:
        if isinstance(exc, RowError):
            raise
        raise RowError(field, f"labels must be 0 or 1 ({exc}), e.g. {TARGETS_JSON}.") from None
    if not choices:
        raise RowError(field, f"no choices; an item needs at least one true and one false answer, e.g. {TARGETS_JSON}.")
    if len(choices) != len(labels):
        raise RowError(field, f"{len(choices)} choices but {len(labels)} labels; give one 0/1 label per choice.")
    return {"choices": [str(c) for c in choices], "labels": labels}


def first_true(mc1: dict[str, list]) -> dict[str, list]:
    """MC1 is scored as the harness scores it: the first choice is the one true answer."""
    if mc1["labels"][0] != 1 or sum(mc1["labels"]) != 1:
        raise RowError(
            "mc1_targets",
            f"labels {mc1['labels']}; MC1 needs exactly one true answer, listed first (labels [1, 0, ...]).",
        )
    return mc1


def to_hub_row(row: Row) -> Row:
    return {
        "question": row["question"],
        "mc1_targets": first_true(targets(row["mc1_targets"], "mc1_targets")),
        "mc2_targets": targets(row["mc2_targets"], "mc2_targets"),
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
