"""$WORKBENCH_API_TIMEOUT is a deadline for the whole request (connect, send, every byte of the answer), not a
limit on each read: a server that trickles its answer is given up on when the time is up (stub endpoint)."""

from __future__ import annotations

import time

import pytest

from workbench.errors import WorkbenchError
from workbench.models.base import GenerateRequest
from workbench.models.openai import OpenAIModel

from .serving import StubEndpoint


def ask(model: OpenAIModel, prompt: str = "hello"):
    return model.generate([GenerateRequest(prompt, max_new_tokens=8)])


def test_an_answer_that_trickles_in_is_given_up_at_the_deadline():
    # the stub's answer is ~250 bytes at one byte every 0.1 s: 25 s, though no single read waits 0.1 s
    with StubEndpoint([("trickle", 0.1)]) as stub:
        model = OpenAIModel("stub-model", stub.url, timeout=1.0, max_retries=0)
        started = time.monotonic()
        with pytest.raises(WorkbenchError) as err:
            ask(model)
        took = time.monotonic() - started
    assert took < 2.5, f"held for {took:.1f} s with a 1 s deadline"
    assert "no complete answer within 1 s" in str(err.value) and "gave up after 1 attempts" in str(err.value)


def test_the_deadline_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("WORKBENCH_API_TIMEOUT", "0.5")
    with StubEndpoint([("trickle", 0.1)]) as stub:
        model = OpenAIModel("stub-model", stub.url, max_retries=0)
        started = time.monotonic()
        with pytest.raises(WorkbenchError, match="within 0.5 s"):
            ask(model)
        assert time.monotonic() - started < 2.0


def test_a_trickled_answer_is_retried_and_the_retry_is_used():
    with StubEndpoint([("trickle", 0.1)], default=("ok",)) as stub:
        model = OpenAIModel("stub-model", stub.url, timeout=0.5, max_retries=1, backoff=0.01)
        started = time.monotonic()
        (answer,) = ask(model, "two")
        assert time.monotonic() - started < 2.5
    assert answer.text == "answer to: two" and answer.extra["attempts"] == 2


def test_an_answer_that_arrives_in_pieces_within_the_deadline_is_read_whole():
    with StubEndpoint([("trickle", 0.002)]) as stub:  # ~0.5 s in all, one byte at a time
        (answer,) = ask(OpenAIModel("stub-model", stub.url, timeout=5.0, max_retries=0), "pieces")
    assert answer.text == "answer to: pieces" and answer.completion_tokens == 3


def test_a_silent_server_still_times_out_with_the_same_message():
    with StubEndpoint([("sleep", 3.0)]) as stub:
        model = OpenAIModel("stub-model", stub.url, timeout=0.5, max_retries=0)
        started = time.monotonic()
        with pytest.raises(WorkbenchError, match="no complete answer within 0.5 s"):
            ask(model)
        assert time.monotonic() - started < 1.5
