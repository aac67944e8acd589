"""llama.cpp backend: a GGUF file run as deployed (its own quantization), in this process through llama-cpp-python.

Specs: ``llamacpp:PATH.gguf`` or ``llamacpp:ALIAS``, and an alias or .gguf path with ``--backend llama.cpp``.

Log-likelihoods are computed here from llama.cpp's logits (a log-softmax in float64 over the rows of ``scores``),
never taken from ``create_completion(echo=True, logprobs=...)``, whose echoed log-probabilities are one token off
in llama-cpp-python 0.3.36. Token boundaries, left truncation and the greedy check are lm-evaluation-harness's, as
in hf.py (whose tokenization helpers are reused through a view of llama's own tokenizer).

One llama.cpp context keeps the tokens it last evaluated with their key/value cache and logits. Requests are
answered in sorted token order, so consecutive ones share a prefix (the choices of one question, the shots of a
few-shot block); each evaluates only the tokens after the prefix it shares with the cache.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import WorkbenchError
from .base import (
    LOCAL,
    Capabilities,
    GenerateRequest,
    GenerateResponse,
    ListAnswers,
    Progress,
)
from .registry import ALIASES, alias_gguf, weights_fingerprint
from .spec import ModelSpec
from .tokens import TokenPair, TokenPairScoring, whole_characters

if TYPE_CHECKING:
    from llama_cpp import Llama

    from .loading import LoadSettings

SCHEME = "llamacpp"
ACCEPTS_SETTINGS = True  # --device applies (GPU offload where llama-cpp-python was built for it)
INSTALL = (
    '`pip install "llm-eval-workbench[llamacpp]"` (or `pip install llama-cpp-python`; pip compiles llama.cpp from '
    "source once, a few minutes)"
)
GGUF_MAGIC = b"GGUF"
# llama-cpp-python keeps the logits of every evaluated position (n_ctx rows x vocabulary, float32, pages touched as
# they are used): the context window is capped so that this array stays within SCORES_BYTES (8192 tokens for
# smollm2-135m's 49,152-token vocabulary, its whole trained window; 2048 for gemma3-270m's 262,144).
SCORES_BYTES = 2 * 2**30
# the logits of one decode batch (n_batch rows x vocabulary) are copied out at once: batches are sized to this
OUTPUT_BYTES = 128 * 2**20
MAX_BATCH = 512


# ---- the four functions the registry calls (see registry.SCHEMES) ----------------------------------------------
def parse(spec_text: str) -> ModelSpec:
    """``llamacpp:PATH.gguf`` or ``llamacpp:ALIAS``: the file checked (exists, GGUF), llama-cpp-python installed."""
    text = spec_text.strip()
    rest = text[len(SCHEME) + 1 :].strip() if text.startswith(SCHEME + ":") else ""
    if not rest:
        raise WorkbenchError(
            f"{spec_text!r}: name a GGUF file after 'llamacpp:', as 'llamacpp:PATH.gguf' or 'llamacpp:ALIAS' "
            f"(aliases: {', '.join(ALIASES)})."
        )
    path = alias_gguf(rest, ALIASES[rest]) if rest in ALIASES else gguf_file(rest)
    require_installed()
    return ModelSpec(text, SCHEME, str(path))


def capabilities(spec: ModelSpec) -> Capabilities:
    return LOCAL


def fingerprint(spec: ModelSpec) -> str:
    """The GGUF file's content hash, as for the same file loaded by transformers (the backend is recorded apart)."""
    return weights_fingerprint(replace(spec, kind="gguf"))


