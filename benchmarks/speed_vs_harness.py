"""Speed of the workbench's scoring engine against lm-evaluation-harness, on identical requests.

    python benchmarks/speed_vs_harness.py --suite            # the figures in docs/performance.md
    python benchmarks/speed_vs_harness.py --task arc_easy --limit 500 --shots 0

The workbench builds the requests (prompts and continuations, identical to the harness's; see
docs/benchmarks.md). Each side then scores the same requests in a fresh process with the same
weights (the dequantized default model as a transformers directory) and batch size 16, alternating
sides. Reported per configuration: wall time of each side and their ratio, tokens each ran through the
model (a forward hook counts input positions, padding included), peak resident memory, items whose
predicted choice differs (or generations whose text differs), the largest log-likelihood difference,
and how close the workbench comes to the machine: distinct prefix-tree tokens x FLOPs per token
against a plain matrix-multiply FLOP rate measured in the same run.

The harness runs from a side environment (``--lmeval-python``, as for the parity scripts; see README.md)
with lm-eval==0.4.13 and the same torch and transformers versions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from parity_arc import DEFAULT_LMEVAL_PYTHON

SUITE = [  # (label, tasks, shots, items per task, kind)
    ("ARC-Easy 0-shot", ["arc_easy"], 0, 500, "loglikelihood"),
    ("MMLU 5-shot", ["mmlu:anatomy", "mmlu:astronomy", "mmlu:marketing", "mmlu:virology"], 5, 50, "loglikelihood"),
    ("HellaSwag 0-shot", ["hellaswag"], 0, 200, "loglikelihood"),
    ("GSM8K 5-shot (generation)", ["gsm8k"], 5, 50, "generate"),
]

WORKER = r"""
import json, resource, sys, time
kind, model_dir, requests_path, out_path, side = sys.argv[1:6]
requests = json.load(open(requests_path))
import torch
counted = {"tokens": 0}
def count(module, args, kwargs):
    ids = kwargs.get("input_ids", args[0] if args else None)
    counted["tokens"] += int(ids.numel())
if side == "harness":
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM
    lm = HFLM(pretrained=model_dir, dtype="float32", batch_size=16, device="cpu")
    lm.model.base_model.register_forward_pre_hook(count, with_kwargs=True)
    t0 = time.perf_counter()
    if kind == "loglikelihood":
        inst = [Instance("loglikelihood", {}, (c, x), i) for i, (c, x) in enumerate(requests)]
        answers = [list(r) for r in lm.loglikelihood(inst, disable_tqdm=True)]
    else:
        inst = [Instance("generate_until", {}, (r["prompt"], {"until": r["stop"], "max_gen_toks": r["max_new_tokens"],
                "do_sample": False}), i) for i, r in enumerate(requests)]
        answers = lm.generate_until(inst, disable_tqdm=True)
else:
    from workbench.models import GenerateRequest, LoglikelihoodRequest
    from workbench.models.hf import HFModel
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    lm = HFModel("bench", model, AutoTokenizer.from_pretrained(model_dir), {})
    model.base_model.register_forward_pre_hook(count, with_kwargs=True)
    t0 = time.perf_counter()
    if kind == "loglikelihood":
        out = lm.loglikelihood([LoglikelihoodRequest(c, x) for c, x in requests], batch_size=16)
        answers = [[r.logprob, r.is_greedy] for r in out]
    else:
        out = lm.generate([GenerateRequest(r["prompt"], max_new_tokens=r["max_new_tokens"], stop=tuple(r["stop"]))
                           for r in requests], batch_size=16)
        answers = [r.text for r in out]
wall = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
json.dump({"wall": wall, "tokens": counted["tokens"], "peak_mb": peak_mb, "answers": answers}, open(out_path, "w"))
"""


def build(tasks: list[str], shots: int, limit: int, kind: str):
    """Requests (and the items they belong to) built by the workbench's own tasks."""
    from workbench.data import load_rows
    from workbench.tasks import get_task

    items = []
    for name in tasks:
        task = get_task(name)
        docs = load_rows(task.data, task.eval_split).rows[:limit]
        pool = load_rows(task.data, task.fewshot_split).rows if shots and task.fewshot_split else []
        items += task.build_items(docs, pool, shots)
    if kind == "loglikelihood":
        requests = [(r.context, r.continuation) for it in items for r in it.requests]
    else:
        requests = [
            {"prompt": r.prompt, "stop": list(r.stop), "max_new_tokens": r.max_new_tokens}
            for it in items
            for r in it.requests
        ]
    return items, requests


