"""The gate's spec: which tasks to evaluate with which model(s) and settings, the baseline and the rules.

A YAML file (or its text, or the same as a dict), written in a minute::

    model: smollm2-135m
    tasks:
      - task: arc_easy
        limit: 100
        baseline: {run: 1a2b3c4d}          # or {file: baseline.json}, or {value: 0.45}
        rules:
          acc: {not_worse: 0.02, floor: 0.40}

Everything is checked before anything is evaluated: a bad field is one ``WorkbenchError`` naming the file, the
line and the field (``gate.yaml line 7, tasks[0].rules.acc: ...``), with the nearest valid name where one is
close. docs/ci-gate.md is the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError, suggest

SETTINGS = ("limit", "shots", "mode", "chat", "max_new_tokens", "data", "batch_size")  # workbench.evaluate's
RULES = ("not_worse", "floor", "ceiling")
TOP_FIELDS = ("name", "model", "models", "run", "tasks", "baseline", "rules", *SETTINGS)
TASK_FIELDS = ("task", "run", "model", "models", "baseline", "rules", *SETTINGS)
BASELINE_FIELDS = ("run", "file", "value", "model")
MODES = ("loglikelihood", "generate")
EXAMPLE = "{model: smollm2-135m, tasks: [{task: arc_easy, rules: {acc: {floor: 0.4}}}]}"
DOCS = "docs/ci-gate.md describes the format"

Where = tuple[str | int, ...]  # a field's path: ("tasks", 0, "rules", "acc")


@dataclass(frozen=True)
class Baseline:
    """What the candidate is held against: a stored run, an entry of a baseline file, or a number."""

    kind: str  # "run" | "file" | "value"
    run: str | None = None  # the stored run's full id
    file: Path | None = None
    model: str | None = None  # a baseline file's entry of this model (default: the candidate's, else the only one)
    value: float | None = None
    where: str = ""

    @property
    def label(self) -> str:
        if self.kind == "run":
            return f"run {self.run}"
        if self.kind == "file":
            return f"{self.file.name if self.file else '?'}" + (f" ({self.model})" if self.model else "")
        return f"value {self.value:g}" if self.value is not None else "value"


@dataclass(frozen=True)
class Rule:
    """One rule on one metric: ``not_worse`` (a tolerance), ``floor`` or ``ceiling`` (a bound on the score)."""

    metric: str
    kind: str
    threshold: float
    where: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.threshold:g}"


@dataclass(frozen=True)
class Check:
    """One task x model of the spec: evaluated with ``settings`` (or the stored ``run``), then held to its rules."""

    task: str
    model: str
    settings: dict[str, Any]
    rules: tuple[Rule, ...]
    baseline: Baseline | None = None
    run: str | None = None  # a stored run gated as it is, instead of an evaluation
    where: str = ""


@dataclass
class GateSpec:
    checks: list[Check]
    name: str  # the JUnit test suite's name
    source: str  # the spec's file name, or "the spec"
    folder: Path  # relative paths (data, baseline files) are read from here
    baseline_files: set[Path] = field(default_factory=set)


class Source:
    """Where each field of the spec was written: the file's name, the line of each field's path, and each plain
    value's text as written (YAML reads an unquoted run id of digits as a number, ``01234567`` as octal)."""

    def __init__(self, name: str, lines: dict[Where, int] | None = None):
        self.name, self.lines = name, lines or {}
        self.texts: dict[Where, str] = {}

    @staticmethod
    def field(path: Where) -> str:
        """'tasks[0].rules.acc'."""
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "the top level"

    def at(self, path: Where) -> str:
        """'gate.yaml line 7, tasks[0].rules.acc' (the nearest enclosing field's line when this one has none)."""
        line = next((self.lines[path[:n]] for n in range(len(path), -1, -1) if path[:n] in self.lines), None)
        return f"{self.name} line {line}, {self.field(path)}" if line else f"{self.name}, {self.field(path)}"

    def error(self, path: Where, message: str) -> WorkbenchError:
        return WorkbenchError(f"{self.at(path)}: {message}")


