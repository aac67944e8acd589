"""What does quantization cost? One model's variants scored on the same items, side by side.

    v = workbench.variants("smollm2-135m", ["float32", "bfloat16", "int8", "gguf"], tasks=["arc_easy"], limit=100)
    v.table()                        # per variant and task: score [interval], difference from the reference with
                                     # its paired bootstrap interval and McNemar p, items flipped each way, weight
                                     # bytes on disk and in memory, peak memory, prompt and generated tokens/s
    v.flips("int8", "arc_easy")      # the items that flipped, with both runs' ids: open them with workbench.samples
    v.figure()                       # accuracy against memory and against speed, the Pareto front marked

The variants run one after another in this process, each loaded, evaluated (an ordinary run per task, through
``evaluate_task`` with the variant's load settings), timed and measured, then released before the next. The
paired comparisons are ``workbench.compare`` of each variant's run with the reference variant's run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError, check_count
from ..models import DEFAULT_MODEL
from .plan import NAMES, Variant, plan

__all__ = ["NAMES", "Variant", "VariantResult", "variants"]
SPEED_PROMPTS = 4  # prompts timed for each variant's speed (speed.py): the first task's, and open-ended ones
SPEED_TOKENS = 16  # tokens generated for each


@dataclass
class Measured:
    """What one variant cost, measured while it ran: bytes, seconds, speed, and its runs."""

    variant: Variant
    runs: dict[str, str]  # task -> run id
    metrics: dict[str, dict[str, Any]]  # task -> the run's metrics
    disk_bytes: int | None
    memory_bytes: int | None
    load_peak_bytes: int  # the process's peak while loading (a dtype conversion may hold two copies at once)
    peak_bytes: int  # the process's peak while evaluating and timing, after the load
    peak_is_own: bool  # False: the peak since the process started (no reset possible here)
    load_s: float
    eval_s: float
    prompt_tokens_per_s: float | None
    generated_tokens_per_s: float | None
    speed_run: str


@dataclass
class VariantResult:
    """Every variant's runs and costs, and the paired comparisons with the reference variant."""

    model: str
    tasks: list[str]
    reference: str
    measured: list[Measured]
    comparisons: dict[tuple[str, str], Any]  # (variant label, task) -> comparison.Comparison with the reference
    metric: dict[str, str]  # task -> the metric compared
    store_path: Path
    notes: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [m.variant.label for m in self.measured]

    def table(self):
        """One row per variant and task (see the module docstring); MB are 2**20 bytes."""
        import pandas as pd

        rows = []
        for m in self.measured:
            for task in self.tasks:
                name = self.metric[task]
                got = m.metrics[task]
                lo, hi = got.get(f"{name}_ci95", [float("nan"), float("nan")])
                row: dict[str, Any] = {
                    "variant": m.variant.label, "task": task, "metric": name, "score": got.get(name),
                    "ci95_low": lo, "ci95_high": hi, "n": got.get("n"),
                }  # fmt: skip
                c = self.comparisons.get((m.variant.label, task))
                t = c.table().iloc[0] if c is not None else None
                row.update({
                    "diff": float(t["b_minus_a"]) if t is not None else 0.0,
                    "diff_ci95_low": float(t["ci95_low"]) if t is not None else None,
                    "diff_ci95_high": float(t["ci95_high"]) if t is not None else None,
                    "mcnemar_p": t["mcnemar_p"] if t is not None else None,
                    "flipped_to_right": int(t["b_better"]) if t is not None else 0,
                    "flipped_to_wrong": int(t["a_better"]) if t is not None else 0,
                    "disk_mb": _mb(m.disk_bytes), "weights_mb": _mb(m.memory_bytes), "peak_mb": _mb(m.peak_bytes),
                    "load_peak_mb": _mb(m.load_peak_bytes),
                    "prompt_tok_s": m.prompt_tokens_per_s, "gen_tok_s": m.generated_tokens_per_s,
                    "load_s": round(m.load_s, 1), "run_id": m.runs[task], "speed_run_id": m.speed_run,
                })  # fmt: skip
                rows.append(row)
        return pd.DataFrame(rows)

    def flips(self, variant: str, task: str | None = None):
        """The items of ``task`` (default: the first) whose score differs between ``variant`` and the reference:
        direction ('B better': right only in the variant), the item, both runs' ids (``workbench.samples(run_id)``
        opens either run's items)."""
        task = task or self.tasks[0]
        if variant == self.reference:
            raise WorkbenchError(f"{variant!r} is the reference: it has no flips against itself. Name another variant.")
        if (variant, task) not in self.comparisons:
            raise WorkbenchError(
                f"No comparison of variant {variant!r} on {task!r}: the variants are {', '.join(self.labels)}, the "
                f"tasks {', '.join(self.tasks)}."
            )
        c = self.comparisons[(variant, task)]
        out = c.flips()
        out["direction"] = out["direction"].map({"B better": f"right only in {variant}",
                                                 "A better": f"right only in {self.reference}"})  # fmt: skip
        out.insert(0, "task", task)
        out.insert(1, "reference_run", c.run_a["run_id"])
        out.insert(2, "variant_run", c.run_b["run_id"])
        return out

    def figure(self, task: str | None = None):
        """Score against weights in memory and against generated tokens/s, one point per variant with its
        interval; the Pareto front (no other variant both better and cheaper) joined and marked."""
        from ..speed_charts import variants_chart

        task = task or self.tasks[0]
        return variants_chart(self.table().query("task == @task"), self.model, task)


