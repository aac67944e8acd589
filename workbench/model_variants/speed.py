"""How fast a variant reads and writes: prompt tokens/s and generated tokens/s, measured on the loaded model.

- **prompt tokens/s**: the task's own prompts scored one at a time (a log-likelihood request each, which reads
  the whole prompt: what prefill costs), their tokens over the time taken. llama.cpp's cache of the last
  sequence is switched off for it, so no prompt is read from an earlier one.
- **generated tokens/s**: open-ended prompts (a story, an explanation: answers that do not stop after a few
  tokens) generated greedily one at a time through ``workbench.throughput`` at concurrency 1 (saved as its run),
  the tokens after each answer's first over the time between its first and last.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..models.base import LoglikelihoodRequest

OPEN_PROMPTS = (
    "Write a long story about a lighthouse keeper who finds a message in a bottle.\n\n",
    "Explain in detail how rain forms, step by step.\n\n",
    "바다에 사는 고래에 대한 긴 이야기를 써 주세요.\n\n",
    "Describe a busy market in a large city, with its sounds and smells.\n\n",
    "List twenty animals and say one thing about each.\n\n",
    "서울의 사계절을 자세히 설명해 주세요.\n\n",
    "Write a letter to a friend about your last holiday.\n\n",
    "Explain how a bicycle works to a child.\n\n",
)


def prompt_speed(lm: Any, prompts: Sequence[str]) -> float | None:
    """Prompt tokens read per second: each prompt scored alone (one log-likelihood request, no cache reuse)."""
    if not prompts or not lm.capabilities.loglikelihood or not hasattr(lm, "encode"):
        return None
    reuse = getattr(lm, "reuse", None)
    if reuse is not None:
        lm.reuse = False  # llama.cpp: every request from scratch
    try:
        tokens, seconds = 0, 0.0
        for prompt in prompts:
            started = time.perf_counter()
            lm.loglikelihood([LoglikelihoodRequest(prompt, " A")], batch_size=1)
            seconds += time.perf_counter() - started
            tokens += len(lm.encode(prompt)) + 1
    finally:
        if reuse is not None:
            lm.reuse = reuse
    return tokens / seconds if seconds else None


def generation_speed(lm: Any, n_prompts: int, n_tokens: int, store: str | Path | None) -> tuple[float | None, str]:
    """(generated tokens/s, the throughput run's id): ``n_prompts`` open-ended prompts, ``n_tokens`` each."""
    from ..serving_speed import throughput

    prompts = [OPEN_PROMPTS[i % len(OPEN_PROMPTS)] for i in range(n_prompts)]
    t = throughput(lm, prompts, concurrency=[1], max_new_tokens=n_tokens, static=False, store=store)
    row = t.rows[0]
    return row["decode_tokens_per_s"] or row["tokens_per_s"] or None, t.run_id
