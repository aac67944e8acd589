"""workbench.diff: every recorded setting that differs between two runs, side by side, with the score difference.

Runs are written through the real lifecycle (lifecycle.save_complete with the config, key and command
api.evaluate builds from the options table) or by workbench.score on a CSV; no model is loaded except in the
integration test at the end.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import workbench
from workbench import options
from workbench.data import fingerprint
from workbench.errors import WorkbenchError
from workbench.run import lifecycle
from workbench.run.records import stamp
from workbench.store import Store

from .conftest import needs_mirror, needs_model

DOCS = [{"question": f"Which is number {i}?", "choices": ["a", "b"], "answer": "a"} for i in range(50)]
POOL = [{"question": f"Example {i}?", "choices": ["a", "b"], "answer": "b"} for i in range(10)]
IDENTITY = {"name": "smollm2-135m", "kind": "gguf", "location": "/models/SmolLM2-135M-Instruct.Q4_1.gguf",
            "fingerprint": "sha256:" + "ab" * 32}  # fmt: skip
TEMPLATE = "Question: {question}\nAnswer:"
NOT_SETTINGS = ("run id", "run key", "created", "finished", "duration", "status", "heartbeat", "writer", "command")


def eval_run(
    right: int,
    *,
    task: str = "arc_easy",
    shots: int = 0,
    batch_size: int = 16,
    limit: int | None = None,
    chat: bool = False,
    mode: str | None = None,
    model: str = "smollm2-135m",
    identity: dict | None = None,
    template: str = TEMPLATE,
    docs: list | None = None,
    command: str | None = None,
) -> str:
    """A complete arc-like run as api.evaluate records it: ``right`` of its items correct."""
    docs = (docs or DOCS)[:limit]
    pool = POOL if shots else []
    identity = identity or IDENTITY
    values = {"task": task, "model": model, "limit": limit, "shots": shots, "batch_size": batch_size, "data": None,
              "store": None, "mode": mode, "chat": chat, "max_new_tokens": None, "separate": False}  # fmt: skip
    data_fp = fingerprint(list(docs) + list(pool))
    spec = lifecycle.RunSpec(
        task=task,
        model=model,
        identity=identity,
        source="mirror:/data/arc/ARC-Easy/ARC-Easy-Test.jsonl",
        data_fingerprint=data_fp,
        template=template,
        config=options.config(options.EVAL, values),
        key={
            **options.key_fields(options.EVAL, values),
            "model": identity["fingerprint"],
            "data": data_fp,
            "template": template,
        },
        command=command or options.call_text("evaluate", options.EVAL, values),
        n_items=len(docs),
    )
    records = [
        stamp({"doc_id": i, "acc": float(i < right), "prompt": f"Question: {d['question']}"}, d)
        for i, d in enumerate(docs)
    ]
    metrics = {"acc": right / len(docs), "acc_stderr": 0.07, "n": len(docs)}
    return lifecycle.save_complete(Store(), spec, records, metrics)


def names(d) -> list[str]:
    return list(d.table()["setting"])


# ---- what differs -------------------------------------------------------------------------------------------
def test_shots_and_batch_size_differ_with_the_score_difference():
    a = eval_run(23, shots=0, batch_size=16)
    b = eval_run(26, shots=5, batch_size=8)
    d = workbench.diff(a, b)
    assert isinstance(d, workbench.RunDiff)
    # the few-shot pool enters the data fingerprint: that difference follows from shots
    assert names(d) == ["shots", "data fingerprint", "batch size"]
    assert [s.name for s in d.causes] == ["shots", "batch size"]
    assert d.verdict == (
        "2 settings differ: shots (0 vs 5), batch size (16 vs 8); data fingerprint follows from shots; "
        "acc 0.46 -> 0.52 (+0.06)"
    )
    table = d.table()
    assert list(table.columns) == ["setting", "run A", "run B", "note"]
    shots = table[table["setting"] == "shots"].iloc[0]
    assert (shots["run A"], shots["run B"]) == ("0", "5")
    assert table[table["setting"] == "data fingerprint"].iloc[0]["note"].startswith("follows from shots")
    score = d.score()
    assert list(score.columns) == ["metric", "A", "B", "B - A"]
    assert list(score["metric"]) == ["acc"]  # stderr and n are not metrics of their own
    row = score.iloc[0]
    assert (row["A"], row["B"]) == (0.46, 0.52) and row["B - A"] == pytest.approx(0.06)
    assert "Both runs scored the same 50 items." in d.notes
    assert any("deterministically" in n for n in d.notes)  # few-shot examples: say how they are chosen
    text = str(d)
    assert d.verdict in text and f"run B {b}" in text and "shots=5" in text  # the recorded calls are shown


def test_the_same_call_twice_differs_in_nothing_recorded():
    a, b = eval_run(20), eval_run(20)
    d = workbench.diff(a, b)
    assert a != b and d.table().empty and d.causes == []
    assert d.verdict == "No recorded setting differs; acc 0.40 -> 0.40 (+0)"
    every = d.table(same=True)
    assert not every["differs"].any()
    shown = set(every["setting"])
    assert {"task", "model", "model weights", "backend", "prompt template", "shots", "few-shot seed", "chat template",
            "scoring mode", "batch size", "limit", "items", "data source", "data fingerprint",
            "transformers version", "torch version", "workbench version"} <= shown  # fmt: skip
    assert not [s for s in shown if any(word in s for word in NOT_SETTINGS)]  # ids, times, writers: never settings
    row = every.set_index("setting")
    assert row.loc["chat template", "run A"] == "off" and row.loc["scoring mode", "run A"] == "loglikelihood"
    assert row.loc["limit", "run A"] == "all items" and row.loc["backend", "run A"].startswith("transformers")
    assert "Random(1234)" in row.loc["few-shot selection", "run A"]  # the harness's seeded, deterministic draw
    assert not any("deterministically" in n for n in d.notes)  # zero-shot: no examples to choose


def test_scores_that_differ_with_nothing_recorded_differing_say_so():
    d = workbench.diff(eval_run(20), eval_run(22))
    assert d.verdict.startswith("No recorded setting differs; acc 0.40 -> 0.44 (+0.04), which nothing the runs")


def test_runs_of_different_tasks_diff_with_the_task_first():
    a = eval_run(30)
    b = eval_run(10, task="arc_challenge", template="Q: {question}\nA:", docs=POOL * 5)
    d = workbench.diff(a, b)
    assert names(d)[0] == "task" and [s.name for s in d.causes] == ["task"]
    follows = {s.name: s.follows for s in d.differing if s.follows}
    assert follows == {"prompt template": "task", "data fingerprint": "task"}
    assert d.verdict.startswith(
        "1 setting differs: task (arc_easy vs arc_challenge); prompt template and data fingerprint follow from task; "
    )
    assert "The runs have no item in common: they scored different documents." in d.notes


def test_limit_chat_and_mode_are_named_with_what_follows_from_them():
    a = eval_run(3, limit=4)
    b = eval_run(5, limit=8, mode="generate", chat=True, template="<chat>{question}")
    d = workbench.diff(a, b)
    assert [s.name for s in d.causes] == ["chat template", "scoring mode", "limit"]
    follows = {s.name: s.follows for s in d.differing if s.follows}
    assert follows == {"prompt template": "scoring mode", "items": "limit", "data fingerprint": "limit"}
    row = d.table().set_index("setting")
    assert (row.loc["chat template", "run A"], row.loc["chat template", "run B"]) == ("off", "on")
    assert (row.loc["limit", "run A"], row.loc["limit", "run B"]) == ("4", "8")
    assert "The runs share 4 items (A scored 4, B 8)" in d.notes[0]


def test_model_weights_backend_and_package_versions(monkeypatch):
    a = eval_run(25)
    # the same name, other weights (a re-downloaded hub model, a replaced file), made on another machine
    other = {**IDENTITY, "fingerprint": "sha256:" + "cd" * 32, "backend": "transformers", "dtype": "bfloat16",
             "device": "cuda:0"}  # fmt: skip
    real = lifecycle.versions()
    monkeypatch.setattr(lifecycle, "versions", lambda: {**real, "transformers": "4.0.0", "torch": "1.0.0"})
    b = eval_run(27, identity=other)
    d = workbench.diff(a, b)
    assert [s.name for s in d.causes] == ["model weights", "torch version", "transformers version"]
    assert d.verdict.startswith(f"3 settings differ: model weights (sha256:{'ab' * 8}… vs sha256:{'cd' * 8}…)")
    # dtype and device: recorded by run B only, named as such, never counted as a cause
    one_sided = {s.name for s in d.differing if s.one_sided}
    assert one_sided == {"dtype", "device"} and "recorded by one run only: dtype, device" in d.verdict
    assert "run A does not record it" in d.table().set_index("setting").loc["dtype", "note"]
    # another model altogether: its weights and location follow from the model
    c = eval_run(
        25,
        model="org/other",
        identity={
            **IDENTITY,
            "name": "org/other",
            "kind": "hub",
            "location": "org/other",
            "fingerprint": "sha256:" + "ef" * 32,
        },
    )
    d2 = workbench.diff(a, c)
    assert d2.causes[0].name == "model"
    assert {s.name: s.follows for s in d2.differing if s.follows} == {
        "model weights": "model", "model kind": "model", "model location": "model"
    }  # fmt: skip
    assert "backend" not in names(d2)  # a GGUF file and a hub model both run on transformers


def test_score_runs_from_a_csv(project):
    (project / "rows.csv").write_text(
        "system,prediction,reference\n"
        "x,the cat sat,the cat sat\nx,a dog,the dog ran\nx,hello there,hello there\n"
        "y,the cat sat,the cat sat\ny,dog,the dog ran\ny,hello,hello there\n"
    )
    first = workbench.score("rows.csv", ["exact_match", "chrf"], by="system", save=True)
    second = workbench.score("rows.csv", ["exact_match", "chrf"], by="system", lang="ko", save=True)
    d = workbench.diff(first.run_ids["x"], second.run_ids["y"])
    assert [s.name for s in d.causes] == ["model", "lang"]  # the same references: the same data fingerprint
    assert d.verdict.endswith("; exact_match 0.67 -> 0.33 (-0.33)")
    assert list(d.score()["metric"]) == ["exact_match", "chrf"]
    same = workbench.diff(first.run_ids["x"], second.run_ids["x"])
    assert [s.name for s in same.causes] == ["lang"] and "Both runs scored the same 3 items." in same.notes


def test_a_setting_only_one_run_records_is_named_not_counted():
    a = eval_run(20)
    store = Store()
    old = store.run(a)
    config = {k: v for k, v in old["config"].items() if k != "fewshot_seed"}  # as an earlier version recorded it
    b = store.create_run(
        run_key="older", task="arc_easy", model=old["model"], model_identity=old["model_identity"],
        data_source=old["data_source"], data_fingerprint=old["data_fingerprint"],
        prompt_template=old["prompt_template"], config=config, versions=old["versions"], command=old["command"],
        n_items=old["n_items"],
    )  # fmt: skip
    store.finish_run(b, {"acc": 0.5, "n": 50})
    d = workbench.diff(a, b)
    assert d.causes == [] and names(d) == ["few-shot seed"]
    assert d.verdict == (
        "No setting recorded by both runs differs on its own: recorded by one run only: few-shot seed; "
        "acc 0.40 -> 0.50 (+0.10)"
    )


# ---- the shells' inputs ---------------------------------------------------------------------------------------
def test_a_run_the_store_does_not_hold_is_refused_naming_the_store():
    a = eval_run(20)
    with pytest.raises(WorkbenchError, match=r"No run 'zzzz' in .*project\.sqlite\. List runs with %llm_runs"):
        workbench.diff(a, "zzzz")
    with pytest.raises(WorkbenchError, match="Name a run by its id"):
        workbench.diff(a, 42)
    with pytest.raises(WorkbenchError, match="store must be the path"):
        workbench.diff(a, a, store=3)


def test_results_with_a_run_id_name_their_run_and_store(project, monkeypatch):
    a, b = eval_run(20), eval_run(21, shots=1)
    path = project / "project.sqlite"
    monkeypatch.setenv("WORKBENCH_STORE", str(project / "elsewhere.sqlite"))  # the results say where they are
    d = workbench.diff(SimpleNamespace(run_id=a, store_path=path), SimpleNamespace(run_id=b, store_path=path))
    assert [s.name for s in d.causes] == ["shots"]


def test_html_escapes_everything_from_the_runs():
    a = eval_run(20, command="workbench.evaluate('<script>alert(1)</script>')")
    b = eval_run(21, template="<script>alert('t')</script>{question}")
    page = workbench.diff(a, b)._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the command
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in page  # the template
    assert "<table>" in page and "prompt template" in page
    assert "<script>" not in workbench.diff(a, b).html(same=True)


# ---- compare names the differing settings -------------------------------------------------------------------
def test_compare_summary_names_the_settings_that_differ():
    a, b = eval_run(23), eval_run(26, shots=5, batch_size=8)
    c = workbench.compare(a, b)
    line = "Settings that differ (workbench.diff shows them): shots (0 vs 5), batch size (16 vs 8); data fingerprint"
    assert line in c.summary() and c.summary().count("\n") == 1
    assert c.settings == workbench.diff(a, b).differences()
    same = workbench.compare(a, eval_run(24))
    assert same.settings == "" and "Settings that differ" not in same.summary()


# ---- real runs --------------------------------------------------------------------------------------------
@pytest.mark.integration
@needs_mirror
@needs_model
def test_two_real_runs_differ_in_shots_only(project):
    store = project / "diff.sqlite"
    zero = workbench.evaluate("arc_easy", model="smollm2-135m", limit=4, shots=0, store=store)
    one = workbench.evaluate("arc_easy", model="smollm2-135m", limit=4, shots=1, store=store)
    d = workbench.diff(zero, one)
    assert [s.name for s in d.causes] == ["shots"]
    # the one-shot run's data fingerprint covers its few-shot pool: that follows from shots; nothing else differs
    assert {s.name for s in d.differing} <= {"shots", "data fingerprint"}
    assert all(s.follows == "shots" for s in d.differing if s.name != "shots")
    assert d.verdict.startswith("1 setting differs: shots (0 vs 1); ")
    assert "Both runs scored the same 4 items." in d.notes
    assert any("deterministically" in n for n in d.notes)
    assert list(d.score()["metric"])[0] == "acc"
