"""The OpenAI-compatible backend: specs, keys, retries and errors (stub endpoint), concurrency, resume, cost,
and the same calls through a real `transformers serve`."""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import workbench
from workbench import models
from workbench.errors import WorkbenchError
from workbench.models import pricing
from workbench.models.base import GenerateRequest
from workbench.models.openai import OpenAIModel, key_variable, parse_spec
from workbench.store import Store

from .conftest import needs_mirror
from .serving import StubEndpoint, served  # noqa: F401 (fixture)

SECRET = "sk-test-DO-NOT-LEAK-0123456789abcdef"


def fast(stub: StubEndpoint, **kwargs) -> OpenAIModel:
    """A model on the stub with short timeouts and backoff, so fault tests take a moment."""
    options = {"timeout": 0.5, "max_retries": 3, "backoff": 0.01, "concurrency": 2, **kwargs}
    return OpenAIModel("stub-model", stub.url, **options)


def ask(model: OpenAIModel, *prompts: str, **params):
    return model.generate([GenerateRequest(p, max_new_tokens=8, **params) for p in prompts])


# ---- specs and keys ---------------------------------------------------------------------------------
def test_specs_resolve_to_endpoints_and_fingerprints(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert parse_spec("openai:gpt-4o-mini") == ("gpt-4o-mini", "https://api.openai.com/v1")
    assert parse_spec("openai:llama3:8b@http://127.0.0.1:11434/v1/") == ("llama3:8b", "http://127.0.0.1:11434/v1")
    described = models.describe("openai:qwen@http://localhost:8000/v1")
    assert described["kind"] == "api" and described["fingerprint"] == "api:qwen@http://localhost:8000/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.0.0.5:8000/v1")
    assert parse_spec("openai:m") == ("m", "http://10.0.0.5:8000/v1")
    assert key_variable("http://10.0.0.5:8000/v1") == "OPENAI_API_KEY"  # as the official client does
    for bad in ("openai:", "openai:a b", "openai:m@ftp://x"):
        with pytest.raises(WorkbenchError, match="openai:MODEL@http"):
            models.resolve(bad)


def test_each_endpoint_has_its_own_key_variable():
    assert key_variable("https://api.openai.com/v1") == "OPENAI_API_KEY"
    assert key_variable("http://127.0.0.1:8000/v1") == "WORKBENCH_API_KEY_127_0_0_1_8000"
    assert key_variable("https://api.together.xyz/v1") == "WORKBENCH_API_KEY_API_TOGETHER_XYZ"


def test_a_key_in_the_url_is_refused_and_not_repeated():
    with pytest.raises(WorkbenchError, match="WORKBENCH_API_KEY_HOST_9") as err:
        models.resolve(f"openai:m@http://user:{SECRET}@host:9/v1")
    assert SECRET not in str(err.value)


def test_openai_without_a_key_says_which_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(WorkbenchError, match=r"set \$OPENAI_API_KEY"):
        models.load("openai:gpt-4o-mini")


def test_the_key_is_sent_only_as_a_header_and_never_shown(monkeypatch, caplog):
    with StubEndpoint([("status", 401, {"error": {"message": f"Incorrect API key provided: {SECRET}"}})]) as stub:
        monkeypatch.setenv(key_variable(stub.url), SECRET)
        model = fast(stub)
        for shown in (repr(model), json.dumps(model.identity()), str(vars(model))):
            assert SECRET not in shown
        with caplog.at_level(logging.DEBUG), pytest.raises(WorkbenchError) as err:
            ask(model, "hello")
        assert stub.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"
        assert len(stub.requests) == 1  # 401 is not retried
        message = str(err.value)
        assert "HTTP 401" in message and key_variable(stub.url) in message and "set but was not accepted" in message
        assert SECRET not in message and SECRET not in caplog.text


def test_no_key_is_sent_where_none_is_set(monkeypatch):
    with StubEndpoint() as stub:
        monkeypatch.delenv(key_variable(stub.url), raising=False)
        monkeypatch.setenv("OPENAI_API_KEY", SECRET)  # OpenAI's key never goes to another endpoint
        ask(fast(stub), "hello")
        assert "Authorization" not in stub.requests[0]["headers"]