def load(spec: ModelSpec, settings: LoadSettings | None = None) -> LlamaCppModel:
    """The GGUF file of ``spec`` (kind 'llamacpp', or 'gguf' with --backend llama.cpp) in a llama.cpp context."""
    path = gguf_file(spec.location)
    dtype = getattr(settings, "dtype", "auto")
    if dtype not in ("auto", "gguf", "float32") or getattr(settings, "adapter", None):
        raise WorkbenchError(
            f"{spec.name}: the llama.cpp backend runs the GGUF file's own number format and takes no --dtype "
            f"{dtype} or --adapter; leave them out, or use the transformers backend for another number format."
        )
    device = getattr(settings, "device", "auto")
    llama_cpp = require_installed(importing=True)
    gpu_layers, main_gpu = 0, 0
    if device not in ("auto", "cpu"):
        if not llama_cpp.llama_supports_gpu_offload():
            raise WorkbenchError(
                f"--device {device}: this llama-cpp-python was built for the CPU only. Use --device cpu, or rebuild "
                'it for your GPU, e.g. CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir '
                "llama-cpp-python (Metal: -DGGML_METAL=on)."
            )
        gpu_layers, main_gpu = -1, int(device.split(":")[1]) if ":" in device else 0
    identity = {
        "name": spec.name,
        "kind": spec.kind,
        "location": str(path),
        "fingerprint": fingerprint(spec),
        "device": "cpu" if gpu_layers == 0 else device,
        "dtype": "gguf",
    }
    return LlamaCppModel(spec.name, path, identity, n_gpu_layers=gpu_layers, main_gpu=main_gpu)


# ---- checks, before anything runs ------------------------------------------------------------------------------
def gguf_file(location: str) -> Path:
    """``location`` as an existing GGUF file (by its 4-byte magic), or a message naming the fix."""
    path = Path(location).expanduser()
    if not path.exists():
        raise WorkbenchError(
            f"No GGUF file at {location!r} ({path.resolve()} does not exist). Give the path of a .gguf file, or an "
            f"alias ({', '.join(ALIASES)})."
        )
    if not path.is_file():
        raise WorkbenchError(f"{location!r} is a folder, not a GGUF file. Give the path of a .gguf file in it.")
    try:
        with open(path, "rb") as f:
            head = f.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise WorkbenchError(f"Cannot read {location!r}: {exc.strerror}. Check the file's permissions.") from None
    if head != GGUF_MAGIC:
        raise WorkbenchError(
            f"{location!r} is not a GGUF file (it starts with {head!r}, not {GGUF_MAGIC!r}). llama.cpp runs GGUF "
            "files only: convert the model with llama.cpp's convert_hf_to_gguf.py, or load its transformers folder "
            "without the llamacpp: prefix."
        )
    return path.resolve()


def require_installed(*, importing: bool = False) -> Any:
    """The llama_cpp module (imported when ``importing``), or a message naming the install command."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise WorkbenchError(
            f"The llama.cpp backend needs llama-cpp-python, which is not installed. Install it with {INSTALL}, or "
            "use the transformers backend (leave out the llamacpp: prefix and --backend llama.cpp)."
        )
    if not importing:
        return None
    try:
        import llama_cpp
    except (ImportError, OSError) as exc:  # a build whose shared library does not load here
        raise WorkbenchError(
            f"llama-cpp-python is installed but does not load ({exc}). Reinstall it with "
            "`pip install --force-reinstall --no-cache-dir llama-cpp-python`."
        ) from None
    return llama_cpp


def threads() -> int:
    """OMP_NUM_THREADS where set (the limit the user gave every numeric library), else every core."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return os.cpu_count() or 1


def trained_shape(path: Path) -> tuple[int, int]:
    """(trained context length, vocabulary size) of a GGUF file, from its vocabulary alone (no weights loaded)."""
    llama_cpp = require_installed(importing=True)
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # as Llama(verbose=False) sets it
    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise WorkbenchError(
            f"llama.cpp cannot read {str(path)!r}: the file is damaged, or made for a newer llama.cpp than "
            f"llama-cpp-python {llama_cpp.__version__} holds (upgrade it: pip install -U llama-cpp-python)."
        )
    try:
        n_vocab = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(model))

        def meta(key: str) -> str:
            buf = ctypes.create_string_buffer(256)
            n = llama_cpp.llama_model_meta_val_str(model, key.encode(), buf, len(buf))
            return buf.value.decode("utf-8", errors="replace") if n >= 0 else ""

        # a vocabulary-only load leaves the hyperparameters unread: the trained window is in the metadata
        context = meta(f"{meta('general.architecture')}.context_length")
        return int(context) if context.isdigit() else 0, n_vocab
    finally:
        llama_cpp.llama_model_free(model)


def window(n_ctx_train: int, n_vocab: int) -> int:
    """The context window to allocate: the trained one, unless its logits would pass SCORES_BYTES."""
    fits = SCORES_BYTES // (4 * max(1, n_vocab)) // 256 * 256
    return max(256, min(n_ctx_train, fits)) if n_ctx_train > 0 else max(256, min(4096, fits))


