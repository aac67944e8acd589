"""Why does my score differ? Every recorded setting that differs between two runs, side by side, with the score
difference.

    d = workbench.diff("1a2b3c4d", "5e6f7a8b")    # or `workbench diff A B [--same]`
    d.verdict     # '2 settings differ: shots (0 vs 5), batch size (16 vs 8); acc 0.46 -> 0.52 (+0.06)'
    d.table()     # setting, run A, run B, note: the settings that differ (same=True: every recorded one)
    d.score()     # each metric both runs report: A, B, B - A
    print(d)      # all of it as text; a notebook shows it as HTML

A run records its task, its model (name, weights fingerprint, kind and location), its data (source and
fingerprint), its prompt template, the call's options (``config``: shots, few-shot seed, chat template, scoring
mode, batch size, limit, ...), package versions and the command that started it (store/runs.py, run/lifecycle.py).
Each of those is a setting here. What says nothing about how a run was made (its id, key, timestamps, duration,
the process that wrote it) is never compared; the commands are shown, not compared (they repeat the settings).

Some differences follow from others: another task brings another template and other data; shots put the few-shot
pool into the data fingerprint; another limit changes the number of items and the data. The verdict names the
settings that differ on their own and says which differences follow from them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import WorkbenchError
from .store import Store

Row = dict[str, Any]
NOT_RECORDED = "not recorded"
_ABSENT = object()  # a setting the run does not record

# the backend that runs a model of each recorded kind (models/registry.py: 'api' models answer over HTTP, the rest
# are loaded by transformers); saved outputs (workbench.score) have none
BACKENDS = {
    "api": "OpenAI-compatible API",
    "gguf": "transformers",  # dequantized to a transformers directory on first load
    "dir": "transformers",
    "hub": "transformers",
    "outputs": "none (saved outputs)",
}
# settings whose difference follows from another's: (setting, the settings it may follow from, first match wins)
FOLLOWS: dict[str, tuple[str, ...]] = {
    "model weights": ("model",),
    "model kind": ("model",),
    "backend": ("model",),
    "model location": ("model",),
    "prompt template": ("task", "scoring mode", "chat template"),
    "few-shot selection": ("task",),
    "scoring mode": ("task",),
    "items": ("task", "data file", "limit"),
    "data source": ("task", "data file"),
    "data fingerprint": ("task", "data file", "limit", "shots", "items"),
}
# what a difference in a setting means for the score, shown beside it
NOTES = {
    "data fingerprint": "covers the scored documents and, with shots, the few-shot pool",
    "batch size": "this workbench's scores do not depend on it; in lm-evaluation-harness padding can move them",
    "few-shot seed": "which examples are drawn",
    "chat template": "changes every prompt the model sees",
    "scoring mode": "log-likelihood of each option vs the answer the model writes",
}


@dataclass(frozen=True)
class Setting:
    """One recorded setting of both runs, as a person reads it. ``follows`` names the setting whose difference
    brings this one's (another task, another template), ``one_sided`` marks a setting only one run records."""

    name: str
    a: str
    b: str
    follows: str = ""
    note: str = ""

    @property
    def differs(self) -> bool:
        return self.a != self.b

    @property
    def one_sided(self) -> bool:
        return self.differs and NOT_RECORDED in (self.a, self.b)

    @property
    def cause(self) -> bool:
        """Differs on its own: recorded by both runs and not following from another difference."""
        return self.differs and not self.follows and not self.one_sided


