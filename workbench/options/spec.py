"""The Option and what is derived from a table of them: argparse flags, magic arguments, Python keywords, the
run's recorded config, the option fields of its run key and the recorded command."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..run.provenance import shown

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
        """This option's value in ``values``. A fixed setting, or an option that enters neither the config nor the
        key (it only shows in the recorded command when set), may be left out: its default. An option the run's
        identity depends on may not: leaving it out raises, so a forgotten field never records a default."""
        if self.fixed or not (self.config or self.key):
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
    parts = [shown(a) for a in args]
    for option in table:
        if option.positional and option.call != "never" and values.get(option.name) is not None:
            value = values[option.name]
            many = option.nargs in ("+", "*") and isinstance(value, (list, tuple))
            parts += [shown(v) for v in value] if many else [shown(value)]
    for option in table:
        if option.positional or option.call == "never" or option.fixed:
            continue
        value = option.value(values)
        if option.call == "always" or not _unset(value, option.default):
            parts.append(f"{option.name}={shown(value)}")
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
