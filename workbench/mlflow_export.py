"""``workbench.export_mlflow(...)`` / ``workbench export mlflow RUN...``: saved runs as MLflow runs.

One MLflow run per workbench run, found again by its tag ``workbench.run_id``, so exporting again updates the same
MLflow run:

- parameters: the run's settings (task, model, data source, template, every recorded option, package versions);
- metrics: every score with its standard error and 95% interval ends (``acc_ci95_lo``/``_hi``), the items scored
  (``n``) and planned (``items``), tokens and cost where recorded, ``duration_s``;
- tags: the model, its identity and weights fingerprint, the data fingerprint, the task, ``workbench.run_id``, the
  command that made the run and the workbench version;
- artifacts: the items as an MLflow table (``items.json``) and the HTML report (``report.html``).

Nothing is half-exported: the server is checked first, everything is prepared before the first write, and an MLflow
run created by a failed export is deleted again. A run whose model came from the MLflow registry
(``mlflow:models:/NAME/VERSION``) can write its scores back as tags on that model version
(``tag_model_version=True``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import mlflow_client
from .errors import WorkbenchError, notice
from .store import Store

RUN_TAG = "workbench.run_id"
ITEMS = "items.json"
REPORT = "report.html"
MAX_PARAM = 6000  # MLflow's limits on a parameter's and a tag's value (mlflow.utils.validation)
MAX_TAG = 8000
BATCH = 100  # parameters or tags per log_batch call
KEY = re.compile(r"[^\w\-. /]")  # what MLflow allows in a key


@dataclass
class Prepared:
    """Everything one workbench run sends, made before the first write."""

    run: dict[str, Any]
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    folder: Path  # holds items.json and report.html
    items: Any  # DataFrame of the run's items
    scores: dict[str, str] = field(default_factory=dict)  # for the model version's tags


def export_mlflow(
    *runs: Any,
    tracking_uri: str | None = None,
    experiment: str = "workbench",
    store: str | Path | None = None,
    tag_model_version: bool = False,
) -> Any:
    """Export saved runs to MLflow and return a table: workbench run id, MLflow run id, experiment, URL.

    ``runs``: run ids (or prefixes) or results with a ``run_id``. ``tracking_uri``: an MLflow tracking URI (default:
    MLflow's own, ``$MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``); a server with a login reads
    MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD from the environment. ``experiment``: its name (made when
    missing). ``tag_model_version``: also write each run's scores as tags on the registry model version it
    evaluated (runs of ``mlflow:models:/NAME/VERSION`` models only).
    """
    import pandas as pd

    mlflow_client.require()
    if not runs:
        raise WorkbenchError(
            "Name the runs to export, e.g. workbench.export_mlflow('1a2b3c4d'); `workbench runs` lists them."
        )
    if not isinstance(experiment, str) or not experiment.strip():
        raise WorkbenchError(f"experiment must be the name of an MLflow experiment (got {experiment!r:.60}).")
    db = Store(store, create=False)
    found = [_complete(db, run) for run in runs]
    found = list({r["run_id"]: r for r in found}.values())  # a run named twice is exported once
    if tag_model_version:
        _check_registry_models(found)
    uri = mlflow_client.tracking_uri(tracking_uri)
    client = mlflow_client.client(uri)
    registries = {r["model_identity"]["mlflow"]["registry_uri"] for r in found} if tag_model_version else set()
    registry_clients = {u: mlflow_client.client(u) for u in registries}
    with tempfile.TemporaryDirectory(prefix="workbench-mlflow-") as tmp:
        prepared = [_prepare(db, run, Path(tmp) / str(run["run_id"])) for run in found]
        experiment_id = _experiment(client, experiment.strip(), uri)
        rows = []
        for item in prepared:
            mlflow_run, created = _send(client, experiment_id, item, uri)
            if tag_model_version:
                _tag_version(registry_clients, item, mlflow_run)
            rows.append(
                {
                    "run_id": item.run["run_id"],
                    "mlflow_run_id": mlflow_run,
                    "experiment": experiment.strip(),
                    "experiment_id": experiment_id,
                    "action": "created" if created else "updated",
                    "url": mlflow_client.run_url(uri, experiment_id, mlflow_run),
                }
            )
    table = pd.DataFrame(rows, columns=["run_id", "mlflow_run_id", "experiment", "experiment_id", "action", "url"])
    table.attrs["tracking_uri"] = uri
    return table


# ---- what is sent -----------------------------------------------------------------------------------------------
def _complete(db: Store, run: Any) -> dict[str, Any]:
    """The stored run named by ``run`` (an id, a prefix, or a result with a run_id); an unfinished run is refused."""
    from .reports.sources import lookup

    text = getattr(run, "run_id", run)
    if not isinstance(text, str) or not text.strip():
        raise WorkbenchError(f"Name a run by its id, e.g. '1a2b3c4d' (got {text!r:.60}); `workbench runs` lists them.")
    ref = lookup(db, text.strip())
    if ref is None:
        raise WorkbenchError(f"No run {text!r} in {db.path}. List the runs with `workbench runs` (or %llm_runs).")
    record = ref.run
    if record["status"] != "complete":
        scored = len(db.done_doc_ids(str(record["run_id"])))
        fix = (
            "Wait until it finishes"
            if record["status"] == "running"
            else f"Finish it by running its call again ({record['command']})"
        )
        raise WorkbenchError(
            f"Run {record['run_id']} is {record['status']} ({scored} of {record['n_items']} items scored): only a "
            f"complete run is exported. {fix}, then export it."
        )
    return record


def _check_registry_models(runs: list[dict[str, Any]]) -> None:
    other = [f"{r['run_id']} ({r['model']})" for r in runs if "mlflow" not in (r.get("model_identity") or {})]
    if other:
        raise WorkbenchError(
            f"--tag-model-version writes scores on the MLflow registry version a run evaluated, but {', '.join(other)} "
            "did not evaluate a registry model (mlflow:models:/NAME/VERSION). Leave the flag out for those runs."
        )


def clipped(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, saying so at its end."""
    if len(value) <= limit:
        return value
    note = f" ... [cut: {len(value):,} characters; the whole value is in the workbench store]"
    return value[: limit - len(note)] + note


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def _flat(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flat(f"{prefix}.{key}" if prefix else str(key), inner)
    else:
        yield prefix, value


def _key(name: str) -> str:
    return KEY.sub("_", name)[:250]


def params_of(run: Mapping[str, Any]) -> dict[str, str]:
    """The run's settings as MLflow parameters (text, at most 6,000 characters each)."""
    settings = {
        "task": run["task"],
        "model": run["model"],
        "data_source": run.get("data_source"),
        "prompt_template": run.get("prompt_template"),
        **(run.get("config") or {}),
        "versions": run.get("versions") or {},
    }
    return {_key(k): clipped(_text(v), MAX_PARAM) for k, v in _flat("", settings)}


def metrics_of(run: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, str]]:
    """(metrics, text values): every number of the run's metrics (a 95% interval as its two ends, usage without its
    prefix, other nested tables with theirs), the planned items and the seconds; text values (a BLEU signature)
    go to the parameters."""
    out: dict[str, float] = {}
    texts: dict[str, str] = {}
    recorded = dict(run.get("metrics") or {})
    usage = recorded.pop("usage", None) or {}
    for name, value in [*_flat("", recorded), *_flat("", usage)]:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)):
            out[_key(name)] = float(value)
        elif isinstance(value, (list, tuple)) and len(value) == 2 and name.endswith("_ci95"):
            for end, number in zip(("lo", "hi"), value):
                if isinstance(number, (int, float)):
                    out[_key(f"{name}_{end}")] = float(number)
        elif isinstance(value, str):
            texts[_key(name)] = clipped(value, MAX_PARAM)
    if "prompt_tokens" in out and "completion_tokens" in out:
        out["tokens"] = out["prompt_tokens"] + out["completion_tokens"]
    if run.get("n_items") is not None:
        out["items"] = float(run["n_items"])
    out["duration_s"] = float(run.get("duration_s") or 0.0)
    return out, texts