def _mb(n: int | None) -> float | None:
    return round(n / 2**20, 1) if n is not None else None


def variants(
    model: str = DEFAULT_MODEL,
    names: Sequence[str] = ("float32", "bfloat16", "int8", "gguf"),
    *,
    tasks: Sequence[str] | str = ("arc_easy",),
    limit: int | dict[str, int] | None = None,
    shots: int | dict[str, int] | None = None,
    reference: str = "float32",
    metric: str | None = None,
    device: str | None = None,
    batch_size: int = 16,
    speed_prompts: int = SPEED_PROMPTS,
    speed_tokens: int = SPEED_TOKENS,
    store: str | Path | None = None,
) -> VariantResult:
    """Score ``model``'s variants ``names`` on the same items of ``tasks``, one variant after another, and compare
    each with ``reference`` item by item. ``limit`` and ``shots``: one number for every task, or a dict by task.
    Everything is checked before the first model loads: the names, GGUF files, llama.cpp, the device and number
    formats on this machine, the tasks, limits and shots. ``metric``: the per-item metric compared (default each
    task's first). Speed (speed.py): ``speed_prompts`` prompts of the first task are read, and as many open-ended
    prompts generated ``speed_tokens`` tokens each, one at a time."""
    from .. import comparison
    from ..tasks import get_task

    check_count("speed_prompts", speed_prompts, 1, required=True)
    check_count("speed_tokens", speed_tokens, 2, required=True)
    task_names = [t.strip() for t in tasks.split(",")] if isinstance(tasks, str) else list(tasks)
    if not task_names:
        raise WorkbenchError("Name at least one task, e.g. tasks=['arc_easy'].")
    limits, shot_counts = per_task("limit", limit, task_names), per_task("shots", shots, task_names)
    for task in task_names:
        get_task(task)  # an unknown task is named before any model loads
        check_count("--limit", limits[task], 1)
        check_count("--shots", shot_counts[task], 0)
    variant_list = plan(model, list(names), reference, device)
    measured = []
    for v in variant_list:
        measured.append(
            _run_variant(v, task_names, limits, shot_counts, batch_size, speed_prompts, speed_tokens, store)
        )
    by_label = {m.variant.label: m for m in measured}
    ref = by_label[reference]
    comparisons, chosen = {}, {}
    for task in task_names:
        for m in measured:
            if m is ref:
                continue
            c = comparison.compare(ref.runs[task], m.runs[task], metric=metric, store=store)
            comparisons[(m.variant.label, task)] = c
            chosen[task] = c.metric
        chosen.setdefault(task, metric or _first_metric(ref.metrics[task]))
    from ..store import Store

    notes = [] if all(m.peak_is_own for m in measured) else [
        "Peak memory could not be reset between variants here (not Linux): each peak is the process's since it "
        "started."
    ]  # fmt: skip
    return VariantResult(model, task_names, reference, measured, comparisons, chosen, Store(store).path, notes)


