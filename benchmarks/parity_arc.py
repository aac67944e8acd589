"""Per-item parity of the workbench with lm-evaluation-harness 0.4.13 on ARC (same rows, same weights).

One invocation scores the first N test items of ARC-Easy or ARC-Challenge twice:

1. with the workbench (this venv), reading per-choice log-likelihoods from ``EvalResult.samples``;
2. with lm-evaluation-harness in a side venv (``--model hf``, float32, batch size 16, ``--log_samples``), on a
   custom task whose data are the mirror's original AI2 files converted to the hub schema and whose
   doc_to_text / doc_to_choice / doc_to_target / metric_list are copied from the harness's own arc_easy.yaml;

then compares item by item: prompts and continuations, gold, |log-likelihood difference| over all choices,
pred, pred_norm, is_greedy, acc and acc_norm. Exits 1 if any prompt, gold or prediction differs or the
largest difference reaches the tolerance (default 1e-3 nats).

    WORKBENCH_DATA_DIR=/work/shared/data python benchmarks/parity_arc.py --limit 200
    python benchmarks/parity_arc.py --subset ARC-Challenge --limit 100 --out /tmp/parity.md
    python benchmarks/parity_arc.py --shots 5 --limit 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness_tasks import lm_eval_command, offline_env  # noqa: E402

SUBSETS = {"ARC-Easy": "arc_easy", "ARC-Challenge": "arc_challenge"}
SPLIT_FILES = {"train": "Train", "validation": "Dev", "test": "Test"}
# the harness task keys that define prompts, choices, gold and metrics; copied verbatim from its arc_easy.yaml
HARNESS_TASK_KEYS = (
    "output_type",
    "doc_to_text",
    "doc_to_target",
    "doc_to_choice",
    "target_delimiter",
    "fewshot_delimiter",
    "description",
    "metric_list",
)
DEFAULT_LMEVAL_PYTHON = "/work/lmeval-venv/bin/python"
HARNESS_INFO_SCRIPT = """
import json, os, platform, yaml, lm_eval, torch, transformers, datasets
from importlib import metadata
path = os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "arc", "arc_easy.yaml")
with open(path, encoding="utf-8") as f:
    cfg = yaml.safe_load(f)
print(json.dumps({"arc_easy_yaml": path, "config": cfg, "versions": {
    "python": platform.python_version(), "lm_eval": metadata.version("lm_eval"), "torch": torch.__version__,
    "transformers": transformers.__version__, "datasets": datasets.__version__}}))
"""

Row = dict[str, Any]


# ---- data: mirror (original AI2 JSONL) -> hub-schema JSONL for the harness -------------------------
def hub_row(raw: Row) -> Row:
    """One original AI2 ARC record ({id, question{stem, choices[{text,label}]}, answerKey}) in the hub schema."""
    question = raw["question"]
    choices = question["choices"]
    return {
        "id": raw["id"],
        "question": question["stem"],
        "choices": {"text": [c["text"] for c in choices], "label": [c["label"] for c in choices]},
        "answerKey": raw["answerKey"],
    }


def write_hub_splits(data_dir: Path, subset: str, dest: Path) -> dict[str, str]:
    """Convert the mirror's train/validation/test files of ``subset`` into hub-schema JSONL files in ``dest``."""
    files = {}
    for split, suffix in SPLIT_FILES.items():
        src = data_dir / "arc" / subset / f"{subset}-{suffix}.jsonl"
        out = dest / f"{subset}-{split}.jsonl"
        with open(src, encoding="utf-8") as fin, open(out, "w", encoding="utf-8") as fout:
            for line in fin:
                if line.strip():
                    fout.write(json.dumps(hub_row(json.loads(line)), ensure_ascii=False) + "\n")
        files[split] = str(out)
    return files


