"""Slot key/value memory: each sequence writes at its own length and sees only its own tokens."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from workbench.models.slots import SlotCache  # noqa: E402


def prompt(n: int, fill: float):
    """Keys and values of one sequence in a 2-layer model: (kv heads=1, n tokens, head dim=2)."""
    return [(torch.full((1, n, 2), fill), torch.full((1, n, 2), -fill)) for _ in range(2)]


def test_slots_hold_left_aligned_prompts_and_step_each_at_its_own_length():
    store = SlotCache(prompt(3, 1.0), slots=2)
    store.put(0, prompt(3, 1.0))
    store.put(1, prompt(5, 2.0))
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
    assert values[0, 0, 3].tolist() == [-7.0, -7.0]
    assert store.lengths.tolist() == [4, 6]


def test_keep_drops_finished_slots():
    store = SlotCache(prompt(2, 1.0), slots=3)
    for slot, fill in enumerate((1.0, 2.0, 3.0)):
        store.put(slot, prompt(slot + 1, fill))
    store.keep([2, 0])
    assert store.slots == 2 and store.lengths.tolist() == [3, 1]
    assert store.keys[0][0, 0, 0].tolist() == [3.0, 3.0] and store.keys[1][1, 0, 0].tolist() == [1.0, 1.0]


def test_slots_grow_when_a_sequence_reaches_the_end_and_keep_their_contents(monkeypatch):
    monkeypatch.setattr(SlotCache, "growth", 1)
    store = SlotCache(prompt(2, 1.0), slots=2)
    assert store.capacity == 3
    store.put(0, prompt(2, 1.0))
    store.put(1, prompt(3, 2.0))  # fits exactly
    assert store.capacity == 3
    store.step_inputs()  # slot 1 writes its 4th token: room is made first
    assert store.capacity == 5
    assert store.keys[0][1, 0, :3].tolist() == [[2.0, 2.0]] * 3 and store.keys[0][1, 0, 3:].abs().sum() == 0


def test_a_step_of_several_tokens_writes_each_slot_at_its_length_and_keeps_what_is_confirmed():
    store = SlotCache(prompt(2, 1.0), slots=2)
    store.put(0, prompt(2, 1.0))
    store.put(1, prompt(4, 2.0))
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
    store = SlotCache(prompt(5, 1.0), slots=2)
    store.put(0, prompt(5, 1.0))
    store.put(1, prompt(3, 2.0))
    store.release(0)  # a finished sequence needs no room
    store.refit(3, 4)
    assert store.slots == 3 and store.capacity == 4 and store.lengths.tolist() == [0, 3, 0]
    assert store.keys[1][1, 0, :3].tolist() == [[2.0, 2.0]] * 3 and store.keys[1][2].abs().sum() == 0
    store.put(2, prompt(4, 3.0))
    assert store.values[0][2, 0, 3].tolist() == [-3.0, -3.0]
