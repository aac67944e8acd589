"""A batch of planned lines (prefix.py) as a transformers model takes it: token ids, position ids, the tree
attention mask, and the family's shared prefix as a cache that keeps nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .prefix import Line


def line_inputs(batch: Sequence[Line], prefix_len: int) -> tuple[Any, Any, Any]:
    """Token ids and position ids (lines, width) of a batch, and its attention mask (lines, width, prefix + width):
    each token sees the prefix, then the tokens of its own row up to itself that are its row's context or its own
    continuation; padding sees only itself."""
    import torch

    width = max(len(line) for line in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    positions = torch.zeros((len(batch), width), dtype=torch.long)
    segments = torch.zeros((len(batch), width), dtype=torch.long)
    groups = torch.empty((len(batch), width), dtype=torch.long)
    for b, line in enumerate(batch):
        n = len(line)
        ids[b, :n] = torch.tensor(line.tokens)
        positions[b, :n] = torch.tensor(line.positions)
        segments[b, :n] = torch.tensor(line.segments)
        groups[b, :n] = torch.tensor(line.groups)
        groups[b, n:] = -1 - torch.arange(width - n)
    q = torch.arange(width)
    causal = q[None, :] <= q[:, None]
    seg_q, seg_k = segments[:, :, None], segments[:, None, :]
    mask = causal[None] & (groups[:, :, None] == groups[:, None, :]) & ((seg_k == 0) | (seg_k == seg_q))
    if prefix_len:
        mask = torch.cat([torch.ones((len(batch), width, prefix_len), dtype=torch.bool), mask], dim=-1)
    return ids, positions, mask


def prefix_cache(past: Sequence[tuple[Any, Any]], batch: int) -> Any:
    """A transformers cache that gives each layer the shared prefix's keys/values (one sequence's, per layer) in
    front of the pass's own, for every line of the batch, and keeps nothing: DynamicCache would keep every layer's
    concatenation until the pass ends, (lines x (prefix + width)) keys and values for all layers at once."""
    import torch
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    class PrefixLayer(DynamicLayer):
        def __init__(self, keys: Any, values: Any):
            super().__init__()
            self.prefix_keys, self.prefix_values, self.is_initialized = keys, values, True

        def update(self, key_states, value_states, *args, **kwargs):
            keys = torch.cat([self.prefix_keys.expand(batch, -1, -1, -1), key_states], dim=-2)
            values = torch.cat([self.prefix_values.expand(batch, -1, -1, -1), value_states], dim=-2)
            return keys, values

        def get_seq_length(self) -> int:
            return int(self.prefix_keys.shape[-2])

    cache = DynamicCache()
    cache.layers = [PrefixLayer(k, v) for k, v in past]
    return cache
