"""Per-item parity of the workbench with lm-evaluation-harness 0.4.13 on the benchmark suite (same rows, same weights).

Tasks: hellaswag, mmlu (all 57 subjects, 5-shot), truthfulqa_mc1/mc2, winogrande, gsm8k (5-shot generation) and the
five KoBEST tasks. For each, the same items are scored

1. by the workbench (this venv), reading each item's log-likelihoods / generated text from the store;
2. by lm-evaluation-harness in a side venv (``--model hf``, float32, ``--log_samples``) on custom tasks that
   ``include:`` the harness's own task YAML (prompts, choices, targets, filters, metrics untouched) and only swap
   the dataset for JSONL files of the mirror's rows in the hub schema (written by the workbench's mirror adapters);

then compared item by item. Multiple-choice tasks: the (context, continuation) pairs, gold, the largest
|log-likelihood difference| over all choices, and the predicted choice (and pred_norm where acc_norm is a metric).
gsm8k: the prompt, whether the two greedy generations are identical, and the workbench's strict and flexible
extraction and exact match applied to the harness's own generated text, against the harness's filtered answers.

    WORKBENCH_DATA_DIR=/work/shared/data python benchmarks/parity_suite.py --limit 100 --mmlu-limit 2 \\
        --workdir /tmp/parity_suite --out /tmp/parity_suite.md
    python benchmarks/parity_suite.py --phase harness --workdir /tmp/ps   # then --phase workbench, --phase compare

Phases (``--phase all`` runs them in turn; with ``--workdir`` an existing phase's output is reused): ``harness``
writes the data and task YAMLs and runs lm-eval; ``workbench`` runs workbench.evaluate; ``compare`` prints the
table. Exits 1 when any prompt, gold or prediction differs, any log-likelihood difference reaches the tolerance,
or any gsm8k extraction differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness_tasks import lm_eval_command, offline_env  # noqa: E402
from parity_arc import DEFAULT_LMEVAL_PYTHON, argmax, harness_info, machine, model_directory  # noqa: E402

Row = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One workbench task and the harness YAML it is checked against."""

    task: str  # workbench task name
    harness_yaml: str  # relative to lm_eval/tasks
    splits: tuple[str, ...]  # splits written as data files (hub split names)
    overrides: tuple[tuple[str, Any], ...] = ()
    shots: int = 0
    group: str = "main"  # harness invocations: one per group (each with its own --limit)

    @property
    def harness_task(self) -> str:
        return "parity_" + self.task.replace(":", "_")


def _kobest(name: str) -> Case:
    return Case(f"kobest_{name}", f"kobest/kobest_{name}.yaml", ("validation", "test"), (("training_split", None),))


MMLU_SUBJECTS: list[str] = []  # filled from the workbench in main()
CASES = [
    Case("hellaswag", "hellaswag/hellaswag.yaml", ("validation",), (("training_split", None),)),
    Case("truthfulqa_mc1", "truthfulqa/truthfulqa_mc1.yaml", ("validation",)),
    Case("truthfulqa_mc2", "truthfulqa/truthfulqa_mc2.yaml", ("validation",)),
    Case("winogrande", "winogrande/default.yaml", ("validation",), (("training_split", None),)),
    Case("gsm8k", "gsm8k/gsm8k.yaml", ("train", "test"), shots=5),
    *(_kobest(n) for n in ("boolq", "copa", "hellaswag", "sentineg", "wic")),
]


def mmlu_cases(subjects: list[str]) -> list[Case]:
    return [
        Case(f"mmlu:{s}", f"mmlu/default/mmlu_{s}.yaml", ("test", "dev"), (("num_fewshot", 5),), 5, "mmlu")
        for s in subjects
    ]


