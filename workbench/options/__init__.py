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

from .parsing import (
    REFERENCE,
    TEXT_PARAMS,
    grid_prompts,
    is_file,
    parse_params,
    prompt_options,
    rubric,
    split_list,
    texts,
    turns,
)
from .spec import SHELLS, Option, Table, add_arguments, call_text, config, key_fields, kwargs, magic
from .tables import (
    ARENA,
    CHECK,
    COMPARE,
    EVAL,
    EXPORT,
    GRID,
    JUDGE,
    JUDGE_CALIBRATE,
    PPL,
    RATE,
    REPORT,
    RUNS,
    SCORE,
    STORE,
    TABLES,
    THROUGHPUT,
    TREND,
    VARIANTS,
)

__all__ = [
    "ARENA", "CHECK", "COMPARE", "EVAL", "EXPORT", "GRID", "JUDGE", "JUDGE_CALIBRATE", "PPL", "RATE", "REFERENCE",
    "REPORT", "RUNS", "SCORE", "SHELLS", "STORE", "TABLES", "TEXT_PARAMS", "THROUGHPUT", "TREND", "VARIANTS", "Option",
    "Table", "add_arguments", "call_text", "config", "grid_prompts", "is_file", "key_fields", "kwargs", "magic",
    "parse_params", "prompt_options", "rubric", "split_list", "texts", "turns",
]  # fmt: skip
