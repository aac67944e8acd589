"""How fast does a model serve? Time to first token, per-token latency, requests/s and tokens/s at each concurrency.

    t = workbench.throughput("smollm2-135m", prompts, concurrency=[1, 4, 16], max_new_tokens=32)
    t.table()     # per scheduling and concurrency: TTFT and per-token latency p50/p95, requests/s, tokens/s
    t.gain()      # on the local engine: continuous slot refill against static batching, on the same prompts
    t.figure()

Every request is handed over at the start (an offline benchmark, as vLLM's ``benchmark_throughput``): at
concurrency N the local engine decodes N sequences at once (its ``batch_size``), llama.cpp gets N requests at
once, and an OpenAI-compatible server N requests in flight. Each request's clock starts then, so TTFT includes
the time it waited for a free slot.

- **TTFT** (time to first token): from the start to the moment its first token was chosen (local engine) or
  arrived (a server's stream). Backends that give no token events (a batch answered whole) show none.
- **per-token latency** (TPOT): (last token - first token) / (tokens - 1) of each request.
- **latency**: from the start to the moment the whole answer was handed back.
- **static batching** (local engine only): the prompts in groups of N, each group decoded until its longest
  sequence ends and only then handed back, the next group started after it; against the engine's own
  continuous slot refill (a finished sequence's slot takes the next prompt at once). Both use the same engine,
  order (longest prompt first) and prompts, so only the scheduling differs. The static baseline here lets a
  finished row leave the batch (it computes less than a padded batch would), so the gain shown is if anything
  smaller than against a plain ``generate`` of padded batches.

A call is one run in the project store (``task`` 'throughput'), its records one per request and setting; a run
of timings is never resumed or reused: every call measures anew.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import WorkbenchError, check_count
from .models import DEFAULT_MODEL
from .models.base import GenerateRequest, GenerateResponse, Model
from .store import Store
from .timings import Timing, speeds, summarize

SCHEDULES = ("continuous", "static")


class TokenClock:
    """Records when each request's tokens are made: ``tick(index)`` per token, ``done(index, response)`` at the
    end. Thread-safe (a server's requests stream on several threads)."""

    def __init__(self, n: int):
        self.start = time.perf_counter()
        self.timings = [Timing(i) for i in range(n)]
        self._lock = threading.Lock()

    def tick(self, index: int, at: float | None = None) -> None:
        """A token of request ``index`` made now (or at the ``time.perf_counter()`` value ``at``)."""
        now = (time.perf_counter() if at is None else at) - self.start
        with self._lock:
            t = self.timings[index]
            if t.first_token is None:
                t.first_token = now
            t.last_token, t.tokens = now, t.tokens + 1

    def done(self, index: int, response: GenerateResponse, at: float | None = None) -> None:
        now = time.perf_counter() - self.start if at is None else at
        with self._lock:
            t = self.timings[index]
            t.finished, t.text = now, response.text
            t.prompt_tokens, t.completion_tokens = response.prompt_tokens, response.completion_tokens


# ---- how each kind of backend is timed ------------------------------------------------------------------------
def _is_engine(lm: Any) -> bool:
    """The local transformers engine (continuous slot refill), whose every token is timed by request."""
    from .models.hf import HFModel

    return isinstance(lm, HFModel)


def _one_at_a_time(lm: Any) -> bool:
    """A backend that answers one request after another, reporting each token step to ``progress``
    (llama.cpp in this process): its token steps between two answers are the next answer's."""
    return lm.identity().get("backend") == "llama.cpp"


@contextmanager
def _ticking(lm: Any, requests: Sequence[GenerateRequest], clock: TokenClock) -> Iterator[None]:
    """Within it, the local transformers engine reports each chosen token to ``clock``.

    The engine chooses every token of every sequence through ``HFModel._choose(logits, request, generator)``;
    the request object tells whose token it is. (The engine has no public per-token hook; one would replace
    this.)"""
    choose = lm._choose
    index = {id(r): i for i, r in enumerate(requests)}

    def timed(logits: Any, request: GenerateRequest, generator: Any) -> int:
        token = choose(logits, request, generator)
        clock.tick(index[id(request)])
        return token

    lm._choose = timed  # the instance attribute shadows the method for this measurement only
    try:
        yield
    finally:
        del lm._choose


def _local(lm: Any, requests: list[GenerateRequest], concurrency: int, schedule: str) -> list[Timing]:
    """A model in this process: ``iter_generate`` with ``concurrency`` sequences at once; static batching in
    groups of ``concurrency``, each group's answers handed back when its longest sequence ends."""
    clock = TokenClock(len(requests))
    if not _is_engine(lm):
        steps: list[float] = []  # token steps not yet claimed by an answer (one request at a time)
        sequential = _one_at_a_time(lm)
        progress = (lambda _: steps.append(time.perf_counter())) if sequential else None
        for i, response in lm.iter_generate(requests, batch_size=concurrency, progress=progress):
            for at in steps:
                clock.tick(i, at)
            steps.clear()
            clock.done(i, response)
        return clock.timings
    with _ticking(lm, requests, clock):
        if schedule == "continuous":
            for i, response in lm.iter_generate(requests, batch_size=concurrency):
                clock.done(i, response)
        else:
            order = _engine_order(lm, requests)
            for start in range(0, len(order), concurrency):
                group = order[start : start + concurrency]
                answers = dict(lm.iter_generate([requests[i] for i in group], batch_size=concurrency))
                released = time.perf_counter() - clock.start  # all held until the longest one ended
                for j, i in enumerate(group):
                    clock.done(i, answers[j], at=released)
    return clock.timings


def _engine_order(lm: Any, requests: Sequence[GenerateRequest]) -> list[int]:
    """The order the engine admits prompts in (longest first), so static groups see the same sequence."""
    lengths = [len(lm.encode(lm.render_prompt(r.prompt))) for r in requests]
    return sorted(range(len(requests)), key=lambda i: (-lengths[i], i))


def _server(lm: Any, requests: list[GenerateRequest], concurrency: int) -> list[Timing]:
    """An OpenAI-compatible server: ``concurrency`` streamed requests in flight, each token timed as it arrives."""
    from .engine.concurrency import as_finished

    clock = TokenClock(len(requests))
    for (i, _), response in as_finished(lambda pair: _stream(lm, pair[1], pair[0], clock), enumerate(requests),
                                        concurrency):  # fmt: skip
        clock.done(i, response)
    return clock.timings


def _stream(lm: Any, request: GenerateRequest, index: int, clock: TokenClock) -> GenerateResponse:
    """One chat completion with ``stream: true`` (server-sent events, each content delta a tick), sent to the
    endpoint's replicas in turn. No retries: a timing that needed one would not time the server."""
    import httpx

    servers = lm.replicas.replicas
    replica = servers[index % len(servers)]
    body = {**lm._body(request), "stream": True, "stream_options": {"include_usage": True}}
    text: list[str] = []
    usage: dict[str, Any] = {}
    url = f"{replica.base_url}/chat/completions"
    try:
        with replica.client.stream("POST", url, json=body, headers=replica.headers()) as resp:
            if resp.status_code != 200:
                resp.read()
                raise WorkbenchError(
                    f"{lm.name}: the streamed request was refused (HTTP {resp.status_code}: {replica.message(resp)}). "
                    "Throughput needs streaming (stream: true) to time tokens."
                )
            for line in resp.iter_lines():
                if not line.startswith("data:") or line.strip() == "data: [DONE]":
                    continue
                event = json.loads(line[5:])
                usage = event.get("usage") or usage
                for choice in event.get("choices") or []:
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        clock.tick(index)
                        text.append(delta)
    except httpx.HTTPError as exc:
        raise WorkbenchError(f"{lm.name}: the streamed request to {url} failed ({type(exc).__name__}).") from None
    answer = "".join(text)
    for stop in request.stop:
        answer = answer.split(stop)[0]
    t = clock.timings[index]
    return GenerateResponse(
        answer, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or t.tokens)
    )


