"""Perplexity parity with lm-evaluation-harness 0.4.13: the same texts, the same weights, the same total log-likelihood.

One invocation scores the same texts twice with rolling log-likelihood (non-overlapping windows of the model's
length, every token once):

1. with the workbench (this venv): the ``wikitext`` task through ``workbench.evaluate``, or, with ``--text FILE``,
   any texts (one per line) through ``workbench.perplexity``;
2. with lm-evaluation-harness in a side venv (``--model hf``, float32, ``--log_samples``), on a custom task over the
   same rows whose target is the harness's own ``wikitext_detokenizer`` (copied from its package) or the raw text;

then compares the total log-likelihood of each text (relative difference, tolerance 1e-3) and the corpus word and
byte perplexity and bits per byte. Exits 1 when any text differs by the tolerance or more.

    WORKBENCH_DATA_DIR=/work/shared/data python benchmarks/parity_perplexity.py --limit 4
    python benchmarks/parity_perplexity.py --text my_texts.txt --out /tmp/parity_ppl.md

The mirror's WikiText-2 is the tokenized variant (wiki.test.tokens); both sides read the same pages from it, so
parity holds, but the numbers are not those published for wikitext-2-raw-v1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from parity_arc import DEFAULT_LMEVAL_PYTHON, machine, model_directory, run_harness

Row = dict[str, Any]
TASK = "parity_wikitext"
PREPROCESS_PATH = (
    "import os, lm_eval; print(os.path.join(os.path.dirname(lm_eval.__file__), 'tasks', 'wikitext', "
    "'preprocess_wikitext.py'))"
)
TASK_YAML = """task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
output_type: loglikelihood_rolling
test_split: test
doc_to_text: ""
doc_to_target: {target}
process_results: !function preprocess_wikitext.process_results
metric_list:
  - metric: word_perplexity
  - metric: byte_perplexity
  - metric: bits_per_byte
"""


def texts_and_rows(args: argparse.Namespace) -> list[str]:
    """The texts both sides score: the first N WikiText-2 test pages of the mirror, or the lines of --text."""
    if args.text:
        lines = [line for line in Path(args.text).read_text(encoding="utf-8").splitlines() if line.strip()]
        return lines[: args.limit]
    from workbench.data.wikitext import read_mirror

    return [r["page"] for r in read_mirror(Path(args.data_dir), "test")][: args.limit]


def write_task(python: str, work: Path, pages: list[str], detokenize: bool) -> Path:
    """A harness task over a JSONL of ``{"page": ...}`` rows, with the harness's own wikitext functions."""
    task_dir = work / "tasks"
    task_dir.mkdir()
    source = subprocess.run([python, "-c", PREPROCESS_PATH], capture_output=True, text=True, check=True).stdout.strip()
    (task_dir / "preprocess_wikitext.py").write_text(Path(source).read_text(encoding="utf-8"), encoding="utf-8")
    data = work / "pages.jsonl"
    data.write_text("".join(json.dumps({"page": p}, ensure_ascii=False) + "\n" for p in pages), encoding="utf-8")
    target = "!function preprocess_wikitext.wikitext_detokenizer" if detokenize else '"{{page}}"'
    (task_dir / f"{TASK}.yaml").write_text(TASK_YAML.format(task=TASK, data=data, target=target), encoding="utf-8")
    return task_dir


def run_workbench(args: argparse.Namespace, pages: list[str], store: Path) -> list[Row]:
    """Per-text records (loglikelihood, words, bytes) from the workbench, in text order."""
    import workbench

    if args.text:
        result = workbench.perplexity(pages, args.model, store=store)
    else:
        result = workbench.evaluate("wikitext", args.model, limit=args.limit, store=store)
    return sorted(result.samples.to_dict(orient="records"), key=lambda r: int(r["doc_id"]))


def harness_total(record: Row) -> float:
    """The total log-likelihood of one text in a --log_samples record."""
    value = record["filtered_resps"][0] if record.get("filtered_resps") else record["resps"][0]
    while isinstance(value, list):
        value = value[0]
    return float(value)


def harness_units(records: list[Row], metric: str, fallback: list[int]) -> list[int]:
    """The harness's own word or byte count per text (its process_results logs ``metric: [ll, units]``)."""
    found = [r.get(metric) for r in records]
    if all(isinstance(v, list) and len(v) == 2 for v in found):
        return [int(v[1]) for v in found]
    return fallback


