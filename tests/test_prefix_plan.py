"""Shared-prefix planning: every request is read once, from positions that see exactly its own history."""

from __future__ import annotations

import pytest

from workbench.models.prefix import MIN_SHARED_PREFIX, batches, group_families, plan


def pairs_with_shared_block():
    block = list(range(1000, 1000 + MIN_SHARED_PREFIX + 8))  # a few-shot block every question shares
    out = []
    for q in range(3):
        ctx = block + [50 + q, 60 + q]
        out += [(ctx, [7]), (ctx, [8, 9, 10]), (ctx, [7, 11])]
    out.append(([5, 6], [1, 2]))  # an unrelated short context
    return block, out


def test_families_share_the_block_and_keep_a_token_per_context():
    block, pairs = pairs_with_shared_block()
    families = group_families([tuple(c) for c, _ in pairs])
    shared = [f for f in families if f[0]]
    assert len(shared) == 1 and shared[0][0] == len(block) and len(shared[0][1]) == 3
    assert [f for f in families if not f[0]] == [(0, [(5, 6)])]


def test_each_read_sees_the_request_history_at_the_right_positions():
    _, pairs = pairs_with_shared_block()
    seen = set()
    for family in plan(pairs):
        p = len(family.prefix)
        for row in family.rows:
            full_ctx = list(family.prefix) + row.tokens[: len(row.context) - p]
            assert tuple(full_ctx) == row.context
            for request, index, targets in row.reads:
                ctx, cont = pairs[request]
                assert targets == list(cont) and request not in seen
                seen.add(request)
                history = list(ctx) + list(cont)
                for i, target in zip(index, targets):
                    position = row.positions[i]
                    # the token read at index i sits at absolute position `position`; it predicts the next one
                    assert history[position] == (row.tokens[i]) and history[position + 1] == target
                    # it attends to the context and to its own segment only
                    visible = [j for j in range(i + 1) if row.segments[j] in (0, row.segments[i])]
                    assert [row.positions[j] for j in visible] == list(range(p, position + 1))
    assert seen == set(range(len(pairs)))


def test_batches_respect_row_and_token_limits():
    _, pairs = pairs_with_shared_block()
    rows = [r for f in plan(pairs) for r in f.rows]
    for batch in batches(rows, max_lines=2, max_tokens=10_000, prefix_len=0):
        assert len(batch) <= 2
    packed = batches(rows, max_lines=64, max_tokens=20, prefix_len=0)
    assert all(len(b) == 1 or len(b) * len(b[0].tokens) <= 20 for b in packed)
    assert sum(len(line.rows) for b in packed for line in b) == len(rows)


def test_contexts_without_a_shared_prefix_form_one_family_so_they_batch_together():
    pairs = [([q, q + 1, q + 2], [7]) for q in range(0, 300, 10)] + [([q, q + 1], [8, 9]) for q in range(0, 300, 10)]
    families = plan(pairs)
    assert len(families) == 1 and families[0].prefix == ()
    assert len(families[0].rows) == 60
    assert len(batches(families[0].rows, max_lines=16, max_tokens=10_000, prefix_len=0)) == 4


def test_a_request_without_continuation_tokens_is_refused_not_misread():
    with pytest.raises(ValueError, match="request 1 has no continuation tokens"):
        plan([([1, 2], [3]), ([1, 2], []), ([1, 2], [4])])


def test_short_rows_share_a_line_and_each_read_still_sees_only_its_own_history():
    lengths = [9, 2, 6, 3, 4, 1, 5, 2]  # contexts of their own: one long, the rest fit beside each other
    pairs = [([100 * k + j for j in range(n)], [7, 8]) for k, n in enumerate(lengths)]
    (family,) = plan(pairs)
    packed = batches(family.rows, max_lines=3, max_tokens=10_000, prefix_len=0)
    lines = [line for batch in packed for line in batch]
    assert sorted(len(r.tokens) for line in lines for r in line.rows) == sorted(len(r.tokens) for r in family.rows)
    assert any(len(line.rows) > 1 for line in lines)  # shorter rows were packed together
    for batch in packed:
        assert len(batch) <= 3 and all(len(line) <= len(batch[0]) for line in batch)  # the first line is the widest
    # rows of 10, 7 and 6 tokens start the first batch's lines; 4 and 3 fill the rooms best (45 slots for 40 tokens,
    # where one row per line took 51)
    layout = [[[len(r.tokens) for r in line.rows] for line in batch] for batch in packed]
    assert layout == [[[10], [7, 3], [6, 4]], [[5], [3], [2]]]
    seen = set()
    for line in lines:
        tokens, positions, segments, groups = line.tokens, line.positions, line.segments, line.groups
        for request, index, targets in line.reads:
            seen.add(request)
            history = list(pairs[request][0]) + list(pairs[request][1])
            for i, target in zip(index, targets):
                assert history[positions[i]] == tokens[i] and history[positions[i] + 1] == target
                # the rule of hf.py's mask: earlier or same column, same row of the line, context or own segment
                visible = [j for j in range(i + 1) if groups[j] == groups[i] and segments[j] in (0, segments[i])]
                assert [tokens[j] for j in visible] == history[: positions[i] + 1]
    assert seen == set(range(len(pairs)))
