"""KMMLU rows in the hub schema (``HAERAE-HUB/KMMLU``: ``question``, ``A``-``D``, ``answer`` 1-4, plus ``Category``
and ``Human Accuracy``, which no prompt uses), one subject (one hub config, e.g. ``Korean-History``) or several.

Each row gets a ``subject`` (the harness's task suffix, e.g. ``korean_history``). A user's file for one subject
needs none; a file for several subjects (``kmmlu``, ``kmmlu:humss``, ...) names each row's subject in a ``subject``
column (``korean_history``, ``Korean-History`` and ``kmmlu_korean_history`` are all accepted).

Mirror: the hub repository's own files, ``$WORKBENCH_DATA_DIR/kmmlu/data/<Config>-<split>.csv`` (for example
``kmmlu/data/Korean-History-test.csv`` and ``kmmlu/data/Korean-History-dev.csv``; the file name's case does not
matter), which ``huggingface-cli download HAERAE-HUB/KMMLU --repo-type dataset --local-dir $WORKBENCH_DATA_DIR/kmmlu``
writes. The same rows as ``.jsonl`` or ``.parquet`` are read too. The files are read by the hub's own loader
(``datasets``' CSV builder, all splits of a config together, train first), so numeric options print exactly as
the harness prints them when it reads the hub: keep a subject's train file in the mirror for that (without it,
the column types come from dev).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from .originals import no_split, require_file, truncated
from .sources import DataSpec, Row, RowError, mirror_rows

HUB_PATH = "HAERAE-HUB/KMMLU"
LETTERS = ("A", "B", "C", "D")
SPLITS = ("train", "dev", "test")  # the hub's order: its loader takes the column types from the first split
DEV_SIZE = 5  # few-shot examples per subject
# the harness's category groups (kmmlu/default/_kmmlu_*.yaml), in the order its kmmlu group lists them
CATEGORIES = ("stem", "other", "applied_science", "humss")
# subject (the harness's task suffix) -> (hub config, category, test items); the harness's kmmlu/default/*.yaml
SUBJECTS: dict[str, tuple[str, str, int]] = {
    "accounting": ("Accounting", "humss", 100),
    "agricultural_sciences": ("Agricultural-Sciences", "other", 1000),
    "aviation_engineering_and_maintenance": ("Aviation-Engineering-and-Maintenance", "applied_science", 1000),
    "biology": ("Biology", "stem", 1000),
    "chemical_engineering": ("Chemical-Engineering", "stem", 1000),
    "chemistry": ("Chemistry", "stem", 600),
    "civil_engineering": ("Civil-Engineering", "stem", 1000),
    "computer_science": ("Computer-Science", "stem", 1000),
    "construction": ("Construction", "other", 1000),
    "criminal_law": ("Criminal-Law", "humss", 200),
    "ecology": ("Ecology", "stem", 1000),
    "economics": ("Economics", "humss", 130),
    "education": ("Education", "humss", 100),
    "electrical_engineering": ("Electrical-Engineering", "stem", 1000),
    "electronics_engineering": ("Electronics-Engineering", "applied_science", 1000),
    "energy_management": ("Energy-Management", "applied_science", 1000),
    "environmental_science": ("Environmental-Science", "applied_science", 1000),
    "fashion": ("Fashion", "other", 1000),
    "food_processing": ("Food-Processing", "other", 1000),
    "gas_technology_and_engineering": ("Gas-Technology-and-Engineering", "applied_science", 1000),
    "geomatics": ("Geomatics", "applied_science", 1000),
    "health": ("Health", "other", 100),
    "industrial_engineer": ("Industrial-Engineer", "applied_science", 1000),
    "information_technology": ("Information-Technology", "stem", 1000),
    "interior_architecture_and_design": ("Interior-Architecture-and-Design", "other", 1000),
    "korean_history": ("Korean-History", "humss", 100),
    "law": ("Law", "humss", 1000),
    "machine_design_and_manufacturing": ("Machine-Design-and-Manufacturing", "applied_science", 1000),
    "management": ("Management", "humss", 1000),
    "maritime_engineering": ("Maritime-Engineering", "applied_science", 600),
    "marketing": ("Marketing", "other", 1000),
    "materials_engineering": ("Materials-Engineering", "stem", 1000),
    "math": ("Math", "stem", 300),
    "mechanical_engineering": ("Mechanical-Engineering", "stem", 1000),
    "nondestructive_testing": ("Nondestructive-Testing", "applied_science", 1000),
    "patent": ("Patent", "other", 100),
    "political_science_and_sociology": ("Political-Science-and-Sociology", "humss", 300),
    "psychology": ("Psychology", "humss", 1000),
    "public_safety": ("Public-Safety", "other", 1000),
    "railway_and_automotive_engineering": ("Railway-and-Automotive-Engineering", "applied_science", 1000),
    "real_estate": ("Real-Estate", "other", 200),
    "refrigerating_machinery": ("Refrigerating-Machinery", "other", 1000),
    "social_welfare": ("Social-Welfare", "humss", 1000),
    "taxation": ("Taxation", "humss", 200),
    "telecommunications_and_wireless_technology": (
        "Telecommunications-and-Wireless-Technology",
        "applied_science",
        1000,
    ),
}


def key(value: str) -> str:
    """A subject or config name in one spelling: lower case, runs of spaces and dashes as one underscore."""
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


_BY_KEY = {
    **{key(config): subject for subject, (config, _, _) in SUBJECTS.items()},
    **{subject: subject for subject in SUBJECTS},
}


def subject_of(value: Any) -> str:
    """The subject a row's ``subject`` cell names (``korean_history``, ``Korean-History``, ``kmmlu_korean_history``)."""
    text = key(str(value))
    for prefix in ("kmmlu_", "kmmlu:"):
        text = text.removeprefix(prefix)
    if text not in _BY_KEY:
        raise RowError(
            "subject",
            f"{value!r} is not a KMMLU subject; use one of the 45 subjects, e.g. korean_history or math "
            f"({', '.join(sorted(SUBJECTS))}).",
        )
    return _BY_KEY[text]


