"""Key/value memory for batched decoding: one preallocated slot per sequence.

transformers' DynamicCache grows by concatenation, copying every layer's whole cache at every generated
token; on a CPU that copy costs more than the model's own matrix multiplies once prompts are long (few-shot
GSM8K). Here each sequence owns a slot of fixed capacity, its tokens left-aligned; a decoding step writes
each sequence's new keys/values at that sequence's own length: one token, or a token and the draft after it
(drafts.py), of which the model keeps what it confirms. Slots are refilled with new prompts as sequences finish,
so the batch stays full.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .memory import release_freed_memory


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
        release_freed_memory()  # the old buffers' pages; glibc would keep them (memory.py)

    def put(self, slot: int, layers: Sequence[tuple[Any, Any]]) -> None:
        """Place one sequence's prompt keys/values, each (kv heads, length, head dim), in ``slot``."""
        n = layers[0][0].shape[1]
        self.reserve(n)
        for buf_k, buf_v, (k, v) in zip(self.keys, self.values, layers):
            buf_k[slot, :, :n] = k
            buf_v[slot, :, :n] = v
        self.lengths[slot] = n

    def refit(self, slots: int, capacity: int) -> None:
        """Hold ``slots`` slots (new ones empty, at the end) of ``capacity`` tokens, which must hold every slot's
        length: as prompts get shorter (longest come first), the same memory holds more sequences."""
        import torch

        assert capacity >= int(self.lengths.max()) and slots >= self.slots
        extra = slots - self.slots
        for buffers in (self.keys, self.values):
            for i, t in enumerate(buffers):  # one layer at a time, as reserve
                kept = t[:, :, :capacity]
                buffers[i] = torch.cat([kept, kept.new_zeros(extra, *kept.shape[1:])])
        self.lengths = torch.cat([self.lengths, self.lengths.new_zeros(extra)])
        release_freed_memory()

    def release(self, slot: int) -> None:
        """``slot``'s sequence has finished: its tokens need no room any more."""
        self.lengths[slot] = 0

    def keep(self, slots: Sequence[int]) -> None:
        """Drop every slot not listed (once no prompt is waiting, finished sequences leave the batch)."""
        import torch

        index = torch.tensor(list(slots), dtype=torch.long)
        for buffers in (self.keys, self.values):
            for i, t in enumerate(buffers):  # one layer at a time, as reserve: the cache is never held twice
                buffers[i] = t[index]
        self.lengths = self.lengths[index]
        release_freed_memory()

    def step_inputs(self, tokens: int = 1) -> tuple[Any, Any]:
        """Position ids (slots, tokens) and attention mask (slots, 1, tokens, keys) for ``tokens`` new tokens per
        slot, each seeing its slot's tokens and the new ones up to itself."""
        import torch

        positions = self.lengths[:, None] + torch.arange(tokens)
        width = int(self.lengths.max()) + tokens
        self.reserve(width)
        mask = torch.arange(width)[None, None, :] <= positions[:, :, None]
        return positions, mask[:, None]

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

                n = key_states.shape[2]  # new tokens per slot
                at = store.lengths[:, None] + torch.arange(n)
                rows = torch.arange(store.slots)[:, None].expand_as(at)
                keys, values = store.keys[self.index], store.values[self.index]
                keys[rows, :, at] = key_states.transpose(1, 2)  # indexed as (slots, n, kv heads, head dim)
                values[rows, :, at] = value_states.transpose(1, 2)
                width = int(store.lengths.max()) + n
                return keys[:, :, :width], values[:, :, :width]

            def get_seq_length(self) -> int:
                return int(store.lengths.max())

        cache = DynamicCache()
        cache.layers = [SlotLayer(i) for i in range(len(self.keys))]
        return cache

    def advance(self, slot: int, tokens: int) -> None:
        """Keep the keys/values of the first ``tokens`` tokens that the last step wrote in ``slot``."""
        self.lengths[slot] += tokens