# ---- data and task YAMLs -----------------------------------------------------------------------------
def write_case(case: Case, harness_tasks: Path, work: Path) -> None:
    """Hub-schema JSONL of the case's splits (from the workbench's mirror adapters) and a YAML including the
    harness's own task config with only the dataset swapped."""
    from workbench.data import load_rows
    from workbench.tasks import get_task

    spec = get_task(case.task)
    files = {}
    for split in case.splits:
        path = work / "data" / f"{case.harness_task}-{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            for row in load_rows(spec.data, split).rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        files[split] = str(path)
    cfg: Row = {
        "include": str(harness_tasks / case.harness_yaml),
        "task": case.harness_task,
        "tag": "parity_suite",
        "dataset_path": "json",
        "dataset_name": None,
        "dataset_kwargs": {"data_files": files},
        **dict(case.overrides),
    }
    yaml_dir = work / "tasks"
    yaml_dir.mkdir(parents=True, exist_ok=True)
    # JSON is YAML: strings with newlines round-trip exactly
    (yaml_dir / f"{case.harness_task}.yaml").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")


def run_harness(python: str, model_dir: Path, cases: list[Case], limit: int, work: Path, batch_size: int) -> None:
    """One ``lm_eval run`` over the cases (model loaded once); samples and results land in work/harness-<group>."""
    group = cases[0].group
    out_dir = work / f"harness-{group}"
    cmd = lm_eval_command(
        python, model_dir, [c.harness_task for c in cases], work / "tasks", limit, batch_size, out_dir
    )
    env = offline_env(work / "hf-datasets")
    log = work / f"harness-{group}.log"
    print(f"[harness] {shlex.join(cmd)}", file=sys.stderr)
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode != 0:
        sys.exit(f"lm-eval failed (exit {proc.returncode}); last lines of {log}:\n{log.read_text()[-3000:]}")


