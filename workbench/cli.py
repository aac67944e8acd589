"""The `workbench` command: the same API from a shell."""

from __future__ import annotations

import argparse
import shlex
import sys

from .errors import WorkbenchError
from .judge.options import JUDGE_OPTIONS, judge_kwargs
from .options import (
    COMPARE_OPTIONS,
    EVAL_OPTIONS,
    GRID_OPTIONS,
    PPL_OPTIONS,
    RUNS_OPTIONS,
    SCORE_OPTIONS,
    eval_kwargs,
    grid_kwargs,
    score_kwargs,
)

PROMPT_OPTION = (
    ("--prompt",),
    {
        "action": "append",
        "default": [],
        "help": "A prompt template with {placeholders} (repeat for more; NAME=TEMPLATE names it).",
    },
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench", description="Evaluate language models; results go to the project store (a SQLite file)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, options, help_text in (
        ("eval", EVAL_OPTIONS, "run a benchmark"),
        ("runs", RUNS_OPTIONS, "list saved runs"),
        ("tasks", [], "list available tasks"),
        ("ppl", PPL_OPTIONS, "perplexity of a text or a file of texts"),
        ("grid", [PROMPT_OPTION, *GRID_OPTIONS], "prompt x model x parameter grid"),
        ("compare", COMPARE_OPTIONS, "paired comparison of two runs"),
        ("score", SCORE_OPTIONS, "score existing predictions against references (no model)"),
        ("judge", JUDGE_OPTIONS, "LLM-as-a-judge: grade a run's answers, or compare two runs (both orders)"),
    ):
        p = sub.add_parser(name, help=help_text)
        for flags, kwargs in options:
            p.add_argument(*flags, **kwargs)
    return parser


def print_comparison(both) -> None:
    """The two scoring modes side by side, then the items where they disagree."""
    import pandas as pd

    print(both.table().to_string(index=False))
    columns = ["doc_id", "gold", "loglikelihood answer", "generated text", "generated answer"]
    with pd.option_context("display.max_colwidth", 50):
        print("\nitems where the two modes disagree:")
        print(both.disagreements()[columns].to_string(index=False))
    print(f"runs {both.loglikelihood.run_id} (loglikelihood) and {both.generate.run_id} (generate) saved")


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    from . import api

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    try:
        if args.command == "tasks" or (args.command == "eval" and args.list):
            print(api.tasks().to_string(index=False))
        elif args.command == "eval":
            if not args.task:
                raise WorkbenchError(
                    "Name a task, e.g. `workbench eval arc_easy --limit 50` (`workbench tasks` lists them)."
                )
            kwargs = eval_kwargs(args)
            if kwargs.pop("mode") == "both":
                both = api.compare_modes(args.task, command="workbench " + shlex.join(argv), **kwargs)
                print_comparison(both)
                return 0
            result = api.evaluate(args.task, command="workbench " + shlex.join(argv), mode=args.mode, **kwargs)
            print(result.summary().drop(columns=["run_id"]).to_string(index=False))
            print(f"run {result.run_id} saved in {result.store_path}")
        elif args.command == "runs":
            print(api.runs(args.store).drop(columns=["command"]).to_string(index=False))
        elif args.command == "judge":
            kwargs = judge_kwargs(args)
            runs = kwargs.pop("run"), kwargs.pop("other")
            result = api.judge(*runs, command="workbench " + shlex.join(argv), **kwargs)
            print(result)
            print(result.summary().to_string(index=False))
            print(f"judge run {result.run_id} saved in {result.store_path}; judge usage: {result.usage()}")
        else:
            text_command(args, "workbench " + shlex.join(argv))
    except WorkbenchError as error:
        print(f"workbench: {error}", file=sys.stderr)
        return 2
    return 0


def text_command(args: argparse.Namespace, command: str) -> None:
    """workbench ppl | grid | compare | score."""
    from pathlib import Path

    from . import comparison, grids, scoring

    if args.command == "ppl":
        texts = args.text if Path(args.text).expanduser().is_file() else [args.text]
        result = scoring.perplexity(texts, args.model, column=args.column, limit=args.limit, store=args.store,
                                    command=command)  # fmt: skip
        print(result.summary().to_string(index=False))
        print(f"run {result.run_id} saved in {result.store_path}")
    elif args.command == "grid":
        prompts = dict(p.partition("=")[::2] if "=" in p.split("{")[0] else (f"p{i}", p)
                       for i, p in enumerate(args.prompt, 1))  # fmt: skip
        result = grids.grid(prompts, rows=args.rows, command=command, **grid_kwargs(args))
        print(result.cells.drop(columns=["run_id"]).to_string(index=False))
    elif args.command == "compare":
        result = comparison.compare(args.run_a, args.run_b, metric=args.metric, store=args.store)
        print(result.summary())
        print(result.flips().to_string(index=False))
    elif args.command == "score":
        result = scoring.score(args.data, command=command, **score_kwargs(args))
        print(result.summary().drop(columns=["run_id", "seconds"]).to_string(index=False))


if __name__ == "__main__":
    sys.exit(main())
