"""The options of `workbench variants` / %llm_variants (one model's variants side by side) and `workbench throughput`
/ %llm_throughput (serving speed), composed with STORE and the load options in tables.py."""

from __future__ import annotations

from ..models.registry import DEFAULT_MODEL
from .parsing import split_list
from .spec import Option


def _counts(text: object) -> object:
    """'1,4,16' -> [1, 4, 16] (a notebook's list stays as it is)."""
    parts = split_list(text)
    return [int(p) for p in parts] if isinstance(parts, list) and all(isinstance(p, str) for p in parts) else parts


VARIANT_OPTIONS: list[Option] = [
    Option(
        "names",
        help="Variants, comma-separated: float32, bfloat16, float16, int8 (transformers), gguf (the model's own GGUF "
        "file through llama.cpp), or paths of other GGUF files.",
        default="float32,bfloat16,int8,gguf",
        nargs="?",
        metavar="VARIANTS",
        parse=split_list,
    ),
    Option(
        "model",
        ("--model", "-m"),
        f"The model: an alias, a .gguf file, a folder or a hub id (default {DEFAULT_MODEL}).",
        default=DEFAULT_MODEL,
    ),
    Option(
        "tasks",
        ("--tasks",),
        "Tasks, comma-separated (default arc_easy).",
        default="arc_easy",
        parse=split_list,
    ),
    Option("limit", ("--limit",), "Items per task (default: all).", type=int),
    Option("shots", ("--shots",), "Few-shot examples (default: each task's own).", type=int),
    Option(
        "reference",
        ("--reference",),
        "The variant the others are compared with (default float32).",
        default="float32",
    ),
    Option(
        "metric",
        ("--metric",),
        "The per-item metric compared (default: each task's first).",
    ),
    Option(
        "device",
        ("--device",),
        "Where the transformers variants run: auto, cpu, cuda, cuda:N or mps.",
    ),
    Option(
        "batch_size",
        ("--batch-size",),
        "Requests per forward pass (default 16).",
        default=16,
        type=int,
    ),
    Option(
        "speed_prompts",
        ("--speed-prompts",),
        "Prompts timed per variant (default 4).",
        default=4,
        type=int,
    ),
    Option(
        "speed_tokens",
        ("--speed-tokens",),
        "Tokens generated per timed prompt (default 16).",
        default=16,
        type=int,
    ),
]

THROUGHPUT_OPTIONS: list[Option] = [
    Option(
        "prompts",
        help="Prompts: a text file (one per line), a task name (its first --n-prompts prompts) or, in a "
        "notebook, a list variable.",
        variable=True,
    ),
    Option(
        "model",
        ("--model", "-m"),
        f"The model (default {DEFAULT_MODEL}); openai:MODEL@URL times a server.",
        default=DEFAULT_MODEL,
    ),
    Option(
        "n_prompts",
        ("--n-prompts",),
        "Prompts taken from a task (default 16).",
        default=16,
        type=int,
    ),
    Option(
        "concurrency",
        ("--concurrency",),
        "Sequences at once, comma-separated (default 1,4,16).",
        default="1,4,16",
        parse=_counts,
    ),
    Option(
        "max_new_tokens",
        ("--max-new-tokens",),
        "Tokens per answer (default 32).",
        default=32,
        type=int,
    ),
    Option(
        "static",
        ("--no-static",),
        "Leave out static batching (measured on the local engine by default).",
        action="store_false",
        default=None,
        parse=lambda given: False if given is False else None,
    ),
]
