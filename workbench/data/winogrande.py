"""WinoGrande rows in the hub schema (``allenai/winogrande``, ``winogrande_xl``): sentence with ``_``, two options.

The mirror holds llm-foundry's partial-scoring form of the dev (= hub validation) set:
``{context_options: [prefix + option1, prefix + option2], continuation, gold}``. The shared prefix is the
sentence up to the blank; it is cut back to a word boundary so the options read as words. Whatever the cut, the
harness's choices ``sentence[:blank] + option`` are exactly ``context_options`` and its continuation
``sentence[blank + 1:].strip()`` is the stripped ``continuation``, so scoring does not depend on it.
"""

from __future__ import annotations

import os
from pathlib import Path

from .files import located_jsonl
from .originals import check_count, no_split, require_file
from .sources import DataSpec, Row, RowError, mirror_rows

FILE = "winogrande/winogrande_dev_llmfoundry.jsonl"
SIZES = {"validation": 1267}


def from_partial(row: Row) -> Row:
    """llm-foundry's {context_options, continuation, gold} -> {sentence, option1, option2, answer}."""
    first, second = row["context_options"]
    prefix = os.path.commonprefix([first, second])
    if not prefix.endswith(" ") and " " in prefix:
        prefix = prefix[: prefix.rindex(" ") + 1]  # don't split a word shared by both options
    rest = str(row["continuation"]).strip()
    gap = "" if not rest or not rest[0].isalnum() else " "
    return {
        "sentence": prefix + "_" + gap + rest,
        "option1": first[len(prefix) :],
        "option2": second[len(prefix) :],
        "answer": {0: "1", 1: "2"}[int(row["gold"])],
    }


def to_hub_row(row: Row) -> Row:
    if "context_options" in row:
        return from_partial(row)
    if "_" not in str(row["sentence"]):
        raise RowError("sentence", "no '_' in it; mark the blank the two options fill with '_'.")
    answer = str(row["answer"]).strip()
    if answer not in ("1", "2"):
        raise RowError("answer", f"{answer!r}; set it to '1' (option1 is right) or '2' (option2 is right).")
    return {"sentence": row["sentence"], "option1": row["option1"], "option2": row["option2"], "answer": answer}


def read_mirror(root: Path, split: str) -> list[Row]:
    if split not in SIZES:
        raise no_split("WinoGrande", split, "the validation (dev) split")
    path = require_file(root / FILE, "WinoGrande validation split")
    return check_count(path, mirror_rows(path, located_jsonl(path), to_hub_row), SIZES[split])


SPEC = DataSpec(
    "allenai/winogrande", "winogrande_xl", read_mirror, to_hub_row, ("sentence", "option1", "option2", "answer")
)