def harness_outputs(work: Path, case: Case) -> tuple[list[Row], Row]:
    """The harness's --log_samples records of a case (sorted by doc_id) and its aggregated metrics."""
    out_dir = work / f"harness-{case.group}"
    found = sorted(out_dir.rglob(f"samples_{case.harness_task}_*.jsonl"))
    if not found:
        sys.exit(f"no samples_{case.harness_task}_*.jsonl under {out_dir}: run --phase harness first")
    with open(found[-1], encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    results: Row = {}
    for path in sorted(out_dir.rglob("results_*.json")):
        results.update(json.loads(path.read_text())["results"])
    return sorted(records, key=lambda r: (r["doc_id"], r.get("filter", ""))), results.get(case.harness_task, {})


# ---- workbench -----------------------------------------------------------------------------------------
def run_workbench(model: str, cases: list[Case], limit: int, mmlu_limit: int, work: Path, batch_size: int) -> None:
    """workbench.evaluate on every case; records saved to work/workbench-<task>.json (mmlu: one group run)."""
    import workbench

    store = work / "workbench.sqlite"
    for case in cases:
        out = work / f"workbench-{case.task}.json"
        if out.exists():
            continue
        print(f"[workbench] {case.task}", file=sys.stderr)
        r = workbench.evaluate(case.task, model, limit=limit, shots=case.shots, batch_size=batch_size, store=store)
        out.write_text(json.dumps({"metrics": r.metrics, "records": r.samples.to_dict(orient="records")}))
    out = work / "workbench-mmlu.json"
    if MMLU_SUBJECTS and not out.exists():
        print("[workbench] mmlu", file=sys.stderr)
        r = workbench.evaluate("mmlu", model, limit=mmlu_limit, shots=5, batch_size=batch_size, store=store)
        out.write_text(json.dumps({"metrics": r.metrics, "records": r.samples.to_dict(orient="records")}))


def workbench_items(case: Case, limit: int) -> list[Any]:
    """The workbench's items (requests) for the case's first ``limit`` docs, rebuilt from its own task."""
    from workbench.data import load_rows
    from workbench.tasks import get_task

    spec = get_task(case.task)
    docs = spec.select_docs(load_rows(spec.data, spec.eval_split).rows, limit)
    pool = load_rows(spec.data, spec.fewshot_split).rows if case.shots else []
    return spec.build_items(docs, pool, case.shots)


# ---- comparison ----------------------------------------------------------------------------------------
@dataclass
class Result:
    task: str
    items: int = 0
    metrics: list[tuple[str, float, float]] = field(default_factory=list)  # (name, workbench, harness)
    prompt_diffs: list[int] = field(default_factory=list)
    gold_diffs: list[int] = field(default_factory=list)
    pred_diffs: list[int] = field(default_factory=list)
    pred_norm_diffs: list[int] = field(default_factory=list)
    max_abs: float = 0.0
    max_at: tuple[int, int] = (-1, -1)
    generations_equal: int | None = None
    extraction_diffs: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ok(self, tol: float) -> bool:
        diffs = self.prompt_diffs or self.gold_diffs or self.pred_diffs or self.pred_norm_diffs
        return not diffs and not self.extraction_diffs and self.max_abs < tol and not self.notes


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def compare_choice(
    case: Case, items: list, wb: list[Row], hs: list[Row], hs_metrics: Row, metrics: list[str], tol: float
) -> Result:
    """Multiple-choice parity: requests, gold, log-likelihoods, predictions, per-item and aggregated scores.

    Per-item scores must agree within ``tol`` (acc and acc_norm are 0/1, so any difference counts; truthfulqa_mc2's
    probability mass moves with the log-likelihoods)."""
    res = Result(case.task, items=len(hs))
    if len(wb) != len(hs) or len(items) != len(hs):
        res.notes.append(f"workbench scored {len(wb)} items ({len(items)} built), harness {len(hs)}")
    per_item: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in metrics if m != "f1"}
    for item, w, h in zip(items, wb, hs):
        doc = int(h["doc_id"])
        args = [h["arguments"][f"gen_args_{i}"] for i in range(len(h["arguments"]))]
        if [(a["arg_0"], a["arg_1"]) for a in args] != [(r.context, r.continuation) for r in item.requests]:
            res.prompt_diffs.append(doc)
        h_ll = [float(r[0]) for r in h["filtered_resps"]]
        w_ll = [float(x) for x in w["loglikelihoods"]]
        if len(h_ll) != len(w_ll):
            res.pred_diffs.append(doc)
            continue
        for j, (a, b) in enumerate(zip(w_ll, h_ll)):
            if abs(a - b) > res.max_abs:
                res.max_abs, res.max_at = abs(a - b), (doc, j)
        if argmax(h_ll) != int(w["pred"]):
            res.pred_diffs.append(doc)
        if "acc_norm" in metrics:
            h_norm = argmax([ll / len(c) for ll, c in zip(h_ll, w["choices"])])
            if h_norm != int(w["pred_norm"]):
                res.pred_norm_diffs.append(doc)
        if "f1" in h and int(h["f1"][0]) != int(w["gold"]):  # the harness's f1 pair is (gold, pred)
            res.gold_diffs.append(doc)
        for m, (a, b) in per_item.items():
            a.append(float(w[m]))
            b.append(float(h[m]))
    for m in metrics:
        h_value = hs_metrics.get(f"{m},none")
        w_value = mean(per_item[m][0]) if m in per_item else float("nan")
        if m == "f1":
            from workbench.metrics.classification import macro_f1

            w_value = macro_f1([(w["gold"], w["pred"]) for w in wb])
        res.metrics.append((m, w_value, float(h_value) if h_value is not None else mean(per_item[m][1])))
        if m in per_item:
            worst = max((abs(a - b) for a, b in zip(*per_item[m])), default=0.0)
            if worst > tol:
                res.notes.append(f"per-item {m} differs by up to {worst:.2e}")
    return res


def compare_gsm8k(case: Case, items: list, wb: list[Row], hs: list[Row]) -> Result:
    """Generation parity: prompts, identical generations, and extraction on the harness's own text."""
    from workbench.tasks.gsm8k import exact_match, extract_flexible, extract_strict

    by_doc: dict[int, dict[str, Row]] = {}
    for h in hs:
        by_doc.setdefault(int(h["doc_id"]), {})[h["filter"]] = h
    res = Result(case.task, items=len(by_doc))
    res.generations_equal = 0
    scores: dict[str, tuple[list[float], list[float]]] = {"strict-match": ([], []), "flexible-extract": ([], [])}
    for item, w in zip(items, wb):
        doc = int(w["doc_id"])
        pair = by_doc.get(doc)
        if not pair:
            res.notes.append(f"doc {doc} missing from the harness samples")
            continue
        strict, flexible = pair["strict-match"], pair["flexible-extract"]
        if strict["arguments"]["gen_args_0"]["arg_0"] != item.prompt:
            res.prompt_diffs.append(doc)
        text = strict["resps"][0][0]
        res.generations_equal += int(text == w["raw"])
        mine = {"strict-match": extract_strict(text), "flexible-extract": extract_flexible(text)}
        for name, h in (("strict-match", strict), ("flexible-extract", flexible)):
            if mine[name] != h["filtered_resps"][0] or exact_match(mine[name], h["target"]) != float(h["exact_match"]):
                res.extraction_diffs.append(doc)
            scores[name][0].append(float(w["exact_match_strict" if name == "strict-match" else "exact_match_flexible"]))
            scores[name][1].append(float(h["exact_match"]))
    for name, (a, b) in scores.items():
        res.metrics.append((f"exact_match {name}", mean(a), mean(b)))
    return res


