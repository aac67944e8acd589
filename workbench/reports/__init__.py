"""A report in one file: ``workbench.report(...)``, ``workbench report``, ``%llm_report``.

    workbench.report("1a2b3c4d", path="report.html")               # one run
    workbench.report("1a2b3c4d", "5e6f7a8b")                       # two runs of a task: with the paired comparison
    workbench.report("arc")                                        # a group or suite: its members' newest runs
    workbench.report(leaderboard, title="Base vs instruct")        # a Leaderboard, SuiteResult or Comparison

One self-contained HTML file that opens offline in any current browser: the headline table with 95% intervals,
interactive charts, each run's settings, its items with a search box and a wrong-answers filter, the judge's
rationales and human ratings the store holds for them, and the paired comparison when exactly two runs of the same
task are given. Model outputs are shown as text and nothing in the page is fetched from any host.

    sources    what each thing named is: stored runs, a suite or leaderboard from the store, result objects
    sections   headline tables, charts and the paired comparison, as data for the page
    items      each run's settings and items, with judgments and ratings
    page       the HTML file: escaped JSON, the page's assets, plotly.js packed inline, an atomic write
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError


@dataclass(frozen=True)
class Written:
    """A report on disk: where, how big, and what it shows."""

    path: Path
    title: str
    runs: list[str]
    items: int
    compared: bool

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def summary(self) -> str:
        """One line: what the report shows and where it is."""
        runs = f"{len(self.runs)} run{'s' if len(self.runs) != 1 else ''} ({', '.join(self.runs[:4])}"
        runs += ", ...)" if len(self.runs) > 4 else ")"
        compared = ", with the paired comparison" if self.compared else ""
        return f"Report {self.title!r}: {runs}, {self.items:,} items{compared}; {self.path} ({self.size / 1e6:.1f} MB)."


def _title(things: list[Any], runs: list[Any]) -> str:
    from .sources import RunRef

    if len(things) == 1 and not isinstance(things[0], RunRef):
        thing = things[0]
        if hasattr(thing, "models"):  # a Leaderboard
            return f"{thing.suite.name}: {len(thing.models)} models"
        if hasattr(thing, "suite"):
            return f"{thing.suite.name} | {thing.model}"
        return f"{thing.run_a['task']}: {thing.run_a['run_id']} vs {thing.run_b['run_id']}"
    if len(runs) == 1:
        return runs[0].label()
    tasks = list(dict.fromkeys(str(r.run["task"]) for r in runs))
    return f"{len(runs)} runs of {', '.join(tasks[:3])}{', ...' if len(tasks) > 3 else ''}"


def write_report(
    *items: Any, path: str | Path = "report.html", store: str | Path | None = None, title: str | None = None
) -> Written:
    """Write the report (see :func:`report`) and say what it holds."""
    from ..run.provenance import versions
    from .items import run_view
    from .page import html_page, write
    from .sections import sections
    from .sources import resolve, runs_of

    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise WorkbenchError(f"path must name the HTML file to write, e.g. path='report.html' (got {path!r:.60}).")
    if title is not None and not isinstance(title, str):
        raise WorkbenchError(f"title must be text (got {title!r:.60}).")
    target = Path(path).expanduser()
    things = resolve(items, store)
    runs = list({r.run_id: r for thing in things for r in runs_of(thing, store)}.values())
    parts = sections(things, runs)
    held = {str(r.db.path.resolve()): r.db for r in runs}  # each store's runs read once (to find judge runs)
    stored = {key: db.runs().to_dict("records") for key, db in held.items()}
    views = [run_view(r, stored[str(r.db.path.resolve())]) for r in runs]
    heading = title or _title(things, runs)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    data = {
        "title": heading,
        "generated": generated,
        "workbench": versions()["workbench"],
        "sections": parts,
        "runs": views,
    }
    write(target, html_page(heading, data))
    compared = any(str(s["title"]).startswith("Paired comparison") and s["tables"] for s in parts)
    return Written(target, heading, [r.run_id for r in runs], sum(len(v["items"]) for v in views), compared)


def report(
    *items: Any, path: str | Path = "report.html", store: str | Path | None = None, title: str | None = None
) -> Path:
    """Write one self-contained HTML report of ``items`` to ``path`` and return its path.

    ``items``: run ids or prefixes, group or suite names (the newest complete runs of their members: one model a
    suite table, several a leaderboard), ``EvalResult``, ``SuiteResult``, ``Leaderboard`` or ``Comparison``
    objects. ``store``: the project store holding the runs named by id (default: the project's). The file opens
    offline in any current browser and fetches nothing; it is written whole or not at all.
    """
    return write_report(*items, path=path, store=store, title=title).path


__all__ = ["Written", "report", "write_report"]
