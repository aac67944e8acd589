"""Output made for where it is shown: a terminal gets text in 100 columns, a notebook a table with scores as
'0.60 ± 0.11 [0.38, 0.82]'; the Python API keeps its numbers. No model runs here."""

from __future__ import annotations

import pandas as pd
import pytest

import workbench
from workbench import cli, tables
from workbench.charts import metric_bars
from workbench.store import Store
from workbench.views import text

ARC = {"n": 20, "acc": 0.6, "acc_stderr": 0.11, "acc_ci95": [0.38, 0.82], "acc_norm": 0.55,
       "acc_norm_stderr": 0.114, "acc_norm_ci95": [0.33, 0.77]}  # fmt: skip
WIKITEXT = {"n": 2, "token_perplexity": 41.2, "word_perplexity": 180.7, "byte_perplexity": 2.31,
            "bits_per_byte": 1.21, "totals": {"tokens": 900, "words": 700, "bytes": 4100}}  # fmt: skip
PAIRWISE = {"n": 8, "win_rate": 0.5, "loss_rate": 0.25, "win_rate_adjusted": 0.625,
            "win_rate_adjusted_ci95": [0.4, 0.85], "position_bias": 0.25, "wins": 4, "losses": 2, "ties": 1,
            "inconsistent": 1, "unparseable": 0}  # fmt: skip
API_USAGE = {"n": 3, "answered": 1.0, "answered_stderr": 0.0, "answered_ci95": [1.0, 1.0],
             "usage": {"calls": 6, "prompt_tokens": 66, "completion_tokens": 18, "cost_usd": 0.000051}}  # fmt: skip
LONG_MODEL = "openai:Qwen/Qwen2.5-1.5B-Instruct@http://127.0.0.1:8000/v1"


def saved(task: str, model: str, metrics: dict | None, n_items: int = 20, command: str = "") -> str:
    """A run in the project store with these metrics (None: left running)."""
    store = Store()
    run_id = store.create_run(
        run_key=f"k{len(store.runs())}", task=task, model=model, model_identity={"fingerprint": f"sha256:{model}"},
        data_source="file:x.jsonl", data_fingerprint="sha256:x", prompt_template="", config={}, versions={},
        command=command or f"workbench eval {task} --model {model} --limit {n_items}", n_items=n_items,
    )  # fmt: skip
    if metrics is not None:
        store.finish_run(run_id, metrics)
    return run_id


def width(out: str) -> int:
    return max(len(line) for line in out.splitlines())


# ---- the Python API keeps numbers ---------------------------------------------------------------------------
def test_runs_table_has_each_runs_headline_metric_as_numbers():
    arc = saved("arc_easy", "smollm2-135m", ARC)
    wiki = saved("wikitext", "smollm2-135m", WIKITEXT, n_items=2)
    pair = saved("judge:pairwise", "smollm2-135m", PAIRWISE, n_items=8)
    api = saved("mt_bench", "openai:gpt-4o-mini", API_USAGE, n_items=3)
    running = saved("gsm8k", "smollm2-135m", None, n_items=5)
    runs = workbench.runs().set_index("run_id")
    assert "acc" not in runs.columns and "acc_norm" not in runs.columns  # no NaN columns for other tasks
    assert runs.loc[arc, ["metric", "value", "stderr"]].tolist() == ["acc", 0.6, 0.11]
    assert runs.loc[wiki, "metric"] == "word_perplexity" and runs.loc[wiki, "value"] == 180.7  # the task's own
    assert runs.loc[pair, "metric"] == "win_rate_adjusted"  # the one saved with an interval
    assert runs.loc[api, "tokens"] == 84 and runs.loc[api, "cost_usd"] == pytest.approx(0.000051)
    assert pd.isna(runs.loc[running, "metric"]) and pd.isna(runs.loc[running, "scored"])
    assert str(runs["items"].dtype) == "Int64" and str(runs["scored"].dtype) == "Int64"
    assert runs["value"].dtype == float and runs["tokens"].dtype == "Int64"


def test_summary_stays_numeric():
    table = tables.metrics_table({"task": "arc_easy", "model": "m", "run_id": "r1", "metrics": ARC})
    assert table["value"].dtype == float and table["ci95_low"].dtype == float


# ---- what a person sees --------------------------------------------------------------------------------------
def test_scores_read_value_stderr_and_interval():
    table = tables.metrics_table({"task": "arc_easy", "model": "m", "run_id": "r1", "metrics": ARC})
    view = text.shown(table)
    assert list(view["value ± se [95% CI]"]) == ["0.60 ± 0.11 [0.38, 0.82]", "0.55 ± 0.11 [0.33, 0.77]"]
    assert "stderr" not in view.columns and "ci95_low" not in view.columns
    assert view["n"].tolist() == ["20", "20"]  # a whole number, not 20.000000
    assert text.with_interval(0.98, 0.004, 0.972, 0.988) == "0.980 ± 0.004 [0.972, 0.988]"  # se not 0.00
    assert [text.number(x) for x in (3.0, 0.5, 180.74, 12345.6, 0.000051, 0.0012, None)] == [
        "3", "0.50", "180.7", "12346", "0.000051", "0.0012", "",
    ]  # fmt: skip


def test_empty_columns_are_left_out():
    local = pd.DataFrame({"metric": ["acc"], "value": [0.5], "tokens": [None], "cost_usd": [float("nan")]})
    assert list(text.shown(local).columns) == ["metric", "value"]