def _ids(ids: list[int]) -> str:
    return "0" if not ids else f"{len(ids)} (doc {', '.join(map(str, ids[:6]))}{', ...' if len(ids) > 6 else ''})"


def render(results: list[Result], args: argparse.Namespace, meta: Row) -> str:
    lines = [
        f"- date: {meta['date']}; machine: {meta['machine']}",
        f"- model: {args.model} -> `{meta['model_dir']}` (float32, batch size {args.batch_size} both sides)",
        f"- workbench: {meta['wb_versions']}; harness: {meta['hs_versions']}",
        f"- command: `{meta['command']}`",
        "",
        "| task | items | score: workbench / harness | prompts differing | predictions differing | "
        "max abs Δ loglikelihood (nats) | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        scores = "; ".join(f"{m} {a:.4f} / {b:.4f}" for m, a, b in r.metrics)
        preds = _ids(sorted(set(r.pred_diffs + r.gold_diffs)))
        if r.pred_norm_diffs:
            preds += f"; pred_norm {_ids(r.pred_norm_diffs)}"
        if r.generations_equal is not None:
            preds = (
                f"extracted answers differing on the harness's text: {_ids(r.extraction_diffs)}; "
                f"identical generations {r.generations_equal}/{r.items}"
            )
            delta = "n/a (generation)"
        else:
            delta = f"{r.max_abs:.2e}" + (f" (doc {r.max_at[0]}, choice {r.max_at[1]})" if r.max_abs else "")
        verdict = "PASS" if r.ok(args.tolerance) else "FAIL"
        lines.append(f"| {r.task} | {r.items} | {scores} | {_ids(r.prompt_diffs)} | {preds} | {delta} | {verdict} |")
    notes = [f"- {r.task}: {n}" for r in results for n in r.notes[:5]]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def split_mmlu(wb: Row) -> dict[str, list[Row]]:
    """The mmlu group run's records, per subject in doc order."""
    out: dict[str, list[Row]] = {}
    for r in sorted(wb["records"], key=lambda r: int(r["doc_id"])):
        out.setdefault(r["subject"], []).append(r)
    return out


def compare_all(args: argparse.Namespace, work: Path) -> list[Result]:
    results = []
    for case in CASES:
        if case.task not in args.tasks:
            continue
        wb = json.loads((work / f"workbench-{case.task}.json").read_text())
        hs, hs_metrics = harness_outputs(work, case)
        items = workbench_items(case, args.limit)
        if case.task == "gsm8k":
            results.append(compare_gsm8k(case, items, wb["records"], hs))
        else:
            from workbench.tasks import get_task

            metrics = list(get_task(case.task).metrics)
            results.append(compare_choice(case, items, wb["records"], hs, hs_metrics, metrics, args.tolerance))
    if MMLU_SUBJECTS:
        results.append(compare_mmlu(args, work))
    return results


def compare_mmlu(args: argparse.Namespace, work: Path) -> Result:
    """The mmlu group run against the harness's 57 subject tasks, item by item; acc over all items."""
    wb = json.loads((work / "workbench-mmlu.json").read_text())
    per_subject = split_mmlu(wb)
    group = Result("mmlu (57 subjects, 5-shot)")
    harness_acc: list[float] = []
    for case in mmlu_cases(MMLU_SUBJECTS):
        subject = case.task.split(":", 1)[1]
        hs, hs_metrics = harness_outputs(work, case)
        items = workbench_items(case, args.mmlu_limit)
        r = compare_choice(case, items, per_subject[subject], hs, hs_metrics, ["acc"], args.tolerance)
        group.items += r.items
        group.prompt_diffs += [f"{subject}#{d}" for d in r.prompt_diffs]  # type: ignore[misc]
        group.pred_diffs += [f"{subject}#{d}" for d in r.pred_diffs + r.gold_diffs]  # type: ignore[misc]
        if r.max_abs > group.max_abs:
            group.max_abs, group.max_at = r.max_abs, (f"{subject}#{r.max_at[0]}", r.max_at[1])  # type: ignore[assignment]
        group.notes += [f"{subject}: {n}" for n in r.notes]
        harness_acc += [float(h["acc"]) for h in hs]
    group.metrics.append(("acc", float(wb["metrics"]["acc"]), mean(harness_acc)))
    return group


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--limit", type=int, default=100, help="first N items of each task (default 100)")
    p.add_argument("--mmlu-limit", type=int, default=2, help="first N items of each MMLU subject (default 2: 114)")
    p.add_argument("--tasks", default=",".join(c.task for c in CASES) + ",mmlu", help="comma-separated subset")
    p.add_argument("--phase", choices=["all", "harness", "workbench", "compare"], default="all")
    p.add_argument("--model", default="smollm2-135m", help="workbench model: alias, .gguf file or local directory")
    p.add_argument("--batch-size", type=int, default=16, help="batch size of both runs (default 16)")
    p.add_argument("--tolerance", type=float, default=1e-3, help="max abs loglikelihood diff in nats (default 1e-3)")
    p.add_argument("--data-dir", default=os.environ.get("WORKBENCH_DATA_DIR"), help="mirror root")
    p.add_argument("--lmeval-python", default=os.environ.get("LMEVAL_PYTHON", DEFAULT_LMEVAL_PYTHON))
    p.add_argument("--workdir", help="keep data, YAMLs, harness and workbench outputs here (reused when present)")
    p.add_argument("--out", help="also write the markdown table to this file")
    args = p.parse_args(argv)
    args.tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not args.data_dir:
        p.error("set --data-dir or $WORKBENCH_DATA_DIR to the data mirror root")
    return args


def main(argv: list[str] | None = None) -> int:
    import tempfile

    args = parse_args(argv)
    os.environ["WORKBENCH_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    from workbench.data import mmlu as mmlu_data
    from workbench.run.provenance import versions

    if "mmlu" in args.tasks:
        MMLU_SUBJECTS.extend(sorted(mmlu_data.SUBJECTS))
    work = Path(args.workdir or tempfile.mkdtemp(prefix="parity_suite."))
    work.mkdir(parents=True, exist_ok=True)
    cases = [c for c in CASES if c.task in args.tasks]
    info = harness_info(args.lmeval_python)
    harness_tasks = Path(info["arc_easy_yaml"]).parents[1]
    model_dir = model_directory(args.model)
    times: Row = {}
    if args.phase in ("all", "harness"):
        t = time.time()
        for case in cases + mmlu_cases(MMLU_SUBJECTS):
            write_case(case, harness_tasks, work)
        for group, limit in (("main", args.limit), ("mmlu", args.mmlu_limit)):
            todo = [c for c in cases + mmlu_cases(MMLU_SUBJECTS) if c.group == group]
            if todo and not list((work / f"harness-{group}").rglob("results_*.json")):
                run_harness(args.lmeval_python, model_dir, todo, limit, work, args.batch_size)
        times["harness"] = time.time() - t
    if args.phase in ("all", "workbench"):
        t = time.time()
        run_workbench(args.model, cases, args.limit, args.mmlu_limit, work, args.batch_size)
        times["workbench"] = time.time() - t
    if args.phase in ("harness", "workbench"):
        print(f"{args.phase} done in {times[args.phase]:.0f} s; outputs in {work}")
        return 0
    results = compare_all(args, work)
    wv = versions()
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "model_dir": model_dir,
        "wb_versions": f"workbench {wv['workbench']}, torch {wv['torch']}, transformers {wv['transformers']}",
        "hs_versions": ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k != "python"),
        "command": shlex.join(["python", "benchmarks/parity_suite.py", *(sys.argv[1:] if argv is None else argv)]),
    }
    text = render(results, args, meta)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0 if all(r.ok(args.tolerance) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
