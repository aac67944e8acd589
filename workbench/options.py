"""Every option of every command, defined once.

An :class:`Option` names the Python keyword and holds the flag's spelling, parsing, default and help, and whether
the value enters the run's recorded config, its run key and its recorded command. The tables below (``EVAL``,
``RUNS``, ``PPL``, ``GRID``, ``COMPARE``, ``SCORE``, ``JUDGE``, ``RATE``, ``ARENA``) are the only lists of options;
everything else is derived from them:

- :func:`add_arguments` adds a table to an argparse parser (the `workbench` CLI);
- :func:`magic` decorates an IPython magic with the same arguments (``%llm_eval?`` lists them);
- :func:`kwargs` turns parsed arguments into the keyword arguments of the Python function;
- :func:`config`, :func:`key_fields` and :func:`call_text` give the API the run's recorded config, the option
  fields of its run key and the recorded ``workbench.evaluate('arc_easy', limit=5)`` command.

A new option is one new ``Option(...)`` in its table plus the keyword in the Python function's signature (a test
checks that every table keyword is in the signature). This module imports nothing heavy: loading the extension
parses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .models.registry import DEFAULT_MODEL

SHELLS = ("cli", "magic")


@dataclass(frozen=True)
class Option:
    """One option of one command: its flag(s) in the shells and its keyword in Python.

    ``name`` is the Python keyword and the parsed attribute (argparse ``dest``). ``flags`` spell it in the shells;
    none makes it positional. ``type``, ``choices``, ``action``, ``nargs`` and ``metavar`` are argparse's;
    ``parse`` turns the parsed shell value into the Python value (it may raise ``WorkbenchError``), after a magic
    has looked ``variable`` options up among the notebook's variables. ``shells`` lists where the flag exists
    (empty: a Python-only keyword); ``keyword=False`` marks a flag that is no keyword of the Python function.

    ``config``: the value is written into the run's recorded config. ``key``: it enters the run key (True), only
    when it is not None ("if_set", so keys of runs from before the option existed do not change), or not (False).
    ``recorded`` converts the value for config and key. ``call``: the recorded command shows it "always", when it
    differs from the default ("if_changed") or "never".
    """

    name: str
    flags: tuple[str, ...] = ()
    help: str = ""
    default: Any = None
    type: Callable[[str], Any] | None = None
    choices: Sequence[Any] | None = None
    action: str | None = None
    nargs: str | int | None = None
    metavar: str | None = None
    parse: Callable[[Any], Any] | None = None
    variable: bool = False
    shells: tuple[str, ...] = SHELLS
    keyword: bool = True
    config: bool = False
    key: bool | Literal["if_set"] = False
    recorded: Callable[[Any], Any] | None = None
    call: Literal["always", "if_changed", "never"] = "if_changed"

    @property
    def positional(self) -> bool:
        return not self.flags

    @property
    def fixed(self) -> bool:
        """Neither a flag nor a keyword: a constant setting the run records (e.g. the few-shot seed)."""
        return not self.shells and not self.keyword

    def argparse_spec(self) -> tuple[tuple[str, ...], dict[str, Any]]:
        """``(args, kwargs)`` for ``parser.add_argument``."""
        spec: dict[str, Any] = {"help": self.help}
        if self.positional:
            args: tuple[str, ...] = (self.name,)
            if self.nargs in ("?", "*"):
                spec["default"] = self.default
        else:
            args = self.flags
            spec["dest"] = self.name
            spec["default"] = list(self.default or []) if self.action == "append" else self.default
        for field in ("type", "choices", "action", "nargs", "metavar"):
            value = getattr(self, field)
            if value is not None:
                spec[field] = value
        if self.action == "store_true":
            spec["default"] = bool(self.default)
        return args, spec

    def value(self, values: Mapping[str, Any]) -> Any:
        """This option's value in ``values`` (a fixed setting: its default)."""
        if self.fixed:
            return values.get(self.name, self.default)
        if self.name not in values:
            raise KeyError(f"{self.name!r} is missing: give every option of the table, e.g. from the call's locals")
        return values[self.name]


