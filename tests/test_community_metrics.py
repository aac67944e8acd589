"""Hugging Face ``evaluate`` metrics where our metric names are accepted: metric scripts the tests write, scored per
item or on the corpus, recorded with their source and hash, compared run against run; clear messages for a hub name
that cannot be downloaded, a script that raises and one that returns no number. No model, no server, no network."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from workbench import cli
from workbench.errors import WorkbenchError
from workbench.metrics import catalog
from workbench.store import Store

from .conftest import needs_model

pytest.importorskip("evaluate")

HEADER = '''import datasets
import evaluate

FEATURES = datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")})


def overlap(prediction, reference):
    """Share of the reference's distinct characters that the prediction has."""
    return len(set(prediction) & set(reference)) / max(1, len(set(reference)))

'''
CLASS = """
class {name}(evaluate.Metric):
{extra}
    def _info(self):
        return evaluate.MetricInfo(description="{name}: a test metric", citation="", inputs_description="",
                                   features=FEATURES)

    def _compute(self, predictions, references):
{body}
"""
SCRIPTS = {
    # the mean of per-item character overlaps
    "char_overlap": ("", "        return {'overlap': sum(map(overlap, predictions, references)) / len(predictions)}"),
    # two numbers: one column each
    "char_sets": (
        "",
        "        n = len(predictions)\n"
        "        return {'recall': sum(map(overlap, predictions, references)) / n,\n"
        "                'precision': sum(map(overlap, references, predictions)) / n, 'note': 'sets'}",
    ),
    # declared corpus-level: shared characters over all reference characters (not a mean of items)
    "pooled_overlap": (
        "    corpus_level = True\n",
        "        shared = sum(len(set(p) & set(r)) for p, r in zip(predictions, references))\n"
        "        return {'pooled': shared / sum(len(set(r)) for r in references)}",
    ),
    # cannot score one item: computed on the corpus instead
    "spread": (
        "",
        "        if len(predictions) < 2:\n"
        "            raise ValueError('spread needs two items or more')\n"
        "        lengths = [len(p) for p in predictions]\n"
        "        return {'spread': float(max(lengths) - min(lengths))}",
    ),
    "broken": ("", "        raise RuntimeError('the reference tokenizer is not configured')"),
    "wordy": ("", "        return {'verdict': 'good', 'level': ['high']}"),
}
ROWS = [
    {"id": "a", "system": "x", "pred": "abc", "gold": "abcd"},  # 3 of 4
    {"id": "b", "system": "x", "pred": "hello", "gold": "help"},  # h, e, l of h, e, l, p: 3 of 4
    {"id": "c", "system": "x", "pred": "zz", "gold": "xy"},  # 0 of 2
    {"id": "a", "system": "y", "pred": "abcd", "gold": "abcd"},  # 4 of 4
    {"id": "b", "system": "y", "pred": "hep", "gold": "help"},  # 3 of 4
    {"id": "c", "system": "y", "pred": "x", "gold": "xy"},  # 1 of 2
]
X_OVERLAP, Y_OVERLAP = [0.75, 0.75, 0.0], [1.0, 0.75, 0.5]


@pytest.fixture
def scripts(tmp_path, monkeypatch) -> Iterator[dict[str, Path]]:
    """The metric scripts, in a folder of their own; any network connection fails the test."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    paths = {}
    for name, (extra, body) in SCRIPTS.items():
        title = "".join(part.title() for part in name.split("_"))
        paths[name] = folder / f"{name}.py"
        paths[name].write_text(HEADER + CLASS.format(name=title, extra=extra, body=body))

    tried: list[tuple] = []

    def no_network(*args, **kwargs):
        tried.append(args)
        raise OSError("the tests allow no network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    yield paths
    assert not tried, f"a community metric tried the network: {tried}"


def score(metric: str, rows=ROWS, **kwargs):
    return workbench.score(rows, [metric], prediction="pred", reference="gold", **kwargs)


def test_a_metric_script_scores_each_item(scripts):
    result = score(str(scripts["char_overlap"]), by="system")
    column = "evaluate:char_overlap"
    assert list(result.samples[column]) == pytest.approx(X_OVERLAP + Y_OVERLAP)
    x, y = result.metrics["x"], result.metrics["y"]
    assert x[column] == pytest.approx(0.5) and y[column] == pytest.approx(0.75)
    assert x[f"{column}_stderr"] == pytest.approx(0.25)  # sd 0.433 over sqrt(3)
    lo, hi = x[f"{column}_ci95"]
    assert lo == pytest.approx(0.5 - 1.96 * 0.25, abs=1e-3) and hi == pytest.approx(0.5 + 1.96 * 0.25, abs=1e-3)
    assert set(result.summary()["metric"]) == {column} and Store().runs().empty


def test_a_metric_with_several_numbers_gets_a_column_each(scripts):
    result = score(str(scripts["char_sets"]))
    recall, precision = "evaluate:char_sets.recall", "evaluate:char_sets.precision"
    assert list(result.samples[recall]) == pytest.approx(X_OVERLAP + Y_OVERLAP)
    assert result.samples[precision].iloc[0] == pytest.approx(1.0)  # every character of 'abc' is in 'abcd'
    assert result.samples[precision].iloc[1] == pytest.approx(0.75)  # h, e, l of h, e, l, o
    assert {recall, precision} <= set(result.summary()["metric"])  # the string 'note' is no metric
    assert "evaluate:char_sets.note" not in result.metrics["pred"]


def test_a_folder_holding_the_script_names_it_too(scripts, tmp_path):
    folder = tmp_path / "char_overlap"
    folder.mkdir()
    (folder / "char_overlap.py").write_text(scripts["char_overlap"].read_text())
    assert score(str(folder)).metrics["pred"]["evaluate:char_overlap"] == pytest.approx(0.625)


def test_lang_reaches_a_metric_that_takes_it(scripts):
    path = scripts["char_overlap"].with_name("by_lang.py")
    text = scripts["char_overlap"].read_text().replace("CharOverlap", "ByLang")
    path.write_text(
        text.replace(
            "def _compute(self, predictions, references):", "def _compute(self, predictions, references, lang=None):"
        ).replace(
            "        return {'overlap'", "        return {'korean': float(lang == 'ko')}\n        return {'overlap'"
        )
    )
    assert score(str(path), lang="ko").metrics["pred"]["evaluate:by_lang"] == 1.0
    assert score(str(path)).metrics["pred"]["evaluate:by_lang"] == 0.0


def test_a_corpus_level_metric_is_computed_once_over_all_items(scripts, capsys):
    result = score(str(scripts["pooled_overlap"]), by="system")
    column = "evaluate:pooled_overlap"
    assert column not in result.samples  # no per-item values
    assert result.metrics["x"][column] == pytest.approx(6 / 10)  # 3 + 3 + 0 of 4 + 4 + 2: not the mean 0.5
    assert result.metrics["y"][column] == pytest.approx(8 / 10)
    assert result.metrics["x"][f"{column}_signature"].endswith("|level:corpus|ci:bootstrap-1000")
    lo, hi = result.metrics["x"][f"{column}_ci95"]  # resamples of 3 items: from all 'zz' (0) to no 'zz' (0.75)
    assert 0.0 <= lo < 0.6 < hi <= 0.75
    assert capsys.readouterr().err == ""  # declared corpus-level, with an interval: nothing to point out


def test_a_slow_corpus_metric_has_no_interval_and_says_so(scripts, capsys):
    slow = scripts["pooled_overlap"].with_name("slow_pooled.py")
    slow.write_text(
        scripts["pooled_overlap"]
        .read_text()
        .replace("        shared =", "        __import__('time').sleep(0.01)\n        shared =")
    )
    metrics = score(str(slow)).metrics["pred"]
    assert metrics["evaluate:slow_pooled"] == pytest.approx(14 / 20)
    assert metrics["evaluate:slow_pooled_signature"].endswith("|level:corpus|ci:none")
    assert "evaluate:slow_pooled_ci95" not in metrics
    err = capsys.readouterr().err
    assert "evaluate:slow_pooled was computed once over all 6 items (it is declared corpus-level)" in err
    assert "no interval: one computation took" in err


def test_a_metric_that_cannot_score_one_item_is_scored_on_the_corpus(scripts, capsys):
    result = score(str(scripts["spread"]), by="system")
    assert result.metrics["x"]["evaluate:spread"] == 3.0 and result.metrics["y"]["evaluate:spread"] == 3.0
    err = capsys.readouterr().err
    assert "evaluate:spread was computed once over all 3 items" in err and "spread needs two items or more" in err


def test_the_run_records_the_metric_its_script_and_hash(scripts):
    path = scripts["char_overlap"]
    result = score(str(path), save=True, name="overlaps")
    run = Store().run(result.run_ids["pred"])
    signature = run["metrics"]["evaluate:char_overlap_signature"]
    import evaluate

    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert signature == f"evaluate:char_overlap|source:{path}|sha256:{sha}|evaluate:{evaluate.__version__}|level:item"
    assert run["config"]["metrics"] == [str(path)]  # the call repeats as it was made
    path.write_text(path.read_text().replace("/ len(predictions)", "/ len(predictions) / 2"))  # an edited script
    edited = score(str(path)).metrics["pred"]
    assert edited["evaluate:char_overlap"] == pytest.approx(0.625 / 2)
    assert hashlib.sha256(path.read_bytes()).hexdigest() in edited["evaluate:char_overlap_signature"]


def test_two_runs_scored_with_a_script_compare_item_by_item(scripts):
    path = str(scripts["char_overlap"])
    result = score(path, by="system", key="id", save=True)
    c = workbench.compare(result.run_ids["x"], result.run_ids["y"], metric=path)  # the path names its column
    assert c.metric == "evaluate:char_overlap" and c.n_shared == 3
    assert c.bootstrap.diff == pytest.approx(0.25) and list(c.items["diff"]) == pytest.approx([0.25, 0.0, 0.5])
    corpus = score(str(scripts["pooled_overlap"]), by="system", key="id", save=True, name="pooled")
    with pytest.raises(WorkbenchError, match="'evaluate:pooled_overlap' is not scored per item in both runs"):
        workbench.compare(corpus.run_ids["x"], corpus.run_ids["y"], metric="evaluate:pooled_overlap")


def test_a_grid_checks_its_evaluate_metrics_before_it_generates(scripts, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WorkbenchError, match="evaluate:surely_not_a_metric_xyz could not be downloaded"):
        workbench.grid(
            "Q: {q}", rows=[{"q": "1+1?", "a": "2"}], reference="a", metrics=["evaluate:surely_not_a_metric_xyz"]
        )
    with pytest.raises(WorkbenchError, match="compare outputs with a reference"):
        workbench.grid("Q: {q}", rows=[{"q": "1+1?", "a": "2"}], metrics=[str(scripts["char_overlap"])])
    assert Store().runs().empty and Store().generations().empty


@pytest.mark.integration
@needs_model
def test_a_grid_scores_its_cells_with_a_metric_script(scripts):
    rows = [{"q": "What is the capital of France?", "a": "Paris"}, {"q": "Name a colour.", "a": "blue"}]
    path = str(scripts["char_sets"])
    result = workbench.grid(
        {"plain": "{q}", "brief": "One word: {q}"},
        rows=rows,
        reference="a",
        metrics=[path],
        params={"max_new_tokens": 4},
    )
    columns = ["evaluate:char_sets.recall", "evaluate:char_sets.precision"]
    assert result.metrics == columns and set(columns) <= set(result.frame.columns)
    for record in result.frame.to_dict(orient="records"):  # each item's value is the script's, by hand
        prediction, reference = record["prediction"], record["reference"]
        shared = len(set(prediction) & set(reference))
        assert record[columns[0]] == pytest.approx(shared / len(set(reference)))
        assert record[columns[1]] == pytest.approx(shared / max(1, len(set(prediction))))
    cell = result.cells.iloc[0]
    assert cell[columns[0]] == pytest.approx(result.frame[result.frame["prompt"] == cell["prompt"]][columns[0]].mean())
    a, b = result.cells["run_id"]
    assert workbench.compare(a, b, metric=columns[0]).n_shared == 2


def test_a_script_that_raises_is_named_with_its_message(scripts):
    with pytest.raises(WorkbenchError, match=r"evaluate:broken raised: RuntimeError: the reference tokenizer is not"):
        score(str(scripts["broken"]), by="system", save=True)
    assert Store().runs().empty  # nothing saved


def test_a_metric_that_returns_no_number_is_refused(scripts):
    with pytest.raises(WorkbenchError, match=r"evaluate:wordy returned no number .*'verdict': 'good'.*dict of numbers"):
        score(str(scripts["wordy"]))


def test_a_hub_metric_that_cannot_be_downloaded_names_the_fix(scripts, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WorkbenchError) as e:
        score("evaluate:surely_not_a_metric_xyz")
    message = str(e.value)
    assert "evaluate:surely_not_a_metric_xyz could not be downloaded" in message
    assert "seems offline (HF_HUB_OFFLINE is set)" in message and "path of a local metric script" in message
    assert "run once online" in message
    Path("rows.json").write_text('[{"prediction": "a", "reference": "a"}]')
    assert cli.main(["score", "rows.json", "--metrics", "evaluate:surely_not_a_metric_xyz"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: Metric evaluate:surely_not_a_metric_xyz could not be downloaded")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_offline_a_hub_metric_loads_from_evaluates_cache(scripts, monkeypatch, tmp_path):
    import evaluate

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(evaluate.config, "HF_MODULES_CACHE", tmp_path / "modules")
    cached = tmp_path / "modules/evaluate_modules/metrics/evaluate-metric--char_overlap/0a1b2c/char_overlap.py"
    cached.parent.mkdir(parents=True)
    cached.write_text(scripts["char_overlap"].read_text())  # as evaluate keeps a metric it downloaded once
    metrics = score("evaluate:char_overlap").metrics["pred"]
    assert metrics["evaluate:char_overlap"] == pytest.approx(0.625)
    sha = hashlib.sha256(cached.read_bytes()).hexdigest()
    assert metrics["evaluate:char_overlap_signature"].startswith("evaluate:char_overlap|source:hub:char_overlap|hash:")
    assert f"|sha256:{sha}|" in metrics["evaluate:char_overlap_signature"]


def test_names_that_are_no_metric(scripts, tmp_path):
    with pytest.raises(WorkbenchError, match=r"Unknown metric 'blue'\. Did you mean 'bleu'.*evaluate:NAME"):
        catalog.check_metrics(["blue"])
    with pytest.raises(WorkbenchError, match=r"No metric script at .*missing\.py"):
        score(str(tmp_path / "missing.py"))
    twin = tmp_path / "twin" / "char_overlap.py"
    twin.parent.mkdir()
    twin.write_text(scripts["char_overlap"].read_text())
    with pytest.raises(WorkbenchError, match="would both be recorded as 'evaluate:char_overlap'"):
        catalog.check_metrics([str(scripts["char_overlap"]), str(twin)])