class TokenizerView:
    """llama's tokenizer as tokens.encode / encode_pair / whole_characters use a transformers tokenizer."""

    def __init__(self, llm: Llama):
        self.llm = llm
        bos = llm.token_bos()
        self.bos_token = self.piece(bos) if bos >= 0 else None

    def piece(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        # special=True: control tokens written in the text (a chat template's <|im_start|>) are those tokens, as
        # a transformers tokenizer reads them; BOS is added where the GGUF says so (tokenizer.ggml.add_bos_token)
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=add_special_tokens, special=True))

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return self.llm.detokenize(list(ids), special=not skip_special_tokens).decode("utf-8", errors="replace")


class LlamaCppModel(TokenPairScoring, ListAnswers):
    """A GGUF model in one llama.cpp context, answering the three request kinds one request at a time."""

    capabilities = LOCAL

    def __init__(
        self,
        name: str,
        path: Path,
        identity: dict[str, Any],
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        main_gpu: int = 0,
    ):
        llama_cpp = require_installed(importing=True)
        n_ctx_train, n_vocab = trained_shape(path)
        n_ctx = n_ctx or window(n_ctx_train, n_vocab)
        n_batch = max(32, min(MAX_BATCH, n_ctx, OUTPUT_BYTES // (4 * n_vocab)))
        n_threads = n_threads or threads()
        try:
            self.llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=n_batch,
                n_ubatch=n_batch,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_gpu_layers=n_gpu_layers,
                main_gpu=main_gpu,
                logits_all=True,  # every position's logits, which scoring reads
                swa_full=True,  # sliding-window layers keep every key, so a cached prefix can be cut anywhere
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise WorkbenchError(f"llama.cpp could not load {str(path)!r}: {exc}.") from None
        self.name = name
        self.path = path
        self.max_length = self.llm.n_ctx()
        self.n_vocab = self.llm.n_vocab()
        self.tokenizer = TokenizerView(self.llm)
        bos = self.llm.token_bos()
        self.prefix_token_id = bos if bos >= 0 else self.llm.token_eos()
        self._vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self._llama_cpp = llama_cpp
        self._identity = {
            **identity,
            "backend": "llama.cpp",
            "llama_cpp": llama_cpp.__version__,
            "n_ctx": self.max_length,
        }
        self.reuse = True  # keep the cache between requests (False: every request from scratch, for comparisons)
        self.tokens_evaluated = 0  # tokens llama.cpp has computed, so a caller can see what the cache saved
        # which evaluated positions have their logits in llm.scores: only the rows a request reads are computed
        # (the LM head over a 49,152-word vocabulary is about a fifth of each position's work for smollm2-135m)
        self._has_logits = np.zeros(self.max_length + 1, dtype=bool)
        self._batch = llama_cpp.llama_batch_init(self.llm.n_batch, 0, 1)

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    def close(self) -> None:
        """Free the llama.cpp context and weights now (else when the model is garbage collected)."""
        if self._batch is not None:
            self._llama_cpp.llama_batch_free(self._batch)
            self._batch = None
        self.llm.close()

    # ---- tokenization (as the harness does it) -------------------------------------------------
    # ---- the cache -------------------------------------------------------------------------------
    def evaluate(self, tokens: Sequence[int], *, at_least: int = 2, logits_from: int = 0) -> None:
        """Make llama's evaluated tokens start with ``tokens``, computing only what follows the prefix they share
        with the tokens already evaluated; afterwards ``llm.scores[i]`` holds the logits after ``tokens[: i + 1]``
        for every ``i >= logits_from`` (rows before it are computed only as far as the cache needs them).

        At least ``at_least`` tokens are computed when any are: llama.cpp 0.3.36 (CPU) computes a single token on
        top of a cache through another path, whose logits differ at some positions (by up to 0.9, measured with
        smollm2-135m) from those of the same token computed in a batch, as a whole-sequence evaluation does.
        Scoring recomputes the last shared token with it; generation steps one token at a time, as llama does."""
        llm = self.llm
        cached = llm.input_ids[: llm.n_tokens]
        n = min(len(cached), len(tokens))
        if not self.reuse:
            n = 0
        head = np.asarray(tokens[:n], dtype=cached.dtype)
        differ = np.flatnonzero(cached[:n] != head)
        common = int(differ[0]) if len(differ) else n
        # a shared row whose logits were not computed (an earlier request did not read it) is computed again
        missing = np.flatnonzero(~self._has_logits[logits_from:common])
        if len(missing):
            common = logits_from + int(missing[0])
        if common == len(tokens) and common > 0:
            return  # every row needed is in scores already (the cache may go on past them, and stays)
        common = max(0, min(common, len(tokens) - at_least))
        if common == 0:
            llm.reset()
        elif common < llm.n_tokens:
            memory = self._llama_cpp.llama_get_memory(llm.ctx)
            if memory is None or not self._llama_cpp.llama_memory_seq_rm(memory, 0, common, -1):
                llm.reset()  # a recurrent model's state cannot be cut back: start again
                common = 0
            else:
                llm.n_tokens = common
        try:
            self._evaluate_after_cache(list(tokens[common:]), logits_from)
        except RuntimeError as exc:
            llm.reset()
            raise WorkbenchError(f"{self.name}: llama.cpp failed to evaluate {len(tokens)} tokens: {exc}.") from None
        self.tokens_evaluated += len(tokens) - common

    def _evaluate_after_cache(self, tokens: list[int], logits_from: int) -> None:
        """Evaluate ``tokens`` after the ``llm.n_tokens`` in the cache, in batches of ``n_batch``, asking llama.cpp
        for the logits of the positions at or after ``logits_from`` (and of each batch's last) only, and copy them
        into ``llm.scores`` (what ``Llama.eval`` does for every position when ``logits_all`` is set)."""
        llm, api, batch = self.llm, self._llama_cpp, self._batch
        memory = api.llama_get_memory(llm.ctx)
        if memory is not None:  # what the cache holds past n_tokens (llm.reset() only sets n_tokens to 0) goes
            api.llama_memory_seq_rm(memory, -1, llm.n_tokens, -1)
        for start in range(0, len(tokens), llm.n_batch):
            chunk = tokens[start : start + llm.n_batch]
            past = llm.n_tokens
            wanted = np.arange(past, past + len(chunk)) >= logits_from
            wanted[-1] = True
            batch.n_tokens = len(chunk)
            for j, token in enumerate(chunk):
                batch.token[j] = token
                batch.pos[j] = past + j
                batch.n_seq_id[j] = 1
                batch.seq_id[j][0] = 0
                batch.logits[j] = bool(wanted[j])
            code = api.llama_decode(llm.ctx, batch)
            if code != 0:
                raise RuntimeError(f"llama_decode returned {code}")
            rows = np.flatnonzero(wanted)
            logits = np.ctypeslib.as_array(api.llama_get_logits(llm.ctx), shape=(len(rows) * self.n_vocab,))
            llm.scores[past + rows, :] = logits.reshape(len(rows), self.n_vocab)
            llm.input_ids[past : past + len(chunk)] = chunk
            self._has_logits[past : past + len(chunk)] = wanted
            llm.n_tokens = past + len(chunk)

    def log_probs(self, start: int, targets: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Log-probabilities of ``targets`` read from the logits rows start, start + 1, ... (float64 log-softmax),
        and whether each target is the argmax of its row."""
        rows = self.llm.scores[start : start + len(targets)].astype(np.float64)
        peak = rows.max(axis=1, keepdims=True)
        log_z = peak[:, 0] + np.log(np.exp(rows - peak).sum(axis=1))
        target = np.asarray(targets, dtype=np.int64)
        picked = rows[np.arange(len(target)), target]
        return picked - log_z, rows.argmax(axis=1) == target

    # ---- log-likelihoods (iter_loglikelihood, iter_rolling: TokenPairScoring) -----------------------
    def iter_token_pairs(
        self, pairs: Sequence[TokenPair], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, tuple[float, bool]]]:
        """(index, (sum of continuation log-probs, greedy flag)) for each (context tokens, continuation tokens),
        one at a time in sorted order so that consecutive ones share the cached prefix (``batch_size`` is not used).

        Each request is the harness's one sequence: context + continuation, left-truncated to the window plus
        one, its last token dropped; the continuation's log-probs are read from the last positions."""
        inputs, targets = [], []
        for ctx, cont in pairs:
            whole = (list(ctx) + list(cont))[-(self.max_length + 1) :]
            n = min(len(cont), len(whole) - 1)
            inputs.append(whole[:-1])
            targets.append(whole[len(whole) - n :])
        for i in sorted(range(len(pairs)), key=lambda i: (inputs[i], i)):
            start = len(inputs[i]) - len(targets[i])
            self.evaluate(inputs[i], logits_from=start)
            lp, greedy = self.log_probs(start, targets[i])
            if progress:
                progress(1)
            yield i, (float(lp.sum()), bool(greedy.all()))

    # ---- request kind 3: generate --------------------------------------------------------------
    def render_prompt(self, prompt: str | Sequence[dict[str, str]]) -> str:
        """A plain prompt as it is; chat messages through the GGUF file's own chat template."""
        if isinstance(prompt, str):
            return prompt
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise WorkbenchError(
                f"{self.name}: the GGUF file holds no chat template (tokenizer.chat_template), so chat messages "
                "cannot be turned into a prompt. Give a plain text prompt, or use a chat model's GGUF file."
            )
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        eos, bos = self.llm.token_eos(), self.llm.token_bos()
        formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self.tokenizer.piece(eos) if eos >= 0 else "",
            bos_token=self.tokenizer.piece(bos) if bos >= 0 else "",
            add_generation_prompt=True,
        )
        try:
            chat: Any = formatter  # typed only where llama-cpp-python is installed
            return chat(messages=list(prompt)).prompt
        except Exception as exc:  # the template's own raise_exception(...) or a Jinja error
            raise WorkbenchError(f"{self.name}: its chat template refused these messages: {exc}.") from None

    def iter_generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> Iterator[tuple[int, GenerateResponse]]:
        """(index, response) pairs, one request after another in sorted prompt order (few-shot prompts share
        their shots in the cache). Prompts are left-truncated to leave room for the new tokens, as the harness
        does; sampling (temperature > 0) draws from one generator per request, seeded by its seed."""
        encoded = []
        for r in requests:
            tokens = self.encode(self.render_prompt(r.prompt))
            encoded.append(tokens[-max(1, self.max_length - r.max_new_tokens) :])
        for i in sorted(range(len(requests)), key=lambda i: (encoded[i], i)):
            text, n_new = self._decode(encoded[i], requests[i], progress)
            yield i, GenerateResponse(text, prompt_tokens=len(encoded[i]), completion_tokens=n_new)

    def _decode(self, prompt: list[int], request: GenerateRequest, progress: Progress | None) -> tuple[str, int]:
        """The text generated after ``prompt`` (stop strings cut off) and the number of new tokens."""
        sampler = np.random.default_rng(request.seed) if request.temperature > 0 else None
        new: list[int] = []
        reported = 0.0
        while True:
            sequence = prompt + new
            self.evaluate(sequence, at_least=1, logits_from=len(sequence) - 1)
            token = self._choose(self.llm.scores[len(sequence) - 1], request.temperature, sampler)
            finished = bool(self._llama_cpp.llama_vocab_is_eog(self._vocab, token))
            if not finished:
                new.append(token)
            text = self.tokenizer.decode(new)
            done = (
                finished
                or any(s and s in text for s in request.stop)
                or len(new) >= request.max_new_tokens
                or len(prompt) + len(new) >= self.max_length  # the window is full
            )
            if progress:  # each token moves its request on by 1/max_new_tokens; a finished request is whole
                share = 1.0 if done else min(1.0, len(new) / max(1, request.max_new_tokens))
                progress(share - reported)
                reported = share
            if done:
                text = whole_characters(self.tokenizer, new, text)
                for s in request.stop:
                    if s:
                        text = text.split(s)[0]
                return text, len(new)

    def _choose(self, logits: np.ndarray, temperature: float, sampler: np.random.Generator | None) -> int:
        if temperature <= 0 or sampler is None:
            return int(np.argmax(logits))
        scaled = logits.astype(np.float64) / temperature
        probs = np.exp(scaled - scaled.max())
        return int(sampler.choice(len(probs), p=probs / probs.sum()))