def per_task(name: str, value: int | dict[str, int] | None, tasks: list[str]) -> dict[str, int | None]:
    """One value for every task, or a value per task (``{"arc_easy": 500, "mmlu": 4}``; tasks left out: None)."""
    if not isinstance(value, dict):
        return dict.fromkeys(tasks, value)
    unknown = [t for t in value if t not in tasks]
    if unknown:
        raise WorkbenchError(
            f"{name}={value!r} names {unknown[0]!r}, which is not one of the tasks ({', '.join(tasks)})."
        )
    return {t: value.get(t) for t in tasks}


def _first_metric(metrics: dict[str, Any]) -> str:
    from ..tables import metric_names

    return metric_names({"metrics": metrics})[0]


def _run_variant(
    v: Variant,
    tasks: list[str],
    limits: dict[str, int | None],
    shots: dict[str, int | None],
    batch_size: int,
    n_prompts: int,
    n_tokens: int,
    store: str | Path | None,
) -> Measured:
    """Load ``v``, evaluate every task (ordinary runs), time generation, measure memory, release it."""
    from .. import serving_speed
    from ..evaluation import evaluate_task
    from . import footprint, speed

    print(f"variant {v.label}: loading {v.model}" + (f" ({v.dtype})" if v.dtype else f" ({v.backend})"))
    own = footprint.reset_peak()
    started = time.perf_counter()
    lm = serving_speed.load(v.model, device=v.device, dtype=v.dtype, backend=v.backend)
    load_s = time.perf_counter() - started
    load_peak = footprint.peak_bytes()
    footprint.reset_peak()
    gguf = Path(v.gguf) if v.gguf else None
    runs: dict[str, str] = {}
    metrics: dict[str, dict[str, Any]] = {}
    prompts: list[str] = []
    started = time.perf_counter()
    for task in tasks:
        r = evaluate_task(task, v.model, limit=limits[task], shots=shots[task], batch_size=batch_size, store=store,
                          loader=lambda: lm, device=v.device, dtype=v.dtype, backend=v.backend)  # fmt: skip
        runs[task], metrics[task] = r.run_id, r.metrics
        if not prompts and "prompt" in r.samples:
            prompts = [p for p in r.samples["prompt"].tolist() if isinstance(p, str) and p.strip()][:n_prompts]
    eval_s = time.perf_counter() - started
    prompt_tok_s = speed.prompt_speed(lm, prompts)
    gen_tok_s, speed_run = speed.generation_speed(lm, n_prompts, n_tokens, store)
    measured = Measured(
        v, runs, metrics,
        disk_bytes=footprint.weights_on_disk(lm, gguf), memory_bytes=footprint.weights_in_memory(lm, gguf),
        load_peak_bytes=load_peak, peak_bytes=footprint.peak_bytes(), peak_is_own=own, load_s=load_s, eval_s=eval_s,
        prompt_tokens_per_s=prompt_tok_s, generated_tokens_per_s=gen_tok_s, speed_run=speed_run,
    )  # fmt: skip
    close = getattr(lm, "close", None)
    if callable(close):  # llama.cpp frees its context now; a torch model goes with the last reference
        close()
    return measured
