"""The ``lm_eval run`` command line and offline environment shared by the benchmark scripts.

parity_arc.py, parity_suite.py (and through them parity_perplexity.py) run it to compare items;
speed_end_to_end.py runs the very same command to time the whole process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def lm_eval_command(
    python: str,
    model_dir: Path | str,
    tasks: Sequence[str],
    include_path: Path | str,
    limit: int,
    batch_size: int,
    output_path: Path | str,
    num_fewshot: int | None = None,
) -> list[str]:
    """``python -m lm_eval run`` on custom tasks under ``include_path``: the hf model in float32 on the CPU,
    ``--log_samples`` into ``output_path``; ``--num_fewshot`` only when given (else each task's own)."""
    cmd = [
        python, "-m", "lm_eval", "run",
        "--model", "hf",
        "--model_args", f"pretrained={model_dir},dtype=float32",
        "--tasks", ",".join(tasks),
        "--include_path", str(include_path),
    ]  # fmt: skip
    if num_fewshot is not None:
        cmd += ["--num_fewshot", str(num_fewshot)]
    cmd += [
        "--limit", str(limit),
        "--batch_size", str(batch_size),
        "--device", "cpu",
        "--log_samples",
        "--output_path", str(output_path),
    ]  # fmt: skip
    return cmd


def offline_env(datasets_cache: Path | str) -> dict[str, str]:
    """This process's environment with the hub and datasets offline, datasets cached in ``datasets_cache`` and
    tokenizers single-threaded."""
    return dict(
        os.environ,
        HF_DATASETS_OFFLINE="1",
        HF_HUB_OFFLINE="1",
        HF_DATASETS_CACHE=str(datasets_cache),
        TOKENIZERS_PARALLELISM="false",
    )
