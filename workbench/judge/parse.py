"""Reading verdicts out of a judge's text, tolerantly; what cannot be read is None, never a guess or a zero.

Ratings: ``[[7]]`` (also ``[[ 7 ]]``, ``[[7.5]]``, ``[[7/10]]``), else ``[7]``, else ``Rating: 7`` /
``평가: 7`` / ``Score: 7/10``; the last occurrence counts, and a quoted scale (``[[1]] to [[10]]``) is not a
rating. A number outside 1-10 is unreadable, not clipped. Pairwise: ``[[A]]``, ``[[B]]``, ``[[C]]`` or
``[[tie]]`` (any case, spaces allowed), else ``[A]``, else ``Verdict: A``; the last one counts. The options
quoted back as a list (``[[A]], [[B]] or [[C]]``) are not a verdict, and a text naming each of the three
options exactly once has only echoed the instructions and is unreadable.
"""

from __future__ import annotations

import re

NUMBER = r"(\d+(?:\.\d+)?)\s*(?:/\s*10)?"
RATING_PATTERNS = (
    re.compile(r"\[\[\s*" + NUMBER + r"\s*\]\]"),
    re.compile(r"\[\s*" + NUMBER + r"\s*\]"),
    re.compile(r"(?:rating|score|평가|점수)\s*[:：=]?\s*\**\s*" + NUMBER, re.IGNORECASE),
)
VERDICT_PATTERNS = (
    re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE),
    re.compile(r"\[\s*(A|B|C|tie)\s*\]", re.IGNORECASE),
    re.compile(r"(?:verdict|winner|판정)\s*(?:is)?\s*[:：]?\s*\**\s*\"?(A|B|C|tie)\b", re.IGNORECASE),
)
# the scale quoted back ("[[1]] to [[10]]", "[1] ~ [10]") is not a rating
SCALE_ECHO = re.compile(r"\[*\s*\b1\s*\]*\s*(?:to|-|–|~|부터|에서)\s*\[*\s*10\b\s*\]*", re.IGNORECASE)
# the options quoted back ("[[A]], [[B]] or [[C]]", also cut short: "[[A]], [[B]]") are not a verdict
OPTIONS_ECHO = re.compile(r"\[\[?\s*[ABC]\s*\]?\](?:\s*(?:,|or|또는|/)\s*\[\[?\s*[ABC]\s*\]?\])+", re.IGNORECASE)
LOW, HIGH = 1.0, 10.0


def parse_rating(text: str) -> float | None:
    """The 1-10 rating in a judge's text, or None when there is none."""
    text = SCALE_ECHO.sub(" ", text or "")
    for pattern in RATING_PATTERNS:
        found = pattern.findall(text)
        if found:
            value = float(found[-1])
            return value if LOW <= value <= HIGH else None
    return None


def parse_verdict(text: str) -> str | None:
    """'A', 'B' or 'tie' from a pairwise judge's text, or None when it names no clear verdict."""
    text = OPTIONS_ECHO.sub(" ", text or "")
    for pattern in VERDICT_PATTERNS:
        found = [v.upper() if v.lower() != "tie" else "C" for v in pattern.findall(text)]
        if found:
            if sorted(found) == ["A", "B", "C"]:
                return None
            return "tie" if found[-1] == "C" else found[-1]
    return None


def winner(verdict: str | None, swapped: bool) -> str | None:
    """A positional verdict in the judged runs' terms: 'a' (first run), 'b' (second run) or 'tie'."""
    if verdict is None or verdict == "tie":
        return verdict
    first = verdict == "A"
    return "a" if first != swapped else "b"


def combine(in_order: str | None, swapped: str | None) -> str:
    """The verdict of both presentation orders (each already in run terms).

    Equal -> that verdict; different -> 'inconsistent' (counted as a tie: the judge followed the position,
    not the answers); either unreadable -> 'unparseable'.
    """
    if in_order is None or swapped is None:
        return "unparseable"
    return in_order if in_order == swapped else "inconsistent"
