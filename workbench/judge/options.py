"""The flags %llm_judge and `workbench judge` share (one definition, same defaults)."""

from __future__ import annotations

from typing import Any

from ..errors import WorkbenchError

Option = tuple[tuple[str, ...], dict[str, Any]]

JUDGE_OPTIONS: list[Option] = [
    (("runs",), {"nargs": "+", "help": "One run id (single grading) or two (pairwise comparison)."}),
    (
        ("--judge", "-j"),
        {
            "default": None,
            "help": "Judge model: openai:gpt-4o (key in $OPENAI_API_KEY), openai:MODEL@http://HOST:PORT/v1, or a "
            "local model such as smollm2-135m.",
        },
    ),
    (("--mode",), {"default": None, "choices": ["single", "pairwise"], "help": "Default: by the number of runs."}),
    (
        ("--reference",),
        {
            "default": "auto",
            "choices": ["auto", "yes", "no"],
            "help": "Show reference answers: auto (math, reasoning, coding), yes (wherever one exists), no.",
        },
    ),
    (("--turns",), {"default": None, "help": "Judge only these turns, e.g. 1 or 1,2 (default: every turn)."}),
    (("--language",), {"default": "auto", "choices": ["auto", "en", "ko"], "help": "Judge prompt language."}),
    (
        ("--terse",),
        {"action": "store_true", "help": "End prompts with a short verdict cue (small local judges need it)."},
    ),
    (("--limit",), {"type": int, "default": None, "help": "Judge only the first N items."}),
    (
        ("--max-new-tokens",),
        {"type": int, "default": 1024, "dest": "max_new_tokens", "help": "Longest judge reply (default 1024)."},
    ),
    (("--store",), {"default": None, "help": "Project store file (default $WORKBENCH_STORE or ./workbench.sqlite)."}),
]


def judge_kwargs(args: Any) -> dict[str, Any]:
    """Positional runs and keyword arguments of workbench.judge from parsed options."""
    if len(args.runs) > 2:
        raise WorkbenchError(f"Give one run (single grading) or two (pairwise), not {len(args.runs)}.")
    try:
        turns = [int(t) for t in args.turns.split(",")] if args.turns else None
    except ValueError:
        raise WorkbenchError(f"--turns takes turn numbers such as 1 or 1,2 (got {args.turns!r}).") from None
    return {
        "run": args.runs[0],
        "other": args.runs[1] if len(args.runs) > 1 else None,
        "judge": args.judge,
        "mode": args.mode,
        "reference": {"auto": "auto", "yes": True, "no": False}[args.reference],
        "turns": turns,
        "language": args.language,
        "terse": args.terse,
        "limit": args.limit,
        "max_new_tokens": args.max_new_tokens,
        "store": args.store,
    }
