"""Human evaluation: rate outputs, vote blind between two outputs, rank models, measure agreement.

    panel = workbench.rate(run_id, rubric="1-5", annotator="ana")   # one item at a time, every click saved
    duel = workbench.arena(run_a, run_b, annotator="ana")           # blind A/B votes
    workbench.rankings()                                            # Bradley-Terry and Elo with 95% intervals
    workbench.agreement(workbench.ratings())                        # kappa, alpha, agreement rates

Anything judged is an *item*: an id, a prompt, an optional reference, a model's output and the model's name.
Items come from a saved run (its samples), an ``EvalResult``, or any DataFrame with those columns (grid
outputs, your own file). The sessions below hold all the logic; the widgets in ``workbench.widgets`` only
draw them and call their methods, which are also the way to record judgments from code.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .errors import WorkbenchError
from .store import Store

if TYPE_CHECKING:
    from .widgets import ArenaPanel, RatingPanel

ITEM_COLUMNS = ["item_key", "item_id", "model", "source", "prompt", "reference", "output"]
# where each item field is found in a DataFrame or a run's samples, first match wins
FIELD_ALIASES = {
    "item_id": ("item_id", "doc_id", "id"),
    "prompt": ("prompt", "input", "question"),
    "reference": ("reference", "target"),
    "output": ("output", "generation", "response", "completion", "prediction", "raw"),
    "model": ("model",),
}
VOTES = ("A", "B", "tie", "both_bad")  # A: the left output is better, B: the right one
_KEEP: Any = object()  # "leave this filter as it is"
VOTE_SCORE = {"A": 1.0, "B": 0.0, "tie": 0.5, "both_bad": 0.5}  # score of the left output


# ---- rubrics ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rubric:
    """What a rating can be: an ordered tuple of values, each with a one-key shortcut.

    ``kind`` is 'scale' (numbers, e.g. 1-5), 'binary' (pass/fail) or 'labels' (a set of names).
    """

    name: str
    kind: str
    values: tuple[str, ...]

    @property
    def keys(self) -> dict[str, str]:
        """Keyboard shortcut -> value: 1, 2, ... 9, then 0 for the tenth value."""
        return {str((i + 1) % 10): v for i, v in enumerate(self.values)}

    @property
    def level(self) -> str:
        """Krippendorff level for agreement: ordinal for scales, nominal otherwise."""
        return "ordinal" if self.kind == "scale" else "nominal"

    @classmethod
    def parse(cls, spec: str | Sequence[str] | Rubric) -> Rubric:
        """'1-5', '1-10' (any 'lo-hi' of at most 10 values), 'pass/fail', a list of labels, or a Rubric."""
        if isinstance(spec, Rubric):
            return spec
        if isinstance(spec, str):
            text = spec.strip().lower()
            if text in ("pass/fail", "pass-fail", "binary"):
                return cls("pass/fail", "binary", ("pass", "fail"))
            lo, sep, hi = text.partition("-")
            if sep and lo.strip().isdigit() and hi.strip().isdigit() and 2 <= int(hi) - int(lo) + 1 <= 10:
                values = tuple(str(v) for v in range(int(lo), int(hi) + 1))
                return cls(f"{int(lo)}-{int(hi)}", "scale", values)
        elif spec and all(isinstance(v, str) and v.strip() for v in spec):
            labels = tuple(dict.fromkeys(v.strip() for v in spec))
            if len(labels) <= 10:
                return cls("labels:" + "|".join(labels), "labels", labels)
        raise WorkbenchError(
            f"Unknown rubric {spec!r}. Use '1-5', '1-10' (or another 'lo-hi' range of at most 10 values), "
            "'pass/fail', or a list of at most 10 labels such as ['correct', 'partly', 'wrong']."
        )


# ---- items -----------------------------------------------------------------------------------------
def item_key(item_id: Any, model: Any, prompt: Any, output: Any) -> str:
    """Stable id of one judged output: the same text from the same model for the same prompt."""
    payload = json.dumps([str(item_id), str(model), str(prompt), str(output)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _pick(frame: pd.DataFrame, name: str, columns: Mapping[str, str]) -> str | None:
    if name in columns:
        if columns[name] not in frame.columns:
            raise WorkbenchError(
                f"Column {columns[name]!r} (given for {name}) is not in the table: {list(frame.columns)}"
            )
        return columns[name]
    return next((c for c in FIELD_ALIASES[name] if c in frame.columns), None)


def _from_choices(samples: pd.DataFrame) -> pd.DataFrame:
    """Multiple-choice samples: the output is the chosen answer's text, the reference the gold answer's."""
    out = samples.copy()
    out["output"] = [c[int(p)] for c, p in zip(samples["choices"], samples["pred"])]
    if "gold" in samples.columns:
        out["reference"] = [
            c[int(g)] if _text(g) is not None else None for c, g in zip(samples["choices"], samples["gold"])
        ]
    return out


def items(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    model: str | None = None,
    name: str | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """The items to judge from a run id, an ``EvalResult`` or a DataFrame, one row per output.

    Columns of the result: item_key, item_id, model, source, prompt, reference, output. A DataFrame needs
    an id (item_id, doc_id or id), a prompt (prompt, input or question) and an output (output, generation,
    response, completion, prediction or raw); reference (or target) and model are optional. ``columns`` maps
    other names, e.g. ``{"output": "answer_text"}``. ``model`` names the model when the table has no model column;
    ``name`` labels the source (a run's id by default).
    """
    columns = dict(columns or {})
    if isinstance(source, pd.DataFrame):
        frame, label, default_model = source, name or "table", model
    else:
        run_id = getattr(source, "run_id", source)
        db = Store(getattr(source, "store_path", None) or store)
        if not isinstance(run_id, str):
            raise WorkbenchError(f"Cannot judge {type(source).__name__}: give a run id, an EvalResult or a DataFrame.")
        run = db.run(run_id)
        frame, label, default_model = db.samples(run_id), name or run_id, model or run["model"]
        if frame.empty:
            raise WorkbenchError(f"Run {run_id} has no scored items yet; finish it with the same evaluate() call.")
    if (
        "output" not in columns
        and _pick(frame, "output", columns) is None
        and {"choices", "pred"} <= set(frame.columns)
    ):
        frame = _from_choices(frame)
    found = {f: _pick(frame, f, columns) for f in FIELD_ALIASES}
    missing = [f for f in ("item_id", "prompt", "output") if found[f] is None]
    if missing:
        wanted = "; ".join(f"{f}: one of {', '.join(FIELD_ALIASES[f])}" for f in missing)
        raise WorkbenchError(
            f"The table has no column for {', '.join(missing)} ({wanted}). Its columns are {list(frame.columns)}; "
            'name yours with columns={"output": "my_column", ...}.'
        )
    out = pd.DataFrame(
        {
            "item_id": frame[found["item_id"]].map(str),
            "model": frame[found["model"]].map(str) if found["model"] else (default_model or "model"),
            "source": label,
            "prompt": frame[found["prompt"]].map(_text),
            "reference": frame[found["reference"]].map(_text) if found["reference"] else None,
            "output": frame[found["output"]].map(_text),
        }
    )
    out.insert(0, "item_key", [item_key(*r) for r in out[["item_id", "model", "prompt", "output"]].itertuples(False)])
    return out[ITEM_COLUMNS].reset_index(drop=True)


def _records(frame: pd.DataFrame) -> list[dict[str, str | None]]:
    """Rows as dicts of text, missing values (NaN) as None."""
    return [{k: _text(v) for k, v in row.items()} for row in frame.to_dict("records")]


# ---- rating ----------------------------------------------------------------------------------------
@dataclass
class ItemState:
    """One annotator's judgment of one item so far."""

    value: str | None = None
    note: str | None = None
    skipped: bool = False


def _states(events: pd.DataFrame, key: str = "item_key") -> dict[str, ItemState]:
    """Replay rating events (oldest first) into each item's current state."""
    states: dict[str, ItemState] = {}
    for row in events.itertuples(index=False):
        state = states.setdefault(getattr(row, key), ItemState())
        if row.action == "rate":
            state.value = row.value
        elif row.action == "skip":
            state.skipped = True
        if _text(row.note) is not None:
            state.note = row.note
    return states


class _Cursor:
    """Position, timer and status line shared by the rating and the A/B sessions."""

    def __init__(self, store: Store, annotator: str | None):
        self.store = store
        self.annotator: str | None = None
        self.position = 0
        self.status = ""
        self._shown_at = time.monotonic()
        if annotator:
            self.set_annotator(annotator)

    def __len__(self) -> int:
        raise NotImplementedError

    def visible(self) -> list[int]:
        """Positions that pass the filters (all, unless a subclass filters)."""
        return list(range(len(self)))

    def _load(self) -> None:
        """Read this annotator's earlier judgments from the store."""

    def resume_position(self) -> int:
        raise NotImplementedError

    def set_annotator(self, name: str) -> None:
        """Set who is judging; their earlier judgments load and the session resumes at the first unjudged item."""
        name = (name or "").strip()
        if not name:
            raise WorkbenchError("Type your name (the annotator) first: every judgment is saved under it.")
        self.annotator = name
        self._load()
        self._go(self.resume_position())
        self.status = f"Hello {name}: resuming at item {self.position + 1} of {len(self)}."

    def _need_annotator(self) -> str:
        if not self.annotator:
            raise WorkbenchError("Type your name (the annotator) first: every judgment is saved under it.")
        return self.annotator

    def _go(self, position: int) -> None:
        self.position = position
        self._shown_at = time.monotonic()

    def seconds(self) -> float:
        """Seconds since the current item was shown."""
        return round(time.monotonic() - self._shown_at, 3)

    def next(self) -> bool:
        """Move to the next item that passes the filters; False at the end."""
        later = [i for i in self.visible() if i > self.position]
        if later:
            self._go(later[0])
            return True
        self.status = "That was the last item" + (" matching the filters." if len(self.visible()) < len(self) else ".")
        return False

    def previous(self) -> bool:
        """Move to the previous item that passes the filters; False at the start."""
        earlier = [i for i in self.visible() if i < self.position]
        if earlier:
            self._go(earlier[-1])
            return True
        self.status = "This is the first item" + (" matching the filters." if len(self.visible()) < len(self) else ".")
        return False


class RatingSession(_Cursor):
    """Rate items one at a time on a rubric; each call writes one event to the store at once.

    ``choose(value)``, ``skip()``, ``note(text)``, ``next()``, ``previous()`` and ``set_filters(...)`` are what
    the panel's buttons and keys call. Reopening (a new session on the same items, rubric and annotator)
    resumes at the first item the annotator has neither rated nor skipped.
    """

    def __init__(
        self,
        items: pd.DataFrame,
        rubric: Rubric,
        *,
        annotator: str | None = None,
        store: Store,
        advance: bool = True,
    ):
        if items.empty:
            raise WorkbenchError("There is nothing to rate: the table of items is empty.")
        self.items = items.drop_duplicates("item_key").reset_index(drop=True)
        self.rubric = rubric
        self.advance = advance
        self.states: dict[str, ItemState] = {}
        self.filters: dict[str, Any] = {"unrated": False, "label": None, "model": None}
        store.add_items(_records(self.items))
        super().__init__(store, annotator)

    def __len__(self) -> int:
        return len(self.items)

    def _load(self) -> None:
        events = self.store.rating_events(rubric=self.rubric.name, annotator=self.annotator)
        self.states = _states(events)

    @property
    def current(self) -> dict[str, Any]:
        """The item shown now (item_key, item_id, model, source, prompt, reference, output)."""
        return _records(self.items.iloc[[self.position]])[0]

    def state(self, position: int | None = None) -> ItemState:
        key = self.items.at[self.position if position is None else position, "item_key"]
        return self.states.get(key, ItemState())

    def resume_position(self) -> int:
        untouched = [i for i in range(len(self)) if self.state(i).value is None and not self.state(i).skipped]
        unrated = [i for i in range(len(self)) if self.state(i).value is None]
        return (untouched or unrated or [0])[0]

    def visible(self) -> list[int]:
        out = []
        for i in range(len(self)):
            state = self.state(i)
            if self.filters["unrated"] and state.value is not None:
                continue
            if self.filters["label"] is not None and state.value != self.filters["label"]:
                continue
            if self.filters["model"] is not None and self.items.at[i, "model"] != self.filters["model"]:
                continue
            out.append(i)
        return out

    def set_filters(self, *, unrated: bool | None = None, label: Any = _KEEP, model: Any = _KEEP) -> None:
        """Show only unrated items, items rated ``label``, or one ``model``'s items; None or '' clears a filter."""
        if unrated is not None:
            self.filters["unrated"] = bool(unrated)
        if label is not _KEEP:
            self.filters["label"] = str(label) if label not in (None, "") else None
        if model is not _KEEP:
            self.filters["model"] = str(model) if model not in (None, "") else None
        shown = self.visible()
        if not shown:
            self.status = "No item matches the filters."
        elif self.position not in shown:
            self._go(next((i for i in shown if i > self.position), shown[0]))

    def _write(self, action: str, value: str | None = None, note: str | None = None) -> None:
        annotator = self._need_annotator()
        self.store.add_rating(
            item_key=self.current["item_key"],
            rubric=self.rubric.name,
            scale=self.rubric.values,
            annotator=annotator,
            action=action,
            value=value,
            note=note,
            seconds=self.seconds(),
        )
        state = self.states.setdefault(self.current["item_key"], ItemState())
        if action == "rate":
            state.value = value
        elif action == "skip":
            state.skipped = True
        if note is not None:
            state.note = note

    def choose(self, value: Any) -> None:
        """Rate the current item ``value`` (one of the rubric's values), then move on if ``advance``."""
        text = str(value).strip()
        if text not in self.rubric.values:
            raise WorkbenchError(f"{value!r} is not on the {self.rubric.name} rubric; use one of {self.rubric.values}.")
        self._write("rate", value=text)
        self.status = f"Saved {text} for item {self.current['item_id']} ({self.rated()} of {len(self)} rated)."
        if self.advance:
            self.next()

    def skip(self) -> None:
        """Record that the current item was skipped and move to the next one."""
        self._write("skip")
        self.status = f"Skipped item {self.current['item_id']}."
        self.next()

    def note(self, text: str) -> None:
        """Save a free-text note on the current item (written when it differs from the saved one)."""
        text = text.strip()
        if text != (self.state().note or ""):
            self._write("note", note=text)
            self.status = f"Note saved for item {self.current['item_id']}."

    def rated(self) -> int:
        """How many of these items the annotator has rated."""
        return sum(self.state(i).value is not None for i in range(len(self)))

    def progress(self) -> str:
        shown = self.visible()
        where = f"item {self.position + 1} of {len(self)}"
        if len(shown) < len(self):
            where += f" ({len(shown)} match the filters)"
        return f"{self.rated()} of {len(self)} rated · {where}"


# ---- blind A/B -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    """Two models' outputs for the same item, in a fixed canonical order (x, y)."""

    item_id: str
    x: dict[str, Any]
    y: dict[str, Any]

    @property
    def models(self) -> frozenset[str]:
        return frozenset((self.x["model"], self.y["model"]))


@dataclass
class VoteState:
    vote: str | None = None
    winner: str | None = None
    left_model: str | None = None  # the order in which the pair was shown when voted
    skipped: bool = False
    history: list[str] = field(default_factory=list)


def pair_models(frame: pd.DataFrame) -> pd.DataFrame:
    """Combine item tables for an A/B session; a model name used by two sources gets the source added."""
    clash = frame.groupby("model")["source"].nunique()
    clashing = set(clash[clash > 1].index)
    out = frame.copy()
    mask = out["model"].isin(clashing)
    out.loc[mask, "model"] = out.loc[mask, "model"] + " (" + out.loc[mask, "source"] + ")"
    return out


class ArenaSession(_Cursor):
    """Blind A/B voting over every pair of models that answered the same item.

    Left/right order is random per pair and annotator (reproducible from ``seed``); names stay hidden
    until the vote. ``vote('A' | 'B' | 'tie' | 'both_bad')``, ``skip()``, ``next()`` and ``previous()`` are
    what the panel calls. Each vote is stored with the order shown.
    """

    def __init__(
        self,
        items: pd.DataFrame,
        *,
        name: str,
        annotator: str | None = None,
        store: Store,
        seed: int = 0,
        advance: bool = True,
    ):
        self.items = items.drop_duplicates("item_key").reset_index(drop=True)
        self.models = list(dict.fromkeys(self.items["model"]))
        if len(self.models) < 2:
            raise WorkbenchError(
                f"A blind A/B session needs outputs of at least two models or prompts; got {self.models}. "
                "Pass two runs (or a table with a model column holding two names)."
            )
        self.name = name
        self.seed = seed
        self.advance = advance
        self.pairs: list[Pair] = []
        for item_id, group in self.items.groupby("item_id", sort=False):
            rows = _records(group.drop_duplicates("model"))
            self.pairs += [Pair(str(item_id), a, b) for a, b in itertools.combinations(rows, 2)]
        if not self.pairs:
            raise WorkbenchError("No item was answered by two models: A/B pairs need the same item ids in both runs.")
        self.states: dict[tuple[str, frozenset[str]], VoteState] = {}
        self.last_reveal = ""
        store.add_items(_records(self.items))
        super().__init__(store, annotator)

    def __len__(self) -> int:
        return len(self.pairs)

    def _load(self) -> None:
        self.states = {}
        for row in self.store.vote_events(arena=self.name, annotator=self.annotator).itertuples(index=False):
            state = self.states.setdefault((row.item_id, frozenset((row.model_left, row.model_right))), VoteState())
            state.history.append(row.vote)
            if row.vote == "skip":
                state.skipped = True
            else:
                state.vote, state.winner, state.left_model = row.vote, row.winner, row.model_left

    def _key(self, position: int | None = None) -> tuple[str, frozenset[str]]:
        pair = self.pairs[self.position if position is None else position]
        return pair.item_id, pair.models

    def state(self, position: int | None = None) -> VoteState:
        return self.states.get(self._key(position), VoteState())

    def resume_position(self) -> int:
        untouched = [i for i in range(len(self)) if self.state(i).vote is None and not self.state(i).skipped]
        unvoted = [i for i in range(len(self)) if self.state(i).vote is None]
        return (untouched or unvoted or [0])[0]

    def shown(self, position: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """(left, right) outputs as shown: the voted order if voted, else a random order fixed per annotator."""
        pair = self.pairs[self.position if position is None else position]
        state = self.state(position)
        if state.left_model is not None:
            flip = state.left_model != pair.x["model"]
        else:
            token = json.dumps([self.seed, self.name, self.annotator, pair.item_id, sorted(pair.models)])
            flip = hashlib.sha256(token.encode()).digest()[0] % 2 == 1
        return (pair.y, pair.x) if flip else (pair.x, pair.y)

    def revealed(self, position: int | None = None) -> bool:
        """Whether model names may be shown: only once this annotator has voted on the pair."""
        return self.state(position).vote is not None

    def vote(self, choice: str) -> None:
        """Vote 'A' (left better), 'B' (right better), 'tie' or 'both_bad' on the pair shown, then move on."""
        if choice not in VOTES:
            raise WorkbenchError(f"A vote is one of {', '.join(VOTES)} (A = left, B = right), not {choice!r}.")
        left, right = self.shown()
        winner = {"A": left["model"], "B": right["model"]}.get(choice, choice)
        self._record(choice, winner, left, right)
        state = self.states.setdefault(self._key(), VoteState())
        state.vote, state.winner, state.left_model = choice, winner, left["model"]
        self.last_reveal = f"Item {left['item_id']}: A was {left['model']}, B was {right['model']}; you voted {choice}."
        self.status = f"Saved. {self.voted()} of {len(self)} pairs voted."
        if self.advance:
            self.next()

    def skip(self) -> None:
        """Record a skip for the pair shown and move on."""
        left, right = self.shown()
        self._record("skip", None, left, right)
        self.states.setdefault(self._key(), VoteState()).skipped = True
        self.status = f"Skipped item {left['item_id']}."
        self.next()

    def _record(self, choice: str, winner: str | None, left: dict[str, Any], right: dict[str, Any]) -> None:
        self.store.add_vote(
            arena=self.name,
            item_id=str(left["item_id"]),
            annotator=self._need_annotator(),
            left_key=left["item_key"],
            right_key=right["item_key"],
            model_left=left["model"],
            model_right=right["model"],
            vote=choice,
            winner=winner,
            seconds=self.seconds(),
        )

    def voted(self) -> int:
        return sum(self.state(i).vote is not None for i in range(len(self)))

    def progress(self) -> str:
        return f"{self.voted()} of {len(self)} pairs voted · pair {self.position + 1} of {len(self)}"


# ---- the API the magics and notebooks call ---------------------------------------------------------
def rate(
    source: Any,
    rubric: str | Sequence[str] | Rubric = "1-5",
    *,
    annotator: str | None = None,
    columns: Mapping[str, str] | None = None,
    model: str | None = None,
    store: str | Path | None = None,
    advance: bool = True,
) -> RatingPanel:
    """A rating panel over a run (id or ``EvalResult``) or a DataFrame of items; see ``items`` for columns.

    Every click is saved at once; reopening resumes at the first item not yet rated. ``panel.session``
    records ratings from code with the same calls the buttons make (``choose``, ``skip``, ``note``, ...).
    """
    from .widgets import RatingPanel

    db = Store(getattr(source, "store_path", None) or store)
    session = RatingSession(
        items(source, columns=columns, model=model, store=db.path),
        Rubric.parse(rubric),
        annotator=annotator,
        store=db,
        advance=advance,
    )
    return RatingPanel(session)


def arena(
    *sources: Any,
    outputs: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    name: str | None = None,
    annotator: str | None = None,
    columns: Mapping[str, str] | None = None,
    seed: int = 0,
    store: str | Path | None = None,
    advance: bool = True,
) -> ArenaPanel:
    """A blind A/B panel over two or more runs (ids or ``EvalResult``s) or DataFrames of items.

    One DataFrame with a model column holding several names compares those models; ``outputs`` names
    several output columns of one DataFrame to compare instead. ``names`` renames the sources (one per
    source); ``name`` is the session's name in the store (default: the models, sorted).
    """
    from .widgets import ArenaPanel

    db = Store(next((s.store_path for s in sources if hasattr(s, "store_path")), None) or store)
    frame = arena_items(*sources, outputs=outputs, names=names, columns=columns, store=db.path)
    session = ArenaSession(
        frame,
        name=name or " vs ".join(sorted(frame["model"].unique())),
        annotator=annotator,
        store=db,
        seed=seed,
        advance=advance,
    )
    return ArenaPanel(session)


def arena_items(
    *sources: Any,
    outputs: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    columns: Mapping[str, str] | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """The items of an A/B session: every source's items, with model names made distinct."""
    if not sources:
        raise WorkbenchError("Give at least two runs, or one DataFrame holding several models' outputs.")
    if outputs:
        if len(sources) != 1 or not isinstance(sources[0], pd.DataFrame):
            raise WorkbenchError("outputs= names columns of one DataFrame; pass exactly one DataFrame with it.")
        frame = sources[0]
        parts = [items(frame, columns={**(columns or {}), "output": col}, model=col, name=col) for col in outputs]
    else:
        parts = [items(s, columns=columns, store=store) for s in sources]
    if names is not None:
        if len(names) != len(parts):
            raise WorkbenchError(f"names= needs one name per source ({len(parts)}), got {len(names)}.")
        parts = [p.assign(model=n) for p, n in zip(parts, names)]
    combined = pair_models(pd.concat(parts, ignore_index=True))
    # the key must follow the (possibly renamed) model, so renamed outputs are distinct items
    combined["item_key"] = [item_key(*r) for r in combined[["item_id", "model", "prompt", "output"]].itertuples(False)]
    return combined


def ratings(
    *, rubric: str | None = None, annotator: str | None = None, latest: bool = True, store: str | Path | None = None
) -> pd.DataFrame:
    """Ratings as a DataFrame: each annotator's current rating per item (``latest``), or every click.

    ``ratings(latest=False).to_csv(path, index=False)`` writes a file ``merge`` can read back.
    """
    events = Store(store).rating_events(rubric=rubric, annotator=annotator)
    if not latest:
        return events
    keys = ["rubric", "annotator", "item_key"]
    rated = events[events["action"] == "rate"].drop_duplicates(keys, keep="last").drop(columns=["note", "action"])
    notes = events[events["note"].notna()].drop_duplicates(keys, keep="last")[[*keys, "note"]]
    return rated.merge(notes, on=keys, how="left").reset_index(drop=True)


def votes(
    *, arena: str | None = None, annotator: str | None = None, latest: bool = True, store: str | Path | None = None
) -> pd.DataFrame:
    """Votes as a DataFrame: each annotator's current vote per pair (``latest``, skips left out), or every click."""
    events = Store(store).vote_events(arena=arena, annotator=annotator)
    if not latest:
        return events
    cast = events[events["vote"] != "skip"]
    latest_rows = cast.assign(_pair=_pairs(cast)).drop_duplicates(
        ["arena", "annotator", "item_id", "_pair"], keep="last"
    )
    return latest_rows.drop(columns="_pair").reset_index(drop=True)


def _pairs(vote_table: pd.DataFrame) -> pd.Series:
    """The two models of each vote in a fixed order, whichever side each was shown on."""
    pairs = [" | ".join(sorted(p)) for p in zip(vote_table["model_left"], vote_table["model_right"])]
    return pd.Series(pairs, index=vote_table.index, dtype=object)


def battles(vote_table: pd.DataFrame, *, both_bad: str = "tie") -> list[tuple[str, str, float]]:
    """(left model, right model, left's score) per vote, in vote order; ``both_bad`` 'tie' or 'drop'."""
    if both_bad not in ("tie", "drop"):
        raise WorkbenchError(f"both_bad must be 'tie' or 'drop', not {both_bad!r}.")
    rows = vote_table[vote_table["vote"].isin(VOTES)]
    if both_bad == "drop":
        rows = rows[rows["vote"] != "both_bad"]
    return [(a, b, VOTE_SCORE[v]) for a, b, v in zip(rows["model_left"], rows["model_right"], rows["vote"])]


def rankings(
    vote_table: pd.DataFrame | None = None,
    *,
    method: str = "both",
    rounds: int = 100,
    seed: int = 0,
    both_bad: str = "tie",
    arena: str | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Bradley-Terry and/or online Elo ratings from votes, with 95% bootstrap intervals and Arena ranks.

    ``vote_table`` defaults to ``votes(arena=arena)``. ``method``: 'bradley_terry', 'elo' or 'both'. Ties,
    and both-bad votes unless ``both_bad='drop'``, count half a win for each side.
    """
    from .metrics.ranking import rank_models

    methods = ["bradley_terry", "elo"] if method == "both" else [method]
    table = votes(arena=arena, store=store) if vote_table is None else vote_table
    fights = battles(table, both_bad=both_bad)
    rows = []
    for m in methods:
        try:
            ranked = rank_models(fights, m, rounds=rounds, seed=seed)
        except ValueError as exc:
            raise WorkbenchError(str(exc)) from exc
        rows += [{"method": m, **vars(r)} for r in ranked]
    columns = ["method", "rank", "model", "rating", "ci95_low", "ci95_high", "battles", "wins", "losses"]
    return pd.DataFrame(rows, columns=columns)


def ranking_figure(table: pd.DataFrame, title: str | None = None):
    """Plotly chart of a ``rankings`` table: each model's rating with its 95% interval."""
    from .charts import ranking_chart

    return ranking_chart(table, title)


def _long_form(frame: pd.DataFrame, rubric: str | None) -> tuple[pd.DataFrame, list[str] | None, str]:
    """(item, annotator, value) rows, the ordered categories and the default level for a ratings/votes table."""
    if {"rubric", "value", "item_key"} <= set(frame.columns):
        rubrics = frame["rubric"].unique().tolist()
        if rubric is None and len(rubrics) > 1:
            raise WorkbenchError(f"The ratings use several rubrics {rubrics}; choose one with rubric=...")
        part = frame[frame["rubric"] == (rubric or rubrics[0])] if rubrics else frame
        scale = json.loads(part["scale"].iloc[0]) if len(part) else None
        level = "ordinal" if scale and all(v.lstrip("-").isdigit() for v in scale) else "nominal"
        long = part.rename(columns={"item_key": "item"})[["item", "annotator", "value"]]
        if level == "ordinal":
            long = long.assign(value=long["value"].astype(int))
            scale = [int(v) for v in scale]
        return long, scale, level
    if {"vote", "winner", "model_left", "model_right"} <= set(frame.columns):
        cast = frame[frame["vote"].isin(VOTES)]
        item = cast["item_id"].astype(str) + " :: " + _pairs(cast)
        value = cast["winner"].where(~cast["vote"].isin(["tie", "both_bad"]), "tie")
        return pd.DataFrame({"item": item, "annotator": cast["annotator"], "value": value}), None, "nominal"
    if {"item", "annotator", "value"} <= set(frame.columns):
        return frame[["item", "annotator", "value"]], None, "nominal"
    raise WorkbenchError(
        "agreement() needs a ratings() or votes() table, or columns item, annotator and value; "
        f"got {list(frame.columns)}."
    )


def agreement(
    frame: pd.DataFrame | None = None,
    *,
    rubric: str | None = None,
    level: str | None = None,
    categories: Sequence[Any] | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Agreement between every pair of annotators, and among all of them, as a table.

    ``frame``: a ``ratings()`` table (default), a ``votes()`` table, or any table with columns item,
    annotator and value (an LLM judge can be one of the annotators). Columns: items both judged, agreement
    (share of equal verdicts; MT-Bench S1), agreement_no_ties (S2, pairs where neither vote is a tie; NaN
    when no verdict is a tie, e.g. for ratings),
    cohen_kappa, weighted_kappa (quadratic, ordered scales) and krippendorff_alpha at ``level`` (ordinal
    for numeric scales, nominal otherwise). The last row, 'all', pools every pair of annotators per item.
    """
    from .metrics.agreement import TIES, cohen_kappa, krippendorff_alpha, pairwise_agreement_rate

    long, scale, default_level = _long_form(ratings(store=store) if frame is None else frame, rubric)
    has_ties = long["value"].isin(TIES).any()  # S2 only means something for votes that can tie
    level = level or default_level
    cats = list(categories) if categories is not None else scale
    wide = long.drop_duplicates(["item", "annotator"], keep="last").pivot(
        index="item", columns="annotator", values="value"
    )
    wide = wide.astype(object).where(wide.notna(), None)
    raters = list(wide.columns)

    def row(label: str, names: Sequence[str]) -> dict[str, Any]:
        part = wide[list(names)]
        units = [list(r) for r in part.itertuples(index=False)]
        both = sum(sum(v is not None for v in u) >= 2 for u in units)
        s1 = pairwise_agreement_rate(units, include_ties=True)
        s2 = pairwise_agreement_rate(units, include_ties=False).rate if has_ties else math.nan
        out = {"raters": label, "items": both, "agreement": s1.rate, "agreement_no_ties": s2}
        two = len(names) == 2
        out["cohen_kappa"] = cohen_kappa(*(part[n].tolist() for n in names), categories=cats) if two else math.nan
        out["weighted_kappa"] = (
            cohen_kappa(*(part[n].tolist() for n in names), categories=cats, weights="quadratic")
            if two and level != "nominal"
            else math.nan
        )
        out["krippendorff_alpha"] = krippendorff_alpha([part[n].tolist() for n in names], level=level, categories=cats)
        return out

    rows = [row(f"{a} vs {b}", (a, b)) for a, b in itertools.combinations(raters, 2)]
    if len(raters) > 2:
        rows.append(row(f"all ({len(raters)} annotators)", raters))
    return pd.DataFrame(
        rows,
        columns=[
            "raters",
            "items",
            "agreement",
            "agreement_no_ties",
            "cohen_kappa",
            "weighted_kappa",
            "krippendorff_alpha",
        ],
    )


def merge(sources: Iterable[str | Path], *, store: str | Path | None = None) -> pd.DataFrame:
    """Add other people's ratings and votes into one store: their project stores (.sqlite) or CSV exports.

    CSV files are ``ratings(latest=False)`` or ``votes(latest=False)`` written with ``to_csv(index=False)``.
    Merging is idempotent: a judgment already present is not added twice. Returns rows added per source.
    """
    db = Store(store)
    report = []
    for src in sources:
        path = Path(src)
        if not path.is_file():
            raise WorkbenchError(f"No file {path}: give project stores (.sqlite) or CSV files from ratings()/votes().")
        if path.resolve() == db.path.resolve():
            continue
        tables = _read_csv(path) if path.suffix.lower() == ".csv" else _read_store(path)
        added = db.import_events(items=tables["judged_items"], ratings=tables["ratings"], votes=tables["votes"])
        report.append({"source": str(path), **{k: added[k] for k in ("judged_items", "ratings", "votes")}})
    return pd.DataFrame(report, columns=["source", "judged_items", "ratings", "votes"])


def _read_store(path: Path) -> dict[str, list[dict[str, Any]]]:
    import sqlite3

    try:
        return Store.read_tables(path)
    except sqlite3.DatabaseError as exc:
        raise WorkbenchError(f"{path} is not a workbench store (SQLite file): {exc}") from exc


def _read_csv(path: Path) -> dict[str, list[dict[str, Any]]]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    frame = frame.astype(object).where(frame.notna(), None)
    rows = frame.to_dict("records")
    for r in rows:
        for col in ("seconds", "created_at"):
            if r.get(col) is not None:
                r[col] = float(r[col])
    if {"rubric", "scale", "action"} <= set(frame.columns):
        return {"judged_items": rows, "ratings": rows, "votes": []}
    if {"arena", "vote", "left_key"} <= set(frame.columns):
        sides = [
            {
                "item_key": r[f"{side}_key"],
                "item_id": r["item_id"],
                "model": r[f"model_{side}"],
                "source": r.get(f"source_{side}"),
                "prompt": r.get(f"prompt_{side}"),
                "reference": r.get("reference"),
                "output": r.get(f"output_{side}"),
                "added_at": r["created_at"],
            }
            for r in rows
            for side in ("left", "right")
        ]
        return {"judged_items": sides, "ratings": [], "votes": rows}
    raise WorkbenchError(
        f"{path} is neither a ratings nor a votes export; write one with "
        "workbench.ratings(latest=False).to_csv(path, index=False) (or votes)."
    )
