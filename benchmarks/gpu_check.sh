#!/usr/bin/env bash
# The GPU check of issue 18, for a session that is lent a GPU machine (the `device` tool; see its README):
# ARC-Easy (200 items, 0-shot) and MMLU 5-shot (2 subjects x 20 items) with the default model in float32 on CUDA,
# through the workbench and lm-evaluation-harness 0.4.13 `--device cuda`, on the same items, then one table:
# requests and predictions differing, max |Δ log-likelihood|, time of each side and their ratio
# (benchmarks/parity_device.py). Also the in-process vllm: backend where vLLM imports there.
#
# The GPU machine reaches no package registry and takes at most 64 MiB of files per call, so what it lacks is
# prepared here and carried in pieces (all under .gpucheck/, which .git/info/exclude keeps out of git):
#
#   bash benchmarks/gpu_check.sh prepare     # HERE: Python 3.12 wheels it lacks (lm-eval 0.4.13 and its needs,
#                                            # gguf), the mirror's ARC-Easy and MMLU files, the default model's
#                                            # GGUF file cut into parts of 30 MB; prints the calls to make
#   device run, carry [".gpucheck/part-00"]:                 bash benchmarks/gpu_check.sh stage
#   device run, carry [".gpucheck/part-01"]:                 bash benchmarks/gpu_check.sh stage
#   device run, carry [".gpucheck/part-02"]:                 bash benchmarks/gpu_check.sh stage
#   device run, carry [".gpucheck/part-03", ".gpucheck/whl", ".gpucheck/data"], timeout_s 480:
#                                                            bash benchmarks/gpu_check.sh check
#
# (the machine stays warm for 30 s between calls and keeps /tmp/gpucheck: make the calls one after another).
# `check` takes --device (default cuda), --arc-limit, --mmlu-subjects, --mmlu-limit. Dry run on a CPU machine
# with the project's own environments (.venv and /work/lmeval-venv, or $LMEVAL_PYTHON), nothing carried:
#
#   bash benchmarks/gpu_check.sh check --device cpu --arc-limit 20 --mmlu-limit 4
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARRY="$ROOT/.gpucheck"
STAGE="${GPU_CHECK_STAGE:-/tmp/gpucheck}"
GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
PART_MB=30
SUBJECTS="abstract_algebra,anatomy"
# what the GPU image (Python 3.12, torch, transformers, pandas, pyarrow, scikit-learn, sacrebleu ... already)
# lacks for lm-eval 0.4.13 and the workbench, at versions that work with the project's own
WHEELS=(
    lm-eval==0.4.13 datasets==5.2.0 evaluate==0.4.6 dill==0.4.1 multiprocess==0.70.19 more-itertools==10.8.0 pytablewriter==1.2.1 dataproperty==1.1.0 mbstrdecoder==1.1.4
    pathvalidate==3.3.1 tabledata==1.3.4 tcolorpy==0.1.7 typepy==1.3.4 chardet==5.2.0 nltk==3.10.4 gguf==0.19.0 jsonlines==4.0.0 zstandard==0.25.0 plotly==6.5.0
)
SOURCE_ONLY=(sqlitedict==2.1.0 word2number==1.1 rouge-score==0.1.2)  # no wheels on PyPI: built here (pure Python)

