"""MLflow: runs exported to a real `mlflow server` (SQLite backend, basic-auth login, on 127.0.0.1) and to local
stores, read back through MlflowClient; models evaluated from the MLflow model registry; bad input named.

The server starts once for the module (about 20 s); the tests that need it, or a model, are integration tests.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import workbench
from workbench import cli
from workbench.errors import WorkbenchError
from workbench.mlflow_export import MAX_PARAM, metrics_of, params_of, version_scores
from workbench.models import registry
from workbench.models.mlflow_registry import parse, transformers_dirs
from workbench.store import Store

from .conftest import needs_mirror, needs_model

pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402

VENV_BIN = Path(sys.executable).parent
USER = "admin"


def saved_run(store: Store, *, finish: bool = True, template: str = "Question: {question}") -> str:
    """A run written through the store API (no model): two arc-like items."""
    run_id = store.create_run(
        run_key=secrets.token_hex(4), task="arc_easy", model="m", model_identity={"fingerprint": "sha256:w"},
        data_source="file:x", data_fingerprint="sha256:d", prompt_template=template, config={"limit": 2, "shots": 0},
        versions={"workbench": "0.1.0"}, command="workbench.evaluate('arc_easy', limit=2)", n_items=2,
    )  # fmt: skip
    store.add_samples(run_id, [{"doc_id": i, "acc": float(i), "prompt": f"q{i}", "gold": 0, "pred": i} for i in (0, 1)])
    if finish:
        store.finish_run(run_id, {"n": 2, "acc": 0.5, "acc_stderr": 0.5, "acc_ci95": [0.0, 1.0]})
    return run_id


# ---- what is sent (pure) ---------------------------------------------------------------------------------------
def test_parameters_are_the_runs_settings_and_long_values_are_cut_visibly():
    run = {"task": "arc_easy", "model": "m", "data_source": "mirror:/d", "prompt_template": "x" * 9000,
           "config": {"limit": 5, "mode": None, "chat": False, "grid": {"temperature": [0.0, 0.7]}},
           "versions": {"torch": "2.13.0"}}  # fmt: skip
    params = params_of(run)
    assert params["limit"] == "5" and params["mode"] == "null" and params["chat"] == "false"
    assert params["grid.temperature"] == "[0.0, 0.7]" and params["versions.torch"] == "2.13.0"
    assert len(params["prompt_template"]) == MAX_PARAM
    assert params["prompt_template"].endswith("[cut: 9,000 characters; the whole value is in the workbench store]")


def test_metrics_hold_scores_errors_interval_ends_items_usage_and_time():
    run = {"metrics": {"n": 4, "acc": 0.5, "acc_stderr": 0.25, "acc_ci95": [0.1, 0.9], "bleu_signature": "nrefs:1",
                       "usage": {"prompt_tokens": 100, "completion_tokens": 20, "cost_usd": None}, "flag": True},
           "n_items": 5, "duration_s": 3.5}  # fmt: skip
    metrics, texts = metrics_of(run)
    assert metrics == {"n": 4.0, "acc": 0.5, "acc_stderr": 0.25, "acc_ci95_lo": 0.1, "acc_ci95_hi": 0.9,
                       "prompt_tokens": 100.0, "completion_tokens": 20.0, "tokens": 120.0, "items": 5.0,
                       "duration_s": 3.5}  # fmt: skip
    assert texts == {"bleu_signature": "nrefs:1"}
    scores = version_scores({"task": "mmlu:anatomy", "metrics": run["metrics"], "n_items": 5})
    assert scores == {"workbench.mmlu.anatomy.acc": "0.50 [0.10, 0.90]", "workbench.mmlu.anatomy.n": "4"}


# ---- bad input, refused before anything is written --------------------------------------------------------------
def test_unknown_and_unfinished_runs_are_refused_naming_the_fix(project):
    store = Store()
    unfinished = saved_run(store, finish=False)
    with pytest.raises(WorkbenchError, match="No run 'nope' in .*`workbench runs`"):
        workbench.export_mlflow("nope", tracking_uri=f"sqlite:///{project}/m.db")
    with pytest.raises(
        WorkbenchError, match=f"Run {unfinished} is interrupted \\(2 of 2 items scored\\): only a complete.*Finish it"
    ):
        workbench.export_mlflow(unfinished, tracking_uri=f"sqlite:///{project}/m.db")
    with pytest.raises(WorkbenchError, match="Name the runs to export"):
        workbench.export_mlflow()
    done = saved_run(store)
    with pytest.raises(WorkbenchError, match=f"{done} \\(m\\) did not evaluate a registry model"):
        workbench.export_mlflow(done, tracking_uri=f"sqlite:///{project}/m.db", tag_model_version=True)
    assert not (project / "m.db").exists() and not (project / "mlflow.db").exists()


def test_an_unreachable_server_is_named_with_the_fix_and_nothing_is_written(project, capsys):
    run_id = saved_run(Store())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    status = cli.main(["export", "mlflow", run_id, "--tracking-uri", f"http://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert status == 2
    assert f"No MLflow tracking server answers at http://127.0.0.1:{port}" in err
    assert "`mlflow server --host 127.0.0.1 --port 5000`" in err and "--tracking-uri" in err
    assert "nothing was written" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in project.iterdir()) == ["project.sqlite"]  # no local mlflow.db made instead


def test_the_file_store_mlflow_3_refuses_is_named_with_the_fix(project, monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    run_id = saved_run(Store())
    with pytest.raises(WorkbenchError, match="MLFLOW_ALLOW_FILE_STORE=true.*sqlite:///mlflow.db"):
        workbench.export_mlflow(run_id, tracking_uri=f"file:{project}/mlruns")


def test_an_export_that_fails_midway_deletes_the_mlflow_run_it_started(project):
    run_id = saved_run(Store())
    uri = f"sqlite:///{project}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    (project / "a-file").write_text("")  # artifacts under a file cannot be written, even by root
    client.create_experiment("broken", artifact_location=str(project / "a-file" / "artifacts"))
    with pytest.raises(WorkbenchError, match=f"Exporting run {run_id} to {uri} failed midway .*was deleted"):
        workbench.export_mlflow(run_id, tracking_uri=uri, experiment="broken")
    experiment = client.get_experiment_by_name("broken").experiment_id
    assert client.search_runs([experiment]) == []  # no active run: the half-made one is deleted
    assert len(client.search_runs([experiment], run_view_type=ViewType.DELETED_ONLY)) == 1


def test_without_mlflow_installed_the_message_names_the_extra(project, monkeypatch):
    run_id = saved_run(Store())
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what `import mlflow` meets when it is not installed
    with pytest.raises(WorkbenchError, match=r'pip install -e "\.\[mlflow\]"'):
        workbench.export_mlflow(run_id)


def test_registry_specs_are_parsed_and_a_bad_one_names_the_forms():
    assert parse("mlflow:models:/my-model/3") == ("my-model", "3", None)
    assert parse("mlflow:models:/my-model@champion") == ("my-model", None, "champion")
    for bad in ("mlflow:models:/my-model", "mlflow:runs:/abc/model", "mlflow:models:/m/x"):
        with pytest.raises(WorkbenchError, match="mlflow:models:/NAME/VERSION.*mlflow:models:/NAME@ALIAS"):
            registry.resolve(bad)


def write(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("{}")
    return folder


def test_the_transformers_model_is_found_in_both_layouts_and_its_absence_named(tmp_path):
    plain = write(tmp_path / "plain", "config.json", "model.safetensors", "tokenizer_config.json", "tokenizer.json")
    assert transformers_dirs(plain, "v1") == (plain, plain)
    flavor = write(tmp_path / "flavor", "MLmodel")  # mlflow.transformers: model/ and components/tokenizer/
    write(flavor / "model", "config.json", "model.safetensors")
    write(flavor / "components" / "tokenizer", "tokenizer_config.json", "tokenizer.json")
    assert transformers_dirs(flavor, "v1") == (flavor / "model", flavor / "components" / "tokenizer")
    reference = write(tmp_path / "reference", "MLmodel")
    (reference / "MLmodel").write_text("flavors:\n  transformers:\n    source_model_name: org/name\n")
    with pytest.raises(WorkbenchError, match="without its weights \\(save_pretrained=False\\)"):
        transformers_dirs(reference, "models:/m/1")
    untokenized = write(tmp_path / "untokenized", "config.json", "model.safetensors")
    with pytest.raises(WorkbenchError, match="no tokenizer"):
        transformers_dirs(untokenized, "models:/m/1")


# ---- a real server ----------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`mlflow server` with a SQLite backend and a basic-auth login, on 127.0.0.1: (uri, password)."""
    root = tmp_path_factory.mktemp("mlflow-server")
    password = secrets.token_urlsafe(16)
    (root / "auth.ini").write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{root}/auth.db\nadmin_username = {USER}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {**os.environ, "MLFLOW_AUTH_CONFIG_PATH": str(root / "auth.ini"), "MLFLOW_AUTH_ADMIN_PASSWORD": password,
           "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
           "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # fmt: skip
    port = free_port()
    command = [str(VENV_BIN / "mlflow"), "server", "--app-name", "basic-auth", "--host", "127.0.0.1",
               "--port", str(port), "--workers", "1", "--backend-store-uri", f"sqlite:///{root}/mlflow.db",
               "--artifacts-destination", str(root / "artifacts"), "--serve-artifacts"]  # fmt: skip
    log = open(root / "server.log", "w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow server did not start: {(root / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield uri, password
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture
def login(server, monkeypatch):
    """The server's credentials, in the environment only (where MLflow and the export read them)."""
    uri, password = server
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
    return uri


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A real tiny evaluation (5 ARC-Easy items, the default model) in a store of the module's own."""
    path = tmp_path_factory.mktemp("store") / "project.sqlite"
    result = workbench.evaluate("arc_easy", model="smollm2-135m", limit=5, store=path)
    return path, result.run_id


def read_back(client: MlflowClient, experiment: str, run_id: str):
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], filter_string=f"tags.`workbench.run_id` = '{run_id}'")


