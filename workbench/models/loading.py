"""How a local model is loaded: device, number format (dtype), a fine-tuned adapter, the backend that runs it.

``LoadSettings`` is what the user asked for ("auto" included); ``resolved()`` turns it into what this machine
will do (``cuda`` when present, bfloat16 on a CUDA device that supports it), refusing what it cannot do before
any run is created. The resolved settings are recorded in the model's identity, and those that change numbers
(anything but float32 on the CPU with the spec's own backend) enter the run key (``registry.load_key``): a
bfloat16 run never resumes a float32 one, and a float32 CPU run keeps the key it had before these settings existed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError

DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16", "int8")
BACKENDS = ("transformers", "llama.cpp")
OPTIONS = ("device", "dtype", "adapter", "backend")  # the keywords of evaluate (and the shells' flags)
DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass(frozen=True)
class LoadSettings:
    """What the user asked for. ``backend`` None: the spec's own (transformers for local weights)."""

    device: str = "auto"
    dtype: str = "auto"
    adapter: str | None = None
    backend: str | None = None

    @classmethod
    def of(
        cls, device: str | None = None, dtype: str | None = None, adapter: str | None = None, backend: str | None = None
    ) -> LoadSettings:
        """Settings from the keywords of evaluate and the shells (None: the default), checked for form."""
        settings = cls(device or "auto", dtype or "auto", str(adapter) if adapter else None, backend or None)
        settings.check_form()
        return settings

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> LoadSettings:
        """Settings from a call's keywords (those it does not give: the default)."""
        return cls.of(**{name: options.get(name) for name in OPTIONS})

    def check_form(self) -> None:
        if not DEVICE.match(self.device):
            raise WorkbenchError(f"Unknown device {self.device!r}: use one of {', '.join(DEVICES)} (e.g. cuda:1).")
        if self.dtype not in DTYPES:
            raise WorkbenchError(f"Unknown dtype {self.dtype!r}: use one of {', '.join(DTYPES)}.")
        if self.backend is not None and self.backend not in BACKENDS:
            raise WorkbenchError(f"Unknown backend {self.backend!r}: use one of {', '.join(BACKENDS)}.")
        if self.adapter is not None and not (Path(self.adapter).expanduser() / "adapter_config.json").is_file():
            raise WorkbenchError(
                f"--adapter {self.adapter!r} is not a PEFT adapter folder (no adapter_config.json in it). Give the "
                "folder that `model.save_pretrained(...)` of a peft model wrote."
            )

    @property
    def is_default(self) -> bool:
        return self == LoadSettings()

    def resolved(self) -> LoadSettings:
        """The device and dtype this machine will use (``auto`` decided); refuses a device it does not have and
        a dtype the device cannot do, naming the fix."""
        self.check_form()
        if self.backend == "llama.cpp":
            if self.dtype not in ("auto",) or self.adapter:
                raise WorkbenchError(
                    "The llama.cpp backend runs the GGUF file's own number format and takes no --dtype or --adapter; "
                    "leave them out, or use the transformers backend."
                )
            return replace(self, device="cpu" if self.device == "auto" else self.device, dtype="gguf")
        import torch

        device = self.device
        if device == "auto":
            if torch.cuda.is_available():
                device = "cuda"
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                device = "mps"
            else:
                device = "cpu"
        if device.startswith("cuda"):
            if not torch.cuda.is_available():
                raise WorkbenchError(
                    f"--device {self.device}: this machine has no CUDA device (torch {torch.__version__} sees none). "
                    "Use --device cpu (or auto), or install a CUDA build of torch on a machine with a GPU."
                )
            index = int(device.split(":")[1]) if ":" in device else 0
            if index >= torch.cuda.device_count():
                raise WorkbenchError(
                    f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s), numbered from 0."
                )
        if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise WorkbenchError("--device mps: this machine has no Apple GPU available to torch. Use cpu or auto.")
        dtype = self.dtype
        if dtype == "auto":
            cuda_bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
            dtype = "bfloat16" if cuda_bf16 else "float16" if device.startswith("cuda") else "float32"
        if dtype == "bfloat16" and device.startswith("cuda") and not torch.cuda.is_bf16_supported():
            raise WorkbenchError(f"--dtype bfloat16: the GPU at {device} does not support it. Use float16 or float32.")
        if dtype == "float16" and device == "cpu":
            raise WorkbenchError(
                "--dtype float16 on the CPU: torch computes it slowly and imprecisely there. Use float32, bfloat16 "
                "(supported, slower than float32 on most CPUs) or int8."
            )
        if dtype == "int8" and device == "mps":
            raise WorkbenchError("--dtype int8 is done on the CPU (torch dynamic quantization) or CUDA (bitsandbytes).")
        return replace(self, device=device, dtype=dtype)

    def recorded(self) -> dict[str, Any]:
        """The resolved settings as the model identity records them."""
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.adapter:
            out["adapter"] = str(Path(self.adapter).expanduser().resolve())
        return out


DEFAULT = LoadSettings()
