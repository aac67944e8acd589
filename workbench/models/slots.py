"""Key/value memory for batched decoding: one preallocated slot per sequence.

transformers' DynamicCache grows by concatenation, copying every layer's whole cache at every generated
token; on a CPU that copy costs more than the model's own matrix multiplies once prompts are long (few-shot
GSM8K). Here each sequence owns a slot of fixed capacity, its tokens left-aligned; a decoding step writes
each sequence's new key/value at that sequence's own length. Slots are refilled with new prompts as
sequences finish, so the batch stays full.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def kv_bytes_per_token(config: Any, element_size: int = 4) -> int:
    """Bytes of keys and values that one token occupies across all layers."""
    cfg = getattr(config, "text_config", None) or config
    heads = cfg.num_attention_heads
    kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    return 2 * cfg.num_hidden_layers * kv_heads * head_dim * element_size


class SlotCache:
    """Per-layer buffers of shape (slots, kv heads, capacity, head dim) and each slot's length."""

    growth = 64  # tokens added to the capacity when a sequence reaches the end of its slot

    def __init__(self, layers: Sequence[tuple[Any, Any]], slots: int):
        import torch

        # shaped like one sequence's keys/values per layer: (kv heads, length, head dim)
        capacity = layers[0][0].shape[1] + self.growth
        self.keys = [torch.zeros(slots, k.shape[0], capacity, k.shape[2], dtype=k.dtype) for k, _ in layers]
        self.values = [torch.zeros(slots, v.shape[0], capacity, v.shape[2], dtype=v.dtype) for _, v in layers]
        self.lengths = torch.zeros(slots, dtype=torch.long)

    @property
    def slots(self) -> int:
        return len(self.lengths)

    @property
    def capacity(self) -> int:
        return self.keys[0].shape[2]

    def reserve(self, length: int) -> None:
        """Grow every slot to hold at least ``length`` tokens (slots start at the first prompt's length, the
        longest when prompts come longest first, so most sequences never need the room of max_new_tokens)."""
        import torch

        if length <= self.capacity:
            return
        extra = length - self.capacity + self.growth
        for buffers in (self.keys, self.values):
            for i, t in enumerate(buffers):  # one layer at a time, so only one layer is ever held twice
                buffers[i] = torch.cat([t, t.new_zeros(t.shape[0], t.shape[1], extra, t.shape[3])], dim=2)

    def put(self, slot: int, layers: Sequence[tuple[Any, Any]]) -> None:
        """Place one sequence's prompt keys/values, each (kv heads, length, head dim), in ``slot``."""
        n = layers[0][0].shape[1]
        self.reserve(n)
        for buf_k, buf_v, (k, v) in zip(self.keys, self.values, layers):
            buf_k[slot, :, :n] = k
            buf_v[slot, :, :n] = v
        self.lengths[slot] = n

    def keep(self, slots: Sequence[int]) -> None:
        """Drop every slot not listed (once no prompt is waiting, finished sequences leave the batch)."""
        import torch

        index = torch.tensor(list(slots), dtype=torch.long)
        self.keys = [k[index] for k in self.keys]
        self.values = [v[index] for v in self.values]
        self.lengths = self.lengths[index]

    def step_inputs(self) -> tuple[Any, Any]:
        """Position ids (slots, 1) and attention mask (slots, 1, 1, keys) for one new token per slot."""
        import torch

        width = int(self.lengths.max()) + 1
        self.reserve(width)
        mask = torch.arange(width)[None, :] <= self.lengths[:, None]
        return self.lengths[:, None].clone(), mask[:, None, None, :]

    def as_transformers_cache(self) -> Any:
        """A transformers cache whose layers write into these buffers at each slot's length."""
        from transformers import DynamicCache
        from transformers.cache_utils import DynamicLayer

        store = self

        class SlotLayer(DynamicLayer):
            def __init__(self, index: int):
                super().__init__()
                self.index, self.is_initialized = index, True

            def update(self, key_states, value_states, *args, **kwargs):
                import torch

                rows, at = torch.arange(store.slots), store.lengths
                keys, values = store.keys[self.index], store.values[self.index]
                keys[rows, :, at] = key_states[:, :, 0]
                values[rows, :, at] = value_states[:, :, 0]
                width = int(at.max()) + 1
                return keys[:, :, :width], values[:, :, :width]

            def get_seq_length(self) -> int:
                return int(store.lengths.max())

        cache = DynamicCache()
        cache.layers = [SlotLayer(i) for i in range(len(self.keys))]
        return cache

    def advance(self) -> None:
        self.lengths += 1