def measure(lm: Model, requests: list[GenerateRequest], concurrency: int, schedule: str = "continuous") -> list[Timing]:
    """Every request's timing at one concurrency and schedule, on whichever backend ``lm`` is."""
    if lm.identity().get("kind") == "api":
        if schedule != "continuous":
            raise WorkbenchError("Static batching is measured on the local engine only; a server schedules itself.")
        return _server(lm, requests, concurrency)
    return _local(lm, requests, concurrency, schedule)


# ---- the call ---------------------------------------------------------------------------------------------------
@dataclass
class ThroughputResult:
    """The timings of one ``throughput`` call: ``table()``, ``gain()``, ``timings`` (one row per request),
    ``figure()``; ``run_id`` is its run in the store."""

    model: str
    run_id: str
    rows: list[dict[str, Any]]  # one per (schedule, concurrency): summarize() plus both
    timings: Any  # DataFrame: schedule, concurrency, prompt_index, ttft_s, tpot_s, latency_s, tokens ...
    store_path: Path
    identity: dict[str, Any] = field(default_factory=dict)

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def gain(self):
        """Per concurrency: continuous against static requests/s, tokens/s and p50 latency (ratios > 1: continuous
        is faster). Empty when static batching was not measured."""
        import pandas as pd

        table = self.table()
        both = table.pivot(index="concurrency", columns="schedule")
        if "static" not in table["schedule"].values:
            return pd.DataFrame()
        return pd.DataFrame({
            "tokens_per_s_continuous": both[("tokens_per_s", "continuous")],
            "tokens_per_s_static": both[("tokens_per_s", "static")],
            "throughput_gain": both[("tokens_per_s", "continuous")] / both[("tokens_per_s", "static")],
            "latency_p50_continuous_s": both[("latency_p50_s", "continuous")],
            "latency_p50_static_s": both[("latency_p50_s", "static")],
        }).reset_index()  # fmt: skip

    def figure(self):
        from .speed_charts import throughput_chart

        return throughput_chart(self.table(), self.model)