prepare() {
    mkdir -p "$CARRY/whl" "$CARRY/data/arc" "$CARRY/data/mmlu/dev" "$CARRY/data/mmlu/test"
    grep -qx '/.gpucheck/' "$ROOT/.git/info/exclude" 2>/dev/null || echo '/.gpucheck/' >> "$ROOT/.git/info/exclude"
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform any -d "$CARRY/whl" "${WHEELS[@]}"
    python3 -m pip wheel -q --no-deps -w "$CARRY/whl" "${SOURCE_ONLY[@]}"
    local data="${WORKBENCH_DATA_DIR:-$ROOT/../shared/data}"
    cp -r "$data/arc/ARC-Easy" "$CARRY/data/arc/"
    for s in ${SUBJECTS//,/ }; do
        cp "$data/mmlu/dev/${s}_dev.csv" "$CARRY/data/mmlu/dev/"
        cp "$data/mmlu/test/${s}_test.csv" "$CARRY/data/mmlu/test/"
    done
    local gguf
    gguf="$("$ROOT/.venv/bin/python" -c 'from workbench.models.registry import resolve; print(resolve("smollm2-135m").location)')"
    rm -rf "$CARRY"/part-*
    local i=0
    split -b "${PART_MB}m" -d -a 2 "$gguf" "$CARRY/chunk-"
    for chunk in "$CARRY"/chunk-*; do
        mkdir -p "$CARRY/part-$(printf %02d $i)"
        mv "$chunk" "$CARRY/part-$(printf %02d $i)/$GGUF_NAME.$(printf %02d $i)"
        i=$((i + 1))
    done
    sha256sum "$gguf" | cut -d' ' -f1 > "$CARRY/data/$GGUF_NAME.sha256"
    du -sh "$CARRY"/* >&2
    echo "prepared $i parts; carry each part-NN in its own call ('stage'), the last with whl and data ('check')" >&2
}

stage() {
    mkdir -p "$STAGE"
    for dir in "$CARRY"/part-*; do
        [[ -d "$dir" ]] && cp "$dir"/* "$STAGE/"
    done
    ls -la "$STAGE"
}

check() {
    local device=cuda arc_limit=200 mmlu_limit=20 subjects="$SUBJECTS"
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --device) device="$2"; shift 2 ;;
            --arc-limit) arc_limit="$2"; shift 2 ;;
            --mmlu-limit) mmlu_limit="$2"; shift 2 ;;
            --mmlu-subjects) subjects="$2"; shift 2 ;;
            *) echo "unknown option $1" >&2; exit 2 ;;
        esac
    done
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
    local python lmeval model
    if [[ -d "$CARRY/whl" ]]; then  # the GPU machine: its python3, the carried wheels, data and model
        stage >/dev/null
        python=python3
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
            "$CARRY"/whl/*.whl
        export PYTHONPATH="/tmp/site:$ROOT" WORKBENCH_DATA_DIR="$CARRY/data" WORKBENCH_CACHE_DIR="$STAGE/cache"
        model="$STAGE/$GGUF_NAME"
        if [[ ! -f "$model" ]]; then
            cat "$STAGE/$GGUF_NAME".[0-9][0-9] > "$model.tmp"
            if [[ "$(sha256sum "$model.tmp" | cut -d' ' -f1)" != "$(cat "$CARRY/data/$GGUF_NAME.sha256")" ]]; then
                echo "the GGUF parts staged in $STAGE do not make the whole file: stage every part first" >&2
                exit 1
            fi
            mv "$model.tmp" "$model"
        fi
        lmeval=python3
    else  # a dry run with the project's own environments
        python="$ROOT/.venv/bin/python"
        lmeval="${LMEVAL_PYTHON:-/work/lmeval-venv/bin/python}"
        model=smollm2-135m
        export WORKBENCH_DATA_DIR="${WORKBENCH_DATA_DIR:-$ROOT/../shared/data}"
    fi
    [[ "$device" == cpu ]] || nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    "$python" -c "import torch, transformers; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'transformers', transformers.__version__)"
    local vllm_flag=()
    if "$python" -c "import vllm" 2>/dev/null; then vllm_flag=(--vllm); else echo "vllm does not import here: its row is left out" >&2; fi
    "$python" "$ROOT/benchmarks/parity_device.py" --device "$device" --arc-limit "$arc_limit" --mmlu-limit "$mmlu_limit" \
        --mmlu-subjects "$subjects" --model "$model" --lmeval-python "$lmeval" "${vllm_flag[@]}" \
        --out "${OUT:-/tmp}/gpu_check.md"
}

case "${1:-}" in
    prepare) shift; prepare "$@" ;;
    stage) shift; stage "$@" ;;
    check) shift; check "$@" ;;
    *) sed -n '2,26p' "$0"; exit 2 ;;
esac