# ---- faults -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fault",
    [
        ("status", 429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"}),
        ("status", 500, {"error": {"message": "boom"}}),
        ("status", 503, b"<html>upstream down</html>"),
        ("malformed",),
        ("sleep", 1.5),  # longer than the 0.5 s timeout
        ("drop",),  # connection closed without an answer
    ],
    ids=["429", "500", "503-html", "malformed-json", "timeout", "dropped"],
)
def test_transient_faults_are_retried(fault, caplog):
    with StubEndpoint([fault, fault]) as stub, caplog.at_level(logging.WARNING, "workbench.models.openai"):
        (response,) = ask(fast(stub), "What is 2+2?")
    assert response.text == "answer to: What is 2+2?"
    assert response.extra["attempts"] == 3 and len(stub.requests) == 3
    assert response.prompt_tokens == 11 and response.completion_tokens == 3
    assert caplog.text.count("retry") == 2


def test_retry_after_is_honoured():
    with StubEndpoint([("status", 429, {"error": "slow down"}, {"Retry-After": "0.6"})]) as stub:
        started = time.monotonic()
        ask(fast(stub, backoff=0.001), "hi")
    assert time.monotonic() - started >= 0.6


def test_persistent_faults_end_in_a_clear_error():
    with StubEndpoint(default=("malformed",)) as stub:
        with pytest.raises(WorkbenchError, match="gave up after 4 attempts.*malformed answer.*run the same call"):
            ask(fast(stub), "hi")
    assert len(stub.requests) == 4


def test_unreachable_endpoint():
    model = OpenAIModel("m", "http://127.0.0.1:9/v1", timeout=0.5, max_retries=1, backoff=0.01)
    with pytest.raises(WorkbenchError, match="could not connect.*is the server running"):
        ask(model, "hi")


def test_unknown_model_404_names_the_fix():
    with StubEndpoint([("status", 404, {"error": {"message": "The model `gpt-9` does not exist"}})]) as stub:
        with pytest.raises(WorkbenchError, match=r"no model .stub-model.*`gpt-9` does not exist.*/models lists them"):
            ask(fast(stub), "hi")
    assert len(stub.requests) == 1


def test_no_quota_is_not_retried():
    body = {"error": {"code": "insufficient_quota", "message": "You exceeded your current quota"}}
    with StubEndpoint([("status", 429, body)]) as stub:
        with pytest.raises(WorkbenchError, match="no quota left"):
            ask(fast(stub), "hi")
    assert len(stub.requests) == 1


def test_bad_request_shows_the_servers_message():
    with StubEndpoint([("status", 400, {"detail": "max_tokens is too large"})]) as stub:
        with pytest.raises(WorkbenchError, match="HTTP 400: max_tokens is too large"):
            ask(fast(stub), "hi")


# ---- requests, concurrency, streaming of results -------------------------------------------------------
def test_request_body_and_stop_strings():
    with StubEndpoint(reply=lambda body: "one. STOP two") as stub:
        (response,) = fast(stub).generate(
            [
                GenerateRequest(
                    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Go"}],
                    max_new_tokens=5,
                    temperature=0.7,
                    stop=("STOP",),
                    seed=3,
                )
            ]  # fmt: skip
        )
    body = stub.requests[0]["body"]
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert (body["max_tokens"], body["temperature"], body["stop"], body["seed"]) == (5, 0.7, ["STOP"], 3)
    assert response.text == "one. " and response.extra["finish_reason"] == "stop"


def test_concurrency_limit_and_answers_in_request_order():
    """Exactly 3 in flight, whatever the load on the machine: the stub holds the requests until 3 are held
    (a backend that never sends 3 at once fails the wait), and counts each out before answering it, so one
    that follows an answer is never counted with the one answered (only a 4th sent at once can make 4)."""
    with StubEndpoint(gated=True) as stub, ThreadPoolExecutor(1) as caller:
        model = fast(stub, concurrency=3, timeout=60, max_retries=0)  # no timeout or retry adds a request
        answers = caller.submit(ask, model, *[f"q{i}" for i in range(7)])
        assert stub.wait_in_flight(3), f"the backend never sent 3 requests at once (at most {stub.max_in_flight})"
        assert not stub.wait_in_flight(4, timeout=0.2), "the backend sent a 4th request before any answer"
        stub.release()
        out = answers.result(timeout=60)
    assert [r.text for r in out] == [f"answer to: q{i}" for i in range(7)]
    assert stub.max_in_flight == 3 and len(stub.requests) == 7


