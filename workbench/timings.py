"""Serving-speed numbers from request clocks: ``Timing`` (one request's first token, last token and end, in
seconds from the moment every request was handed over), ``summarize`` (one setting's percentiles and rates) and
``speeds`` (prompt and generated tokens/s of requests timed one at a time). Used by ``workbench.throughput`` and the
variants' speed columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Timing:
    """One request's clock, in seconds from the moment every request was handed over."""

    index: int
    first_token: float | None = None
    last_token: float | None = None
    tokens: int = 0  # token events seen (a stop token chosen counts: it took a step)
    finished: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    text: str = ""

    @property
    def tpot(self) -> float | None:
        """Per-token latency: (last token - first token) / (tokens - 1); None below two timed tokens."""
        if self.first_token is None or self.last_token is None or self.tokens < 2:
            return None
        return (self.last_token - self.first_token) / (self.tokens - 1)


# ---- numbers from timings -------------------------------------------------------------------------------------
def _pct(values: Sequence[float], q: float) -> float | None:
    import numpy as np

    return float(np.percentile(values, q)) if values else None


def summarize(timings: Sequence[Timing]) -> dict[str, Any]:
    """TTFT, per-token latency and latency p50/p95, requests/s, tokens/s (generated), prompt tokens/s (prompt
    tokens over the summed TTFTs at concurrency 1: the prefill speed) of one setting's timings."""
    wall = max(t.finished for t in timings) if timings else 0.0
    ttft = [t.first_token for t in timings if t.first_token is not None]
    tpot = [t.tpot for t in timings if t.tpot is not None]
    latency = [t.finished for t in timings]
    generated = sum(t.completion_tokens for t in timings)
    prompt = sum(t.prompt_tokens for t in timings)
    return {
        "requests": len(timings),
        "prompt_tokens": prompt,
        "generated_tokens": generated,
        "wall_s": wall,
        "requests_per_s": len(timings) / wall if wall else None,
        "tokens_per_s": generated / wall if wall else None,
        "ttft_p50_s": _pct(ttft, 50),
        "ttft_p95_s": _pct(ttft, 95),
        "tpot_p50_s": _pct(tpot, 50),
        "tpot_p95_s": _pct(tpot, 95),
        "latency_p50_s": _pct(latency, 50),
        "latency_p95_s": _pct(latency, 95),
    }


def speeds(timings: Sequence[Timing]) -> tuple[float | None, float | None]:
    """(prompt tokens/s, generated tokens/s) of requests timed one at a time: prompt tokens over the time to
    their first tokens, later tokens over the time between first and last. Without token events: (None,
    generated tokens over the whole time)."""
    timed = [t for t in timings if t.first_token is not None and t.last_token is not None]
    if not timed:
        total = sum(t.completion_tokens for t in timings)
        wall = max((t.finished for t in timings), default=0.0)
        return None, (total / wall if wall else None)
    # at concurrency 1 requests run one after another: each one's own prefill is first_token - previous finish
    ordered = sorted(timed, key=lambda t: t.first_token or 0.0)
    prefill, decode, prompt, later, previous = 0.0, 0.0, 0, 0, 0.0
    for t in ordered:
        assert t.first_token is not None and t.last_token is not None
        prefill += t.first_token - previous
        decode += t.last_token - t.first_token
        prompt += t.prompt_tokens
        later += t.tokens - 1
        previous = t.finished
    return (prompt / prefill if prefill else None), (later / decode if decode else None)
