"""Which variants of a model to run, each checked before anything runs.

A variant is a number format of the same weights, or another file of them:

- ``float32``, ``bfloat16``, ``float16``, ``int8``: the model through transformers in that dtype (int8: torch's
  dynamic quantization of the Linear layers on the CPU, bitsandbytes on CUDA);
- ``gguf``: the model's own GGUF file (an alias or a .gguf path) run as deployed, by llama.cpp;
- a path to a GGUF file (Q8_0, Q4_K_M, ...): that file, by llama.cpp.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkbenchError, notice, suggest

DTYPE_VARIANTS = ("float32", "bfloat16", "float16", "int8")
NAMES = (*DTYPE_VARIANTS, "gguf")
GGUF_MAGIC = b"GGUF"
LLAMACPP_INSTALL = 'pip install "llm-eval-workbench[llamacpp]"'


@dataclass(frozen=True)
class Variant:
    """One variant: its label, the model spec evaluated and the load settings that make it."""

    label: str  # as tables and charts show it: 'float32', 'gguf', 'Q8_0.gguf'
    model: str  # the spec handed to evaluate: the model itself, or a GGUF file's path
    dtype: str | None = None  # None: the backend's own (a GGUF file's number format)
    backend: str | None = None  # None: transformers; 'llama.cpp' for GGUF files
    device: str | None = None
    gguf: str | None = None  # the GGUF file llama.cpp runs (its bytes are the variant's weights)


def is_gguf_path(name: str) -> bool:
    return name.lower().endswith(".gguf") or "/" in name or name.startswith(("~", "."))


def check_gguf_file(name: str) -> Path:
    """The resolved path of a GGUF file, or a message: missing, a folder, or not GGUF (its first 4 bytes)."""
    path = Path(name).expanduser()
    if not path.exists():
        raise WorkbenchError(f"Variant {name!r}: no such file. Give the path of a GGUF file (e.g. model.Q8_0.gguf).")
    if not path.is_file():
        raise WorkbenchError(f"Variant {name!r} is a folder, not a GGUF file. Give the path of a .gguf file.")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != GGUF_MAGIC:
        raise WorkbenchError(
            f"Variant {name!r} is not a GGUF file: it starts with {magic!r}, not {GGUF_MAGIC!r}. Give a file that "
            "llama.cpp's convert or quantize tools wrote."
        )
    return path.resolve()


def check_llamacpp() -> None:
    try:
        found = importlib.util.find_spec("llama_cpp") is not None
    except (ImportError, ValueError):  # a module entry of None (an import blocked on purpose) reads as missing
        found = False
    if not found:
        raise WorkbenchError(
            f"GGUF variants run through llama.cpp, and llama-cpp-python is not installed: `{LLAMACPP_INSTALL}` "
            "(pip builds it from source once, a few minutes). Or leave the GGUF variants out."
        )


def plan(model: str, names: list[str] | tuple[str, ...], reference: str, device: str | None) -> list[Variant]:
    """The variants named, in order, every one checked (name, backend, file, llama.cpp installed, device and
    dtype on this machine) before any model is loaded."""
    from .. import models
    from ..models.loading import LoadSettings

    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise WorkbenchError(f"Name the variants to compare, e.g. {list(NAMES[:3]) + ['int8', 'gguf']}.")
    spec = models.resolve(model)
    out: list[Variant] = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise WorkbenchError(f"A variant is a name ({', '.join(NAMES)}) or a GGUF file's path, not {name!r}.")
        name = name.strip()
        if name in DTYPE_VARIANTS:
            if spec.kind not in ("gguf", "dir", "hub", "mlflow"):
                raise WorkbenchError(
                    f"Variant {name!r}: {model!r} is answered by its own backend ({spec.kind}), which takes no "
                    f"dtype; {name} is made here from local weights through transformers. Give a local model (an "
                    "alias, a .gguf file, a transformers folder or a hub id)."
                )
            # device and dtype checked on this machine now (int8 on mps, bfloat16 on an old GPU, ...); bfloat16 on
            # the CPU is allowed and says it is slow
            resolved = LoadSettings.of(device=device, dtype=name).resolved()
            if name == "bfloat16" and resolved.device == "cpu":
                notice(
                    "variant bfloat16 runs on the CPU: allowed, but most CPUs compute bfloat16 slower than float32 "
                    "(its speed here says little about a GPU's)."
                )
            out.append(Variant(name, model, dtype=name, device=device))
        elif name == "gguf":
            if spec.kind != "gguf":
                raise WorkbenchError(
                    f"Variant 'gguf' runs the model's own GGUF file through llama.cpp; {model!r} is a {spec.kind} "
                    "model with no GGUF file. Give a GGUF file's path as a variant instead."
                )
            out.append(Variant("gguf", model, backend="llama.cpp", device=device, gguf=spec.location))
        elif is_gguf_path(name):
            path = check_gguf_file(name)
            # as llamacpp:PATH, so a GGUF file is run whatever its name ends with
            out.append(Variant(path.name, f"llamacpp:{path}", device=device, gguf=str(path)))
        else:
            raise WorkbenchError(
                f"Unknown variant {name!r}.{suggest(name, NAMES)} A variant is one of {', '.join(NAMES)}, or the "
                "path of a GGUF file (e.g. ./model.Q8_0.gguf)."
            )
    labels = [v.label for v in out]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise WorkbenchError(f"Variant {twice[0]!r} is named twice; name each variant once.")
    if reference not in labels:
        raise WorkbenchError(
            f"reference={reference!r} is not one of the variants ({', '.join(labels)}): the others are compared "
            "with it. Name one of them, or add it to the variants."
        )
    if any(v.gguf for v in out):
        check_llamacpp()
        LoadSettings.of(device=device, backend="llama.cpp").resolved()
    return out
