"""What a variant costs in bytes: its weight files on disk, its weights in memory, the process's peak memory.

Peak memory is the process's resident set high-water mark (``VmHWM``), reset before each variant where Linux
allows it (writing 5 to ``/proc/self/clear_refs``), so each variant's peak is its own: the weights, the
activations and caches of its evaluation and speed test, and the Python process around them. The reset sets the
mark to the memory resident at that moment, so the memory earlier variants freed is first handed back to the system
(glibc's ``malloc_trim``; without it a later variant's peak started from the earlier ones' leftovers, measured: 1.7
GB before loading a 94 MB GGUF file). Where the reset is not possible the peak is the process's since it started,
and says so.
"""

from __future__ import annotations

import gc
import resource
import sys
from pathlib import Path
from typing import Any

from ..models.memory import release_freed_memory

MB = 2**20
WEIGHT_SUFFIXES = {".safetensors", ".bin", ".pt", ".gguf"}


def hand_back_freed_memory() -> None:
    """Collect garbage, then ask the C allocator to return the memory it keeps from freed blocks (glibc only)."""
    gc.collect()
    release_freed_memory()


def reset_peak() -> bool:
    """Forget the process's memory high-water mark (True), or say it cannot be (False: not Linux)."""
    hand_back_freed_memory()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    """The process's resident memory high-water mark (since the last reset, where one was possible)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux


def _tensor_bytes(value: Any, seen: set[int]) -> int:
    """Bytes of the tensors in a state_dict value (a tensor, or the (weight, bias) tuple of a quantized Linear's
    packed parameters), each storage counted once (tied embeddings)."""
    import torch

    if isinstance(value, torch.Tensor):
        try:
            key = value.untyped_storage().data_ptr()
        except (RuntimeError, NotImplementedError):  # quantized tensors on some builds
            key = id(value)
        if key in seen:
            return 0
        seen.add(key)
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_tensor_bytes(v, seen) for v in value)
    return 0


def weights_in_memory(lm: Any, gguf: Path | None) -> int | None:
    """Bytes of the weights as loaded: every tensor of a torch model (int8 Linear layers at one byte a weight); a
    GGUF file's tensors for llama.cpp (it maps the file, so about its size)."""
    if gguf is not None:
        return gguf.stat().st_size
    model = getattr(lm, "model", None)
    if model is None or not hasattr(model, "state_dict"):
        return None
    seen: set[int] = set()
    return sum(_tensor_bytes(v, seen) for v in model.state_dict().values())


def weights_on_disk(lm: Any, gguf: Path | None) -> int | None:
    """Bytes of the weight files the variant was loaded from: the GGUF file, or the transformers folder's weight
    files (for an alias, the float32 folder its GGUF file was dequantized into). None for a hub id."""
    if gguf is not None:
        return gguf.stat().st_size
    model = getattr(lm, "model", None)
    folder = Path(str(getattr(model, "name_or_path", "") or ""))
    if not folder.is_dir():
        return None
    return sum(p.stat().st_size for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