def prompts_from(source: Any, n: int = 16) -> list[str]:
    """Prompts as given (a list of strings), from a text file (one prompt per line; a .jsonl file's "prompt"
    fields), or a task's first ``n`` prompts (e.g. 'arc_easy': its questions as the task asks them)."""
    if source is None or isinstance(source, str) and not source.strip():
        raise WorkbenchError(_NO_PROMPTS)
    if not isinstance(source, str):
        return list(source)
    path = Path(source).expanduser()
    if path.is_file():
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if path.suffix == ".jsonl":
            try:
                return [str(json.loads(line)["prompt"]) for line in lines]
            except (ValueError, KeyError, TypeError):
                raise WorkbenchError(
                    f"{source}: every line of a .jsonl prompts file is an object with a 'prompt'."
                ) from None
        return [line.replace("\\n", "\n") for line in lines]  # a literal \n in a line is a line break
    from .tasks import REGISTRY, get_task

    if source in REGISTRY:
        from .data import load_rows

        spec = get_task(source)
        docs = spec.select_docs(load_rows(spec.data, spec.eval_split).rows, n)
        return [item.prompt for item in spec.build_items(docs, [], 0)]
    raise WorkbenchError(f"{source!r} is neither a file nor a task. {_NO_PROMPTS}")


_NO_PROMPTS = (
    "throughput needs prompts: a list of non-empty strings, a text file (one prompt per line) or a task name "
    "(its first prompts, e.g. 'arc_easy')."
)


def _requests(prompts: Any, max_new_tokens: int, n: int) -> list[GenerateRequest]:
    texts = prompts_from(prompts, n)
    if not texts or not all(isinstance(p, str) and p.strip() for p in texts):
        raise WorkbenchError(_NO_PROMPTS)
    return [GenerateRequest(p, max_new_tokens=max_new_tokens) for p in texts]


def _check_concurrency(concurrency: Any) -> list[int]:
    levels = [concurrency] if isinstance(concurrency, int) else list(concurrency or [])
    if not levels:
        raise WorkbenchError("concurrency: give one or more whole numbers of at least 1, e.g. [1, 4, 16].")
    for c in levels:
        check_count("concurrency", c, 1, required=True)
    return sorted(set(levels))


