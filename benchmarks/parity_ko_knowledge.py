"""Per-item parity of the workbench's KMMLU and HAE-RAE Bench with lm-evaluation-harness 0.4.13 (same rows, weights).

No KMMLU or HAE-RAE data is on this machine, so the script writes a small set of rows in the hub schema (Korean
text, as the hub's CSV files hold them) to a temporary mirror: ``kmmlu/data/<Config>-{dev,test}.csv`` for four
subjects (one per category) and ``haerae/data/<config>-test.csv`` for the five subsets. Both sides read those
same files:

1. lm-evaluation-harness (side venv, ``--model hf`` float32 on the CPU, ``--log_samples``) on custom tasks that
   ``include:`` the harness's own ``kmmlu/default/kmmlu_<subject>.yaml`` and ``haerae/haerae_*.yaml`` (prompt,
   choices, target, splits, metrics untouched) and swap only the dataset (``dataset_path: csv`` with
   ``data_files``), grouped as the harness groups them (``weight_by_size``);
2. the workbench with ``$WORKBENCH_DATA_DIR`` at the temporary mirror (0-shot ``kmmlu`` reads the same rows from
   a ``data=`` file with a ``subject`` column, through the group task);

twice: zero-shot (the harness's default) and ``--shots K``. Compared request for request: every (context,
continuation) pair, gold, the per-choice log-likelihoods, pred, per-item acc / acc_norm; then the group scores
(acc and its pooled stderr). Prints a table, writes benchmarks/results/parity_ko_knowledge.json, exits 1 on any
difference.

    python benchmarks/parity_ko_knowledge.py                 # limit 4 per subject, 0-shot and 3-shot
    python benchmarks/parity_ko_knowledge.py --shots 2 --workdir /tmp/pk --out /tmp/pk.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness_tasks import lm_eval_command, offline_env  # noqa: E402
from parity_arc import DEFAULT_LMEVAL_PYTHON, argmax, harness_info, machine, model_directory  # noqa: E402

Row = dict[str, Any]
RESULTS = Path(__file__).resolve().parent / "results" / "parity_ko_knowledge.json"


# ---- the rows (hub schema) ----------------------------------------------------------------------------------
def kmmlu_row(question: Any, options: list[Any], answer: int, category: str = "HUMSS") -> Row:
    return {"question": question, "answer": answer, **dict(zip("ABCD", options)), "Category": category,
            "Human Accuracy": 0.5}  # fmt: skip


KMMLU_ROWS: dict[str, dict[str, list[Row]]] = {
    "korean_history": {
        "dev": [
            kmmlu_row("고려를 세운 인물은?", ["왕건", "궁예", "견훤", "이성계"], 1),
            kmmlu_row("조선의 마지막 왕은?", ["고종", "순종", "철종", "헌종"], 2),
            kmmlu_row("3·1 운동이 일어난 해는?", ["1910년", "1919년", "1945년", "1950년"], 2),
            kmmlu_row("팔만대장경이 만들어진 시대는?", ["신라", "고려", "조선", "백제"], 2),
            kmmlu_row("한글을 창제한 왕은?", ["태조", "태종", "세종", "세조"], 3),
        ],
        "test": [
            kmmlu_row("  조선을 건국한 인물은?\n", ["왕건", "이성계", "궁예", "견훤"], 2),
            kmmlu_row("임진왜란이 일어난 해는?", ["1592년", "1636년", "1876년", "1910년"], 1),
            kmmlu_row("대한민국 임시 정부가 수립된 도시는?", ["베이징", "상하이", "도쿄", "충칭"], 2),
            kmmlu_row("다음 중 삼국 시대의 나라가 아닌 것은?", ["고구려", "백제", "신라", "발해"], 4),
            kmmlu_row("훈민정음이 반포된 해는?", ["1443년", "1446년", "1592년", "1910년"], 2),
        ],
    },
    "math": {  # numeric options: the hub's CSV loader gives ints (an empty cell makes the column float)
        "dev": [
            kmmlu_row("1 + 1의 값은?", [1, 2, 3, 4], 2, "STEM"),
            kmmlu_row("3 × 3의 값은?", [6, 8, 9, 12], 3, "STEM"),
            kmmlu_row("10 ÷ 2의 값은?", [2, 5, 8, 20], 2, "STEM"),
            kmmlu_row("2의 세제곱은?", [4, 6, 8, None], 3, "STEM"),
            kmmlu_row("7 - 4의 값은?", [3, 4, 11, 2], 1, "STEM"),
        ],
        "test": [
            kmmlu_row("2 + 3의 값은?", [3, 4, 6, 5], 4, "STEM"),
            kmmlu_row("7 × 6의 값은?", [40, 42, 44, 48], 2, "STEM"),
            kmmlu_row("100의 제곱근은?", [5, 10, 20, 50], 2, "STEM"),
            kmmlu_row("x + 2 = 5일 때 x의 값은?", [1, 2, 3, 4], 3, "STEM"),
        ],
    },
    "fashion": {
        "dev": [
            kmmlu_row("면 섬유의 원료는?", ["목화", "누에고치", "양털", "석유"], 1, "Other"),
            kmmlu_row("견 섬유를 만드는 곤충은?", ["벌", "누에", "나비", "개미"], 2, "Other"),
            kmmlu_row("한복 저고리의 앞을 여미는 끈은?", ["고름", "깃", "섶", "소매"], 1, "Other"),
            kmmlu_row("다음 중 합성 섬유는?", ["면", "마", "나일론", "모"], 3, "Other"),
            kmmlu_row("옷감의 세로 방향 실은?", ["씨실", "날실", "바늘땀", "솔기"], 2, "Other"),
        ],
        "test": [
            kmmlu_row("양모의 주성분은?", ["셀룰로스", "케라틴", "피브로인", "폴리에스터"], 2, "Other"),
            kmmlu_row("다음 중 식물성 섬유는?", ["견", "모", "마", "나일론"], 3, "Other"),
            kmmlu_row("치마의 길이가 무릎 위인 것은?", ["맥시", "미디", "미니", ""], 3, "Other"),  # an empty option
            kmmlu_row("한복에서 바지를 여미는 끈은?", ["대님", "고름", "허리띠", "동정"], 1, "Other"),
        ],
    },
    "geomatics": {
        "dev": [
            kmmlu_row("지도의 축척 1:50,000에서 1 cm는 실제 몇 m인가?", ["50", "500", "5,000", "50,000"], 2, "Applied"),
            kmmlu_row("GPS 위성 측위에 필요한 최소 위성 수는?", ["2개", "3개", "4개", "6개"], 3, "Applied"),
            kmmlu_row("등고선 간격이 좁을수록 경사는?", ["완만하다", "급하다", "같다", "알 수 없다"], 2, "Applied"),
            kmmlu_row("수준 측량으로 구하는 것은?", ["거리", "각도", "높이", "면적"], 3, "Applied"),
            kmmlu_row("우리나라 측량의 기준 원점이 있는 곳은?", ["서울", "부산", "대전", "인천"], 1, "Applied"),
        ],
        "test": [
            kmmlu_row("삼각 측량에서 직접 재는 것은?", ["각", "높이", "면적", "부피"], 1, "Applied"),
            kmmlu_row("등고선이 서로 만나는 곳은?", ["평지", "절벽", "하천", "능선"], 2, "Applied"),
            kmmlu_row("위도 0도의 선은?", ["본초 자오선", "적도", "회귀선", "날짜 변경선"], 2, "Applied"),
            kmmlu_row("축척이 큰 지도는?", ["1:1,000", "1:50,000", "1:250,000", "1:1,000,000"], 1, "Applied"),
        ],
    },
}


def haerae_row(question: str, options: list[str], answer: str) -> Row:
    listed = "\n".join(f"({'ABCDE'[i]}) {o}" for i, o in enumerate(options))
    query = (
        "다음 질문을 읽고 정답으로 가장 알맞은 것을 고르시요.\n\n"
        f"### 질문: \n{question}\n\n### 선택지: \n{listed}\n\n### 정답:"
    )
    return {"query": query, "answer": answer, "options": str(options)}


HAERAE_ROWS: dict[str, list[Row]] = {
    "general_knowledge": [
        haerae_row("설날에 먹는 대표적인 음식은?", ["송편", "떡국", "팥죽", "냉면", "삼계탕"], "(B)"),
        haerae_row("추석에 빚어 먹는 떡은?", ["송편", "인절미", "시루떡", "가래떡", "절편"], "(A)"),
        haerae_row("대한민국의 국화는?", ["진달래", "개나리", "무궁화", "벚꽃", "장미"], "(C)"),
        haerae_row("김치를 담그는 행사를 이르는 말은?", ["김장", "장독", "잔치", "돌잔치", "환갑"], "(A)"),
        haerae_row("헌법 제1조가 정한 국가 형태는?", ["군주국", "연방국", "민주공화국", "입헌군주국", "독재국"], "(C)"),
    ],
    "history": [
        haerae_row("고구려를 세운 인물은?", ["온조", "주몽", "박혁거세", "김수로", "대조영"], "(B)"),
        haerae_row("발해를 세운 인물은?", ["대조영", "궁예", "견훤", "왕건", "주몽"], "(A)"),
        haerae_row("거북선을 만든 장군은?", ["강감찬", "을지문덕", "권율", "이순신", "김유신"], "(D)"),
        haerae_row("신라의 삼국 통일을 이끈 왕은?", ["진흥왕", "법흥왕", "문무왕", "선덕여왕", "지증왕"], "(C)"),
        haerae_row("조선의 수도는?", ["개경", "한양", "경주", "평양", "공주"], "(B)"),
    ],
    "loan_words": [
        haerae_row("언택트의 순화어로 알맞은 것은?", ["비전속", "부대기", "기대주", "상대방", "비대면"], "(E)"),
        haerae_row("스크린도어의 순화어로 알맞은 것은?", ["안전문", "출입문", "유리문", "방풍문", "차단문"], "(A)"),
        haerae_row("로드맵의 순화어로 알맞은 것은?", ["청사진", "단계별 이행안", "이정표", "지도", "계획서"], "(B)"),
        haerae_row("팝업 창의 순화어로 알맞은 것은?", ["알림창", "대화창", "반짝창", "새창", "쪽창"], "(C)"),
    ],
    "rare_words": [
        haerae_row("'매우 적은 분량'을 뜻하는 말은?", ["한아름", "쥐꼬리", "바가지", "한가득", "무더기"], "(B)"),
        haerae_row("'해가 질 무렵'을 뜻하는 말은?", ["새벽", "한낮", "해거름", "자정", "동틀녘"], "(C)"),
        haerae_row("'몹시 가난함'을 뜻하는 말은?", ["넉넉함", "찢어지게", "푸짐함", "알뜰함", "두둑함"], "(B)"),
        haerae_row("'눈이 조금 내림'을 뜻하는 말은?", ["함박눈", "진눈깨비", "싸라기눈", "눈보라", "자국눈"], "(E)"),
    ],
    "standard_nomenclature": [
        haerae_row("'핸드폰'의 표준어로 알맞은 것은?", ["휴대 전화", "손전화", "이동기", "무선기", "전화통"], "(A)"),
        haerae_row("'짜장면'과 함께 표준어로 인정된 말은?", ["자장면", "작장면", "쨔장면", "자쟝면", "짜쟝면"], "(A)"),
        haerae_row("'웃어른'의 올바른 표기는?", ["윗어른", "웃어른", "위어른", "웃얼은", "윗얼은"], "(B)"),
        haerae_row("'설거지'의 올바른 표기는?", ["설겆이", "설것이", "설거지", "설겇이", "설걷이"], "(C)"),
    ],
}  # fmt: skip


# ---- data and harness tasks -----------------------------------------------------------------------------------
def write_mirror(work: Path) -> dict[str, dict[str, Path]]:
    """The rows as the hub's CSV files, in the workbench's mirror layout; {harness task: {split: file}}."""
    import pandas as pd

    from workbench.data import haerae as haerae_data
    from workbench.data import kmmlu as kmmlu_data

    files: dict[str, dict[str, Path]] = {}
    kdir, hdir = work / "mirror" / "kmmlu" / "data", work / "mirror" / "haerae" / "data"
    kdir.mkdir(parents=True, exist_ok=True)
    hdir.mkdir(parents=True, exist_ok=True)
    for subject, splits in KMMLU_ROWS.items():
        config = kmmlu_data.SUBJECTS[subject][0]
        for split, rows in splits.items():
            path = kdir / f"{config}-{split}.csv"
            pd.DataFrame(rows).to_csv(path, index=False)
            files.setdefault(f"kmmlu_{subject}", {})[split] = path
    for subset, rows in HAERAE_ROWS.items():
        path = hdir / f"{subset}-test.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        files[haerae_data.SUBSETS[subset]] = {"test": path}
    # the workbench's 0-shot kmmlu group run reads every subject's test rows from one data= file with a subject
    # column: the rows as the mirror (the hub's CSV loader) gives them, so an empty cell is the same None there
    from workbench.data import load_rows

    with open(work / "kmmlu-test.jsonl", "w", encoding="utf-8") as f:
        for row in load_rows(kmmlu_data.spec(list(KMMLU_ROWS)), "test").rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return files


def write_tasks(harness_tasks: Path, files: dict[str, dict[str, Path]], task_dir: Path) -> None:
    """One task per harness task, including its own YAML with only the dataset swapped; two weight_by_size groups."""
    task_dir.mkdir(parents=True, exist_ok=True)
    short = {"haerae_general_knowledge": "gk", "haerae_history": "hi", "haerae_loan_word": "lw",
             "haerae_rare_word": "rw", "haerae_standard_nomenclature": "sn"}  # fmt: skip
    for task, splits in files.items():
        yaml_path = (
            harness_tasks / "kmmlu" / "default" / f"{task}.yaml"
            if task.startswith("kmmlu_")
            else harness_tasks / "haerae" / f"haerae_{short[task]}.yaml"
        )
        cfg: Row = {
            "include": str(yaml_path),
            "task": f"parity_{task}",
            "tag": "parity_ko_knowledge",
            "dataset_path": "csv",
            "dataset_name": None,
            "dataset_kwargs": {"data_files": {split: str(p) for split, p in splits.items()}},
        }
        (task_dir / f"parity_{task}.yaml").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    for group, metrics in (("kmmlu", ["acc"]), ("haerae", ["acc", "acc_norm"])):
        group_cfg: Row = {
            "group": f"parity_{group}",
            "task": [f"parity_{t}" for t in files if t.startswith(group)],
            "aggregate_metric_list": [{"metric": m, "weight_by_size": True} for m in metrics],
            "metadata": {"version": 1.0},
        }
        (task_dir / f"parity_{group}_group.yaml").write_text(json.dumps(group_cfg, indent=2) + "\n")


def run_harness(args: argparse.Namespace, model_dir: Path, work: Path, shots: int) -> Path:
    """``lm_eval run`` on both groups with ``--num_fewshot shots`` (skipped when the workdir already holds it)."""
    out_dir = work / f"harness-{shots}shot"
    if list(out_dir.rglob("results_*.json")):
        print(f"[harness] {shots}-shot: reusing {out_dir}", file=sys.stderr)
        return out_dir
    cmd = lm_eval_command(
        args.lmeval_python, model_dir, ["parity_kmmlu", "parity_haerae"], work / "tasks", args.limit,
        args.batch_size, out_dir, num_fewshot=shots,
    )  # fmt: skip
    log = work / f"harness-{shots}shot.log"
    print(f"[harness] {shlex.join(cmd)}", file=sys.stderr)
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=offline_env(work / "hf"), check=False)
    if proc.returncode != 0:
        sys.exit(f"lm-eval failed (exit {proc.returncode}); last lines of {log}:\n{log.read_text()[-3000:]}")
    return out_dir


def harness_samples(out_dir: Path, task: str) -> list[Row]:
    found = sorted(out_dir.rglob(f"samples_parity_{task}_*.jsonl"))
    if not found:
        sys.exit(f"no samples_parity_{task}_*.jsonl under {out_dir}")
    with open(found[-1], encoding="utf-8") as f:
        return sorted((json.loads(line) for line in f if line.strip()), key=lambda r: r["doc_id"])


def harness_groups(out_dir: Path) -> Row:
    results: Row = {}
    for path in sorted(out_dir.rglob("results_*.json")):
        data = json.loads(path.read_text())
        results.update(data.get("results", {}))
        results.update(data.get("groups", {}))
    return results


# ---- workbench ------------------------------------------------------------------------------------------------
def run_workbench(args: argparse.Namespace, work: Path, shots: int) -> dict[str, Row]:
    """{"kmmlu": records+metrics, "haerae": ...}; 0-shot kmmlu is the group task on a data= file, K-shot kmmlu the
    subject tasks on the mirror (the group would need all 45 subjects' dev files), haerae the group on the mirror."""
    import workbench

    out = work / f"workbench-{shots}shot.json"
    if out.exists():
        print(f"[workbench] {shots}-shot: reusing {out}", file=sys.stderr)
        return json.loads(out.read_text())
    store = work / "workbench.sqlite"
    runs: dict[str, Row] = {}

    def run(task: str, **kw: Any) -> Row:
        print(f"[workbench] {task} {shots}-shot", file=sys.stderr)
        r = workbench.evaluate(task, args.model, limit=args.limit, shots=shots, batch_size=args.batch_size,
                               store=store, **kw)  # fmt: skip
        return {"metrics": r.metrics, "records": r.samples.to_dict(orient="records")}

    if shots == 0:
        runs["kmmlu"] = run("kmmlu", data=str(work / "kmmlu-test.jsonl"))
    else:
        per_subject = [run(f"kmmlu:{s}") for s in KMMLU_ROWS]
        from workbench.tasks import get_task

        records = [r for p in per_subject for r in p["records"]]
        runs["kmmlu"] = {"metrics": get_task("kmmlu").aggregate(records), "records": records}
    runs["haerae"] = run("haerae")
    out.write_text(json.dumps(runs, ensure_ascii=False, default=str))
    return runs


# ---- comparison -----------------------------------------------------------------------------------------------
@dataclass
class Check:
    setting: str
    task: str  # the harness task
    items: int = 0
    requests: int = 0
    prompt_diffs: list[int] = field(default_factory=list)
    gold_diffs: list[int] = field(default_factory=list)
    pred_diffs: list[int] = field(default_factory=list)
    score_diffs: list[int] = field(default_factory=list)  # per-item acc / acc_norm
    max_abs: float = 0.0
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)  # metric -> (workbench, harness)
    notes: list[str] = field(default_factory=list)

    def ok(self, tol: float) -> bool:
        diffs = self.prompt_diffs or self.gold_diffs or self.pred_diffs or self.score_diffs
        return not diffs and not self.notes and self.max_abs < tol


