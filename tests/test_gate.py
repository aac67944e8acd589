"""The regression gate (`workbench check`): rules held against runs written through the store API with known
per-item correctness, so each outcome can be checked by hand; spec errors naming line and field; JUnit XML; the
CLI's exit codes. One integration test runs a real check on smollm2-135m."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET

import pytest
from scipy.stats import binomtest

import workbench
from workbench import cli
from workbench.errors import WorkbenchError
from workbench.store import Store

from .conftest import needs_mirror, needs_model

# 20 items: the baseline answers the first 12 right (0.60); "worse" only the first 4 (0.20): 8 items went from
# right to wrong and none the other way, so every bootstrap resample's difference is <= 0
BASE = [1] * 12 + [0] * 8
WORSE = [1] * 4 + [0] * 16


def saved_run(values, *, ci=(0.38, 0.82), prompt="Question: q{i}\nAnswer:") -> str:
    """A complete arc_easy run with these per-item acc values (acc_norm the same), written through the store."""
    store = Store()
    records = [
        {"doc_id": i, "acc": float(v), "acc_norm": float(v), "prompt": prompt.format(i=i), "item_fp": f"fp{i:04d}"}
        for i, v in enumerate(values)
    ]
    run_id = store.create_run(
        run_key=uuid.uuid4().hex, task="arc_easy", model="smollm2-135m", model_identity={"fingerprint": "sha256:w"},
        data_source="file:rows.jsonl", data_fingerprint="sha256:d", prompt_template="Question: {question}\nAnswer:",
        config={"limit": len(values), "shots": 0}, versions={}, command="test", n_items=len(values),
    )  # fmt: skip
    store.add_samples(run_id, records)
    mean = sum(values) / len(values)
    store.finish_run(run_id, {"n": len(values), "acc": mean, "acc_ci95": list(ci), "acc_norm": mean})
    return run_id


def write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def rows(result) -> dict[tuple[str, str], dict]:
    return {(r["metric"], r["rule"]): r for r in result.table().to_dict("records")}


# ---- the rules, by hand --------------------------------------------------------------------------------------
def test_paired_rules_against_a_stored_run(project):
    base, same, worse = saved_run(BASE), saved_run(BASE), saved_run(WORSE)
    spec = {
        "tasks": [{"run": same}, {"run": worse}],
        "baseline": {"run": base[:5]},  # a prefix names the run
        "rules": {"acc": {"not_worse": 0.02, "floor": 0.55}},
    }
    result = workbench.check(spec)
    assert not result.passed and result.exit_code == 1
    table = result.table()
    assert list(table["result"]) == ["PASS", "PASS", "FAIL", "FAIL"]
    held, dropped = table.iloc[0], table.iloc[2]
    # identical items: the difference is 0 in every resample
    assert (held["candidate"], held["baseline"], held["difference"]) == (0.6, 0.6, 0.0)
    assert (held["ci95_low"], held["ci95_high"]) == (0.0, 0.0) and held["items"] == 20
    # 8 of 20 items right -> wrong: 0.20 - 0.60 = -0.40, and the interval's upper end is far below -0.02
    assert dropped["difference"] == pytest.approx(-0.40) and dropped["ci95_high"] < -0.02
    assert dropped["why"] == "CI below -0.020" and dropped["against"] == f"run {base}"
    mcnemar = binomtest(0, 8, 0.5).pvalue  # 2 * 0.5**8
    assert f"McNemar exact p = {mcnemar:.3g}" in dropped["detail"]
    floor = table.iloc[3]  # 0.20 < 0.55
    assert (floor["candidate"], floor["why"]) == (0.2, "< 0.55") and table.iloc[1]["why"] == ">= 0.55"
    assert [o.run_id for o in result.failures] == [worse, worse]


def test_unquoted_run_ids_of_digits_name_the_run_as_written(project, monkeypatch):
    """YAML reads `run: 60825201` as a number and `run: 01234567` as octal 342391; both name their run."""
    ids = iter(["01234567" + "0" * 24, "60825201" + "0" * 24])
    monkeypatch.setattr("workbench.store.runs.uuid", type("U", (), {"uuid4": lambda: uuid.UUID(next(ids))}))
    octal, decimal = saved_run(BASE), saved_run(WORSE)
    assert (octal, decimal) == ("01234567", "60825201")
    spec = "tasks:\n  - run: 60825201\nbaseline: {run: 01234567}\nrules:\n  acc: {not_worse: 0.02}\n"
    result = workbench.check(write(project / "gate.yaml", spec))
    (row,) = result.table().to_dict("records")
    assert row["against"] == "run 01234567" and row["difference"] == pytest.approx(-0.40)


def test_not_worse_tolerates_a_drop_within_the_tolerance(project):
    base = saved_run(BASE)
    one_less = saved_run([1] * 11 + [0] * 9)  # one item right -> wrong: -0.05, interval [-0.15, 0]
    spec = {"run": one_less, "baseline": {"run": base}, "rules": {"acc": {"not_worse": 0.0}}}
    row = workbench.check(spec).table().iloc[0]
    assert row["difference"] == pytest.approx(-0.05) and row["ci95_high"] == 0.0
    assert row["result"] == "PASS"  # the interval reaches 0: the drop is not significant


def test_floor_and_ceiling(project):
    run = saved_run(BASE)  # acc 0.60
    result = workbench.check({"run": run, "rules": {"acc": {"floor": 0.65}, "acc_norm": {"ceiling": 0.7}}})
    assert [(o.rule.label, o.passed, o.reason) for o in result.outcomes] == [
        ("floor 0.65", False, "< 0.65"),
        ("ceiling 0.7", True, "<= 0.7"),
    ]
    assert "acc = 0.600, below the floor 0.65." in result.summary()


@pytest.mark.parametrize(
    "value, tolerance, passed",
    [(0.90, 0.05, False), (0.85, 0.02, False), (0.85, 0.05, True), (0.60, 0.0, True)],
)
def test_a_value_baseline_holds_the_candidates_interval(project, value, tolerance, passed):
    # recorded interval [0.38, 0.82]: fails exactly when 0.82 < value - tolerance
    run = saved_run(BASE)
    spec = {"run": run, "baseline": {"value": value}, "rules": {"acc": {"not_worse": tolerance}}}
    row = workbench.check(spec).table().iloc[0]
    assert row["result"] == ("PASS" if passed else "FAIL")
    assert row["baseline"] == value and row["difference"] == pytest.approx(0.60 - value)
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((0.38 - value, 0.82 - value))
    assert row["why"] == f"CI {'reaches' if passed else 'below'} {value - tolerance:.3f}"


# ---- baseline files -------------------------------------------------------------------------------------------
def test_a_saved_baseline_file_pairs_items_like_a_stored_run(project):
    base, worse = saved_run(BASE), saved_run(WORSE)
    saved = workbench.check({"run": base, "rules": {"acc": {"floor": 0.5}}}, save_baseline="baseline.json")
    assert saved.passed and saved.saved_baseline is not None
    document = json.loads((project / "baseline.json").read_text())
    (entry,) = document["entries"]
    assert (entry["task"], entry["model"], entry["run"]["run_id"]) == ("arc_easy", "smollm2-135m", base)
    columns, items = entry["items"]["columns"], entry["items"]["rows"]
    assert columns[:5] == ["doc_id", "item_fp", "prompt_fp", "acc", "acc_norm"]
    assert [r[3] for r in items] == [float(v) for v in BASE] and items[0][1] == "fp0000"
    # one item per line, so a changed baseline diffs item by item
    assert sum(line.strip().startswith("[") for line in (project / "baseline.json").read_text().splitlines()) == 20

    by_file = workbench.check(
        {"run": worse, "baseline": {"file": "baseline.json"}, "rules": {"acc": {"not_worse": 0.02}}}
    )
    by_run = workbench.check({"run": worse, "baseline": {"run": base}, "rules": {"acc": {"not_worse": 0.02}}})
    a, b = by_file.table().iloc[0], by_run.table().iloc[0]
    assert (a["difference"], a["ci95_low"], a["ci95_high"]) == (b["difference"], b["ci95_low"], b["ci95_high"])
    assert a["result"] == "FAIL" and a["against"] == "baseline.json"


def test_a_changed_prompt_is_named_when_compared_with_a_baseline_file(project):
    base = saved_run(BASE)
    workbench.check({"run": base, "rules": {"acc": {"floor": 0}}}, save_baseline="b.json")
    other = saved_run(BASE, prompt="Q: q{i}\nA:")
    result = workbench.check({"run": other, "baseline": "b.json", "rules": {"acc": {"not_worse": 0.02}}})
    assert result.passed and "20 shared items were shown different prompts" in result.outcomes[0].detail


def test_saving_the_baseline_a_spec_names_checks_against_it(project):
    run = saved_run(BASE)
    spec = project / "gate.yaml"
    spec.write_text(f"run: {run}\nbaseline: {{file: out/base.json}}\nrules:\n  acc: {{not_worse: 0.02}}\n")
    with pytest.raises(WorkbenchError, match=r"gate.yaml line 2, baseline.file: no baseline file .*--save-baseline"):
        workbench.check(str(spec), save_baseline="elsewhere.json")  # the spec's file does not exist yet
    assert not (project / "elsewhere.json").exists()  # refused before anything was written
    result = workbench.check(str(spec), save_baseline=project / "out" / "base.json")
    assert result.passed and result.table().iloc[0]["difference"] == 0.0


def test_a_damaged_baseline_file_is_refused(project):
    run = saved_run(BASE)
    (project / "b.json").write_text('{"format": "something else"}')
    with pytest.raises(WorkbenchError, match=r"not a baseline file of this workbench.*--save-baseline"):
        workbench.check({"run": run, "baseline": {"file": "b.json"}, "rules": {"acc": {"not_worse": 0}}})


# ---- output ---------------------------------------------------------------------------------------------------
def test_summary_fits_100_columns_and_names_each_failure(project):
    base, worse = saved_run(BASE), saved_run(WORSE)
    spec = {"tasks": [{"run": worse}], "baseline": {"run": base}, "rules": {"acc": {"not_worse": 0.02}}}
    text = workbench.check(spec).summary()
    assert all(len(line) <= 100 for line in text.splitlines())
    assert text.splitlines()[0].startswith("workbench check (the spec): FAILED: 1 of 1 rules failed")
    assert f"FAIL arc_easy smollm2-135m acc not_worse 0.02 (run {worse})" in text
    assert "-0.400 [" in text and "McNemar" in text


def test_junit_xml_is_well_formed_and_escaped(project):
    base, worse = saved_run(BASE), saved_run(WORSE)
    name = 'gate <script>&"quotes"\x01'
    spec = {"name": name, "tasks": [{"run": base}, {"run": worse}], "baseline": {"run": base},
            "rules": {"acc": {"not_worse": 0.02}}}  # fmt: skip
    result = workbench.check(spec, junit=project / "reports" / "gate.xml")
    root = ET.parse(project / "reports" / "gate.xml").getroot()
    suites = root.findall("testsuite")
    assert len(suites) == 1 and (root.get("tests"), root.get("failures")) == ("2", "1")
    assert root.get("name") == 'gate <script>&"quotes"?'  # escaped, and a character XML cannot hold replaced
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["smollm2-135m: acc not_worse 0.02"] * 2
    assert cases[0].find("failure") is None and cases[1].find("failure") is not None
    assert "CI below -0.020" in cases[1].find("failure").get("message")
    assert not list((project / "reports").glob(".*"))  # no temporary file left behind
    html = result._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "FAIL" in html


# ---- bad input ------------------------------------------------------------------------------------------------
SPEC = """\
model: smollm2-135m
tasks:
  - task: arc_easy
    limit: 100
    baseline: {value: 0.45}
    rules:
      acc: {not_worse: 0.02, floor: 0.40}
