"""Slot key/value memory: each prompt's prefill lands left-aligned in its slot, and each sequence writes at its own
length and sees only its own tokens."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from workbench.models.slots import SlotCache  # noqa: E402


def prefill(store: SlotCache, slots: list[int], prompts: list[list[float]]):
    """One prefill pass of a 2-layer model (kv heads=1, head dim=2) writing ``prompts`` into ``slots``, left-padded
    as the engine pads them: token t of a prompt has key [fill, t] and value -key. Returns what layer 0 handed the
    attention."""
    width = max(len(p) for p in prompts)
    pads = [width - len(p) for p in prompts]
    cache = store.prefill_cache(slots, pads)
    keys = torch.full((len(prompts), 1, width, 2), -1.0)  # padding: -1
    for b, p in enumerate(prompts):
        for t, fill in enumerate(p):
            keys[b, 0, pads[b] + t] = torch.tensor([fill, float(t)])
    seen = [cache.layers[layer].update(keys, -keys) for layer in range(2)][0]
    for slot, p in zip(slots, prompts):
        store.advance(slot, len(p))
    return seen


def test_a_batch_of_prompts_lands_left_aligned_each_in_its_slot():
    store = SlotCache(layers=2, slots=3, capacity=6)
    seen_keys, _ = prefill(store, [2, 0], [[5.0] * 4, [7.0] * 2])
    assert seen_keys.shape == (2, 1, 4, 2)  # new prompts see their own keys, as padded
    assert store.lengths.tolist() == [2, 0, 4]
    assert store.keys[1][2, 0, :4].tolist() == [[5.0, t] for t in range(4)]
    assert store.keys[0][0, 0, :2].tolist() == [[7.0, 0.0], [7.0, 1.0]]
    assert store.values[0][0, 0, :2].tolist() == [[-7.0, -0.0], [-7.0, -1.0]]
    assert store.keys[0][0, 0, 2:].abs().sum() == 0  # padding is not written
    assert store.keys[0][1].abs().sum() == 0  # slot 1 untouched


def test_a_long_prompt_continues_in_its_slot_and_its_chunk_sees_the_earlier_tokens():
    store = SlotCache(layers=2, slots=2, capacity=8)
    prefill(store, [1], [[3.0] * 3])
    seen_keys, seen_values = prefill(store, [1], [[4.0] * 2])
    assert store.lengths.tolist() == [0, 5]
    assert seen_keys.shape == (1, 1, 5, 2)
    assert seen_keys[0, 0, :, 0].tolist() == [3.0, 3.0, 3.0, 4.0, 4.0]
    assert seen_values[0, 0, 3].tolist() == [-4.0, -0.0]
    with pytest.raises(AssertionError):
        store.prefill_cache([1, 0], [0, 0])  # a continuing chunk goes alone


def test_slots_step_each_at_its_own_length():
    store = SlotCache(layers=2, slots=2, capacity=6)
    prefill(store, [1, 0], [[2.0] * 5, [1.0] * 3])
    positions, mask = store.step_inputs()
    assert positions[:, 0].tolist() == [3, 5]
    assert mask.shape == (2, 1, 1, 6)
    assert mask[0, 0, 0].tolist() == [True] * 4 + [False] * 2  # slot 0 sees its 3 tokens and the new one
    assert mask[1, 0, 0].tolist() == [True] * 6

    cache = store.as_transformers_cache()
    new = torch.tensor([[[[7.0, 7.0]]], [[[9.0, 9.0]]]])  # (slots, kv heads, 1 token, head dim)
    keys, values = cache.layers[1].update(new, -new)
    store.advance(0, 1)
    store.advance(1, 1)
    assert keys.shape == (2, 1, 6, 2)
    assert keys[0, 0, 3].tolist() == [7.0, 7.0] and keys[1, 0, 5].tolist() == [9.0, 9.0]
    assert keys[0, 0, 2].tolist() == [1.0, 2.0]  # the prompt's last token, in place
    assert values[0, 0, 3].tolist() == [-7.0, -7.0]
    assert store.lengths.tolist() == [4, 6]


def test_keep_drops_finished_slots():
    store = SlotCache(layers=2, slots=3, capacity=4)
    prefill(store, [2, 1, 0], [[3.0] * 3, [2.0] * 2, [1.0]])
    store.keep([2, 0])
    assert store.slots == 2 and store.lengths.tolist() == [3, 1]
    assert store.keys[0][0, 0, 0].tolist() == [3.0, 0.0] and store.keys[1][1, 0, 0].tolist() == [1.0, 0.0]


def test_slots_grow_when_a_sequence_reaches_the_end_and_keep_their_contents(monkeypatch):
    monkeypatch.setattr(SlotCache, "growth", 1)
    store = SlotCache(layers=2, slots=2, capacity=3)
    prefill(store, [1, 0], [[2.0] * 3, [1.0] * 2])  # slot 1 fits exactly
    assert store.capacity == 3
    store.step_inputs()  # slot 1 writes its 4th token: room is made first
    assert store.capacity == 5 and store.keys[0].shape[2] == 5
    assert store.keys[0][1, 0, :3, 0].tolist() == [2.0] * 3 and store.keys[0][1, 0, 3:].abs().sum() == 0


def test_a_step_of_several_tokens_writes_each_slot_at_its_length_and_keeps_what_is_confirmed():
    store = SlotCache(layers=2, slots=2, capacity=7)
    prefill(store, [1, 0], [[2.0] * 4, [1.0] * 2])
    positions, mask = store.step_inputs(3)  # the last token and a draft of two
    assert positions.tolist() == [[2, 3, 4], [4, 5, 6]]
    assert mask.shape == (2, 1, 3, 7)
    assert mask[0, 0].int().tolist() == [[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0]]
    assert mask[1, 0, 2].all()

    cache = store.as_transformers_cache()
    new = torch.arange(12, dtype=torch.float32).reshape(2, 1, 3, 2)  # (slots, kv heads, 3 tokens, head dim)
    keys, _ = cache.layers[0].update(new, -new)
    assert keys.shape == (2, 1, 7, 2)
    assert keys[0, 0, 2:5].tolist() == new[0, 0].tolist() and keys[1, 0, 4:7].tolist() == new[1, 0].tolist()
    store.advance(0, 1)  # slot 0's draft was wrong at once: only the fed token stays
    store.advance(1, 3)
    assert store.lengths.tolist() == [3, 7]
    positions, mask = store.step_inputs()
    assert positions[:, 0].tolist() == [3, 7]
    assert mask[0, 0, 0].tolist() == [True] * 4 + [False] * 4  # the unconfirmed draft is out of sight


def test_refit_adds_empty_slots_and_drops_room_no_sequence_needs():
    store = SlotCache(layers=2, slots=2, capacity=5)
    prefill(store, [0, 1], [[1.0] * 5, [2.0] * 3])
    store.release(0)  # a finished sequence needs no room
    store.refit(3, 4)
    assert store.slots == 3 and store.capacity == 4 and store.lengths.tolist() == [0, 3, 0]
    assert store.keys[1][1, 0, :3, 0].tolist() == [2.0] * 3 and store.keys[1][2].abs().sum() == 0
    prefill(store, [2], [[3.0] * 4])
    assert store.values[0][2, 0, 3].tolist() == [-3.0, -3.0]
    store.refit(3, 9)  # refit never grows a slot: reserve does, when a sequence needs it
    assert store.capacity == 4 and store.keys[0].shape[2] == 4


GROW_IN_A_FRESH_PROCESS = """
import resource, sys, torch
from workbench.models.slots import SlotCache
big = torch.empty(24 * 2**20 // 4); big.fill_(1); del big  # freeing it raises glibc's mmap threshold to 24 MB
store = SlotCache(20, 4, 2048)  # 20 layers, keys and values of 4 x 1 x 2,048 x 64 floats: 2 MB each, 80 MB in all
cache, kv = store.prefill_cache([0, 1, 2, 3], [0, 0, 0, 0]), torch.zeros(4, 1, 1, 64)
for layer in range(20):  # a one-token prompt in each slot makes every layer's buffers
    cache.layers[layer].update(kv, kv)
for b in store.keys + store.values:
    b.fill_(1)
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
before, high = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
store.reserve(2048 + 100)
for b in store.keys + store.values:
    b.fill_(1)
print(before, high, rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator and /proc")
def test_growing_the_slots_holds_only_one_old_buffer_at_a_time():
    """Each old buffer's pages go back before the next new one is made: the high-water mark of growing 80 MB of
    slots by 8% is the grown slots plus about one buffer, not the old slots and the new side by side (before the
    trim after each buffer: 37 MB over)."""
    out = subprocess.run([sys.executable, "-c", GROW_IN_A_FRESH_PROCESS], capture_output=True, text=True, check=True)
    before, high_before, after, high_after = map(float, out.stdout.split())
    assert after - before > 5  # the slots did grow (by about 6 MB)
    assert high_after - max(high_before, after) < 12, out.stdout
