"""HAE-RAE Bench rows in the hub schema (``HAERAE-HUB/HAE_RAE_BENCH``, the dataset lm-evaluation-harness reads):
``query`` (the whole prompt: instruction, ``### 질문:``, ``### 선택지:`` with ``(A)``-``(E)``, ``### 정답:``),
``answer`` (the label, ``(A)``-``(E)``) and ``options`` (the five option texts; only generative scoring reads them).

Five hub configs, one per harness task: ``general_knowledge``, ``history``, ``loan_words``, ``rare_words``,
``standard_nomenclature`` (reading comprehension is not in the harness). Each has one split, ``test``, which
is also where few-shot examples come from. Each row gets a ``subset`` (its config). A user's file for one
subset needs none; a file for ``haerae`` (all five) names each row's config in a ``subset`` column
(``loan_words``, ``loan_word`` and ``haerae_loan_word`` are all accepted).

Mirror: ``$WORKBENCH_DATA_DIR/haerae/data/<config>-test.csv`` (or ``.jsonl``, ``.parquet``), one file per config
holding the hub's rows and columns, e.g. ``haerae/data/history-test.csv``.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from .kmmlu import key, read_config
from .originals import no_split
from .sources import DataSpec, Row, RowError, mirror_rows

HUB_PATH = "HAERAE-HUB/HAE_RAE_BENCH"
LABELS = ("(A)", "(B)", "(C)", "(D)", "(E)")
# config -> the harness's task name (lm_eval/tasks/haerae/haerae_*.yaml), in its haerae group's order
SUBSETS: dict[str, str] = {
    "general_knowledge": "haerae_general_knowledge",
    "history": "haerae_history",
    "loan_words": "haerae_loan_word",
    "rare_words": "haerae_rare_word",
    "standard_nomenclature": "haerae_standard_nomenclature",
}
# test items per config (1091 in all; the paper's counts, which the harness reports for these tasks)
SIZES = {"general_knowledge": 176, "history": 188, "loan_words": 169, "rare_words": 405, "standard_nomenclature": 153}
_BY_KEY = {
    **{c: c for c in SUBSETS},
    **{task: c for c, task in SUBSETS.items()},
    **{task.removeprefix("haerae_"): c for c, task in SUBSETS.items()},
}


def subset_of(value: Any) -> str:
    text = key(str(value))
    if text not in _BY_KEY:
        raise RowError(
            "subset", f"{value!r} is not a HAE-RAE Bench subset; use one of {', '.join(SUBSETS)} (the hub's configs)."
        )
    return _BY_KEY[text]


def answer_of(row: Row) -> str:
    """The gold label, ``(A)``-``(E)`` (a bare ``A``-``E`` is read as its label)."""
    raw = row["answer"]
    text = str(raw).strip()
    label = f"({text.upper()})" if len(text) == 1 else text.upper()
    if label not in LABELS:
        raise RowError("answer", f"{raw!r}; set it to the correct option's label, (A) to (E), as the hub does.")
    return label


def options_of(value: Any) -> list[str]:
    """The option texts: a list, or its text form (``"['a', 'b', ...]"``, as a CSV cell holds it)."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise RowError("options", f"{value[:60]!r} is not a list of the five option texts.") from None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise RowError("options", f"must be a list of the five option texts, got {type(value).__name__}.")
    return [str(v).strip() for v in value]


def to_row(row: Row, subset: str | None) -> Row:
    out: Row = {"query": str(row["query"]), "answer": answer_of(row)}
    if row.get("options") is not None:
        out["options"] = options_of(row["options"])
    if subset is None:
        if row.get("subset") in (None, ""):
            raise KeyError("subset")
        subset = subset_of(row["subset"])
    out["subset"] = subset
    return out


def read_mirror(root: Path, split: str, subsets: list[str]) -> list[Row]:
    if split != "test":
        raise no_split("HAE-RAE Bench", split, "the test split (its only split)")
    rows: list[Row] = []
    for subset in subsets:
        folder = root / "haerae" / "data"
        path, located = read_config(folder, subset, "test", ("test",), f"HAE-RAE Bench {subset} test split")
        if not located:
            raise WorkbenchError(
                f"{path} holds no rows; restore the hub's rows, or point $WORKBENCH_DATA_DIR at a complete mirror."
            )
        rows += mirror_rows(path, located, partial(to_row, subset=subset))
    return rows


def spec(subsets: Sequence[str]) -> DataSpec:
    """One subset (its hub config) or several (each config's rows, in the order given)."""
    chosen = list(subsets)
    one = chosen[0] if len(chosen) == 1 else None

    def mirror(root: Path, split: str) -> list[Row]:
        return read_mirror(root, split, chosen)

    def normalize(row: Row) -> Row:
        return to_row(row, one)

    columns = ("query", "answer") + (() if one else ("subset",))
    return DataSpec(HUB_PATH, one, mirror, normalize, columns, () if one else tuple(chosen), "subset")