def answer_of(row: Row) -> int:
    """The hub's answer, the correct option's number 1-4 (A = 1), as an int."""
    raw = row["answer"]
    text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
    if isinstance(raw, bool) or text not in ("1", "2", "3", "4"):
        raise RowError("answer", f"{raw!r}; set it to the correct option's number, 1 (A) to 4 (D), as the hub does.")
    return int(text)


def cell(value: Any) -> str:
    """An option as the harness's template prints it (``{{A}}``: str() of the value the hub's loader gives)."""
    return str(value)


def to_row(row: Row, subject: str | None) -> Row:
    """A row in the hub schema (any of its forms: the hub's, a CSV's strings) -> the task's row, with ``subject``."""
    out: Row = {"question": cell(row["question"])}
    for letter in LETTERS:
        out[letter] = cell(row[letter])
    out["answer"] = answer_of(row)
    if subject is None:
        if row.get("subject") in (None, ""):
            raise KeyError("subject")
        subject = subject_of(row["subject"])
    out["subject"] = subject
    return out


# ---- the mirror ----------------------------------------------------------------------------------------------
BUILDERS = {".csv": "csv", ".jsonl": "json", ".parquet": "parquet"}


def config_files(folder: Path, config: str, splits: Sequence[str]) -> dict[str, Path]:
    """The mirror's files of one hub config, ``folder/<config>-<split>.csv`` (or .jsonl, .parquet; any case),
    by split in the hub's order."""
    by_name = {p.name.lower(): p for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}
    found = {}
    for split in splits:
        for suffix in BUILDERS:
            path = by_name.get(f"{config}-{split}{suffix}".lower())
            if path is not None:
                found[split] = path
                break
    return found


def hub_loader_rows(files: dict[str, Path], split: str) -> list[tuple[str, Row]]:
    """One split of a config whose files are ``files``, read as the hub's loader reads the hub's copies of them:
    ``datasets``' builder for the file type, every split cast to the column types of the first split listed
    (so an integer column of the test file prints as ``5.0`` when the first split's column holds a decimal or
    an empty cell, as it does for the harness). Cached under the workbench's cache folder."""
    import datasets

    from ..settings import cache_dir

    suffixes = {p.suffix.lower() for p in files.values()}
    if len(suffixes) != 1:
        raise WorkbenchError(
            f"The data mirror holds {', '.join(str(p) for p in files.values())} in different formats; keep one "
            "format (.csv, .jsonl or .parquet) for all splits of a config."
        )
    quiet = datasets.is_progress_bar_enabled()
    if quiet:
        datasets.disable_progress_bars()
    try:
        ds = datasets.load_dataset(
            BUILDERS[suffixes.pop()],
            data_files={s: str(p) for s, p in files.items()},
            split=split,
            cache_dir=str(cache_dir() / "hf-datasets"),
        )
    except Exception as exc:  # the builders raise DatasetGenerationError, ArrowInvalid, ParserError, ...
        read = ", ".join(p.name for p in files.values())
        raise truncated(files[split], f"reading {read}: {type(exc).__name__}: {str(exc)[:300]}") from None
    finally:
        if quiet:
            datasets.enable_progress_bars()
    return [(f"row {i}", dict(row)) for i, row in enumerate(ds, start=1)]


def read_config(
    folder: Path, config: str, split: str, splits: Sequence[str], what: str
) -> tuple[Path, list[tuple[str, Row]]]:
    """One split of one hub config in the mirror: its file and its rows as the hub gives them (with where)."""
    files = config_files(folder, config, splits)
    if split not in files:
        require_file(folder / f"{config}-{split}.csv", what)  # raises, naming the file
    return files[split], hub_loader_rows(files, split)


def read_mirror(root: Path, split: str, subjects: list[str]) -> list[Row]:
    if split not in SPLITS:
        raise no_split("KMMLU", split, "the train, dev and test splits")
    rows: list[Row] = []
    for subject in subjects:
        config = SUBJECTS[subject][0]
        folder = root / "kmmlu" / "data"
        path, located = read_config(folder, config, split, SPLITS, f"KMMLU {config} {split} split")
        if not located:
            raise WorkbenchError(
                f"{path} holds no rows; restore the hub's file, or point $WORKBENCH_DATA_DIR at a complete mirror."
            )
        rows += mirror_rows(path, located, partial(to_row, subject=subject))
    return rows


def spec(subjects: Sequence[str]) -> DataSpec:
    """One subject (its hub config) or several (every subject's config, in the order given)."""
    chosen = list(subjects)
    one = chosen[0] if len(chosen) == 1 else None

    def mirror(root: Path, split: str) -> list[Row]:
        return read_mirror(root, split, chosen)

    def normalize(row: Row) -> Row:
        return to_row(row, one)

    columns = ("question", "A", "B", "C", "D", "answer") + (() if one else ("subject",))
    configs = () if one else tuple(SUBJECTS[s][0] for s in chosen)  # several subjects: each its hub config
    return DataSpec(HUB_PATH, SUBJECTS[one][0] if one else None, mirror, normalize, columns, configs, "subject")
