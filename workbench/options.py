"""Command options shared by the magics and the CLI, so both parse the same flags with the same defaults."""

from __future__ import annotations

from typing import Any

from .models.registry import DEFAULT_MODEL

Option = tuple[tuple[str, ...], dict[str, Any]]

EVAL_OPTIONS: list[Option] = [
    (("task",), {"help": "Task to run, e.g. arc_easy or arc_challenge (`workbench tasks` lists them)."}),
    (
        ("--model", "-m"),
        {
            "default": DEFAULT_MODEL,
            "help": f"Alias, .gguf file, transformers directory or hub id (default {DEFAULT_MODEL}).",
        },
    ),
    (("--limit",), {"type": int, "default": None, "help": "Evaluate only the first N items (default: all)."}),
    (("--shots",), {"type": int, "default": 0, "help": "Few-shot examples from the train split (default 0)."}),
    (
        ("--batch-size",),
        {
            "type": int,
            "default": 16,
            "dest": "batch_size",
            "help": "Requests per forward pass (default 16); results do not depend on it.",
        },
    ),
    (("--data",), {"default": None, "help": "Your own JSONL/CSV/Parquet file of rows instead of the hub/mirror."}),
    (("--store",), {"default": None, "help": "Project store file (default $WORKBENCH_STORE or ./workbench.sqlite)."}),
]

RUNS_OPTIONS: list[Option] = [
    (("--store",), {"default": None, "help": "Project store file (default $WORKBENCH_STORE or ./workbench.sqlite)."}),
]


def eval_kwargs(args: Any) -> dict[str, Any]:
    """The keyword arguments of workbench.evaluate from parsed options."""
    return {
        "model": args.model,
        "limit": args.limit,
        "shots": args.shots,
        "batch_size": args.batch_size,
        "data": args.data,
        "store": args.store,
    }
