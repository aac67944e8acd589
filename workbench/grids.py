"""Prompt grids: prompt templates x models x generation parameters over rows, every cell saved and scored.

    workbench.grid({"plain": "Translate to Korean: {source}", "polite": "..."}, ["smollm2-135m"],
                   rows="flores:en-ko", reference="target", metrics=["chrf", "bleu"], limit=20)

Each cell (one prompt, one model, one parameter set) becomes a complete run (task ``grid``) whose items are
the rows, so any two cells can be compared with :func:`workbench.compare`. Every generation is saved in the
store's ``generations`` table, which is also the cache: a generation is reused when the model's weights, the
full prompt and the parameters are the same, so re-running a grid after editing one prompt only generates
that prompt's cells. Sampling (temperature > 0) is reused only when a seed is fixed.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import string
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import WorkbenchError, suggest
from .metrics import catalog
from .models import DEFAULT_MODEL
from .scoring import RowsLike, as_rows, call_text, columns_of, require_references, save_run, text_of
from .store import Store

Row = dict[str, Any]
DEFAULT_PARAMS: dict[str, Any] = {
    "temperature": 0.0,
    "max_new_tokens": 64,
    "system": None,  # a system prompt (chat models)
    "chat": True,  # wrap the prompt in the model's chat template; False sends the raw text
    "seed": None,
    "stop": (),
}
PARAM_ALIASES = {"max_tokens": "max_new_tokens", "system_prompt": "system"}


# ---- inputs ---------------------------------------------------------------------------------------------
def named_prompts(prompts: str | Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    """Templates by name: a mapping as given, a list as p1, p2, ..."""
    if isinstance(prompts, str):
        prompts = [prompts]
    named = dict(prompts) if isinstance(prompts, Mapping) else {f"p{i}": t for i, t in enumerate(prompts, 1)}
    named = {str(k): t for k, t in named.items() if isinstance(t, str) and t.strip()}
    if not named:
        raise WorkbenchError("A grid needs at least one prompt template, e.g. 'Summarise: {text}'.")
    return named


def placeholders(name: str, template: str) -> list[str]:
    """The {names} a template uses; positional or malformed fields are refused with the prompt's name."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise WorkbenchError(
            f"Prompt {name!r} is not a valid template ({exc}). Write placeholders as {{column}} and literal "
            "braces as {{{{ and }}}}."
        ) from None
    out = []
    for f in fields:
        base = f.split(".")[0].split("[")[0]
        if not base or base.isdigit():
            raise WorkbenchError(f"Prompt {name!r} has a placeholder without a column name ({{{f}}}).")
        out.append(base)
    return list(dict.fromkeys(out))


