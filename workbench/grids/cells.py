"""Running a grid's cells: each cell is a run of the one lifecycle, each row saved the moment its output exists.

A row's output comes from the generation cache when the same weights, full prompt and parameters were
generated before, else it is generated (each answer saved in ``generations`` and in the cell's run on
arrival). A grid that was interrupted resumes: its cells' unfinished runs are reopened and only the rows
they lack are produced, so nothing is lost (not even unseeded samples) and nothing is saved twice.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..metrics import catalog
from ..models.base import GenerateRequest, GenerateResponse, LocalModel, Model
from ..run import lifecycle
from ..run.records import stamp
from ..scoring import text_of
from ..store import Store, run_key
from .inputs import generation_key, render

Row = dict[str, Any]


@dataclass(frozen=True)
class Scoring:
    """How each row's output is scored: against which reference column, with which metrics."""

    reference: str | None
    metrics: list[str]
    lang: str | None


@dataclass
class Cell:
    """One prompt x model x parameter set: its full prompts and generation keys, row by row, and its run."""

    name: str
    template: str
    model: str
    identity: dict[str, Any]
    params: dict[str, Any]
    prompts: list[Any]
    keys: list[str]
    config: dict[str, Any]
    run: lifecycle.Run | None = None

    @property
    def opened(self) -> lifecycle.Run:
        assert self.run is not None, "the cell's run is opened before any row is saved"
        return self.run


def make_cell(
    name: str, template: str, model: str, identity: dict[str, Any], params: dict[str, Any], rows: Sequence[Row],
    config: dict[str, Any],
) -> Cell:  # fmt: skip
    prompts = [render_row(name, template, i, row, params) for i, row in enumerate(rows, 1)]
    keys = [generation_key(identity["fingerprint"], p, params)[0] for p in prompts]
    return Cell(name, template, model, identity, params, prompts, keys, config)


def render_row(name: str, template: str, i: int, row: Row, params: Mapping[str, Any]) -> str | list[dict[str, str]]:
    from ..errors import WorkbenchError

    try:
        return render(template, row, params)
    except (KeyError, IndexError, AttributeError, ValueError, TypeError) as exc:
        raise WorkbenchError(f"Prompt {name!r} could not be filled from row {i}: {exc!r}.") from None


def run_spec(cell: Cell, source: str, data_fp: str, command: str, n_rows: int) -> lifecycle.RunSpec:
    """The cell's run. Its key leaves out the grid's id, so running the same grid again resumes the cell."""
    key = {"task": "grid", "model": cell.identity["fingerprint"], "data": data_fp, "template": cell.template,
           "config": cell.config}  # fmt: skip
    return lifecycle.RunSpec(
        task="grid",
        model=cell.model,
        identity=cell.identity,
        source=source,
        data_fingerprint=data_fp,
        template=cell.template,
        config=cell.config,
        key=key,
        command=command,
        n_items=n_rows,
    )


def open_runs(db: Store, cells: Sequence[Cell], specs: Sequence[lifecycle.RunSpec], separate: bool = False) -> str:
    """Open every cell's run (resuming interrupted ones); returns the grid's id, kept from a resumed grid."""
    grid_id = ""
    for spec in specs:
        found = db.resumable_run(run_key(spec.key))
        if found:
            grid_id = db.run(found)["config"].get("grid_id", "")
            break
    grid_id = grid_id or uuid.uuid4().hex[:8]
    for cell, spec in zip(cells, specs):
        spec = dataclasses.replace(spec, config={"grid_id": grid_id, **spec.config})
        cell.run = lifecycle.start(db, spec, noun="rows", verb="saved", separate=separate)
    return grid_id


def record(cell: Cell, i: int, row: Row, text: str, cached: bool, scoring: Scoring) -> Row:
    out: Row = {"doc_id": i, "prompt": cell.prompts[i], "prediction": text}
    if scoring.reference:
        out["reference"] = text_of(row[scoring.reference])
        per_item = [n for n in scoring.metrics if n != "perplexity"]
        out.update(catalog.item_scores(per_item, text, out["reference"], scoring.lang))
    out.update(cached=cached, gen_key=cell.keys[i])
    return stamp(out, row)


