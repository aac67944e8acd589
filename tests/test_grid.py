"""Prompt grids: inputs checked before anything runs, cells saved as runs, the generation cache, views."""

from __future__ import annotations

import pytest

import workbench
from workbench.errors import WorkbenchError
from workbench.grids import generation_key, param_sets, params_label, placeholders, render
from workbench.magics import grid_prompts
from workbench.store import Store

from .conftest import needs_model

ROWS = [
    {"question": "What is the capital of France?", "answer": "Paris"},
    {"question": "Is <b>this</b> bold?", "answer": "no"},
]
TINY = {"max_new_tokens": 3}


def nothing_saved() -> bool:
    store = Store()
    return store.runs().empty and store.generations().empty


# ---- inputs ------------------------------------------------------------------------------------------
def test_placeholders_and_rendering():
    assert placeholders("p", "Q: {question} ({meta[id]}) {{literal}}") == ["question", "meta"]
    with pytest.raises(WorkbenchError, match=r"Prompt 'p' has a placeholder without a column name \(\{0\}\)"):
        placeholders("p", "Q: {0}")
    with pytest.raises(WorkbenchError, match="not a valid template"):
        placeholders("p", "Q: {question")
    params = param_sets({"system": "Be brief."})[0]
    assert render("Q: {question}", ROWS[0], params) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q: What is the capital of France?"},
    ]
    assert render("Q: {question}", ROWS[0], param_sets({"chat": False})[0]) == "Q: What is the capital of France?"


def test_parameter_sets_are_crossed_and_checked():
    sets = param_sets({"temperature": [0, 0.7], "max_tokens": [8, 16]})
    assert len(sets) == 4 and {(s["temperature"], s["max_new_tokens"]) for s in sets} == {
        (0.0, 8), (0.0, 16), (0.7, 8), (0.7, 16)
    }  # fmt: skip
    assert params_label(sets[0]) == "max_new_tokens=8" and params_label(param_sets(None)[0]) == "defaults"
    with pytest.raises(WorkbenchError, match=r"Unknown generation parameter 'temprature'.*'temperature'"):
        param_sets({"temprature": 0.5})
    with pytest.raises(WorkbenchError, match="max_new_tokens >= 1"):
        param_sets({"max_new_tokens": 0})


def test_cache_key_covers_model_prompt_and_parameters():
    base = param_sets(None)[0]
    key, ok = generation_key("sha256:w", "prompt", base)
    assert ok and key == generation_key("sha256:w", "prompt", base)[0]
    assert key != generation_key("sha256:other", "prompt", base)[0]
    assert key != generation_key("sha256:w", "prompt!", base)[0]
    assert key != generation_key("sha256:w", "prompt", {**base, "max_new_tokens": 65})[0]
    sampled = {**base, "temperature": 0.7}
    k1, ok1 = generation_key("sha256:w", "prompt", sampled)
    assert not ok1 and k1 != generation_key("sha256:w", "prompt", sampled)[0]  # never reused
    assert generation_key("sha256:w", "prompt", {**sampled, "seed": 1})[1]  # a fixed seed makes it reusable


def test_cell_magic_prompt_blocks():
    cell = "[plain]\nQ: {question}\n---\nAnswer briefly.\n{question}\n---\n\n"
    assert grid_prompts(cell) == {"plain": "Q: {question}", "p2": "Answer briefly.\n{question}"}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"prompts": "Q: {query}"}, r"Prompt 'p1' uses \{query\}, which the rows do not have \(row 1\)\. "
                                    r"Columns: question, answer\."),
        ({"prompts": []}, "at least one prompt template"),
        ({"prompts": {"a": "  "}}, "at least one prompt template"),
        ({"models": []}, "at least one model"),
        ({"metrics": ["chrf", "blue"]}, r"Unknown metric 'blue'.*'bleu'"),
        ({"reference": None, "metrics": ["chrf"]}, "name the reference column"),
        ({"reference": "gold"}, r"Reference column 'gold' is missing.*question, answer"),
        ({"params": {"temperatur": 1}}, "Unknown generation parameter"),
        ({"models": ["smollm2-13"]}, r"Unknown model 'smollm2-13'\. Did you mean 'smollm2-135m'"),
    ],
)  # fmt: skip
def test_bad_input_is_named_and_nothing_is_saved(kwargs, message):
    args = {"prompts": "Q: {question}", "models": "smollm2-135m", "rows": ROWS, "reference": "answer", **kwargs}
    with pytest.raises(WorkbenchError, match=message):
        workbench.grid(args.pop("prompts"), args.pop("models"), args.pop("rows"), **args)
    assert nothing_saved()


