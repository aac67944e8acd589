"""transformers backend: answers the three request kinds with a causal LM on the CPU or a GPU.

Log-likelihoods follow lm-evaluation-harness exactly (token boundaries, truncation, greedy check) so
scores are comparable with the Open LLM Leaderboard.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import WorkbenchError
from .attention import attention_mask, sliding_layers
from .base import (
    LOCAL,
    GenerateRequest,
    GenerateResponse,
    ListAnswers,
    Progress,
    rolling_windows,
)
from .memory import release_freed_memory
from .tokens import TokenPair, TokenPairScoring, whole_characters

if TYPE_CHECKING:
    pass

TOKENIZER_INFINITY = 1000000000000000019884624838656  # transformers' "no limit" model_max_length
T = TypeVar("T")


def inference_steps(steps: Iterator[T], device: Any = "cpu") -> Iterator[T]:
    """``steps`` advanced under torch.inference_mode, with new tensors made on ``device`` (the model's) and, on the
    CPU, grouped-query attention kept grouped (``grouped_attention``), all off again while the caller handles each
    value (saving it to the store, scoring it): they are thread-wide or process-wide modes, so they must not stay
    on across a yield."""
    import torch

    while True:
        with torch.inference_mode(), torch.device(device), grouped_attention(device):
            try:
                value = next(steps)
            except StopIteration:
                return
        yield value


@contextmanager
def grouped_attention(device: Any) -> Iterator[None]:
    """On the CPU, have transformers' SDPA attention hand grouped key/value heads to torch as they are.

    Given a mask (ours always are: tree rows, padded prompts, slots) and more than one query per row, transformers
    repeats each key/value head for the query heads that share it (``repeat_kv``: SmolLM2 has 9 query heads on 3
    key/value heads), copying every layer's keys and values three times over; with a decoding step's draft
    (drafts.py) that copy cost more than the step's matrix multiplies. torch's CPU kernel takes the grouped heads
    with a mask directly (``enable_gqa``), with the same numbers. ``TRANSFORMERS_SDPA_FORCE_GQA=1`` is transformers'
    switch for it, read at each attention call; it is set while the engine's passes run on the CPU and restored
    after. On a GPU the masked grouped kernel is the slow math one, so it is left off there.
    """
    if str(device).split(":")[0] != "cpu":
        yield
        return
    name = "TRANSFORMERS_SDPA_FORCE_GQA"
    before = os.environ.get(name)
    os.environ[name] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def max_length(config: Any, tokenizer: Any, default: int = 2048) -> int:
    """The context window, looked up in the harness's order (text config, n_positions,
    max_position_embeddings, n_ctx, then the tokenizer's limit), so truncation and rolling windows match."""
    cfg = getattr(config, "text_config", None) or config
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(cfg, attr, None)
        if value is not None:
            return int(value)
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if limit is not None and limit != TOKENIZER_INFINITY else default


class HFModel(TokenPairScoring, ListAnswers):
    """A loaded transformers causal LM plus its tokenizer."""

    capabilities = LOCAL

    def __init__(self, name: str, model: Any, tokenizer: Any, identity: dict[str, Any]):
        self.name = name
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._identity = dict(identity)
        self.max_length = max_length(model.config, tokenizer)
        bos = tokenizer.bos_token_id
        self.prefix_token_id = bos if bos is not None else tokenizer.eos_token_id
        # transformers 5.x renamed forward(past_key_values=...) to forward(cache=...)
        params = inspect.signature(model.forward).parameters
        self.cache_arg = "cache" if "cache" in params else "past_key_values"
        # Layers with a sliding window (Gemma 3: 512 tokens) need their own mask wherever HFModel builds masks,
        # and whole prefix caches (see _masks, _prefix_cache); None for models without such layers.
        self.sliding_window, self.layer_types = sliding_layers(model.config)
        cfg = model.config.get_text_config(decoder=True) if hasattr(model.config, "get_text_config") else model.config
        self.logit_softcap = getattr(cfg, "final_logit_softcapping", None)  # Gemma 2: applied after the LM head
        self.text_config = cfg  # the language model's own config: generation's slots are sized from it
        # inputs go where the first layer is (a model spread over several GPUs moves its activations on)
        self.device = model.get_input_embeddings().weight.device
        self.mask_dtype = model.get_input_embeddings().weight.dtype
        if self.device.type == "cuda":
            self._size_for_gpu()

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    # ---- request kind 1: loglikelihood ---------------------------------------------------------
    def iter_token_pairs(
        self, pairs: Sequence[TokenPair], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, tuple[float, bool]]]:
        """(index, (sum of continuation log-probs, greedy flag)) for each (context tokens, continuation tokens),
        in the order the forward passes finish them.

        Shared prefixes are computed once (see prefix.py); requests longer than the model's window are
        scored whole with the harness's left truncation. The pairs are the harness's own split, so a context
        whose last token merges with the continuation (" blu" + "e and") is scored exactly as the harness
        scores it. Every continuation needs at least one token (``loglikelihood`` says so by name).
        """
        fits = [i for i, (ctx, cont) in enumerate(pairs) if ctx and len(ctx) + len(cont) <= self.max_length + 1]
        long = sorted(set(range(len(pairs))) - set(fits))
        sub = [(list(pairs[i][0]), list(pairs[i][1])) for i in fits]
        for j, value in inference_steps(self._score_shared(sub, batch_size, progress), self.device):
            yield fits[j], value
        for j, value in inference_steps(self._score_whole([pairs[i] for i in long], batch_size, progress), self.device):
            yield long[j], value

    def _score_shared(
        self, pairs, batch_size: int, progress: Progress | None
    ) -> Iterator[tuple[int, tuple[float, bool]]]:
        from .prefix import batches, plan

        for family in plan(pairs):
            past = self._prefix_cache(family.prefix) if family.prefix else None
            for batch in batches(family.rows, max(1, batch_size), self.tokens_per_batch, len(family.prefix)):
                hidden = self._forward_rows(batch, past, len(family.prefix))
                results: dict[int, tuple[float, bool]] = {}
                self._read(batch, hidden, results)
                if progress:
                    progress(sum(len(r.reads) for r in batch))
                yield from results.items()

    # Memory caps, measured to keep a 5-shot MMLU or HellaSwag run of the 135M model under 1.5 GB resident
    # (MMLU 200 items, engine alone: 1,184 MB):
    tokens_per_batch = 8192  # attention keys per forward pass (lines x (prefix + line length))
    reads_per_chunk = 512  # positions whose full-vocabulary log-probs are held at once

    def _prefix_cache(self, prefix: tuple[int, ...]):
        import torch

        cache = {}
        if self.sliding_window is not None:
            from transformers import DynamicCache

            # Without a config every layer keeps all its keys: the model's own cache keeps only the last
            # window - 1 in a sliding layer, which the rows after the prefix still need (a row's first token
            # sees the prefix's last window - 1 tokens; _masks hides the older ones from each query).
            cache = {self.cache_arg: DynamicCache()}
        out = self.model.base_model(input_ids=torch.tensor([prefix], dtype=torch.long), use_cache=True, **cache)
        return [(layer.keys, layer.values) for layer in getattr(out, self.cache_arg).layers]

    def _forward_rows(self, batch, past, prefix_len: int):
        """Hidden states of a batch of lines of tree rows (prefix.py) on top of an optional shared prefix cache."""
        import torch

        from .scoring_inputs import line_inputs, prefix_cache

        ids, positions, mask = line_inputs(batch, prefix_len)
        keys = torch.cat([torch.arange(prefix_len).expand(len(batch), -1), positions], dim=-1)
        mask = self._attention_mask(mask[:, None], positions, keys)
        out = self.model.base_model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            **{self.cache_arg: prefix_cache(past, len(batch)) if past is not None else None},
            use_cache=past is not None,
        )
        return out.last_hidden_state

    def _read(self, batch, hidden, results: dict[int, tuple[float, bool]]) -> None:
        """Log-probs of each request's continuation tokens from the rows' hidden states."""
        import torch

        rows, cols, targets, owners = [], [], [], []
        for b, row in enumerate(batch):
            for request, index, target in row.reads:
                rows += [b] * len(index)
                cols += index
                targets += target
                owners += [request] * len(index)
        states, target = hidden[torch.tensor(rows), torch.tensor(cols)], torch.tensor(targets)
        lp_chunks, greedy_chunks = [], []
        for start in range(0, len(target), self.reads_per_chunk):
            end = start + self.reads_per_chunk
            logits = self.model.get_output_embeddings()(states[start:end])
            if self.logit_softcap is not None:  # as the model's own forward does after its LM head
                logits = torch.tanh(logits / self.logit_softcap) * self.logit_softcap
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            lp_chunks.append(logprobs.gather(1, target[start:end, None])[:, 0])
            greedy_chunks.append(logprobs.argmax(dim=-1) == target[start:end])
        token_lp, greedy = torch.cat(lp_chunks), torch.cat(greedy_chunks)
        start = 0
        while start < len(owners):
            end = start
            while end < len(owners) and owners[end] == owners[start]:
                end += 1
            results[owners[start]] = (float(token_lp[start:end].sum()), bool(greedy[start:end].all()))
            start = end

    def _score_whole(
        self, pairs, batch_size: int, progress: Progress | None
    ) -> Iterator[tuple[int, tuple[float, bool]]]:
        """The harness's way: each request as one sequence, left-truncated to the model's window; (index, result)
        pairs batch by batch, longest first."""
        import torch

        inputs = []
        for i, (ctx, cont) in enumerate(pairs):
            seq = (list(ctx) + list(cont))[-(self.max_length + 1) :][:-1]
            inputs.append((i, seq, list(cont)))
        inputs.sort(key=lambda x: (-len(x[1]), x[1]))
        for start in range(0, len(inputs), max(1, batch_size)):
            batch = inputs[start : start + batch_size]
            width = max(len(seq) for _, seq, _ in batch)
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            for row, (_, seq, _) in enumerate(batch):
                ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            # only positions that predict a continuation token need the LM head
            first = min(len(seq) - len(cont) for _, seq, cont in batch)
            logits = self.model(input_ids=ids, logits_to_keep=width - first).logits
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            done = []
            for row, (i, seq, cont) in enumerate(batch):
                end = len(seq) - first
                span = logprobs[row, end - len(cont) : end]
                target = torch.tensor(cont, dtype=torch.long)
                greedy = bool((span.argmax(dim=-1) == target).all())
                done.append((i, (float(span.gather(1, target[:, None]).sum()), greedy)))
            if progress:
                progress(len(batch))
            yield from done

    # ---- request kind 2: rolling loglikelihood -------------------------------------------------
    def iter_rolling(
        self, texts: Sequence[str], *, progress: Progress | None = None
    ) -> Iterator[tuple[int, list[float]]]:
        """(index, window log-likelihoods) for each text as soon as it is scored: each window whole, one at a
        time (windows share no prefix to reuse, and one window of max_length tokens bounds the memory)."""
        for i, text in enumerate(texts):
            windows = rolling_windows(self.encode(text), self.prefix_token_id, self.max_length)
            yield i, [lp for _, (lp, _) in sorted(inference_steps(self._score_whole(windows, 1, None), self.device))]
            if progress:
                progress(1)

    # ---- request kind 3: generate --------------------------------------------------------------
    def iter_generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> Iterator[tuple[int, GenerateResponse]]:
        """(index, response) pairs as sequences finish. Batched decoding, longest prompts first; a sequence
        leaves the batch as soon as it stops and the next prompt takes its place (see slots.py).

        Prompts are left-truncated to leave room for the new tokens, as the harness does. Sampling
        (temperature > 0) uses one random generator per request, so a fixed seed gives the same text
        whatever the batch.
        """
        encoded = []
        for r in requests:
            tokens = self.encode(self.render_prompt(r.prompt))
            encoded.append(tokens[-max(1, self.max_length - r.max_new_tokens) :])
        if not requests:
            return
        order = sorted(range(len(requests)), key=lambda i: (-len(encoded[i]), i))
        for i, text, n_new in inference_steps(
            self._decode(order, encoded, requests, batch_size, progress), self.device
        ):
            yield i, GenerateResponse(text, prompt_tokens=len(encoded[i]), completion_tokens=n_new)

    # Memory caps for generation, measured to keep 5-shot GSM8K with the 135M model under 1.5 GB resident:
    # key/value slots of all sequences in flight, and prompt tokens per prefill pass (a longer prompt is prefilled
    # in chunks of that many; `workbench eval` peaked at 1,382 to 1,393 MB in three runs on 2026-12-02).
    kv_cache_bytes = 320 * 2**20
    prefill_tokens = 1024
    # tokens drafted by prompt lookup per greedy sequence and step, checked in the step's one pass (drafts.py);
    # 0 decodes one token per pass
    draft_tokens = 2

    def _stop_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id}
        configured = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ids.update(configured if isinstance(configured, list) else [configured])
        return {i for i in ids if i is not None}

    def _decode(self, order, encoded, requests, batch_size: int, progress: Progress | None):
        """Yield (request index, text, number of new tokens) as sequences finish."""
        from collections import deque

        import torch

        from .drafts import PromptLookup
        from .slots import SlotCache, kv_bytes_per_token

        headroom = min(SlotCache.growth, max(r.max_new_tokens for r in requests))
        per_token = kv_bytes_per_token(self.text_config)
        longest = len(encoded[order[0]]) + headroom
        n_slots = max(1, min(batch_size, len(order), self.kv_cache_bytes // (longest * per_token)))
        generators = {}
        for i in order:
            r = requests[i]
            generators[i] = torch.Generator().manual_seed(r.seed) if r.temperature > 0 and r.seed is not None else None
        stop_ids = self._stop_ids()
        pending = deque(order)
        store = SlotCache(self.text_config.num_hidden_layers, n_slots, longest)
        cache = store.as_transformers_cache()
        owner: list[int | None] = [None] * n_slots  # request in each slot
        # slot -> logits of its next tokens: one row after a prefill; after a step, a row per token fed (the last
        # chosen token, then its draft), with the draft and whether the step wrote the fed tokens in the slot
        outputs: dict[int, tuple[Any, list[int], bool]] = {}
        lookups: dict[int, PromptLookup] = {}  # greedy requests in flight: their drafts
        new: dict[int, list[int]] = {i: [] for i in order}
        reported: dict[int, float] = {}  # share of each request reported to ``progress``
        while pending or any(o is not None for o in owner):
            if pending and len(owner) < min(batch_size, len(owner) + len(pending)):
                # prompts come longest first: once the longest in flight have finished, the memory holds more slots
                in_flight = [int(store.lengths[s]) for s, o in enumerate(owner) if o is not None]
                capacity = max(in_flight + [len(encoded[pending[0]])]) + headroom
                fits = min(batch_size, len(owner) + len(pending), self.kv_cache_bytes // (capacity * per_token))
                if fits > len(owner):
                    store.refit(fits, capacity)
                    owner += [None] * (fits - len(owner))
            free = [s for s, o in enumerate(owner) if o is None]
            if free and pending:
                admitted = [pending.popleft() for _ in range(min(len(free), len(pending)))]
                slots = free[: len(admitted)]
                for slot, i, last in zip(slots, admitted, self._prefill(store, slots, [encoded[i] for i in admitted])):
                    owner[slot], outputs[slot] = i, (last[None], [], False)
                    if self.draft_tokens and requests[i].temperature <= 0:
                        lookups[i] = PromptLookup(encoded[i])
                release_freed_memory()  # the prefill passes' activations
            for slot, i in [(s, o) for s in outputs if (o := owner[s]) is not None]:
                r = requests[i]
                rows, drafted, stepped = outputs.pop(slot)
                for kept in range(len(rows)):  # kept: drafted tokens confirmed so far
                    token = self._choose(rows[kept], r, generators[i])
                    finished = token in stop_ids
                    if not finished:
                        new[i].append(token)
                        if i in lookups:
                            lookups[i].append(token)
                    text = self.tokenizer.decode(new[i], skip_special_tokens=True)
                    done = finished or any(s and s in text for s in r.stop) or len(new[i]) >= r.max_new_tokens
                    if done or kept == len(drafted) or token != drafted[kept]:
                        break
                if stepped:
                    store.advance(slot, 1 + kept)  # the token fed before the draft, and the draft's kept part
                if progress:  # each token moves its request on by 1/max_new_tokens; a finished request is whole
                    share = 1.0 if done else min(1.0, len(new[i]) / max(1, r.max_new_tokens))
                    progress(share - reported.get(i, 0.0))
                    reported[i] = share
                if done:
                    text = whole_characters(self.tokenizer, new[i], text)
                    for s in r.stop:
                        if s:
                            text = text.split(s)[0]
                    owner[slot] = None
                    store.release(slot)
                    lookups.pop(i, None)
                    yield i, text, len(new[i])
            running = [s for s, o in enumerate(owner) if o is not None]
            if not running or (pending and len(running) < len(owner)):
                continue  # refill the free slots before the next step
            if len(running) < len(owner):  # nothing left to admit: the batch shrinks to the running sequences
                store.keep(running)
                owner = [owner[s] for s in running]
            # a pass yields at most the draft and one more token: no draft past a sequence's last new token
            room = {i: min(self.draft_tokens, requests[i].max_new_tokens - len(new[i]) - 1) for i in lookups}
            steps = [(i, lookups[i].draft(room[i]) if i in lookups else []) for i in owner if i is not None]
            width = 1 + max(len(d) for _, d in steps)
            ids = torch.zeros((len(steps), width), dtype=torch.long)  # a short draft's padding is never kept
            for row, (i, d) in enumerate(steps):
                ids[row, : 1 + len(d)] = torch.tensor([new[i][-1], *d])
            positions, mask = store.step_inputs(width)
            # slots are left-aligned: a key's column is its position
            mask = self._attention_mask(mask, positions, torch.arange(mask.shape[-1]).expand(len(positions), -1))
            # padding past the model's window would not be kept, but a learned position table (GPT-2) cannot look it up
            positions = positions.clamp(max=self.max_length - 1)
            step_logits = self.model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=positions,
                **{self.cache_arg: cache},
                use_cache=True,
            ).logits
            outputs = {row: (step_logits[row, : 1 + len(d)], d, True) for row, (_, d) in enumerate(steps)}

    def _prefill(self, store, slots: list[int], prompts: list[list[int]]):
        """Run prompts (longest first) into their slots, several left-padded prompts per pass up to about
        ``prefill_tokens`` tokens, a longer prompt alone in chunks of that many; yield the logits of each prompt's
        next token."""
        start = 0
        while start < len(prompts):
            prompt = prompts[start]
            if len(prompt) > self.prefill_tokens:
                step = self.prefill_tokens
                for at in range(0, len(prompt), step):
                    logits = self._prefill_pass(store, slots[start : start + 1], [prompt[at : at + step]])
                yield logits[0]
                start += 1
                continue
            n = max(1, min(len(prompts) - start, self.prefill_tokens // len(prompt)))
            yield from self._prefill_pass(store, slots[start : start + n], prompts[start : start + n])
            start += n

    def _prefill_pass(self, store, slots: list[int], pieces: list[list[int]]):
        """One forward pass writing ``pieces`` into ``slots`` (slots.prefill_cache): new prompts, or the next chunk
        of one prompt; the logits of each piece's next token."""
        import torch

        n, width = len(pieces), max(len(p) for p in pieces)
        past = int(store.lengths[slots[0]])
        ids = torch.zeros((n, width), dtype=torch.long)
        real = torch.zeros((n, width), dtype=torch.bool)
        for b, p in enumerate(pieces):
            ids[b, width - len(p) :] = torch.tensor(p)
            real[b, width - len(p) :] = True
        mask = positions = None  # a whole prompt alone: plain causal attention skips the masked half
        if n > 1 or past:
            positions = past + (real.long().cumsum(-1) - 1).clamp(min=0)
            keys = torch.cat([torch.arange(past).expand(n, -1), positions], dim=1)
            q = torch.arange(width)
            mask = (q[None, :] <= q[:, None])[None] & real[:, None, :]
            mask |= torch.eye(width, dtype=torch.bool)[None]  # padding attends to itself, never to nothing
            mask = torch.cat([mask.new_ones(n, width, past), mask], dim=2)  # a chunk sees its prompt's earlier tokens
            mask = self._attention_mask(mask[:, None], positions, keys)
        store.reserve(past + width)
        logits = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            **{self.cache_arg: store.prefill_cache(slots, [width - len(p) for p in pieces])},
            use_cache=True,
            logits_to_keep=1,
        ).logits[:, -1]
        if any(k is None for k in store.keys):
            layer = store.keys.index(None)
            raise WorkbenchError(f"Generation needs keys and values in every cache layer; layer {layer} has none.")
        for slot, p in zip(slots, pieces):
            store.advance(slot, len(p))
        return logits

    def _choose(self, logits, request: GenerateRequest, generator) -> int:
        import torch

        if request.temperature <= 0:
            return int(logits.argmax())
        probs = torch.softmax(logits.float() / request.temperature, dim=-1)
        return int(torch.multinomial(probs, 1, generator=generator))

    def _size_for_gpu(self) -> None:
        """Memory budgets from the GPU's free memory, not the CPU's measured caps: a quarter of it for the
        key/value slots of generation, and attention keys per scoring pass in proportion (4,096 per GB of a
        quarter: the CPU's cap for 1.5 GB resident when a pass held every layer's prefix keys at once, which
        scoring_inputs.prefix_cache no longer does, so it is a cautious figure now), never below the CPU's caps."""
        import torch

        free, _ = torch.cuda.mem_get_info(self.device)
        quarter = free // 4
        self.kv_cache_bytes = max(self.kv_cache_bytes, int(quarter))
        self.tokens_per_batch = max(self.tokens_per_batch, min(1 << 18, int(4096 * quarter / 2**30)))
        self.prefill_tokens = max(self.prefill_tokens, min(16384, self.tokens_per_batch // 4))

    def _attention_mask(self, mask, queries, keys):
        """``mask`` (batch, 1, queries, keys) as the model takes it; per layer type where layers slide (attention.py;
        ``queries`` and ``keys`` are position ids, used only then)."""
        implementation = self.model.config._attn_implementation
        return attention_mask(
            mask, implementation, self.sliding_window, self.layer_types, queries, keys, dtype=self.mask_dtype
        )
