"""What a report is of: each thing named, resolved to the stored runs behind it.

A thing is a run id or a prefix of one, a group or suite name (the newest complete runs of its members, per model:
one model gives a ``SuiteResult``, several a ``Leaderboard``), or a result object: an ``EvalResult`` (anything with
``run_id`` and ``store_path``), a ``SuiteResult``, a ``Leaderboard`` or a ``Comparison``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..comparison import Comparison
from ..errors import WorkbenchError, notice, suggest
from ..leaderboards import Failed, Leaderboard
from ..store import Store
from ..suites import SuiteResult
from ..tasks.suites import SUITES, Member, Suite, describe, find

LISTING = "`workbench runs` (or %llm_runs) lists the run ids"


@dataclass(frozen=True)
class RunRef:
    """One stored run and the store that holds it."""

    db: Store
    run: dict[str, Any]

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    def label(self) -> str:
        return f"{self.run['task']} | {self.run['model']} ({self.run_id})"


Thing = RunRef | SuiteResult | Leaderboard | Comparison


def lookup(db: Store, text: str) -> RunRef | None:
    """The run whose id is ``text`` or starts with it; None when no id does; a prefix of several is refused."""
    ids = [str(r) for r in db.runs()["run_id"]]
    if text in ids:
        return RunRef(db, db.run(text))
    found = [r for r in ids if r.startswith(text)]
    if len(found) > 1:
        raise WorkbenchError(
            f"{text!r} is the start of {len(found)} run ids ({', '.join(found[:5])}{', ...' if len(found) > 5 else ''})"
            f" in {db.path}: give more of the id. {LISTING}."
        )
    return RunRef(db, db.run(found[0])) if found else None


def _matches(run: dict[str, Any], member: Member) -> bool:
    config = run.get("config") or {}
    return (
        run["task"] == member.task
        and run["status"] == "complete"
        and bool(run.get("metrics"))
        and (member.shots is None or config.get("shots") == member.shots)
        and (member.mode is None or config.get("mode") == member.mode)
    )


def from_store(db: Store, suite: Suite) -> SuiteResult | Leaderboard:
    """A group or suite from the store: per model, the newest complete run of each member (with the member's own
    shots and mode where the suite fixes them). One model with every member gives a ``SuiteResult``, several a
    ``Leaderboard``; models that lack a member are left out, named in one ``workbench:`` line."""
    from ..evaluation import EvalResult

    runs = db.runs().to_dict("records")  # newest first
    newest: dict[str, dict[str, EvalResult]] = {}
    for member in suite.members:
        for run in runs:
            if _matches(run, member):
                cells = newest.setdefault(str(run["model"]), {})
                if member.task not in cells:
                    cells[member.task] = EvalResult(
                        run["run_id"], run["task"], run["model"], run["metrics"], run["duration_s"] or 0.0, db.path
                    )
    tasks = [m.task for m in suite.members]
    whole = {model: cells for model, cells in newest.items() if len(cells) == len(tasks)}
    lacking = {model: [t for t in tasks if t not in cells] for model, cells in newest.items() if model not in whole}
    missing = "; ".join(f"{model} lacks {', '.join(ts)}" for model, ts in lacking.items())
    if not whole:
        has = f" ({missing})" if missing else ""
        raise WorkbenchError(
            f"No model has complete runs of every member of {suite.name} ({describe(suite)}) in {db.path}{has}."
            f" Make them with `workbench eval {suite.name} --model MODEL` (or %llm_eval "
            f"{suite.name}), or name the runs to report by id: {LISTING}."
        )
    if lacking:
        notice(f"{suite.name}: left out of the report, without complete runs of every member: {missing}.")
    if len(whole) == 1:
        model, cells = next(iter(whole.items()))
        return SuiteResult(suite, model, dict(cells))
    board = Leaderboard(suite, list(whole))
    board.runs.update({(model, task): result for model, cells in whole.items() for task, result in cells.items()})
    return board


def _named(db: Store, text: str) -> RunRef | SuiteResult | Leaderboard:
    if not text.strip():
        raise WorkbenchError(f"An empty run id was given. {LISTING}.")
    ref = lookup(db, text.strip())
    if ref is not None:
        return ref
    suite = find(text.strip())
    if suite is not None:
        return from_store(db, suite)
    raise WorkbenchError(
        f"No run {text!r} in {db.path}, and no group or suite of that name.{suggest(text, SUITES)} {LISTING}; "
        "`workbench tasks` lists the groups and suites."
    )


def resolve(items: Sequence[Any], store: str | Path | None) -> list[Thing]:
    """Each thing named, as a stored run, a suite result, a leaderboard or a comparison."""
    if not items:
        raise WorkbenchError(
            "Name what to report: run ids, a suite or group, or results, e.g. workbench.report('1a2b3c4d', "
            f"path='report.html'). {LISTING}."
        )
    if store is not None and not isinstance(store, (str, Path)):
        raise WorkbenchError(
            f"store must be the path of a project store file, e.g. store='project.sqlite' (got {store!r:.60})."
        )
    db: Store | None = None
    out: list[Thing] = []
    for item in items:
        if isinstance(item, (SuiteResult, Leaderboard, Comparison)):
            out.append(item)
        elif isinstance(item, str):
            db = db or Store(store, create=False)  # reading: a mistyped path is named, never created
            out.append(_named(db, item))
        elif isinstance(getattr(item, "run_id", None), str) and getattr(item, "store_path", None) is not None:
            held = Store(item.store_path, create=False)
            out.append(RunRef(held, held.run(item.run_id)))
        else:
            raise WorkbenchError(
                f"A report shows run ids (or their prefixes), group or suite names, EvalResult, SuiteResult, "
                f"Leaderboard or Comparison objects; got {type(item).__name__} {item!r:.60}. {LISTING}."
            )
    return out


def runs_of(thing: Thing, store: str | Path | None) -> list[RunRef]:
    """The stored runs a thing shows (a leaderboard's complete cells, a comparison's two runs)."""
    if isinstance(thing, RunRef):
        return [thing]
    if isinstance(thing, SuiteResult):
        refs = [_ref(r.store_path, r.run_id) for r in thing.runs.values()]
        if thing.judged is not None:  # the judged task's answers (Horangi's MT-Bench half), with their judgments
            refs += [_ref(thing.judged.store_path, r) for r in thing.judged.runs]
        return refs
    if isinstance(thing, Leaderboard):
        return [_ref(r.store_path, r.run_id) for r in thing.runs.values() if not isinstance(r, Failed)]
    db = Store(store, create=False)
    return [RunRef(db, db.run(r["run_id"])) for r in (thing.run_a, thing.run_b)]


def _ref(path: Path, run_id: str) -> RunRef:
    db = Store(path, create=False)
    return RunRef(db, db.run(run_id))
