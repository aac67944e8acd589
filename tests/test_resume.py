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
import os, signal
from workbench.models import hf

def dying(name):
    original, calls = getattr(hf.HFModel, name), [0]

    def method(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == {at}:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no exception handler runs: a real crash
        return original(self, *args, **kwargs)

    setattr(hf.HFModel, name, method)

dying({method!r})
import workbench
"""


def killed(method: str, at: int, call: str) -> None:
    """Run ``call`` in a child Python that is killed by SIGKILL on its ``at``-th call of ``HFModel.method``."""
    code = textwrap.dedent(KILL).format(at=at, method=method) + textwrap.dedent(call)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def test_a_killed_perplexity_run_resumes(capsys):
    killed("rolling_loglikelihood", 3, f"workbench.perplexity({TEXTS!r})")  # groups of 4 texts: 8 saved
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
    killed("generate", 2, call)  # chunks of 4 generations: cell a's four rows are saved, cell b's are not
    runs = Store().runs()
    assert list(runs["status"]) == ["interrupted", "interrupted"]  # their writer is gone
    saved = {r["run_id"]: Store().sample_records(r["run_id"]) for r in runs.to_dict("records")}
    assert sorted(len(v) for v in saved.values()) == [0, 4]
    assert len(Store().generations()) == 4

    result = workbench.grid(
        {"a": "{question}", "b": "Briefly: {question}"}, rows=ROWS, params={"temperature": 0.9, "max_new_tokens": 3}
    )
    out = capsys.readouterr().out
    assert "4 of 4 rows already saved" in out and "(4 kept from the interrupted grid)" in out
    assert set(result.cells["run_id"]) == set(saved)  # the same two runs, resumed
    assert len(Store().runs()) == 2 and (Store().runs()["status"] == "complete").all()
    for run_id, before in saved.items():
        after = Store().sample_records(run_id)
        assert len(after) == 4 and [r["doc_id"] for r in after] == [0, 1, 2, 3]
        if before:  # sampled without a seed, so never reusable from the cache: kept from the killed run
            assert after == before
    assert len(Store().generations()) == 8  # four before the kill, four after: none generated twice
    grid_ids = {Store().run(r)["config"]["grid_id"] for r in saved}
    assert grid_ids == {result.grid_id}


@needs_mirror
def test_a_killed_judge_run_resumes(capsys):
    answers = workbench.evaluate("arc_easy", limit=4, mode="generate", max_new_tokens=4)
    call = f"""
    workbench.judge({answers.run_id!r}, judge="smollm2-135m", terse=True, max_new_tokens=4, batch_size=1)
    """
    killed("generate", 3, call)
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