@dataclass
class RunDiff:
    """Every recorded setting of two runs (``settings``), the ones that differ first in the verdict, the scores
    side by side, and what else to know (``notes``: the items they share, how few-shot examples are chosen)."""

    run_a: Row
    run_b: Row
    settings: list[Setting]
    notes: list[str] = field(default_factory=list)

    # ---- what differs -----------------------------------------------------------------------------------------
    @property
    def differing(self) -> list[Setting]:
        return [s for s in self.settings if s.differs]

    @property
    def causes(self) -> list[Setting]:
        """The settings that differ on their own (recorded by both runs, not following from another)."""
        return [s for s in self.settings if s.cause]

    def table(self, same: bool = False):
        """setting, run A, run B, note: the settings that differ (``same=True``: every setting either run records,
        with a ``differs`` column)."""
        import pandas as pd

        shown = self.settings if same else self.differing
        rows = [{"setting": s.name, "run A": s.a, "run B": s.b, "note": _note(s)} for s in shown]
        frame = pd.DataFrame(rows, columns=["setting", "run A", "run B", "note"])
        if same:
            frame["differs"] = [s.differs for s in shown]
        return frame

    def score(self):
        """Each metric both runs report: metric, A, B, B - A."""
        import pandas as pd

        rows = [{"metric": m, "A": a, "B": b, "B - A": b - a} for m, a, b in self._metrics()]
        return pd.DataFrame(rows, columns=["metric", "A", "B", "B - A"])

    def differences(self) -> str:
        """The differing settings in one line ('' when none): those that differ on their own with both values,
        then what follows from them and what only one run records."""
        parts = [", ".join(f"{s.name} ({_short(s.a)} vs {_short(s.b)})" for s in self.causes)]
        by_cause: dict[str, list[str]] = {}
        for s in self.differing:
            if s.follows:
                by_cause.setdefault(s.follows, []).append(s.name)
        for cause, names in by_cause.items():
            parts.append(f"{_names(names)} follow{'s' if len(names) == 1 else ''} from {cause}")
        one_sided = [s.name for s in self.differing if s.one_sided]
        if one_sided:
            parts.append(f"recorded by one run only: {', '.join(one_sided)}")
        return "; ".join(p for p in parts if p)

    @property
    def verdict(self) -> str:
        """'2 settings differ: shots (0 vs 5), batch size (16 vs 8); acc 0.46 -> 0.52 (+0.06)'."""
        n = len(self.causes)
        if n:
            head = f"{n} setting{'s differ' if n > 1 else ' differs'}"
        elif self.differing:
            head = "No setting recorded by both runs differs on its own"
        else:
            head = "No recorded setting differs"
        differences = self.differences()
        return f"{head}{': ' + differences if differences else ''}; {self._score_phrase()}"

    # ---- shown ------------------------------------------------------------------------------------------------
    def text(self, same: bool = False) -> str:
        """The verdict, the settings (``same=True``: all of them), the scores, the notes and the recorded calls."""
        from .views.text import as_text

        table = self.table(same)
        blocks = [
            f"Run A {self.run_a['run_id']} vs run B {self.run_b['run_id']}: {self.verdict}",
            as_text(table) if not table.empty else "(no setting differs)",
        ]
        scores = self.score()
        if not scores.empty:
            blocks.append(as_text(scores.assign(**{c: scores[c].map(_num) for c in ("A", "B", "B - A")})))
        lines = [f"- {n}" for n in self.notes]
        lines += [f"{label}: {run.get('command') or NOT_RECORDED}" for label, run in self._runs()]
        return "\n\n".join([*blocks, "\n".join(lines)])

    def __str__(self) -> str:
        return self.text()

    def html(self, same: bool = False) -> str:
        """The same as HTML; every value from the runs (templates, commands, names) is escaped."""
        esc = html.escape
        table = self.table(same)
        cell = 'style="text-align:left; white-space:pre-wrap; vertical-align:top"'
        head = "".join(f"<th {cell}>{esc(str(c))}</th>" for c in table.columns)
        body = "".join(
            "<tr>" + "".join(f"<td {cell}>{esc(str(v))}</td>" for v in row) + "</tr>"
            for row in table.itertuples(index=False)
        )
        out = [
            '<div class="workbench-diff">',
            f"<p><b>Run A {esc(str(self.run_a['run_id']))} vs run B {esc(str(self.run_b['run_id']))}:</b> "
            f"{esc(self.verdict)}</p>",
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>" if not table.empty else "",
        ]
        scores = self.score()
        if not scores.empty:
            rows = "".join(
                f"<tr><td {cell}>{esc(str(r.metric))}</td>"
                + "".join(f"<td>{esc(_num(v))}</td>" for v in (r.A, r.B, r[3]))
                + "</tr>"
                for r in scores.itertuples(index=False)
            )
            out.append(f"<table><thead><tr><th>metric</th><th>A</th><th>B</th><th>B - A</th></tr></thead>"
                       f"<tbody>{rows}</tbody></table>")  # fmt: skip
        if self.notes:
            out.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in self.notes) + "</ul>")
        calls = "\n".join(f"{label}: {run.get('command') or NOT_RECORDED}" for label, run in self._runs())
        out.append(f"<details><summary>Recorded calls</summary><pre>{esc(calls)}</pre></details></div>")
        return "".join(out)

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"<RunDiff {self.run_a['run_id']} vs {self.run_b['run_id']}: {self.verdict}>"

    # ---- helpers ----------------------------------------------------------------------------------------------
    def _runs(self) -> list[tuple[str, Row]]:
        return [(f"A {self.run_a['run_id']}", self.run_a), (f"B {self.run_b['run_id']}", self.run_b)]

    def _metrics(self) -> list[tuple[str, float, float]]:
        from .tables import metric_names

        ma, mb = self.run_a.get("metrics") or {}, self.run_b.get("metrics") or {}
        names_b = set(metric_names(self.run_b))
        return [(m, float(ma[m]), float(mb[m])) for m in metric_names(self.run_a) if m in names_b]

    def _score_phrase(self) -> str:
        from .views.text import number

        for run in (self.run_a, self.run_b):
            if not run.get("metrics"):
                return f"run {run['run_id']} has no metrics yet ({run.get('status') or 'unknown status'})"
        metrics = self._metrics()
        if not metrics:
            from .tables import metric_names

            listed = [", ".join(metric_names(r)) or "none" for r in (self.run_a, self.run_b)]
            return f"no metric in common (A: {listed[0]}; B: {listed[1]})"
        name, a, b = metrics[0]
        d = b - a
        phrase = f"{name} {number(a)} -> {number(b)} ({'-' if d < 0 else '+'}{number(abs(d))})"
        if d and not self.differing:
            phrase += ", which nothing the runs record explains (the hardware or nondeterministic kernels can)"
        return phrase