def test_grid_cells_and_win_rates_read_the_same_way():
    cells = pd.DataFrame({"prompt": ["bare"], "chrf": [41.234], "chrf_ci95_low": [35.1], "chrf_ci95_high": [47.9]})
    assert text.shown(cells)["chrf [95% CI]"].tolist() == ["41.2 [35.1, 47.9]"]
    wins = pd.DataFrame({"category": ["overall"], "win_rate_adjusted": [0.625], "ci95_low": [0.4], "ci95_high": [0.85]})
    assert text.shown(wins)["win_rate_adjusted [95% CI]"].tolist() == ["0.62 [0.40, 0.85]"]


def test_workbench_runs_fits_100_columns(capsys):
    for task, metrics in (("arc_easy", ARC), ("wikitext", WIKITEXT), ("judge:pairwise", PAIRWISE)):
        saved(task, LONG_MODEL, metrics, command="workbench eval " + task + " --model x" * 20)
    saved("kobest_hellaswag", "smollm2-135m", {"n": 3, "acc": 1.0}, n_items=5)  # stopped after 3 of 5
    assert cli.main(["runs"]) == 0
    out = capsys.readouterr().out
    assert width(out) <= 100, out
    assert "acc 0.60 ± 0.11" in out and "word_perplexity 180.7" in out and "3/5" in out
    assert "NaN" not in out and "<NA>" not in out and "tokens" not in out and "cost" not in out
    saved("mt_bench", "openai:gpt-4o-mini", API_USAGE, n_items=3)
    assert cli.main(["runs"]) == 0
    out = capsys.readouterr().out
    assert width(out) <= 100 and "tokens" in out and " 84 " in out


def test_workbench_tasks_fits_100_columns_without_loading_data(capsys, monkeypatch):
    import workbench.data

    def no_loading(*args, **kwargs):
        raise AssertionError("the task list loaded rows")

    monkeypatch.setattr(workbench.data, "load_rows", no_loading)
    monkeypatch.setattr(workbench.data.sources, "load_rows", no_loading)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", "/some/mirror")
    assert cli.main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert width(out) <= 100, out
    assert "/some/mirror" in out.splitlines()[0]
    table = out.split("\n\n")[1].splitlines()  # heading, table, notes, suites: blocks apart by blank lines
    listed = {line.split()[0]: line.split()[1] for line in table[1:]}
    assert listed["arc_easy"] == "2376" and listed["arc_challenge"] == "1172" and listed["flores:en-ko"] == "1012"
    assert listed["wikitext"] == "62" and listed["mmlu:<subject>"] == "100-1534" and "mmlu:anatomy" not in listed
    assert listed["kmmlu:<subject>"] == "100-1000" and "kmmlu:korean_history" not in listed
    assert "<NA>" not in out and "anatomy" in out and "korean_history" in out  # subjects are named below the table
    frame = workbench.list_tasks()
    assert frame["size"].notna().all() and (frame["mirror"] != "").all()
    monkeypatch.delenv("WORKBENCH_DATA_DIR")
    assert cli.main(["tasks"]) == 0
    assert "Hugging Face hub" in capsys.readouterr().out.splitlines()[0]


def test_text_shortens_the_widest_text_column():
    table = pd.DataFrame({"name": ["x" * 150, "short"], "count": ["12", "3"]})
    out = text.as_text(table, width=40)
    assert width(out) <= 40 and "…" in out and out.splitlines()[2].endswith(" 3")


# ---- the magics display formatted tables ---------------------------------------------------------------------
def test_magics_show_formatted_tables(capsys):
    from IPython.testing.globalipapp import get_ipython

    saved("arc_easy", "smollm2-135m", ARC)
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    shown = []
    ip.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    listed = ip.run_line_magic("llm_runs", "")
    assert listed.iloc[0]["score"] == "acc 0.60 ± 0.11" and listed.iloc[0]["status"] == "complete"
    assert ip.run_line_magic("llm_eval", "--list") is None
    plain = "".join(d.get("text/plain", "") for d in shown)
    assert "mmlu:<subject>" in plain and "about" in plain
    assert "MMLU's 57 subjects" in capsys.readouterr().out


# ---- charts -----------------------------------------------------------------------------------------------------
def test_perplexities_get_their_own_axes_rates_share_one():
    wiki = tables.metrics_table({"task": "wikitext", "model": "m", "run_id": "r1", "metrics": WIKITEXT})
    fig = metric_bars(wiki)
    axes = {trace.yaxis for trace in fig.data}
    assert len(axes) == len(wiki) == 4  # word perplexity ~180 and bits per byte ~1.2 never share an axis
    assert [a.text for a in fig.layout.annotations] == list(wiki["metric"])
    arc = tables.metrics_table({"task": "arc_easy", "model": "m", "run_id": "r1", "metrics": ARC})
    fig = metric_bars(arc)
    assert len(fig.data) == 1 and list(fig.data[0].x) == ["acc", "acc_norm"] and fig.layout.yaxis.range == (0, 1)


def test_workbench_eval_loads_the_table_library_only_after_the_evaluation():
    """pandas (about 70 MB resident) formats the printed table; imported before the evaluation it sat beside the
    model through the whole run and put 5-shot GSM8K's peak over 1.5 GB."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from workbench import cli, commands\n"
        "def evaluate(args, command):\n"
        "    print('pandas loaded:', 'pandas' in sys.modules)\n"
        "    raise SystemExit(0)\n"
        "commands.evaluate = evaluate\n"
        "cli.main(['eval', 'arc_easy', '--limit', '1'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "pandas loaded: False" in out.stdout, out.stdout + out.stderr
