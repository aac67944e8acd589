"""Tokens as lm-evaluation-harness makes them, for every backend that tokenizes here (transformers, a
completions server, llama.cpp, vLLM): the harness's encoding, its context/continuation split, text cut at whole
characters, and ``HarnessTokens``, the methods a backend with a tokenizer gets from them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import WorkbenchError
from .base import LoglikelihoodRequest, LoglikelihoodResponse, Progress, in_order, rolling_windows

TokenPair = tuple[Sequence[int], Sequence[int]]  # (context tokens, continuation tokens)


def encode(tokenizer: Any, text: str) -> list[int]:
    """Tokens of ``text`` as the harness encodes them (the tokenizer's own special-token rule, no second BOS)."""
    return encode_many(tokenizer, [text])[0]


def encode_many(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """``encode`` of each text. Each distinct text is encoded once (a few-shot context recurs once per answer
    choice), and with a fast tokenizer all in one batch call, which its Rust side spreads over the CPU's cores."""
    bos_text = tokenizer.bos_token
    distinct = list(dict.fromkeys(texts))
    starts = {t: bool(bos_text) and t.startswith(bos_text) for t in distinct}  # these get no second BOS
    encoded: dict[str, list[int]] = {}
    for group, kwargs in (
        ([t for t in distinct if not starts[t]], {}),
        ([t for t in distinct if starts[t]], {"add_special_tokens": False}),
    ):
        if not group:
            continue
        if getattr(tokenizer, "is_fast", False):
            encoded.update(zip(group, tokenizer(group, **kwargs)["input_ids"]))
        else:
            encoded.update((t, tokenizer.encode(t, **kwargs)) for t in group)
    return [list(encoded[t]) for t in texts]


def encode_pair(tokenizer: Any, prefix_token_id: int, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """Context and continuation tokens; trailing context spaces move to the continuation, and the
    continuation is what encoding the whole adds after the context's own tokens (the harness's split)."""
    return encode_pairs(tokenizer, prefix_token_id, [(context, continuation)])[0]


def encode_pairs(
    tokenizer: Any, prefix_token_id: int, pairs: Sequence[tuple[str, str]]
) -> list[tuple[list[int], list[int]]]:
    """``encode_pair`` of each (context, continuation), encoded together (``encode_many``)."""
    split = []
    for context, continuation in pairs:
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces:
            continuation = context[-n_spaces:] + continuation
            context = context[:-n_spaces]
        split.append((context, continuation))
    encoded = encode_many(tokenizer, [c + x for c, x in split] + [c for c, _ in split])
    out = []
    for k, (context, _) in enumerate(split):
        whole, ctx = encoded[k], encoded[len(split) + k]
        out.append(([prefix_token_id], whole) if not context else (ctx, whole[len(ctx) :]))
    return out


def whole_characters(tokenizer: Any, ids: Sequence[int], text: str) -> str:
    """``text`` (the decoded ``ids``) without a character cut in half at its end.

    Byte-level tokens split one Hangul syllable or emoji over up to four tokens, so a sequence stopped by the
    token limit can end inside a character, which decodes as U+FFFD. The tokens of the unfinished character are
    left out (the count of generated tokens is unchanged).
    """
    keep = len(ids)
    while text.endswith("\ufffd") and keep > 0 and len(ids) - keep < 4:
        keep -= 1
        text = tokenizer.decode(ids[:keep], skip_special_tokens=True)
    return text


class HarnessTokens:
    """Tokens as lm-evaluation-harness makes them, for a backend with ``tokenizer`` (a transformers tokenizer or
    one that behaves as one) and ``prefix_token_id``: ``encode``, ``encode_pair``, ``token_pairs`` (a list of
    requests split, each with at least one continuation token, else refused as the harness refuses it) and
    ``render_prompt`` (chat messages through the tokenizer's chat template)."""

    tokenizer: Any
    prefix_token_id: int

    def encode(self, text: str) -> list[int]:
        return encode(self.tokenizer, text)

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        return encode_pair(self.tokenizer, self.prefix_token_id, context, continuation)

    def token_pairs(self, requests: Sequence[LoglikelihoodRequest]) -> list[tuple[list[int], list[int]]]:
        pairs = encode_pairs(self.tokenizer, self.prefix_token_id, [(r.context, r.continuation) for r in requests])
        for r, (_, cont) in zip(requests, pairs):
            if not cont:
                raise WorkbenchError(
                    f"Cannot score the continuation {r.continuation!r} after {r.context[-40:]!r}: the tokenizer merges "
                    "it into the context's last token, which leaves no continuation tokens (lm-evaluation-harness "
                    "refuses such requests too). End the context at a word boundary, or start the continuation "
                    "with a space."
                )
        return pairs

    def render_prompt(self, prompt: str | Sequence[dict[str, str]]) -> str:
        """A plain prompt as it is; chat messages through the tokenizer's chat template, ready for an answer."""
        if isinstance(prompt, str):
            return prompt
        return self.tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)


class TokenPairScoring(HarnessTokens):
    """Log-likelihoods and rolling log-likelihoods for a local backend that scores (context, continuation) token
    pairs: it writes ``iter_token_pairs`` (index, (summed log-probability, greedy)) and has ``max_length``; this
    gives ``iter_loglikelihood``, ``score_token_pairs`` (in order) and ``iter_rolling`` (the harness's disjoint
    windows of ``max_length`` tokens, each scored as a pair)."""

    max_length: int

    def iter_token_pairs(
        self, pairs: Sequence[TokenPair], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, tuple[float, bool]]]:
        raise NotImplementedError

    def iter_loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, LoglikelihoodResponse]]:
        """(index, response) pairs in the order the backend finishes them."""
        pairs = self.token_pairs(requests)
        for i, (lp, greedy) in self.iter_token_pairs(pairs, batch_size=batch_size, progress=progress):
            yield i, LoglikelihoodResponse(lp, greedy, len(pairs[i][1]))

    def score_token_pairs(
        self, pairs: Sequence[TokenPair], *, batch_size: int = 16, progress: Progress | None = None
    ) -> list[tuple[float, bool]]:
        return in_order(self.iter_token_pairs(pairs, batch_size=batch_size, progress=progress), len(pairs))

    def iter_rolling(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, list[float]]]:
        """(index, log-likelihood of each window) per text, as soon as the text is scored."""
        for i, text in enumerate(texts):
            windows = rolling_windows(self.encode(text), self.prefix_token_id, self.max_length)
            yield i, [lp for lp, _ in self.score_token_pairs(windows)]
            if progress:
                progress(1)
