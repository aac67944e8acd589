"""workbench.report / `workbench report` / %llm_report: one self-contained HTML file of runs, suites, leaderboards
and comparisons. Runs are written through the store API (no model); the integration test opens a report in
headless Chromium (Debian's /usr/bin/chromium, `bash .ci/install-browser`) with every non-file request aborted.
Set WORKBENCH_SCREENSHOTS=docs to refresh docs/report.png."""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

import workbench
from workbench import cli, metrics, options
from workbench.errors import WorkbenchError
from workbench.evaluation import EvalResult
from workbench.human import items as judged_items
from workbench.reports import report, write_report
from workbench.reports.page import script_json
from workbench.store import Store

REPO = Path(__file__).resolve().parents[1]
SCRIPT = "<script>window.__pwned=1</script>"
BREAKOUT = "</script><script>window.__pwned=1</script>"


def saved_run(values, *, task="arc_easy", model="m", config=None, outputs=None, prompt_chars=0) -> str:
    """A complete multiple-choice run written through the store API: item i right when values[i] is 1."""
    store = Store()
    run_id = store.create_run(
        run_key=f"k{len(store.runs())}", task=task, model=model, model_identity={"fingerprint": "sha256:w"},
        data_source="mirror:/data", data_fingerprint="sha256:d4t4", prompt_template="Question: {question}",
        config={"limit": len(values), "shots": 0, "mode": None, **(config or {})}, versions={"workbench": "0.1.0"},
        command=f"workbench eval {task} --model {model}", n_items=len(values),
    )  # fmt: skip
    records = []
    for i, v in enumerate(values):
        choices = [f"right answer {i}", (outputs or {}).get(i, f"wrong answer {i}")]
        padding = "Question: an earlier example?\nAnswer: yes\n\n" * (prompt_chars // 44)
        records.append({"doc_id": i, "gold": 0, "pred": 0 if v else 1, "acc": float(v), "choices": choices,
                        "prompt": f"{padding}Question: question {i}?\nAnswer:", "item_fp": f"fp{i}"})  # fmt: skip
    store.add_samples(run_id, records)
    acc = [float(v) for v in values]  # aggregated as a task aggregates acc: mean, stderr, interval clipped to [0, 1]
    mean, se = metrics.mean(acc), metrics.mean_stderr(acc)
    store.finish_run(
        run_id, {"n": len(values), "acc": mean, "acc_stderr": se, "acc_ci95": list(metrics.normal_ci(mean, se))}
    )
    return run_id


def page_data(path: Path) -> dict:
    """The JSON the page draws from, as the browser's JSON.parse reads it."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text, re.S)
    assert found is not None
    return json.loads(found.group(1))


def section(data: dict, start: str) -> dict:
    return next(s for s in data["sections"] if s["title"].startswith(start))


A = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1]
B = [1, 1, 1, 1, 0, 1, 1, 0, 1, 1]


def test_one_run_report_holds_its_scores_settings_and_items(project):
    run_id = saved_run(A)
    path = report(run_id[:4], path="r.html")
    assert path == Path("r.html") and path.is_file()
    text = path.read_text(encoding="utf-8")
    assert "<link" not in text and " src=" not in text  # nothing to fetch: scripts and data inline
    policy = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text).group(1))
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    data = page_data(path)
    assert data["title"] == f"arc_easy | m ({run_id})"
    table = section(data, "arc_easy | m")["tables"][0]
    assert "value ± se [95% CI]" in table["columns"]
    row = dict(zip(table["columns"], table["rows"][0]))
    assert row["metric"] == "acc" and row["value ± se [95% CI]"].startswith("0.60 ± 0.16 [0.")
    assert section(data, "arc_easy | m")["charts"][0]["data"][0]["type"] == "bar"
    (run,) = data["runs"]
    settings = dict(run["settings"])
    assert settings["command"] == "workbench eval arc_easy --model m" and settings["data fingerprint"] == "sha256:d4t4"
    assert '"limit": 10' in settings["config"] and "sha256:w" in settings["model identity"]
    assert run["metric"] == "acc" and run["binary"] and run["wrong"] == A.count(0)
    assert [i["doc"] for i in run["items"] if i["wrong"]] == [i for i, v in enumerate(A) if not v]
    assert run["items"][1]["output"] == "wrong answer 1" and run["items"][1]["reference"] == "right answer 1"
    assert not any(s["title"].startswith("Paired") for s in data["sections"])


def test_model_output_cannot_break_out_of_the_page(project):
    nasty = f"{BREAKOUT} & <b>bold</b> \u2028line\u2029"
    run_id = saved_run(A, outputs={1: nasty})
    path = report(run_id, path="r.html")
    text = path.read_text(encoding="utf-8")
    assert text.count("<script") == 3  # the data, packed plotly.js and the page's script: none from the output
    assert "window.__pwned" not in text.replace("\\u003cscript\\u003ewindow.__pwned", "")
    assert "\u2028" not in text and "<b>bold" not in text
    assert page_data(path)["runs"][0]["items"][1]["output"] == nasty  # shown as the very same text
    assert json.loads(script_json({"x": nasty}))["x"] == nasty


def test_a_thousand_item_run_stays_under_5_mb(project):
    values = [i % 3 != 0 for i in range(1000)]
    run_id = saved_run(values, prompt_chars=1200, outputs={i: f"a long wrong answer {i} " * 8 for i in range(1000)})
    written = write_report(run_id, path="big.html")
    assert written.items == 1000 and len(page_data(written.path)["runs"][0]["items"]) == 1000
    assert 2_000_000 < written.size < 5_000_000, written.size  # plotly.js (2 MB packed) and every item
    assert "1,000 items" in written.summary() and "big.html" in written.summary()


def test_two_runs_of_a_task_get_the_paired_comparison(project):
    a, b = saved_run(A), saved_run(B, model="m2")
    written = write_report(a, b, path="r.html", title="m vs m2")
    assert written.compared and written.runs == [a, b]
    data = page_data(written.path)
    assert data["title"] == "m vs m2"
    scores = section(data, "2 runs")["tables"][0]
    assert [r[scores["columns"].index("run_id")] for r in scores["rows"]] == [a, b]
    paired = section(data, "Paired comparison")
    table = dict(zip(paired["tables"][0]["columns"], paired["tables"][0]["rows"][0]))
    assert (table["mcnemar_p"], table["b_better"], table["a_better"]) == ("0.50", "2", "0")
    assert "McNemar exact p = 0.5" in paired["notes"][0]
    assert [r[0] for r in paired["flips"]["rows"]] == [1, 5]
    assert len(paired["charts"]) == 1


def test_runs_of_different_tasks_are_not_compared(project):
    a, b = saved_run(A), saved_run(B, task="arc_challenge")
    assert not write_report(a, b, path="r.html").compared


def test_judge_rationales_and_human_ratings_are_shown_with_their_items(project):
    run_id = saved_run(A)
    store = Store()
    judge = store.create_run(
        run_key="judge", task="judge:single", model="judge-model", model_identity={}, data_source="",
        data_fingerprint="", prompt_template="", config={"runs": [run_id], "mode": "single", "models": ["m"]},
        versions={}, command="judge", n_items=2,
    )  # fmt: skip
    for doc, score, said in ((0, 8.0, f"Good. {SCRIPT}"), (1, None, "I cannot tell")):
        store.add_judgment({"run_id": judge, "doc_id": doc, "turn": 1, "swapped": 0, "prompt_name": "single",
                            "score": score, "verdict": None, "shown_verdict": None, "parsed": int(score is not None),
                            "judge_output": said, "messages": [], "prompt_tokens": 1,
                            "completion_tokens": 1})  # fmt: skip
    store.finish_run(judge, {"n": 1, "score": 8.0})
    rows = judged_items(run_id).to_dict("records")
    store.add_items(rows)
    store.add_rating(item_key=rows[2]["item_key"], rubric="1-5", scale=list("12345"), annotator="ana", action="rate",
                     value="4", note="fine")  # fmt: skip
    data = page_data(report(run_id, path="r.html"))
    items = data["runs"][0]["items"]
    assert items[0]["judge"][0]["verdict"] == "score 8.0" and items[0]["judge"][0]["rationale"] == f"Good. {SCRIPT}"
    assert items[1]["judge"][0]["verdict"] == "unreadable" and "judge" not in items[3]
    assert items[2]["ratings"] == [{"annotator": "ana", "rubric": "1-5", "value": "4", "note": "fine"}]
    assert data["runs"][0]["judges"] == [f"judge-model ({judge}, judge:single)"] and data["runs"][0]["rated"] == 1


def test_a_suite_name_means_its_members_newest_complete_runs(project, capsys):
    old = saved_run([0, 0, 1], task="arc_easy")
    easy, challenge = saved_run(A, task="arc_easy"), saved_run(B, task="arc_challenge")
    saved_run(B, task="arc_easy", model="half")  # no arc_challenge run: left out, named
    written = write_report("arc", path="r.html")
    assert set(written.runs) == {easy, challenge} and old not in written.runs
    data = page_data(written.path)
    suite = section(data, "arc | m")
    assert suite["tables"][0]["rows"][-1][0] == "arc"  # the headline row
    assert "half lacks arc_challenge" in capsys.readouterr().err
    saved_run(A, task="arc_challenge", model="half")
    data = page_data(write_report("arc", path="r.html").path)
    board = section(data, "arc: 2 models")["tables"][0]
    assert board["columns"][:3] == ["rank", "model", "headline"] and len(board["rows"]) == 2
    assert len(section(data, "arc: 2 models")["charts"]) == 2


def test_result_objects_are_reported(project):
    a, b = saved_run(A), saved_run(B, model="m2")
    result = EvalResult(a, "arc_easy", "m", Store().run(a)["metrics"], 0.0, Store().path)
    assert page_data(report(result, path="r.html"))["runs"][0]["run_id"] == a
    board = workbench.leaderboard(run_ids=[a, b])
    data = page_data(report(board, path="r.html"))
    assert data["title"] == "arc_easy: 2 models" and len(data["runs"]) == 2
    assert any(s["title"].startswith("Paired comparison") for s in data["sections"])
    data = page_data(report(workbench.compare(a, b), path="r.html"))
    assert data["sections"][0]["flips"]["rows"] and len(data["sections"]) == 1  # the comparison given, once


def test_bad_input_is_refused_in_one_message_and_nothing_is_written(project):
    run_id = saved_run(A)
    saved_run(B)
    with pytest.raises(WorkbenchError, match=r"No run 'zzzz' .*`workbench runs`"):
        report("zzzz", path="r.html")
    with pytest.raises(WorkbenchError, match=r"Did you mean 'arc'"):
        report("arcc", path="r.html")
    with pytest.raises(WorkbenchError, match="Name what to report"):
        report(path="r.html")
    with pytest.raises(WorkbenchError, match="got int 42"):
        report(42, path="r.html")
    with pytest.raises(WorkbenchError, match="does not exist"):
        report(run_id, path="no/such/folder/r.html")
    with pytest.raises(WorkbenchError, match="There is no project store"):
        report(run_id, path="r.html", store="missing.sqlite")
    with pytest.raises(WorkbenchError, match="No model has complete runs of every member of arc .*workbench eval arc"):
        report("arc", path="r.html")
    assert not Path("r.html").exists() and not list(Path(".").glob(".r.html*"))
    report(run_id, path="r.html")
    before = Path("r.html").read_bytes()
    with pytest.raises(WorkbenchError):
        report(run_id, "zzzz", path="r.html")
    assert Path("r.html").read_bytes() == before  # a failed report leaves the earlier file as it was


def test_a_prefix_of_several_run_ids_is_refused(project):
    ids = [saved_run([1, 0]) for _ in range(17)]  # 17 ids of 16 possible first digits: two share one
    first = next(i[0] for i in ids if sum(j[0] == i[0] for j in ids) > 1)
    with pytest.raises(WorkbenchError, match=rf"'{first}' is the start of \d+ run ids .*give more of the id"):
        report(first, path="r.html")


def test_cli_writes_the_report_and_exits_2_on_bad_input(project, capsys):
    run_id = saved_run(A)
    assert cli.main(["report", run_id, "-o", "out.html", "--title", "My report"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Report 'My report': 1 run") and "out.html" in out
    assert page_data(Path("out.html"))["title"] == "My report"
    assert cli.main(["report", "zzzz", "-o", "bad.html"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: No run 'zzzz'") and err.count("\n") == 1 and not Path("bad.html").exists()
    assert cli.main(["report", "arc"]) == 2
    assert "workbench eval arc --model MODEL" in capsys.readouterr().err
    assert cli.main(["report"]) == 2  # no run named: argparse's one line


def test_magic_writes_the_report_and_shows_an_escaped_link(project, capsys):
    from IPython.testing.globalipapp import get_ipython

    run_id = saved_run(A)
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    shown = []
    ip.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    formatter = ip.display_formatter.formatters["text/html"]
    enabled, formatter.enabled = formatter.enabled, True  # the test shell leaves HTML off; a notebook has it on
    try:
        assert ip.run_line_magic("llm_report", f'{run_id} -o "a <b>.html"') is None
    finally:
        formatter.enabled = enabled
    html = shown[-1]["text/html"]
    assert '<a href="a%20%3Cb%3E.html" target="_blank">a &lt;b&gt;.html</a>' in html
    assert "1 run (" in html and Path("a <b>.html").is_file()
    board = workbench.leaderboard(run_ids=[run_id])
    ip.user_ns["board"] = board
    assert ip.run_line_magic("llm_report", "board -o board.html --title 'A board'") is None
    assert page_data(Path("board.html"))["title"] == "A board"
    assert ip.run_line_magic("llm_report", "zzzz") is None
    assert "No run 'zzzz'" in capsys.readouterr().err


def test_the_report_options_are_keywords_of_report():
    import inspect

    keywords = [o.name for o in options.REPORT if o.keyword]
    assert keywords == ["path", "title", "store"]
    for function in (report, write_report):
        assert set(keywords) <= set(inspect.signature(function).parameters)


# ---- in a real browser -----------------------------------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.integration
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `bash .ci/install-browser`")
@pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None, reason="playwright missing: pip install -e '.[test]'"
)
def test_the_report_in_chromium_fetches_nothing_runs_no_output_and_filters_wrong_answers(project):
    from playwright.sync_api import expect, sync_playwright

    from .test_browser import CHROMIUM_ARGS

    a = saved_run(A, outputs={1: SCRIPT, 4: BREAKOUT})
    b = saved_run(B, model="m2")
    path = report(a, b, path="report.html", title="arc_easy: m vs m2").resolve()
    fetched: list[str] = []

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            fetched.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", only_files)
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-charts]", timeout=60_000)
            assert page.get_attribute("body", "data-charts") == "drawn" and errors == []
            assert page.locator(".chart.js-plotly-plot svg.main-svg").count() >= 2  # runs and comparison charts
            assert page.evaluate("typeof window.__pwned") == "undefined"
            rows = page.locator("#items tr.item")
            assert rows.count() == len(A)
            assert page.locator("#items tr.item", has_text=SCRIPT).count() == 2  # shown as text (both contain it)
            assert page.locator("#items tr.item", has_text=BREAKOUT).count() == 1
            page.check("#items input.wrong-only")
            assert rows.count() == A.count(0) == page.locator("#items tr.item.wrong").count()
            assert sorted(int(t) for t in page.locator("#items tr.item td:first-child").all_inner_texts()) == [
                i for i, v in enumerate(A) if not v
            ]
            page.uncheck("#items input.wrong-only")
            page.fill("#items input.search", "question 7?")
            expect(rows).to_have_count(1)  # after the search box's short pause
            page.fill("#items input.search", "")
            expect(rows).to_have_count(len(A))
            page.locator("#items tr.item").nth(1).click()
            shown = page.locator("#items tr.detail pre").all_inner_texts()  # prompt, answer, reference, options
            assert shown[1:] == [
                "<script>window.__pwned=1</script>",
                "right answer 1",
                f"0: right answer 1\n1: {SCRIPT}",
            ]
            assert page.evaluate("typeof window.__pwned") == "undefined"
            if os.environ.get("WORKBENCH_SCREENSHOTS") == "docs":
                page.screenshot(path=str(REPO / "docs" / "report.png"), full_page=True)
        finally:
            browser.close()
    assert fetched == []
