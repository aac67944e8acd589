"""The project store: runs, samples, resume lookup, and writes from two processes."""

from __future__ import annotations

import multiprocessing

from workbench.store import Store


def new_run(store: Store, key: str = "k") -> str:
    return store.create_run(
        run_key=key,
        task="arc_easy",
        model="m",
        model_identity={"fingerprint": "sha256:1"},
        data_source="file:x",
        data_fingerprint="sha256:2",
        prompt_template="Question: {question}",
        config={"limit": 2},
        versions={},
        command="%llm_eval arc_easy",
        n_items=2,
    )


def test_run_lifecycle_and_samples_roundtrip(tmp_path):
    store = Store(tmp_path / "p.sqlite")
    run_id = new_run(store)
    assert store.resumable_run("k") == run_id
    store.add_samples(run_id, [{"doc_id": 1, "acc": 1.0, "loglikelihoods": [-1.0, -2.0], "prompt": "한국어 <b>"}])
    store.add_samples(run_id, [{"doc_id": 0, "acc": 0.0, "loglikelihoods": [-3.0, -0.5], "prompt": "p"}])
    assert store.done_doc_ids(run_id) == {0, 1}
    frame = store.samples(run_id)
    assert list(frame["doc_id"]) == [0, 1] and frame.loc[1, "prompt"] == "한국어 <b>"
    assert frame.loc[0, "loglikelihoods"] == [-3.0, -0.5]
    store.finish_run(run_id, {"acc": 0.5, "n": 2})
    assert store.resumable_run("k") is None
    run = store.run(run_id)
    assert run["status"] == "complete" and run["metrics"]["acc"] == 0.5 and run["config"] == {"limit": 2}
    assert store.runs()["run_id"].tolist() == [run_id]


def test_failed_run_is_resumable_and_never_complete(tmp_path):
    store = Store(tmp_path / "p.sqlite")
    run_id = new_run(store)
    store.fail_run(run_id, "interrupted", "KeyboardInterrupt")
    assert store.run(run_id)["status"] == "interrupted"
    assert store.resumable_run("k") == run_id


def _writer(path: str, run_id: str, start: int) -> None:
    store = Store(path)
    for i in range(start, start + 50):
        store.add_samples(run_id, [{"doc_id": i}])


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "p.sqlite")
    run_id = new_run(Store(path))
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, run_id, s)) for s in (0, 50)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert Store(path).done_doc_ids(run_id) == set(range(100))
