"""Where and how local weights run: --device, --dtype, --adapter, --backend.

Checked: bad settings are refused before any run exists; a float32 CPU run keeps the key it had before the settings
existed, other formats get keys of their own and never resume it; bfloat16 and int8 score the same items close to
float32; a LoRA adapter is merged into the base model and scores exactly as peft's own unmerged model does, with
its weights fingerprint in the run's identity.
"""

from __future__ import annotations

import sqlite3

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.models import LoadSettings, describe, load_key
from workbench.models.base import LoglikelihoodRequest
from workbench.store import Store

from .conftest import needs_mirror, needs_model


def test_bad_settings_name_the_fix():
    with pytest.raises(WorkbenchError, match=r"Unknown device 'gpu'.*cuda:N"):
        LoadSettings.of(device="gpu")
    with pytest.raises(WorkbenchError, match=r"Unknown dtype 'fp8'"):
        LoadSettings.of(dtype="fp8")
    with pytest.raises(WorkbenchError, match=r"Unknown backend 'onnx'"):
        LoadSettings.of(backend="onnx")
    with pytest.raises(WorkbenchError, match="not a PEFT adapter folder"):
        LoadSettings.of(adapter="/nonexistent/adapter")


@needs_model
def test_a_device_or_dtype_this_machine_cannot_do_is_refused_before_any_run(project):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the refusal is for machines without it")
    store = project / "refused.sqlite"
    with pytest.raises(WorkbenchError, match=r"--device cuda: this machine has no CUDA device"):
        workbench.evaluate("arc_easy", limit=2, device="cuda", store=store)
    with pytest.raises(WorkbenchError, match=r"--dtype float16 on the CPU"):
        workbench.evaluate("arc_easy", limit=2, dtype="float16", store=store)
    with pytest.raises(WorkbenchError, match="apply to weights loaded in this process"):
        workbench.evaluate("gsm8k", model="openai:m@http://127.0.0.1:9/v1", limit=2, dtype="int8", store=store)
    with pytest.raises(WorkbenchError, match="--backend llama.cpp runs GGUF files"):
        describe("HuggingFaceTB/SmolLM2-135M-Instruct", LoadSettings.of(backend="llama.cpp"))
    assert not store.exists() or sqlite3.connect(store).execute("select count(*) from runs").fetchone()[0] == 0


@needs_model
def test_float32_on_the_cpu_adds_nothing_to_the_run_key():
    plain = describe("smollm2-135m")
    assert (plain["device"], plain["dtype"], plain["backend"]) == ("cpu", "float32", "transformers")
    assert load_key(plain) == {}  # keys of runs made before the settings existed stay as they were
    assert load_key({"fingerprint": "sha256:x"}) == {}  # an identity recorded then
    assert load_key(describe("smollm2-135m", LoadSettings.of(device="cpu", dtype="float32"))) == {}
    half = describe("smollm2-135m", LoadSettings.of(dtype="bfloat16"))
    assert load_key(half) == {"device": "cpu", "dtype": "bfloat16", "backend": "transformers"}


@needs_mirror
@needs_model
@pytest.mark.integration
def test_bfloat16_and_int8_are_runs_of_their_own_close_to_float32(project):
    runs = {dtype: workbench.evaluate("arc_easy", limit=8, dtype=dtype) for dtype in (None, "bfloat16", "int8")}
    records = {dtype: {s["doc_id"]: s for s in r.samples.to_dict("records")} for dtype, r in runs.items()}
    commands = {dtype: Store().run(r.run_id)["command"] for dtype, r in runs.items()}
    assert "dtype='int8'" in commands["int8"] and "dtype" not in commands[None]
    identities = {dtype: Store().run(r.run_id)["model_identity"] for dtype, r in runs.items()}
    assert identities["bfloat16"]["dtype"] == "bfloat16" and identities[None]["dtype"] == "float32"

    def largest_difference(dtype):
        return max(
            abs(a - b)
            for item, sample in records[dtype].items()
            for a, b in zip(sample["loglikelihoods"], records[None][item]["loglikelihoods"], strict=True)
        )

    assert 0 < largest_difference("bfloat16") < 2.0  # other numbers, the same model
    # int8 (activations too, one scale per tensor) moves this small model's scores far more: a real cost, measured
    assert largest_difference("int8") > largest_difference("bfloat16")
    keys = {dtype: Store().run(r.run_id)["run_key"] for dtype, r in runs.items()}
    assert len(set(keys.values())) == 3  # a format never resumes another's run
    again = workbench.evaluate("arc_easy", limit=8, dtype="bfloat16", device="cpu")
    assert Store().run(again.run_id)["run_key"] == keys["bfloat16"]  # auto and cpu resolve alike here


@needs_mirror
@needs_model
@pytest.mark.integration
def test_a_lora_adapter_is_merged_and_scores_as_peft_does(project):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model

    from workbench.models import load
    from workbench.models.registry import dequantized_dir, resolve

    base_dir = dequantized_dir(resolve("smollm2-135m"))
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, config).save_pretrained(project / "adapter")  # random B: the adapter changes outputs

    tuned = load("smollm2-135m", LoadSettings.of(adapter=str(project / "adapter")))
    identity = tuned.identity()
    assert identity["adapter"]["fingerprint"].startswith("sha256:")
    request = LoglikelihoodRequest("Question: Which gas do plants take in?\nAnswer:", " carbon dioxide")
    merged = tuned.loglikelihood([request])[0].logprob
    plain = load("smollm2-135m").loglikelihood([request])[0].logprob

    reference = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32), project / "adapter"
    ).eval()
    ctx, cont = tuned.encode_pair(request.context, request.continuation)  # type: ignore[attr-defined]
    with torch.no_grad():
        logits = reference(input_ids=torch.tensor([ctx + cont])).logits[0]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    expected = float(sum(logprobs[len(ctx) - 1 + i, t] for i, t in enumerate(cont)))
    assert merged == pytest.approx(expected, abs=1e-4)
    assert abs(merged - plain) > 1e-3  # the adapter is really applied

    base_run = workbench.evaluate("arc_easy", limit=4)
    tuned_run = workbench.evaluate("arc_easy", limit=4, adapter=project / "adapter")
    assert tuned_run.run_id != base_run.run_id
    recorded = Store().run(tuned_run.run_id)["model_identity"]["adapter"]
    assert recorded == identity["adapter"]
    board = workbench.leaderboard(run_ids=[base_run.run_id, tuned_run.run_id])  # base and fine-tune side by side
    assert list(board.models) == ["smollm2-135m", "smollm2-135m + adapter"]
