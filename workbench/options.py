"""Command options shared by the magics and the CLI, so both parse the same flags with the same defaults."""

from __future__ import annotations

from typing import Any

from .models.registry import DEFAULT_MODEL

Option = tuple[tuple[str, ...], dict[str, Any]]

EVAL_OPTIONS: list[Option] = [
    (
        ("task",),
        {
            "nargs": "?",
            "default": None,
            "help": "Task to run, e.g. arc_easy, hellaswag or mmlu:anatomy (--list or `workbench tasks` lists them).",
        },
    ),
    (
        ("--model", "-m"),
        {
            "default": DEFAULT_MODEL,
            "help": f"Alias, .gguf file, transformers directory or hub id (default {DEFAULT_MODEL}).",
        },
    ),
    (("--limit",), {"type": int, "default": None, "help": "Evaluate only the first N items (default: all)."}),
    (
        ("--shots",),
        {"type": int, "default": None, "help": "Few-shot examples (default: the task's own, 0; 5 for gsm8k)."},
    ),
    (
        ("--mode",),
        {
            "choices": ["loglikelihood", "generate", "both"],
            "default": None,
            "help": "Multiple-choice scoring: loglikelihood (default, as the harness), generate (the model writes "
            "the option's label, zero-shot, as Horangi), or both (the same items both ways, compared).",
        },
    ),
    (("--chat",), {"action": "store_true", "help": "Send generated prompts through the model's chat template."}),
    (
        ("--max-new-tokens",),
        {
            "type": int,
            "default": None,
            "dest": "max_new_tokens",
            "help": "Cap on generated tokens for tasks that generate (gsm8k, mt_bench; default the task's own).",
        },
    ),
    (("--list",), {"action": "store_true", "help": "List the tasks (size, splits, metrics, source) and stop."}),
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
        "mode": args.mode,
        "chat": args.chat,
        "max_new_tokens": args.max_new_tokens,
    }


# ---- text metrics, prompt grids, run comparison (%llm_ppl, %%llm_grid, %llm_compare, %llm_score) ----------
STORE_OPTION: Option = RUNS_OPTIONS[0]

PPL_OPTIONS: list[Option] = [
    (("text",), {"help": "A file (one text per row/line column), a variable holding texts, or the text itself."}),
    (("--model", "-m"), {"default": DEFAULT_MODEL, "help": f"Model to score with (default {DEFAULT_MODEL})."}),
    (("--column",), {"default": "text", "help": "Column holding the text (default 'text')."}),
    (("--limit",), {"type": int, "default": None, "help": "Only the first N texts."}),
    STORE_OPTION,
]

GRID_OPTIONS: list[Option] = [
    (("--models", "-m"), {"default": DEFAULT_MODEL, "help": f"Models, comma-separated (default {DEFAULT_MODEL})."}),
    (("--rows",), {"default": None, "help": "A data file, a task name (its eval split), or a variable's name."}),
    (("--reference",), {"default": None, "help": "Column with the reference answer (enables metrics)."}),
    (("--metrics",), {"default": None, "help": "Comma-separated metrics (default chrf,rougeL with a reference)."}),
    (
        ("--param", "-p"),
        {
            "action": "append",
            "default": [],
            "dest": "params",
            "help": "KEY=VALUE[,VALUE...] generation parameter to vary (temperature, max_new_tokens, seed; "
            "system and stop take the whole value: repeat the option for more values).",
        },
    ),
    (("--limit",), {"type": int, "default": None, "help": "Only the first N rows."}),
    (("--lang",), {"default": None, "help": "Target language for BLEU's tokenizer (e.g. ko); default from text."}),
    STORE_OPTION,
]

COMPARE_OPTIONS: list[Option] = [
    (("run_a",), {"help": "Run id A (the baseline)."}),
    (("run_b",), {"help": "Run id B."}),
    (("--metric",), {"default": None, "help": "Metric to compare (default: the first both runs score per item)."}),
    STORE_OPTION,
]

SCORE_OPTIONS: list[Option] = [
    (("data",), {"help": "A file (JSONL/JSON/CSV/TSV/Parquet) or a variable holding a DataFrame or rows."}),
    (("--metrics",), {"default": "bleu,chrf,rougeL", "help": "Comma-separated metrics (default bleu,chrf,rougeL)."}),
    (("--prediction",), {"default": "prediction", "help": "Column with the outputs (default 'prediction')."}),
    (("--reference",), {"default": "reference", "help": "Column with the references (default 'reference')."}),
    (("--by",), {"default": None, "help": "Score each value of this column separately (e.g. system)."}),
    (("--key",), {"default": None, "help": "Item id column, so saved groups line up for comparison."}),
    (("--lang",), {"default": None, "help": "Target language for BLEU's tokenizer (e.g. ko); default from text."}),
    (("--save",), {"action": "store_true", "help": "Save each group as a run (to compare them)."}),
    STORE_OPTION,
]

TEXT_PARAMS = ("system", "stop")


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["temperature=0,0.7", "system=Be brief."]`` -> ``{"temperature": [0.0, 0.7], "system": ["Be brief."]}``."""
    from .errors import WorkbenchError

    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise WorkbenchError(f"--param {item!r}: write KEY=VALUE, e.g. --param temperature=0,0.7")
        key = key.strip()
        values = [value] if key in TEXT_PARAMS else [v.strip() for v in value.split(",")]
        out.setdefault(key, []).extend(_value(v) for v in values)
    return out


def _value(text: str) -> Any:
    if text.lower() in ("none", "null"):
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def split_list(text: str | None) -> list[str] | None:
    """'a, b' -> ['a', 'b']; None stays None."""
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def grid_kwargs(args: Any) -> dict[str, Any]:
    """Keyword arguments of workbench.grid (besides prompts and rows) from parsed options."""
    return {
        "models": split_list(args.models),
        "params": parse_params(args.params),
        "reference": args.reference,
        "metrics": split_list(args.metrics),
        "lang": args.lang,
        "limit": args.limit,
        "store": args.store,
    }


def score_kwargs(args: Any) -> dict[str, Any]:
    """Keyword arguments of workbench.score (besides the data) from parsed options."""
    return {
        "metrics": split_list(args.metrics),
        "prediction": args.prediction,
        "reference": args.reference,
        "by": args.by,
        "key": args.key,
        "lang": args.lang,
        "save": args.save,
        "store": args.store,
    }
