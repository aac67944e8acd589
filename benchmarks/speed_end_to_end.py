"""Whole-process speed of `workbench eval` against `lm_eval run` (lm-evaluation-harness 0.4.13), as a user runs them.

speed_vs_harness.py times the scoring engines alone on prepared requests; this script times what a user waits for:
each command from start to exit (interpreter start, imports, task and data loading, model load, prompt building,
scoring, writing results), on the same items and the same float32 weights, alternating harness / workbench, every
figure the median of ``--runs`` runs (default 3). ``--engine`` also runs speed_vs_harness.py once per configuration
so the engine-only speedup stands beside the whole-process one.

    WORKBENCH_DATA_DIR=/work/shared/data HF_HUB_OFFLINE=1 \\
        python benchmarks/speed_end_to_end.py --suite --runs 3 --engine --out benchmarks/results/speed_end_to_end.jsonl
    python benchmarks/speed_end_to_end.py --config arc --config gsm8k --limit 3 --runs 1   # a quick check

Configurations (issue 17; the same as speed_vs_harness.py --suite): ARC-Easy 0-shot, 500 items; MMLU 5-shot,
50 items each of anatomy, astronomy, marketing and virology; HellaSwag 0-shot, 200 items; GSM8K 5-shot
generation, 50 items. ``--limit N`` uses N items per configuration (per MMLU subject) instead.

Harness side: ``python -m lm_eval run --model hf --model_args pretrained=<dir>,dtype=float32 --batch_size 16
--device cpu --log_samples`` offline, on the custom tasks of parity_arc.py (ARC) and parity_suite.py (the rest):
the harness's own task YAMLs with only the dataset swapped for the mirror's rows ($WORKBENCH_DATA_DIR), whose
item-by-item parity with the workbench those scripts check. One process per configuration (the four MMLU subjects
are one ``--tasks`` list). Its datasets cache lives in the configuration's work folder, kept across its runs.

Workbench side: ``workbench eval <task> --model smollm2-135m --limit N --shots K --batch-size 16 --store <fresh
file>``, a new store every run so nothing resumes. `workbench eval` takes one task, so MMLU's four subjects run in
one Python process calling ``workbench.evaluate`` per subject (SUITE_SCRIPT), as a notebook or script runs them.

Both sides: TOKENIZERS_PARALLELISM=false, HF_*_OFFLINE=1, torch's default threads; stdout and stderr go to a log
file. The harness loads the dequantized default model as a transformers directory (parity_arc.model_directory),
the workbench the same weights by their alias.

Measured per process: wall seconds (time.perf_counter around start to exit), CPU busy (user + system CPU seconds
over wall seconds times the cores: the share of the cores the process kept busy, whatever it computed) and peak
resident memory: ``ru_maxrss`` of the os.wait4 rusage of the child, the figure ``/usr/bin/time -v`` prints as
"Maximum resident set size" (the largest process of the tree, neither side starts helpers that matter). Correctness:
the accuracy metrics of both sides (harness results_*.json under --output_path, workbench runs in its store) must be
equal; a difference is marked MISMATCH and the script exits 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))
from harness_tasks import lm_eval_command, offline_env  # noqa: E402
from parity_arc import (  # noqa: E402
    DEFAULT_LMEVAL_PYTHON,
    harness_info,
    machine,
    model_directory,
    write_hub_splits,
    write_task_yaml,
)
from parity_suite import CASES, mmlu_cases, write_case  # noqa: E402
from speed_vs_harness import SUITE  # noqa: E402

Row = dict[str, Any]


@dataclass(frozen=True)
class Config:
    """One configuration of issue 17: the workbench tasks, shots and items, and the metrics compared."""

    key: str
    label: str
    tasks: tuple[str, ...]  # workbench task names, one `workbench eval` each
    shots: int
    items: int  # per task
    kind: str  # speed_vs_harness.py --kind
    metrics: tuple[tuple[str, str], ...]  # (workbench metric, harness results key)


MC = (("acc", "acc,none"), ("acc_norm", "acc_norm,none"))
_KEYS = {  # speed_vs_harness.SUITE label -> (--config name, metrics compared)
    "ARC-Easy 0-shot": ("arc", MC),
    "MMLU 5-shot": ("mmlu", (("acc", "acc,none"),)),
    "HellaSwag 0-shot": ("hellaswag", MC),
    "GSM8K 5-shot (generation)": (
        "gsm8k",
        (("exact_match_strict", "exact_match,strict-match"), ("exact_match_flexible", "exact_match,flexible-extract")),
    ),
}
CONFIGS = {
    _KEYS[label][0]: Config(_KEYS[label][0], label, tuple(tasks), shots, items, kind, _KEYS[label][1])
    for label, tasks, shots, items, kind in SUITE
}


@dataclass
class Timed:
    """One timed process."""

    seconds: float
    peak_mb: float
    cpu_s: float = 0.0  # user + system seconds of the process and the children it waited for

    @property
    def cpu_busy(self) -> float:
        """Share of the machine's cores kept busy over the wall time (1.0: every core all the time)."""
        return self.cpu_s / (self.seconds * (os.cpu_count() or 1))


