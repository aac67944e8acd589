"""KoBEST rows in the hub schema (``skt/kobest_v1``), from the hub or from the original TSV files in a mirror.

The mirror holds ``kobest/<Task>/{dev,test}.tsv`` (dev = the hub's validation split; train is not mirrored),
whose headers differ from the hub's field names; each task's converter maps one TSV row to one hub row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .files import read_located
from .originals import check_count, no_split, require_file
from .sources import DataSpec, Row, RowError, mirror_rows

SPLIT_FILES = {"validation": "dev", "test": "test"}


def true_false(row: Row, field: str) -> int:
    """BoolQ/WiC answers (True, TRUE, False, FALSE) -> 1/0."""
    value = row[field]
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise RowError(field, f"{value!r}; set it to True or False.")
    return int(text == "true")


def label(row: Row, field: str, n: int, first: int = 0) -> int:
    """A class label ``first`` .. ``first + n - 1`` as 0 .. n - 1, or a message naming the values allowed."""
    allowed = [str(i) for i in range(first, first + n)]
    value = row[field]
    text = str(int(value) if isinstance(value, float) and value.is_integer() else value).strip()
    if text not in allowed:
        raise RowError(field, f"{value!r} is not a label; set it to {', '.join(allowed[:-1])} or {allowed[-1]}.")
    return int(text) - first


def boolq(row: Row) -> Row:
    return {"paragraph": row["Text"], "question": row["Question"], "label": true_false(row, "Answer")}


def copa(row: Row) -> Row:
    answer = label(row, "Answer", 2, first=1) + 1
    return {
        "premise": row["sentence"],
        "question": row["question"],
        "alternative_1": row["1"],
        "alternative_2": row["2"],
        "label": answer - 1,
    }


def hellaswag(row: Row) -> Row:
    return {
        "context": row["context"],
        **{f"ending_{i}": row[f"choice{i}"] for i in range(1, 5)},
        "label": label(row, "label", 4),
    }


def sentineg(row: Row) -> Row:
    return {"sentence": row["Text"], "label": label(row, "Label", 2)}


def wic(row: Row) -> Row:
    return {
        "word": row["Target"],
        "context_1": row["SENTENCE1"],
        "context_2": row["SENTENCE2"],
        "label": true_false(row, "ANSWER"),
    }


@dataclass(frozen=True)
class Subset:
    folder: str  # mirror folder
    hub_name: str  # config of skt/kobest_v1
    fields: tuple[str, ...]  # hub schema
    from_tsv: Callable[[Row], Row]
    sizes: dict[str, int]
    tsv_key: str  # a TSV column that tells the original form from the hub form
    n_labels: int = 2  # labels 0 .. n_labels - 1 (the number of choices)


SUBSETS = {
    "boolq": Subset(
        "BoolQ", "boolq", ("paragraph", "question", "label"), boolq, {"validation": 700, "test": 1404}, "Text"
    ),
    "copa": Subset(
        "COPA",
        "copa",
        ("premise", "question", "alternative_1", "alternative_2", "label"),
        copa,
        {"validation": 500, "test": 1000},
        "sentence",
    ),
    "hellaswag": Subset(
        "HellaSwag",
        "hellaswag",
        ("context", "ending_1", "ending_2", "ending_3", "ending_4", "label"),
        hellaswag,
        {"validation": 500, "test": 500},
        "choice1",
        n_labels=4,
    ),
    "sentineg": Subset(
        "SentiNeg", "sentineg", ("sentence", "label"), sentineg, {"validation": 400, "test": 397}, "Text"
    ),
    "wic": Subset(
        "WiC", "wic", ("word", "context_1", "context_2", "label"), wic, {"validation": 610, "test": 1260}, "SENTENCE1"
    ),
}


def spec(name: str) -> DataSpec:
    """``boolq``, ``copa``, ``hellaswag``, ``sentineg`` or ``wic``."""
    subset = SUBSETS[name]

    def normalize(row: Row) -> Row:
        if subset.tsv_key in row:  # the original TSV columns
            return subset.from_tsv(row)
        out = {k: row[k] for k in subset.fields}
        out["label"] = label(out, "label", subset.n_labels)
        return out

    def mirror(root: Path, split: str) -> list[Row]:
        if split not in SPLIT_FILES:
            raise no_split(f"KoBEST {subset.folder}", split, "the validation (dev.tsv) and test splits")
        path = require_file(root / "kobest" / subset.folder / f"{SPLIT_FILES[split]}.tsv", f"KoBEST {name} {split}")
        return check_count(path, mirror_rows(path, read_located(path), normalize), subset.sizes[split])

    return DataSpec("skt/kobest_v1", subset.hub_name, mirror, normalize, subset.fields)
