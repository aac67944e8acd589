"""Which store file a request may read: only a file under the server's root folder, never through a link out.

The front end names the open notebook's folder (relative to the server's root, as JupyterLab's file browser
does) or a store file; the server answers with the store the kernel in that folder uses: ``$WORKBENCH_STORE``
when the server (and so its kernels) has it set, else the nearest ``workbench.sqlite`` from that folder up to
the project's root (``workbench.settings.find_store``, as the kernel finds it). Every path, however it was
found, is resolved (symlinks followed) and must lie inside the resolved root: ``..``, an absolute path elsewhere
and a symlink pointing out of the root are refused.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from workbench.errors import WorkbenchError
from workbench.settings import STORE_ENV, find_store


class Refused(WorkbenchError):
    """A path the server will not read (outside its root folder)."""


def inside(root: Path, path: Path) -> Path:
    """``path`` resolved (links followed), when it lies under ``root`` (resolved); else :class:`Refused`."""
    real_root = root.resolve()
    real = path.resolve()
    if real != real_root and real_root not in real.parents:
        raise Refused(
            f"{path} is outside the folder this Jupyter server serves ({real_root}), so it is not read. Keep the "
            "project store in that folder (or start Jupyter from a folder that holds it)."
        )
    return real


def relative(root: Path, given: str) -> Path:
    """A request's API path (``folder/sub``, '/'-separated, relative to the root, as JupyterLab names files) as a
    path under ``root``; '..' is refused before anything is looked up."""
    parts = PurePosixPath(given.strip("/")).parts if given else ()
    if ".." in parts:
        raise Refused(f"{given!r} leaves the server's root folder ('..'), so it is not read.")
    return root.joinpath(*parts)


def store_for(root: Path, folder: str = "", store: str = "") -> Path:
    """The store file a request reads: ``store`` (a file, relative to the root), else ``$WORKBENCH_STORE``, else
    the store the kernel finds from ``folder``; confined to ``root``."""
    root = root.resolve()
    if store:
        return inside(root, relative(root, store))
    env = os.environ.get(STORE_ENV)
    if env:
        return inside(root, Path(env) if Path(env).is_absolute() else Path.cwd() / env)
    start = inside(root, relative(root, folder))
    if not start.is_dir():
        raise WorkbenchError(f"{folder!r} is not a folder under the server's root; nothing to browse there.")
    found = find_store(start)
    try:
        return inside(root, found)
    except Refused:  # the walk up left the root: the store the kernel would create in the folder itself
        return start / "workbench.sqlite"
