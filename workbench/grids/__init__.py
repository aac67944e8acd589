"""Prompt grids: prompt templates x models x generation parameters over rows, every cell saved and scored.

    workbench.grid({"plain": "Translate to Korean: {source}", "polite": "..."}, ["smollm2-135m"],
                   rows="flores:en-ko", reference="target", metrics=["chrf", "bleu"], limit=20)

Each cell (one prompt, one model, one parameter set) becomes a run (task ``grid``) whose items are the rows,
so any two cells can be compared with :func:`workbench.compare`. Every generation is saved in the store's
``generations`` table, which is also the cache: a generation is reused when the model's weights, the full
prompt and the parameters are the same, so re-running a grid after editing one prompt only generates that
prompt's cells. Sampling (temperature > 0) is reused only when a seed is fixed. An interrupted grid resumes
when the same call is repeated.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import options
from ..errors import WorkbenchError, check_count
from ..metrics import catalog
from ..models import DEFAULT_MODEL
from ..scoring import RowsLike, as_rows, columns_of, require_references
from ..store import Store
from .cells import Cell, Scoring, add_perplexities, fill, load_models, make_cell, open_runs, run_spec
from .inputs import DEFAULT_PARAMS, generation_key, named_prompts, param_sets, params_label, placeholders, render
from .result import GridResult

__all__ = [
    "DEFAULT_PARAMS",
    "GridResult",
    "generation_key",
    "grid",
    "named_prompts",
    "param_sets",
    "params_label",
    "placeholders",
    "render",
]
Row = dict[str, Any]


def grid(
    prompts: str | Sequence[str] | Mapping[str, str],
    models: str | Sequence[str] = DEFAULT_MODEL,
    rows: RowsLike | None = None,
    *,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    reference: str | None = None,
    metrics: Sequence[str] | str | None = None,
    lang: str | None = None,
    limit: int | None = None,
    ppl_model: str = DEFAULT_MODEL,
    batch_size: int = 8,
    store: str | Path | None = None,
    command: str | None = None,
    separate: bool = False,
) -> GridResult:
    """Generate every prompt x model x parameter cell over the rows, score against ``reference``, save.

    ``params`` maps a generation parameter (temperature, max_new_tokens, system, chat, seed, stop) to a
    value or a list of values; lists are crossed. ``metrics`` default to chrF and ROUGE-L when there is a
    reference; 'perplexity' scores each output under ``ppl_model``; ``evaluate:NAME`` or a metric script's path uses a
    Hugging Face evaluate metric. Everything is checked before anything is generated or saved; repeating an
    interrupted call resumes it.
    """
    from .. import models as model_registry
    from ..data import fingerprint

    check_count("batch_size", batch_size, 1, required=True)
    check_count("limit", limit, 1)
    templates = named_prompts(prompts)
    model_names = [models] if isinstance(models, str) else [m for m in models if m]
    if not model_names:
        raise WorkbenchError(f"A grid needs at least one model, e.g. models=['{DEFAULT_MODEL}'].")
    combos = param_sets(params)
    names = catalog.check_metrics(metrics if metrics is not None else (["chrf", "rougeL"] if reference else []))
    against = [n for n in names if not catalog.metric(n).needs_model]
    if against and not reference:
        raise WorkbenchError(
            f"Metrics {', '.join(against)} compare outputs with a reference: name the reference column with "
            "reference=... (--reference)."
        )
    data, source = as_rows(rows, limit=limit) if rows is not None else ([{}], "none")
    columns = columns_of(data)
    for name, template in templates.items():
        for field in placeholders(name, template):
            missing = [i for i, r in enumerate(data, 1) if field not in r]
            if missing:
                raise WorkbenchError(
                    f"Prompt {name!r} uses {{{field}}}, which the rows do not have (row {missing[0]}). "
                    f"Columns: {', '.join(columns) or '(none)'}."
                )
    if reference:
        require_references(data, reference)
    identities = {m: model_registry.describe(m) for m in model_names}
    if "perplexity" in names:
        model_registry.describe(ppl_model)  # an unknown perplexity model is refused before anything runs
    scoring = Scoring(reference, names, lang)
    values = {"prompts": templates, "models": model_names, "rows": source, "reference": reference, "metrics": names,
              "params": params, "limit": limit, "lang": lang, "store": store, "batch_size": batch_size,
              "ppl_model": ppl_model if "perplexity" in names else None, "separate": separate}  # fmt: skip
    cells = [
        make_cell(pname, template, model, identities[model], combo, data, _config(pname, combo, values))
        for (pname, template), model, combo in itertools.product(templates.items(), model_names, combos)
    ]

    db = Store(store)
    data_fp = fingerprint(data)
    call = command or options.call_text("grid", options.GRID, values, list(templates))
    lms = load_models(db, cells)
    scorer = model_registry.load_local(ppl_model) if "perplexity" in names else None
    grid_id = open_runs(db, cells, [run_spec(c, source, data_fp, call, len(data)) for c in cells], separate)
    with contextlib.ExitStack() as stack:
        for cell in cells:
            stack.enter_context(cell.opened.recording(share=1 / len(cells)))
        fill(db, cells, data, scoring, lms, batch_size)
        if scorer is not None:
            add_perplexities(scorer, cells)
        results = [cell.opened.records() for cell in cells]
    for cell, records in zip(cells, results):
        cell.opened.finish(catalog.aggregate(names, records, lang=lang) if names else {"n": len(records)})
    result = _result(db, grid_id, cells, results, scoring)
    print(f"grid {grid_id}: {len(cells)} cells x {len(data)} rows. {result.note}")
    return result


def _config(name: str, params: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A cell's recorded config: its prompt's name and parameter set, then the grid's options."""
    cell = {"prompt_name": name, "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}}
    return {**cell, **options.config(options.GRID, values)}


def _result(
    db: Store, grid_id: str, cells: Sequence[Cell], results: Sequence[list[Row]], scoring: Scoring
) -> GridResult:
    import pandas as pd

    frame_rows, cell_rows, resumed = [], [], 0
    ran = [db.run(cell.opened.run_id)["metrics"] or {} for cell in cells]
    names = catalog.columns(scoring.metrics, dict.fromkeys(k for m in ran for k in m))  # evaluate:rouge.rouge1, ...
    for cell, records, metrics in zip(cells, results, ran):
        run = cell.opened
        label = params_label(cell.params)
        n_cached = sum(bool(r["cached"]) for r in records)
        resumed += len(run.done)
        cell_rows.append(
            {
                "prompt": cell.name,
                "model": cell.model,
                "params": label,
                "n": len(records),
                "from_cache": n_cached,
                "generated": len(records) - n_cached,
                "run_id": run.run_id,
                **_cell_metrics(names, metrics),
            }
        )
        for r in records:
            prompt = r["prompt"] if isinstance(r["prompt"], str) else r["prompt"][-1]["content"]
            frame_rows.append(
                {
                    "row": r["doc_id"],
                    "prompt": cell.name,
                    "model": cell.model,
                    "params": label,
                    "prompt_text": prompt,
                    "prediction": r["prediction"],
                    **({"reference": r["reference"]} if scoring.reference else {}),
                    **{n: r.get(n) for n in names},
                    "cached": r["cached"],
                    "run_id": run.run_id,
                }
            )
    n_cached = sum(c["from_cache"] for c in cell_rows)
    frame, table = pd.DataFrame(frame_rows), pd.DataFrame(cell_rows)
    return GridResult(grid_id, frame, table, names, n_cached, len(frame_rows) - n_cached, db.path, resumed)


def _cell_metrics(names: Sequence[str], metrics: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        lo, hi = metrics.get(f"{name}_ci95") or (float("nan"), float("nan"))
        out.update({name: metrics.get(name), f"{name}_ci95_low": lo, f"{name}_ci95_high": hi})
    return out