def distinct_prefix_tokens(tokenizer, requests, kind: str) -> int:
    """Nodes of the token trie over every model input: the tokens that must be computed at least once."""
    from workbench.models.tokens import encode, encode_pair

    prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    trie: dict = {}
    nodes = 0
    for r in requests:
        if kind == "loglikelihood":
            ctx, cont = encode_pair(tokenizer, prefix, *r)
            seq = (ctx + cont)[:-1]
        else:
            seq = encode(tokenizer, r["prompt"])
        node = trie
        for t in seq:
            if t not in node:
                node[t] = {}
                nodes += 1
            node = node[t]
    return nodes


def matmul_flops() -> float:
    """FLOP/s of a plain fp32 matrix multiply with torch's default threads (best of 5)."""
    import torch

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    torch.mm(a, b)
    best = min(_timed(lambda: torch.mm(a, b)) for _ in range(5))
    return 2 * 2048**3 / best


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def run_side(side: str, python: str, kind: str, model_dir: str, requests) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        req, out = Path(tmp) / "requests.json", Path(tmp) / "out.json"
        req.write_text(json.dumps(requests))
        env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        subprocess.run([python, "-c", WORKER, kind, model_dir, str(req), str(out), side], check=True, env=env)
        return json.loads(out.read_text())


def compare(
    label: str,
    tasks: list[str],
    shots: int,
    limit: int,
    kind: str,
    repeats: int,
    harness_python: str,
    model_dir: str,
    tokenizer,
    params: int,
    flop_rate: float,
) -> dict:
    items, requests = build(tasks, shots, limit, kind)
    runs: dict[str, list[dict]] = {"harness": [], "workbench": []}
    for _ in range(repeats):  # alternate sides so drift in machine load hits both
        runs["harness"].append(run_side("harness", harness_python, kind, model_dir, requests))
        runs["workbench"].append(run_side("workbench", sys.executable, kind, model_dir, requests))
    h, w = runs["harness"][-1], runs["workbench"][-1]
    wall_h = statistics.median(r["wall"] for r in runs["harness"])
    wall_w = statistics.median(r["wall"] for r in runs["workbench"])
    if kind == "loglikelihood":
        max_diff = max(abs(a[0] - b[0]) for a, b in zip(h["answers"], w["answers"]))
        differing, start = 0, 0
        for it in items:
            n = len(it.requests)
            lh = [a[0] for a in h["answers"][start : start + n]]
            lw = [a[0] for a in w["answers"][start : start + n]]
            differing += lh.index(max(lh)) != lw.index(max(lw))
            start += n
    else:
        max_diff = float("nan")
        differing = sum(a != b for a, b in zip(h["answers"], w["answers"]))
    tree = distinct_prefix_tokens(tokenizer, requests, kind)
    generated = 0 if kind == "loglikelihood" else sum(len(tokenizer.encode(a)) for a in w["answers"])
    need = (tree + generated) * 2 * params
    return {
        "config": label,
        "items": len(items),
        "requests": len(requests),
        "harness_s": round(wall_h, 1),
        "workbench_s": round(wall_w, 1),
        "speedup": round(wall_h / wall_w, 2),
        "harness_tokens": h["tokens"],
        "workbench_tokens": w["tokens"],
        "prefix_tree_tokens": tree,
        "harness_peak_mb": round(h["peak_mb"]),
        "workbench_peak_mb": round(w["peak_mb"]),
        "differing": differing,
        "max_ll_diff": max_diff,
        "machine_use": round(need / (wall_w * flop_rate), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", action="store_true", help="run every configuration of docs/performance.md")
    parser.add_argument("--task", action="append", help="task name (repeatable)")
    parser.add_argument("--shots", type=int, default=0)
    parser.add_argument("--limit", type=int, default=100, help="items per task")
    parser.add_argument("--kind", choices=["loglikelihood", "generate"], default="loglikelihood")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--lmeval-python",
        default=os.environ.get("LMEVAL_PYTHON", DEFAULT_LMEVAL_PYTHON),
        help=f"side venv python with lm-eval 0.4.13 (default $LMEVAL_PYTHON or {DEFAULT_LMEVAL_PYTHON})",
    )
    parser.add_argument("--out", help="write the table as JSON lines here too")
    args = parser.parse_args()

    from workbench.models.registry import dequantized_dir, resolve

    model_dir = str(dequantized_dir(resolve("smollm2-135m")))
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(model_dir).parameters())
    flop_rate = matmul_flops()
    print(f"matmul: {flop_rate / 1e9:.1f} GFLOP/s fp32, torch threads {__import__('torch').get_num_threads()}")
    configs = SUITE if args.suite else [("custom", args.task or ["arc_easy"], args.shots, args.limit, args.kind)]
    rows = []
    for label, tasks, shots, limit, kind in configs:
        row = compare(
            label, tasks, shots, limit, kind, args.repeats, args.lmeval_python, model_dir, tokenizer, params, flop_rate
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
