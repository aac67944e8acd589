"""Where a task's rows come from: a user's file, the local mirror, or the Hugging Face hub.

Every source yields the same thing: plain dict rows in the hub's schema, plus a content fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from ..settings import DATA_ENV, data_dir
from .files import read_located

Row = dict[str, Any]


class RowError(ValueError):
    """One field of a row that a task cannot use: the field and what is wrong with it, naming what it must be.
    Normalizers raise it; the sources add the file and line (or the mirror file, or the hub row)."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"field {field!r}: {problem}")
        self.field = field
        self.problem = problem


def json_cell(value: Any, field: str, example: str) -> Any:
    """A value that a CSV/Parquet cell holds as JSON text, decoded; other values as they are."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise RowError(
            field, f"not valid JSON ({exc.msg}) in {value[:60]!r}. A text cell must hold JSON, e.g. {example}"
        ) from None


@dataclass(frozen=True)
class DataSpec:
    """How to find one dataset: its hub id and the mirror adapter that reads the original files."""

    hub_path: str
    hub_name: str | None
    mirror: Callable[[Path, str], list[Row]]  # (mirror root, split) -> hub-schema rows
    normalize: Callable[[Row], Row]  # a row in any accepted form -> hub schema (raises KeyError on a gap)
    columns: tuple[str, ...]  # what a user's file must provide, for error messages
    hub_configs: tuple[str, ...] = ()  # several hub configs read as one dataset (KMMLU's subjects, ...), each
    config_field: str = ""  # row given its config's name in this field before ``normalize``


@dataclass(frozen=True)
class Rows:
    rows: list[Row]
    source: str


def fingerprint(rows: Sequence[Row]) -> str:
    """sha256 of the rows' canonical JSON: equal rows from any source give an equal fingerprint."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode())
        h.update(b"\n")
    return "sha256:" + h.hexdigest()


def row_problem(exc: Exception, columns: Sequence[str], row: Row) -> str:
    """What is wrong with a row, from the exception its normalizer raised, and how to fix it."""
    if isinstance(exc, RowError):
        return str(exc)
    if isinstance(exc, KeyError):
        have = ", ".join(sorted(map(str, row))) if isinstance(row, dict) else type(row).__name__
        return f"missing column {exc.args[0]!r}. The row has columns {have}; this task needs {', '.join(columns)}."
    return f"malformed value ({type(exc).__name__}: {exc}); this task needs {', '.join(columns)}."


def located(exc: Exception, columns: Sequence[str], row: Row) -> str:
    """What follows 'file, line 3' in a message: ', field ...: problem. fix' or ': missing column ... fix'."""
    if isinstance(exc, RowError):
        return f", {exc}"
    return f": {row_problem(exc, columns, row)} Fix that row or delete it."


NORMALIZE_ERRORS = (RowError, KeyError, TypeError, ValueError, IndexError, AttributeError)


def from_file(spec: DataSpec, path: str | Path) -> Rows:
    """A user's rows in the hub schema; a row the task cannot use is refused naming file, line and field."""
    out = []
    for where, row in read_located(path):
        try:
            out.append(spec.normalize(row))
        except NORMALIZE_ERRORS as exc:
            raise WorkbenchError(f"{path}, {where}{located(exc, spec.columns, row)}") from None
    return Rows(out, f"file:{Path(path).expanduser().resolve()}")


def from_mirror(spec: DataSpec, root: Path, split: str) -> Rows:
    if not root.is_dir():
        raise WorkbenchError(
            f"${DATA_ENV} points at {str(root)!r}, which is not a folder. Set it to your mirror's root."
        )
    try:
        return Rows(spec.mirror(root, split), f"mirror:{root.resolve()}")
    except RowError as exc:  # an adapter that does not name the file: the mirror as a whole
        raise WorkbenchError(
            f"A row of the data mirror at {root} ({spec.hub_path} {split}) has a bad {exc} Restore the original "
            f"files, or point ${DATA_ENV} at a complete mirror."
        ) from None


def mirror_rows(path: Path, rows: Sequence[tuple[str, Row]], normalize: Callable[[Row], Row]) -> list[Row]:
    """Rows of one mirror file in the hub schema; a row that breaks names the file and line."""
    out = []
    for where, row in rows:
        try:
            out.append(normalize(row))
        except RowError as exc:
            raise WorkbenchError(
                f"{path}, {where}, {exc} The mirror's file is damaged or edited: restore the original, or point "
                f"${DATA_ENV} at a complete mirror."
            ) from None
    return out


def from_hub(spec: DataSpec, split: str) -> Rows:
    """The split's rows from the hub: the spec's config, or each of its ``hub_configs`` in turn (each row named
    by its config in ``config_field``)."""
    rows = []
    for config in spec.hub_configs or (spec.hub_name,):
        try:
            import datasets

            ds = datasets.load_dataset(spec.hub_path, config, split=split)
        except Exception as exc:  # the hub raises many types (ConnectionError, LocalEntryNotFoundError, ...)
            raise WorkbenchError(
                f"Could not load {spec.hub_path}{'/' + config if config else ''} ({split}) from the "
                f"Hugging Face hub ({type(exc).__name__}). Offline? Point ${DATA_ENV} at a local mirror of the "
                f"original files (for example `export {DATA_ENV}=/path/to/shared/data`), or pass your own file "
                "with data=... (--data in the magic and CLI)."
            ) from None
        for i, row in enumerate(ds, start=1):
            raw = {**dict(row), spec.config_field: config} if spec.hub_configs else dict(row)
            try:
                rows.append(spec.normalize(raw))
            except NORMALIZE_ERRORS as exc:
                raise WorkbenchError(
                    f"{spec.hub_path}{'/' + config if config else ''} ({split}) on the Hugging Face hub, row {i}"
                    f"{located(exc, spec.columns, row)} Pass a corrected copy with data=... (--data), or point "
                    f"${DATA_ENV} at a mirror."
                ) from None
    configs = f"{len(spec.hub_configs)} configs" if spec.hub_configs else spec.hub_name or ""
    return Rows(rows, f"hub:{spec.hub_path}/{configs}:{split}")


def load_rows(spec: DataSpec, split: str, file: str | Path | None = None) -> Rows:
    """Rows of one split: from ``file`` if given, else the mirror if $WORKBENCH_DATA_DIR is set, else the hub."""
    if file is not None:
        return from_file(spec, file)
    root = data_dir()
    if root is not None:
        return from_mirror(spec, root, split)
    return from_hub(spec, split)


def require_file(path: Path, what: str) -> Path:
    """A mirror file that must exist, or a message naming it."""
    if not path.is_file():
        raise WorkbenchError(
            f"The data mirror is missing {path} ({what}). Restore that file, or point ${DATA_ENV} at a complete mirror."
        )
    return path
