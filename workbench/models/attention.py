"""Attention masks for models whose layers see only the last few tokens (Gemma 2 and 3, Mistral, ...).

transformers applies a custom 4D mask (packed rows, padded batches, decode steps) to every layer as it is, so a
sliding-window layer given the plain causal mask would see the whole context. ``attention_mask`` gives such a
model one mask per layer type, the sliding one leaving out keys ``window`` or more positions back, as
transformers' own sliding-window causal mask does; a model without sliding layers gets the plain mask.
"""

from __future__ import annotations

from typing import Any


def sliding_layers(config: Any) -> tuple[int | None, tuple[str, ...] | None]:
    """(window, layer types) of a model whose attention layers see only the last ``window`` tokens (Gemma 2 and
    3, Mistral, ...), or (None, None) for a model whose layers all see the whole sequence (Llama, SmolLM2).

    Layer types are None when every layer slides (a Mistral config without ``layer_types``); otherwise the
    mask goes to the model as one mask per layer type, the sliding one for "sliding_attention" layers.
    """
    cfg = config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config
    window = getattr(cfg, "sliding_window", None)
    if window is None or not getattr(cfg, "use_sliding_window", True):
        return None, None
    layer_types = getattr(cfg, "layer_types", None)
    if layer_types is None:
        return int(window), None
    if "sliding_attention" not in layer_types:
        return None, None
    return int(window), tuple(dict.fromkeys(layer_types))


def attention_mask(
    mask: Any,
    implementation: str,
    window: int | None,
    layer_types: tuple[str, ...] | None,
    queries: Any,
    keys: Any,
    dtype: Any = None,
) -> Any:
    """``mask`` (batch, 1, queries, keys; True where a query may see a key) in the form the model takes: as is
    for sdpa, additive for the other attention implementations; with sliding layers (``window``) a mask per
    layer type (``queries``: (batch, queries) and ``keys``: (batch, keys) position ids), or the sliding one
    alone when every layer slides (``layer_types`` None). An additive mask is in ``dtype`` (the model's;
    float32 when None)."""
    if window is None:
        return _in_form(mask, implementation, dtype)
    near = (queries[:, None, :, None] - keys[:, None, None, :]) < window
    sliding = _in_form(mask & near, implementation, dtype)
    if layer_types is None:  # every layer slides
        return sliding
    full = _in_form(mask, implementation, dtype)
    return {kind: sliding if kind == "sliding_attention" else full for kind in layer_types}


def _in_form(mask: Any, implementation: str, dtype: Any = None) -> Any:
    import torch

    if implementation == "sdpa":
        return mask
    dtype = dtype if dtype is not None and dtype.is_floating_point else torch.float32
    return torch.zeros(mask.shape, dtype=dtype).masked_fill(~mask, torch.finfo(dtype).min)
