"""One store per project: without $WORKBENCH_STORE, the store is found the way git finds its repository (the
nearest workbench.sqlite here or above, up to the project's root), so a notebook in notebooks/ sees the runs made
from the shell at the root; the store a session found is named once on stderr when it is first written."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.run import lifecycle
from workbench.settings import find_store, store_path
from workbench.store import Store, base

SPEC = lifecycle.RunSpec(
    task="t", model="m", identity={}, source="s", data_fingerprint="d", template="", config={},
    key={"call": 1}, command="c", n_items=1,
)  # fmt: skip


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project folder (pyproject.toml) with notebooks/ in it; no $WORKBENCH_STORE; nothing named yet."""
    monkeypatch.delenv("WORKBENCH_STORE", raising=False)
    monkeypatch.setattr(base, "_ANNOUNCED", set())
    root = tmp_path / "proj"
    (root / "notebooks" / "deep").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    return root


def test_a_notebook_in_a_subfolder_uses_the_store_at_the_projects_root(project, monkeypatch):
    monkeypatch.chdir(project)
    made_from_the_shell = lifecycle.save_complete(Store(), SPEC, [{"doc_id": 0}], {"n": 1})
    assert (project / "workbench.sqlite").is_file()

    monkeypatch.chdir(project / "notebooks")
    assert store_path() == project / "workbench.sqlite"
    assert list(Store().runs()["run_id"]) == [made_from_the_shell]
    assert not (project / "notebooks" / "workbench.sqlite").exists()


def test_the_first_store_of_a_project_is_made_at_its_root(project, monkeypatch):
    monkeypatch.chdir(project / "notebooks" / "deep")
    assert store_path() == project / "workbench.sqlite"
    Store()
    assert (project / "workbench.sqlite").is_file() and not (
        project / "notebooks" / "deep" / "workbench.sqlite"
    ).exists()


def test_a_store_nearer_than_the_root_wins_and_the_walk_stops_at_the_root(project, tmp_path):
    (tmp_path / "workbench.sqlite").write_bytes(b"")  # above the project: never used for it
    assert find_store(project / "notebooks") == project / "workbench.sqlite"
    (project / "notebooks" / "workbench.sqlite").write_bytes(b"")
    assert find_store(project / "notebooks" / "deep") == project / "notebooks" / "workbench.sqlite"


def test_outside_any_project_a_store_above_is_found(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "workbench.sqlite").write_bytes(b"")
    assert find_store(tmp_path / "a" / "b") == tmp_path / "a" / "workbench.sqlite"


def test_workbench_store_overrides_the_search(project, monkeypatch, tmp_path):
    monkeypatch.chdir(project / "notebooks")
    monkeypatch.setenv("WORKBENCH_STORE", str(tmp_path / "elsewhere.sqlite"))
    assert store_path() == tmp_path / "elsewhere.sqlite"


def test_the_store_found_is_named_once_when_first_written(project, monkeypatch, capsys):
    monkeypatch.chdir(project / "notebooks")
    lifecycle.save_complete(Store(), SPEC, [{"doc_id": 0}], {"n": 1})
    Store().runs()
    lifecycle.save_complete(Store(), SPEC, [{"doc_id": 0}], {"n": 1})
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("workbench:")]
    assert len(lines) == 1 and str(project / "workbench.sqlite") in lines[0] and "$WORKBENCH_STORE" in lines[0]

    lifecycle.save_complete(Store(project / "named.sqlite"), SPEC, [{"doc_id": 0}], {"n": 1})
    assert "workbench:" not in capsys.readouterr().err  # a store given by name is not announced


def test_reading_the_project_store_when_there_is_none_says_how_it_is_found(project, monkeypatch):
    from workbench.errors import WorkbenchError

    monkeypatch.chdir(project / "notebooks")
    with pytest.raises(WorkbenchError) as err:
        Store(create=False)
    message = str(err.value)
    assert f"There is no project store at {project / 'workbench.sqlite'}" in message
    assert "nearest workbench.sqlite" in message and "--store" in message
    assert not (project / "workbench.sqlite").exists()