# ---- reading ------------------------------------------------------------------------------------------------
def _lines(node: Any, path: Where, out: dict[Where, int], source: Source) -> None:
    """The line of every field under ``node`` (a yaml.compose node): a mapping entry's is its key's line."""
    import yaml

    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                raise WorkbenchError(
                    f"{source.name} line {key.start_mark.line + 1}, {source.field((*path, name))}: given twice; "
                    "keep one."
                )
            seen.add(name)
            out[path + (name,)] = key.start_mark.line + 1
            _lines(value, (*path, name), out, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out, source)
    elif isinstance(node, yaml.ScalarNode):
        source.texts[path] = str(node.value)


def parse_yaml(text: str, name: str) -> tuple[Any, Source]:
    """The spec's value and where each field is; invalid YAML names the line."""
    import yaml

    source = Source(name)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "").split())
        opened = exc.context_mark if exc.context and exc.problem else None
        if opened is not None and mark is not None and opened.line != mark.line:  # e.g. a bracket never closed
            problem += f", {' '.join(exc.context.split())} on line {opened.line + 1}"
        raise WorkbenchError(f"{name}{line}: not valid YAML ({problem}). Fix it; {DOCS}.") from None
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"{name}: not valid YAML ({' '.join(str(exc).split())}); {DOCS}.") from None
    if node is not None:
        _lines(node, (), source.lines, source)
    return data, source


def read(spec: Any) -> tuple[Any, Source, Path]:
    """(value, source, folder) of a spec given as a path, YAML text or a dict."""
    if isinstance(spec, Mapping):
        return dict(spec), Source("the spec"), Path.cwd()
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        text = str(spec)
        if isinstance(spec, Path) or ("\n" not in text and ":" not in text):
            if not path.is_file():
                raise WorkbenchError(
                    f"No gate spec file {text!r} (from {Path.cwd()}). Give the path of a YAML file, its text or a "
                    f"dict; {DOCS}."
                )
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise WorkbenchError(f"Cannot read the gate spec {path}: {exc}.") from None
            data, source = parse_yaml(text, path.name)
            return data, source, path.resolve().parent
        data, source = parse_yaml(text, "the spec")
        return data, source, Path.cwd()
    raise WorkbenchError(f"A gate spec is a YAML file's path, its text or a dict (got {type(spec).__name__}); {DOCS}.")


