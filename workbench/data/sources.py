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
from .files import read_rows

Row = dict[str, Any]


@dataclass(frozen=True)
class DataSpec:
    """How to find one dataset: its hub id and the mirror adapter that reads the original files."""

    hub_path: str
    hub_name: str | None
    mirror: Callable[[Path, str], list[Row]]  # (mirror root, split) -> hub-schema rows
    normalize: Callable[[Row], Row]  # a row in any accepted form -> hub schema (raises KeyError on a gap)
    columns: tuple[str, ...]  # what a user's file must provide, for error messages


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


def from_file(spec: DataSpec, path: str | Path) -> Rows:
    rows = read_rows(path)
    out = []
    for i, row in enumerate(rows, start=1):
        try:
            out.append(spec.normalize(row))
        except (KeyError, TypeError, ValueError) as exc:
            missing = exc.args[0] if isinstance(exc, KeyError) else str(exc)
            raise WorkbenchError(
                f"{path}, row {i}: missing or malformed column {missing!r}. The file has columns "
                f"{', '.join(sorted(row))}; this task needs {', '.join(spec.columns)}."
            ) from None
    return Rows(out, f"file:{Path(path).expanduser().resolve()}")


def from_mirror(spec: DataSpec, root: Path, split: str) -> Rows:
    if not root.is_dir():
        raise WorkbenchError(
            f"${DATA_ENV} points at {str(root)!r}, which is not a folder. Set it to your mirror's root."
        )
    return Rows(spec.mirror(root, split), f"mirror:{root.resolve()}")


def from_hub(spec: DataSpec, split: str) -> Rows:
    try:
        import datasets

        ds = datasets.load_dataset(spec.hub_path, spec.hub_name, split=split)
    except Exception as exc:  # the hub raises many types (ConnectionError, LocalEntryNotFoundError, ...)
        raise WorkbenchError(
            f"Could not load {spec.hub_path}{'/' + spec.hub_name if spec.hub_name else ''} ({split}) from the "
            f"Hugging Face hub ({type(exc).__name__}). Offline? Point ${DATA_ENV} at a local mirror of the "
            f"original files (for example `export {DATA_ENV}=/path/to/shared/data`), or pass your own file "
            "with data=... (--data in the magic and CLI)."
        ) from None
    return Rows([spec.normalize(dict(r)) for r in ds], f"hub:{spec.hub_path}/{spec.hub_name or ''}:{split}")


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
