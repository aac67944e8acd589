"""Models from the MLflow model registry: ``mlflow:models:/NAME/VERSION`` or ``mlflow:models:/NAME@ALIAS``.

The version's artifacts are downloaded once into the cache dir (``<cache>/mlflow/NAME-vVERSION-<registry>/``) and
the transformers model inside is laid out as a plain transformers directory (``model/``), which the transformers
backend loads like any local directory. Two layouts are found: a ``save_pretrained`` directory logged as artifacts,
and the layout of MLflow's transformers flavor (``model/`` with the weights, ``components/tokenizer/``). The
registry (``$MLFLOW_REGISTRY_URI``, else ``$MLFLOW_TRACKING_URI``, else MLflow's default), the name, the version,
its run and source are recorded as part of the model's identity (``identity["mlflow"]``) beside the usual weights
fingerprint. A version already downloaded loads without asking the server; an alias is looked up each time.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

from .. import mlflow_client
from ..errors import WorkbenchError
from ..settings import cache_dir
from .cache import made_once

PREFIX = "mlflow:"
SPEC = re.compile(r"^mlflow:models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[\w.-]+))/?$")
FORMS = "'mlflow:models:/NAME/VERSION' (e.g. mlflow:models:/my-model/3) or 'mlflow:models:/NAME@ALIAS' (e.g. @champion)"
META = "registry.json"
MODEL = "model"
WEIGHTS = ("*.safetensors", "*.bin", "*.safetensors.index.json", "*.bin.index.json")
TOKENIZER = ("tokenizer_config.json", "tokenizer.json")


def parse(spec: str) -> tuple[str, str | None, str | None]:
    """(name, version, alias) of a registry model spec, or a message naming the accepted forms."""
    found = SPEC.match(spec.strip())
    if not found:
        raise WorkbenchError(f"{spec!r} is not a model of the MLflow registry: write {FORMS}.")
    return found["name"], found["version"], found["alias"]


def _shown_uri(uri: str) -> str:
    """``uri`` without any user name or password in it (recorded in runs, shown in messages)."""
    parts = urllib.parse.urlsplit(uri)
    if parts.username or parts.password:
        return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return uri


def _folder(uri: str, name: str, version: str) -> Path:
    digest = hashlib.sha256(_shown_uri(uri).encode()).hexdigest()[:12]
    safe = re.sub(r"[^\w.-]", "_", name)
    return cache_dir() / "mlflow" / f"{safe}-v{version}-{digest}"


def resolve(spec: str) -> Path:
    """The local transformers directory of a registry model version, downloaded on first use."""
    name, version, alias = parse(spec)
    uri = mlflow_client.registry_uri()
    if version is not None and (_folder(uri, name, version) / META).is_file():
        return _folder(uri, name, version) / MODEL
    client = mlflow_client.client(uri)
    mlflow = mlflow_client.require()
    try:
        found = client.get_model_version_by_alias(name, alias) if alias else client.get_model_version(name, version)
    except mlflow.exceptions.MlflowException as exc:
        known = _versions(client, name)
        asked = f"alias {alias!r}" if alias else f"version {version}"
        raise WorkbenchError(
            f"The MLflow registry at {_shown_uri(uri)} has no {asked} of model {name!r} "
            f"({' '.join(str(exc).split())[:200]}). {known}"
        ) from None
    target = _folder(uri, name, str(found.version))
    if not (target / META).is_file():
        _download(mlflow, uri, name, found, target)
    return target / MODEL


def _versions(client: Any, name: str) -> str:
    try:
        versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))
    except Exception:  # the listing only helps the message
        versions = []
    if not versions:
        return "No version of that name is registered: register one (mlflow.register_model) or check the name."
    return f"Its versions: {', '.join(map(str, versions))}; write {FORMS}."


def _download(mlflow: Any, uri: str, name: str, version: Any, target: Path) -> None:
    """Download the version's artifacts and lay its transformers model out under ``target``, whole or not at all."""

    def fill(tmp: Path) -> None:
        root = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{version.version}",
                dst_path=str(tmp / "download"),
                tracking_uri=uri,
                registry_uri=uri,
            )
        )
        weights, tokenizer = transformers_dirs(root, f"models:/{name}/{version.version}")
        shutil.move(str(weights), tmp / MODEL)
        for file in tokenizer.iterdir() if tokenizer != weights else ():
            if file.is_file() and not (tmp / MODEL / file.name).exists():
                shutil.copy2(file, tmp / MODEL / file.name)
        shutil.rmtree(tmp / "download", ignore_errors=True)
        meta = {"registry_uri": _shown_uri(uri), "name": name, "version": str(version.version),
                "run_id": version.run_id, "source": version.source}  # fmt: skip
        (tmp / META).write_text(json.dumps(meta))

    made_once(target, META, fill)


def _has_weights(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(any(folder.glob(p)) for p in WEIGHTS)


def transformers_dirs(root: Path, what: str) -> tuple[Path, Path]:
    """(the directory with config.json and the weights, the directory with the tokenizer) inside a downloaded model
    version: a save_pretrained directory at any depth, or MLflow's transformers flavor (model/ and
    components/tokenizer/)."""
    folders = [root, *sorted(p for p in root.rglob("*") if p.is_dir())]
    weights = [f for f in folders if _has_weights(f)]
    if not weights:
        flavor = root / "MLmodel"
        hint = (
            " It was logged by mlflow.transformers without its weights (save_pretrained=False): log it again with "
            "save_pretrained=True, or evaluate the hub id it names."
            if flavor.is_file() and "transformers" in flavor.read_text(errors="replace") and not (root / MODEL).is_dir()
            else ""
        )
        listed = ", ".join(sorted(p.name for p in root.iterdir())[:10])
        raise WorkbenchError(
            f"{what} holds no transformers model (a folder with config.json and weight files; it holds: {listed})."
            f"{hint} Log a save_pretrained directory as the version's artifacts, or a model with mlflow.transformers."
        )
    shallowest = min(len(f.parts) for f in weights)
    top = [f for f in weights if len(f.parts) == shallowest]
    if len(top) > 1:
        raise WorkbenchError(
            f"{what} holds {len(top)} transformers models ({', '.join(str(f.relative_to(root)) for f in top)}): "
            "register one model per version."
        )
    model = top[0]
    if any((model / t).is_file() for t in TOKENIZER):
        return model, model
    tokenizers = [f for f in folders if any((f / t).is_file() for t in TOKENIZER)]
    if not tokenizers:
        raise WorkbenchError(
            f"{what} holds a transformers model ({model.relative_to(root)}) but no tokenizer (tokenizer_config.json): "
            "save the tokenizer with the model (tokenizer.save_pretrained into the same folder) and register again."
        )
    return model, min(tokenizers, key=lambda f: len(f.parts))


def identity(spec: str, location: str) -> dict[str, Any]:
    """What the model's identity records about its registry version (read from the download's record)."""
    name, _, alias = parse(spec)
    meta = json.loads((Path(location).parent / META).read_text())
    return {"mlflow": {**meta, **({"alias": alias} if alias else {})}}