def compare_task(setting: str, task: str, wb: list[Row], hs: list[Row], metrics: list[str]) -> Check:
    c = Check(setting, task, items=len(hs))
    if len(wb) != len(hs):
        c.notes.append(f"workbench scored {len(wb)} items, harness {len(hs)}")
    for w, h in zip(wb, hs):
        doc = int(h["doc_id"])
        args = [h["arguments"][f"gen_args_{i}"] for i in range(len(h["arguments"]))]
        c.requests += len(args)
        if [(a["arg_0"], a["arg_1"]) for a in args] != [(w["prompt"], " " + ch) for ch in w["choices"]]:
            c.prompt_diffs.append(doc)
        target = h["target"]
        gold = w["choices"].index(target) if isinstance(target, str) and target in w["choices"] else int(target)
        if gold != int(w["gold"]):
            c.gold_diffs.append(doc)
        h_ll = [float(r[0]) for r in h["filtered_resps"]]
        w_ll = [float(x) for x in w["loglikelihoods"]]
        c.max_abs = max([c.max_abs, *(abs(a - b) for a, b in zip(w_ll, h_ll))])
        if argmax(h_ll) != int(w["pred"]) or len(h_ll) != len(w_ll):
            c.pred_diffs.append(doc)
        if any(float(w[m]) != float(h[m]) for m in metrics):
            c.score_diffs.append(doc)
    for m in metrics:
        c.scores[m] = (sum(float(w[m]) for w in wb) / max(len(wb), 1), sum(float(h[m]) for h in hs) / max(len(hs), 1))
    return c


