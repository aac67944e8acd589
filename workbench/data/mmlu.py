"""MMLU rows in the hub schema (``cais/mmlu``: question, subject, choices, answer index), one subject or all 57.

The mirror holds the original header-less CSV files ``mmlu/{test,val,dev}/<subject>_{test,val,dev}.csv`` with
fields ``question, A, B, C, D, answer`` (answer a letter).
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import WorkbenchError
from .originals import check_count, no_split, require_file
from .sources import DataSpec, Row, RowError, json_cell

LETTERS = ("A", "B", "C", "D")
SPLIT_DIRS = {"test": "test", "validation": "val", "dev": "dev"}
DEV_SIZE = 5  # the five few-shot examples per subject
# subject -> (category, test items), as lm-evaluation-harness groups them (mmlu/_generate_configs.py)
SUBJECTS: dict[str, tuple[str, int]] = {
    "abstract_algebra": ("stem", 100),
    "anatomy": ("stem", 135),
    "astronomy": ("stem", 152),
    "business_ethics": ("other", 100),
    "clinical_knowledge": ("other", 265),
    "college_biology": ("stem", 144),
    "college_chemistry": ("stem", 100),
    "college_computer_science": ("stem", 100),
    "college_mathematics": ("stem", 100),
    "college_medicine": ("other", 173),
    "college_physics": ("stem", 102),
    "computer_security": ("stem", 100),
    "conceptual_physics": ("stem", 235),
    "econometrics": ("social_sciences", 114),
    "electrical_engineering": ("stem", 145),
    "elementary_mathematics": ("stem", 378),
    "formal_logic": ("humanities", 126),
    "global_facts": ("other", 100),
    "high_school_biology": ("stem", 310),
    "high_school_chemistry": ("stem", 203),
    "high_school_computer_science": ("stem", 100),
    "high_school_european_history": ("humanities", 165),
    "high_school_geography": ("social_sciences", 198),
    "high_school_government_and_politics": ("social_sciences", 193),
    "high_school_macroeconomics": ("social_sciences", 390),
    "high_school_mathematics": ("stem", 270),
    "high_school_microeconomics": ("social_sciences", 238),
    "high_school_physics": ("stem", 151),
    "high_school_psychology": ("social_sciences", 545),
    "high_school_statistics": ("stem", 216),
    "high_school_us_history": ("humanities", 204),
    "high_school_world_history": ("humanities", 237),
    "human_aging": ("other", 223),
    "human_sexuality": ("social_sciences", 131),
    "international_law": ("humanities", 121),
    "jurisprudence": ("humanities", 108),
    "logical_fallacies": ("humanities", 163),
    "machine_learning": ("stem", 112),
    "management": ("other", 103),
    "marketing": ("other", 234),
    "medical_genetics": ("other", 100),
    "miscellaneous": ("other", 783),
    "moral_disputes": ("humanities", 346),
    "moral_scenarios": ("humanities", 895),
    "nutrition": ("other", 306),
    "philosophy": ("humanities", 311),
    "prehistory": ("humanities", 324),
    "professional_accounting": ("other", 282),
    "professional_law": ("humanities", 1534),
    "professional_medicine": ("other", 272),
    "professional_psychology": ("social_sciences", 612),
    "public_relations": ("social_sciences", 110),
    "security_studies": ("social_sciences", 245),
    "sociology": ("social_sciences", 201),
    "us_foreign_policy": ("social_sciences", 100),
    "virology": ("other", 166),
    "world_religions": ("humanities", 171),
}
CATEGORIES = ("stem", "humanities", "social_sciences", "other")


def expected_rows(subject: str, split: str) -> int | None:
    return {"test": SUBJECTS[subject][1], "dev": DEV_SIZE}.get(split)


def read_csv(path: Path, subject: str) -> list[Row]:
    """One subject's header-less CSV as hub rows; a row without 6 fields or a letter answer names its line."""
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        for fields in reader:
            if len(fields) != 6 or fields[5] not in LETTERS:
                raise WorkbenchError(
                    f"{path}, line {reader.line_num}: expected 6 fields (question, A, B, C, D, answer letter), "
                    f"found {len(fields)} ending in {fields[-1][-40:]!r}. The file is truncated or damaged: "
                    "restore the original."
                )
            rows.append(to_hub_row(dict(zip(("question", *LETTERS, "answer"), fields)), subject))
    return rows


def read_mirror(root: Path, split: str, subjects: list[str]) -> list[Row]:
    if split not in SPLIT_DIRS:
        raise no_split("MMLU", split, "the test, validation (val) and dev splits")
    folder = SPLIT_DIRS[split]
    rows = []
    for subject in subjects:
        path = require_file(root / "mmlu" / folder / f"{subject}_{folder}.csv", f"MMLU {subject} {split} split")
        rows += check_count(path, read_csv(path, subject), expected_rows(subject, split))
    return rows


def to_hub_row(row: Row, subject: str | None = None) -> Row:
    """question, subject, choices (4 strings), answer (0-3); also reads the original A/B/C/D/letter columns."""
    if "choices" in row:
        choices = json_cell(row["choices"], "choices", '["first", "second", "third", "fourth"]')
        if isinstance(choices, str) or not hasattr(choices, "__len__"):
            raise RowError("choices", f"must be a list of 4 options, got {type(choices).__name__}.")
    else:
        choices = [row[x] for x in LETTERS]
    if len(choices) != 4:
        raise RowError("choices", f"{len(choices)} options; MMLU items have exactly 4 (A-D).")
    raw = row["answer"]
    given = str(int(raw) if isinstance(raw, float) and raw.is_integer() else raw).strip()
    if given not in LETTERS and given not in ("0", "1", "2", "3"):
        raise RowError("answer", f"{given!r}; set it to the correct option's index 0-3 or A-D.")
    answer = LETTERS.index(given) if given in LETTERS else int(given)
    return {
        "question": row["question"],
        "subject": row.get("subject") or subject or "",
        "choices": [str(c) for c in choices],
        "answer": answer,
    }


def spec(subject: str | None) -> DataSpec:
    """One subject, or all 57 in alphabetical order (the hub's ``all`` config) when ``subject`` is None."""
    subjects = [subject] if subject else sorted(SUBJECTS)

    def mirror(root: Path, split: str) -> list[Row]:
        return read_mirror(root, split, subjects)

    def normalize(row: Row) -> Row:
        out = to_hub_row(row, subject)
        if not out["subject"]:
            raise KeyError("subject")
        return out

    return DataSpec("cais/mmlu", subject or "all", mirror, normalize, ("question", "choices", "answer", "subject"))
