"""Shell text into Python values: lists, generation parameters, grid prompt blocks, rubrics, turns, texts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

TEXT_PARAMS = ("system", "stop")


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["temperature=0,0.7", "system=Be brief."]`` -> ``{"temperature": [0.0, 0.7], "system": ["Be brief."]}``."""
    from ..errors import WorkbenchError

    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise WorkbenchError(f"--param {item!r}: write KEY=VALUE, e.g. --param temperature=0,0.7")
        key = key.strip()
        values = [value] if key in TEXT_PARAMS else [v.strip() for v in value.split(",")]
        out.setdefault(key, []).extend(_value(v) for v in values)
    return out


def _value(text: str) -> Any:
    if text.lower() in ("none", "null"):
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def split_list(text: Any) -> Any:
    """'a, b' -> ['a', 'b']; None and non-strings (a notebook's list) stay as they are."""
    return [t.strip() for t in text.split(",") if t.strip()] if isinstance(text, str) else text


def grid_prompts(cell: str) -> dict[str, str]:
    """Templates of a %%llm_grid cell: blocks separated by lines of ---, each optionally headed [name];
    unnamed blocks are p1, p2, ... by position."""
    prompts: dict[str, str] = {}
    for i, block in enumerate(re.split(r"^\s*---\s*$", cell, flags=re.M), start=1):
        lines = block.strip("\n").splitlines()
        name = f"p{i}"
        if lines and re.fullmatch(r"\s*\[[^\]]+\]\s*", lines[0]):
            name, lines = lines[0].strip()[1:-1].strip(), lines[1:]
        text = "\n".join(lines).strip()
        if text:
            prompts[name] = text
    return prompts


def prompt_options(items: Sequence[str]) -> dict[str, str]:
    """Templates of repeated ``--prompt`` options: NAME=TEMPLATE (an '=' before any '{') names one; unnamed ones
    are p1, p2, ... by position, as in a %%llm_grid cell."""
    prompts: dict[str, str] = {}
    for i, text in enumerate(items, start=1):
        if "=" in text.split("{")[0]:
            name, _, template = text.partition("=")
            prompts[name] = template
        else:
            prompts[f"p{i}"] = text
    return prompts


def rubric(text: Any) -> Any:
    """'1-5' / 'pass/fail' as they are; 'a,b,c' as a list of labels."""
    return [part.strip() for part in text.split(",")] if isinstance(text, str) and "," in text else text


def turns(text: str | None) -> list[int] | None:
    """'1,2' -> [1, 2]; None stays None."""
    from ..errors import WorkbenchError

    if not text:
        return None
    try:
        return [int(t) for t in text.split(",")]
    except ValueError:
        raise WorkbenchError(f"--turns takes turn numbers such as 1 or 1,2 (got {text!r}).") from None


def texts(value: Any) -> Any:
    """A text given in the shell as one text in a list; a file's path, or a notebook's list or DataFrame, as is."""
    return [value] if isinstance(value, str) and not is_file(value) else value


def is_file(text: str) -> bool:
    from pathlib import Path

    return len(text) < 4096 and "\n" not in text and Path(text).expanduser().is_file()


REFERENCE = {"auto": "auto", "yes": True, "no": False}
