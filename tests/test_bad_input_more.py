"""Bad input through every surface: the Python API raises one WorkbenchError, the CLI exits 2 with one
`workbench: ...` line, a magic prints that line; each message names what to fix. Nothing here loads a model:
every input is refused while it is being checked, before any model runs (the conftest guard fails a test that
loads one), and no run is left behind.

Distinct bad inputs: the table below (API_CASES + CLI_CASES + MAGIC_CASES), the named tests after it, and those of
test_bad_input.py and test_options.py; ``test_the_bad_inputs_number_at_least_sixty`` counts them."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import workbench
from workbench import cli, commands
from workbench.errors import WorkbenchError
from workbench.store import Store

ARC = {"id": "a", "question": "q?", "choices": {"text": ["x", "y"], "label": ["A", "B"]}, "answerKey": "A"}
HELLASWAG = {"activity_label": "Cooking", "ctx_a": "He cracks an egg", "ctx_b": "", "endings": ["a", "b", "c", "d"],
             "label": "0"}  # fmt: skip
WINOGRANDE = {"sentence": "The cup fell because _ was heavy.", "option1": "cup", "option2": "table", "answer": "1"}
MMLU = {"question": "q?", "subject": "anatomy", "choices": ["a", "b", "c", "d"], "answer": 0}
COPA = {"premise": "p", "question": "원인", "alternative_1": "a", "alternative_2": "b", "label": 0}
TQA = {"question": "q?", "mc1_targets": {"choices": ["t", "f"], "labels": [1, 0]},
       "mc2_targets": {"choices": ["t", "f"], "labels": [1, 0]}}  # fmt: skip


def jsonl(*rows) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows)


# Files of bad rows, written into each test's working directory.
FILES: dict[str, str | bytes] = {
    "badkey.jsonl": jsonl(ARC, {**ARC, "answerKey": "E"}),
    "nochoices.jsonl": jsonl({**ARC, "choices": {"text": [], "label": []}}),
    "mismatch.jsonl": jsonl({**ARC, "choices": {"text": ["x", "y", "z"], "label": ["A", "B"]}}),
    "binary.jsonl": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "utf16.jsonl": jsonl(ARC).encode("utf-16"),
    "latin1.csv": "id,question,choices,answerKey\na,caf\xe9?,{},A\n".encode("latin-1"),
    "garbage.parquet": b"PAR1 this is not really parquet",
    "choices.csv": "id,question,choices,answerKey\na,q?,x;y,A\n",
    "listline.jsonl": jsonl('["a", "b"]'),
    "object.json": json.dumps(ARC),
    "broken.json": '[{"id": "a",\n "question": }]',
    "empty.jsonl": "",
    "rows.txt": "q?\n",
    "hellaswag_label.jsonl": jsonl({**HELLASWAG, "label": "7"}),
    "hellaswag_endings.csv": "activity_label,ctx_a,ctx_b,endings,label\nCooking,He cracks,,a|b|c|d,0\n",
    "winogrande_answer.jsonl": jsonl({**WINOGRANDE, "answer": "3"}),
    "winogrande_blank.jsonl": jsonl({**WINOGRANDE, "sentence": "The cup fell."}),
    "mmlu_answer.jsonl": jsonl({**MMLU, "answer": "E"}),
    "mmlu_choices.jsonl": jsonl({**MMLU, "choices": ["a", "b", "c"]}),
    "copa_label.jsonl": jsonl({**COPA, "label": 5}),
    "boolq.tsv": "ID\tText\tQuestion\tAnswer\n1\tpara\tq?\tmaybe\n",
    "tqa_targets.csv": 'question,mc1_targets,mc2_targets\nq?,true|false,"{""t"": 1}"\n',
    "tqa_empty.jsonl": jsonl({**TQA, "mc2_targets": {"choices": [], "labels": []}}),
    "gsm8k_noanswer.jsonl": jsonl({"question": "1+1?"}),
    "mt_bench_turns.jsonl": jsonl({"turns": []}),
    "wikitext_page.jsonl": jsonl({"page": 42}),
    "flores_target.jsonl": jsonl({"source": "Hello"}),
    "notastore.txt": "hello\n",
    "notes.csv": "a,b\n1,2\n",
    "rows.csv": "x,target\nhello,안녕\n",
}


@pytest.fixture(autouse=True)
def bad_files(project: Path) -> Path:
    for name, content in FILES.items():
        path = project / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    (project / "adir").mkdir()
    Store()  # the project's store exists (empty): unknown runs are named as such, not as a missing store
    return project


def grid(**params):
    return lambda: workbench.grid("Say {x}", rows=[{"x": "hi"}], params=params)


def evaluate(task, **kw):
    return lambda: workbench.evaluate(task, **kw)


# (id, call, what the message must say: the problem and the fix)
API_CASES = [
    # ---- models and counts, refused before any data is read or model loaded ----
    ("model-none", evaluate("arc_easy", model=None), r"Name a model \(got None\).*e\.g\. model='smollm2-135m'"),
    ("model-empty", evaluate("arc_easy", model=""), r"Name a model \(got ''\)"),
    ("batch-size-none", evaluate("arc_easy", batch_size=None), r"--batch-size must be a whole number of at least 1"),
    ("grid-batch-size-zero", lambda: workbench.grid("Say {x}", rows=[{"x": "hi"}], batch_size=0),
     r"batch_size must be a whole number of at least 1"),
    ("perplexity-no-texts", lambda: workbench.perplexity([]), r"No rows to score: inline is empty\. Pass at least one"),
    # ---- rows of a user's file, checked before any model runs (issue item 8) ----
    ("answerKey-not-a-label", evaluate("arc_easy", data="badkey.jsonl"),
     r"badkey\.jsonl, line 2, field 'answerKey': 'E' is not one of the labels A, B.*[Ss]et answerKey"),
    ("no-choices", evaluate("arc_easy", data="nochoices.jsonl"),
     r"nochoices\.jsonl, line 1, field 'choices': no options.*at least two"),
    ("texts-and-labels-differ", evaluate("arc_easy", data="mismatch.jsonl"),
     r"mismatch\.jsonl, line 1, field 'choices': 3 texts but 2 labels.*one label per text"),
    ("binary-file", evaluate("arc_easy", data="binary.jsonl"),
     r"binary\.jsonl is not a text file.*UTF-8"),
    ("utf16-file", evaluate("arc_easy", data="utf16.jsonl"),
     r"utf16\.jsonl is UTF-16 text.*[Ss]ave it as UTF-8"),
    ("latin1-csv", evaluate("arc_easy", data="latin1.csv"),
     r"latin1\.csv, line 2: not UTF-8 text.*[Ss]ave the file as UTF-8"),
    ("not-parquet", evaluate("arc_easy", data="garbage.parquet"),
     r"garbage\.parquet is not a Parquet file.*\.jsonl or \.csv"),
    ("csv-choices-not-json", evaluate("arc_easy", data="choices.csv"),
     r"choices\.csv, line 2, field 'choices': not valid JSON.*'x;y'.*\{\"text\""),
    ("jsonl-line-not-an-object", evaluate("arc_easy", data="listline.jsonl"),
     r"listline\.jsonl, line 1: expected a JSON object.*one object per line"),
    ("json-not-a-list", evaluate("arc_easy", data="object.json"),
     r"object\.json: a \.json data file must hold a list of objects.*\[\{"),
    ("json-syntax", evaluate("arc_easy", data="broken.json"),
     r"broken\.json, line 2: not valid JSON.*[Ff]ix"),
    ("empty-file", evaluate("arc_easy", data="empty.jsonl"), r"empty\.jsonl.* has no rows.*check the file"),
    ("unsupported-suffix", evaluate("arc_easy", data="rows.txt"), r"unsupported type '\.txt'; use one of"),
    ("data-is-a-folder", evaluate("arc_easy", data="adir"), r"'adir' is a folder.*[Gg]ive the path of a file"),
    ("data-not-a-path", evaluate("arc_easy", data=123), r"data must be the path of a file.*got int"),
    ("missing-data-file", evaluate("arc_easy", data="nope.jsonl"), r"does not exist\. Check the path"),
    ("hellaswag-label-out-of-range", evaluate("hellaswag", data="hellaswag_label.jsonl"),
     r"line 1, field 'label': 7 is not the index of one of the 4 endings \(0-3\)"),
    ("hellaswag-endings-not-json", evaluate("hellaswag", data="hellaswag_endings.csv"),
     r"line 2, field 'endings': not valid JSON.*\[\""),
    ("winogrande-answer", evaluate("winogrande", data="winogrande_answer.jsonl"),
     r"line 1, field 'answer': '3'; set it to '1' .* or '2'"),
    ("winogrande-no-blank", evaluate("winogrande", data="winogrande_blank.jsonl"),
     r"line 1, field 'sentence': no '_'.*mark the blank"),
    ("mmlu-answer-letter", evaluate("mmlu:anatomy", data="mmlu_answer.jsonl"),
     r"line 1, field 'answer': 'E'.*0-3 or A-D"),
    ("mmlu-three-choices", evaluate("mmlu:anatomy", data="mmlu_choices.jsonl"),
     r"line 1, field 'choices': 3 options.*exactly 4"),
    ("copa-label", evaluate("kobest_copa", data="copa_label.jsonl"), r"line 1, field 'label': 5.*0 or 1"),
    ("boolq-answer", evaluate("kobest_boolq", data="boolq.tsv"), r"line 2, field 'Answer': 'maybe'.*True or False"),
    ("truthfulqa-targets-not-json", evaluate("truthfulqa_mc1", data="tqa_targets.csv"),
     r"line 2, field 'mc1_targets': not valid JSON"),
    ("truthfulqa-no-choices", evaluate("truthfulqa_mc2", data="tqa_empty.jsonl"),
     r"line 1, field 'mc2_targets': no choices.*at least one"),
    ("gsm8k-no-answer", evaluate("gsm8k", data="gsm8k_noanswer.jsonl", shots=0),
     r"line 1: missing column 'answer'.*this task needs question, answer"),
    ("mt-bench-no-turns", evaluate("mt_bench", data="mt_bench_turns.jsonl"),
     r"line 1, field 'turns': .*at least one non-empty user message"),
    ("wikitext-page-not-text", evaluate("wikitext", data="wikitext_page.jsonl"),
     r"line 1, field 'page': .*a string"),
    ("flores-no-target", evaluate("flores:en-ko", data="flores_target.jsonl"),
     r"line 1: missing column 'target'.*needs source, target"),
    # ---- evaluate's own arguments (issue item 10) ----
    ("task-None", evaluate(None), r"Name the task as a string such as 'arc_easy'.*got None"),
    ("task-number", evaluate(123), r"Name the task as a string such as 'arc_easy'.*got 123"),
    ("task-list", evaluate(["arc_easy", "hellaswag"]), r"one task per call.*for task in"),
    ("task-empty", evaluate(""), r"Unknown task ''.*Available tasks"),
    ("limit-text", evaluate("arc_easy", limit="5"), r"--limit must be a whole number.*Leave --limit out"),
    ("limit-fraction", evaluate("arc_easy", limit=2.5), r"--limit must be a whole number"),
    ("shots-negative", evaluate("arc_easy", shots=-1), r"--shots must be a whole number of at least 0"),
    ("batch-size-zero", evaluate("arc_easy", batch_size=0), r"--batch-size must be a whole number of at least 1"),
    ("max-new-tokens-zero", evaluate("gsm8k", max_new_tokens=0), r"max_new_tokens must be a whole number"),
    ("mode-typo", evaluate("arc_easy", mode="genrate"), r"Unknown mode 'genrate': use loglikelihood, generate"),
    ("mode-on-perplexity", evaluate("wikitext", mode="generate"), r"leave --mode out"),
    ("fixed-shots", evaluate("truthfulqa_mc1", shots=3), r"Leave --shots out"),
    ("chat-without-generate", evaluate("arc_easy", chat=True), r"add --mode generate"),
    ("max-new-tokens-on-loglikelihood", evaluate("arc_easy", max_new_tokens=5), r"leave it out"),
    ("mmlu-subject-typo", evaluate("mmlu:anatmy"), r"Did you mean 'mmlu:anatomy'"),
    # ---- grid parameters (issue item 10) ----
    ("grid-temperature-word", grid(temperature="hot"),
     r"temperature must be a number \(temperature >= 0, got 'hot'\).*temperature=0\.7"),
    ("grid-temperature-negative", grid(temperature=-1), r"temperature must be a number \(temperature >= 0, got -1\)"),
    ("grid-max-new-tokens-word", grid(max_new_tokens="abc"),
     r"max_new_tokens must be a whole number \(max_new_tokens >= 1, got 'abc'\).*max_new_tokens=64"),
    ("grid-max-new-tokens-fraction", grid(max_new_tokens=2.5), r"max_new_tokens must be a whole number.*got 2\.5"),
    ("grid-max-new-tokens-none", grid(max_new_tokens=None), r"max_new_tokens must be a whole number.*got None"),
    ("grid-seed-word", grid(seed="x"), r"seed must be a whole number or None \(got 'x'\)"),
    ("grid-chat-word", grid(chat="maybe"), r"chat must be True or False \(got 'maybe'\)"),
    ("grid-stop-number", grid(stop=5), r"stop must be a text or a list of texts \(got 5\)"),
    ("grid-system-number", grid(system=5), r"system must be a text or None \(got 5\)"),
    ("grid-no-values", grid(temperature=[]), r"temperature=\[\] gives no values.*at least one"),
    ("grid-unknown-parameter", grid(temprature=0), r"Did you mean 'temperature'"),
    ("grid-params-text", lambda: workbench.grid("Say {x}", rows=[{"x": "hi"}], params="temperature=0"),
     r"params must be a dict such as \{'temperature': \[0, 0\.7\].*got str"),
    ("grid-prompts-none", lambda: workbench.grid(None, rows=[{"x": "hi"}]),
     r"A grid needs at least one prompt template"),
    ("grid-prompt-not-text", lambda: workbench.grid([1], rows=[{"x": "hi"}]),
     r"Prompt 'p1' is int, not a template.*'Summarise: \{text\}'"),
    ("grid-bad-template", lambda: workbench.grid("Say {x", rows=[{"x": "hi"}]),
     r"Write placeholders as \{column\} and literal braces as \{\{ and \}\}\."),
    ("grid-no-models", lambda: workbench.grid("Say {x}", [], rows=[{"x": "hi"}]), r"at least one model"),
    # ---- runs and stores (issue item 11) ----
    ("samples-no-such-run", lambda: workbench.samples("no-such-run"),
     r"No run 'no-such-run' in .*List runs with"),
    ("samples-None", lambda: workbench.samples(None), r"Name a run by its id.*workbench\.runs\(\)"),
    ("runs-store-number", lambda: workbench.runs(store=123), r"store must be the path of a project store file"),
    ("merge-missing-file", lambda: workbench.merge(["missing.sqlite"]), r"No file missing\.sqlite: give"),
    ("merge-not-a-store", lambda: workbench.merge(["notastore.txt"]),
     r"notastore\.txt is not a workbench store: it is not an SQLite file.*[Gg]ive project stores"),
    ("merge-other-csv", lambda: workbench.merge(["notes.csv"]), r"neither a ratings nor a votes export; write one"),
    ("compare-unknown-runs", lambda: workbench.compare("aaaa", "bbbb"), r"No run 'aaaa'.*List runs with"),
]  # fmt: skip

# (id, argv, what the message must say)
CLI_CASES = [
    ("cli-limit-not-a-number", ["eval", "arc_easy", "--limit", "abc"],
     r"argument --limit: invalid int value: 'abc'\. See `workbench eval --help`"),
    ("cli-unknown-flag", ["eval", "arc_easy", "--limt", "3"], r"unrecognized arguments: --limt 3\. See `workbench"),
    ("cli-no-task", ["eval"], r"Name a task, e\.g\. `workbench eval arc_easy"),
    ("cli-limit-zero", ["eval", "arc_easy", "--limit", "0"], r"--limit must be a whole number"),
    ("cli-missing-data", ["eval", "arc_easy", "--data", "nope.jsonl"], r"does not exist\. Check the path"),
    ("cli-not-parquet", ["eval", "arc_easy", "--data", "garbage.parquet"], r"is not a Parquet file"),
    ("cli-answerKey", ["eval", "arc_easy", "--data", "badkey.jsonl"], r"line 2, field 'answerKey'"),
    ("cli-shots-negative", ["eval", "arc_easy", "--shots", "-1"], r"--shots must be a whole number"),
    ("cli-batch-size-zero", ["eval", "arc_easy", "--batch-size", "0"], r"--batch-size must be a whole number"),
    ("cli-mmlu-subject", ["eval", "mmlu:anatmy"], r"Did you mean 'mmlu:anatomy'"),
    ("cli-generate-shots", ["eval", "arc_easy", "--mode", "generate", "--shots", "3"], r"Leave --shots out"),
    ("cli-chat", ["eval", "arc_easy", "--chat"], r"add --mode generate"),
    ("cli-grid-max-new-tokens", ["grid", "--prompt", "Say {x}", "--rows", "rows.csv", "-p", "max_new_tokens=abc"],
     r"max_new_tokens must be a whole number \(max_new_tokens >= 1, got 'abc'\)"),
    ("cli-grid-temperature", ["grid", "--prompt", "Say {x}", "--rows", "rows.csv", "-p", "temperature=hot"],
     r"temperature must be a number \(temperature >= 0, got 'hot'\)"),
    ("cli-grid-param-no-value", ["grid", "--prompt", "Say {x}", "--rows", "rows.csv", "-p", "temperature"],
     r"write KEY=VALUE"),
    ("cli-grid-no-prompt", ["grid", "--rows", "rows.csv"], r"at least one prompt template"),
    ("cli-grid-missing-column", ["grid", "--prompt", "Say {y}", "--rows", "rows.csv"], r"uses \{y\}.*Columns: x"),
    ("cli-runs-not-a-store", ["runs", "--store", "notastore.txt"], r"not a SQLite file.*restore it"),
    ("cli-compare-unknown", ["compare", "aaaa", "bbbb"], r"No run 'aaaa'"),
    ("cli-judge-three-runs", ["judge", "a", "b", "c"], r"Give one run .* or two"),
    ("cli-judge-turns", ["judge", "a", "--turns", "x"], r"--turns takes turn numbers"),
    ("cli-score-missing-file", ["score", "nope.csv"], r"neither an existing file nor a task name\. Pass"),
    ("cli-score-metric", ["score", "rows.csv", "--metrics", "bleuu"], r"Did you mean 'bleu'"),
    ("cli-ppl-limit", ["ppl", "Some text.", "--limit", "0"], r"limit must be a whole number"),
]  # fmt: skip

# (id, magic, line, cell (None: a line magic), what the message must say)
MAGIC_CASES = [
    ("magic-unknown-task", "llm_eval", "arc_esay", None, r"Did you mean 'arc_easy'"),
    ("magic-no-task", "llm_eval", "", None, r"Name a task, e\.g\. %llm_eval arc_easy"),
    ("magic-no-choices", "llm_eval", "arc_easy --data nochoices.jsonl", None, r"line 1, field 'choices'"),
    ("magic-latin1", "llm_eval", "arc_easy --data latin1.csv", None, r"not UTF-8 text"),
    ("magic-grid-temperature", "llm_grid", "--rows rows.csv -p temperature=hot", "Say {x}",
     r"temperature must be a number \(temperature >= 0"),
    ("magic-grid-empty-cell", "llm_grid", "--rows rows.csv", "\n---\n", r"at least one prompt template"),
    ("magic-rate-unknown-run", "llm_rate", "no-such-run", None, r"No run 'no-such-run'"),
    ("magic-rate-empty-store", "llm_rate", "", None, r"No runs in the store yet: run %llm_eval first"),
    ("magic-compare-unknown", "llm_compare", "aaaa bbbb", None, r"No run 'aaaa'"),
    ("magic-judge-three-runs", "llm_judge", "a b c", None, r"Give one run .* or two"),
    ("magic-score-missing-file", "llm_score", "nope.csv", None, r"neither an existing file nor a task name"),
    ("magic-arena-unknown", "llm_arena", "aaaa bbbb", None, r"No run 'aaaa'"),
    ("magic-ppl-limit", "llm_ppl", '"Some text." --limit 0', None, r"limit must be a whole number"),
    ("magic-runs-not-a-store", "llm_runs", "--store notastore.txt", None, r"not a SQLite file"),
]  # fmt: skip


def no_runs_left() -> bool:
    return Store().runs().empty


@pytest.mark.parametrize("call, expected", [c[1:] for c in API_CASES], ids=[c[0] for c in API_CASES])
def test_python_api_refuses_with_a_message_naming_the_fix(call, expected):
    with pytest.raises(WorkbenchError, match=expected):
        call()
    assert no_runs_left()


@pytest.mark.parametrize("argv, expected", [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_exits_2_with_one_line_naming_the_fix(argv, expected, capsys):
    import re

    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("workbench: ") and err.count("workbench: ") == 1, err
    assert re.search(expected, err, re.S), err
    assert no_runs_left()


@pytest.fixture(scope="module")
def ipython():
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    return ip


@pytest.mark.parametrize("magic, line, cell, expected", [c[1:] for c in MAGIC_CASES], ids=[c[0] for c in MAGIC_CASES])
def test_magics_print_one_line_naming_the_fix(ipython, magic, line, cell, expected, capsys):
    import re

    if cell is None:
        result = ipython.run_line_magic(magic, line)
    else:
        result = ipython.run_cell_magic(magic, line, cell)
    assert result is None
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("workbench: ") and err.count("workbench: ") == 1, err
    assert re.search(expected, err, re.S), err
    assert no_runs_left()


# ---- item 8: rows are checked before any model runs, once, naming file, line and field ----------------------
def test_a_bad_answer_key_is_refused_before_the_model_loads_every_time(monkeypatch):
    from workbench import models

    loads = []
    monkeypatch.setattr(models, "load", lambda *a, **k: loads.append(a))
    for _ in range(2):  # a retry meets the same message, and still no model and no run
        with pytest.raises(WorkbenchError, match=r"badkey\.jsonl, line 2, field 'answerKey'"):
            workbench.evaluate("arc_easy", data="badkey.jsonl")
    assert loads == [] and no_runs_left()


def test_rows_from_a_mirror_or_the_hub_are_checked_before_the_model_too():
    """The task checks every item as it builds it: a row that reached it unchecked (the hub, a mirror) is refused
    with the task, the item and the fix, not as a traceback after the model ran."""
    from workbench.tasks import get_task

    bad = {**ARC, "answerKey": "E"}
    with pytest.raises(WorkbenchError, match=r"arc_easy, item 1 \(row 2 of the data\).*'E'.*labels"):
        get_task("arc_easy").build_items([ARC, bad], [], 0)
    with pytest.raises(WorkbenchError, match=r"arc_easy, item 0 \(row 1 of the data\): no answer choices"):
        get_task("arc_easy").build_items([{**ARC, "choices": {"text": [], "label": []}}], [], 0)
    with pytest.raises(WorkbenchError, match=r"hellaswag, item 0 .*gold answer 9.*4 choices"):
        get_task("hellaswag").build_items([{**HELLASWAG, "ctx": "c", "label": "9"}], [], 0)
    from workbench.tasks.generative import for_mode

    with pytest.raises(WorkbenchError, match=r"arc_easy, item 0 .*'E'"):
        for_mode(get_task("arc_easy"), "generate").build_items([bad], [], 0)


def test_a_mirror_row_that_breaks_names_the_mirror_file(tmp_path, monkeypatch):
    folder = tmp_path / "mirror" / "arc" / "ARC-Easy"
    folder.mkdir(parents=True)
    choices = [{"text": "x", "label": "A"}, {"text": "y", "label": "B"}]
    original = {"id": "a", "question": {"stem": "q?", "choices": choices}, "answerKey": "C"}
    (folder / "ARC-Easy-Test.jsonl").write_text(jsonl(original))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "mirror"))
    with pytest.raises(WorkbenchError, match=r"ARC-Easy-Test\.jsonl, line 1, field 'answerKey'.*[Rr]estore"):
        workbench.evaluate("arc_easy", limit=1)


def test_good_rows_in_every_accepted_form_still_load(tmp_path):
    """The checks refuse only bad rows: a CSV with a byte-order mark (Excel), JSON cells and Parquet pass."""
    import pandas as pd

    from workbench.data import load_rows
    from workbench.tasks import get_task

    spec = get_task("arc_easy").data
    cell = json.dumps(ARC["choices"])
    with open(tmp_path / "excel.csv", "w", encoding="utf-8-sig", newline="") as f:  # Excel's: a BOM, CRLF
        csv.writer(f).writerows([["id", "question", "choices", "answerKey"], ["a", "q?", cell, "A"]])
    pd.DataFrame([{**ARC, "choices": cell}]).to_parquet(tmp_path / "rows.parquet")
    (tmp_path / "blank.jsonl").write_text("\n" + jsonl(ARC) + "\n")
    for name in ("excel.csv", "rows.parquet", "blank.jsonl"):
        assert load_rows(spec, "test", tmp_path / name).rows == [ARC], name


# ---- item 11: runs that do not exist, read-only stores, %llm_rate's choice of run -----------------------------
def test_samples_of_a_run_that_does_not_exist_is_refused_but_an_empty_run_is_an_empty_table():
    from .test_store import new_run

    run_id = new_run(Store())
    assert workbench.samples(run_id).empty
    with pytest.raises(WorkbenchError, match=r"No run 'nope'"):
        workbench.samples("nope")


def read_only_copy(src: Path, folder: Path) -> tuple[Path, callable]:
    """``src`` seen in a read-only folder, and how to run a Python snippet that sees it there. Root ignores file
    modes, so as root the folder is a read-only bind mount in a private mount namespace (``unshare``)."""
    folder.mkdir()
    shutil.copy(src, folder / src.name)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return folder / src.name, None
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare to make a read-only folder as root")
    mount = folder.parent / "readonly"
    mount.mkdir()
    return mount / src.name, lambda code: subprocess.run(
        ["unshare", "-rm", "sh", "-c", f'mount --bind -o ro "{folder}" "{mount}" && exec "$0" -c "$1"',
         sys.executable, code],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_merge_reads_a_valid_store_on_read_only_media(tmp_path):
    """A store on read-only media (a CD, a read-only share) is read, not called 'not a workbench store'."""
    import pandas as pd

    table = pd.DataFrame({"item_id": ["0"], "prompt": ["p"], "output": ["o"], "model": ["m"]})
    workbench.rate(table, rubric="1-5", annotator="ana", store=tmp_path / "theirs.sqlite").session.choose("4")
    path, run = read_only_copy(tmp_path / "theirs.sqlite", tmp_path / "media")
    mine = tmp_path / "mine.sqlite"
    code = f"import workbench; print(workbench.merge([{str(path)!r}], store={str(mine)!r}).to_dict('records'))"
    if run is None:
        exec(code)
    else:
        done = run(code)
        if "mount" in done.stderr and done.returncode != 0 and "Traceback" not in done.stderr:
            pytest.skip(f"cannot mount read-only here: {done.stderr.strip()}")
        assert done.returncode == 0, done.stderr
        assert "'ratings': 1" in done.stdout
    assert len(workbench.ratings(store=mine, latest=False)) == 1


def test_merge_of_one_path_given_as_text_merges_that_file(tmp_path):
    with pytest.raises(WorkbenchError, match=r"No file missing\.sqlite"):
        workbench.merge("missing.sqlite")  # not 'No file m' from iterating over the text


def perplexity_run(store: Store) -> str:
    """A saved perplexity run as scoring.perplexity writes it: scores, no output to rate."""
    run_id = store.create_run(
        run_key="ppl", task="perplexity", model="m", model_identity={"fingerprint": "sha256:1"}, data_source="inline",
        data_fingerprint="sha256:2", prompt_template="{text}", config={}, versions={}, command="%llm_ppl x", n_items=1,
    )  # fmt: skip
    store.add_samples(run_id, [{"doc_id": 0, "prompt": "Some text.", "word_perplexity": 3.0, "windows": 1}])
    store.finish_run(run_id, {"n": 1})
    return run_id


def test_llm_rate_without_a_run_picks_the_newest_run_with_outputs_and_says_which(monkeypatch, capsys):
    import time
    from types import SimpleNamespace

    import workbench.widgets

    from .test_ratings import mc_run
    from .test_store import new_run

    db = Store()
    only_ppl = perplexity_run(db)
    with pytest.raises(WorkbenchError, match=r"None of the 1 runs in .* has outputs to rate.*%llm_eval"):
        commands.newest_run()
    time.sleep(0.01)
    rated = mc_run(db)
    time.sleep(0.01)
    newest = perplexity_run(db)  # the newest run is a perplexity run: nothing to rate
    monkeypatch.setattr(workbench.widgets, "rate", lambda **kw: kw)
    args = SimpleNamespace(source=None, rubric="1-5", annotator=None, store=None, partial=False)
    assert commands.rate(args)["source"] == rated
    out = capsys.readouterr().out
    assert f"Rating run {rated} (arc_easy, m)" in out and f"{newest} (perplexity, nothing to rate)" in out
    assert only_ppl not in out

    time.sleep(0.01)
    running = new_run(db, key="running")  # unfinished, with a saved output: rated only with --partial
    db.add_samples(running, [{"doc_id": 0, "prompt": "Q?", "choices": ["a", "b"], "gold": 0, "pred": 0}])
    assert commands.rate(args)["source"] == rated
    assert f"{running} (arc_easy, " in (out := capsys.readouterr().out) and "--partial rates it)" in out
    assert commands.rate(SimpleNamespace(**{**vars(args), "partial": True}))["source"] == running


# ---- the bar: at least 60 distinct bad inputs, across the three surfaces ------------------------------------
def test_the_bad_inputs_number_at_least_sixty():
    here = {c[0] for c in API_CASES} | {c[0] for c in CLI_CASES} | {c[0] for c in MAGIC_CASES}
    assert len(here) == len(API_CASES) + len(CLI_CASES) + len(MAGIC_CASES)  # no id twice
    assert len(API_CASES) >= 30 and len(CLI_CASES) >= 15 and len(MAGIC_CASES) >= 10
    assert len(here) >= 60