def diff(run_a: Any, run_b: Any, store: str | Path | None = None) -> RunDiff:
    """Every recorded setting that differs between two saved runs, side by side, with the score difference.

    ``run_a`` and ``run_b`` are run ids or results with a ``run_id`` (an ``EvalResult``; its store is used when
    ``store`` is not given). A run id the store does not hold is refused, naming the store. Runs of different tasks
    still diff: the task comes first. Returns a :class:`RunDiff`: ``verdict``, ``table()``, ``score()``, ``str()``.
    """
    if store is None:
        store = getattr(run_a, "store_path", None) or getattr(run_b, "store_path", None)
    ids = [_run_id(r) for r in (run_a, run_b)]
    if store is not None and not isinstance(store, (str, Path)):
        raise WorkbenchError(
            f"store must be the path of a project store file, e.g. store='project.sqlite' (got {store!r:.60})."
        )
    db = Store(store, create=False)  # reading: a mistyped path is named, never created
    a, b = db.run(ids[0]), db.run(ids[1])  # refuses a run id the store does not hold, naming the store
    return between(a, b, db.sample_records(ids[0]), db.sample_records(ids[1]))


def between(
    run_a: Row, run_b: Row, records_a: Sequence[Mapping[str, Any]] = (), records_b: Sequence[Mapping[str, Any]] = ()
) -> RunDiff:
    """The :class:`RunDiff` of two run rows as ``Store.run`` returns them; their records, when given, say how many
    items the runs share."""
    pairs = [(name, show(get(run_a), run_a), show(get(run_b), run_b)) for name, get, show in _specs(run_a, run_b)]
    pairs = [p for p in pairs if not (p[1] == NOT_RECORDED and p[2] == NOT_RECORDED)]
    differing = {name for name, a, b in pairs if a != b}
    settings = []
    for name, a, b in pairs:
        follows = ""
        if a != b and NOT_RECORDED not in (a, b):
            follows = next((c for c in FOLLOWS.get(name, _generic_follows(name)) if c in differing), "")
        settings.append(Setting(name, a, b, follows, NOTES.get(name, "")))
    return RunDiff(run_a, run_b, settings, _notes(run_a, run_b, records_a, records_b))


