"""Tables as a person reads them, for display only: a notebook shows the DataFrames of ``shown`` (the magics),
a terminal the text of ``as_text`` in ``WIDTH`` columns (the `workbench` command). The tables of
``workbench.tables`` and the Python API keep their numbers; nothing here is meant to be read back by code.

Each score with an interval reads "0.60 ± 0.11 [0.38, 0.82]" (value ± standard error [95% interval]); whole
numbers read as integers; columns with nothing in them (tokens and cost of a local model) are left out.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

WIDTH = 100
# the main column that a table's bare `stderr` / `ci95_low` / `ci95_high` columns belong to, in order of preference
_INTERVAL_OWNERS = ("value", "score", "win_rate_adjusted", "b_minus_a", "rating")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: a value
        return False


def _decimals(value: float, stderr: float | None = None) -> int:
    """Decimals that show ``value`` sensibly: 2 below 10, 1 below 1000, else 0; more when the standard error
    would otherwise read 0.00."""
    size = abs(value)
    places = 2 if size < 10 else 1 if size < 1000 else 0
    if stderr is not None and not _missing(stderr) and 0 < abs(stderr) < 10**-places:
        places = min(4, -math.floor(math.log10(abs(stderr))))
    return places


def number(value: Any, places: int | None = None) -> str:
    """One number for a person: '' for a missing value, whole numbers without decimals, 2 decimals below 10,
    1 below 1000, 0 beyond; a small non-zero value (a p-value, a cost) with two significant digits."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        return str(value)
    value = float(value)
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if places is None:
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        if 1e-6 <= abs(value) < 0.005:  # a p-value, a cost in dollars: two significant digits
            return f"{value:.{1 - math.floor(math.log10(abs(value)))}f}"
        if 0 < abs(value) < 1e-6:
            return f"{value:.2g}"
        places = _decimals(value)
    return f"{value:.{places}f}"


def with_interval(value: Any, stderr: Any = None, low: Any = None, high: Any = None, places: int | None = None) -> str:
    """'0.60 ± 0.11 [0.38, 0.82]': the value, its standard error and its 95% interval, each part when known, with
    ``places`` decimals (default: what the value and its standard error need)."""
    if _missing(value):
        return ""
    if places is None:
        places = _decimals(float(value), None if _missing(stderr) else float(stderr))
    text = f"{float(value):.{places}f}"
    if not _missing(stderr):
        text += f" ± {float(stderr):.{places}f}"
    if not _missing(low) and not _missing(high):
        text += f" [{float(low):.{places}f}, {float(high):.{places}f}]"
    return text


def _column_places(rows: list[tuple[Any, Any, Any, Any]]) -> list[int | None]:
    """Decimals for each row of a score column: rows of one scale (values below 10: accuracies, rates, bits)
    share the most any of them needs, so the column lines up; larger values keep their own."""
    need = [None if _missing(v) else _decimals(float(v), None if _missing(s) else float(s)) for v, s, _, _ in rows]
    small = [p for (v, *_), p in zip(rows, need) if p is not None and abs(float(v)) < 10]
    shared = max(small, default=None)
    return [shared if p is not None and abs(float(v)) < 10 else p for (v, *_), p in zip(rows, need)]


