"""The scoring engine on the real default model: shared-prefix scoring equals scoring each request whole,
and batched generation equals transformers' own greedy generate."""

from __future__ import annotations

import pytest

from workbench.errors import WorkbenchError
from workbench.models import GenerateRequest, LoglikelihoodRequest, load
from workbench.models.base import in_order
from workbench.models.hf import inference_steps

from .conftest import needs_model

pytestmark = [needs_model, pytest.mark.integration]

FEWSHOT = "".join(f"Question: What is {i} plus {i}?\nAnswer: {2 * i}\n\n" for i in range(1, 8))


@pytest.fixture(scope="module")
def model():
    return load("smollm2-135m")


def test_shared_prefix_scores_equal_whole_sequence_scores(model):
    requests = []
    for q in ("What is 5 plus 5?", "What is 9 plus 9?", "What colour is the sky?"):
        ctx = FEWSHOT + f"Question: {q}\nAnswer:"
        requests += [(ctx, " 10"), (ctx, " 18"), (ctx, " blue, mostly")]
    requests.append(("", "Hello world"))  # empty context: conditioned on the prefix token
    # a token boundary that does not fall at the context's end: " blu" + "e and green" is " blue and green"
    requests.append(("The sky is blu", "e and green"))
    pairs = [model.encode_pair(c, x) for c, x in requests]
    whole = in_order(inference_steps(model._score_whole(pairs, 4, None)), len(pairs))
    for batch_size in (1, 5, 32):
        shared = model.score_token_pairs(pairs, batch_size=batch_size)
        for (a, ga), (b, gb) in zip(whole, shared):
            assert abs(a - b) < 1e-3 and ga == gb
    assert whole[0][0] > whole[1][0]  # " 10" is the likelier answer to 5 + 5 after the examples
    assert [model.tokenizer.decode(t) for t in pairs[-1][1]] == [" and", " green"]  # the harness's split


def test_a_continuation_swallowed_by_the_context_is_refused_with_the_fix(model):
    with pytest.raises(WorkbenchError, match="merges it into the context's last token.*word boundary"):
        model.loglikelihood([LoglikelihoodRequest("The sky is", " blue"), LoglikelihoodRequest("The sky is blu", "e")])


PROMPTS = [
    "Question: What is 12 plus 30?\nAnswer:",
    "The capital of France is",
    "Q: 2+2=?\nA:",
    FEWSHOT + "Question: What is 8 plus 8?\nAnswer:",
    "Write a list of three colours:\n1.",
]


@pytest.mark.parametrize("batch_size", [5, 2, 1])
def test_batched_generation_equals_transformers_generate(model, batch_size):
    """With fewer slots than prompts, finished sequences hand their slot to the next prompt mid-batch."""
    stop = ("Question:", "\n\n")
    lengths = [24, 6, 24, 10, 30]
    requests = [GenerateRequest(p, max_new_tokens=n, stop=stop) for p, n in zip(PROMPTS, lengths)]
    ours = model.generate(requests, batch_size=batch_size)
    for prompt, n, response in zip(PROMPTS, lengths, ours):
        ids = model.tokenizer(prompt, return_tensors="pt").input_ids
        out = model.model.generate(ids, max_new_tokens=n, do_sample=False, pad_token_id=model.tokenizer.eos_token_id)
        text = model.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        for s in stop:
            text = text.split(s)[0]
        assert response.text == text
        assert response.prompt_tokens == ids.shape[1] and 0 < response.completion_tokens <= n


def test_generation_memory_cap_limits_sequences_in_flight_not_the_text(model, monkeypatch):
    requests = [GenerateRequest(p, max_new_tokens=12, stop=("\n\n",)) for p in PROMPTS]
    free = model.generate(requests, batch_size=5)
    monkeypatch.setattr(model, "kv_cache_bytes", 1)  # room for one sequence: decoded one after another
    monkeypatch.setattr(model, "prefill_tokens", 1)
    assert [r.text for r in model.generate(requests, batch_size=5)] == [r.text for r in free]


def test_drafted_tokens_change_the_number_of_passes_not_the_text(model, monkeypatch):
    """A few-shot prompt's answer repeats it: prompt-lookup drafts (drafts.py) save passes, and greedy text is
    what one token per pass gives."""
    requests = [
        GenerateRequest(FEWSHOT + "Question: What is 8 plus 8?\nAnswer:", max_new_tokens=30),
        GenerateRequest(PROMPTS[4], max_new_tokens=20),
    ]
    drafts = model.draft_tokens
    assert drafts > 0
    passes: list[tuple[int, ...]] = []
    hook = model.model.register_forward_pre_hook(
        lambda module, args, kwargs: passes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    try:
        drafted = model.generate(requests, batch_size=2)
        with_drafts, passes[:] = list(passes), []
        monkeypatch.setattr(model, "draft_tokens", 0)
        plain = model.generate(requests, batch_size=2)
    finally:
        hook.remove()
    assert [r.text for r in drafted] == [r.text for r in plain]
    assert "Question: What is 9 plus 9?" in plain[0].text  # the examples' pattern, continued
    assert all(width == 1 for _, width in passes[1:])  # after the prefill, one token per pass
    assert max(width for _, width in with_drafts[1:]) == 1 + drafts
    assert len(with_drafts) < len(passes)


def test_seeded_sampling_does_not_depend_on_the_batch(model):
    request = GenerateRequest("Once upon a time", max_new_tokens=12, temperature=0.9, seed=7)
    alone = model.generate([request])[0].text
    batched = model.generate([request, GenerateRequest("Hello", max_new_tokens=5)], batch_size=2)[0].text
    assert alone == batched and alone


def test_pairs_encoded_together_are_each_pair_encoded_alone(model):
    """token_pairs encodes each distinct text once, in one batch call: the tokens are the harness's, encoding each
    context and each context + continuation by itself."""
    tok = model.tokenizer
    requests = [("Question: 2 + 2 =", " 4"), ("Question: 2 + 2 =", " 5"), ("The sky is blu", "e and green")]
    requests += [("", "Hello"), ("수도는 ", "서울"), (f"{tok.bos_token}Hi", " there"), ("Two spaces  ", "x")]
    got = model.token_pairs([LoglikelihoodRequest(c, x) for c, x in requests])
    for (context, continuation), pair in zip(requests, got):
        n_spaces = len(context) - len(context.rstrip())
        context, continuation = context[: len(context) - n_spaces], context[len(context) - n_spaces :] + continuation
        if not context:
            assert pair == ([model.prefix_token_id], tok.encode(continuation))
            continue
        kwargs = {"add_special_tokens": False} if context.startswith(tok.bos_token) else {}
        ctx, whole = tok.encode(context, **kwargs), tok.encode(context + continuation, **kwargs)
        assert pair == (ctx, whole[len(ctx) :])