def param_sets(params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Every combination of generation parameters: a mapping of lists is expanded (cartesian product)."""
    if params is None:
        combos: list[Mapping[str, Any]] = [{}]
    elif isinstance(params, Mapping):
        keys = list(params)
        values = [v if isinstance(v, (list, tuple)) and k != "stop" else [v] for k, v in params.items()]
        combos = [dict(zip(keys, vs)) for vs in itertools.product(*values)]
    else:
        combos = list(params) or [{}]
    out = []
    for combo in combos:
        full = dict(DEFAULT_PARAMS)
        for key, value in combo.items():
            key = PARAM_ALIASES.get(key, key)
            if key not in DEFAULT_PARAMS:
                raise WorkbenchError(
                    f"Unknown generation parameter {key!r}.{suggest(key, DEFAULT_PARAMS)} "
                    f"Grid parameters: {', '.join(DEFAULT_PARAMS)}."
                )
            full[key] = value
        full["temperature"] = float(full["temperature"])
        full["max_new_tokens"] = int(full["max_new_tokens"])
        full["stop"] = tuple([full["stop"]] if isinstance(full["stop"], str) else full["stop"] or ())
        if full["temperature"] < 0 or full["max_new_tokens"] < 1:
            raise WorkbenchError("temperature must be >= 0 and max_new_tokens >= 1.")
        if full not in out:
            out.append(full)
    return out


def params_label(params: Mapping[str, Any]) -> str:
    """The parameters that differ from the defaults, e.g. 'temperature=0.7, seed=1' ('defaults' if none)."""
    changed = [f"{k}={params[k]!r}" if isinstance(params[k], str) else f"{k}={params[k]}" for k in DEFAULT_PARAMS]
    changed = [c for c, k in zip(changed, DEFAULT_PARAMS) if params[k] != DEFAULT_PARAMS[k]]
    return ", ".join(changed) or "defaults"


def render(template: str, row: Row, params: Mapping[str, Any]) -> str | list[dict[str, str]]:
    """The full prompt sent to the model: text, or chat messages (system prompt first when given)."""
    text = template.format_map({k: v if isinstance(v, (dict, list)) else text_of(v) for k, v in row.items()})
    if not params["chat"]:
        return text if params["system"] is None else f"{params['system']}\n\n{text}"
    messages = [{"role": "system", "content": params["system"]}] if params["system"] else []
    return messages + [{"role": "user", "content": text}]


def generation_key(model_fingerprint: str, prompt: str | list, params: Mapping[str, Any]) -> tuple[str, bool]:
    """(cache key, cacheable): sha256 of model weights + full prompt + generation parameters. Sampling without
    a seed is not cacheable and gets a one-off key."""
    gen = {k: params[k] for k in ("max_new_tokens", "temperature", "stop", "seed")}
    cacheable = gen["temperature"] == 0 or gen["seed"] is not None
    if not cacheable:
        return f"once:{uuid.uuid4().hex}", False
    blob = json.dumps({"model": model_fingerprint, "prompt": prompt, "params": gen}, sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest(), True


# ---- the result -----------------------------------------------------------------------------------------
@dataclass
class GridResult:
    """A finished grid: ``frame`` (one row per row x prompt x model x params), ``cells`` (one row per cell),
    the heatmap (``figure``) and the outputs behind any cell (``outputs``, ``open``, ``browser``)."""

    grid_id: str
    frame: Any
    cells: Any
    metrics: list[str]
    from_cache: int
    generated: int
    store_path: Path

    @property
    def note(self) -> str:
        total = self.from_cache + self.generated
        return f"{total} generations: {self.from_cache} from the cache, {self.generated} generated."

    def figure(self, metric: str | None = None):
        """Heatmap prompt x model (x params): colour = mean score, hover = n and 95% interval."""
        from .charts import grid_heatmap

        return grid_heatmap(self.cells, metric or (self.metrics[0] if self.metrics else None))

    def outputs(self, prompt: str | None = None, model: str | None = None, params: str | None = None):
        """The rows behind one cell (or all cells matching the given names) as a DataFrame."""
        frame = self.frame
        for column, value in (("prompt", prompt), ("model", model), ("params", params)):
            if value is not None:
                if value not in set(frame[column]):
                    known = ", ".join(map(repr, dict.fromkeys(self.frame[column])))
                    raise WorkbenchError(f"No cell with {column} {value!r}; the grid has {known}.")
                frame = frame[frame[column] == value]
        return frame.reset_index(drop=True)

    def outputs_html(self, prompt: str | None = None, model: str | None = None, params: str | None = None) -> str:
        """The outputs behind a cell as an HTML table; every text is escaped (model outputs are untrusted)."""
        frame = self.outputs(prompt, model, params)
        columns = ["row", "prompt_text", "prediction", *(c for c in ("reference",) if c in frame), *self.metrics]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='white-space:pre-wrap'>{_cell(r[c])}</td>" for c in columns) + "</tr>"
            for r in frame.to_dict(orient="records")
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def open(self, prompt: str | None = None, model: str | None = None, params: str | None = None):
        """Show the outputs behind a cell in the notebook (escaped HTML)."""
        from IPython.display import HTML

        return HTML(self.outputs_html(prompt, model, params))

    def browser(self):
        """A dropdown of cells; choosing one shows its outputs (escaped) below it."""
        import ipywidgets as widgets

        options = [
            (html.escape(f"{c['prompt']} | {c['model']} | {c['params']}"), (c["prompt"], c["model"], c["params"]))
            for c in self.cells.to_dict(orient="records")
        ]
        pick = widgets.Dropdown(options=options, description="cell")
        view = widgets.HTML(self.outputs_html(*options[0][1]))
        pick.observe(lambda change: setattr(view, "value", self.outputs_html(*change["new"])), names="value")
        return widgets.VBox([pick, view])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


# ---- the grid -------------------------------------------------------------------------------------------
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
) -> GridResult:
    """Generate every prompt x model x parameter cell over the rows, score against ``reference``, save.

    ``params`` maps a generation parameter (temperature, max_new_tokens, system, chat, seed, stop) to a
    value or a list of values; lists are crossed. ``metrics`` default to chrF and ROUGE-L when there is a
    reference; 'perplexity' scores each output under ``ppl_model``. Everything is checked before anything
    is generated or saved.
    """
    from . import models as model_registry
    from .data import fingerprint

    templates = named_prompts(prompts)
    model_names = [models] if isinstance(models, str) else [m for m in models if m]
    if not model_names:
        raise WorkbenchError(f"A grid needs at least one model, e.g. models=['{DEFAULT_MODEL}'].")
    combos = param_sets(params)
    names = catalog.check_metrics(metrics if metrics is not None else (["chrf", "rougeL"] if reference else []))
    if any(not catalog.METRICS[n].needs_model for n in names) and not reference:
        raise WorkbenchError(
            f"Metrics {', '.join(n for n in names if not catalog.METRICS[n].needs_model)} compare outputs with a "
            "reference: name the reference column with reference=... (--reference)."
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
        identities.setdefault(ppl_model, model_registry.describe(ppl_model))

    # every request of every cell, and which of them the cache already answers
    db = Store(store)
    cells = []
    for (pname, template), model, combo in itertools.product(templates.items(), model_names, combos):
        fp = identities[model]["fingerprint"]
        prompts_ = [_render(pname, template, i, row, combo) for i, row in enumerate(data, 1)]
        keys = [generation_key(fp, p, combo) for p in prompts_]
        cells.append({"prompt": pname, "template": template, "model": model, "params": combo, "texts": prompts_})
        cells[-1]["keys"] = keys
    cached = db.cached_generations([k for c in cells for k, ok in c["keys"] if ok])
    started = time.time()
    fresh = _generate(db, cells, cached, identities, batch_size)
    outputs = {**cached, **fresh}
    ppl = (
        _perplexities(ppl_model, [outputs[k]["text"] for c in cells for k, _ in c["keys"]])
        if "perplexity" in names
        else {}
    )

    # score and save one run per cell
    import pandas as pd

    grid_id = uuid.uuid4().hex[:8]
    data_fp = fingerprint(data)
    call = command or call_text("grid", [list(templates)], {"models": model_names, "rows": source, "limit": limit})
    frame_rows, cell_rows = [], []
    seconds = (time.time() - started) / max(1, len(cells))
    for cell in cells:
        records = []
        for i, (row, prompt, (key, _)) in enumerate(zip(data, cell["texts"], cell["keys"])):
            out = outputs[key]
            pred = out["text"]
            record: Row = {"doc_id": i, "prompt": prompt, "prediction": pred}
            if reference:
                record["reference"] = text_of(row[reference])
                record.update(catalog.item_scores(names, pred, record["reference"], lang))
            if "perplexity" in names:
                record["perplexity"] = ppl.get(pred)
            record.update(cached=key in cached, gen_key=key)
            records.append(record)
        metrics_ = catalog.aggregate(names, records, lang=lang) if names else {"n": len(records)}
        label = params_label(cell["params"])
        config = {
            "grid_id": grid_id,
            "prompt_name": cell["prompt"],
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in cell["params"].items()},
            "reference": reference,
            "metrics": names,
            "lang": lang,
            "limit": limit,
            "ppl_model": ppl_model if "perplexity" in names else None,
        }
        run_id = save_run(
            db,
            task="grid",
            model=cell["model"],
            identity=identities[cell["model"]],
            source=source,
            data_fingerprint=data_fp,
            template=cell["template"],
            config=config,
            command=call,
            records=records,
            metrics=metrics_,
            seconds=seconds,
        )
        n_cached = sum(r["cached"] for r in records)
        cell_rows.append(
            {
                "prompt": cell["prompt"],
                "model": cell["model"],
                "params": label,
                "n": len(records),
                "from_cache": n_cached,
                "generated": len(records) - n_cached,
                "run_id": run_id,
                **_cell_metrics(names, metrics_),
            }
        )
        for record in records:
            frame_rows.append(
                {
                    "row": record["doc_id"],
                    "prompt": cell["prompt"],
                    "model": cell["model"],
                    "params": label,
                    "prompt_text": record["prompt"]
                    if isinstance(record["prompt"], str)
                    else record["prompt"][-1]["content"],
                    "prediction": record["prediction"],
                    **({"reference": record["reference"]} if reference else {}),
                    **{n: record.get(n) for n in names},
                    "cached": record["cached"],
                    "run_id": run_id,
                }
            )
    n_cached = sum(c["from_cache"] for c in cell_rows)
    result = GridResult(
        grid_id,
        pd.DataFrame(frame_rows),
        pd.DataFrame(cell_rows),
        names,
        n_cached,
        len(frame_rows) - n_cached,
        db.path,
    )
    print(f"grid {grid_id}: {len(cells)} cells x {len(data)} rows. {result.note}")
    return result


def _render(name: str, template: str, i: int, row: Row, params: Mapping[str, Any]) -> str | list[dict[str, str]]:
    try:
        return render(template, row, params)
    except (KeyError, IndexError, AttributeError, ValueError, TypeError) as exc:
        raise WorkbenchError(f"Prompt {name!r} could not be filled from row {i}: {exc!r}.") from None


def _cell_metrics(names: Sequence[str], metrics: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        lo, hi = metrics.get(f"{name}_ci95") or (float("nan"), float("nan"))
        out.update({name: metrics.get(name), f"{name}_ci95_low": lo, f"{name}_ci95_high": hi})
    return out


def _generate(db: Store, cells: list[dict], cached: Mapping[str, Any], identities, batch_size: int) -> dict:
    """Generate what the cache lacks, model by model; each chunk is saved as soon as it is generated."""
    from . import models as model_registry
    from .models.base import GenerateRequest

    fresh: dict[str, dict[str, Any]] = {}
    for model in dict.fromkeys(c["model"] for c in cells):
        todo: dict[str, tuple[Any, dict]] = {}
        for cell in cells:
            if cell["model"] != model:
                continue
            for prompt, (key, _) in zip(cell["texts"], cell["keys"]):
                if key not in cached and key not in todo:
                    todo[key] = (prompt, cell["params"])
        if not todo:
            continue
        lm = model_registry.load(model)
        items = list(todo.items())
        step = max(1, 4 * batch_size)
        from tqdm.auto import tqdm

        with tqdm(total=len(items), desc=f"grid | {model}", unit="gen") as bar:
            for start in range(0, len(items), step):
                chunk = items[start : start + step]
                t0 = time.time()
                requests = [
                    GenerateRequest(
                        prompt,
                        max_new_tokens=p["max_new_tokens"],
                        temperature=p["temperature"],
                        stop=tuple(p["stop"]),
                        seed=p["seed"],
                    )
                    for _, (prompt, p) in chunk
                ]
                responses = lm.generate(requests, batch_size=batch_size, progress=bar.update)
                each = (time.time() - t0) / len(chunk)
                rows = []
                for (key, (prompt, p)), response in zip(chunk, responses):
                    row = {
                        "gen_key": key,
                        "cacheable": not key.startswith("once:"),
                        "model": model,
                        "model_fingerprint": identities[model]["fingerprint"],
                        "prompt": prompt,
                        "params": {k: p[k] for k in ("max_new_tokens", "temperature", "stop", "seed")},
                        "text": response.text,
                        "prompt_tokens": response.prompt_tokens,
                        "completion_tokens": response.completion_tokens,
                        "seconds": each,
                    }
                    rows.append(row)
                    fresh[key] = row
                db.add_generations(rows)
    return fresh


def _perplexities(model: str, texts: Sequence[str]) -> dict[str, float]:
    """Token perplexity of each distinct non-empty text under ``model`` (rolling windows)."""
    from . import models as model_registry
    from .metrics.perplexity import perplexity

    unique = [t for t in dict.fromkeys(texts) if t.strip()]
    if not unique:
        return {}
    lm = model_registry.load(model)
    lls = lm.rolling_loglikelihood(unique)
    return {t: perplexity(sum(ll), len(lm.encode(t))) for t, ll in zip(unique, lls)}
