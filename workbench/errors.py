"""The one exception type users see: a message that names what to fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WorkbenchError(Exception):
    """A bad input or environment problem, explained in one paragraph that names the fix."""


def suggest(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """' Did you mean a, b?' for the nearest candidates, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def check_count(name: str, value: object, minimum: int, *, required: bool = False) -> None:
    """A whole number of at least ``minimum`` (None: not given, unless ``required``), or a message naming it."""
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WorkbenchError(
            f"{name} must be a whole number of at least {minimum} (got {value!r})."
            + (" Leave --limit out to evaluate every item." if name == "--limit" else "")
        )


def notice(text: str) -> None:
    """Tell the user something that is not an error (a caveat, what was found, what was cleaned up): one
    ``workbench:`` line on stderr, as the shells print errors; never a Python warning pointing into our code."""
    import sys

    print("workbench: " + " ".join(text.split()), file=sys.stderr)