Table = Sequence[Option]


# ---- derived from a table -------------------------------------------------------------------------------
def add_arguments(parser: Any, table: Table, shell: str = "cli") -> Any:
    """Add the table's flags for ``shell`` to an argparse parser; returns the parser."""
    for option in table:
        if shell in option.shells:
            args, spec = option.argparse_spec()
            parser.add_argument(*args, **spec)
    return parser


def magic(table: Table) -> Callable[[Callable], Callable]:
    """Decorator: the table's flags as the magic's arguments (``%magic?`` shows them), parsed by
    ``magic_arguments.parse_argstring``."""

    def decorate(func: Callable) -> Callable:
        from IPython.core import magic_arguments

        for option in reversed([o for o in table if "magic" in o.shells]):
            args, spec = option.argparse_spec()
            func = magic_arguments.argument(*args, **spec)(func)
        return magic_arguments.magic_arguments()(func)

    return decorate


def kwargs(table: Table, namespace: Any, resolve: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """The Python keyword arguments from parsed shell arguments: every keyword option the namespace holds (a shell
    parses only its own flags), ``variable`` ones passed through ``resolve`` (a magic's notebook lookup), each
    through its ``parse``."""
    out: dict[str, Any] = {}
    for option in table:
        if not option.keyword or not hasattr(namespace, option.name):
            continue
        value = getattr(namespace, option.name)
        if option.variable and resolve is not None and value is not None:
            value = resolve(value)
        out[option.name] = option.parse(value) if option.parse else value
    return out


def config(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """The run's recorded config: each ``config`` option's value (after ``recorded``), in table order.

    ``values`` holds the call's values by keyword (resolved ones where the API resolves them, e.g. the task's own
    shots); every config option must be there except fixed settings, which record their default."""
    return {o.name: _recorded(o, o.value(values)) for o in table if o.config}


def key_fields(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """The options' part of the run key; the API adds what it derives (model and data fingerprints, template).
    Options with ``key="if_set"`` enter only when not None, so equal calls keep equal keys across versions."""
    out = {}
    for option in table:
        if option.key:
            value = option.value(values)
            if option.key is True or value is not None:
                out[option.name] = _recorded(option, value)
    return out


def call_text(function: str, table: Table, values: Mapping[str, Any], *args: Any) -> str:
    """The recorded Python call, e.g. ``workbench.evaluate('arc_easy', model='smollm2-135m', limit=5)``.

    ``args`` come first, then positional options with a value in ``values`` (nargs='+' ones one by one), then the
    keyword options: "always" ones, and "if_changed" ones whose value is set and differs from the default.
    DataFrames and long lists are shown by their size."""
    parts = [_show(a) for a in args]
    for option in table:
        if option.positional and option.call != "never" and values.get(option.name) is not None:
            value = values[option.name]
            many = option.nargs in ("+", "*") and isinstance(value, (list, tuple))
            parts += [_show(v) for v in value] if many else [_show(value)]
    for option in table:
        if option.positional or option.call == "never" or option.fixed:
            continue
        value = option.value(values)
        if option.call == "always" or not _unset(value, option.default):
            parts.append(f"{option.name}={_show(value)}")
    return f"workbench.{function}({', '.join(parts)})"


def _recorded(option: Option, value: Any) -> Any:
    return option.recorded(value) if option.recorded else value


def _unset(value: Any, default: Any) -> bool:
    if value is None or (isinstance(value, (list, tuple, dict)) and not value):
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # arrays, DataFrames
        return False


def _show(value: Any) -> str:
    if hasattr(value, "shape"):
        return f"<DataFrame {value.shape[0]}x{value.shape[1]}>"
    if isinstance(value, (list, tuple)) and len(repr(value)) > 200:
        return f"<{len(value)} items>"
    return repr(value)


# ---- parsing shell text into Python values --------------------------------------------------------------
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


def split_list(text: Any) -> Any:
    """'a, b' -> ['a', 'b']; None and non-strings (a notebook's list) stay as they are."""
    return [t.strip() for t in text.split(",") if t.strip()] if isinstance(text, str) else text


def grid_prompts(cell: str) -> dict[str, str]:
    """Templates of a %%llm_grid cell: blocks separated by lines of ---, each optionally headed [name];
    unnamed blocks are p1, p2, ... by position."""
    prompts: dict[str, str] = {}
    for i, block in enumerate(re.split(r"^\s*---\s*$", cell, flags=re.M), start=1):
        lines = block.strip("\n").splitlines()
        name = f"p{i}"
        if lines and re.fullmatch(r"\s*\[[^\]]+\]\s*", lines[0]):
            name, lines = lines[0].strip()[1:-1].strip(), lines[1:]
        text = "\n".join(lines).strip()
        if text:
            prompts[name] = text
    return prompts


def prompt_options(items: Sequence[str]) -> dict[str, str]:
    """Templates of repeated ``--prompt`` options: NAME=TEMPLATE (an '=' before any '{') names one; unnamed ones
    are p1, p2, ... by position, as in a %%llm_grid cell."""
    prompts: dict[str, str] = {}
    for i, text in enumerate(items, start=1):
        if "=" in text.split("{")[0]:
            name, _, template = text.partition("=")
            prompts[name] = template
        else:
            prompts[f"p{i}"] = text
    return prompts


def rubric(text: Any) -> Any:
    """'1-5' / 'pass/fail' as they are; 'a,b,c' as a list of labels."""
    return [part.strip() for part in text.split(",")] if isinstance(text, str) and "," in text else text


def turns(text: str | None) -> list[int] | None:
    """'1,2' -> [1, 2]; None stays None."""
    from .errors import WorkbenchError

    if not text:
        return None
    try:
        return [int(t) for t in text.split(",")]
    except ValueError:
        raise WorkbenchError(f"--turns takes turn numbers such as 1 or 1,2 (got {text!r}).") from None


def texts(value: Any) -> Any:
    """A text given in the shell as one text in a list; a file's path, or a notebook's list or DataFrame, as is."""
    return [value] if isinstance(value, str) and not is_file(value) else value


def is_file(text: str) -> bool:
    from pathlib import Path

    return len(text) < 4096 and "\n" not in text and Path(text).expanduser().is_file()


REFERENCE = {"auto": "auto", "yes": True, "no": False}


# ---- the tables -----------------------------------------------------------------------------------------
STORE = Option(
    "store", ("--store",), "Project store file (default $WORKBENCH_STORE or ./workbench.sqlite).", call="never"
)

EVAL: list[Option] = [
    Option(
        "task",
        help="Task to run, e.g. arc_easy, hellaswag or mmlu:anatomy (--list or `workbench tasks` lists them).",
        nargs="?",
        key=True,
        call="always",
    ),
    Option(
        "model",
        ("--model", "-m"),
        f"Alias, .gguf file, transformers directory or hub id (default {DEFAULT_MODEL}).",
        default=DEFAULT_MODEL,
        call="always",
    ),
    Option("limit", ("--limit",), "Evaluate only the first N items (default: all).", type=int, config=True, key=True),
    Option(
        "shots",
        ("--shots",),
        "Few-shot examples (default: the task's own, 0; 5 for gsm8k).",
        type=int,
        config=True,
        key=True,
    ),
    Option(
        "data",
        ("--data",),
        "Your own JSONL/CSV/Parquet file of rows instead of the hub/mirror.",
        config=True,
        recorded=lambda data: str(data or ""),
    ),
    Option(
        "mode",
        ("--mode",),
        "Multiple-choice scoring: loglikelihood (default, as the harness), generate (the model writes the option's "
        "label, zero-shot, as Horangi), or both (the same items both ways, compared).",
        choices=("loglikelihood", "generate", "both"),
        config=True,
    ),
    Option(
        "chat",
        ("--chat",),
        "Send generated prompts through the model's chat template.",
        default=False,
        action="store_true",
        config=True,
    ),
    Option(
        "max_new_tokens",
        ("--max-new-tokens",),
        "Cap on generated tokens for tasks that generate (gsm8k, mt_bench; default the task's own).",
        type=int,
        config=True,
        key="if_set",
    ),
    Option(
        "list",
        ("--list",),
        "List the tasks (size, splits, metrics, source) and stop.",
        default=False,
        action="store_true",
        keyword=False,
        call="never",
    ),
    Option(
        "batch_size",
        ("--batch-size",),
        "Requests per forward pass (default 16); results do not depend on it.",
        default=16,
        type=int,
        config=True,
        call="never",
    ),
    STORE,
    Option(
        "fewshot_seed",
        help="The harness's seed for drawing few-shot examples.",
        default=1234,
        shells=(),
        keyword=False,
        config=True,
        call="never",
    ),
]

RUNS: list[Option] = [STORE]

PPL: list[Option] = [
    Option(
        "texts",
        help="A file (one text per row/line column), a variable holding texts, or the text itself.",
        metavar="text",
        variable=True,
        parse=texts,
        call="never",
    ),
    Option(
        "model",
        ("--model", "-m"),
        f"Model to score with (default {DEFAULT_MODEL}).",
        default=DEFAULT_MODEL,
        call="always",
    ),
    Option("column", ("--column",), "Column holding the text (default 'text').", default="text", config=True),
    Option("limit", ("--limit",), "Only the first N texts.", type=int, config=True),
    STORE,
]

GRID: list[Option] = [
    Option(
        "prompts",
        ("--prompt",),
        "A prompt template with {placeholders} (repeat for more; NAME=TEMPLATE names it).",
        default=(),
        action="append",
        metavar="PROMPT",
        parse=prompt_options,
        shells=("cli",),  # a %%llm_grid cell holds the templates
        call="never",
    ),
    Option(
        "models",
        ("--models", "-m"),
        f"Models, comma-separated (default {DEFAULT_MODEL}).",
        default=DEFAULT_MODEL,
        parse=split_list,
        call="always",
    ),
    Option(
        "rows",
        ("--rows",),
        "A data file, a task name (its eval split), or a variable's name.",
        variable=True,
        call="always",
    ),
    Option("reference", ("--reference",), "Column with the reference answer (enables metrics).", config=True),
    Option(
        "metrics",
        ("--metrics",),
        "Comma-separated metrics (default chrf,rougeL with a reference).",
        parse=split_list,
        config=True,
    ),
    Option(
        "params",
        ("--param", "-p"),
        "KEY=VALUE[,VALUE...] generation parameter to vary (temperature, max_new_tokens, seed; "
        "system and stop take the whole value: repeat the option for more values).",
        default=(),
        action="append",
        metavar="PARAM",
        parse=parse_params,
    ),
    Option("limit", ("--limit",), "Only the first N rows.", type=int, config=True),
    Option("lang", ("--lang",), "Target language for BLEU's tokenizer (e.g. ko); default from text.", config=True),
    STORE,
    Option(
        "ppl_model",
        help="Model scoring outputs for the 'perplexity' metric.",
        default=DEFAULT_MODEL,
        shells=(),
        config=True,
    ),
    Option("batch_size", help="Prompts generated at once.", default=8, shells=(), call="never"),
]

COMPARE: list[Option] = [
    Option("run_a", help="Run id A (the baseline)."),
    Option("run_b", help="Run id B."),
    Option("metric", ("--metric",), "Metric to compare (default: the first both runs score per item)."),
    STORE,
]

SCORE: list[Option] = [
    Option(
        "data",
        help="A file (JSONL/JSON/CSV/TSV/Parquet) or a variable holding a DataFrame or rows.",
        variable=True,
        call="never",
    ),
    Option(
        "metrics",
        ("--metrics",),
        "Comma-separated metrics (default bleu,chrf,rougeL).",
        default="bleu,chrf,rougeL",
        parse=split_list,
        config=True,
        call="always",
    ),
    Option(
        "prediction",
        ("--prediction",),
        "Column with the outputs (default 'prediction').",
        default="prediction",
        config=True,
    ),
    Option(
        "reference",
        ("--reference",),
        "Column with the references (default 'reference').",
        default="reference",
        config=True,
    ),
    Option("by", ("--by",), "Score each value of this column separately (e.g. system).", config=True),
    Option("key", ("--key",), "Item id column, so saved groups line up for comparison."),
    Option("lang", ("--lang",), "Target language for BLEU's tokenizer (e.g. ko); default from text.", config=True),
    Option(
        "save",
        ("--save",),
        "Save each group as a run (to compare them).",
        default=False,
        action="store_true",
        call="never",
    ),
    STORE,
    Option("limit", help="Only the first N rows.", shells=()),
    Option("name", help="Task name of the saved runs.", default="score", shells=(), call="never"),
]

JUDGE: list[Option] = [
    Option(
        "runs",
        help="One run id (single grading) or two (pairwise comparison).",
        nargs="+",
        keyword=False,
        config=True,
        key=True,
    ),
    Option(
        "judge",
        ("--judge", "-j"),
        "Judge model: openai:gpt-4o (key in $OPENAI_API_KEY), openai:MODEL@http://HOST:PORT/v1, or a local model "
        "such as smollm2-135m.",
        call="always",
    ),
    Option(
        "mode", ("--mode",), "Default: by the number of runs.", choices=("single", "pairwise"), config=True, key=True
    ),
    Option(
        "reference",
        ("--reference",),
        "Show reference answers: auto (math, reasoning, coding), yes (wherever one exists), no.",
        default="auto",
        choices=tuple(REFERENCE),
        parse=REFERENCE.__getitem__,
        config=True,
        key=True,
    ),
    Option(
        "turns",
        ("--turns",),
        "Judge only these turns, e.g. 1 or 1,2 (default: every turn).",
        parse=turns,
        config=True,
        key=True,
        recorded=lambda t: list(t) if t else None,
    ),
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
    Option("limit", ("--limit",), "Judge only the first N items.", type=int, config=True, key=True),
    Option(
        "max_new_tokens",
        ("--max-new-tokens",),
        "Longest judge reply (default 1024).",
        default=1024,
        type=int,
        config=True,
        key=True,
    ),
    STORE,
    Option("batch_size", help="Judge prompts sent at once.", default=8, shells=(), call="never"),
    Option(
        "temperature",
        help="Judges answer greedily.",
        default=0.0,
        shells=(),
        keyword=False,
        config=True,
        key=True,
        call="never",
    ),
]

RATE: list[Option] = [
    Option("source", help="Run id to rate (default: the newest run).", nargs="?", metavar="run"),
    Option(
        "rubric",
        ("--rubric",),
        "1-5, 1-10, pass/fail, or labels separated by commas (good,bad,unsure).",
        default="1-5",
        parse=rubric,
    ),
    Option("annotator", ("--annotator",), "Your name (else type it in the panel)."),
    STORE,
]

ARENA: list[Option] = [
    Option("runs", help="Two or more run ids answering the same items.", nargs="+", keyword=False),
    Option("annotator", ("--annotator",), "Your name (else type it in the panel)."),
    Option("name", ("--name",), "Session name in the store (default: the models compared)."),
    STORE,
]

# command name -> its table, for the shells and the tests
TABLES: dict[str, list[Option]] = {
    "eval": EVAL,
    "runs": RUNS,
    "ppl": PPL,
    "grid": GRID,
    "compare": COMPARE,
    "score": SCORE,
    "judge": JUDGE,
    "rate": RATE,
    "arena": ARENA,
}
