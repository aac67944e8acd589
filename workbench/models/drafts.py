"""Draft tokens for greedy decoding by prompt lookup: a sequence's next tokens guessed from its own text.

A few-shot prompt's answer repeats much of it: numbers and names from the question, the examples' phrasing
("<<48/2=24>>24 clips"). The draft is the tokens that followed the latest earlier occurrence of the sequence's
last two tokens (or, when those never occurred before, its last token) in the prompt or in what the model has
written so far. The model checks a whole draft in one pass (slots.py writes several tokens per slot): it keeps
the drafted tokens up to the first one its own greedy choice differs from, then adds its own choice. The text is
what decoding one token at a time gives; only the number of passes changes. On a CPU a decoding pass costs
about the same whatever its few rows (the matrix multiply kernel is slow there, docs/performance.md), so three
tokens a sequence cost about 1.3 times one: with drafts of 2 tokens,
5-shot GSM8K (50 items, smollm2-135m) writes its 2,891 tokens in 1,501 sequence-passes instead of 2,849.
"""

from __future__ import annotations

from collections.abc import Iterable


class PromptLookup:
    """One sequence's tokens (prompt, then generated) and, for each 1- and 2-token key, where the token that
    followed its latest occurrence sits."""

    def __init__(self, tokens: Iterable[int]):
        self.tokens: list[int] = []
        self.after: dict[tuple[int, ...], int] = {}
        for token in tokens:
            self.append(token)

    def append(self, token: int) -> None:
        self.tokens.append(token)
        end = len(self.tokens) - 1  # the new token follows the keys that end just before it
        for n in (1, 2):
            if end >= n:
                self.after[tuple(self.tokens[end - n : end])] = end

    def draft(self, limit: int) -> list[int]:
        """Up to ``limit`` tokens that followed the latest earlier occurrence of the last two tokens, or of the
        last token alone; [] when neither occurred before."""
        if limit <= 0:
            return []
        for n in (2, 1):
            at = self.after.get(tuple(self.tokens[-n:])) if len(self.tokens) >= n else None
            if at is not None:
                return self.tokens[at : at + limit]
        return []