# ---- lm-evaluation-harness (side venv) ---------------------------------------------------------------
def harness_info(python: str) -> Row:
    """The side venv's versions and its arc_easy.yaml, loaded by the side venv itself."""
    proc = subprocess.run([python, "-c", HARNESS_INFO_SCRIPT], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"Could not query lm-eval in {python}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_task_yaml(task_dir: Path, task: str, files: dict[str, str], arc_cfg: Row) -> Path:
    """A harness task on local JSONL files with the ARC task's own prompt/choice/target/metric definitions.

    Written as JSON, which YAML reads unchanged, so the strings (with their newlines) round-trip exactly.
    """
    cfg: Row = {
        "task": task,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": files},
        "training_split": "train",
        "validation_split": "validation",
        "test_split": "test",
    }
    cfg.update({k: arc_cfg[k] for k in HARNESS_TASK_KEYS if k in arc_cfg})
    path = task_dir / f"{task}.yaml"
    path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def run_harness(
    python: str, model_dir: Path, task: str, task_dir: Path, work: Path, args: argparse.Namespace
) -> list[Row]:
    """Run ``lm_eval run`` offline on the custom task; returns its --log_samples records sorted by doc_id."""
    out_dir = work / "harness-out"
    cmd = lm_eval_command(
        python, model_dir, [task], task_dir, args.limit, args.batch_size, out_dir, num_fewshot=args.shots
    )
    env = offline_env(work / "hf-datasets")
    log = work / "harness.log"
    print(f"[harness] {shlex.join(cmd)}", file=sys.stderr)
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode != 0:
        sys.exit(f"lm-eval failed (exit {proc.returncode}); last lines of {log}:\n{log.read_text()[-3000:]}")
    found = sorted(out_dir.rglob(f"samples_{task}_*.jsonl"))
    if not found:
        sys.exit(f"lm-eval wrote no samples_{task}_*.jsonl under {out_dir}")
    with open(found[-1], encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return sorted(records, key=lambda r: r["doc_id"])


# ---- workbench (this venv) ---------------------------------------------------------------------------
def model_directory(model: str) -> Path:
    """The transformers directory holding the exact weights the workbench scores ``model`` with."""
    from workbench.models.registry import dequantized_dir, resolve

    spec = resolve(model)
    if spec.kind == "gguf":
        return dequantized_dir(spec)
    if spec.kind == "dir":
        return Path(spec.location)
    sys.exit(f"{model!r} is a hub id; pass a local directory or GGUF file so both sides load the same weights.")


def source_hashes() -> dict[str, str]:
    """sha256 of each workbench/*.py file, by path relative to the package."""
    import workbench

    root = Path(workbench.__file__).resolve().parent
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.py"))}


def source_fingerprint(hashes: dict[str, str]) -> str:
    """Which workbench code ran: git commit, whether workbench/ has uncommitted changes, hash of its .py files."""
    import workbench

    root = Path(workbench.__file__).resolve().parent

    def git(*cmd: str) -> str:
        proc = subprocess.run(["git", *cmd], cwd=root.parent, capture_output=True, text=True, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "no git"
    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", str(root)) else ""
    digest = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()[:12]
    return f"git {head}{dirty}, workbench/*.py sha256 {digest}"


def changed_imported_files(before: dict[str, str]) -> list[str]:
    """workbench files that this process imported and whose content changed since ``before`` was taken."""
    import workbench

    root = Path(workbench.__file__).resolve().parent
    after = source_hashes()
    loaded = set()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if (name == "workbench" or name.startswith("workbench.")) and file:
            loaded.add(str(Path(file).resolve().relative_to(root)))
    return sorted(p for p in loaded if before.get(p) != after.get(p))


def run_workbench(args: argparse.Namespace, store: Path) -> list[Row]:
    """Score the items with workbench.evaluate in a fresh store; returns one record per item sorted by doc_id."""
    import workbench

    result = workbench.evaluate(
        SUBSETS[args.subset], args.model, limit=args.limit, shots=args.shots, batch_size=args.batch_size, store=store
    )
    return sorted(result.samples.to_dict(orient="records"), key=lambda r: int(r["doc_id"]))


# ---- comparison --------------------------------------------------------------------------------------
def argmax(values: list[float]) -> int:
    """First index of the maximum (numpy.argmax on finite values)."""
    return max(range(len(values)), key=lambda i: (values[i], -i))


@dataclass
class Report:
    """What differs between the two runs, item by item."""

    n_items: int = 0
    n_requests: int = 0
    count_mismatch: str = ""
    prompt_mismatch: list[int] = field(default_factory=list)
    gold_mismatch: list[int] = field(default_factory=list)
    pred_diff: list[int] = field(default_factory=list)
    pred_norm_diff: list[int] = field(default_factory=list)
    greedy_diff: int = 0
    max_abs: float = 0.0
    max_at: tuple[int, int] = (-1, -1)
    sum_abs: float = 0.0
    wb_acc: list[float] = field(default_factory=list)
    wb_acc_norm: list[float] = field(default_factory=list)
    hs_acc: list[float] = field(default_factory=list)
    hs_acc_norm: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ok(self, tol: float) -> bool:
        return (
            not (
                self.count_mismatch
                or self.prompt_mismatch
                or self.gold_mismatch
                or self.pred_diff
                or self.pred_norm_diff
            )
            and self.max_abs < tol
        )


def compare(wb: list[Row], hs: list[Row], delimiter: str) -> Report:
    """Compare workbench records with harness --log_samples records of the same docs."""
    rep = Report(n_items=min(len(wb), len(hs)))
    if len(wb) != len(hs) or [int(r["doc_id"]) for r in wb] != [int(r["doc_id"]) for r in hs]:
        rep.count_mismatch = f"workbench scored {len(wb)} items, harness {len(hs)} (or their doc_ids differ)"
    for w, h in zip(wb, hs):
        doc_id = int(h["doc_id"])
        args = [h["arguments"][f"gen_args_{i}"] for i in range(len(h["arguments"]))]
        choices = list(w["choices"])
        if [(a["arg_0"], a["arg_1"]) for a in args] != [(w["prompt"], delimiter + c) for c in choices]:
            rep.prompt_mismatch.append(doc_id)
            if len(rep.prompt_mismatch) == 1:
                ctx, mine = (args[0]["arg_0"] if args else ""), w["prompt"]
                at = next((i for i, (x, y) in enumerate(zip(ctx, mine)) if x != y), min(len(ctx), len(mine)))
                rep.notes.append(
                    f"first prompt mismatch: doc {doc_id}, char {at}: harness {ctx[at : at + 60]!r} "
                    f"vs workbench {mine[at : at + 60]!r}"
                )
        h_ll = [float(r[0]) for r in h["filtered_resps"]]
        h_greedy = [str(r[1]) == "True" for r in h["filtered_resps"]]
        w_ll = [float(x) for x in w["loglikelihoods"]]
        rep.n_requests += len(h_ll)
        if int(h["target"]) != int(w["gold"]):
            rep.gold_mismatch.append(doc_id)
        if len(h_ll) != len(w_ll):
            rep.notes.append(f"doc {doc_id}: {len(w_ll)} workbench vs {len(h_ll)} harness choices")
            rep.pred_diff.append(doc_id)
            continue
        for j, (a, b) in enumerate(zip(w_ll, h_ll)):
            d = abs(a - b)
            rep.sum_abs += d
            if d > rep.max_abs:
                rep.max_abs, rep.max_at = d, (doc_id, j)
        rep.greedy_diff += sum(x != y for x, y in zip(w["is_greedy"], h_greedy))
        h_pred = argmax(h_ll)
        h_pred_norm = argmax([ll / len(c) for ll, c in zip(h_ll, choices)])
        if float(h["acc"]) != float(h_pred == int(h["target"])) or float(h["acc_norm"]) != float(
            h_pred_norm == int(h["target"])
        ):
            rep.notes.append(f"doc {doc_id}: harness acc/acc_norm do not follow from its log-likelihoods")
        if h_pred != int(w["pred"]):
            rep.pred_diff.append(doc_id)
        if h_pred_norm != int(w["pred_norm"]):
            rep.pred_norm_diff.append(doc_id)
        rep.wb_acc.append(float(w["acc"]))
        rep.wb_acc_norm.append(float(w["acc_norm"]))
        rep.hs_acc.append(float(h["acc"]))
        rep.hs_acc_norm.append(float(h["acc_norm"]))
    return rep


def _ids(ids: list[int]) -> str:
    return "0" if not ids else f"{len(ids)} (doc {', '.join(map(str, ids[:10]))}{', ...' if len(ids) > 10 else ''})"


def _mean(xs: list[float]) -> str:
    return f"{sum(xs) / len(xs):.4f}" if xs else "n/a"


def render(rep: Report, args: argparse.Namespace, meta: Row) -> str:
    """The result as a markdown document: run facts, then one table."""
    mean_abs = rep.sum_abs / rep.n_requests if rep.n_requests else 0.0
    verdict = "PASS" if rep.ok(args.tolerance) else "FAIL"
    where = f" (doc {rep.max_at[0]}, choice {rep.max_at[1]})" if rep.max_abs > 0 else ""
    rows = [
        ("items / loglikelihood requests", f"{rep.n_items} / {rep.n_requests}", ""),
        ("prompt or continuation mismatches", _ids(rep.prompt_mismatch), "0"),
        ("gold mismatches", _ids(rep.gold_mismatch), "0"),
        ("max abs loglikelihood diff (nats)", f"{rep.max_abs:.3e}{where}", f"< {args.tolerance:g}"),
        ("mean abs loglikelihood diff (nats)", f"{mean_abs:.3e}", ""),
        ("items whose pred differs", _ids(rep.pred_diff), "0"),
        ("items whose pred_norm differs", _ids(rep.pred_norm_diff), "0"),
        ("choices whose is_greedy differs", str(rep.greedy_diff), ""),
        ("acc (workbench / harness)", f"{_mean(rep.wb_acc)} / {_mean(rep.hs_acc)}", "equal"),
        ("acc_norm (workbench / harness)", f"{_mean(rep.wb_acc_norm)} / {_mean(rep.hs_acc_norm)}", "equal"),
    ]
    lines = [
        f"### {args.subset} test, first {args.limit} items, {args.shots}-shot: {verdict}",
        "",
        f"- date: {meta['date']}; machine: {meta['machine']}",
        f"- model: {args.model} -> `{meta['model_dir']}` (float32, batch size {args.batch_size})",
        f"- workbench: {meta['wb_versions']}; {meta['wb_seconds']:.0f} s",
        f"- workbench code: {meta['source']}",
        f"- harness: {meta['hs_versions']}; {meta['hs_seconds']:.0f} s; task keys from `{meta['arc_yaml']}`",
        f"- command: `{meta['command']}`",
        "",
        "| check | result | target |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
    ]
    if rep.count_mismatch:
        lines += ["", f"- {rep.count_mismatch}"]
    lines += [f"- {n}" for n in rep.notes[:20]]
    return "\n".join(lines) + "\n"


def machine() -> str:
    """CPU model and core count, e.g. 'Linux x86_64, Intel(R) Xeon(R) ..., 2 CPU cores'."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.system()} {platform.machine()}, {cpu}, {cores} CPU cores"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--limit", type=int, default=200, help="first N test items (default 200)")
    p.add_argument("--subset", choices=sorted(SUBSETS), default="ARC-Easy", help="ARC set (default ARC-Easy)")
    p.add_argument("--shots", type=int, default=0, help="few-shot examples from the train split (default 0)")
    p.add_argument("--model", default="smollm2-135m", help="workbench model: alias, .gguf file or local directory")
    p.add_argument("--batch-size", type=int, default=16, help="batch size of both runs (default 16)")
    p.add_argument("--tolerance", type=float, default=1e-3, help="max abs loglikelihood diff in nats (default 1e-3)")
    p.add_argument(
        "--data-dir",
        default=os.environ.get("WORKBENCH_DATA_DIR"),
        help="mirror root holding arc/ (default $WORKBENCH_DATA_DIR)",
    )
    p.add_argument(
        "--lmeval-python",
        default=os.environ.get("LMEVAL_PYTHON", DEFAULT_LMEVAL_PYTHON),
        help=f"side venv python with lm-eval 0.4.13 (default $LMEVAL_PYTHON or {DEFAULT_LMEVAL_PYTHON})",
    )
    p.add_argument("--out", help="also write the markdown result to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (task YAML, JSONL, harness log)")
    args = p.parse_args(argv)
    if args.limit < 1 or args.shots < 0 or args.batch_size < 1:
        p.error("--limit and --batch-size must be >= 1, --shots >= 0")
    if not args.data_dir:
        p.error("set --data-dir or $WORKBENCH_DATA_DIR to the data mirror root (it holds arc/ARC-Easy/...)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = Path(args.data_dir).expanduser().resolve()
    os.environ["WORKBENCH_DATA_DIR"] = str(data_dir)  # the workbench reads the same mirror files
    from workbench.run.provenance import versions

    work = Path(tempfile.mkdtemp(prefix="parity_arc."))
    task = f"parity_{SUBSETS[args.subset]}"
    info = harness_info(args.lmeval_python)
    if info["versions"]["lm_eval"] != "0.4.13":
        print(f"warning: side venv has lm-eval {info['versions']['lm_eval']}, not 0.4.13", file=sys.stderr)
    task_dir = work / "tasks"
    task_dir.mkdir()
    files = write_hub_splits(data_dir, args.subset, work)
    write_task_yaml(task_dir, task, files, info["config"])

    model_dir = model_directory(args.model)
    hashes = source_hashes()
    source = source_fingerprint(hashes)
    t0 = time.time()
    wb = run_workbench(args, work / "workbench.sqlite")
    t1 = time.time()
    hs = run_harness(args.lmeval_python, model_dir, task, task_dir, work, args)
    t2 = time.time()

    rep = compare(wb, hs, info["config"].get("target_delimiter", " "))
    if changed := changed_imported_files(hashes):
        rep.notes.append(
            f"workbench files this run imported changed on disk while it ran ({', '.join(changed)}); the code "
            "fingerprint is from the start (what ran, unless a file changed before its first import)"
        )
    wv = versions()
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "model_dir": model_dir,
        "source": source,
        "wb_versions": f"workbench {wv['workbench']}, torch {wv['torch']}, transformers {wv['transformers']}",
        "hs_versions": ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k != "python"),
        "wb_seconds": t1 - t0,
        "hs_seconds": t2 - t1,
        "arc_yaml": info["arc_easy_yaml"],
        "command": shlex.join(["python", "benchmarks/parity_arc.py", *(sys.argv[1:] if argv is None else argv)]),
    }
    text = render(rep, args, meta)
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    if args.keep:
        print(f"kept {work}", file=sys.stderr)
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0 if rep.ok(args.tolerance) else 1


if __name__ == "__main__":
    sys.exit(main())
