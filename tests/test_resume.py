"""Every kind of run resumes after its process is killed (SIGKILL mid-run): nothing lost, nothing saved twice.

The killed process is real: a child Python that runs the same call and kills itself (``kill -9``) at a fixed
point inside the model's work, after some items were saved. The same call is then repeated here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

import workbench
from workbench.store import Store

from .conftest import REPO, needs_mirror, needs_model

pytestmark = [pytest.mark.integration, needs_model]

WORDS = "cats dogs rain snow tea maps ink salt oak".split()
TEXTS = [f"Sentence number {i} is about {w}." for i, w in enumerate(WORDS)]
ROWS = [{"question": q} for q in ("What is 2 + 2?", "Name a colour.", "Say hi.", "Capital of Korea?")]
KILL = """
import os, signal, time
from workbench.engine.runner import SAVE_EVERY_S
from workbench.models import hf

def dying(name):
    original = getattr(hf.HFModel, name)

    def method(self, *args, **kwargs):
        for n, answer in enumerate(original(self, *args, **kwargs), 1):
            if n == {at}:  # the runner writes what it holds when an answer comes this late
                time.sleep(SAVE_EVERY_S + 0.2)
            if n == {at} + 1:  # the next answer is ready: die before handing it over
                os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no exception handler runs: a real crash
            yield answer

    setattr(hf.HFModel, name, method)

dying({method!r})
import workbench
"""


def killed(method: str, at: int, call: str) -> None:
    """Run ``call`` in a child Python killed by SIGKILL just after its ``at``-th answer from ``HFModel.method``
    (an iter_ method: answers arrive one by one), so the answers before are saved and the rest are not."""
    code = textwrap.dedent(KILL).format(at=at, method=method) + textwrap.dedent(call)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def test_a_killed_perplexity_run_resumes(capsys):
    killed("iter_rolling", 8, f"workbench.perplexity({TEXTS!r})")  # 8 of 9 texts saved
    (run,) = Store().runs().to_dict("records")
    assert run["status"] == "interrupted" and len(Store().sample_records(run["run_id"])) == 8
    before = Store().sample_records(run["run_id"])

    result = workbench.perplexity(TEXTS)
    assert result.run_id == run["run_id"]
    assert "8 of 9 texts already scored" in capsys.readouterr().out
    after = Store().sample_records(run["run_id"])
    assert [r["doc_id"] for r in after] == list(range(9)) and after[:8] == before
    assert Store().run(run["run_id"])["status"] == "complete" and len(Store().runs()) == 1

    fresh = workbench.perplexity(TEXTS, store="fresh.sqlite")  # an uninterrupted run gives the same numbers
    assert [r["loglikelihood"] for r in fresh.samples.to_dict("records")] == pytest.approx(
        [r["loglikelihood"] for r in after], abs=1e-4
    )


def test_a_killed_grid_resumes_keeping_unseeded_samples(capsys):
    call = f"""
    workbench.grid({{"a": "{{question}}", "b": "Briefly: {{question}}"}}, rows={ROWS!r},
                   params={{"temperature": 0.9, "max_new_tokens": 3}}, batch_size=1)
    """
    killed("iter_generate", 4, call)  # four of the eight rows are saved, the rest are not
    runs = Store().runs()
    assert list(runs["status"]) == ["interrupted", "interrupted"]  # their writer is gone
    saved = {r["run_id"]: Store().sample_records(r["run_id"]) for r in runs.to_dict("records")}
    assert sum(len(v) for v in saved.values()) == 4  # shared over the cells as the answers finished
    assert len(Store().generations()) == 4

    result = workbench.grid(
        {"a": "{question}", "b": "Briefly: {question}"}, rows=ROWS, params={"temperature": 0.9, "max_new_tokens": 3}
    )
    out = capsys.readouterr().out
    assert "(4 kept from the interrupted grid)" in out
    assert all(f"{len(v)} of 4 rows already saved" in out for v in saved.values() if v)
    assert set(result.cells["run_id"]) == set(saved)  # the same two runs, resumed
    assert len(Store().runs()) == 2 and (Store().runs()["status"] == "complete").all()
    for run_id, before in saved.items():
        after = Store().sample_records(run_id)
        assert len(after) == 4 and [r["doc_id"] for r in after] == [0, 1, 2, 3]
        kept = {r["doc_id"] for r in before}  # sampled without a seed, so never reusable from the cache
        assert [r for r in after if r["doc_id"] in kept] == before  # kept from the killed run, as they were
    assert len(Store().generations()) == 8  # four before the kill, four after: none generated twice
    grid_ids = {Store().run(r)["config"]["grid_id"] for r in saved}
    assert grid_ids == {result.grid_id}


@needs_mirror
def test_a_killed_judge_run_resumes(capsys):
    answers = workbench.evaluate("arc_easy", limit=4, mode="generate", max_new_tokens=4)
    call = f"""
    workbench.judge({answers.run_id!r}, judge="smollm2-135m", terse=True, max_new_tokens=4, batch_size=1)
    """
    killed("iter_generate", 2, call)
    judge_run = Store().runs().iloc[0]
    assert judge_run["task"] == "judge:single" and judge_run["status"] == "interrupted"
    assert len(Store().judgments(judge_run["run_id"])) == 2

    result = workbench.judge(answers.run_id, judge="smollm2-135m", terse=True, max_new_tokens=4, batch_size=1)
    assert result.run_id == judge_run["run_id"] and result.resumed == 2
    assert "2 of 4 judgments already saved" in capsys.readouterr().out
    rows = Store().judgments(result.run_id)
    assert len(rows) == 4 and sorted(rows["doc_id"]) == [0, 1, 2, 3]
    assert Store().run(result.run_id)["status"] == "complete"
    assert result.metrics["n"] + result.metrics["unparseable"] == 4  # every answer graded once, readable or not
