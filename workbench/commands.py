"""The commands the magics and the `workbench` CLI both run, so the two shells differ only in how they show
results (a terminal prints text; a notebook displays tables and charts).

Each function takes the parsed arguments of its table in :mod:`workbench.options`, the command text to record
and, from a magic, ``resolve`` (a notebook variable's value for options that may name one); it returns the API's
result. Errors are ``WorkbenchError``s, which both shells report in one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import options
from .errors import WorkbenchError


def evaluate(args: Any, command: str, resolve: Callable[[Any], Any] | None = None) -> Any:
    """``workbench.evaluate``; ``--mode both`` runs ``workbench.compare_modes`` (a ``ModeComparison``)."""
    from . import api
    from .tasks.suites import find

    values = options.kwargs(options.EVAL, args, resolve)
    mode = values.pop("mode")
    if mode == "both" and find(values["task"]) is None and "," not in values["model"]:
        return api.compare_modes(command=command, **values)
    return api.evaluate(command=command, mode=mode, **values)  # a suite or leaderboard refuses --mode both


def leaderboard(args: Any, command: str) -> Any:
    """``workbench.leaderboard`` over the task, group or suite named, for the models of ``--model a,b``."""
    from .leaderboards import leaderboard as board

    values = options.kwargs(options.EVAL, args, resolve=None)
    if values.pop("data") is not None:
        raise WorkbenchError("--data applies to one model's run of one task; leave it out for a leaderboard.")
    task, model = values.pop("task"), values.pop("model")
    return board(task, models=model, command=command, **values)


def runs(args: Any) -> Any:
    from . import api

    return api.runs(**options.kwargs(options.RUNS, args))


def perplexity(args: Any, command: str, resolve: Callable[[Any], Any] | None = None) -> Any:
    from . import scoring

    return scoring.perplexity(command=command, **options.kwargs(options.PPL, args, resolve))


def grid(
    args: Any, command: str, prompts: dict[str, str] | None = None, resolve: Callable[[Any], Any] | None = None
) -> Any:
    """``workbench.grid``: templates from ``--prompt`` options (CLI) or from ``prompts`` (a %%llm_grid cell,
    parsed by ``options.grid_prompts``)."""
    from . import grids

    values = options.kwargs(options.GRID, args, resolve)
    if prompts is not None:
        values["prompts"] = prompts
    return grids.grid(command=command, **values)


def compare(args: Any) -> Any:
    from . import comparison

    return comparison.compare(**options.kwargs(options.COMPARE, args))


def trend(args: Any) -> Any:
    """``workbench.trend``: every complete run of one evaluation over time."""
    from .trends import trend as follow

    return follow(**options.kwargs(options.TREND, args))


def variants(args: Any) -> Any:
    """``workbench.variants``: one model's variants on the same items, compared with the reference."""
    from .model_variants import variants as side_by_side

    return side_by_side(**options.kwargs(options.VARIANTS, args))


def throughput(args: Any, resolve: Callable[[Any], Any] | None = None) -> Any:
    """``workbench.throughput``: serving speed at each concurrency (a magic's list variable as the prompts)."""
    from .serving_speed import throughput as measure

    return measure(**options.kwargs(options.THROUGHPUT, args, resolve))


def export(args: Any) -> Any:
    """``workbench.export_mlflow`` over the runs named (``workbench export mlflow RUN...``): a table of the
    workbench run ids and the MLflow runs they went to."""
    from .mlflow_export import export_mlflow

    return export_mlflow(*args.runs, **options.kwargs(options.EXPORT, args))


def check(args: Any) -> Any:
    """``workbench.check``: the regression gate of a spec file (a ``CheckResult``)."""
    from . import gate

    return gate.check(**options.kwargs(options.CHECK, args))


def report(args: Any) -> Any:
    """``workbench.report`` of the runs, groups or suites named: the file written (``reports.Written``: its path
    and a one-line ``summary()``)."""
    from .reports import write_report

    return write_report(*args.items, **options.kwargs(options.REPORT, args))


def score(args: Any, command: str, resolve: Callable[[Any], Any] | None = None) -> Any:
    from . import scoring

    return scoring.score(command=command, **options.kwargs(options.SCORE, args, resolve))


def judge_kwargs(args: Any) -> dict[str, Any]:
    """The run(s) and keyword arguments of ``workbench.judge`` from parsed arguments."""
    if len(args.runs) > 2:
        raise WorkbenchError(f"Give one run (single grading) or two (pairwise), not {len(args.runs)}.")
    run, other = args.runs[0], (args.runs[1] if len(args.runs) > 1 else None)
    return {"run": run, "other": other, **options.kwargs(options.JUDGE, args)}


def judge(args: Any, command: str) -> Any:
    """``workbench.judge`` over one run (single grading) or two (pairwise)."""
    from . import api

    return api.judge(command=command, **judge_kwargs(args))


def judge_calibrate(args: Any, command: str) -> Any:
    """``workbench.judge.calibrate``: a judge's agreement with people's pairwise votes."""
    from .judge.calibration import calibrate

    return calibrate(command=command, **options.kwargs(options.JUDGE_CALIBRATE, args))


def newest_run(store: Any = None, partial: bool = False) -> str:
    """The newest run with outputs to rate, for ``%llm_rate`` without a run id; prints which it picked and the
    newer runs it passed over: runs without outputs (perplexity runs) and, unless ``partial``, unfinished ones."""
    from . import api
    from .human import items

    table = api.runs(store)
    if table.empty:
        raise WorkbenchError("No runs in the store yet: run %llm_eval first, or name a run: %llm_rate RUN_ID.")
    passed = []
    for run in table.to_dict("records"):
        label = f"{run['run_id']} ({run.get('task', '?')}"
        if not partial and run.get("status", "complete") != "complete":
            passed.append(f"{label}, {run['status']}: --partial rates it)")
            continue
        try:
            items(run["run_id"], store=store)
        except WorkbenchError:
            passed.append(f"{label}, nothing to rate)")
            continue
        skipped = f"; passed over newer runs {', '.join(passed)}" if passed else ""
        print(f"Rating run {label}, {run.get('model', '?')}), the newest run with outputs to rate{skipped}. "
              "Name another: %llm_rate RUN_ID.")  # fmt: skip
        return str(run["run_id"])
    raise WorkbenchError(
        f"None of the {len(table)} runs in {store or 'the project store'} has outputs to rate "
        f"({'; '.join(passed[:3])}{', ...' if len(passed) > 3 else ''}). Run %llm_eval or %%llm_grid first, or "
        "name a run: %llm_rate RUN_ID."
    )


def rate(args: Any) -> Any:
    """A rating panel over the named run, or the newest one."""
    from .widgets import rate as rating_panel

    values = options.kwargs(options.RATE, args)
    values["source"] = values["source"] or newest_run(values["store"], partial=bool(values.get("partial")))
    return rating_panel(**values)


def arena(args: Any) -> Any:
    """A blind A/B panel over two or more runs."""
    from .widgets import arena as arena_panel

    return arena_panel(*args.runs, **options.kwargs(options.ARENA, args))
