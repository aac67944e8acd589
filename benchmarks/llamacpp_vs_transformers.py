"""The llama.cpp backend against the transformers backend on the same GGUF file, and what its prefix cache saves.

1. ARC-Easy, first N test items, 0-shot: ``workbench.evaluate`` with ``llamacpp:FILE`` (the Q4_1 file run by
   llama.cpp as deployed) and with the alias (the same file dequantized to float32, transformers), each in its own
   store; per item: pred, pred_norm, acc, and the largest |log-likelihood difference| over the choices.
2. MMLU 5-shot (one subject, first M items): the same requests scored by the llama.cpp backend with its prefix
   cache and from scratch: tokens computed, seconds, and the largest difference between the two (should be ~0).

    OMP_NUM_THREADS=2 WORKBENCH_DATA_DIR=/work/shared/data python benchmarks/llamacpp_vs_transformers.py --limit 20
    python benchmarks/llamacpp_vs_transformers.py --limit 500 --mmlu-limit 50 --out /tmp/llamacpp.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def arc(limit: int, alias: str) -> dict[str, Any]:
    import workbench
    from workbench.models.registry import resolve

    gguf = resolve(alias).location
    out: dict[str, Any] = {"gguf": gguf, "limit": limit}
    runs = {}
    for label, spec in (("llama.cpp", f"llamacpp:{gguf}"), ("transformers float32", alias)):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            result = workbench.evaluate("arc_easy", model=spec, limit=limit, store=Path(tmp) / "store.sqlite")
            seconds = time.perf_counter() - start
            samples = result.samples
            runs[label] = samples
            out[label] = {
                "acc": result.metrics["acc"],
                "acc_norm": result.metrics.get("acc_norm"),
                "seconds": round(seconds, 1),
            }
    a, b = runs["llama.cpp"], runs["transformers float32"]
    a, b = a.sort_values("doc_id").reset_index(drop=True), b.sort_values("doc_id").reset_index(drop=True)
    diffs = [
        max(abs(float(x) - float(y)) for x, y in zip(la, lb))
        for la, lb in zip(a["loglikelihoods"], b["loglikelihoods"])
    ]
    out["items"] = len(a)
    out["pred_differs"] = [int(d) for d, p, q in zip(a["doc_id"], a["pred"], b["pred"]) if int(p) != int(q)]
    out["pred_norm_differs"] = [
        int(d) for d, p, q in zip(a["doc_id"], a["pred_norm"], b["pred_norm"]) if int(p) != int(q)
    ]
    out["max_abs_loglikelihood_diff"] = round(max(diffs), 4)
    out["mean_max_abs_loglikelihood_diff"] = round(sum(diffs) / len(diffs), 4)
    out["doc0_loglikelihoods"] = {
        "llama.cpp": [round(float(x), 2) for x in a["loglikelihoods"][0]],
        "transformers float32": [round(float(x), 2) for x in b["loglikelihoods"][0]],
    }
    return out


def mmlu_prefix(limit: int, alias: str, subject: str) -> dict[str, Any]:
    from workbench.models import llamacpp
    from workbench.tasks import get_task

    task = get_task(f"mmlu:{subject}")
    root = Path(os.environ["WORKBENCH_DATA_DIR"])
    docs = task.data.mirror(root, task.eval_split)[:limit]
    pool = task.data.mirror(root, task.fewshot_split) if task.fewshot_split else []
    items = task.build_items(docs, pool, 5)
    requests = [r for item in items for r in item.requests]
    model = llamacpp.load(llamacpp.parse(f"llamacpp:{alias}"))
    out: dict[str, Any] = {"subject": subject, "items": len(items), "requests": len(requests)}
    answers = {}
    for reuse in (True, False):
        model.reuse = reuse
        model.llm.reset()
        before, start = model.tokens_evaluated, time.perf_counter()
        answers[reuse] = model.loglikelihood(requests)
        out["with cache" if reuse else "from scratch"] = {
            "tokens_computed": model.tokens_evaluated - before,
            "seconds": round(time.perf_counter() - start, 1),
        }
    out["max_abs_diff"] = max(abs(x.logprob - y.logprob) for x, y in zip(answers[True], answers[False]))
    model.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=20, help="ARC-Easy test items (default 20)")
    parser.add_argument("--mmlu-limit", type=int, default=10, help="MMLU items for the prefix cache (0: skip)")
    parser.add_argument("--subject", default="high_school_geography")
    parser.add_argument("--model", default="smollm2-135m", help="an alias whose GGUF file both backends load")
    parser.add_argument("--out", type=Path, help="write the results as JSON here too")
    args = parser.parse_args(argv)
    if not os.environ.get("WORKBENCH_DATA_DIR"):
        print("Set WORKBENCH_DATA_DIR to the data mirror (e.g. /work/shared/data).", file=sys.stderr)
        return 2
    import llama_cpp

    report: dict[str, Any] = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "llama_cpp_python": llama_cpp.__version__,
        "threads": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count())),
        "arc_easy": arc(args.limit, args.model),
    }
    if args.mmlu_limit:
        report["mmlu_5shot_prefix_cache"] = mmlu_prefix(args.mmlu_limit, args.model, args.subject)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
