"""Drift over time: what an API endpoint reports about itself is recorded per run, and workbench.trend follows one
evaluation repeated over time, marking significant changes (paired) and changes of the reported model."""

from __future__ import annotations

import json

import pytest

import workbench
from workbench import cli, models, options
from workbench.errors import WorkbenchError
from workbench.models.base import GenerateRequest, GenerateResponse
from workbench.run import lifecycle
from workbench.run.records import item_fingerprint, stamp
from workbench.store import Store
from workbench.tasks.base import summarize

from .conftest import needs_mirror
from .serving import StubEndpoint, served  # noqa: F401 (fixture)

SPEC = "openai:drift-model@http://127.0.0.1:9/v1"
N = 40
DOCS = [{"id": f"q{i}", "question": f"Question {i}?"} for i in range(N)]


def answer(model: str, fingerprint: str) -> GenerateResponse:
    """An answer as the OpenAI-compatible backend returns it, with what the endpoint said it was."""
    return GenerateResponse("A", extra={"served_model": model, "system_fingerprint": fingerprint})


def saved_run(correct: list[int], served_as: tuple[str, str] | None, *, limit: int = N, model: str = SPEC,
              finish: bool = True) -> str:  # fmt: skip
    """A run of arc_easy through the lifecycle, as evaluate makes one: same key for the same settings, records
    stamped with their item identity and the answers that scored them, metrics aggregated, finished."""
    config_values = {"task": "arc_easy", "model": model, "limit": limit, "shots": 0, "batch_size": 16,
                     "data": None, "store": None, "mode": "generate", "chat": False, "max_new_tokens": None,
                     "separate": False}  # fmt: skip
    identity = models.describe(model)
    key = {**options.key_fields(options.EVAL, config_values), "model": identity["fingerprint"], "data": "sha256:d",
           "template": "Question: {question}"}  # fmt: skip
    spec = lifecycle.RunSpec(
        task="arc_easy", model=model, identity=identity, source="file:rows.jsonl", data_fingerprint="sha256:d",
        template="Question: {question}", config=options.config(options.EVAL, config_values), key=key,
        command=f"workbench.evaluate('arc_easy', model={model!r}, limit={limit}, mode='generate')",
        n_items=len(correct),
    )  # fmt: skip
    run = lifecycle.start(Store(), spec, quiet=True)
    responses = [answer(*served_as)] if served_as else []
    records = [stamp({"doc_id": i, "acc": c, "prompt": f"q{i}"}, DOCS[i], responses) for i, c in enumerate(correct)]
    run.save(records)
    if finish:
        run.finish(summarize(run.records(), ["acc"]))
    return run.run_id


FIRST = [1] * 30 + [0] * 10  # 0.75
LATER = [1] * 10 + [0] * 30  # 0.25: 20 items went wrong, none right


@pytest.fixture
def three_runs() -> list[str]:
    """Run 1; run 2 (significantly worse, another model reported); run 3 (identical to run 2), plus runs that are
    not the same evaluation: other settings, another model, an unfinished one."""
    ids = [saved_run(FIRST, ("drift-2024-05-13", "fp_a1"))]
    saved_run(FIRST, ("drift-2024-05-13", "fp_a1"), limit=10)  # other settings
    saved_run(LATER, ("other", "fp_z"), model="openai:other@http://127.0.0.1:9/v1")  # another model
    ids.append(saved_run(LATER, ("drift-2024-08-06", "fp_b2")))
    ids.append(saved_run(LATER, ("drift-2024-08-06", "fp_b2")))
    saved_run(FIRST, ("drift-2024-08-06", "fp_b2"), finish=False)  # unfinished: not in the trend
    return ids


# ---- what the endpoint reported, per record and per run -------------------------------------------------------
def test_each_record_and_each_run_keeps_what_the_endpoint_reported():
    run_id = saved_run([1, 0, 1], ("gpt-4o-mini-2024-07-18", "fp_44709d6fcb"))
    record = Store().sample_records(run_id)[0]
    assert record["reported"] == {"calls": 1, "model": {"gpt-4o-mini-2024-07-18": 1},
                                  "system_fingerprint": {"fp_44709d6fcb": 1}}  # fmt: skip
    identity = Store().run(run_id)["model_identity"]
    assert identity["reported"] == {"calls": 3, "model": {"gpt-4o-mini-2024-07-18": 3},
                                    "system_fingerprint": {"fp_44709d6fcb": 3}}  # fmt: skip
    assert identity["fingerprint"] == models.describe(SPEC)["fingerprint"]  # what was asked for is kept as it was


