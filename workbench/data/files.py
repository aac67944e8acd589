"""Reading rows from files (a user's own, or a mirror's originals) with errors that name file, line and the fix.

Every reader refuses what it cannot read with a ``WorkbenchError``: a binary or UTF-16 file, text that is not
UTF-8 (naming the line), a line that is not JSON, a CSV line with the wrong number of fields, a file that is not
Parquet. A UTF-8 byte-order mark (Excel's CSV export writes one) is accepted.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError

SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")
Row = dict[str, Any]
SAVE_AS = "save the rows as UTF-8 .jsonl or .csv (or write them with DataFrame.to_parquet)"


def read_text(path: Path) -> str:
    """The file's text, refused with the line of the first byte that is not UTF-8, or as binary/UTF-16."""
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise WorkbenchError(f"{path} is UTF-16 text. Save it as UTF-8 (in your editor's 'Save as' encoding menu).")
    if b"\x00" in data[:8192]:
        raise WorkbenchError(f"{path} is not a text file (it holds NUL bytes: binary data). To use it, {SAVE_AS}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise WorkbenchError(
            f"{path}, line {line}: not UTF-8 text (byte {data[exc.start]:#04x}). Save the file as UTF-8, e.g. "
            f"`iconv -f latin1 -t utf-8 {path.name} > fixed{path.suffix}`."
        ) from None


def located_jsonl(path: Path) -> list[tuple[str, Row]]:
    rows = []
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
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
            raise WorkbenchError(
                f"{path}, line {lineno}: expected a JSON object, found {type(row).__name__}. A .jsonl file holds "
                'one object per line, e.g. {"question": "...", "answer": "..."}.'
            )
        rows.append((f"line {lineno}", row))
    return rows


def read_jsonl(path: Path) -> list[Row]:
    return [row for _, row in located_jsonl(path)]


def located_json(path: Path) -> list[tuple[str, Row]]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise WorkbenchError(
            f"{path}, line {exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno}). Fix that line."
        ) from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise WorkbenchError(
            f'{path}: a .json data file must hold a list of objects (one per row): [{{"question": ...}}, ...]. '
            "For one object per line, name the file .jsonl."
        )
    return [(f"row {i}", row) for i, row in enumerate(data, start=1)]


def located_csv(path: Path, delimiter: str) -> list[tuple[str, Row]]:
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""), delimiter=delimiter)
    rows: list[tuple[str, Row]] = []
    start = 2  # the line a record starts on (the header is line 1)
    try:
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise WorkbenchError(
                    f"{path}, line {reader.line_num}: the number of fields does not match the header "
                    f"({', '.join(reader.fieldnames or [])}). Fix the quoting or the field count on that line."
                )
            rows.append((f"line {start}", row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise WorkbenchError(f"{path}, line {reader.line_num}: {exc}. Fix the quoting on that line.") from None
    return rows


def located_parquet(path: Path) -> list[tuple[str, Row]]:
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except ImportError as exc:
        raise WorkbenchError(f"Reading {path} needs pyarrow ({exc}): pip install pyarrow, or {SAVE_AS}.") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a file that is not Parquet
        raise WorkbenchError(
            f"{path} is not a Parquet file pandas can read ({type(exc).__name__}: {str(exc)[:200]}). Write it with "
            "DataFrame.to_parquet, or save the rows as .jsonl or .csv."
        ) from None
    return [(f"row {i}", {str(k): v for k, v in row.items()}) for i, row in enumerate(frame.to_dict("records"), 1)]


def read_located(path: str | Path) -> list[tuple[str, Row]]:
    """Rows of a .jsonl, .json (list of objects), .csv, .tsv or .parquet file, each with where it is in the file
    ('line 3' in text files, 'row 3' in .json and .parquet)."""
    if not isinstance(path, (str, os.PathLike)):
        raise WorkbenchError(
            f"data must be the path of a file (.jsonl, .json, .csv, .tsv or .parquet), got {type(path).__name__}. "
            "Pass a DataFrame's rows by saving them first, e.g. frame.to_json('rows.jsonl', orient='records', "
            "lines=True)."
        )
    path = Path(path).expanduser()
    if not path.exists():
        raise WorkbenchError(f"Data file {str(path)!r} does not exist. Check the path (relative to {Path.cwd()}).")
    if path.is_dir():
        raise WorkbenchError(
            f"Data file {str(path)!r} is a folder. Give the path of a file in it ({', '.join(SUFFIXES)})."
        )
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return located_jsonl(path)
    if suffix == ".json":
        return located_json(path)
    if suffix in (".csv", ".tsv"):
        return located_csv(path, "\t" if suffix == ".tsv" else ",")
    if suffix == ".parquet":
        return located_parquet(path)
    raise WorkbenchError(f"Data file {str(path)!r}: unsupported type {suffix!r}; use one of {', '.join(SUFFIXES)}.")


def read_rows(path: str | Path) -> list[Row]:
    """Rows of a .jsonl, .json (list of objects), .csv, .tsv or .parquet file."""
    return [row for _, row in read_located(path)]