def check_exported(client: MlflowClient, mlflow_run: str, store: Path, run_id: str, tmp: Path) -> None:
    """Parameters, metrics, tags and artifacts of the MLflow run equal what the store holds."""
    run = Store(store).run(run_id)
    got = client.get_run(mlflow_run)
    metrics = run["metrics"]
    for name in ("acc", "acc_stderr", "acc_norm", "acc_norm_stderr", "n"):
        assert got.data.metrics[name] == pytest.approx(metrics[name])
    assert got.data.metrics["acc_ci95_lo"] == pytest.approx(metrics["acc_ci95"][0])
    assert got.data.metrics["acc_ci95_hi"] == pytest.approx(metrics["acc_ci95"][1])
    assert got.data.metrics["items"] == 5 and got.data.metrics["duration_s"] == pytest.approx(run["duration_s"])
    assert got.data.params["task"] == "arc_easy" and got.data.params["limit"] == "5" and got.data.params["shots"] == "0"
    assert got.data.params["prompt_template"] == run["prompt_template"]
    tags = got.data.tags
    assert tags["workbench.run_id"] == run_id and tags["workbench.task"] == "arc_easy"
    assert tags["workbench.weights_fingerprint"] == run["model_identity"]["fingerprint"]
    assert tags["workbench.data_fingerprint"] == run["data_fingerprint"]
    assert tags["workbench.command"] == run["command"] and tags["workbench.version"] == workbench.__version__
    assert json.loads(tags["workbench.model_identity"]) == run["model_identity"]
    assert got.info.status == "FINISHED"
    assert {a.path for a in client.list_artifacts(mlflow_run)} == {"items.json", "report.html"}
    items = json.loads(Path(client.download_artifacts(mlflow_run, "items.json", str(tmp))).read_text())
    assert len(items["data"]) == 5  # once, however often exported
    assert [row[items["columns"].index("acc")] for row in items["data"]] == [
        r["acc"] for r in Store(store).sample_records(run_id)
    ]
    report = Path(client.download_artifacts(mlflow_run, "report.html", str(tmp))).read_text()
    assert run_id in report and "<html" in report.lower()
    assert json.loads(tags["mlflow.loggedArtifacts"]) == [{"path": "items.json", "type": "table"}]


