"""Weights into memory for the transformers backend: the number format, the device(s), a merged adapter.

- float32 / bfloat16 / float16: loaded in that dtype.
- int8: on the CPU, torch's dynamic quantization of every Linear layer but the LM head (weights int8 per
  channel, activations quantized on the fly); on CUDA, bitsandbytes' LLM.int8() (``pip install bitsandbytes``).
- ``cuda`` with several GPUs: the layers spread over all of them (``device_map="auto"`` through accelerate), so a
  model larger than one GPU still loads; ``cuda:N`` or one GPU: the whole model there.
- An adapter (LoRA, QLoRA through peft) is loaded on top of the base weights and merged into them, so the
  engine runs one plain model and scores it exactly as it scores any other.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..errors import WorkbenchError
from .loading import LoadSettings

DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16", "int8": "float32"}


def load_weights(source: str, revision: str | None, settings: LoadSettings) -> tuple[Any, Any]:
    """(model, tokenizer) from a transformers directory or hub id, as ``settings`` (resolved) ask."""
    import torch
    from huggingface_hub import utils as hub_utils
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    kwargs: dict[str, Any] = {"revision": revision} if revision else {}
    cuda = settings.device.startswith("cuda")
    load_kwargs: dict[str, Any] = {"dtype": getattr(torch, DTYPES[settings.dtype])}
    if settings.dtype == "int8" and cuda:
        load_kwargs = {"quantization_config": _bitsandbytes_int8(), "device_map": _device_map(settings.device)}
    elif cuda and settings.device == "cuda" and torch.cuda.device_count() > 1:
        load_kwargs["device_map"] = "auto"  # layers spread over every GPU (accelerate)

    bars, hub_bars = transformers_logging.is_progress_bar_enabled(), not hub_utils.are_progress_bars_disabled()
    transformers_logging.disable_progress_bar()  # no "Loading weights" bar (this turns the hub's off too)
    if hub_bars:
        hub_utils.enable_progress_bars()  # a hub model's download keeps its bar
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model: Any = AutoModelForCausalLM.from_pretrained(source, **load_kwargs, **kwargs)
    finally:
        if bars:
            transformers_logging.enable_progress_bar()
        if not hub_bars:
            hub_utils.disable_progress_bars()
    if settings.adapter:
        model = _merged_adapter(model, settings.adapter)
    if "device_map" not in load_kwargs and settings.device != "cpu":
        model = model.to(torch.device(settings.device))
    if settings.dtype == "int8" and not cuda:
        with warnings.catch_warnings():  # torch 2.13 announces a future move of this API to torchao
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            model = _dynamic_int8(model)  # in place: one copy of the weights at a time
    return model.eval(), tokenizer


def _dynamic_int8(model: Any) -> Any:
    """torch's dynamic quantization of every Linear layer but the LM head (bitsandbytes keeps it too): int8
    weights, one scale per output channel; activations quantized per tensor as they arrive. Measured on
    smollm2-135m it costs far more than bfloat16 (ARC-Easy doc 0's answer: -23.5 nats in float32, -39.5 in int8):
    this model's activations have outliers that one scale per tensor flattens (docs/quantization.md)."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig

    head = model.get_output_embeddings()
    layers = {name: per_channel_dynamic_qconfig for name, module in model.named_modules()
              if isinstance(module, torch.nn.Linear) and module is not head}  # fmt: skip
    return torch.ao.quantization.quantize_dynamic(model, layers, dtype=torch.qint8, inplace=True)


def _device_map(device: str) -> Any:
    return "auto" if device == "cuda" else {"": device}


def _bitsandbytes_int8() -> Any:
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise WorkbenchError(
            "--dtype int8 on CUDA uses bitsandbytes, which is not installed: `pip install bitsandbytes`."
        ) from None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_8bit=True)


def _merged_adapter(model: Any, adapter: str) -> Any:
    try:
        from peft import PeftModel
    except ImportError:
        raise WorkbenchError(
            "--adapter needs peft, which is not installed: `pip install peft` "
            "(or `pip install 'llm-eval-workbench[peft]'`)."
        ) from None
    try:
        return PeftModel.from_pretrained(model, adapter).merge_and_unload()
    except (ValueError, KeyError, RuntimeError) as exc:
        raise WorkbenchError(
            f"The adapter in {adapter!r} does not fit this base model ({str(exc).splitlines()[0][:200]}). Give the "
            "base model the adapter was trained on."
        ) from None
