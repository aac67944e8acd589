"""The options of the judge commands: what workbench.judge and its calibration share, and the calibration's own."""

from __future__ import annotations

from .parsing import turns
from .spec import Option

# options of both judge commands (workbench.judge and workbench.judge.calibrate)
JUDGE_PROMPT = [
    Option(
        "language",
        ("--language",),
        "Judge prompt language.",
        default="auto",
        choices=("auto", "en", "ko"),
        config=True,
        key=True,
    ),
    Option(
        "terse",
        ("--terse",),
        "End prompts with a short verdict cue (small local judges need it).",
        default=False,
        action="store_true",
        config=True,
        key=True,
    ),
]
JUDGE_MAX_NEW_TOKENS = Option(
    "max_new_tokens",
    ("--max-new-tokens",),
    "Longest judge reply (default 1024).",
    default=1024,
    type=int,
    config=True,
    key=True,
)
JUDGE_BATCH = Option("batch_size", help="Judge prompts sent at once.", default=8, shells=(), call="never")


def judge_turns(help_text: str) -> Option:
    """--turns of a judge command: turn numbers, recorded as a list."""
    return Option("turns", ("--turns",), help_text, parse=turns, config=True, key=True,
                  recorded=lambda t: list(t) if t else None)  # fmt: skip


CALIBRATE: list[Option] = [  # tables.JUDGE_CALIBRATE adds --separate and --store
    Option(
        "judge",
        ("--judge", "-j"),
        "Judge model to calibrate: openai:gpt-4o, openai:MODEL@http://HOST:PORT/v1, or a local model.",
        call="always",
    ),
    Option(
        "dataset",
        ("--dataset",),
        "Pairwise human votes: mt_bench_human (lmsys/mt_bench_human_judgments from the hub), a JSONL/JSON/CSV/"
        "Parquet file in its schema, or arena[:NAME] (the store's A/B votes).",
        default="mt_bench_human",
        config=True,
        key=True,
        recorded=lambda d: "dataframe" if hasattr(d, "columns") else str(d),
    ),
    Option("limit", ("--limit",), "Judge only the first N judged pairs.", type=int, config=True, key=True),
    judge_turns("Turns to judge, e.g. 1 or 1,2 (default both)."),
    Option(
        "repeats",
        ("--repeats",),
        "Ask each verdict K times and take the majority (needs --temperature above 0 to differ).",
        default=1,
        type=int,
        config=True,
        key=True,
    ),
    Option(
        "temperature",
        ("--temperature",),
        "The judge's temperature (default 0).",
        default=0.0,
        type=float,
        config=True,
        key=True,
    ),
    Option("seed", ("--seed",), "Sampling seed (repeat k asks with seed + k).", type=int, config=True, key=True),
    *JUDGE_PROMPT,
    JUDGE_MAX_NEW_TOKENS,
    Option(
        "stop_unreadable",
        help="Stop when this many first judge calls hold no readable verdict (None: never stop).",
        default=10,
        shells=(),
        config=True,
    ),
    JUDGE_BATCH,
]
