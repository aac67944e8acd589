"""A regression gate for CI: ``workbench check gate.yaml`` / ``workbench.check(spec)``.

The spec (workbench.gate.spec) names the tasks, the model(s) and settings under test, a baseline and rules per
metric. Each task x model is evaluated through the workbench's own evaluation, which reuses a complete run of the
same call from the store (a rerun on the same weights and data is instant), then held to its rules
(workbench.gate.rules); the result (workbench.gate.result) says PASS/FAIL per rule, as text, JUnit XML or HTML.
docs/ci-gate.md is the reference, with a CI job that uses it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .result import CheckResult
from .spec import Check, GateSpec, load

__all__ = ["Check", "CheckResult", "GateSpec", "check", "load"]


def check(
    spec: Any,
    *,
    junit: str | Path | None = None,
    save_baseline: str | Path | None = None,
    store: str | Path | None = None,
) -> CheckResult:
    """Evaluate what ``spec`` names and hold it to its rules; ``result.passed`` says whether every rule held.

    ``spec``: a YAML file's path, its text, or the same as a dict. ``junit`` writes JUnit XML there.
    ``save_baseline`` writes a baseline file from this check's candidate runs (before the rules are held, so a
    spec whose baseline is that file compares with the runs just written). ``store``: the project store (default
    as everywhere: ``$WORKBENCH_STORE``, else the nearest ``workbench.sqlite``).

    A bad spec, a missing baseline or a run that cannot be made raises ``WorkbenchError`` naming the line and
    field (the CLI exits 2); failed rules do not raise: the result says which (the CLI exits 1).
    """
    from ..store import Store
    from . import baseline as files
    from .rules import Judge

    gate = load(spec, store=store, save_baseline=save_baseline)
    target = Path(save_baseline).resolve() if save_baseline is not None else None
    held = files.Files()
    for c in gate.checks:  # every baseline file entry is found before anything is evaluated
        if c.baseline is not None and c.baseline.kind == "file" and c.baseline.file != target:
            held.entry(c.baseline, c)
    run_ids = [c.run or _evaluated(c, store) for c in gate.checks]
    db = Store(store, create=False)
    saved = None
    if save_baseline is not None:
        unique = dict(zip(run_ids, gate.checks))  # a run gated twice is written once
        entries = [files.entry(c, db.run(r), db.sample_records(r)) for r, c in unique.items()]
        saved = files.write(save_baseline, entries, gate.source)
        held = files.Files()  # read what was just written
    outcomes = [o for c, r in zip(gate.checks, run_ids) for o in Judge(c, r, db, held).outcomes()]
    result = CheckResult(
        outcomes,
        gate.name,
        gate.source,
        db.path,
        saved,
        {f"{c.task} {c.model}": r for c, r in zip(gate.checks, run_ids)},
    )
    if junit is not None:
        result.junit(junit)
    return result


def _evaluated(c: Check, store: str | Path | None) -> str:
    """The candidate run of one check: evaluated, or the complete run of the same call reused; a run that cannot be
    made is refused naming the spec's entry."""
    from ..errors import WorkbenchError
    from ..evaluation import evaluate_task

    try:
        return evaluate_task(c.task, c.model, reuse=True, store=store, **c.settings).run_id
    except WorkbenchError as exc:
        raise WorkbenchError(f"{c.where} ({c.task}, {c.model}): {exc}") from None
