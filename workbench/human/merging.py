"""Merging: add other people's ratings and votes (their project stores or CSV exports) into one store."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import WorkbenchError
from ..store import Store


def merge(sources: Iterable[str | Path], *, store: str | Path | None = None) -> pd.DataFrame:
    """Add other people's ratings and votes into one store: their project stores (.sqlite) or CSV exports.

    CSV files are ``ratings(latest=False)`` or ``votes(latest=False)`` written with ``to_csv(index=False)``.
    Merging is idempotent: a judgment already present is not added twice. Returns rows added per source.
    """
    if isinstance(sources, (str, Path)):  # one file, not the characters of its name
        sources = [sources]
    db = Store(store)
    report = []
    for src in sources:
        path = Path(src)
        if not path.is_file():
            raise WorkbenchError(f"No file {path}: give project stores (.sqlite) or CSV files from ratings()/votes().")
        if path.resolve() == db.path.resolve():
            continue
        tables = _read_csv(path) if path.suffix.lower() == ".csv" else _read_store(path)
        added = db.import_events(items=tables["judged_items"], ratings=tables["ratings"], votes=tables["votes"])
        report.append({"source": str(path), **{k: added[k] for k in ("judged_items", "ratings", "votes")}})
    return pd.DataFrame(report, columns=["source", "judged_items", "ratings", "votes"])


SQLITE_HEADER = b"SQLite format 3\x00"


def _read_store(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The judged items, ratings and votes of another store. A store on read-only media (where SQLite cannot
    create the shared-memory file its WAL journal needs) is read from a temporary copy."""
    import sqlite3

    with open(path, "rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise WorkbenchError(
                f"{path} is not a workbench store: it is not an SQLite file. Give project stores (.sqlite) or CSV "
                "files written from ratings(latest=False) or votes(latest=False)."
            )
    try:
        return Store.read_tables(path)
    except sqlite3.OperationalError:  # unable to open (read-only folder), locked, ...: read a copy
        pass
    except sqlite3.DatabaseError as exc:
        raise WorkbenchError(
            f"{path} is a damaged SQLite file ({exc}); it cannot be merged. Restore it from a backup, or ask its "
            "owner for a CSV export: ratings(latest=False).to_csv(path, index=False)."
        ) from None
    return _read_copy(path)


def _read_copy(path: Path) -> dict[str, list[dict[str, Any]]]:
    import shutil
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory(prefix="workbench-merge-") as tmp:
        copy = Path(tmp) / path.name
        try:
            shutil.copyfile(path, copy)
            wal = path.with_name(path.name + "-wal")  # changes not yet written into the file itself
            if wal.is_file():
                shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
            return Store.read_tables(copy)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise WorkbenchError(
                f"{path} could not be read ({exc}). Copy it to a folder you can write to and merge the copy, or "
                "ask its owner for a CSV export: ratings(latest=False).to_csv(path, index=False)."
            ) from None


def _read_csv(path: Path) -> dict[str, list[dict[str, Any]]]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    frame = frame.astype(object).where(frame.notna(), None)
    rows = frame.to_dict("records")
    for r in rows:
        for col in ("seconds", "created_at"):
            if r.get(col) is not None:
                r[col] = float(r[col])
    if {"rubric", "scale", "action"} <= set(frame.columns):
        return {"judged_items": rows, "ratings": rows, "votes": []}
    if {"arena", "vote", "left_key"} <= set(frame.columns):
        sides = [
            {
                "item_key": r[f"{side}_key"],
                "item_id": r["item_id"],
                "model": r[f"model_{side}"],
                "source": r.get(f"source_{side}"),
                "prompt": r.get(f"prompt_{side}"),
                "reference": r.get("reference"),
                "output": r.get(f"output_{side}"),
                "added_at": r["created_at"],
            }
            for r in rows
            for side in ("left", "right")
        ]
        return {"judged_items": sides, "ratings": [], "votes": rows}
    raise WorkbenchError(
        f"{path} is neither a ratings nor a votes export; write one with "
        "workbench.ratings(latest=False).to_csv(path, index=False) (or votes)."
    )