def test_no_request_is_sent_before_the_caller_takes_a_result():
    """A caller that stops after the first answer (an interrupted run) leaves the rest unsent."""
    with StubEndpoint(delay=0.3) as stub:
        requests = [GenerateRequest(f"q{i}", max_new_tokens=4) for i in range(10)]
        stream = fast(stub, concurrency=2).iter_generate(requests)
        first = next(stream)
        stream.close()
        time.sleep(0.5)
    assert first[1].text.startswith("answer to: q")
    assert len(stub.requests) <= 3  # the two in flight, and at most one started after the first result


def test_log_likelihood_tasks_refuse_api_models_before_any_run(project):
    with pytest.raises(WorkbenchError, match="chat endpoints do not return.*--mode generate"):
        workbench.evaluate("arc_easy", model="openai:m@http://127.0.0.1:9/v1", limit=1)
    assert Store().runs().empty
    model = OpenAIModel("m", "http://127.0.0.1:9/v1")
    with pytest.raises(WorkbenchError, match="perplexity"):
        model.rolling_loglikelihood(["text"])


# ---- prices -------------------------------------------------------------------------------------------
def test_price_table_prefixes_extensions_and_local_endpoints(tmp_path, monkeypatch):
    assert pricing.price_for("gpt-4o-mini-2024-07-18") == pricing.PRICES["gpt-4o-mini"]
    assert pricing.price_for("gpt-4o-2024-08-06") == pricing.PRICES["gpt-4o"]
    assert pricing.price_for("my-model") is None
    assert pricing.price_for("my-model", "http://127.0.0.1:8000/v1").prompt == 0.0
    assert pricing.cost(pricing.PRICES["gpt-4o-mini"], 2000, 1000) == pytest.approx(2 * 0.00015 + 0.0006)
    monkeypatch.setitem(pricing.PRICES, "placeholder", pricing.Price(0, 0))  # restored after the test
    workbench.set_price("my-model", prompt=0.001, completion=0.002)
    assert pricing.price_for("my-model-v2").source == "set_price"
    del pricing.PRICES["my-model"]
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"house-llm": [0.01, 0.03]}))
    monkeypatch.setenv("WORKBENCH_PRICES", str(prices))
    assert pricing.cost(pricing.price_for("house-llm"), 1000, 1000) == pytest.approx(0.04)
    with pytest.raises(WorkbenchError, match="dollars per 1,000"):
        workbench.set_price("x", prompt=-1, completion=0)
    prices.write_text("not json")
    with pytest.raises(WorkbenchError, match="WORKBENCH_PRICES"):
        pricing.price_for("house-llm")


# ---- runs through the API backend: resume, usage, cost ---------------------------------------------------
@needs_mirror
def test_interrupted_mt_bench_run_resumes_and_reports_cost(project, monkeypatch):
    """Three conversations answered; the endpoint dies after the first two; the same call resumes the third."""
    monkeypatch.setenv("WORKBENCH_API_CONCURRENCY", "1")
    monkeypatch.setenv("WORKBENCH_API_RETRIES", "1")
    monkeypatch.setitem(pricing.PRICES, "stub-model", pricing.Price(0.5, 1.0))
    with StubEndpoint([("ok",)] * 4, default=("status", 500, {"error": "down"})) as stub:
        with pytest.raises(WorkbenchError, match="gave up"):
            workbench.evaluate("mt_bench", model=stub.spec(), limit=3, max_new_tokens=8)
        run = Store().runs().iloc[0]
        assert run["status"] == "failed" and Store().done_doc_ids(run["run_id"]) == {0, 1}
        stub.default = ("ok",)
        stub.requests.clear()
        result = workbench.evaluate("mt_bench", model=stub.spec(), limit=3, max_new_tokens=8)
    assert result.run_id == run["run_id"] and result.resumed_items == 2
    assert len(stub.requests) == 2  # only the third conversation's two turns
    second_turn = stub.requests[1]["body"]["messages"]
    assert [m["role"] for m in second_turn] == ["user", "assistant", "user"]
    assert second_turn[1]["content"] == ("answer to: " + second_turn[0]["content"][:40]).strip()
    samples = result.samples
    assert list(samples["doc_id"]) == [0, 1, 2] and all(len(a) == 2 for a in samples["answers"])
    assert all(u == {"calls": 2, "prompt_tokens": 22, "completion_tokens": 6} for u in samples["usage"])
    usage = result.metrics["usage"]
    assert (usage["calls"], usage["prompt_tokens"], usage["completion_tokens"]) == (6, 66, 18)
    assert usage["cost_usd"] == pytest.approx((66 * 0.5 + 18 * 1.0) / 1000)
    summary = result.summary()
    assert set(summary["metric"]) == {"answered", "truncated"}
    assert (summary["cost_usd"] == usage["cost_usd"]).all() and (summary["prompt_tokens"] == 66).all()
    listed = workbench.runs().iloc[0]  # %llm_runs and `workbench runs` show it too
    assert listed["tokens"] == 66 + 18 and listed["cost_usd"] == pytest.approx(usage["cost_usd"])