@pytest.mark.integration
@needs_mirror
@needs_model
def test_export_to_a_server_then_again_updates_the_same_mlflow_run(login, evaluated, tmp_path, capsys):
    store, run_id = evaluated
    table = workbench.export_mlflow(run_id, tracking_uri=login, experiment="wb-test", store=store)
    row = table.iloc[0]
    assert (row["run_id"], row["experiment"], row["action"]) == (run_id, "wb-test", "created")
    assert row["url"] == f"{login}/#/experiments/{row['experiment_id']}/runs/{row['mlflow_run_id']}"
    client = MlflowClient(tracking_uri=login)
    check_exported(client, row["mlflow_run_id"], store, run_id, tmp_path / "first")
    first_export = client.get_run(row["mlflow_run_id"]).data.tags["workbench.exported_at"]

    time.sleep(1.1)
    status = cli.main(["export", "mlflow", run_id[:6], "--tracking-uri", login, "--experiment", "wb-test",
                       "--store", str(store)])  # fmt: skip
    out = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    assert out == [f"run {run_id} -> MLflow run {row['mlflow_run_id']} (updated): {row['url']}"]
    found = read_back(client, "wb-test", run_id)
    assert [r.info.run_id for r in found] == [row["mlflow_run_id"]]  # no duplicate
    assert found[0].data.tags["workbench.exported_at"] > first_export
    check_exported(client, row["mlflow_run_id"], store, run_id, tmp_path / "second")