def _interval_groups(columns: list[str]) -> list[tuple[str, str | None, str | None, str | None]]:
    """(value, stderr, low, high) column names of each score with an interval: `acc` with `acc_stderr`,
    `acc_ci95_low`, `acc_ci95_high` (grid cells), or the table's main column with bare `stderr`, `ci95_low`,
    `ci95_high` (metric tables, judge scores, win rates, comparisons)."""
    groups: list[tuple[str, str | None, str | None, str | None]] = []
    for column in columns:
        low, high = f"{column}_ci95_low", f"{column}_ci95_high"
        if low in columns and high in columns:
            stderr = f"{column}_stderr" if f"{column}_stderr" in columns else None
            groups.append((column, stderr, low, high))
    owner = next((c for c in _INTERVAL_OWNERS if c in columns), None)
    if owner and ("stderr" in columns or {"ci95_low", "ci95_high"} <= set(columns)):
        has_interval = {"ci95_low", "ci95_high"} <= set(columns)
        groups.append(
            (
                owner,
                "stderr" if "stderr" in columns else None,
                "ci95_low" if has_interval else None,
                "ci95_high" if has_interval else None,
            )
        )
    return groups


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` as a person reads it (text cells, for display only): each score with an interval in one column,
    '0.60 ± 0.11 [0.38, 0.82]', named like 'value ± se [95% CI]'; whole numbers as integers, other numbers
    rounded to what they can show; columns with no value at all left out. Python code should read the original."""
    table = table.loc[:, [c for c in table.columns if not table[c].map(_missing).all()]]
    columns = [str(c) for c in table.columns]
    out = pd.DataFrame(index=table.index)
    grouped: dict[str, tuple[str, str | None, str | None, str | None]] = {g[0]: g for g in _interval_groups(columns)}
    used = {c for g in grouped.values() for c in g[1:] if c}
    for column in table.columns:
        name = str(column)
        if name in used:
            continue
        if name in grouped:
            value, stderr, low, high = grouped[name]
            label = name + (" ± se" if stderr else "") + (" [95% CI]" if low else "")
            rows = list(
                zip(
                    table[value],
                    table[stderr] if stderr else [None] * len(table),
                    table[low] if low else [None] * len(table),
                    table[high] if high else [None] * len(table),
                )
            )
            out[label] = [with_interval(*row, places=p) for row, p in zip(rows, _column_places(rows))]
        elif name == "seconds":
            out[name] = [number(v, 1) if not _missing(v) else "" for v in table[column]]
        elif pd.api.types.is_numeric_dtype(table[column]) and not pd.api.types.is_bool_dtype(table[column]):
            out[name] = table[column].map(number)
        else:
            out[name] = table[column]
    return out.reset_index(drop=True)


def shown_runs(table: pd.DataFrame) -> pd.DataFrame:
    """A ``runs_table`` for a person: items as 'scored/items' when a run stopped early, the headline metric as
    'acc 0.60 ± 0.11', and the columns that hold nothing (tokens and cost of local models) left out."""
    if table.empty:
        return table
    counts = zip(table["scored"], table["items"])
    items = [number(n) if _missing(s) or s == n else f"{number(s)}/{number(n)}" for s, n in counts]
    heads = zip(table["metric"], table["value"], table["stderr"])
    scores = ["" if _missing(m) else f"{m} {with_interval(v, s)}" for m, v, s in heads]
    view = table.drop(columns=["items", "scored", "metric", "value", "stderr"])
    years = {str(c)[:4] for c in view["created"] if not _missing(c)}
    if len(years) == 1:  # all from one year: month, day and time say enough
        view["created"] = [c if _missing(c) else str(c)[5:] for c in view["created"]]
    view.insert(list(view.columns).index("model") + 1, "items", items)
    view.insert(list(view.columns).index("items") + 1, "score", scores)
    return shown(view)


def as_text(
    table: pd.DataFrame,
    width: int = WIDTH,
    min_width: int = 8,
    keep: tuple[str, ...] = (),
    whole: tuple[str, ...] = (),
) -> str:
    """A table as terminal text no wider than ``width``: numbers right-aligned, text left-aligned, two spaces
    between columns (one when that makes it fit). When still too wide, the widest text columns are shortened
    (ending in '…'), never below ``min_width`` characters or their heading; the columns named in ``keep`` only
    when no other can give, those in ``whole`` (and numbers) never."""
    if table.empty:
        return "(none)"
    names = [str(c) for c in table.columns]
    cells = [["" if _missing(v) else " ".join(str(v).split()) for v in table[c]] for c in table.columns]
    numeric = [all(_NUMBER.fullmatch(v) for v in col if v) for col in cells]
    widths = [max([len(n), *map(len, col)]) for n, col in zip(names, cells)]

    def total(gap: int) -> int:
        return sum(widths) + gap * (len(widths) - 1)

    gap = 2 if total(2) <= width else 1
    floor = [max(len(n), min_width) for n in names]
    while total(gap) > width:
        over = total(gap) - width
        shrinkable = [
            i for i in range(len(widths)) if not numeric[i] and names[i] not in whole and widths[i] > floor[i]
        ]
        shrinkable = [i for i in shrinkable if names[i] not in keep] or shrinkable
        if not shrinkable:
            break
        i = max(shrinkable, key=lambda j: widths[j])
        others = [widths[j] for j in shrinkable if j != i]
        target = max(floor[i], widths[i] - over, max(others, default=0))  # shorten the widest down to the next
        widths[i] = target if target < widths[i] else widths[i] - 1

    def cut(value: str, size: int) -> str:
        return value if len(value) <= size else value[: size - 1] + "…"

    def line(values: list[str]) -> str:
        parts = [cut(v, w).rjust(w) if num else cut(v, w).ljust(w) for v, w, num in zip(values, widths, numeric)]
        return (" " * gap).join(parts).rstrip()

    rows = [line(names)] + [line([col[r] for col in cells]) for r in range(len(table))]
    return "\n".join(rows)


_NUMBER = re.compile(r"[-+]?(\d[\d,]*)?(\.\d+)?(e[-+]?\d+)?%?|[-+]?inf|\d+[/-]\d+")


def task_list(
    tasks: pd.DataFrame, mirror: Any = None, width: int = WIDTH, detail: bool = False
) -> tuple[str, pd.DataFrame, str]:
    """A ``workbench.list_tasks()`` table for a person: (heading, table, notes).

    The heading says where rows come from (the local mirror ``mirror``, else the hub); the table has one row per
    task with its items, split, default shots and metrics, MMLU's 57 and KMMLU's 45 subjects each folded into
    one row (``mmlu:<subject>``, ``kmmlu:<subject>``) that the notes spell out, with the tasks that can also be
    scored by generation.
    ``detail`` (a notebook, where cells wrap) adds where each task's rows are (mirror file or hub dataset) and
    what the task is.
    """
    from ..data import kmmlu, mmlu

    if mirror:
        heading = f"Rows come from the local mirror {mirror} ($WORKBENCH_DATA_DIR); the hub is not used."
    else:
        heading = "Rows come from the Hugging Face hub (downloaded on first use); $WORKBENCH_DATA_DIR names a mirror."
    # (prefix, subjects, name, mirror file, hub dataset): each family's subjects fold into one '<prefix>:<subject>' row
    folds: list[tuple[str, dict[str, Any], str, str, str]] = [
        ("mmlu", mmlu.SUBJECTS, "MMLU", "mmlu/test/<subject>_test.csv", "cais/mmlu/<subject>"),
        ("kmmlu", kmmlu.SUBJECTS, "KMMLU", "kmmlu/data/<Config>-test.csv", "HAERAE-HUB/KMMLU/<Config>"),
    ]
    folded = {f"{prefix}:{s}": prefix for prefix, subjects, *_ in folds for s in subjects}
    family_of = [folded.get(t) for t in tasks["task"]]
    rows = []  # the tasks in order, each family's subjects folded into one row where the first of them was
    seen: set[str] = set()
    for row, family in zip(tasks.to_dict("records"), family_of):
        if family is None:
            rows.append(row)
        elif family not in seen:
            seen.add(family)
            sizes = tasks.loc[[f == family for f in family_of], "size"].dropna()
            size = f"{int(sizes.min())}-{int(sizes.max())}" if len(sizes) else None
            rows.append({**row, "task": f"{family}:<subject>", "size": size})
    table = pd.DataFrame(rows, columns=tasks.columns)
    view = pd.DataFrame(
        {
            "task": table["task"],
            "items": [number(v) for v in table["size"]],
            "split": table["eval split"],
            "shots": [str(s).replace(" (fixed)", " fixed") for s in table["shots"]],
            "metrics": table["metrics"],
        }
    ).reset_index(drop=True)
    if detail:
        view["rows from"] = list(table["mirror"] if mirror else table["hub dataset"])
        view["about"] = list(table["about"])
    notes = []
    for prefix, _, name, mirror_file, hub in folds:
        if prefix not in seen:
            continue
        if detail:
            view.loc[view["task"] == f"{prefix}:<subject>", ["rows from", "about"]] = [
                mirror_file if mirror else hub,
                f"One {name} subject (see below).",
            ]
        names = ", ".join(t.split(":", 1)[1] for t, f in zip(tasks["task"], family_of) if f == prefix)
        count = sum(f == prefix for f in family_of)
        notes.append(_wrapped(f"{prefix}:<subject> is one of {name}'s {count} subjects: {names}.", width))
    both = tasks.loc[tasks["modes"].astype(bool), "task"]
    families = _families(list(both), list(tasks["task"]))
    notes.append(
        _wrapped(f"Also scored by generated answers (--mode generate, or both): {', '.join(families)}.", width)
    )
    notes.append("Each task's description, hub dataset and mirror file: workbench.list_tasks() in Python.")
    return heading, view, "\n".join(notes)


def _families(names: list[str], every: list[str]) -> list[str]:
    """Task names shortened to families where a whole family qualifies: arc_easy and arc_challenge -> arc_*."""
    out: list[str] = []
    for name in names:
        sep = ":" if ":" in name else "_"
        family = name.split(sep)[0]
        members = [t for t in every if t.startswith(family + sep)]
        whole = len(members) > 1 and set(members) <= set(names)
        for label in [family] if name == family else [f"{family}{sep}*"] if whole else [name]:
            if label not in out:
                out.append(label)
    return out


def _wrapped(paragraph: str, width: int) -> str:
    import textwrap

    return textwrap.fill(paragraph, width=width, break_on_hyphens=False)


def suite_list(suites: pd.DataFrame, width: int = WIDTH) -> str:
    """``workbench.list_suites()`` as text: each group or suite, its members wrapped under it, within ``width``."""
    import textwrap

    lines = ["Groups (every member; --shots and --mode apply to each) and suites (published settings, fixed):"]
    pad = max(len(str(n)) for n in suites["name"]) + 2 if len(suites) else 2
    for row in suites.to_dict("records"):
        head = f"  {row['name']:<{pad}}"
        body = f"{row['kind']}: {row['members']}; headline: {row['headline']}"
        lines.append(textwrap.fill(body, width=width, initial_indent=head, subsequent_indent=" " * len(head)))
    return "\n".join(lines)