def tags_of(run: Mapping[str, Any]) -> dict[str, str]:
    """Who made what: the model and its identity, the data, the task, the workbench run id and command."""
    from .run.provenance import versions

    identity = run.get("model_identity") or {}
    registry = identity.get("mlflow") or {}
    tags = {
        "mlflow.runName": f"{run['task']} | {run['model']}",
        RUN_TAG: run["run_id"],
        "workbench.task": run["task"],
        "workbench.model": run["model"],
        "workbench.model_identity": _text(identity),
        "workbench.weights_fingerprint": identity.get("fingerprint") or "",
        "workbench.data_fingerprint": run.get("data_fingerprint") or "",
        "workbench.command": run.get("command") or "",
        "workbench.version": (run.get("versions") or {}).get("workbench", ""),
        "workbench.exported_by": versions()["workbench"],
        "workbench.exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if registry:
        tags["workbench.registry_model"] = f"models:/{registry['name']}/{registry['version']}"
    return {k: clipped(str(v), MAX_TAG) for k, v in tags.items()}


def task_key(run: Mapping[str, Any]) -> str:
    """The task's part of a model version's tag keys ('mmlu:anatomy' -> 'mmlu.anatomy')."""
    return _key(str(run["task"]).replace(":", "."))


def version_scores(run: Mapping[str, Any]) -> dict[str, str]:
    """The model version's tags for a run: each score with its 95% interval, e.g. 'workbench.arc_easy.acc':
    '0.46 [0.32, 0.60]', and which runs they come from."""
    metrics = run.get("metrics") or {}
    task = task_key(run)
    out = {}
    for name, value in metrics.items():
        interval = metrics.get(f"{name}_ci95")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(interval, list):
            lo, hi = interval
            out[f"workbench.{task}.{_key(name)}"] = f"{value:.2f} [{lo:.2f}, {hi:.2f}]"
    out[f"workbench.{task}.n"] = str(metrics.get("n", run.get("n_items")))
    return out


def _prepare(db: Store, run: dict[str, Any], folder: Path) -> Prepared:
    """Parameters, metrics, tags, the items table and the report of one run, written under ``folder``."""
    from .reports import report

    folder.mkdir(parents=True)
    metrics, texts = metrics_of(run)
    items = db.samples(str(run["run_id"]))
    report(str(run["run_id"]), path=folder / REPORT, store=db.path)
    bad = [k for k, v in metrics.items() if not math.isfinite(v)]
    if bad:
        notice(f"run {run['run_id']}: {', '.join(bad)} are not finite numbers; MLflow shows them as NaN.")
    return Prepared(run, {**params_of(run), **texts}, metrics, tags_of(run), folder, items, version_scores(run))


# ---- sending ------------------------------------------------------------------------------------------------------
def _experiment(client: Any, name: str, uri: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is None:
        return str(client.create_experiment(name))
    if found.lifecycle_stage != "active":
        raise WorkbenchError(
            f"The MLflow experiment {name!r} at {uri} is deleted. Restore it (`mlflow experiments restore "
            f"--experiment-id {found.experiment_id}`) or export to another with --experiment NAME."
        )
    return str(found.experiment_id)


def _existing(client: Any, experiment_id: str, run_id: str) -> Any:
    found = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_TAG}` = '{run_id}'", max_results=2)
    if len(found) > 1:
        notice(f"{len(found)} MLflow runs carry {RUN_TAG} = {run_id}; updating the newest, {found[0].info.run_id}.")
    return found[0] if found else None


def _send(client: Any, experiment_id: str, item: Prepared, uri: str) -> tuple[str, bool]:
    """Log one prepared run: into the MLflow run already holding it, or a new one (deleted again on failure)."""
    mlflow = mlflow_client.require()
    run = item.run
    existing = _existing(client, experiment_id, str(run["run_id"]))
    created = existing is None
    if created:
        started = int(float(run.get("created_at") or time.time()) * 1000)
        mlflow_run = client.create_run(experiment_id, start_time=started, tags={RUN_TAG: run["run_id"]}).info.run_id
        params = item.params
    else:
        mlflow_run = existing.info.run_id
        logged = existing.data.params
        kept = [k for k, v in item.params.items() if k in logged and logged[k] != v]
        if kept:
            notice(f"MLflow run {mlflow_run}: parameters {', '.join(kept[:5])} keep their first exported values "
                   "(MLflow never changes a logged parameter).")  # fmt: skip
        params = {k: v for k, v in item.params.items() if k not in logged}
    try:
        _log(client, mlflow, mlflow_run, item, params)
    except Exception as exc:  # MLflow raises its own and requests' errors; none may leave half a run
        if created:
            try:
                client.delete_run(mlflow_run)
            except Exception:  # the server went away: say so in the message below
                notice(f"could not delete the half-exported MLflow run {mlflow_run} at {uri}; delete it by hand.")
        error = mlflow_client.explained(exc, uri) if isinstance(exc, mlflow.exceptions.MlflowException) else exc
        raise WorkbenchError(
            f"Exporting run {run['run_id']} to {uri} failed midway ({error}); "
            + ("the MLflow run it started was deleted." if created else f"MLflow run {mlflow_run} keeps what it held.")
        ) from None
    return mlflow_run, created


def _log(client: Any, mlflow: Any, mlflow_run: str, item: Prepared, params: dict[str, str]) -> None:
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in item.metrics.items()]
    param_list = [Param(k, v) for k, v in params.items()]
    tags = [RunTag(k, v) for k, v in item.tags.items()]
    for start in range(0, max(len(metrics), len(param_list), len(tags)), BATCH):
        client.log_batch(
            mlflow_run,
            metrics=metrics[start : start + BATCH],
            params=param_list[start : start + BATCH],
            tags=tags[start : start + BATCH],
        )
    logged = {a.path for a in client.list_artifacts(mlflow_run)}
    if ITEMS in logged:  # log_table would append the rows again: replace the file, written as log_table writes it
        item.items.to_json(item.folder / ITEMS, orient="split", index=False, date_format="iso")
        client.log_artifact(mlflow_run, str(item.folder / ITEMS))
    else:
        with warnings.catch_warnings():  # pandas 3 deprecations inside log_table, nothing the user can act on
            warnings.simplefilter("ignore")
            client.log_table(mlflow_run, data=item.items, artifact_file=ITEMS)
    client.log_artifact(mlflow_run, str(item.folder / REPORT))
    finished = int(float(item.run.get("finished_at") or time.time()) * 1000)
    with contextlib.redirect_stdout(io.StringIO()):  # MLflow prints "View run ... at: URL"; the result holds it
        client.set_terminated(mlflow_run, "FINISHED", end_time=finished)


def _tag_version(clients: Mapping[str, Any], item: Prepared, mlflow_run: str) -> None:
    """The run's scores as tags on the registry model version it evaluated."""
    mlflow = mlflow_client.require()
    registry = item.run["model_identity"]["mlflow"]
    uri = registry["registry_uri"]
    tags = {**item.scores, f"workbench.{task_key(item.run)}.run": f"{item.run['run_id']} (MLflow run {mlflow_run})"}
    try:
        for key, value in tags.items():
            clients[uri].set_model_version_tag(registry["name"], str(registry["version"]), key, value)
    except mlflow.exceptions.MlflowException as exc:
        raise WorkbenchError(
            f"Run {item.run['run_id']} was exported (MLflow run {mlflow_run}), but tagging model version "
            f"{registry['name']}/{registry['version']} at {uri} failed: {mlflow_client.explained(exc, uri)}"
        ) from None