def compare_setting(shots: int, wb: dict[str, Row], out_dir: Path, tol: float) -> tuple[list[Check], list[Row]]:
    from workbench.data import haerae as haerae_data

    setting = f"{shots}-shot"
    checks = []
    by_subject: dict[str, list[Row]] = {}
    for r in sorted(wb["kmmlu"]["records"], key=lambda r: int(r["doc_id"])):
        by_subject.setdefault(r["subject"], []).append(r)
    for subject in KMMLU_ROWS:
        checks.append(
            compare_task(setting, f"kmmlu_{subject}", by_subject.get(subject, []),
                         harness_samples(out_dir, f"kmmlu_{subject}"), ["acc"])
        )  # fmt: skip
    by_subset: dict[str, list[Row]] = {}
    for r in sorted(wb["haerae"]["records"], key=lambda r: int(r["doc_id"])):
        by_subset.setdefault(r["subset"], []).append(r)
    for subset, task in haerae_data.SUBSETS.items():
        checks.append(
            compare_task(setting, task, by_subset.get(subset, []), harness_samples(out_dir, task), ["acc", "acc_norm"])
        )
    groups = []
    hs_groups = harness_groups(out_dir)
    for name, metrics in (("kmmlu", ["acc"]), ("haerae", ["acc", "acc_norm"])):
        h = hs_groups.get(f"parity_{name}", {})
        w = wb[name]["metrics"]
        for m in metrics:
            for key in (m, f"{m}_stderr"):
                hv = h.get(f"{key},none")
                wv = w.get(key)
                same = hv is not None and wv is not None and abs(float(hv) - float(wv)) < 1e-9
                groups.append({"setting": setting, "group": name, "metric": key, "workbench": wv, "harness": hv,
                               "equal": same})  # fmt: skip
    return checks, groups


