"""Scoring text you already have: predictions against references (no model), and the perplexity of any text.

    workbench.score("outputs.csv", ["bleu", "chrf", "rougeL"], prediction="pred", reference="gold")
    workbench.perplexity(["Some text.", "더 많은 텍스트."], model="smollm2-135m")

Rows come from a DataFrame, a list of dicts or strings, a file (JSONL/JSON/CSV/TSV/Parquet) or a task's
evaluation split. Bad input (a missing column, an empty reference, an unknown metric) is refused before
anything is written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import options
from .errors import WorkbenchError
from .metrics import catalog
from .models import DEFAULT_MODEL
from .store import Store

Row = dict[str, Any]
RowsLike = Any  # DataFrame | list[dict] | list[str] | str | Path (file or task name)


# ---- rows in ------------------------------------------------------------------------------------------
def as_rows(data: RowsLike, *, limit: int | None = None, text_column: str = "text") -> tuple[list[Row], str]:
    """Plain dict rows and a description of where they came from.

    Strings in a list become ``{text_column: s}``; a string that names an existing file is read; a string
    that names a task gives that task's evaluation rows.
    """
    from .data import load_rows, read_rows

    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        rows, source = [dict(r) for r in data.to_dict(orient="records")], "dataframe"
    elif isinstance(data, (str, Path)):
        path = Path(data).expanduser()
        if path.exists():
            rows, source = read_rows(path), f"file:{path.resolve()}"
        else:
            from .tasks import REGISTRY

            if str(data) not in REGISTRY:
                raise WorkbenchError(
                    f"{str(data)!r} is neither an existing file nor a task name. Pass a file path "
                    "(JSONL/JSON/CSV/TSV/Parquet), a DataFrame, a list of rows, or a task (`workbench tasks`)."
                )
            spec = REGISTRY[str(data)]
            loaded = load_rows(spec.data, spec.eval_split)
            rows, source = list(loaded.rows), f"{data}:{loaded.source}"
    elif isinstance(data, Sequence) and all(isinstance(r, str) for r in data):
        rows, source = [{text_column: r} for r in data], "inline"
    elif isinstance(data, Sequence) and all(isinstance(r, dict) for r in data):
        rows, source = [dict(r) for r in data], "inline"
    else:
        raise WorkbenchError(
            f"Rows must be a DataFrame, a list of dicts or strings, a file path or a task name; got "
            f"{type(data).__name__}."
        )
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise WorkbenchError(f"limit must be a whole number of at least 1 (got {limit!r}).")
        rows = rows[:limit]
    if not rows:
        raise WorkbenchError(
            f"No rows to score: {source} is empty. Pass at least one row (a text, a dict, or a file with rows)."
        )
    return rows, source


def columns_of(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def require_columns(rows: Sequence[Row], needed: Sequence[str], role: str) -> None:
    """Every row has each needed column, or a message naming the column, the row and the columns there are."""
    for name in needed:
        for i, row in enumerate(rows, start=1):
            if name not in row:
                raise WorkbenchError(
                    f"{role} column {name!r} is missing (row {i}). The rows have columns: "
                    f"{', '.join(columns_of(rows))}."
                )


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip()


def require_references(rows: Sequence[Row], reference: str) -> None:
    """References must be present and non-empty: an empty reference makes every metric meaningless."""
    require_columns(rows, [reference], "Reference")
    for i, row in enumerate(rows, start=1):
        if is_blank(row[reference]):
            raise WorkbenchError(
                f"Row {i} has an empty reference in column {reference!r}. Every row needs a reference to score "
                "against: fill it in or drop the row."
            )


def text_of(value: Any) -> str:
    return "" if is_blank(value) else str(value)


# ---- stand-alone scoring ------------------------------------------------------------------------------
@dataclass
class ScoreResult:
    """Per-row scores (``samples``), metrics per group, and saved run ids when ``save=True``."""

    samples: Any
    metrics: dict[str, dict[str, Any]]
    run_ids: dict[str, str] = field(default_factory=dict)
    name: str = "score"

    def summary(self):
        """One row per group and metric: value, standard error, 95% interval, items."""
        import pandas as pd

        from .tables import metrics_table

        parts = [
            metrics_table({"task": self.name, "model": g, "metrics": m, "run_id": self.run_ids.get(g, "")})
            for g, m in self.metrics.items()
        ]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def figure(self):
        """Bars per metric and group with 95% intervals."""
        from .charts import metric_bars

        return metric_bars(self.summary(), title=f"{self.name}: {len(self.samples)} rows")


def score(
    data: RowsLike,
    metrics: Sequence[str] | str = ("bleu", "chrf", "rougeL"),
    *,
    prediction: str = "prediction",
    reference: str = "reference",
    by: str | None = None,
    key: str | None = None,
    lang: str | None = None,
    limit: int | None = None,
    save: bool = False,
    name: str = "score",
    store: str | Path | None = None,
    command: str | None = None,
) -> ScoreResult:
    """Score existing predictions against references, without a model.

    ``metrics``: our names (bleu, chrf, rougeL, exact_match, ...) or Hugging Face evaluate metrics, ``evaluate:NAME``
    or a metric script's path (docs/metrics.md). ``by`` scores each group separately (e.g. one per system); ``key``
    names an item id column so saved runs of different groups line up item by item for :func:`workbench.compare`.
    ``lang`` picks BLEU's tokenizer (e.g. 'ko'; default: from the references' script). ``save=True`` stores each
    group as a complete run (task ``name``).
    """
    import pandas as pd

    from .data import fingerprint
    from .run import lifecycle
    from .run.records import stamp

    names = catalog.check_metrics(metrics, allow_model=False)
    if not names:
        raise WorkbenchError(f"No metrics given. Available metrics: {', '.join(catalog.METRICS)}.")
    rows, source = as_rows(data, limit=limit)
    values = {"data": data, "metrics": names, "prediction": prediction, "reference": reference, "by": by, "key": key,
              "lang": lang, "limit": limit, "save": save, "store": store, "name": name}  # fmt: skip
    require_columns(rows, [prediction], "Prediction")
    require_references(rows, reference)
    require_columns(rows, [c for c in (by, key) if c], "Grouping" if by else "Key")
    ids = {k: i for i, k in enumerate(dict.fromkeys(str(r[key]) for r in rows))} if key else {}
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(str(row[by]) if by else prediction, []).append(row)
    scored, per_group, by_group, run_ids = [], {}, {}, {}
    for group, members in groups.items():  # every group scored before any is saved: a metric that fails saves none
        records = []
        for i, row in enumerate(members):
            pred, ref = text_of(row[prediction]), text_of(row[reference])
            doc_id = ids[str(row[key])] if key else i
            scores = catalog.item_scores(names, pred, ref, lang)
            # the item, not this group's output: its key, else its place among the rows and its reference
            identity = {"key": str(row[key])} if key else {"row": doc_id, "reference": ref}
            records.append(stamp({"doc_id": doc_id, "prediction": pred, "reference": ref, **scores}, identity))
        per_group[group], by_group[group] = catalog.aggregate(names, records, lang=lang), records
        values_of = catalog.columns(names, dict.fromkeys(k for r in records for k in r))
        scored += [{**row, **{n: r[n] for n in values_of if n in r}} for row, r in zip(members, records)]
    if save:
        db = Store(store)
        for group, records in by_group.items():
            refs = [{"doc_id": r["doc_id"], "reference": r["reference"]} for r in records]
            config = options.config(options.SCORE, values)
            identity = {"name": group, "kind": "outputs", "column": prediction}
            spec = lifecycle.RunSpec(
                task=name,
                model=group,
                identity=identity,
                source=source,
                data_fingerprint=fingerprint(refs),
                template="",
                config=config,
                key={"task": name, "model": group, "data": fingerprint(refs), "template": "", "config": config},
                command=command or options.call_text("score", options.SCORE, values, source),
                n_items=len(records),
            )
            run_ids[group] = lifecycle.save_complete(db, spec, records, per_group[group])
    return ScoreResult(pd.DataFrame(scored), per_group, run_ids, name)


# ---- perplexity of any text ---------------------------------------------------------------------------
@dataclass
class PerplexityResult:
    """Corpus perplexities (``metrics``), one row per text (``samples``) and the saved run."""

    run_id: str
    model: str
    metrics: dict[str, Any]
    samples: Any
    store_path: Path

    def summary(self):
        """Token/word/byte perplexity and bits per byte over all texts, with the totals behind them."""
        import pandas as pd

        totals = self.metrics.get("totals", {})
        rows = [
            {"metric": m, "value": self.metrics[m]}
            for m in ("token_perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte")
            if m in self.metrics
        ]
        table = pd.DataFrame(rows)
        table["texts"], table["tokens"] = self.metrics["n"], totals.get("tokens")
        table["words"], table["bytes"], table["model"] = totals.get("words"), totals.get("bytes"), self.model
        table["run_id"] = self.run_id
        return table


def perplexity(
    texts: RowsLike,
    model: str = DEFAULT_MODEL,
    *,
    column: str = "text",
    limit: int | None = None,
    store: str | Path | None = None,
    command: str | None = None,
    separate: bool = False,
) -> PerplexityResult:
    """Perplexity of each text and of all of them together under ``model``: token, word and byte perplexity
    and bits per byte, from rolling log-likelihoods in the harness's windows. Saved as a run (task
    ``perplexity``), so two models can be compared text by text with :func:`workbench.compare`."""
    from . import models
    from .data import DataSpec, fingerprint
    from .engine.runner import check_kinds, score_items
    from .run import lifecycle
    from .tasks.wikitext import PerplexityTask

    rows, source = as_rows(texts, limit=limit, text_column=column)
    values = {"texts": texts, "model": model, "column": column, "limit": limit, "store": store, "separate": separate}
    require_columns(rows, [column], "Text")
    for i, row in enumerate(rows, start=1):
        if is_blank(row[column]):
            raise WorkbenchError(f"Row {i} has no text in column {column!r}; perplexity needs at least one token.")
    rows = [{column: str(r[column])} for r in rows]
    identity = models.describe(model)
    task = PerplexityTask(
        name="perplexity",
        summary="perplexity of user text",
        data=DataSpec("", None, lambda root, split: [], dict, (column,)),
        column=column,
        template=f"{{{column}}}",
    )
    items = task.build_items(rows, [], 0)
    check_kinds(model, items)  # API models cannot score every token of a text
    lm = models.load_local(model)  # loaded before the run exists: a model that fails to load leaves no run behind
    task.count_tokens = lambda text: len(lm.encode(text))
    db = Store(store)
    run = lifecycle.start(
        db,
        lifecycle.RunSpec(
            task="perplexity",
            model=model,
            identity=identity,
            source=source,
            data_fingerprint=fingerprint(rows),
            template=task.template,
            config={**options.config(options.PPL, values), "max_length": lm.max_length},
            key=[identity["fingerprint"], fingerprint(rows)],
            command=command or options.call_text("perplexity", options.PPL, values, source),
            n_items=len(rows),
        ),
        noun="texts",
        separate=separate,
    )
    with run.recording():
        pending = run.pending(items)
        if pending:
            score_items(lm, task, pending, run.save, batch_size=1, description=f"perplexity | {model}")
        metrics = task.aggregate(run.records())
    run.finish(metrics)
    run_id = run.run_id
    return PerplexityResult(run_id, model, metrics, db.samples(run_id), db.path)