@dataclass
class Measured:
    """All runs of one configuration."""

    config: Config
    items: int
    harness: list[Timed] = field(default_factory=list)
    workbench: list[Timed] = field(default_factory=list)
    harness_metrics: dict[str, float] = field(default_factory=dict)
    workbench_metrics: dict[str, float] = field(default_factory=dict)
    harness_items: int = 0
    workbench_items: int = 0
    engine: Row | None = None

    @property
    def agree(self) -> bool:
        if self.harness_items != self.items or self.workbench_items != self.items:
            return False
        return all(abs(self.harness_metrics[h] - self.workbench_metrics[w]) < 1e-9 for w, h in self.config.metrics)


# ---- running and timing one process ------------------------------------------------------------------
def timed(cmd: list[str], env: dict[str, str], log: Path) -> Timed:
    """Run ``cmd`` to its exit, stdout and stderr into ``log``; wall seconds and the child's peak RSS."""
    print(f"  $ {shlex.join(cmd)}", file=sys.stderr, flush=True)
    with open(log, "w", encoding="utf-8") as f:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed (exit {proc.returncode}); last lines of {log}:\n{log.read_text()[-3000:]}")
    # ru_maxrss is in KiB on Linux; the CPU times include the descendants the child waited for (as time -v's)
    return Timed(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


# ---- harness side --------------------------------------------------------------------------------------
def prepare_harness(config: Config, work: Path, data_dir: Path, info: Row) -> list[str]:
    """Data files and task YAMLs of the configuration under ``work`` (as the parity scripts write them); returns
    the harness task names."""
    if config.key == "arc":
        (work / "data").mkdir(parents=True, exist_ok=True)
        (work / "tasks").mkdir(parents=True, exist_ok=True)
        files = write_hub_splits(data_dir, "ARC-Easy", work / "data")
        write_task_yaml(work / "tasks", "parity_arc_easy", files, info["config"])
        return ["parity_arc_easy"]
    if config.key == "mmlu":
        cases = mmlu_cases([t.split(":", 1)[1] for t in config.tasks])
    else:
        cases = [c for c in CASES if c.task in config.tasks]
    harness_tasks = Path(info["arc_easy_yaml"]).parents[1]
    for case in cases:
        write_case(case, harness_tasks, work)
    return [c.harness_task for c in cases]


def run_harness(
    args: argparse.Namespace, config: Config, tasks: list[str], model_dir: Path, work: Path, i: int
) -> tuple[Timed, Path]:
    """One timed ``lm_eval run`` of the configuration; returns the timing and its --output_path."""
    out = work / f"harness-{i}"
    shots = 0 if config.key == "arc" else None  # parity_arc passes --num_fewshot; the suite's YAMLs carry theirs
    cmd = lm_eval_command(
        args.lmeval_python, model_dir, tasks, work / "tasks", args.items, args.batch_size, out, num_fewshot=shots
    )
    return timed(cmd, offline_env(work / "hf-datasets"), work / f"harness-{i}.log"), out


def harness_scores(config: Config, tasks: list[str], out: Path) -> tuple[dict[str, float], int]:
    """The harness's metrics from its results_*.json (MMLU: pooled over the subjects, weighted by items) and the
    number of items it scored."""
    found = sorted(out.rglob("results_*.json"))
    if not found:
        sys.exit(f"lm-eval wrote no results_*.json under {out}")
    saved = json.loads(found[-1].read_text())
    n = {t: int(saved["n-samples"][t]["effective"]) for t in tasks}
    total = sum(n.values())
    metrics = {key: sum(float(saved["results"][t][key]) * n[t] for t in tasks) / total for _, key in config.metrics}
    return metrics, total


# ---- workbench side ------------------------------------------------------------------------------------
# several tasks in one process, as a user of the Python API (or a notebook) runs a suite: the model is loaded
# per task (from its cache dir), the interpreter and imports once
SUITE_SCRIPT = """
import sys, workbench
store, model, limit, shots, batch_size, *tasks = sys.argv[1:]
for task in tasks:
    result = workbench.evaluate(task, model=model, limit=int(limit), shots=int(shots), batch_size=int(batch_size),
                                store=store)
    print(task, result.metrics)
"""


def run_workbench(args: argparse.Namespace, config: Config, work: Path, i: int) -> tuple[Timed, Path]:
    """One timed run into a fresh store: `workbench eval` for a one-task configuration; for several tasks (MMLU's
    subjects), one Python process calling workbench.evaluate for each, since `workbench eval` takes one task."""
    store = work / f"workbench-{i}.sqlite"
    env = dict(offline_env(work / "hf-datasets-workbench"), WORKBENCH_DATA_DIR=str(args.data_dir))
    if len(config.tasks) == 1:
        cmd = [
            args.workbench, "eval", config.tasks[0],
            "--model", args.model,
            "--limit", str(args.items),
            "--shots", str(config.shots),
            "--batch-size", str(args.batch_size),
            "--store", str(store),
        ]  # fmt: skip
    else:
        python = str(Path(args.workbench).with_name("python"))
        cmd = [python, "-c", SUITE_SCRIPT, str(store), args.model, str(args.items), str(config.shots)]
        cmd += [str(args.batch_size), *config.tasks]
    done = timed(cmd, env, work / f"workbench-{i}.log")
    return done, store


def workbench_scores(config: Config, store: Path) -> tuple[dict[str, float], int]:
    """The workbench's metrics from its store (MMLU: pooled over the subject runs, weighted by items) and the
    number of items it scored."""
    from workbench.store import Store

    runs = Store(store, create=False).runs()
    done = runs[runs["status"] == "complete"]
    if len(done) != len(config.tasks):
        sys.exit(f"{store}: {len(done)} complete runs, expected {len(config.tasks)}:\n{runs[['task', 'status']]}")
    total = int(done["n_items"].sum())
    metrics = {
        name: sum(float(m[name]) * int(n) for m, n in zip(done["metrics"], done["n_items"])) / total
        for name, _ in config.metrics
    }
    return metrics, total


# ---- engine only (speed_vs_harness.py) -----------------------------------------------------------------
def run_engine(args: argparse.Namespace, config: Config, work: Path) -> Row:
    """speed_vs_harness.py once on the configuration's requests; its jsonl row."""
    out = work / "engine.jsonl"
    cmd = [sys.executable, str(BENCHMARKS / "speed_vs_harness.py")]
    for task in config.tasks:
        cmd += ["--task", task]
    cmd += ["--shots", str(config.shots), "--limit", str(args.items), "--kind", config.kind]
    cmd += ["--lmeval-python", args.lmeval_python, "--out", str(out)]
    timed(cmd, dict(os.environ, WORKBENCH_DATA_DIR=str(args.data_dir)), work / "engine.log")
    return json.loads(out.read_text().splitlines()[-1])


# ---- one configuration ---------------------------------------------------------------------------------
def measure(args: argparse.Namespace, config: Config, model_dir: Path, info: Row, root: Path) -> Measured:
    work = root / config.key
    work.mkdir(parents=True, exist_ok=True)
    tasks = prepare_harness(config, work, args.data_dir, info)
    result = Measured(config, items=args.items * len(config.tasks))
    for i in range(args.runs):  # alternate sides so drift in machine load hits both
        print(f"[{config.label}] run {i + 1}/{args.runs}: harness", file=sys.stderr, flush=True)
        h, out = run_harness(args, config, tasks, model_dir, work, i)
        result.harness.append(h)
        print(f"[{config.label}] run {i + 1}/{args.runs}: workbench", file=sys.stderr, flush=True)
        w, store = run_workbench(args, config, work, i)
        result.workbench.append(w)
        hm, hn = harness_scores(config, tasks, out)
        wm, wn = workbench_scores(config, store)
        if i == 0:
            result.harness_metrics, result.harness_items = hm, hn
            result.workbench_metrics, result.workbench_items = wm, wn
        elif (hm, hn, wm, wn) != (
            result.harness_metrics,
            result.harness_items,
            result.workbench_metrics,
            result.workbench_items,
        ):
            print(f"[{config.label}] warning: run {i + 1} scored differently from run 1", file=sys.stderr)
    if args.engine:
        print(f"[{config.label}] engine only: speed_vs_harness.py", file=sys.stderr, flush=True)
        result.engine = run_engine(args, config, work)
    return result


# ---- report ----------------------------------------------------------------------------------------------
def median(runs: list[Timed]) -> float:
    return statistics.median(r.seconds for r in runs)


def raw_row(m: Measured, meta: Row) -> Row:
    h, w = median(m.harness), median(m.workbench)
    row: Row = {
        "config": m.config.label,
        "items": m.items,
        "runs": len(m.harness),
        "harness_s": round(h, 2),
        "harness_runs_s": [round(r.seconds, 2) for r in m.harness],
        "workbench_s": round(w, 2),
        "workbench_runs_s": [round(r.seconds, 2) for r in m.workbench],
        "speedup": round(h / w, 2),
        "harness_cpu_busy": round(statistics.median(r.cpu_busy for r in m.harness), 3),
        "workbench_cpu_busy": round(statistics.median(r.cpu_busy for r in m.workbench), 3),
        "harness_peak_mb": round(max(r.peak_mb for r in m.harness)),
        "workbench_peak_mb": round(max(r.peak_mb for r in m.workbench)),
        "harness_metrics": {w_: m.harness_metrics[h_] for w_, h_ in m.config.metrics},
        "workbench_metrics": {w_: m.workbench_metrics[w_] for w_, _ in m.config.metrics},
        "harness_items": m.harness_items,
        "workbench_items": m.workbench_items,
        "metrics_agree": m.agree,
    }
    if m.engine:
        row["engine_harness_s"] = m.engine["harness_s"]
        row["engine_workbench_s"] = m.engine["workbench_s"]
        row["engine_speedup"] = m.engine["speedup"]
    return {**row, **meta}


def table(rows: list[Row], engine: bool) -> str:
    head = [
        "configuration",
        "items",
        "harness s: median (runs)",
        "workbench s: median (runs)",
        "whole-process speedup",
        *(["engine-only speedup (harness / workbench s)"] if engine else []),
        "peak RSS MB harness / workbench",
        "CPU busy harness / workbench",
        "accuracy harness / workbench",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        scores = ", ".join(
            f"{name} {r['harness_metrics'][name]:.4f} / {r['workbench_metrics'][name]:.4f}"
            for name in r["workbench_metrics"]
        )
        if r["harness_items"] != r["items"] or r["workbench_items"] != r["items"]:
            scores += f" (items scored {r['harness_items']} / {r['workbench_items']})"
        scores += "" if r["metrics_agree"] else " **MISMATCH**"
        cells = [
            r["config"],
            str(r["items"]),
            f"{r['harness_s']:.1f} ({', '.join(f'{s:.1f}' for s in r['harness_runs_s'])})",
            f"{r['workbench_s']:.1f} ({', '.join(f'{s:.1f}' for s in r['workbench_runs_s'])})",
            f"{r['speedup']:.2f}x",
        ]
        if engine:
            cells.append(
                f"{r['engine_speedup']:.2f}x ({r['engine_harness_s']:.1f} / {r['engine_workbench_s']:.1f})"
                if "engine_speedup" in r
                else "n/a"
            )
        use = "n/a"
        if "harness_cpu_busy" in r:
            use = f"{r['harness_cpu_busy']:.0%} / {r['workbench_cpu_busy']:.0%}"
        cells += [f"{r['harness_peak_mb']} / {r['workbench_peak_mb']}", use, scores]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--config",
        action="append",
        choices=sorted(CONFIGS),
        help="configuration to measure (repeatable): arc (ARC-Easy 0-shot, 500 items), mmlu (5-shot, 4 subjects x "
        "50), hellaswag (0-shot, 200), gsm8k (5-shot generation, 50)",
    )
    p.add_argument("--suite", action="store_true", help="all four configurations")
    p.add_argument("--limit", type=int, help="items per configuration (per MMLU subject) instead of its own")
    p.add_argument("--runs", type=int, default=3, help="timed runs of each side; figures are medians (default 3)")
    p.add_argument("--engine", action="store_true", help="also run speed_vs_harness.py once per configuration")
    p.add_argument("--model", default="smollm2-135m", help="workbench model; the harness loads the same weights")
    p.add_argument("--batch-size", type=int, default=16, help="batch size of both sides (default 16)")
    p.add_argument(
        "--data-dir",
        default=os.environ.get("WORKBENCH_DATA_DIR"),
        help="data mirror root (default $WORKBENCH_DATA_DIR)",
    )
    p.add_argument(
        "--lmeval-python",
        default=os.environ.get("LMEVAL_PYTHON", DEFAULT_LMEVAL_PYTHON),
        help=f"side venv python with lm-eval 0.4.13 (default $LMEVAL_PYTHON or {DEFAULT_LMEVAL_PYTHON})",
    )
    p.add_argument(
        "--workbench",
        default=str(Path(sys.executable).parent / "workbench"),
        help="the workbench command (default: the one next to this python)",
    )
    p.add_argument("--out", help="append one JSON row per configuration to this file")
    p.add_argument("--keep", action="store_true", help="keep the work folder (task YAMLs, logs, outputs, stores)")
    args = p.parse_args(argv)
    if not args.data_dir:
        p.error("set --data-dir or $WORKBENCH_DATA_DIR to the data mirror root")
    if args.suite:
        args.config = list(CONFIGS)
    if not args.config:
        p.error("choose --config (repeatable) or --suite")
    if args.runs < 1 or args.batch_size < 1 or (args.limit is not None and args.limit < 1):
        p.error("--runs, --batch-size and --limit must be >= 1")
    args.data_dir = Path(args.data_dir).expanduser().resolve()
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["WORKBENCH_DATA_DIR"] = str(args.data_dir)  # write_case reads the mirror through the workbench
    info = harness_info(args.lmeval_python)
    model_dir = model_directory(args.model)
    root = Path(tempfile.mkdtemp(prefix="speed_end_to_end."))
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "lm_eval": info["versions"]["lm_eval"],
    }
    rows = []
    for key in dict.fromkeys(args.config):
        config = CONFIGS[key]
        args.items = args.limit or config.items
        row = raw_row(measure(args, config, model_dir, info, root), meta)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if args.out:
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
    print(f"- date: {meta['date']}; machine: {meta['machine']}")
    print(f"- weights: {args.model} = `{model_dir}` (float32), batch size {args.batch_size}, torch default threads")
    print(f"- harness: lm-eval {meta['lm_eval']} (`{args.lmeval_python}`); workbench: `{args.workbench}`")
    print(f"- seconds: whole process, start to exit, median of {args.runs} run(s), alternating harness / workbench")
    print("- peak RSS: ru_maxrss of the process (os.wait4), the largest over the runs")
    if "mmlu" in args.config:
        print("- MMLU: each side runs the four subjects in one process (the workbench: workbench.evaluate per subject)")
    print(f"- command: `{shlex.join(['python', 'benchmarks/speed_end_to_end.py', *(argv or sys.argv[1:])])}`")
    print()
    print(table(rows, args.engine))
    if args.keep:
        print(f"\nwork folder kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if all(r["metrics_agree"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