def corpus(lls: list[float], words: list[int], n_bytes: list[int]) -> dict[str, float]:
    total = sum(lls)
    return {
        "word_perplexity": math.exp(-total / sum(words)),
        "byte_perplexity": math.exp(-total / sum(n_bytes)),
        "bits_per_byte": -total / sum(n_bytes) / math.log(2),
    }


def render(rows: list[tuple[int, float, float, float]], wb: dict, hs: dict, ok: bool, meta: Row) -> str:
    worst = max(rows, key=lambda r: r[3])
    lines = [
        f"### perplexity parity, {meta['what']}: {'PASS' if ok else 'FAIL'}",
        "",
        f"- date: {meta['date']}; machine: {meta['machine']}",
        f"- model: {meta['model']} -> `{meta['model_dir']}` (float32); windows of the model's max length",
        f"- workbench {meta['wb_seconds']:.0f} s; harness (lm-eval {meta['lm_eval']}) {meta['hs_seconds']:.0f} s",
        f"- command: `{meta['command']}`",
        "",
        "| text | workbench total LL | harness total LL | relative diff |",
        "|---|---|---|---|",
        *[f"| {i} | {a:.4f} | {b:.4f} | {d:.2e} |" for i, a, b, d in rows],
        "",
        f"Largest relative difference {worst[3]:.2e} (text {worst[0]}); tolerance {meta['tolerance']:g}.",
        "",
        "| corpus metric | workbench | harness |",
        "|---|---|---|",
        *[f"| {k} | {wb[k]:.4f} | {hs[k]:.4f} |" for k in wb],
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--limit", type=int, default=4, help="first N texts (default 4; page 3 spans two windows)")
    p.add_argument("--text", help="a UTF-8 file of texts, one per line, instead of WikiText-2 pages")
    p.add_argument("--model", default="smollm2-135m", help="workbench model: alias, .gguf file or local directory")
    p.add_argument("--tolerance", type=float, default=1e-3, help="max relative difference of a total (default 1e-3)")
    p.add_argument("--data-dir", default=os.environ.get("WORKBENCH_DATA_DIR"), help="mirror root (holds wikitext2/)")
    p.add_argument("--lmeval-python", default=os.environ.get("LMEVAL_PYTHON", DEFAULT_LMEVAL_PYTHON))
    p.add_argument("--out", help="also write the markdown result to this file")
    args = p.parse_args(argv)
    if args.limit < 1:
        p.error("--limit must be >= 1")
    if not args.text and not args.data_dir:
        p.error("set --data-dir or $WORKBENCH_DATA_DIR (the mirror holds wikitext2/), or pass --text FILE")
    args.shots, args.batch_size = 0, 1  # what parity_arc.run_harness passes to lm-eval
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.data_dir:
        os.environ["WORKBENCH_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    work = Path(tempfile.mkdtemp(prefix="parity_ppl."))
    pages = texts_and_rows(args)
    args.limit = len(pages)
    task_dir = write_task(args.lmeval_python, work, pages, detokenize=not args.text)
    model_dir = model_directory(args.model)
    t0 = time.time()
    wb = run_workbench(args, pages, work / "workbench.sqlite")
    t1 = time.time()
    hs = run_harness(args.lmeval_python, model_dir, TASK, task_dir, work, args)
    t2 = time.time()

    rows = []
    for w, h in zip(wb, hs):
        a, b = float(w["loglikelihood"]), harness_total(h)
        rows.append((int(h["doc_id"]), a, b, abs(a - b) / abs(b)))
    ok = len(wb) == len(hs) == len(pages) and all(d < args.tolerance for *_, d in rows)
    words, n_bytes = [int(w["words"]) for w in wb], [int(w["bytes"]) for w in wb]
    hs_words, hs_bytes = harness_units(hs, "word_perplexity", words), harness_units(hs, "byte_perplexity", n_bytes)
    version = subprocess.run(
        [args.lmeval_python, "-c", "from importlib import metadata; print(metadata.version('lm_eval'))"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    meta = {
        "what": f"{len(pages)} lines of {args.text}" if args.text else f"first {len(pages)} WikiText-2 test pages",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "model": args.model,
        "model_dir": model_dir,
        "wb_seconds": t1 - t0,
        "hs_seconds": t2 - t1,
        "lm_eval": version,
        "tolerance": args.tolerance,
        "command": shlex.join(["python", "benchmarks/parity_perplexity.py", *(sys.argv[1:] if argv is None else argv)]),
    }
    text = render(
        rows,
        corpus([r[1] for r in rows], words, n_bytes),
        corpus([r[2] for r in rows], hs_words, hs_bytes),
        ok,
        meta,
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