def throughput(
    model: str | Model = DEFAULT_MODEL,
    prompts: Sequence[str] | str | None = None,
    *,
    n_prompts: int = 16,
    concurrency: int | Sequence[int] = (1, 4, 16),
    max_new_tokens: int = 32,
    static: bool | None = None,
    device: str | None = None,
    dtype: str | None = None,
    backend: str | None = None,
    store: str | Path | None = None,
    command: str | None = None,
) -> ThroughputResult:
    """Time ``model`` generating greedily for ``prompts`` at each ``concurrency``; saved as one run.

    ``model``: a model name (loaded with ``device``/``dtype``/``backend``) or a model already loaded. ``prompts``:
    a list of strings, a text file (one per line) or a task name (its first ``n_prompts`` prompts).
    ``static`` (default: on the local transformers engine) also times static batching on the same prompts.
    Keep it small: every prompt is generated once per concurrency and schedule.
    """
    check_count("max_new_tokens", max_new_tokens, 1, required=True)
    check_count("n_prompts", n_prompts, 1, required=True)
    requests = _requests(prompts, max_new_tokens, n_prompts)
    levels = _check_concurrency(concurrency)
    lm = model if not isinstance(model, str) else load(model, device=device, dtype=dtype, backend=backend)
    engine = _is_engine(lm)
    if static and not engine:
        raise WorkbenchError(
            "static=True: static batching is measured on the local transformers engine only (llama.cpp and "
            "servers schedule themselves). Leave static out."
        )
    schedules = ["continuous", "static"] if (engine if static is None else static) else ["continuous"]
    _warm_up(lm, requests[0])
    rows: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for schedule in schedules:
        for c in levels:
            timings = measure(lm, requests, c, schedule)
            prefill, decode = speeds(timings) if c == 1 else (None, None)  # one at a time: each its own prefill
            rows.append({"schedule": schedule, "concurrency": c, **summarize(timings),
                         "prompt_tokens_per_s": prefill, "decode_tokens_per_s": decode})  # fmt: skip
            for t in timings:
                records.append({
                    "doc_id": len(records), "schedule": schedule, "concurrency": c, "prompt_index": t.index,
                    "prompt": requests[t.index].prompt, "prompt_tokens": t.prompt_tokens,
                    "completion_tokens": t.completion_tokens, "ttft_s": t.first_token, "tpot_s": t.tpot,
                    "latency_s": t.finished, "text": t.text,
                })  # fmt: skip
    run_id, path, identity = save(lm, requests, levels, schedules, rows, records, store=store, command=command)
    import pandas as pd

    frame = pd.DataFrame(records).drop(columns=["doc_id"])
    return ThroughputResult(lm.name, run_id, rows, frame, path, identity)


def _warm_up(lm: Model, request: GenerateRequest) -> None:
    """One short answer first, so no setting pays for first-call costs (allocations, kernel choice)."""
    from dataclasses import replace

    lm.generate([replace(request, max_new_tokens=2)])


def load(model: str, *, device: str | None = None, dtype: str | None = None, backend: str | None = None) -> Model:
    """A model loaded with the given settings (the registry's loader, as ``evaluate`` loads it)."""
    from . import models

    if device is None and dtype is None and backend is None:
        return models.load(model)
    from .models.loading import LoadSettings

    settings = LoadSettings.of(device=device, dtype=dtype, backend=backend)
    return models.load(model, settings)


def save(
    lm: Model,
    requests: Sequence[GenerateRequest],
    levels: Sequence[int],
    schedules: Sequence[str],
    rows: Sequence[dict[str, Any]],
    records: Sequence[dict[str, Any]],
    *,
    store: str | Path | None = None,
    command: str | None = None,
) -> tuple[str, Path, dict[str, Any]]:
    """The measurement as a complete run (task 'throughput'): a new run every time (timings are never reused)."""
    from .data import fingerprint
    from .run import lifecycle

    identity = lm.identity()
    prompts = [{"prompt": r.prompt} for r in requests]
    config = {"concurrency": list(levels), "max_new_tokens": requests[0].max_new_tokens, "schedules": list(schedules),
              "prompts": len(requests)}  # fmt: skip
    metrics: dict[str, Any] = {}
    for row in rows:
        for name in ("tokens_per_s", "requests_per_s", "ttft_p50_s", "tpot_p50_s", "latency_p50_s"):
            if row[name] is not None:
                metrics[f"{name}_{row['schedule']}_c{row['concurrency']}"] = row[name]
    metrics["n"] = len(requests)
    db = Store(store)
    spec = lifecycle.RunSpec(
        task="throughput",
        model=lm.name,
        identity=identity,
        source=f"{len(requests)} prompts",
        data_fingerprint=fingerprint(prompts),
        template="",
        config=config,
        key={
            "task": "throughput",
            "model": identity.get("fingerprint"),
            "identity": identity,
            "data": fingerprint(prompts),
            "config": config,
            "at": time.time(),
        },  # fmt: skip
        command=command or _call_text(lm.name, len(requests), config),
        n_items=len(records),
    )
    run = lifecycle.start(db, spec, quiet=True, separate=True)
    run.save(records)
    run.finish(metrics, records)
    return run.run_id, db.path, identity


def _call_text(model: str, n: int, config: dict[str, Any]) -> str:
    return (
        f"workbench.throughput({model!r}, <{n} prompts>, concurrency={config['concurrency']}, "
        f"max_new_tokens={config['max_new_tokens']})"
    )
