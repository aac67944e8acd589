"""Planning shared-prefix scoring: which tokens each forward pass computes, and which logits it reads.

Requests are (context tokens, continuation tokens) exactly as lm-evaluation-harness tokenizes them, so
sharing work never changes what is scored:

- every continuation of one context goes into one row: the context once, then each continuation's
  tokens, with an attention mask that lets each continuation see the context and itself only (a tree);
- contexts that share a long token prefix (a few-shot block) form a family whose prefix is run once
  and reused as a key/value cache by every row of the family;
- rows shorter than a pass's widest sit side by side in one line of the pass, each seeing only itself, so
  the pass computes little padding.

scoring_inputs.py turns a batch of lines into a transformers model's inputs.
"""

from __future__ import annotations

from bisect import bisect_left
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


@dataclass
class Line:
    """Rows side by side in one sequence of a forward pass. Each token attends only to the tokens of its own row
    (``groups``: the row's place in the line) and to the family's prefix; ``reads`` index into the whole line."""

    rows: list[Row]

    def __len__(self) -> int:
        return sum(len(r.tokens) for r in self.rows)

    @property
    def tokens(self) -> list[int]:
        return [t for r in self.rows for t in r.tokens]

    @property
    def positions(self) -> list[int]:
        return [p for r in self.rows for p in r.positions]

    @property
    def segments(self) -> list[int]:
        return [s for r in self.rows for s in r.segments]

    @property
    def groups(self) -> list[int]:
        return [g for g, r in enumerate(self.rows) for _ in r.tokens]

    @property
    def reads(self) -> list[tuple[int, list[int], list[int]]]:
        out, offset = [], 0
        for r in self.rows:
            out += [(request, [i + offset for i in index], targets) for request, index, targets in r.reads]
            offset += len(r.tokens)
        return out


def batches(rows: Sequence[Row], max_lines: int, max_tokens: int, prefix_len: int) -> list[list[Line]]:
    """Rows packed into the lines of forward passes, so that little of a pass is padding.

    A batch's lines are as wide as its longest row; it has at most ``max_lines`` lines and about ``max_tokens``
    attention keys (lines x (prefix + width)). Its lines start with the longest rows waiting, longest first, and
    each shorter row that fits in a line's room joins the line with the least room it fits (best fit
    decreasing); the rest wait for the next batch.
    """
    waiting = sorted(rows, key=lambda r: (-len(r.tokens), r.context))
    out: list[list[Line]] = []
    while waiting:
        width = len(waiting[0].tokens)
        n = max(1, min(max_lines, max_tokens // (width + prefix_len)))
        lines, rest = [Line([row]) for row in waiting[:n]], waiting[n:]
        used = [len(row.tokens) for row in waiting[:n]]
        keys = [-len(row.tokens) for row in rest]  # ascending: rows that fit a room are a suffix
        placed = [False] * len(rest)
        i = bisect_left(keys, -(width - min(used)))
        while i < len(rest):
            size = len(rest[i].tokens)
            fits = [j for j in range(len(lines)) if used[j] + size <= width]
            best = min(fits, key=lambda j: (width - used[j], j))
            lines[best].rows.append(rest[i])
            used[best] += size
            placed[i] = True
            i = max(i + 1, bisect_left(keys, -(width - min(used))))
        out.append(lines)
        waiting = [row for row, done in zip(rest, placed) if not done]
    return out
