"""Planning shared-prefix scoring: which tokens each forward pass computes, and which logits it reads.

Requests are (context tokens, continuation tokens) exactly as lm-evaluation-harness tokenizes them, so
sharing work never changes what is scored:

- every continuation of one context goes into one row: the context once, then each continuation's
  tokens, with an attention mask that lets each continuation see the context and itself only (a tree);
- contexts that share a long token prefix (a few-shot block) form a family whose prefix is run once
  and reused as a key/value cache by every row of the family.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MIN_SHARED_PREFIX = 32  # shorter shared prefixes are cheaper to recompute than to cache


@dataclass
class Row:
    """One sequence of a forward pass: a context's tail, then the continuations' input tokens."""

    context: tuple[int, ...]
    tokens: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    segments: list[int] = field(default_factory=list)  # 0 = context, i > 0 = continuation i
    reads: list[tuple[int, list[int], list[int]]] = field(default_factory=list)  # (request, row indices, targets)


@dataclass
class Family:
    """Rows whose contexts share ``prefix`` (possibly empty), computed once as a cache."""

    prefix: tuple[int, ...]
    rows: list[Row]


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def group_families(contexts: Sequence[tuple[int, ...]]) -> list[tuple[int, list[tuple[int, ...]]]]:
    """Group distinct contexts into (shared prefix length, contexts); sorted order puts sharers together.

    A context keeps at least one token out of the shared prefix, because the logits of its last token
    predict the first token of every continuation.
    """
    ordered = sorted(set(contexts))
    if not ordered:
        return []
    families: list[tuple[int, list[tuple[int, ...]]]] = []
    members, shared = [ordered[0]], len(ordered[0]) - 1
    for prev, ctx in zip(ordered, ordered[1:]):
        common = min(common_prefix_length(prev, ctx), len(ctx) - 1)
        if common >= MIN_SHARED_PREFIX and common >= shared // 2:
            members.append(ctx)
            shared = min(shared, common)
        else:
            families.append((shared if len(members) > 1 else 0, members))
            members, shared = [ctx], len(ctx) - 1
    families.append((shared if len(members) > 1 else 0, members))
    return families


def plan(pairs: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[Family]:
    """Families of rows covering every request; each request reads its continuation's log-probs once."""
    by_context: dict[tuple[int, ...], list[int]] = {}
    for i, (ctx, cont) in enumerate(pairs):
        if not cont:  # its read would have no target and shift every later read of the batch
            raise ValueError(f"request {i} has no continuation tokens")
        by_context.setdefault(tuple(ctx), []).append(i)
    out = []
    unshared = Family((), [])  # contexts with no cached prefix are batched together, whatever their origin
    for shared, contexts in group_families(list(by_context)):
        rows = unshared.rows if shared == 0 else []
        for ctx in contexts:
            row = Row(ctx)
            tail = ctx[shared:]
            row.tokens += tail
            row.positions += range(shared, len(ctx))
            row.segments += [0] * len(tail)
            last = len(tail) - 1  # its logits predict every continuation's first token
            for seg, request in enumerate(by_context[ctx], start=1):
                cont = list(pairs[request][1])
                start = len(row.tokens)
                inputs = cont[:-1]
                row.tokens += inputs
                row.positions += range(len(ctx), len(ctx) + len(inputs))
                row.segments += [seg] * len(inputs)
                row.reads.append((request, [last] + list(range(start, start + len(inputs))), cont))
            rows.append(row)
        if shared:
            out.append(Family(tuple(contexts[0][:shared]), rows))
    return out + [unshared] if unshared.rows else out


def batches(rows: Sequence[Row], max_rows: int, max_tokens: int, prefix_len: int) -> list[list[Row]]:
    """Rows sorted longest first and packed so each batch holds at most ``max_rows`` rows and about
    ``max_tokens`` tokens of attention keys (padding included); sorting keeps padding small."""
    ordered = sorted(rows, key=lambda r: (-len(r.tokens), r.context))
    out: list[list[Row]] = []
    current: list[Row] = []
    for row in ordered:
        width = len(current[0].tokens) if current else len(row.tokens)
        if current and (len(current) >= max_rows or (len(current) + 1) * (width + prefix_len) > max_tokens):
            out.append(current)
            current = []
        current.append(row)
    if current:
        out.append(current)
    return out