def test_mixed_answers_are_counted_and_silent_backends_record_nothing():
    doc = {"id": "x"}
    two = stamp({"doc_id": 0}, doc, [answer("m-1", "fp_1"), answer("m-2", "")])  # "" is no fingerprint
    assert two["reported"] == {"calls": 2, "model": {"m-1": 1, "m-2": 1}, "system_fingerprint": {"fp_1": 1}}
    local = stamp({"doc_id": 0}, doc, [GenerateResponse("A")])  # a local model's answer reports nothing
    assert "reported" not in local and local["item_fp"] == item_fingerprint(doc)
    run_id = saved_run([1, 1], None, model="smollm2-135m")
    assert "reported" not in Store().run(run_id)["model_identity"]


# ---- the trend ---------------------------------------------------------------------------------------------------
def test_trend_orders_runs_flags_changes_and_leaves_other_evaluations_out(three_runs):
    t = workbench.trend("arc_easy", SPEC)
    table = t.table()
    assert list(table["run_id"]) == three_runs and table["time"].is_monotonic_increasing
    assert list(table["score"]) == pytest.approx([0.75, 0.25, 0.25])
    assert list(table["n"]) == [N, N, N]
    low, high = table["ci95_low"][0], table["ci95_high"][0]
    assert low < 0.75 < high and (low, high) == pytest.approx(tuple(Store().run(three_runs[0])["metrics"]["acc_ci95"]))
    assert list(table["significant"]) == [False, True, False]
    assert table["change"][1] == pytest.approx(-0.5) and table["change_ci95_high"][1] < 0
    assert table["change"][2] == 0 and table["mcnemar_p"][1] < 0.001 and table["shared_items"][1] == N
    assert list(table["identity_changed"]) == [False, True, False]
    assert list(table["reported"]) == [
        "drift-2024-05-13 · fp_a1",
        "drift-2024-08-06 · fp_b2",
        "drift-2024-08-06 · fp_b2",
    ]
    assert t.metric == "acc" and t.comparisons[0] is None and t.comparisons[1].n_shared == N
    assert "1 other complete run(s)" in " ".join(t.notes) and "limit=10" in " ".join(t.notes)
    # naming the other settings follows those runs instead
    assert len(workbench.trend("arc_easy", SPEC, limit=10).runs) == 1


def test_summary_fits_a_terminal_and_names_the_changes(three_runs):
    text = workbench.trend("arc_easy", SPEC).summary()
    assert max(len(line) for line in text.splitlines()) <= 100
    low, high = Store().run(three_runs[0])["metrics"]["acc_ci95"]
    assert f"0.75 ± 0.07 [{low:.2f}, {high:.2f}]" in text and "-0.50 [-0." in text and " *!  " in text
    assert f"* run {three_runs[1]}: acc changed by -0.5" in text
    assert (
        f"! run {three_runs[1]}: the model reported drift-2024-08-06 · fp_b2 (before: drift-2024-05-13 · fp_a1)" in text
    )


def test_figure_marks_significant_and_identity_changes_and_escapes_texts():
    saved_run(FIRST, ("<b>m</b>", "fp_1"))
    saved_run(LATER, ("<b>m</b>", "fp_2"))
    t = workbench.trend("arc_easy", SPEC)
    fig = t.figure()
    line, significant, identity = fig.data
    assert line.mode == "lines+markers" and len(line.x) == 2 and list(line.y) == pytest.approx([0.75, 0.25])
    assert list(line.error_y.array) == pytest.approx(list(t.table()["ci95_high"] - t.table()["score"]))
    assert len(significant.x) == 1 and significant.marker.symbol == "diamond-open"
    assert len(identity.x) == 1 and identity.marker.symbol == "star-open" and identity.x[0] == line.x[1]
    hover = " ".join(line.hovertext)
    assert "<b>m</b>" not in hover and "&lt;b&gt;m&lt;/b&gt;" in hover and "significant" in hover
    page = t._repr_html_()
    assert "<b>m</b>" not in page and "&lt;b&gt;m&lt;/b&gt; · fp_2" in page


def test_one_run_is_shown_and_asks_for_a_second():
    run_id = saved_run(FIRST, ("drift-2024-05-13", "fp_a1"))
    t = workbench.trend("arc_easy", SPEC)
    assert list(t.table()["run_id"]) == [run_id] and len(t.figure().data) == 1
    text = t.summary()
    assert "a trend needs two" in text and "workbench.evaluate('arc_easy'" in text


