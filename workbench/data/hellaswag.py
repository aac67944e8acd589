"""HellaSwag rows in the hub schema (``Rowan/hellaswag``), from the hub or from llama.cpp's text form in a mirror.

The mirror holds ``hellaswag/hellaswag_val_full.txt.bz2``: 6 lines per item (``activity_label: ctx``, gold index,
4 endings), already preprocessed and without the ctx_a/ctx_b split. Such an item becomes a hub row with
``ctx_a`` = the whole context and ``ctx_b`` = "", so the harness's query (``activity_label: ctx_a ctx_b``,
preprocessed) is exactly the file's first line.
"""

from __future__ import annotations

import bz2
from pathlib import Path

from .originals import check_count, no_split, require_file, truncated
from .sources import DataSpec, Row, RowError, json_cell

FILE = "hellaswag/hellaswag_val_full.txt.bz2"
SIZES = {"validation": 10042}
LINES_PER_ITEM = 6


def parse_text(text: str, path: Path) -> list[Row]:
    """Items of llama.cpp's HellaSwag text form as hub rows."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) % LINES_PER_ITEM:
        raise truncated(path, f"{len(lines)} lines, not a multiple of {LINES_PER_ITEM}")
    rows = []
    for start in range(0, len(lines), LINES_PER_ITEM):
        head, label, *endings = lines[start : start + LINES_PER_ITEM]
        activity, sep, ctx = head.partition(": ")
        if not sep or label not in ("0", "1", "2", "3"):
            raise truncated(path, f"line {start + 1} does not start an item ('label: context', then a gold index 0-3)")
        rows.append(
            {"activity_label": activity, "ctx_a": ctx, "ctx_b": "", "ctx": ctx, "endings": endings, "label": label}
        )
    return rows


def read_mirror(root: Path, split: str) -> list[Row]:
    if split not in SIZES:
        raise no_split("HellaSwag", split, "the validation split (llama.cpp's text form)")
    path = require_file(root / FILE, "HellaSwag validation split")
    try:
        with bz2.open(path, "rt", encoding="utf-8") as f:
            text = f.read()
    except (EOFError, OSError, UnicodeDecodeError) as exc:
        raise truncated(path, str(exc)) from None
    return check_count(path, parse_text(text, path), SIZES[split])


def to_hub_row(row: Row) -> Row:
    """A HellaSwag row in the hub schema: activity_label, ctx_a, ctx_b, ctx, endings, label."""
    endings = json_cell(row["endings"], "endings", '["ending one", "ending two", "ending three", "ending four"]')
    if not isinstance(endings, (list, tuple)) and not hasattr(endings, "tolist"):
        raise RowError("endings", f"must be a list of strings, got {type(endings).__name__}.")
    endings = [str(e) for e in endings]
    if len(endings) < 2:
        raise RowError("endings", f"{len(endings)} given; an item needs at least two endings to choose from.")
    label = str(row["label"]).strip()
    if label not in {str(i) for i in range(len(endings))}:
        raise RowError(
            "label",
            f"{label} is not the index of one of the {len(endings)} endings (0-{len(endings) - 1}). Set label to "
            "the index of the correct ending, counting from 0.",
        )
    ctx_a, ctx_b = row["ctx_a"], row.get("ctx_b") or ""
    return {
        "activity_label": row["activity_label"],
        "ctx_a": ctx_a,
        "ctx_b": ctx_b,
        "ctx": row.get("ctx") or (ctx_a + " " + ctx_b if ctx_b else ctx_a),
        "endings": endings,
        "label": label,
    }


SPEC = DataSpec(
    "Rowan/hellaswag", None, read_mirror, to_hub_row, ("activity_label", "ctx_a", "ctx_b", "endings", "label")
)
