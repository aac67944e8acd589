"""The one HTML escaper, and the few pieces of HTML built from untrusted text (model outputs, data, names).

escape(value)            any value as safe text: None and NaN -> "", strings as they are, others as JSON
pre(value)               escaped text in a <pre> that wraps lines (line breaks kept)
table(headers, rows)     an HTML table of escaped cells, each in a wrapping <pre>
HTML(markup)             markup a notebook shows as HTML (``_repr_html_``), without importing IPython
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

PRE = "white-space: pre-wrap; margin: 0"


def escape(value: Any) -> str:
    """``value`` as HTML-safe text: None (and NaN) become '', strings stay as they are, other values are written
    as JSON (``str`` for what JSON cannot write), then ``&``, ``<``, ``>`` and both quotes are escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return html.escape(text, quote=True)


def pre(value: Any, style: str = PRE) -> str:
    """Escaped text in a ``<pre>`` that wraps long lines and keeps line breaks."""
    return f'<pre style="{html.escape(style)}">{escape(value)}</pre>'


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, floats: str | None = None) -> str:
    """An HTML table: escaped headers, one ``<pre>`` cell per value; ``floats`` formats floats (e.g. '.3f')."""

    def cell(value: Any) -> str:
        if floats is not None and isinstance(value, float) and not math.isnan(value):
            value = format(value, floats)
        return f"<td>{pre(value)}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class HTML:
    """Markup shown as HTML in a notebook (through ``_repr_html_``); ``data`` is the markup itself."""

    data: str

    def _repr_html_(self) -> str:
        return self.data

    def __str__(self) -> str:
        return self.data