def test_runs_recorded_before_reports_show_as_not_recorded_and_flag_nothing():
    first = saved_run(FIRST, None)  # an API run from before runs recorded what the endpoint reported
    saved_run(FIRST, ("drift-2024-08-06", "fp_b2"))
    table = workbench.trend("arc_easy", SPEC).table()
    assert table["reported"][0] == "not recorded" and not table["identity_changed"].any()
    assert table["run_id"][0] == first


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: workbench.trend("arc_easy", "openai:never@http://127.0.0.1:9/v1"),
         "No complete run of arc_easy with openai:never.*workbench.evaluate\\('arc_easy'"),
        (lambda: workbench.trend(5, SPEC), "Name the task as text"),
        (lambda: workbench.trend("arc_easy", SPEC, limit=0), "--limit must be a whole number"),
        (lambda: workbench.trend("arc_easy", SPEC, limit=7), "made with limit=7; its runs were made with: limit=40"),
        (lambda: workbench.trend("arc_easy", SPEC, metric="bleu"), "has no metric 'bleu'; it has: acc"),
        (lambda: workbench.trend("arc_easy", SPEC, mode="both"), "a --mode both call made one run of each"),
        (lambda: workbench.trend("arc_easy", SPEC, store="missing/project.sqlite"), "missing"),
    ],
)  # fmt: skip
def test_bad_input_gets_one_clear_message(call, message):
    saved_run(FIRST, ("drift-2024-05-13", "fp_a1"))
    with pytest.raises(WorkbenchError, match=message):
        call()


def test_no_runs_names_the_command_that_makes_one():
    saved_run(FIRST, ("x", "fp"), finish=False)
    with pytest.raises(WorkbenchError, match="not complete: repeat their call.*`workbench eval arc_easy --model"):
        workbench.trend("arc_easy", SPEC)


def test_cli_prints_the_summary_and_the_magic_shows_table_and_chart(three_runs, capsys):
    from IPython.testing.globalipapp import get_ipython

    assert cli.main(["trend", "arc_easy", "--model", SPEC, "--metric", "acc"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"arc_easy | {SPEC}: acc over 3 complete runs") and three_runs[2] in out
    assert cli.main(["trend", "arc_easy", "--model", SPEC, "--limit", "7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: No complete run") and len(err.strip().splitlines()) == 1
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    ip.display_formatter.formatters["text/html"].enabled = True  # as in a notebook kernel
    shown = []
    ip.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    assert ip.run_line_magic("llm_trend", f"arc_easy --model {SPEC}") is None
    kinds = [k for d in shown for k in d]
    assert "text/html" in kinds and "application/vnd.plotly.v1+json" in kinds


# ---- through an endpoint ------------------------------------------------------------------------------------------
def test_repeating_an_api_evaluation_adds_runs_and_a_new_reported_model_is_marked(project):
    """The stub endpoint reports another model and system fingerprint on the second day, and answers worse."""
    rows = project / "arc.jsonl"
    rows.write_text("".join(json.dumps({"id": f"q{i}", "question": f"Question {i}?", "answerKey": "B",
                                        "choices": {"text": ["yes", "no"], "label": ["A", "B"]}}) + "\n"
                            for i in range(12)))  # fmt: skip
    reply = {"text": "B"}
    with StubEndpoint(
        reply=lambda body: reply["text"], fields={"model": "gpt-x-0513", "system_fingerprint": "fp_1"}
    ) as stub:
        call = {"model": stub.spec("gpt-x"), "mode": "generate", "data": str(rows)}
        first = workbench.evaluate("arc_easy", **call)
        stub.fields, reply["text"] = {"model": "gpt-x-0806", "system_fingerprint": "fp_2"}, "A"
        second = workbench.evaluate("arc_easy", **call)  # the same call again: a new run, never the old one reused
    assert first.run_id != second.run_id and (first.metrics["exact_match"], second.metrics["exact_match"]) == (1, 0)
    reported = Store().run(second.run_id)["model_identity"]["reported"]
    assert reported == {"calls": 12, "model": {"gpt-x-0806": 12}, "system_fingerprint": {"fp_2": 12}}
    table = workbench.trend("arc_easy", stub.spec("gpt-x")).table()
    assert list(table["run_id"]) == [first.run_id, second.run_id]
    assert list(table["identity_changed"]) == [False, True] and list(table["significant"]) == [False, True]


@pytest.mark.integration
@needs_mirror
def test_a_real_servers_reports_are_recorded_and_two_evaluations_make_a_trend(served):  # noqa: F811
    (response,) = models.load(served.spec).generate([GenerateRequest("Say hi.", max_new_tokens=2)])
    name = response.extra["served_model"]
    assert name  # transformers serve names the model that answered
    call = {"model": served.spec, "mode": "generate", "limit": 3}
    runs = [workbench.evaluate("arc_easy", **call) for _ in range(2)]
    assert runs[0].run_id != runs[1].run_id
    for result in runs:
        assert Store().run(result.run_id)["model_identity"]["reported"]["model"] == {name: 3}
        assert all(r["model"] == {name: 1} for r in result.samples["reported"])
    t = workbench.trend("arc_easy", served.spec)
    table = t.table()
    assert list(table["run_id"]) == [r.run_id for r in runs] and list(table["reported"]) == [name, name]
    assert not table["identity_changed"].any() and table["shared_items"][1] == 3
    assert len(t.figure().data[0].x) == 2
