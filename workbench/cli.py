"""The `workbench` command: the same API from a shell. Flags come from workbench.options, the commands from
workbench.commands (shared with the magics); this module only prints the results."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import NoReturn

from . import commands, options
from .errors import WorkbenchError, notice

SUBCOMMANDS = (  # name, table in workbench.options (None: no options), help
    ("eval", "EVAL", "run a benchmark"),
    ("runs", "RUNS", "list saved runs"),
    ("tasks", None, "list available tasks"),
    ("ppl", "PPL", "perplexity of a text or a file of texts"),
    ("grid", "GRID", "prompt x model x parameter grid"),
    ("compare", "COMPARE", "paired comparison of two runs"),
    ("score", "SCORE", "score existing predictions against references (no model)"),
    ("judge", "JUDGE", "LLM-as-a-judge: grade a run's answers, or compare two runs (both orders)"),
    ("judge-calibrate", "JUDGE_CALIBRATE", "a judge's agreement with human pairwise votes (MT-Bench paper, S1/S2)"),
    ("check", "CHECK", "regression gate for CI: evaluate a spec's tasks, hold them to its rules (exit 1 on a failure)"),
    ("trend", "TREND", "one evaluation repeated over time: changes from run to run, and of the reported model"),
    ("export", "EXPORT", "export runs to MLflow: workbench export mlflow RUN... [--tracking-uri URI]"),
    ("report", "REPORT", "one self-contained HTML report of runs, a suite or a leaderboard (opens offline)"),
    ("variants", "VARIANTS", "one model's variants (float32, bfloat16, int8, GGUF) compared: score, memory, speed"),
    ("throughput", "THROUGHPUT", "serving speed: time to first token, tokens/s at each concurrency"),
)


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option reported as one `workbench:` line naming the fix (exit 2, no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"workbench: {message}. See `{self.prog} --help` for the options.\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="workbench", description="Evaluate language models; results go to the project store (a SQLite file)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, table, help_text in SUBCOMMANDS:
        options.add_arguments(sub.add_parser(name, help=help_text), getattr(options, table) if table else [])
    return parser


def show(table, drop: tuple[str, ...] = ()) -> None:
    """Print a result table as text that fits the terminal's 100 columns (see workbench.views.text)."""
    from .views.text import as_text, shown

    print(as_text(shown(table.drop(columns=[c for c in drop if c in table.columns]))))


def print_comparison(both) -> None:
    """The two scoring modes side by side, then the items where they disagree."""
    show(both.table())
    columns = ["doc_id", "gold", "loglikelihood answer", "generated text", "generated answer"]
    print("\nitems where the two modes disagree:")
    show(both.disagreements()[columns])
    print(f"runs {both.loglikelihood.run_id} (loglikelihood) and {both.generate.run_id} (generate) saved")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help (0), or a bad option already reported as one `workbench:` line (2)
        return int(stop.code or 0)
    try:
        status = run(args, "workbench " + shlex.join(argv))
    except WorkbenchError as error:
        notice(str(error))
        return 2
    return status or 0


def run(args: argparse.Namespace, command: str) -> int | None:
    """Run one subcommand and print its result; a status to exit with where the command has one (check: 1 when a
    rule failed)."""
    from . import api
    from .leaderboards import Leaderboard
    from .settings import data_dir
    from .suites import SuiteResult

    # workbench.views (pandas, about 70 MB) is imported where a table is printed, never before an evaluation, whose
    # peak memory it would add to
    if args.command == "tasks" or (args.command == "eval" and args.list):
        from .views import text as views

        heading, table, notes = views.task_list(api.tasks(), data_dir())
        print(f"{heading}\n\n{views.as_text(table)}\n\n{notes}\n\n{views.suite_list(api.suites())}")
    elif args.command == "eval":
        if not args.task:
            raise WorkbenchError(
                "Name a task, e.g. `workbench eval arc_easy --limit 50` (`workbench tasks` lists them)."
            )
        result = commands.evaluate(args, command)
        if isinstance(result, api.ModeComparison):
            print_comparison(result)
        elif isinstance(result, Leaderboard):
            print(result)
        elif isinstance(result, SuiteResult):
            show(result.table(), drop=("run_id", "headline", "model"))
            print(f"runs {', '.join(f'{t} {r.run_id}' for t, r in result.runs.items())} saved in {result.store_path}")
        else:
            show(result.summary(), drop=("run_id",))
            print(f"run {result.run_id} saved in {result.store_path}")
    elif args.command == "runs":
        from .views import text as views

        listed = views.shown_runs(commands.runs(args)).drop(columns=["command"], errors="ignore")
        print(views.as_text(listed, keep=("score",), whole=("run_id", "created", "status")))
    elif args.command == "judge":
        result = commands.judge(args, command)
        print(result)
        show(result.summary())
        print(f"judge run {result.run_id} saved in {result.store_path}; judge usage: {result.usage()}")
    elif args.command == "judge-calibrate":
        calibrated = commands.judge_calibrate(args, command)
        print(calibrated)
        show(calibrated.summary())
        print(f"judge run {calibrated.run_id} saved in {calibrated.store_path}")
    elif args.command == "ppl":
        result = commands.perplexity(args, command)
        show(result.summary(), drop=("run_id",))
        print(f"run {result.run_id} saved in {result.store_path}")
    elif args.command == "grid":
        result = commands.grid(args, command)
        show(result.cells, drop=("run_id",))
    elif args.command == "compare":
        result = commands.compare(args)
        print(result.summary())
        show(result.flips())
    elif args.command == "trend":
        print(commands.trend(args).summary())
    elif args.command == "score":
        result = commands.score(args, command)
        show(result.summary(), drop=("run_id", "seconds"))
    elif args.command == "export":
        exported = commands.export(args)
        for row in exported.to_dict("records"):
            where = row["url"] or f"{exported.attrs['tracking_uri']}, experiment {row['experiment']!r}"
            print(f"run {row['run_id']} -> MLflow run {row['mlflow_run_id']} ({row['action']}): {where}")
    elif args.command == "report":
        print(commands.report(args).summary())
    elif args.command == "variants":
        result = commands.variants(args)
        show(result.table(), drop=("run_id", "speed_run_id", "metric"))
        print(f"runs saved in {result.store_path}; the flips: workbench compare REFERENCE_RUN VARIANT_RUN")
    elif args.command == "throughput":
        measured = commands.throughput(args)
        show(measured.table())
        gain = measured.gain()
        if not gain.empty:
            print("\ncontinuous slot refill against static batching:")
            show(gain)
        print(f"run {measured.run_id} saved in {measured.store_path}")
    elif args.command == "check":
        result = commands.check(args)
        print(result.summary())
        if args.junit:
            print(f"JUnit XML written to {args.junit}")
        return result.exit_code
    return None


if __name__ == "__main__":
    sys.exit(main())