@pytest.mark.integration
@needs_mirror
@needs_model
def test_a_server_login_comes_from_the_environment_and_a_refused_one_is_named(server, evaluated, monkeypatch):
    uri, password = server
    store, run_id = evaluated
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    with pytest.raises(WorkbenchError, match="requires a login: .*MLFLOW_TRACKING_USERNAME.* are not set") as caught:
        workbench.export_mlflow(run_id, tracking_uri=uri, experiment="wb-login", store=store)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", USER)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "wrong")
    with pytest.raises(WorkbenchError, match="are set but were refused") as refused:
        workbench.export_mlflow(run_id, tracking_uri=uri, experiment="wb-login", store=store)
    assert password not in str(caught.value) + str(refused.value)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", password)
    assert MlflowClient(tracking_uri=uri).get_experiment_by_name("wb-login") is None  # nothing half-exported


@pytest.mark.integration
@needs_mirror
@needs_model
def test_export_to_a_local_file_store_and_to_mlflows_default(evaluated, project, monkeypatch, tmp_path):
    store, run_id = evaluated
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps its file store behind this switch
    uri = f"file:{project}/mlruns"
    table = workbench.export_mlflow(run_id, tracking_uri=uri, store=store)
    assert table.iloc[0]["url"] is None and table.iloc[0]["experiment"] == "workbench"
    client = MlflowClient(tracking_uri=uri)
    check_exported(client, table.iloc[0]["mlflow_run_id"], store, run_id, tmp_path / "file")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    elsewhere = project / "elsewhere"  # a folder without ./mlruns, which MLflow's default would pick up
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    default = workbench.export_mlflow(run_id, store=store)  # MLflow's own default: sqlite:///mlflow.db here
    assert default.attrs["tracking_uri"] == f"sqlite:///{elsewhere}/mlflow.db"
    assert len(read_back(MlflowClient(tracking_uri=default.attrs["tracking_uri"]), "workbench", run_id)) == 1


@pytest.mark.integration
@needs_mirror
@needs_model
def test_a_registry_model_version_is_evaluated_recorded_and_tagged(login, monkeypatch, tmp_path):
    folder = registry.dequantized_dir(registry.resolve("smollm2-135m"))  # the default model as transformers files
    client = MlflowClient(tracking_uri=login)
    experiment = client.create_experiment("wb-registry")
    logged = client.create_run(experiment)
    client.log_artifacts(logged.info.run_id, str(folder), "model")
    client.set_terminated(logged.info.run_id)
    name = f"smollm2-{secrets.token_hex(3)}"
    client.create_registered_model(name)
    version = client.create_model_version(name, f"{logged.info.artifact_uri}/model", run_id=logged.info.run_id)
    client.set_registered_model_alias(name, "champion", version.version)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", login)  # the registry the spec is looked up in
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))  # the download stays in the test's folder

    store = tmp_path / "project.sqlite"
    from_registry = workbench.evaluate("arc_easy", model=f"mlflow:models:/{name}/1", limit=5, store=store)
    plain = workbench.evaluate("arc_easy", model=str(folder), limit=5, store=store)
    assert from_registry.metrics == plain.metrics
    identity = Store(store).run(from_registry.run_id)["model_identity"]
    assert identity["mlflow"] == {"registry_uri": login, "name": name, "version": "1", "run_id": logged.info.run_id,
                                  "source": f"{logged.info.artifact_uri}/model"}  # fmt: skip
    assert identity["fingerprint"] == Store(store).run(plain.run_id)["model_identity"]["fingerprint"]
    by_alias = registry.describe(f"mlflow:models:/{name}@champion")
    assert by_alias["mlflow"]["version"] == "1" and by_alias["mlflow"]["alias"] == "champion"

    table = workbench.export_mlflow(from_registry.run_id, tracking_uri=login, store=store, tag_model_version=True)
    tags = client.get_model_version(name, "1").tags
    lo, hi = from_registry.metrics["acc_ci95"]
    assert tags["workbench.arc_easy.acc"] == f"{from_registry.metrics['acc']:.2f} [{lo:.2f}, {hi:.2f}]"
    assert tags["workbench.arc_easy.n"] == "5"
    assert tags["workbench.arc_easy.run"] == f"{from_registry.run_id} (MLflow run {table.iloc[0]['mlflow_run_id']})"
    assert client.get_run(table.iloc[0]["mlflow_run_id"]).data.tags["workbench.registry_model"] == f"models:/{name}/1"
    with pytest.raises(WorkbenchError, match=f"no version 7 of model '{name}'.*Its versions: 1"):
        registry.resolve(f"mlflow:models:/{name}/7")


def test_every_export_option_is_a_keyword_of_export_mlflow():
    import inspect

    from workbench import options
    from workbench.mlflow_export import export_mlflow

    keywords = {o.name for o in options.EXPORT if o.keyword}
    assert keywords == {"tracking_uri", "experiment", "tag_model_version", "store"}
    assert keywords <= set(inspect.signature(export_mlflow).parameters)
