"""workbench.throughput: time to first token, per-token latency, requests/s and tokens/s at each concurrency, and
static batching against the engine's continuous slot refill; saved as a run."""

from __future__ import annotations

import importlib.util

import pytest

from workbench.errors import WorkbenchError
from workbench.serving_speed import prompts_from, throughput
from workbench.timings import Timing, speeds, summarize

from .conftest import needs_mirror, needs_model
from .serving import served  # noqa: F401 (fixture)


# ---- the numbers from timings (fixtures written here) ---------------------------------------------------------
def test_summary_of_hand_made_timings():
    timings = [
        Timing(0, first_token=0.5, last_token=1.5, tokens=11, finished=1.6, prompt_tokens=10, completion_tokens=10),
        Timing(1, first_token=1.0, last_token=3.0, tokens=5, finished=3.1, prompt_tokens=20, completion_tokens=4),
    ]
    s = summarize(timings)
    assert s["requests"] == 2 and s["generated_tokens"] == 14 and s["prompt_tokens"] == 30
    assert s["wall_s"] == 3.1
    assert s["tokens_per_s"] == pytest.approx(14 / 3.1) and s["requests_per_s"] == pytest.approx(2 / 3.1)
    assert s["ttft_p50_s"] == pytest.approx(0.75) and s["ttft_p95_s"] == pytest.approx(0.975)
    assert timings[0].tpot == pytest.approx(0.1) and timings[1].tpot == pytest.approx(0.5)
    assert s["tpot_p50_s"] == pytest.approx(0.3)


def test_prompt_and_generation_speed_of_requests_one_at_a_time():
    # request 0: prefill 0.5 s for 10 tokens, then 10 tokens in 1 s; request 1 starts after 0 finished (at 1.6)
    timings = [
        Timing(0, first_token=0.5, last_token=1.5, tokens=11, finished=1.6, prompt_tokens=10, completion_tokens=10),
        Timing(1, first_token=2.6, last_token=3.6, tokens=11, finished=3.6, prompt_tokens=20, completion_tokens=10),
    ]
    prompt_speed, generated_speed = speeds(timings)
    assert prompt_speed == pytest.approx(30 / (0.5 + 1.0))
    assert generated_speed == pytest.approx(20 / 2.0)
    # a backend without token events: no prompt speed, generated tokens over the whole time
    whole = [Timing(0, finished=2.0, completion_tokens=10)]
    assert speeds(whole) == (None, 5.0)
    assert summarize(whole)["ttft_p50_s"] is None


def test_bad_input_is_refused_before_a_model_loads():
    with pytest.raises(WorkbenchError, match="needs prompts"):
        throughput("smollm2-135m", [])
    with pytest.raises(WorkbenchError, match="needs prompts"):
        throughput("smollm2-135m", ["a question", ""])
    with pytest.raises(WorkbenchError, match="concurrency must be a whole number of at least 1"):
        throughput("smollm2-135m", ["a question"], concurrency=[1, 0])
    with pytest.raises(WorkbenchError, match="max_new_tokens must be a whole number of at least 1"):
        throughput("smollm2-135m", ["a question"], max_new_tokens=0)


@needs_mirror
def test_prompts_from_a_file_or_a_task(tmp_path):
    lines = tmp_path / "prompts.txt"
    lines.write_text("First line\\nand its second\n\nAnother prompt\n", encoding="utf-8")
    assert prompts_from(str(lines)) == ["First line\nand its second", "Another prompt"]
    rows = tmp_path / "prompts.jsonl"
    rows.write_text('{"prompt": "a"}\n{"text": "b"}\n', encoding="utf-8")
    with pytest.raises(WorkbenchError, match="every line of a .jsonl prompts file is an object with a 'prompt'"):
        prompts_from(str(rows))
    arc = prompts_from("arc_easy", 3)
    assert len(arc) == 3 and all(p.startswith("Question: ") and p.endswith("\nAnswer:") for p in arc)
    with pytest.raises(WorkbenchError, match="'arc_esay' is neither a file nor a task"):
        prompts_from("arc_esay")


