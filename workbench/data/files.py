"""Reading rows from files (a user's own, or a mirror's originals) with errors that name file and line."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError

SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise WorkbenchError(
                    f"{path}, line {lineno}: not valid JSON ({exc.msg} at column {exc.colno}). "
                    "Each line of a .jsonl file must be one JSON object; fix or delete that line."
                ) from None
            if not isinstance(row, dict):
                raise WorkbenchError(f"{path}, line {lineno}: expected a JSON object, found {type(row).__name__}.")
            rows.append(row)
    return rows


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a .jsonl, .json (list of objects), .csv, .tsv or .parquet file."""
    path = Path(path).expanduser()
    if not path.exists():
        raise WorkbenchError(f"Data file {str(path)!r} does not exist. Check the path (relative to {Path.cwd()}).")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise WorkbenchError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}).") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise WorkbenchError(f"{path}: a .json data file must hold a list of objects (one per row).")
        return data
    if suffix in (".csv", ".tsv"):
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
            rows = []
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    raise WorkbenchError(
                        f"{path}, line {reader.line_num}: the number of fields does not match the header "
                        f"({', '.join(reader.fieldnames or [])}). Fix the quoting or the field count on that line."
                    )
                rows.append(row)
            return rows
    if suffix == ".parquet":
        import pandas as pd

        return [{str(k): v for k, v in row.items()} for row in pd.read_parquet(path).to_dict(orient="records")]
    raise WorkbenchError(f"Data file {str(path)!r}: unsupported type {suffix!r}; use one of {', '.join(SUFFIXES)}.")