# ---- the settings -----------------------------------------------------------------------------------------------
Getter = Callable[[Row], Any]
Shower = Callable[[Any, Row], str]


def _column(key: str) -> Getter:
    return lambda run: run.get(key, _ABSENT) if run.get(key) is not None else _ABSENT


def _config(key: str) -> Getter:
    return lambda run: (run.get("config") or {}).get(key, _ABSENT)


def _identity(key: str) -> Getter:
    return lambda run: (run.get("model_identity") or {}).get(key, _ABSENT)


def _version(name: str) -> Getter:
    return lambda run: (run.get("versions") or {}).get(name, _ABSENT)


def _text(value: Any, run: Row | None = None) -> str:
    if value is _ABSENT:
        return NOT_RECORDED
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _shown(when_none: str = "none", when_empty: str = "") -> Shower:
    def show(value: Any, run: Row) -> str:
        if value is None:
            return when_none
        if value == "" and when_empty:
            return when_empty
        return _text(value)

    return show


def _on_off(value: Any, run: Row) -> str:
    return _text(value) if value is _ABSENT or not isinstance(value, bool) else ("on" if value else "off")


def _backend(run: Row) -> Any:
    identity = run.get("model_identity") or {}
    if identity.get("backend"):
        return identity["backend"]
    return BACKENDS.get(str(identity.get("kind")), _ABSENT)


def _task(run: Row) -> Any:
    from .tasks import REGISTRY

    return REGISTRY.get(str(run.get("task")))


def _mode(value: Any, run: Row) -> str:
    """None is the task's own way: log-likelihood for a multiple-choice task."""
    if value is not None:
        return _text(value)
    from .tasks.generative import has_choices

    task = _task(run)
    return "loglikelihood" if task is not None and has_choices(task) else "the task's own"


def _fewshot(run: Row) -> Any:
    """How the task picks its few-shot examples, for runs that record shots (None: the task is unknown here)."""
    config = run.get("config") or {}
    if "shots" not in config:
        return _ABSENT
    task = _task(run)
    sampler = getattr(task, "fewshot_sampler", None)
    if sampler is None:
        return _ABSENT
    split = getattr(task, "fewshot_split", None)
    if split is None:
        return "none (the task has no few-shot split)"
    if sampler == "first_n":
        return f"deterministic: the first examples of the {split} split"
    return f"deterministic: drawn with Random({config.get('fewshot_seed', 1234)}) in document order from {split}"


def _specs(run_a: Row, run_b: Row) -> list[tuple[str, Getter, Shower]]:
    """Every setting either run records, task first, then model, prompt, options, data and versions."""
    plain: Shower = _text
    specs: list[tuple[str, Getter, Shower]] = [
        ("task", _column("task"), plain),
        ("model", _column("model"), plain),
        ("model weights", _identity("fingerprint"), plain),
        ("model kind", _identity("kind"), plain),
        ("backend", _backend, plain),
        ("dtype", _identity("dtype"), plain),
        ("device", _identity("device"), plain),
        ("model location", _identity("location"), plain),
    ]
    known_identity = {"name", "fingerprint", "kind", "backend", "dtype", "device", "location"}
    for key in _keys(run_a, run_b, "model_identity", known_identity):
        specs.append((f"model {key.replace('_', ' ')}", _identity(key), plain))
    specs += [
        ("prompt template", _column("prompt_template"), _shown(when_empty="(none)")),
        ("shots", _config("shots"), plain),
        ("few-shot seed", _config("fewshot_seed"), plain),
        ("few-shot selection", _fewshot, plain),
        ("chat template", _config("chat"), _on_off),
        ("scoring mode", _config("mode"), _mode),
        ("max new tokens", _config("max_new_tokens"), _shown("the task's own")),
        ("limit", _config("limit"), _shown("all items")),
        ("items", _column("n_items"), plain),
        ("data file", _config("data"), _shown(when_empty="none (the task's data)")),
        ("data source", _column("data_source"), plain),
        ("data fingerprint", _column("data_fingerprint"), plain),
        ("batch size", _config("batch_size"), plain),
    ]
    known_config = {"shots", "fewshot_seed", "chat", "mode", "max_new_tokens", "limit", "data", "batch_size"}
    for key in _keys(run_a, run_b, "config", known_config):
        specs.append((key.replace("_", " "), _config(key), plain))
    from .run.provenance import PACKAGES

    order = ["python", *PACKAGES]
    found = _keys(run_a, run_b, "versions", set())
    for name in sorted(found, key=lambda n: (order.index(n) if n in order else len(order), n)):
        specs.append((f"{name} version", _version(name), plain))
    return specs


