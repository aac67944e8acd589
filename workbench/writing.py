"""Files the workbench writes for the user (a report, a baseline, JUnit XML): whole or untouched, never half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import WorkbenchError


def write_whole(path: str | Path, data: bytes, what: str, *, make_folder: bool = False) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path`` once complete (readable by
    others, 0644, as a plain write would leave it). ``what`` names the file in messages ("the report");
    ``make_folder`` creates a missing folder, else a missing folder is refused naming the fix."""
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise WorkbenchError(f"Cannot write {what} to {target}: it is a folder. Name a file in it.")
    if make_folder:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise WorkbenchError(f"Cannot write {what} to {target}: {error.strerror or error}.") from None
    elif not folder.is_dir():
        raise WorkbenchError(f"Cannot write {what} to {target}: folder {folder} does not exist. Create it first.")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise WorkbenchError(f"Cannot write {what} to {target}: {error.strerror}. Choose a writable folder.") from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise WorkbenchError(f"Cannot write {what} to {target}: {error.strerror}. Nothing was written.") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