def load_models(db: Store, cells: Sequence[Cell]) -> dict[str, Model]:
    """The models with outputs the cache lacks, loaded before any run exists (a model that cannot load leaves
    no failed cell behind)."""
    from .. import models

    cached = db.cached_generations([k for c in cells for k in c.keys if not k.startswith("once:")])
    needed = dict.fromkeys(c.model for c in cells for k in c.keys if k not in cached)
    return {m: models.load(m) for m in needed}


def fill(
    db: Store, cells: Sequence[Cell], rows: Sequence[Row], scoring: Scoring, lms: dict[str, Model], batch_size: int
) -> None:
    """Save every missing row of every cell: from the cache at once, else as soon as it is generated."""
    waiting: dict[str, list[tuple[Cell, int]]] = {}  # generation key -> the (cell, row) pairs that need it
    for cell in cells:
        for i in range(len(rows)):
            if i not in cell.opened.done:
                waiting.setdefault(cell.keys[i], []).append((cell, i))

    def deliver(key: str, text: str, from_cache: bool) -> None:
        by_cell: dict[int, list[Row]] = {}
        for cell, i in waiting.pop(key, []):
            by_cell.setdefault(id(cell), []).append(record(cell, i, rows[i], text, from_cache, scoring))
        for cell in cells:
            if id(cell) in by_cell:
                cell.opened.save(by_cell.pop(id(cell)))

    cached = db.cached_generations([k for k in waiting if not k.startswith("once:")])
    for key in [k for k in waiting if k in cached]:
        deliver(key, cached[key]["text"], True)
    for model in dict.fromkeys(pairs[0][0].model for pairs in waiting.values()):
        todo = [(key, *pairs[0]) for key, pairs in waiting.items() if pairs[0][0].model == model]
        generate(db, lms[model], todo, deliver, batch_size)


def generate(
    db: Store,
    lm: Model,
    todo: Sequence[tuple[str, Cell, int]],
    deliver: Callable[[str, str, bool], None],
    batch_size: int,
) -> None:
    """Generate one model's missing outputs; each answer is saved (generation and rows) on arrival."""
    from tqdm.auto import tqdm

    from ..engine.answering import advance, answer_each

    model = todo[0][1].model
    requests = [
        GenerateRequest(cell.prompts[i], max_new_tokens=cell.params["max_new_tokens"],
                        temperature=cell.params["temperature"], stop=tuple(cell.params["stop"]),
                        seed=cell.params["seed"])
        for _, cell, i in todo
    ]  # fmt: skip
    last = [time.time()]

    def on_answer(k: int, response: GenerateResponse) -> None:
        key, cell, i = todo[k]
        now = time.time()
        params = {name: cell.params[name] for name in ("max_new_tokens", "temperature", "stop", "seed")}
        db.add_generations(
            [
                {
                    "gen_key": key,
                    "cacheable": not key.startswith("once:"),
                    "model": model,
                    "model_fingerprint": cell.identity["fingerprint"],
                    "prompt": cell.prompts[i],
                    "params": params,
                    "text": response.text,
                    "prompt_tokens": response.prompt_tokens,
                    "completion_tokens": response.completion_tokens,
                    "seconds": now - last[0],
                }
            ]
        )
        last[0] = now
        deliver(key, response.text, False)

    with tqdm(total=len(todo), desc=f"grid | {model}", unit="gen") as bar:
        answer_each(lm, requests, on_answer, batch_size=batch_size, progress=advance(bar))


def add_perplexities(lm: LocalModel, cells: Sequence[Cell]) -> None:
    """Token perplexity (under ``model``) of each distinct non-empty output, added to the rows lacking it."""
    from ..metrics.perplexity import perplexity

    missing = {id(c): [r for r in c.opened.records() if "perplexity" not in r] for c in cells}
    unique = [t for t in dict.fromkeys(r["prediction"] for rs in missing.values() for r in rs) if t.strip()]
    scores: dict[str, float] = {}
    if unique:
        lls = lm.rolling_loglikelihood(unique)
        scores = {t: perplexity(sum(ll), len(lm.encode(t))) for t, ll in zip(unique, lls)}
    for cell in cells:
        cell.opened.save([{**r, "perplexity": scores.get(r["prediction"])} for r in missing[id(cell)]])
