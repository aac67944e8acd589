"""The `workbench` command: the same API from a shell."""

from __future__ import annotations

import argparse
import shlex
import sys

from .errors import WorkbenchError
from .options import EVAL_OPTIONS, RUNS_OPTIONS, eval_kwargs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench", description="Evaluate language models; results go to the project store (a SQLite file)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, options, help_text in (
        ("eval", EVAL_OPTIONS, "run a benchmark"),
        ("runs", RUNS_OPTIONS, "list saved runs"),
        ("tasks", [], "list available tasks"),
    ):
        p = sub.add_parser(name, help=help_text)
        for flags, kwargs in options:
            p.add_argument(*flags, **kwargs)
    return parser


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    from . import api

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    try:
        if args.command == "eval":
            result = api.evaluate(args.task, command="workbench " + shlex.join(argv), **eval_kwargs(args))
            print(result.summary().drop(columns=["run_id"]).to_string(index=False))
            print(f"run {result.run_id} saved in {result.store_path}")
        elif args.command == "runs":
            print(api.runs(args.store).drop(columns=["command"]).to_string(index=False))
        elif args.command == "tasks":
            print(api.tasks().to_string(index=False))
    except WorkbenchError as error:
        print(f"workbench: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
