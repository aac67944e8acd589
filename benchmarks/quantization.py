"""The numbers of docs/quantization.md: the default model's variants on ARC-Easy and MMLU 5-shot, side by side.

    OMP_NUM_THREADS=1 python benchmarks/quantization.py                       # ARC-Easy 500, MMLU 5-shot 4/subject
    python benchmarks/quantization.py --arc-limit 50 --mmlu-limit 1           # a quick look
    python benchmarks/quantization.py --variants float32,int8,./model.Q8_0.gguf

One ``workbench.variants`` call: every variant (float32, bfloat16 and int8 through transformers, the shipped Q4_1
GGUF file through llama.cpp) loaded, evaluated on the same items, timed and measured in this one process, one
after another; each variant's runs are ordinary runs in the store. MMLU's ``--limit`` counts per subject, so 4
gives 228 items (57 subjects x 4). Writes the table as JSON (``--out``) with the machine it ran on, and prints the
Markdown tables the doc shows. GGUF variants need llama-cpp-python (pip install "llm-eval-workbench[llamacpp]");
without it they are left out, and the output says so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    import torch

    llama = importlib.util.find_spec("llama_cpp") is not None
    return {
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "llama_cpp": __import__("llama_cpp").__version__ if llama else None,
        "python": sys.version.split()[0],
    }


def markdown(table, columns: list[str]) -> str:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    rows = []
    for _, row in table.iterrows():
        cells = []
        for c in columns:
            v = row[c]
            if v is None or (isinstance(v, float) and v != v):
                cells.append("")
            elif isinstance(v, float):
                cells.append(f"{v:.3g}" if abs(v) < 10 else f"{v:.0f}")
            else:
                cells.append(str(v))
        rows.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--variants", default="float32,bfloat16,int8,gguf")
    p.add_argument("--arc-limit", type=int, default=500)
    p.add_argument("--mmlu-limit", type=int, default=4, help="items per MMLU subject (57 subjects; 0: no MMLU)")
    p.add_argument("--store", default=str(RESULTS / "quantization.sqlite"))
    p.add_argument("--out", default=str(RESULTS / "quantization.json"))
    args = p.parse_args()

    from workbench.model_variants import variants

    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    if importlib.util.find_spec("llama_cpp") is None and any(n == "gguf" or n.endswith(".gguf") for n in names):
        names = [n for n in names if not (n == "gguf" or n.endswith(".gguf"))]
        print('llama-cpp-python is not installed: GGUF variants left out (pip install "llm-eval-workbench[llamacpp]")')
    tasks = ["arc_easy", "mmlu"] if args.mmlu_limit else ["arc_easy"]
    started = time.time()
    result = variants(
        args.model,
        names,
        tasks=tasks,
        limit={"arc_easy": args.arc_limit, "mmlu": args.mmlu_limit} if args.mmlu_limit else args.arc_limit,
        shots={"arc_easy": 0, "mmlu": 5} if args.mmlu_limit else 0,
        reference=names[0],
        store=args.store,
    )
    table = result.table()
    out = {
        "command": " ".join(["python", "benchmarks/quantization.py", *sys.argv[1:]]),
        "seconds": round(time.time() - started),
        "machine": machine(),
        "rows": json.loads(table.to_json(orient="records")),
        "notes": result.notes,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(json.dumps(out["machine"]))
    print(f"{out['seconds']} s; written to {args.out}\n")
    print(markdown(table, ["variant", "task", "n", "score", "ci95_low", "ci95_high", "diff", "diff_ci95_low",
                           "diff_ci95_high", "mcnemar_p", "flipped_to_right", "flipped_to_wrong"]))  # fmt: skip
    print()
    first = table[table["task"] == tasks[0]]
    print(markdown(first, ["variant", "disk_mb", "weights_mb", "peak_mb", "load_peak_mb", "load_s", "prompt_tok_s",
                           "gen_tok_s"]))  # fmt: skip


if __name__ == "__main__":
    main()