def _ids(ids: list[int]) -> str:
    return "0" if not ids else f"{len(ids)} (doc {', '.join(map(str, ids[:6]))})"


def render(checks: list[Check], groups: list[Row], meta: Row, tol: float) -> str:
    lines = [
        f"- date: {meta['date']}; machine: {meta['machine']}",
        f"- model: {meta['model']} -> `{meta['model_dir']}` (float32, batch size {meta['batch_size']} both sides)",
        f"- workbench: {meta['wb_versions']}; harness: {meta['hs_versions']}",
        f"- rows: {meta['rows']}; first {meta['limit']} test items of each subject / subset",
        f"- seconds: {meta['seconds']}",
        f"- command: `{meta['command']}`",
        "",
        "| shots | harness task | items | requests | prompts differing | gold differing | preds differing | "
        "per-item acc differing | max abs Δ loglikelihood | acc: workbench / harness | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in checks:
        scores = "; ".join(f"{m} {a:.4f} / {b:.4f}" for m, (a, b) in c.scores.items())
        verdict = "PASS" if c.ok(tol) else "FAIL"
        lines.append(
            f"| {c.setting} | {c.task} | {c.items} | {c.requests} | {_ids(c.prompt_diffs)} | {_ids(c.gold_diffs)} | "
            f"{_ids(c.pred_diffs)} | {_ids(c.score_diffs)} | {c.max_abs:.2e} | {scores} | {verdict} |"
        )
    lines += ["", "| shots | group | metric | workbench | harness | equal |", "|---|---|---|---|---|---|"]
    for g in groups:
        wv, hv = g["workbench"], g["harness"]
        lines.append(
            f"| {g['setting']} | {g['group']} | {g['metric']} | {wv if wv is None else f'{wv:.6f}'} | "
            f"{hv if hv is None else f'{float(hv):.6f}'} | {'yes' if g['equal'] else 'NO'} |"
        )
    notes = [f"- {c.setting} {c.task}: {n}" for c in checks for n in c.notes]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--limit", type=int, default=4, help="first N test items of each subject / subset (default 4)")
    p.add_argument("--shots", type=int, default=3, help="the few-shot setting checked besides 0-shot (default 3)")
    p.add_argument("--model", default="smollm2-135m", help="workbench model: alias, .gguf file or local directory")
    p.add_argument("--batch-size", type=int, default=16, help="batch size of both runs (default 16)")
    p.add_argument("--tolerance", type=float, default=1e-3, help="max abs loglikelihood diff in nats (default 1e-3)")
    p.add_argument("--lmeval-python", default=os.environ.get("LMEVAL_PYTHON", DEFAULT_LMEVAL_PYTHON))
    p.add_argument("--workdir", help="keep rows, YAMLs and both sides' outputs here (reused when present)")
    p.add_argument("--out", help="also write the markdown table to this file")
    p.add_argument(
        "--json", default=str(RESULTS), help="results file (default benchmarks/results/parity_ko_knowledge.json)"
    )
    args = p.parse_args(argv)
    if args.limit < 1 or not 1 <= args.shots <= 3:
        p.error("--limit must be >= 1 and --shots 1-3 (a HAE-RAE subset has 4 test rows: K shots + the item itself)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="parity_ko_knowledge.")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.environ["WORKBENCH_DATA_DIR"] = str(work / "mirror")  # the workbench reads the same CSV files
    from workbench.run.provenance import versions

    info = harness_info(args.lmeval_python)
    harness_tasks = Path(info["arc_easy_yaml"]).parents[1]
    files = write_mirror(work)
    write_tasks(harness_tasks, files, work / "tasks")
    model_dir = model_directory(args.model)
    checks: list[Check] = []
    groups: list[Row] = []
    seconds: Row = {}
    for shots in (0, args.shots):
        fresh = {"harness": not list((work / f"harness-{shots}shot").rglob("results_*.json")),
                 "workbench": not (work / f"workbench-{shots}shot.json").exists()}  # fmt: skip
        t = time.time()
        out_dir = run_harness(args, model_dir, work, shots)
        t_h = time.time()
        wb = run_workbench(args, work, shots)
        took = {"harness": t_h - t, "workbench": time.time() - t_h}
        seconds[f"{shots}-shot"] = {k: round(v, 1) if fresh[k] else "reused" for k, v in took.items()}
        c, g = compare_setting(shots, wb, out_dir, args.tolerance)
        checks += c
        groups += g
    wv = versions()
    n_kmmlu = sum(len(s["test"]) for s in KMMLU_ROWS.values())
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "model": args.model,
        "model_dir": str(model_dir),
        "batch_size": args.batch_size,
        "limit": args.limit,
        "shots": [0, args.shots],
        "rows": f"KMMLU {len(KMMLU_ROWS)} subjects ({', '.join(KMMLU_ROWS)}): {n_kmmlu} test rows, 5 dev rows each; "
        f"HAE-RAE {len(HAERAE_ROWS)} subsets: {sum(map(len, HAERAE_ROWS.values()))} test rows",
        "wb_versions": f"workbench {wv['workbench']}, torch {wv['torch']}, transformers {wv['transformers']}",
        "hs_versions": ", ".join(f"{k} {v}" for k, v in info["versions"].items() if k != "python"),
        "seconds": seconds,
        "command": shlex.join(
            ["python", "benchmarks/parity_ko_knowledge.py", *(sys.argv[1:] if argv is None else argv)]
        ),
    }
    text = render(checks, groups, meta, args.tolerance)
    print(text)
    ok = all(c.ok(args.tolerance) for c in checks) and all(g["equal"] for g in groups)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps({"meta": meta, "pass": ok, "tasks": [asdict(c) for c in checks], "groups": groups}, indent=2,
                   ensure_ascii=False) + "\n", encoding="utf-8",
    )  # fmt: skip
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(f"{'PASS' if ok else 'FAIL'}; results in {args.json}; work files in {work}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