def test_empty_reference_is_refused():
    rows = [dict(ROWS[0]), {"question": "Q2", "answer": ""}]
    with pytest.raises(WorkbenchError, match="Row 2 has an empty reference in column 'answer'"):
        workbench.grid("Q: {question}", rows=rows, reference="answer")
    assert nothing_saved()


# ---- the real model ----------------------------------------------------------------------------------
@pytest.mark.integration
@needs_model
def test_grid_runs_caches_and_shows_its_cells(capsys):
    prompts = {"plain": "{question}", "brief": "Answer in one word. {question}"}
    first = workbench.grid(prompts, "smollm2-135m", ROWS, reference="answer", metrics=["f1", "chrf"], params=TINY)
    assert "4 generations: 0 from the cache, 4 generated." in capsys.readouterr().out
    assert len(first.frame) == 4 and len(first.cells) == 2
    assert set(first.frame.columns) >= {"row", "prompt", "model", "params", "prediction", "reference", "f1", "chrf"}
    runs = Store().runs()
    assert len(runs) == 2 and (runs["status"] == "complete").all() and set(runs["task"]) == {"grid"}
    assert set(runs["prompt_template"]) == set(prompts.values())
    samples = Store().samples(first.cells["run_id"][0])
    assert list(samples["doc_id"]) == [0, 1] and samples["prompt"][0][-1]["content"] == ROWS[0]["question"]
    assert len(Store().generations()) == 4

    # edit one prompt: only its cell is generated again
    edited = {"plain": "{question}", "brief": "Reply with one word only. {question}"}
    second = workbench.grid(edited, "smollm2-135m", ROWS, reference="answer", metrics=["f1", "chrf"], params=TINY)
    assert (second.from_cache, second.generated) == (2, 2)
    plain = second.cells.set_index("prompt").loc["plain"]
    assert plain["from_cache"] == 2 and plain["generated"] == 0
    assert list(second.outputs("plain")["prediction"]) == list(first.outputs("plain")["prediction"])

    fig = second.figure("chrf")
    heat = fig.data[0]
    assert heat.type == "heatmap" and list(heat.y) == ["plain", "brief"] and list(heat.x) == ["smollm2-135m"]
    assert "n = %{customdata[0]}" in heat.hovertemplate and "95% CI" in heat.hovertemplate
    html = second.outputs_html("plain", "smollm2-135m")
    assert "Is &lt;b&gt;this&lt;/b&gt; bold?" in html and "<b>this</b>" not in html
    browser = workbench.grid_browser(second)
    browser.children[0].value = browser.children[0].options[1][1]
    assert "Reply with one word only." in browser.children[1].value
    with pytest.raises(WorkbenchError, match="No cell with prompt 'nope'"):
        second.outputs("nope")


@pytest.mark.integration
@needs_model
def test_sampling_is_cached_only_with_a_seed():
    rows = ROWS[:1]
    hot = {"temperature": 0.9, "max_new_tokens": 2}
    workbench.grid("{question}", rows=rows, params=hot)
    assert workbench.grid("{question}", rows=rows, params=hot).from_cache == 0
    workbench.grid("{question}", rows=rows, params={**hot, "seed": 3})
    seeded = workbench.grid("{question}", rows=rows, params={**hot, "seed": 3})
    assert (seeded.from_cache, seeded.generated) == (1, 0)


@pytest.mark.integration
@needs_model
def test_grid_cell_magic_with_rows_from_a_variable(capsys):
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    ip.user_ns["qa_rows"] = ROWS[:1]
    shown = []
    ip.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    ip.run_cell_magic("llm_grid", "--rows qa_rows --reference answer --metrics exact_match -p max_new_tokens=2",
                      "[q]\n{question}\n")  # fmt: skip
    kinds = [k for d in shown for k in d]
    assert "application/vnd.plotly.v1+json" in kinds
    result = ip.user_ns["_grid"]
    assert list(result.cells["prompt"]) == ["q"] and result.metrics == ["exact_match"]
    assert Store().runs().iloc[0]["command"].startswith("%%llm_grid --rows qa_rows")
    ip.run_cell_magic("llm_grid", "--rows qa_rows", "{nothere}")
    assert "uses {nothere}, which the rows do not have" in capsys.readouterr().err
