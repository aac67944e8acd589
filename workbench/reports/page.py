"""The report as one HTML file that opens offline: the data as JSON in a ``<script type="application/json">``
(``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\u`` escapes, so no text in it can close the element), the
page's own script and style from ``assets/``, and plotly.js gzip-compressed and base64-encoded (4.8 MB become
2 MB), unpacked in the browser by ``DecompressionStream``. Nothing is fetched from any host: a Content Security
Policy allows no connection and runs only the page's script and plotly.js (by their hashes), so markup in model
output could run nothing even if it reached the document as markup (the page places every text with
``textContent``). Written to a temporary file beside the target, then renamed: never half-written."""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from ..views.html import escape
from ..writing import write_whole

SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: NaN and infinities as None, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: the escapes keep it valid JSON (they only
    occur inside strings) and leave no ``<``, ``>`` or ``&`` for the HTML parser to see."""
    text = json.dumps(plain(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escaped in SCRIPT_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


@functools.lru_cache(maxsize=1)
def plotly_packed() -> tuple[str, str]:
    """(plotly.js gzip-compressed as base64, its CSP hash). plotly.py's own bundle, so the figures' JSON fits it."""
    from plotly.offline import get_plotlyjs

    source = get_plotlyjs()
    packed = base64.b64encode(gzip.compress(source.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")
    return packed, csp_hash(source)


def html_page(title: str, data: dict[str, Any]) -> str:
    """The whole page."""
    script = asset("report.js")
    packed, plotly_hash = plotly_packed()
    policy = (
        "default-src 'none'; "
        f"script-src {csp_hash(script)} {plotly_hash}; "
        "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
        "connect-src 'none'; form-action 'none'; base-uri 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{asset('report.css')}</style>\n</head>\n<body>\n"
        f'<header><h1>{escape(title)}</h1><p class="meta" id="meta"></p></header>\n'
        '<main id="report"><noscript>This report draws its tables and charts with JavaScript; allow it for this '
        "file.</noscript></main>\n"
        f'<script type="application/json" id="report-data">{script_json(data)}</script>\n'
        f'<script type="application/octet-stream" id="plotly-gzip-base64">{packed}</script>\n'
        f"<script>{script}</script>\n</body>\n</html>\n"
    )


def write(path: Path, page: str) -> Path:
    """``page`` into ``path``, whole or not at all (:func:`workbench.writing.write_whole`)."""
    return write_whole(path, page.encode("utf-8"), "the report")
