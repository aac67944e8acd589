"""Baseline files: the gate's runs written to a JSON file a repository can commit, and read back item by item.

``workbench check SPEC --save-baseline baseline.json`` writes one entry per task x model of the spec: the run
as the store holds it (task, model and weights identity, data fingerprint, prompt template, settings, metrics,
command) and its items, one line each (doc id, item identity, a fingerprint of the prompt, the value of every
per-item metric, and the fields corpus metrics are recomputed from). A later check compares a candidate with
such an entry exactly as ``workbench.compare`` compares two stored runs: paired, on the items both scored
(matched by item identity), with a paired bootstrap interval of the difference.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from ..run.records import ITEM_FP
from ..writing import write_whole
from .spec import SETTINGS, Baseline, Check

FORMAT = "workbench-baseline/1"
RUN_FIELDS = ("run_id", "status", "task", "model", "model_identity", "data_source", "data_fingerprint",
              "prompt_template", "config", "versions", "command", "metrics", "n_items", "created_at",
              "finished_at")  # fmt: skip
# fields of a record that corpus metrics (BLEU, chrF, perplexities) are recomputed from, kept when every item has them
STATISTICS = ("prediction", "reference", "loglikelihood", "words", "bytes", "tokens")
PROMPT_FP = "prompt_fp"
REWRITE = "Write it again with `workbench check SPEC --save-baseline FILE`."


def prompt_fingerprint(prompt: Any) -> str | None:
    """A short fingerprint of the text the model read, so a baseline file notices a changed prompt."""
    if prompt is None:
        return None
    blob = prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def comparable(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records as a baseline file holds them: the prompt replaced by its fingerprint (compared for equality)."""
    return [{**r, "prompt": prompt_fingerprint(r.get("prompt"))} for r in records]


def _columns(run: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> list[str]:
    from ..tables import metric_names

    def everywhere(name: str, kinds: tuple[type, ...]) -> bool:
        return all(isinstance(r.get(name), kinds) and not isinstance(r.get(name), bool) for r in records)

    per_item = [m for m in metric_names(dict(run)) if everywhere(m, (int, float))]
    stats = [s for s in STATISTICS if s not in per_item and everywhere(s, (int, float, str))]
    return ["doc_id", ITEM_FP, PROMPT_FP, *per_item, *stats]


def entry(check: Check, run: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One task x model of a baseline file: the run and its items as rows under ``columns``."""
    columns = _columns(run, records)
    rows = [
        [r.get("doc_id"), r.get(ITEM_FP), prompt_fingerprint(r.get("prompt")), *(r.get(c) for c in columns[3:])]
        for r in records
    ]
    config = run.get("config") or {}
    settings = {k: config.get(k) for k in SETTINGS if k in config}
    return {
        "task": run["task"],
        "model": check.model,
        "settings": settings,
        "run": {k: run.get(k) for k in RUN_FIELDS},
        "items": {"columns": columns, "rows": rows},
    }


def write(path: str | Path, entries: Iterable[dict[str, Any]], spec: str) -> Path:
    """Write a baseline file (to a temporary file, then renamed: never half-written), one item per line."""
    target = Path(path)
    marker = f"@rows-{uuid.uuid4().hex}-"
    entries = list(entries)
    document = {
        "format": FORMAT,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "spec": spec,
        "entries": [{**e, "items": {**e["items"], "rows": f"{marker}{i}"}} for i, e in enumerate(entries)],
    }
    text = json.dumps(document, indent=1, ensure_ascii=False, default=str)
    for i, e in enumerate(entries):
        rows = ",\n".join("    " + json.dumps(r, ensure_ascii=False, default=str) for r in e["items"]["rows"])
        text = text.replace(json.dumps(f"{marker}{i}"), "[\n" + rows + "\n   ]" if rows else "[]")
    return write_whole(target, (text + "\n").encode(), "the baseline file", make_folder=True)


class Files:
    """Baseline files read once each, and the entry each check is held against."""

    def __init__(self) -> None:
        self._read: dict[Path, list[dict[str, Any]]] = {}

    def entries(self, file: Path, where: str) -> list[dict[str, Any]]:
        if file not in self._read:
            self._read[file] = _read(file, where)
        return self._read[file]

    def entry(self, baseline: Baseline, check: Check) -> dict[str, Any]:
        """The entry of ``baseline``'s file for ``check``: its task, then the model the baseline names (else the
        check's model when the file has it, else the task's only entry), then the settings that agree."""
        assert baseline.file is not None
        entries = [e for e in self.entries(baseline.file, baseline.where) if e["task"] == check.task]
        if not entries:
            tasks = sorted({e["task"] for e in self.entries(baseline.file, baseline.where)})
            raise WorkbenchError(
                f"{baseline.where}: {baseline.file.name} has no entry for {check.task} (it holds "
                f"{', '.join(tasks) or 'none'}). Add the task to the spec and write the file again: `workbench check "
                "SPEC --save-baseline FILE`."
            )
        if baseline.model is not None:
            named = [e for e in entries if e["model"] == baseline.model]
            if not named:
                raise WorkbenchError(
                    f"{baseline.where}: {baseline.file.name} has no {check.task} entry of model {baseline.model!r} "
                    f"(it has {', '.join(sorted({e['model'] for e in entries}))})."
                )
            entries = named
        else:
            entries = [e for e in entries if e["model"] == check.model] or entries
        if len(entries) > 1:
            entries = [e for e in entries if _agree(e.get("settings") or {}, check.settings)] or entries
        if len({e["model"] for e in entries}) > 1:
            raise WorkbenchError(
                f"{baseline.where}: {baseline.file.name} holds {check.task} for several models "
                f"({', '.join(sorted({e['model'] for e in entries}))}) and none is {check.model}; pick one with "
                "baseline: {file: ..., model: NAME}."
            )
        return entries[0]

    def run_and_records(self, baseline: Baseline, check: Check) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The baseline entry as a run row (its id marked with the file's name) and its records."""
        assert baseline.file is not None
        found = self.entry(baseline, check)
        columns, rows = found["items"]["columns"], found["items"]["rows"]
        records = [{("prompt" if c == PROMPT_FP else c): v for c, v in zip(columns, row)} for row in rows]
        run = {**found["run"], "run_id": f"{baseline.file.name}:{found['run'].get('run_id')}"}
        return run, records


def _agree(recorded: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """The settings the check sets (but the batch size and the data path) are those the entry was run with."""
    return all(recorded.get(k) == v for k, v in wanted.items() if v is not None and k not in ("batch_size", "data"))


def _read(file: Path, where: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise WorkbenchError(f"{where}: cannot read the baseline file {file} ({exc}). {REWRITE}") from None
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(entries, list):
        raise WorkbenchError(
            f'{where}: {file} is not a baseline file of this workbench (no "format": "{FORMAT}" with entries). '
            f"{REWRITE}"
        )
    for i, e in enumerate(entries):
        items = e.get("items") if isinstance(e, dict) else None
        ok = (
            isinstance(items, dict)
            and isinstance(e.get("task"), str)
            and isinstance(e.get("model"), str)
            and isinstance(e.get("run"), dict)
            and isinstance(items.get("columns"), list)
            and isinstance(items.get("rows"), list)
            and all(isinstance(r, list) and len(r) == len(items["columns"]) for r in items["rows"])
        )
        if not ok:
            raise WorkbenchError(f"{where}: entry {i} of the baseline file {file} is damaged or edited. {REWRITE}")
    return entries
