"""Folders in the cache dir made once and whole: a dequantized model, a model downloaded from a registry."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def made_once(target: Path, marker: str, fill: Callable[[Path], None]) -> Path:
    """``target``, made once by ``fill`` in a temporary folder beside it and renamed into place (whole or absent;
    ``marker``, a file ``fill`` writes last, says it is whole). One process makes it; another that asks meanwhile
    waits, then uses its result (without the lock, the second replaced the directory the first was loading from)."""
    if (target / marker).exists():
        return target
    import fcntl

    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / marker).exists():
            return target
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        try:
            fill(tmp)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