# ---- the real server --------------------------------------------------------------------------------------
@pytest.mark.integration
@needs_mirror
def test_generation_through_transformers_serve_keeps_the_key_secret(served, project, monkeypatch):  # noqa: F811
    monkeypatch.setenv(key_variable(served.url), SECRET)  # sent to the server, which ignores it
    model = models.load(served.spec)
    (response,) = model.generate([GenerateRequest("What is the capital of France?", max_new_tokens=6)])
    assert response.text.strip() and 0 < response.completion_tokens <= 6 and response.prompt_tokens > 0
    assert response.extra["usage_reported"] and response.extra["finish_reason"] in ("stop", "length")
    result = workbench.evaluate("mt_bench", model=served.spec, limit=1, max_new_tokens=4)
    record = result.samples.iloc[0]
    assert len(record["answers"]) == 2 and record["usage"]["calls"] == 2 and record["usage"]["completion_tokens"] > 0
    assert result.metrics["usage"]["cost_usd"] == 0.0  # served on this machine
    assert Store().run(result.run_id)["model_identity"]["kind"] == "api"
    for text in (repr(model), json.dumps(model.identity()), Store().path.read_bytes().decode("latin-1")):
        assert SECRET not in text


@needs_mirror
def test_generation_task_saves_each_item_as_its_answer_arrives(project, monkeypatch):
    """gsm8k through an API model: answers already received survive an endpoint that dies mid-run."""
    monkeypatch.setenv("WORKBENCH_API_CONCURRENCY", "1")
    monkeypatch.setenv("WORKBENCH_API_RETRIES", "0")
    with StubEndpoint([("ok",), ("ok",)], default=("status", 502, b"bad gateway"), reply=lambda b: "#### 7") as stub:
        with pytest.raises(WorkbenchError, match="HTTP 502"):
            workbench.evaluate("gsm8k", model=stub.spec(), limit=4, shots=0)
        run_id = Store().runs().iloc[0]["run_id"]
        assert Store().done_doc_ids(run_id) == {0, 1}
        stub.default = ("ok",)
        result = workbench.evaluate("gsm8k", model=stub.spec(), limit=4, shots=0)
    assert result.run_id == run_id and result.resumed_items == 2 and len(stub.requests) == 5  # 2 + 1 failed + 2
    assert result.metrics["n"] == 4
    assert all(u == {"calls": 1, "prompt_tokens": 11, "completion_tokens": 3} for u in result.samples["usage"])
    assert result.metrics["usage"]["prompt_tokens"] == 44 and result.metrics["usage"]["cost_usd"] == 0.0


def test_answers_without_content_are_counted_not_hidden(project):
    """An endpoint may answer with content null (a refusal, a filtered reply): saved as an empty answer, and
    counted in the run's usage and its summary, so a run of empty answers is not mistaken for a model's silence."""
    rows = project / "arc.jsonl"
    rows.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "question": f"Question {i}?", "answerKey": "B",
                        "choices": {"text": ["yes", "no"], "label": ["A", "B"]}}) + "\n"
            for i in range(3)
        )
    )  # fmt: skip
    replies = iter([None, "B", None])
    with StubEndpoint(reply=lambda body: next(replies)) as stub:
        result = workbench.evaluate("arc_easy", model=stub.spec(), mode="generate", data=str(rows))
    assert sorted(result.samples["raw"]) == ["", "", "B"]
    assert result.metrics["usage"]["no_content"] == 2
    assert (result.summary()["no_content"] == 2).all()
