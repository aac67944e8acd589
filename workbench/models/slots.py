"""Key/value memory for batched decoding: one preallocated slot per sequence.

transformers' DynamicCache grows by concatenation, copying every layer's whole cache at every generated
token; on a CPU that copy costs more than the model's own matrix multiplies once prompts are long (few-shot
GSM8K). Here each sequence owns a slot of fixed capacity, its tokens left-aligned. A prompt's prefill writes its
keys/values straight into its slot, in chunks (``prefill_cache``), so no second copy of them is ever held; a
decoding step writes each sequence's new keys/values at that sequence's own length: one token, or a token and the
draft after it (drafts.py), of which the model keeps what it confirms. Slots are refilled with new prompts as
sequences finish, so the batch stays full.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .memory import release_freed_memory


def kv_bytes_per_token(cfg: Any, element_size: int = 4) -> int:
    """Bytes of keys and values that one token occupies across all layers of the language model whose config is
    ``cfg`` (a multimodal model's text config)."""
    heads = cfg.num_attention_heads
    kv_heads = getattr(cfg, "num_key_value_heads", None) or heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    return 2 * cfg.num_hidden_layers * kv_heads * head_dim * element_size


class SlotCache:
    """Per-layer buffers of shape (slots, kv heads, capacity, head dim) and each slot's length.

    A layer's buffers are made at its first write, shaped like the keys/values the model hands it, so the
    cache needs nothing from the config but the number of layers."""

    growth = 64  # tokens added to the capacity when a sequence reaches the end of its slot

    def __init__(self, layers: int, slots: int, capacity: int):
        import torch

        self.keys: list[Any] = [None] * layers
        self.values: list[Any] = [None] * layers
        self.lengths = torch.zeros(slots, dtype=torch.long)
        self._capacity = capacity

    @property
    def slots(self) -> int:
        return len(self.lengths)

    @property
    def capacity(self) -> int:
        return self._capacity

    def reserve(self, length: int) -> None:
        """Grow every slot to hold at least ``length`` tokens (slots start at the first prompt's length, the
        longest when prompts come longest first, so most sequences never need the room of max_new_tokens)."""
        import torch

        if length <= self.capacity:
            return
        extra = length - self.capacity + self.growth
        self._capacity += extra
        self._remake(lambda t: torch.cat([t, t.new_zeros(t.shape[0], t.shape[1], extra, t.shape[3])], dim=2))

    def refit(self, slots: int, capacity: int) -> None:
        """Hold ``slots`` slots (new ones empty, at the end) of ``capacity`` tokens, which must hold every slot's
        length: as prompts get shorter (longest come first), the same memory holds more sequences."""
        import torch

        assert capacity >= int(self.lengths.max()) and slots >= self.slots
        extra = slots - self.slots
        self._capacity = capacity = min(capacity, self.capacity)  # only ``reserve`` grows a slot
        self._remake(lambda t: torch.cat([t[:, :, :capacity], t.new_zeros(extra, t.shape[1], capacity, t.shape[3])]))
        self.lengths = torch.cat([self.lengths, self.lengths.new_zeros(extra)])

    def release(self, slot: int) -> None:
        """``slot``'s sequence has finished: its tokens need no room any more."""
        self.lengths[slot] = 0

    def keep(self, slots: Sequence[int]) -> None:
        """Drop every slot not listed (once no prompt is waiting, finished sequences leave the batch)."""
        import torch

        index = torch.tensor(list(slots), dtype=torch.long)
        self._remake(lambda t: t[index])
        self.lengths = self.lengths[index]

    def _remake(self, make: Callable[[Any], Any]) -> None:
        """Replace every buffer by ``make(buffer)``, one at a time, handing each old buffer's pages back before the
        next is made, so only one layer is ever held twice. glibc keeps freed blocks (memory.py), and a new
        buffer, larger than the old one, does not fit the old one's place: without a trim after each, the old
        buffers' pages would all stay resident until the last new one is made (measured: growing 330 MB of slots
        to 360 MB reached 187 MB over the start; with the trim after each, 55 MB)."""
        for buffers in (self.keys, self.values):
            for i, t in enumerate(buffers):
                if t is not None:
                    buffers[i] = make(t)
                    del t
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

    def _buffers(self, layer: int, key_states: Any, value_states: Any) -> tuple[Any, Any]:
        """``layer``'s key and value buffers, made at its first write shaped like the keys/values the model hands it
        (batch, kv heads, tokens, head dim)."""
        if self.keys[layer] is None:
            k, v = key_states, value_states
            self.keys[layer] = k.new_zeros(self.slots, k.shape[1], self.capacity, k.shape[3])
            self.values[layer] = v.new_zeros(self.slots, v.shape[1], self.capacity, v.shape[3])
        return self.keys[layer], self.values[layer]

    def as_transformers_cache(self) -> Any:
        """A transformers cache for a decoding step: every slot is a batch row, and each writes its new tokens at
        its own length."""
        import torch

        store = self

        def update(index: int, key_states: Any, value_states: Any) -> tuple[Any, Any]:
            n = key_states.shape[2]  # new tokens per slot
            at = store.lengths[:, None] + torch.arange(n)
            rows = torch.arange(store.slots)[:, None].expand_as(at)
            keys, values = store._buffers(index, key_states, value_states)
            keys[rows, :, at] = key_states.transpose(1, 2)  # indexed as (slots, tokens, kv heads, head dim)
            values[rows, :, at] = value_states.transpose(1, 2)
            width = int(store.lengths.max()) + n
            return keys[:, :, :width], values[:, :, :width]

        return _cache(len(self.keys), update, lambda: int(store.lengths.max()))

    def prefill_cache(self, slots: Sequence[int], pads: Sequence[int]) -> Any:
        """A transformers cache for a prefill pass that writes batch row b into slot ``slots[b]``: either several
        new prompts, row b left-padded by ``pads[b]`` tokens, or the next chunk of one prompt already partly in
        its slot (no padding). Each real token lands at its position in the slot; padding is not written."""
        past = int(self.lengths[slots[0]])
        assert past == 0 or len(slots) == 1, "a prompt continues alone"
        store = self

        def update(index: int, key_states: Any, value_states: Any) -> tuple[Any, Any]:
            n = key_states.shape[2]
            keys, values = store._buffers(index, key_states, value_states)
            for b, (slot, pad) in enumerate(zip(slots, pads)):
                keys[slot, :, past : past + n - pad] = key_states[b, :, pad:]
                values[slot, :, past : past + n - pad] = value_states[b, :, pad:]
            if past == 0:
                return key_states, value_states  # the new prompts' own keys are all they see
            slot = slots[0]
            return keys[slot : slot + 1, :, : past + n], values[slot : slot + 1, :, : past + n]

        return _cache(len(self.keys), update, lambda: past)

    def advance(self, slot: int, tokens: int) -> None:
        """Keep the keys/values of the first ``tokens`` tokens that the last pass wrote in ``slot``."""
        self.lengths[slot] += tokens


def _cache(layers: int, update: Callable[[int, Any, Any], tuple[Any, Any]], length: Callable[[], int]) -> Any:
    """A transformers DynamicCache whose layer ``i`` answers ``update(i, keys, values)`` and whose length is
    ``length()``."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    class SlotLayer(DynamicLayer):
        def __init__(self, index: int):
            super().__init__()
            self.index, self.is_initialized = index, True

        def update(self, key_states, value_states, *args, **kwargs):
            return update(self.index, key_states, value_states)

        def get_seq_length(self) -> int:
            return length()

    cache = DynamicCache()
    cache.layers = [SlotLayer(i) for i in range(layers)]
    return cache
