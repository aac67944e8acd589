"""transformers backend: answers the three request kinds with a causal LM on the CPU or a GPU.

Log-likelihoods follow lm-evaluation-harness exactly (token boundaries, truncation, greedy check) so
scores are comparable with the Open LLM Leaderboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import (
    GenerateRequest,
    GenerateResponse,
    LoglikelihoodRequest,
    LoglikelihoodResponse,
    Progress,
    rolling_windows,
)


class HFModel:
    """A loaded transformers causal LM plus its tokenizer."""

    def __init__(self, name: str, model: Any, tokenizer: Any, identity: dict[str, Any]):
        self.name = name
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._identity = dict(identity)
        cfg = model.config
        self.max_length = int(
            getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None) or 2048
        )
        bos = tokenizer.bos_token_id
        self.prefix_token_id = bos if bos is not None else tokenizer.eos_token_id

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    # ---- tokenization (as the harness does it) -------------------------------------------------
    def encode(self, text: str) -> list[int]:
        bos_text = self.tokenizer.bos_token
        kwargs = {"add_special_tokens": False} if bos_text and text.startswith(bos_text) else {}
        return list(self.tokenizer.encode(text, **kwargs))

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        """Context and continuation tokens; trailing context spaces move to the continuation."""
        n_spaces = len(context) - len(context.rstrip())
        if n_spaces:
            continuation = context[-n_spaces:] + continuation
            context = context[:-n_spaces]
        if not context:
            return [self.prefix_token_id], self.encode(continuation)
        whole = self.encode(context + continuation)
        ctx = self.encode(context)
        return ctx, whole[len(ctx) :]

    # ---- request kind 1: loglikelihood ---------------------------------------------------------
    def loglikelihood(
        self, requests: Sequence[LoglikelihoodRequest], *, batch_size: int = 16, progress: Progress | None = None
    ) -> list[LoglikelihoodResponse]:
        pairs = [self.encode_pair(r.context, r.continuation) for r in requests]
        scored = self.score_token_pairs(pairs, batch_size=batch_size, progress=progress)
        return [LoglikelihoodResponse(lp, greedy, len(cont)) for (lp, greedy), (_, cont) in zip(scored, pairs)]

    def score_token_pairs(
        self, pairs: Sequence[tuple[list[int], list[int]]], *, batch_size: int = 16, progress: Progress | None = None
    ) -> list[tuple[float, bool]]:
        """Sum of continuation log-probs and greedy flag for each (context tokens, continuation tokens)."""
        import torch

        results: list[tuple[float, bool] | None] = [None] * len(pairs)
        inputs = []
        for i, (ctx, cont) in enumerate(pairs):
            seq = (ctx + cont)[-(self.max_length + 1) :][:-1]
            inputs.append((i, seq, cont))
        # longest first, as the harness orders them; ties broken by tokens for determinism
        inputs.sort(key=lambda x: (-len(x[1]) - 1, x[1] + x[2][-1:]))
        with torch.inference_mode():
            for start in range(0, len(inputs), max(1, batch_size)):
                batch = inputs[start : start + batch_size]
                width = max(len(seq) for _, seq, _ in batch)
                ids = torch.zeros((len(batch), width), dtype=torch.long)
                for row, (_, seq, _) in enumerate(batch):
                    ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
                # only positions that predict a continuation token need the LM head
                first = min(len(seq) - len(cont) for _, seq, cont in batch)
                keep = width - first
                logits = self.model(input_ids=ids, logits_to_keep=keep).logits
                logprobs = torch.log_softmax(logits.float(), dim=-1)
                for row, (i, seq, cont) in enumerate(batch):
                    end = len(seq) - first
                    span = logprobs[row, end - len(cont) : end]
                    target = torch.tensor(cont, dtype=torch.long)
                    greedy = bool((span.argmax(dim=-1) == target).all())
                    results[i] = (float(span.gather(1, target[:, None]).sum()), greedy)
                if progress:
                    progress(len(batch))
        return [r for r in results if r is not None]

    # ---- request kind 2: rolling loglikelihood -------------------------------------------------
    def rolling_loglikelihood(self, texts: Sequence[str], *, progress: Progress | None = None) -> list[list[float]]:
        """Total log-likelihood of each text's windows (one float per window), harness windows."""
        out = []
        for text in texts:
            windows = rolling_windows(self.encode(text), self.prefix_token_id, self.max_length)
            out.append([lp for lp, _ in self.score_token_pairs(windows, batch_size=1)])
            if progress:
                progress(1)
        return out

    # ---- request kind 3: generate --------------------------------------------------------------
    def render_prompt(self, prompt: str | Sequence[dict[str, str]]) -> str:
        if isinstance(prompt, str):
            return prompt
        return self.tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)

    def generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> list[GenerateResponse]:
        import torch

        tok = self.tokenizer
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        out: list[GenerateResponse | None] = [None] * len(requests)
        order = sorted(range(len(requests)), key=lambda i: -len(self.render_prompt(requests[i].prompt)))
        # requests with different parameters cannot share a generate() call
        groups: dict[tuple, list[int]] = {}
        for i in order:
            r = requests[i]
            groups.setdefault((r.max_new_tokens, r.temperature, r.stop, r.seed), []).append(i)
        with torch.inference_mode():
            for (max_new, temperature, stop, seed), idxs in groups.items():
                for start in range(0, len(idxs), max(1, batch_size)):
                    chunk = idxs[start : start + batch_size]
                    encoded = [self.encode(self.render_prompt(requests[i].prompt)) for i in chunk]
                    width = max(len(e) for e in encoded)
                    ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
                    mask = torch.zeros((len(chunk), width), dtype=torch.long)
                    for row, e in enumerate(encoded):
                        ids[row, width - len(e) :] = torch.tensor(e, dtype=torch.long)
                        mask[row, width - len(e) :] = 1
                    kwargs: dict[str, Any] = {"max_new_tokens": max_new, "pad_token_id": pad_id}
                    if temperature > 0:
                        if seed is not None:
                            torch.manual_seed(seed)
                        kwargs.update(do_sample=True, temperature=temperature)
                    else:
                        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
                    if stop:
                        kwargs.update(stop_strings=list(stop), tokenizer=tok)
                    gen = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)
                    for row, i in enumerate(chunk):
                        new = gen[row, width:].tolist()
                        if tok.eos_token_id in new:
                            new = new[: new.index(tok.eos_token_id)]
                        new = [t for t in new if t != pad_id] if pad_id != tok.eos_token_id else new
                        text = tok.decode(new, skip_special_tokens=True)
                        for s in stop:
                            text = text.split(s)[0]
                        out[i] = GenerateResponse(text, prompt_tokens=len(encoded[row]), completion_tokens=len(new))
                    if progress:
                        progress(len(chunk))
        return [o for o in out if o is not None]