# ---- a real run -------------------------------------------------------------------------------------------------
PROMPTS = [
    "Question: What do plants need to make food?\nAnswer:",
    "The capital of France is",
    "Write one sentence about rain.",
    "2 + 2 =",
]


@pytest.mark.integration
@needs_model
def test_a_tiny_run_gives_sane_numbers_and_is_saved(project):
    import workbench
    from workbench.store import Store

    t = throughput("smollm2-135m", PROMPTS, concurrency=[1, 2], max_new_tokens=4)
    table = t.table()
    assert list(zip(table["schedule"], table["concurrency"])) == [
        ("continuous", 1), ("continuous", 2), ("static", 1), ("static", 2)
    ]  # fmt: skip
    for row in table.itertuples():
        assert row.requests == 4 and 0 < row.generated_tokens <= 16
        assert row.ttft_p50_s <= row.ttft_p95_s and row.latency_p50_s <= row.latency_p95_s <= row.wall_s
        assert row.tpot_p50_s is None or 0 < row.tpot_p50_s <= row.tpot_p95_s
        assert row.tokens_per_s == pytest.approx(row.generated_tokens / row.wall_s)
    each = t.timings
    assert len(each) == 16
    assert (each["ttft_s"] <= each["latency_s"] + 1e-9).all()
    # every request is handed over at the start: at concurrency 1 the k-th answer waits for the k-1 before it
    one = each[(each["schedule"] == "continuous") & (each["concurrency"] == 1)].sort_values("ttft_s")
    assert one["latency_s"].is_monotonic_increasing
    # static batching hands a group's answers back together, when its longest sequence ends
    static = each[(each["schedule"] == "static") & (each["concurrency"] == 2)]
    assert static["latency_s"].nunique() == 2
    # greedy answers do not depend on how sequences were scheduled
    by = each.set_index(["schedule", "concurrency", "prompt_index"])["completion_tokens"]
    assert by["static"].loc[2].tolist() == by["continuous"].loc[1].tolist()
    assert set(t.gain()["concurrency"]) == {1, 2}
    run = Store().run(t.run_id)
    assert run["status"] == "complete" and run["task"] == "throughput"
    assert len(workbench.samples(t.run_id)) == 16
    assert run["metrics"]["tokens_per_s_continuous_c2"] == pytest.approx(table.iloc[1]["tokens_per_s"])
    assert len(t.figure().data) == 6


@pytest.mark.integration
def test_a_served_model_is_timed_token_by_token_through_its_stream(served, project):  # noqa: F811
    t = throughput(served.spec, PROMPTS[:2], concurrency=[1, 2], max_new_tokens=4)
    table = t.table()
    assert list(table["schedule"]) == ["continuous", "continuous"]  # a server schedules itself: no static run
    for row in table.itertuples():
        assert row.generated_tokens > 0 and row.tokens_per_s > 0
        assert 0 < row.ttft_p50_s <= row.ttft_p95_s <= row.latency_p95_s
    assert t.gain().empty
    with pytest.raises(WorkbenchError, match="static batching is measured on the local transformers engine only"):
        throughput(served.spec, PROMPTS[:1], static=True)


@pytest.mark.integration
@needs_model
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason='llama-cpp-python not installed: pip install "llm-eval-workbench[llamacpp]"',
)
def test_llama_cpp_is_timed_token_by_token_one_request_at_a_time(project):
    t = throughput("llamacpp:smollm2-135m", PROMPTS[:3], concurrency=[1, 3], max_new_tokens=4)
    table = t.table()
    assert list(table["schedule"]) == ["continuous", "continuous"]
    each = t.timings
    timed = each[each["completion_tokens"] > 0]
    assert timed["ttft_s"].notna().all() and (timed["ttft_s"] <= timed["latency_s"]).all()
    # one request at a time: each answer starts after the one before it ended
    for _, part in each.groupby("concurrency"):
        ordered = part.sort_values("latency_s")
        assert (ordered["ttft_s"].to_numpy()[1:] >= ordered["latency_s"].to_numpy()[:-1] - 1e-9).all()