# ---- checking -----------------------------------------------------------------------------------------------
class Reader:
    """Turns the spec's value into checks, each field checked where it is written."""

    def __init__(self, source: Source, folder: Path, store: str | Path | None, save_baseline: Path | None):
        self.source, self.folder, self.store_path, self.save_baseline = source, folder, store, save_baseline
        self._store: Any = None
        self.files: set[Path] = set()

    def error(self, path: Where, message: str) -> WorkbenchError:
        return self.source.error(path, message)

    def mapping(self, value: Any, path: Where, fields: tuple[str, ...], what: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, f"{what} is a mapping of {', '.join(fields)} (got {_shown(value)}); {DOCS}.")
        for key in value:
            if not isinstance(key, str) or key not in fields:
                raise self.error(
                    (*path, str(key)),
                    f"unknown field {key!r}.{suggest(str(key), fields)} The fields here: {', '.join(fields)}.",
                )
        return dict(value)

    # ---- the store ----------------------------------------------------------------------------------
    def store(self, path: Where) -> Any:
        if self._store is None:
            from ..store import Store

            try:
                self._store = Store(self.store_path, create=False)
            except WorkbenchError as exc:
                raise self.error(path, f"{exc} `workbench runs` lists the stored runs.") from None
        return self._store

    def stored_run(self, value: Any, path: Where) -> dict[str, Any]:
        """The stored run a (prefix of a) run id names."""
        if isinstance(value, int) and not isinstance(value, bool):  # an unquoted id of digits only (2% of ids)
            value = self.source.texts.get(path, str(value))  # as written: YAML made it a number (octal if 0...)
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"a run is named by its id, e.g. 1a2b3c4d (got {_shown(value)}).")
        db = self.store(path)
        ids = [str(r) for r in db.runs()["run_id"]]
        found = [r for r in ids if r == value] or [r for r in ids if r.startswith(value)]
        if len(found) != 1:
            why = "no run" if not found else f"{len(found)} runs ({', '.join(found[:5])})"
            raise self.error(
                path,
                f"{why} with id {value!r} in {db.path}.{suggest(value, ids)} `workbench runs` lists the stored runs "
                "(`--store PATH` names another store).",
            )
        return dict(db.run(found[0]))

    # ---- values -------------------------------------------------------------------------------------
    def settings(self, values: Mapping[str, Any], path: Where) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in SETTINGS:
            if name not in values:
                continue
            value, at = values[name], (*path, name)
            if name == "chat":
                if not isinstance(value, bool):
                    raise self.error(at, f"chat is true or false (got {_shown(value)}).")
            elif name == "mode":
                if value not in MODES:
                    raise self.error(at, f"mode is one of {', '.join(MODES)} (got {_shown(value)}).")
            elif name == "data":
                if not isinstance(value, str) or not value:
                    raise self.error(at, f"data is the path of a rows file (got {_shown(value)}).")
                file = self.folder / value
                if not file.is_file():
                    raise self.error(at, f"no rows file {file}; paths are read from the spec's folder.")
                value = str(file)
            else:
                least = 0 if name == "shots" else 1
                if isinstance(value, bool) or not isinstance(value, int) or value < least:
                    raise self.error(at, f"{name} is a whole number of at least {least} (got {_shown(value)}).")
            out[name] = value
        return out

    def models(self, values: Mapping[str, Any], path: Where) -> list[str] | None:
        from .. import models as registry
        from ..suites import model_list

        if "model" in values and "models" in values:
            raise self.error((*path, "models"), "give model or models, not both.")
        key = "models" if "models" in values else "model"
        if key not in values:
            return None
        value, at = values[key], (*path, key)
        if isinstance(value, str):
            names = model_list(value)
        elif isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            names = list(value)
        else:
            raise self.error(at, f"{key} is a model name or a list of them (got {_shown(value)}).")
        for i, name in enumerate(names):
            try:
                registry.resolve(name)
            except WorkbenchError as exc:
                raise self.error((*at, i) if isinstance(value, list) else at, str(exc)) from None
        return names

    def baseline(self, value: Any, path: Where) -> Baseline:
        where = self.source.at(path)
        if isinstance(value, bool):
            raise self.error(path, f"a baseline is {{run: ID}}, {{file: PATH}} or {{value: NUMBER}} (got {value}).")
        if isinstance(value, (int, float)):
            return Baseline("value", value=float(value), where=where)
        if isinstance(value, str):
            value = {"file": value} if value.endswith(".json") else {"run": value}
        fields = self.mapping(value, path, BASELINE_FIELDS, "a baseline")
        kinds = [k for k in ("run", "file", "value") if k in fields]
        if len(kinds) != 1:
            raise self.error(path, "a baseline is one of {run: ID}, {file: PATH} or {value: NUMBER}.")
        kind = kinds[0]
        if "model" in fields and kind != "file":
            raise self.error((*path, "model"), "model picks an entry of a baseline file; leave it out here.")
        at = (*path, kind)
        if kind == "value":
            number = fields["value"]
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise self.error(at, f"value is a number, the score to hold (got {_shown(number)}).")
            return Baseline("value", value=float(number), where=where)
        if kind == "run":
            return Baseline("run", run=str(self.stored_run(fields["run"], at)["run_id"]), where=where)
        name = fields["file"]
        if not isinstance(name, str) or not name:
            raise self.error(at, f"file is the path of a baseline file (got {_shown(name)}).")
        file = (self.folder / name).resolve()
        if not file.is_file() and file != self.save_baseline:
            raise self.error(
                at,
                f"no baseline file {file}. Write it from the current runs with `workbench check SPEC "
                f"--save-baseline {name}` (paths are read from the spec's folder).",
            )
        model = fields.get("model")
        if model is not None and not isinstance(model, str):
            raise self.error((*path, "model"), f"model is a model name (got {_shown(model)}).")
        self.files.add(file)
        return Baseline("file", file=file, model=model, where=where)

    def rules(self, value: Any, path: Where) -> dict[str, tuple[Rule, ...]]:
        """metric -> its rules."""
        if not isinstance(value, Mapping) or not value:
            raise self.error(
                path, f"rules map metrics to rules, e.g. {{acc: {{not_worse: 0.02}}}} (got {_shown(value)})."
            )
        out = {}
        for metric, spec in value.items():
            at = (*path, metric)
            if isinstance(spec, Mapping):
                for key in spec:
                    if key not in RULES:
                        raise self.error(
                            (*at, str(key)),
                            f"{key!r} is not a rule.{suggest(str(key), RULES)} Rules: not_worse (a tolerance), "
                            "floor and ceiling (bounds on the score).",
                        )
            if not isinstance(spec, Mapping) or not spec:
                raise self.error(
                    at,
                    f"a metric's rules are e.g. {{not_worse: 0.02, floor: 0.40}} (got {_shown(spec)}); rules: "
                    f"{', '.join(RULES)}.",
                )
            rules = []
            for kind, threshold in spec.items():
                if threshold is True and kind == "not_worse":
                    threshold = 0.0
                if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
                    raise self.error((*at, kind), f"{kind} is a number (got {_shown(threshold)}).")
                if kind == "not_worse" and threshold < 0:
                    raise self.error((*at, kind), f"not_worse is a tolerance of 0 or more (got {threshold}).")
                rules.append(Rule(metric, kind, float(threshold), self.source.at((*at, kind))))
            out[metric] = tuple(rules)
        return out

    # ---- tasks --------------------------------------------------------------------------------------
    def task_metrics(self, task: str, settings: Mapping[str, Any], path: Where) -> tuple[str, ...]:
        """The metrics a run of ``task`` with ``settings`` scores; refuses groups, suites and unknown tasks."""
        from ..tasks import get_task
        from ..tasks import suites as defined
        from ..tasks.generative import for_mode

        group = defined.find(task)
        if group is not None:
            raise self.error(
                path,
                f"{task} is a {group.kind} of several tasks; gate its members, each a task of its own: "
                f"{', '.join(m.task for m in group.members)}.",
            )
        try:
            return tuple(for_mode(get_task(task), settings.get("mode"), bool(settings.get("chat"))).metrics)
        except WorkbenchError as exc:
            raise self.error(path, str(exc)) from None

    def check_metrics(self, rules: Mapping[str, Where], known: tuple[str, ...], what: str) -> None:
        """Each metric of ``rules`` (metric -> where it is written) is one ``known`` names, or one derived from it
        (a group's acc_stem from acc)."""
        for metric, at in rules.items():
            derived = any(metric.startswith(f"{m}_") for m in known) and not metric.endswith(("_stderr", "_ci95"))
            if metric not in known and not derived:
                raise self.error(
                    at,
                    f"{what} has no metric {metric!r}.{suggest(metric, known)} Its metrics: {', '.join(known)}.",
                )

    def checks(self, data: Any) -> tuple[list[Check], str]:
        if data is None:
            raise self.error((), f"the spec is empty. A spec looks like: {EXAMPLE} ({DOCS}).")
        top = self.mapping(data, (), TOP_FIELDS, "a gate spec")
        name = top.get("name", "workbench check")
        if not isinstance(name, str):
            raise self.error(("name",), f"name is a text (got {_shown(name)}).")
        if "run" in top:
            for other in ("tasks", "model", "models"):
                if other in top:
                    raise self.error((other,), "a spec with a top-level run gates that run; leave this out.")
            for other in SETTINGS:
                if other in top:
                    raise self.error((other,), "a stored run is gated as it was run; leave this out.")
            entries: list[tuple[Any, Where]] = [({"run": top["run"]}, ())]
        else:
            tasks = top.get("tasks")
            if not isinstance(tasks, list) or not tasks:
                raise self.error(
                    ("tasks",), f"name the tasks to gate, e.g. tasks: [arc_easy] (got {_shown(tasks)}); {DOCS}."
                )
            entries = [(t, ("tasks", i)) for i, t in enumerate(tasks)]
        models = self.models(top, ()) or None
        settings = self.settings(top, ())
        baseline = self.baseline(top["baseline"], ("baseline",)) if "baseline" in top else None
        rules = self.rules(top["rules"], ("rules",)) if "rules" in top else {}
        checks: list[Check] = []
        for entry, path in entries:
            checks += self.entry(entry, path, models, settings, baseline, rules)
        return checks, name

    def entry(
        self,
        entry: Any,
        path: Where,
        models: list[str] | None,
        settings: dict[str, Any],
        baseline: Baseline | None,
        rules: dict[str, tuple[Rule, ...]],
    ) -> list[Check]:
        from ..models import DEFAULT_MODEL
        from ..tables import metric_names

        if isinstance(entry, str) and path:
            entry = {"task": entry}
        fields = self.mapping(entry, path, TASK_FIELDS, "a task entry") if path else dict(entry)
        own = self.rules(fields["rules"], (*path, "rules")) if "rules" in fields else {}
        own_rules = {**rules, **own}
        rules_at: dict[str, Where] = {m: (*path, "rules", m) if m in own else ("rules", m) for m in own_rules}
        if not own_rules:
            raise self.error(
                path, "no rules: add e.g. rules: {acc: {not_worse: 0.02, floor: 0.40}} here or at the top."
            )
        own_baseline = self.baseline(fields["baseline"], (*path, "baseline")) if "baseline" in fields else baseline
        if own_baseline is None:
            for metric_rules in own_rules.values():
                for rule in metric_rules:
                    if rule.kind == "not_worse":
                        raise WorkbenchError(
                            f"{rule.where}: not_worse compares with a baseline: add baseline: {{run: RUN_ID}}, "
                            "{file: PATH} or {value: NUMBER} to this task or at the top."
                        )
        flat = tuple(r for metric_rules in own_rules.values() for r in metric_rules)
        where = self.source.at(path)
        if "run" in fields:
            at = (*path, "run")
            for other in ("model", "models", *SETTINGS):
                if other in fields:
                    raise self.error((*path, other), "a stored run is gated as it was run; leave this out.")
            run = self.stored_run(fields["run"], at)
            if "task" in fields and fields["task"] != run["task"]:
                raise self.error(
                    (*path, "task"), f"run {run['run_id']} is of task {run['task']}, not {fields['task']}."
                )
            if run["status"] != "complete":
                call = f" ({run['command']})" if run.get("command") else ""
                raise self.error(at, f"run {run['run_id']} is {run['status']}; finish it by repeating its call{call}.")
            self.check_metrics(rules_at, tuple(metric_names(run)), f"run {run['run_id']}")
            return [Check(run["task"], run["model"], {}, flat, own_baseline, str(run["run_id"]), where)]
        task = fields.get("task")
        if not isinstance(task, str) or not task:
            raise self.error((*path, "task"), f"name the task, e.g. task: arc_easy (got {_shown(task)}).")
        own_settings = {**settings, **self.settings(fields, path)}
        known = self.task_metrics(task, own_settings, (*path, "task"))
        self.check_metrics(rules_at, known, task)
        names = self.models(fields, path) or models or [DEFAULT_MODEL]
        return [Check(task, m, own_settings, flat, own_baseline, None, where) for m in names]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load(spec: Any, *, store: str | Path | None = None, save_baseline: str | Path | None = None) -> GateSpec:
    """The checks of a spec (a path, YAML text or a dict), every field checked; nothing is evaluated."""
    data, source, folder = read(spec)
    target = Path(save_baseline).resolve() if save_baseline is not None else None
    reader = Reader(source, folder, store, target)
    checks, name = reader.checks(data)
    return GateSpec(checks, name, source.name, folder, reader.files)