def _keys(run_a: Row, run_b: Row, column: str, known: set[str]) -> list[str]:
    """The keys of a JSON column either run records, beyond the ``known`` ones, in the order first seen."""
    keys: dict[str, None] = {}
    for run in (run_a, run_b):
        value = run.get(column)
        if isinstance(value, dict):
            keys.update(dict.fromkeys(k for k in value if k not in known))
    return list(keys)


def _generic_follows(name: str) -> tuple[str, ...]:
    return ("model",) if name.startswith("model ") else ()


# ---- notes ------------------------------------------------------------------------------------------------------
def _notes(
    run_a: Row, run_b: Row, records_a: Sequence[Mapping[str, Any]], records_b: Sequence[Mapping[str, Any]]
) -> list[str]:
    from .run.records import ITEM_FP, has_identities, occurrences

    notes = []
    if has_identities(records_a) and has_identities(records_b):
        keys_a = set(occurrences([r[ITEM_FP] for r in records_a]))
        keys_b = set(occurrences([r[ITEM_FP] for r in records_b]))
        shared = len(keys_a & keys_b)
        if keys_a == keys_b:
            notes.append(f"Both runs scored the same {shared} items.")
        elif shared:
            notes.append(
                f"The runs share {shared} items (A scored {len(keys_a)}, B {len(keys_b)}): workbench.compare pairs "
                "them item by item."
            )
        else:
            notes.append("The runs have no item in common: they scored different documents.")
    shots = [(run.get("config") or {}).get("shots") for run in (run_a, run_b)]
    if any(isinstance(s, int) and s > 0 for s in shots):
        selection = {_fewshot(run) for run in (run_a, run_b)} - {_ABSENT}
        if selection and all(str(s).startswith("deterministic") for s in selection):
            notes.append(
                "Few-shot examples are chosen deterministically, as lm-evaluation-harness chooses them (the task's "
                "sampler and seed, no randomness between runs): equal shots on the same data show equal examples."
            )
    for run, label in ((run_a, "A"), (run_b, "B")):
        if run.get("status") not in (None, "complete"):
            notes.append(f"Run {label} ({run['run_id']}) is {run['status']}, not complete.")
    return notes


# ---- text -------------------------------------------------------------------------------------------------------
def _run_id(run: Any) -> str:
    run_id = getattr(run, "run_id", run)  # an EvalResult (or any result with a run_id) names its run
    if not isinstance(run_id, str) or not run_id:
        raise WorkbenchError(
            f"Name a run by its id, e.g. workbench.diff('1a2b3c4d', '5e6f7a8b') (got {run_id!r:.60}); "
            "workbench.runs() lists them."
        )
    return run_id


def _note(setting: Setting) -> str:
    if setting.one_sided:
        which = "A" if setting.a == NOT_RECORDED else "B"
        return f"run {which} does not record it (made by an earlier version, or another kind of run)"
    parts = [f"follows from {setting.follows}"] if setting.follows else []
    if setting.differs and setting.note:
        parts.append(setting.note)
    return "; ".join(parts)


def _short(value: str, size: int = 24) -> str:
    value = " ".join(value.split())
    return value if len(value) <= size else value[: size - 1] + "…"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _num(value: Any) -> str:
    from .views.text import number

    return number(value)
