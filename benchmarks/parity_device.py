"""The workbench against lm-evaluation-harness 0.4.13 on one device (``--device cuda`` on a GPU machine): the same
ARC-Easy (0-shot) and MMLU (5-shot) items, the default model in float32 on both sides, compared item by item.

benchmarks/gpu_check.sh runs it on a GPU machine; on a CPU it runs as it is (``--device cpu``). Sides:

- lm-eval ``--model hf --device DEVICE`` (float32), the reference;
- ``workbench.evaluate(..., device=DEVICE, dtype="float32")``, the transformers backend;
- with ``--vllm`` where vLLM imports in this python: the in-process ``vllm:DIR`` backend (benchmarks/vllm_score.py).

Printed: per side the items, requests differing from the harness's, predictions differing, the largest
|log-likelihood difference|, wall time (process start and model load included on both sides) and the harness's
time over the side's. Exits 1 when a request or prediction differs or a difference reaches the tolerance.

    python benchmarks/parity_device.py --device cuda --arc-limit 200 --mmlu-subjects abstract_algebra,anatomy \\
        --mmlu-limit 20 --lmeval-python python3
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity_arc import DEFAULT_LMEVAL_PYTHON, harness_info, machine, model_directory  # noqa: E402
from parity_suite import mmlu_cases, workbench_items, write_case  # noqa: E402
from parity_vllm import ARC, Side, _ids, compare, evaluate_lls, harness_lls, in_process_lls, run_harness  # noqa: E402


def device_name(device: str) -> str:
    """'NVIDIA H200 (cuda)', or the CPU's model."""
    if device.startswith("cuda"):
        import torch

        return f"{torch.cuda.get_device_name(int(device.split(':')[1]) if ':' in device else 0)} ({device})"
    return machine()


def render(sides: list[Side], ref: Side, meta: dict[str, str], tol: float) -> str:
    ok = all(not s.prompt_diffs and not s.pred_diffs and s.max_abs < tol for s in sides)
    lines = [
        f"### ARC-Easy {meta['arc']} + MMLU {meta['mmlu']} on {meta['device']}: {'PASS' if ok else 'FAIL'}",
        "",
        f"- date: {meta['date']}; device: {meta['device_name']}",
        f"- model: {meta['model']} -> `{meta['model_dir']}` (float32 on both sides)",
        f"- versions: {meta['versions']}; harness: {meta['hs_versions']}",
        f"- command: `{meta['command']}`",
        "",
        "| scored by | items | requests differing | predictions differing from harness | max abs Δ loglikelihood "
        "(nats) | wall time (s) | harness time / this |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in sides:
        where = f" ({s.max_at})" if s.max_at else ""
        ratio = f"{ref.seconds / s.seconds:.2f}x" if s.seconds else "n/a"
        name = s.name + (f" ({s.note})" if s.note else "")
        lines.append(f"| {name} | {s.items} | {_ids(s.prompt_diffs)} | {_ids(s.pred_diffs)} | {s.max_abs:.2e}{where} "
                     f"| {s.seconds:.0f} | {ratio} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (default cuda)")
    p.add_argument("--arc-limit", type=int, default=200)
    p.add_argument("--mmlu-subjects", default="abstract_algebra,anatomy")
    p.add_argument("--mmlu-limit", type=int, default=20)
    p.add_argument("--model", default="smollm2-135m", help="workbench model: alias, .gguf file or directory")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--tolerance", type=float, default=1e-3)
    p.add_argument("--data-dir", default=os.environ.get("WORKBENCH_DATA_DIR"))
    p.add_argument("--lmeval-python", default=os.environ.get("LMEVAL_PYTHON", DEFAULT_LMEVAL_PYTHON))
    p.add_argument("--vllm", action="store_true", help="also the in-process vllm: backend, where vLLM imports")
    p.add_argument("--out", help="also write the markdown table to this file")
    args = p.parse_args(argv)
    if not args.data_dir:
        p.error("set --data-dir or $WORKBENCH_DATA_DIR to the data mirror root")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["WORKBENCH_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from workbench.run.provenance import versions

    work = Path(tempfile.mkdtemp(prefix="parity_device."))
    subjects = [s.strip() for s in args.mmlu_subjects.split(",") if s.strip()]
    cases = [ARC, *mmlu_cases(subjects)]
    limits = {"arc": args.arc_limit, "mmlu": args.mmlu_limit}
    groups = {g: [c for c in cases if c.group == g] for g in limits}
    info = harness_info(args.lmeval_python)
    for case in cases:
        write_case(case, Path(info["arc_easy_yaml"]).parents[1], work)
    items = {c.task: workbench_items(c, limits[c.group]) for c in cases}
    model_dir = model_directory(args.model)

    t0 = time.time()
    for g in groups:
        run_harness(args.lmeval_python, model_dir, groups[g], limits[g], work / "hf", work, None, args.batch_size,
                    args.device)  # fmt: skip
    ref_lls, requests = harness_lls(work / "hf", cases)
    ref = Side(f"lm-eval 0.4.13 --model hf --device {args.device}", ref_lls, time.time() - t0)
    t0 = time.time()
    lls = evaluate_lls(args.model, cases, limits, work / "wb.sqlite", args.batch_size, device=args.device,
                       dtype="float32")  # fmt: skip
    sides = [ref, Side(f"workbench --device {args.device} --dtype float32", lls, time.time() - t0)]
    if args.vllm:
        if importlib.util.find_spec("vllm") is None:
            print("vllm is not installed in this python: the vllm: backend is left out", file=sys.stderr)
        else:
            t0 = time.time()
            lls, note = in_process_lls(sys.executable, model_dir, items, work)
            sides.append(Side(f"workbench vllm:{model_dir.name}", lls, time.time() - t0, note))
    for side in sides:
        compare(side, ref_lls, requests, items)
    wv = versions()
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "arc": f"{args.arc_limit} items (0-shot)",
        "mmlu": f"{len(subjects)} subjects x {args.mmlu_limit} items (5-shot)",
        "device": args.device,
        "device_name": device_name(args.device),
        "model": args.model,
        "model_dir": str(model_dir),
        "versions": f"workbench {wv['workbench']}, torch {wv['torch']}, transformers {wv['transformers']}",
        "hs_versions": ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k != "python"),
        "command": shlex.join(["python", "benchmarks/parity_device.py", *(sys.argv[1:] if argv is None else argv)]),
    }
    text = render(sides, ref, meta, args.tolerance)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    ok = all(not s.prompt_diffs and not s.pred_diffs and s.max_abs < args.tolerance for s in sides)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
