"""Measure start-up costs: `%load_ext workbench`, the first (dequantizing) and later loads of the default model.

    python benchmarks/load_time.py [--model smollm2-135m] [--repeat 3]

Each measurement runs in a fresh Python process so imports are not already warm. The first-load figure
uses an empty temporary cache dir; later loads use the real cache dir.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

LOAD_EXT = """
import time
t = time.perf_counter()
from IPython.testing.globalipapp import get_ipython
ip = get_ipython()
t_ip = time.perf_counter()
ip.run_line_magic("load_ext", "workbench")
print(time.perf_counter() - t_ip)
"""

LOAD_MODEL = """
import time, sys
t0 = time.perf_counter()
import torch, transformers  # noqa: F401  (import cost reported separately)
t1 = time.perf_counter()
from workbench.models import load
load(sys.argv[1])
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def run(code: str, *args: str, env: dict | None = None) -> list[float]:
    import os

    full_env = dict(os.environ, **(env or {}))
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=full_env)
    return [float(x) for x in out.stdout.strip().splitlines()[-1].split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    ext = [run(LOAD_EXT)[0] for _ in range(args.repeat)]
    with tempfile.TemporaryDirectory() as empty:
        imports_first, first = run(LOAD_MODEL, args.model, env={"WORKBENCH_CACHE_DIR": empty})
    run(LOAD_MODEL, args.model)  # make sure the real cache is warm
    cached = [run(LOAD_MODEL, args.model) for _ in range(args.repeat)]
    report = {
        "load_ext_s": round(statistics.median(ext), 3),
        "first_load_dequantize_s": round(first, 2),
        "import_torch_transformers_s": round(statistics.median(c[0] for c in cached), 2),
        "cached_load_s": round(statistics.median(c[1] for c in cached), 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