"""


MALFORMED = [  # (text replaced, replacement, the message expected)
    ("not_worse: 0.02", "not_wrose: 0.02",
     r"gate.yaml line 7, tasks\[0\].rules.acc.not_wrose: 'not_wrose' is not a rule. Did you mean 'not_worse'"),
    ("task: arc_easy", "task: arc_esay",
     r"gate.yaml line 3, tasks\[0\].task: Unknown task 'arc_esay'. Did you mean 'arc_easy'"),
    ("acc: {", "accc: {", r"line 7, tasks\[0\].rules.accc: arc_easy has no metric 'accc'. Did you mean 'acc'"),
    ("{value: 0.45}", "{run: deadbeef}",
     r"line 5, tasks\[0\].baseline.run: no run with id 'deadbeef' in .*`workbench runs`"),
    ("limit: 100", "limit: -1", r"line 4, tasks\[0\].limit: limit is a whole number of at least 1 \(got -1\)"),
    ("model:", "modle:", r"line 1, modle: unknown field 'modle'. Did you mean .*'model'"),
    ("    limit: 100", "    limit: 100\n    limit: 5", r"gate.yaml line 5, tasks\[0\].limit: given twice"),
    ("rules:", "rules: [", r"gate.yaml line \d+: not valid YAML"),
    ("    baseline: {value: 0.45}\n", "",
     r"line 6, tasks\[0\].rules.acc.not_worse: not_worse compares with a baseline"),
]  # fmt: skip


@pytest.mark.parametrize("old, new, message", MALFORMED)
def test_a_malformed_spec_names_the_line_and_field(project, old, new, message):
    saved_run(BASE)  # a store exists: the missing run is missing from it
    path = write(project / "gate.yaml", SPEC.replace(old, new, 1))
    with pytest.raises(WorkbenchError, match=message):
        workbench.check(path)


def test_other_bad_specs(project):
    with pytest.raises(WorkbenchError, match="No gate spec file 'nope.yaml'"):
        workbench.check("nope.yaml")
    with pytest.raises(WorkbenchError, match="the spec is empty"):
        workbench.check("# nothing\n")
    with pytest.raises(WorkbenchError, match=r"the spec, tasks\[0\].task: arc is a group .*arc_easy, arc_challenge"):
        workbench.check({"tasks": ["arc"], "rules": {"acc": {"floor": 0.1}}})
    with pytest.raises(WorkbenchError, match=r"the spec, tasks\[0\]: no rules"):
        workbench.check({"tasks": ["arc_easy"]})
    with pytest.raises(WorkbenchError, match=r"line 1, model: Unknown model 'smollm2-135m@x'. Did you mean"):
        workbench.check("model: smollm2-135m@x\ntasks: [arc_easy]\nrules: {acc: {floor: 0.1}}\n")
    spec = "tasks:\n  - task: arc_easy\n    models: [smollm2-135m, smollm2-135m@x]\n    rules: {acc: {floor: 0.1}}\n"
    with pytest.raises(WorkbenchError, match=r"line 3, tasks\[0\].models\[1\]: Unknown model 'smollm2-135m@x'"):
        workbench.check(spec)
    with pytest.raises(WorkbenchError, match=r"line 2, tasks\[0\].mode: mode is one of loglikelihood, generate"):
        workbench.check("tasks:\n  - {task: arc_easy, mode: both, rules: {acc: {floor: 0.1}}}\n")


# ---- the CLI ---------------------------------------------------------------------------------------------------
def test_cli_exit_codes(project, capsys):
    base, worse = saved_run(BASE), saved_run(WORSE)
    rule = "rules:\n  acc: {not_worse: 0.02}\n"
    passing = write(project / "pass.yaml", f"run: {base}\nbaseline: {{run: {base}}}\n{rule}")
    failing = write(project / "fail.yaml", f"run: {worse}\nbaseline: {{run: {base}}}\n{rule}")
    bad = write(project / "bad.yaml", f"run: {worse}\nbaseline: {{run: {base}}}\nrules:\n  acc: {{nto_worse: 1}}\n")
    assert cli.main(["check", passing]) == 0
    assert "PASSED: 1 rule hold" in capsys.readouterr().out
    assert cli.main(["check", failing, "--junit", "out.xml"]) == 1
    out = capsys.readouterr().out
    assert "FAILED: 1 of 1 rules failed" in out and "JUnit XML written to out.xml" in out
    assert ET.parse(project / "out.xml").getroot().get("failures") == "1"
    assert cli.main(["check", bad]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("workbench: bad.yaml line 4, rules.acc.nto_worse: 'nto_worse' is not a rule.")
    assert len(err.splitlines()) == 1


# ---- a real check --------------------------------------------------------------------------------------------
@pytest.mark.integration
@needs_model
@needs_mirror
def test_a_real_check_on_the_default_model(project, capsys):
    # 30 items: on 10 the recorded 95% interval of acc reaches 1.0 (0.8 [0.54, 1.0]), so no value could fail it
    gate = project / "gate.yaml"
    gate.write_text(
        "model: smollm2-135m\ntasks:\n  - task: arc_easy\n    limit: 30\n    shots: 0\n"
        "    baseline: {file: baseline.json}\n    rules:\n      acc: {not_worse: 0.02, floor: 0.1}\n"
    )
    assert cli.main(["check", str(gate), "--save-baseline", str(project / "baseline.json")]) == 0
    assert cli.main(["check", str(gate), "--junit", "gate.xml"]) == 0  # the run is reused: the same items
    out = capsys.readouterr().out
    assert "+0.000 [+0.000, +0.000]" in out and "reusing complete run" in out
    assert ET.parse(project / "gate.xml").getroot().get("failures") == "0"
    high = project / "high.yaml"
    high.write_text(gate.read_text().replace("{file: baseline.json}", "{value: 0.99}"))
    assert cli.main(["check", str(high)]) == 1
    out = capsys.readouterr().out
    assert "CI below 0.970" in out and "FAILED: 1 of 2 rules failed" in out
