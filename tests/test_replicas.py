"""One model behind several servers (``openai:MODEL@URL1,URL2``, the same for ``completions:``): requests spread
with per-replica concurrency, a failing replica's requests retried on the others, every request answered once.
Faults from stub endpoints; a killed replica with two real `transformers serve` servers."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.models.base import GenerateRequest
from workbench.models.openai import OpenAIModel
from workbench.models.serve import LocalServer
from workbench.store import Store

from .conftest import needs_mirror, needs_model
from .serving import StubEndpoint, shared_server


def pair(*stubs: StubEndpoint, **kwargs) -> OpenAIModel:
    options = {"timeout": 5, "max_retries": 2, "backoff": 0.01, "concurrency": 2, **kwargs}
    return OpenAIModel("stub-model", ",".join(s.url for s in stubs), **options)


def questions(n: int) -> list[GenerateRequest]:
    return [GenerateRequest(f"q{i}", max_new_tokens=4) for i in range(n)]


def test_requests_spread_with_per_replica_concurrency():
    """Two replicas of concurrency 2: four requests in flight, two on each, never a fifth."""
    with StubEndpoint(gated=True) as a, StubEndpoint(gated=True) as b, ThreadPoolExecutor(1) as caller:
        model = pair(a, b, timeout=60, max_retries=0)
        assert model.capabilities.concurrency == 4 and "replicas" in model.identity()
        answers = caller.submit(model.generate, questions(10))
        assert a.wait_in_flight(2) and b.wait_in_flight(2), (a.max_in_flight, b.max_in_flight)
        assert not a.wait_in_flight(3, timeout=0.2) and not b.wait_in_flight(3, timeout=0.2)
        a.release()
        b.release()
        out = answers.result(timeout=60)
    assert [r.text for r in out] == [f"answer to: q{i}" for i in range(10)]
    assert len(a.requests) + len(b.requests) == 10 and a.requests and b.requests
    assert a.max_in_flight == 2 and b.max_in_flight == 2


def test_a_failing_replicas_requests_go_to_the_other():
    """Every answer of one replica is a 500: each request it gets is sent on to the other, at once."""
    with StubEndpoint(default=("status", 500, {"error": "down"})) as bad, StubEndpoint() as good:
        model = pair(bad, good, max_retries=0, backoff=30)  # a backoff would show as a 30 s wait
        started = time.monotonic()
        done = []
        out = model.generate(questions(8), progress=done.append)
        assert time.monotonic() - started < 20
    assert [r.text for r in out] == [f"answer to: q{i}" for i in range(8)]
    assert sum(done) == 8  # progress counts every request once, wherever it was answered
    answered = [r["body"]["messages"][0]["content"] for r in good.requests]
    assert sorted(answered) == sorted(f"q{i}" for i in range(8))  # each exactly once
    assert bad.requests and all(r.extra["attempts"] <= 2 for r in out)


def test_an_unreachable_replica_is_set_aside():
    """A replica nobody listens on: its first requests move on at once, later ones never go there."""
    with StubEndpoint() as good:
        model = OpenAIModel("m", f"http://127.0.0.1:9/v1,{good.url}", timeout=5, max_retries=0, backoff=30)
        started = time.monotonic()
        out = model.generate(questions(12))
        assert time.monotonic() - started < 20
    assert len(out) == 12 and len(good.requests) == 12
    dead, alive = model.replicas.replicas
    assert dead.answered == 0 and alive.answered == 12 and dead.down_until > 0


def test_when_every_replica_fails_the_message_names_the_last():
    with StubEndpoint(default=("status", 503, b"busy")) as a, StubEndpoint(default=("status", 502, b"bad")) as b:
        with pytest.raises(WorkbenchError, match=r"gave up after 3 attempts; the last got HTTP 50[23].* from http"):
            pair(a, b, max_retries=1, concurrency=1).generate(questions(1))
    assert len(a.requests) + len(b.requests) == 3  # max_retries + 1, and once more for the second replica


# ---- real servers ---------------------------------------------------------------------------------------------
def kill(server: LocalServer) -> None:
    """SIGKILL the server's whole process group, as a crashed machine would end it (no goodbye to clients)."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


@pytest.mark.integration
@needs_model
def test_a_replica_killed_mid_way_leaves_every_request_answered_once(monkeypatch):
    """Two `transformers serve` for the default model; the second is killed after the first answers arrive."""
    first = shared_server()
    with LocalServer(threads=1, startup_timeout=300) as second:
        model = OpenAIModel(first.source, f"{first.url},{second.url}", concurrency=1, timeout=120, max_retries=2)
        done: list[float] = []
        got: dict[int, str] = {}
        for i, response in model.iter_generate(
            [GenerateRequest(f"Count from {i} to {i + 5}:", max_new_tokens=6) for i in range(8)], progress=done.append
        ):
            assert i not in got
            got[i] = response.text
            if len(got) == 2:
                kill(second)
        assert sorted(got) == list(range(8)) and sum(done) == 8
        one, two = model.replicas.replicas
        assert two.answered >= 1 and one.answered + two.answered == 8  # both were used; none answered twice


@pytest.mark.integration
@needs_model
@needs_mirror
def test_a_run_over_two_replicas_completes_when_one_is_killed(project, monkeypatch):
    """gsm8k over two real servers, the second killed once the run has saved its first items: the run completes
    with every item scored exactly once."""
    monkeypatch.setenv("WORKBENCH_API_CONCURRENCY", "1")
    first = shared_server()
    with LocalServer(threads=1, startup_timeout=300) as second:
        spec = f"openai:{first.source}@{first.url},{second.url}"

        def kill_after_two_items() -> None:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                runs = Store().runs()
                if not runs.empty and len(Store().done_doc_ids(runs.iloc[0]["run_id"])) >= 2:
                    kill(second)
                    return
                time.sleep(0.2)

        killer = threading.Thread(target=kill_after_two_items, daemon=True)
        killer.start()
        result = workbench.evaluate("gsm8k", model=spec, limit=8, shots=0, max_new_tokens=8)
        killer.join(timeout=5)
        assert second.process.poll() is not None, "the second replica was not killed during the run"
    samples = result.samples
    assert sorted(samples["doc_id"]) == list(range(8)) and samples["doc_id"].is_unique
    assert Store().run(result.run_id)["status"] == "complete" and result.metrics["n"] == 8
    assert result.metrics["usage"]["calls"] == 8
