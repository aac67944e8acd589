"""The tables: every option of every command (eval, runs, ppl, grid, compare, score, judge, rate, arena, trend)."""

from __future__ import annotations

from ..models.registry import DEFAULT_MODEL, split_specs
from .judging import CALIBRATE, JUDGE_BATCH, JUDGE_MAX_NEW_TOKENS, JUDGE_PROMPT, judge_turns
from .parsing import REFERENCE, parse_params, prompt_options, rubric, split_list, texts
from .spec import Option
from .speed import THROUGHPUT_OPTIONS, VARIANT_OPTIONS

STORE = Option(
    "store",
    ("--store",),
    "Project store file (default $WORKBENCH_STORE, else the nearest workbench.sqlite up to the project's root).",
    call="never",
)

SEPARATE = Option(
    "separate",
    ("--separate",),
    "Start a run of its own even when another live process is running the same call (default: refuse, naming it).",
    default=False,
    action="store_true",
)

# where and how local weights run (models/loading.py): the run records them resolved in its model identity, and
# they enter the run key through it (registry.load_key) only when they change numbers; the command shows them
LOAD: list[Option] = [
    Option(
        "device",
        ("--device",),
        "Where local weights run: auto (CUDA if present, else MPS, else CPU), cpu, cuda, cuda:N or mps.",
    ),
    Option(
        "dtype",
        ("--dtype",),
        "Number format of local weights: auto (float32 on the CPU, bfloat16 on CUDA), float32, bfloat16, float16, "
        "int8.",
        choices=("auto", "float32", "bfloat16", "float16", "int8"),
    ),
    Option(
        "adapter",
        ("--adapter",),
        "A PEFT (LoRA) adapter folder, merged into the base model; recorded with its weights fingerprint.",
        recorded=lambda adapter: str(adapter) if adapter else None,
    ),
    Option(
        "backend",
        ("--backend",),
        "Run a GGUF alias or file through llama.cpp as deployed (llama.cpp) instead of dequantized (transformers).",
        choices=("transformers", "llama.cpp"),
    ),
]

EVAL: list[Option] = [
    Option(
        "task",
        help="Task, group or suite to run, e.g. arc_easy, mmlu:anatomy, arc or open_llm_leaderboard (--list or "
        "`workbench tasks` lists them).",
        nargs="?",
        key=True,
        call="always",
    ),
    Option(
        "model",
        ("--model", "-m"),
        f"Alias, .gguf file, transformers directory or hub id (default {DEFAULT_MODEL}); several as a,b,c make a "
        "leaderboard.",
        default=DEFAULT_MODEL,
        call="always",
    ),
    Option("limit", ("--limit",), "Evaluate only the first N items (default: all).", type=int, config=True, key=True),
    Option(
        "shots",
        ("--shots",),
        "Few-shot examples (default: the task's own, 0; 5 for gsm8k).",
        type=int,
        config=True,
        key=True,
    ),
    Option(
        "data",
        ("--data",),
        "Your own JSONL/CSV/Parquet file of rows instead of the hub/mirror.",
        config=True,
        recorded=lambda data: str(data or ""),
    ),
    Option(
        "mode",
        ("--mode",),
        "Multiple-choice scoring: loglikelihood (default, as the harness), generate (the model writes the option's "
        "label, zero-shot, as Horangi), or both (the same items both ways, compared).",
        choices=("loglikelihood", "generate", "both"),
        config=True,
    ),
    Option(
        "chat",
        ("--chat",),
        "Send generated prompts through the model's chat template.",
        default=False,
        action="store_true",
        config=True,
    ),
    Option(
        "max_new_tokens",
        ("--max-new-tokens",),
        "Cap on generated tokens for tasks that generate (gsm8k, mt_bench; default the task's own).",
        type=int,
        config=True,
        key="if_set",
    ),
    Option(
        "list",
        ("--list",),
        "List the tasks (size, splits, metrics, source) and stop.",
        default=False,
        action="store_true",
        keyword=False,
        call="never",
    ),
    Option(
        "batch_size",
        ("--batch-size",),
        "Requests per forward pass (default 16); results do not depend on it.",
        default=16,
        type=int,
        config=True,
        call="never",
    ),
    *LOAD,
    SEPARATE,
    STORE,
    Option(
        "fewshot_seed",
        help="The harness's seed for drawing few-shot examples.",
        default=1234,
        shells=(),
        keyword=False,
        config=True,
        call="never",
    ),
]

RUNS: list[Option] = [STORE]

PPL: list[Option] = [
    Option(
        "texts",
        help="A file (one text per row/line column), a variable holding texts, or the text itself.",
        metavar="text",
        variable=True,
        parse=texts,
        call="never",
    ),
    Option(
        "model",
        ("--model", "-m"),
        f"Model to score with (default {DEFAULT_MODEL}).",
        default=DEFAULT_MODEL,
        call="always",
    ),
    Option("column", ("--column",), "Column holding the text (default 'text').", default="text", config=True),
    Option("limit", ("--limit",), "Only the first N texts.", type=int, config=True),
    SEPARATE,
    STORE,
]

GRID: list[Option] = [
    Option(
        "prompts",
        ("--prompt",),
        "A prompt template with {placeholders} (repeat for more; NAME=TEMPLATE names it).",
        default=(),
        action="append",
        metavar="PROMPT",
        parse=prompt_options,
        shells=("cli",),  # a %%llm_grid cell holds the templates
        call="never",
    ),
    Option(
        "models",
        ("--models", "-m"),
        f"Models, comma-separated (default {DEFAULT_MODEL}).",
        default=DEFAULT_MODEL,
        parse=lambda text: split_specs(text) if isinstance(text, str) else text,
        call="always",
    ),
    Option(
        "rows",
        ("--rows",),
        "A data file, a task name (its eval split), or a variable's name.",
        variable=True,
        call="always",
    ),
    Option("reference", ("--reference",), "Column with the reference answer (enables metrics).", config=True),
    Option(
        "metrics",
        ("--metrics",),
        "Comma-separated metrics (default chrf,rougeL with a reference): ours, evaluate:NAME or a script's path.",
        parse=split_list,
        config=True,
    ),
    Option(
        "params",
        ("--param", "-p"),
        "KEY=VALUE[,VALUE...] generation parameter to vary (temperature, max_new_tokens, seed; "
        "system and stop take the whole value: repeat the option for more values).",
        default=(),
        action="append",
        metavar="PARAM",
        parse=parse_params,
    ),
    Option("limit", ("--limit",), "Only the first N rows.", type=int, config=True),
    Option("lang", ("--lang",), "Target language for BLEU's tokenizer (e.g. ko); default from text.", config=True),
    SEPARATE,
    STORE,
    Option(
        "ppl_model",
        help="Model scoring outputs for the 'perplexity' metric.",
        default=DEFAULT_MODEL,
        shells=(),
        config=True,
    ),
    Option("batch_size", help="Prompts generated at once.", default=8, shells=(), call="never"),
]

COMPARE: list[Option] = [
    Option("run_a", help="Run id A (the baseline)."),
    Option("run_b", help="Run id B."),
    Option("metric", ("--metric",), "Metric to compare (default: the first both runs score per item)."),
    STORE,
]

SCORE: list[Option] = [
    Option(
        "data",
        help="A file (JSONL/JSON/CSV/TSV/Parquet) or a variable holding a DataFrame or rows.",
        variable=True,
        call="never",
    ),
    Option(
        "metrics",
        ("--metrics",),
        "Comma-separated metrics (default bleu,chrf,rougeL): ours, evaluate:NAME or a script's path.",
        default="bleu,chrf,rougeL",
        parse=split_list,
        config=True,
        call="always",
    ),
    Option(
        "prediction",
        ("--prediction",),
        "Column with the outputs (default 'prediction').",
        default="prediction",
        config=True,
    ),
    Option(
        "reference",
        ("--reference",),
        "Column with the references (default 'reference').",
        default="reference",
        config=True,
    ),
    Option("by", ("--by",), "Score each value of this column separately (e.g. system).", config=True),
    Option("key", ("--key",), "Item id column, so saved groups line up for comparison."),
    Option("lang", ("--lang",), "Target language for BLEU's tokenizer (e.g. ko); default from text.", config=True),
    Option(
        "save",
        ("--save",),
        "Save each group as a run (to compare them).",
        default=False,
        action="store_true",
        call="never",
    ),
    STORE,
    Option("limit", help="Only the first N rows.", shells=()),
    Option("name", help="Task name of the saved runs.", default="score", shells=(), call="never"),
]

PARTIAL = Option(
    "partial",
    ("--partial",),
    "Use a run that is not complete (its saved items only); the result records that it covers part of the run.",
    default=False,
    action="store_true",
)

JUDGE: list[Option] = [
    Option(
        "runs",
        help="One run id (single grading) or two (pairwise comparison).",
        nargs="+",
        keyword=False,
        config=True,
        key=True,
    ),
    Option(
        "judge",
        ("--judge", "-j"),
        "Judge model: openai:gpt-4o (key in $OPENAI_API_KEY), openai:MODEL@http://HOST:PORT/v1, or a local model "
        "such as smollm2-135m.",
        call="always",
    ),
    Option(
        "mode", ("--mode",), "Default: by the number of runs.", choices=("single", "pairwise"), config=True, key=True
    ),
    Option(
        "reference",
        ("--reference",),
        "Show reference answers: auto (math, reasoning, coding), yes (wherever one exists), no.",
        default="auto",
        choices=tuple(REFERENCE),
        parse=REFERENCE.__getitem__,
        config=True,
        key=True,
    ),
    judge_turns("Judge only these turns, e.g. 1 or 1,2 (default: every turn)."),
    *JUDGE_PROMPT,
    Option("limit", ("--limit",), "Judge only the first N items.", type=int, config=True, key=True),
    JUDGE_MAX_NEW_TOKENS,
    PARTIAL,
    SEPARATE,
    STORE,
    JUDGE_BATCH,
    Option(
        "temperature",
        help="Judges answer greedily.",
        default=0.0,
        shells=(),
        keyword=False,
        config=True,
        key=True,
        call="never",
    ),
]

RATE: list[Option] = [
    Option("source", help="Run id to rate (default: the newest run).", nargs="?", metavar="run"),
    Option(
        "rubric",
        ("--rubric",),
        "1-5, 1-10, pass/fail, or labels separated by commas (good,bad,unsure).",
        default="1-5",
        parse=rubric,
    ),
    Option("annotator", ("--annotator",), "Your name (else type it in the panel)."),
    PARTIAL,
    STORE,
]

ARENA: list[Option] = [
    Option("runs", help="Two or more run ids answering the same items.", nargs="+", keyword=False),
    Option("annotator", ("--annotator",), "Your name (else type it in the panel)."),
    Option("name", ("--name",), "Session name in the store (default: the models compared)."),
    PARTIAL,
    STORE,
]

TREND: list[Option] = [
    Option("task", help="The task whose repeated runs to follow, e.g. gsm8k."),
    Option(
        "model",
        ("--model", "-m"),
        f"The model as it was evaluated, e.g. openai:gpt-4o-mini (default {DEFAULT_MODEL}).",
        default=DEFAULT_MODEL,
    ),
    Option("metric", ("--metric",), "Metric to follow (default: the task's headline metric, e.g. acc)."),
    Option("limit", ("--limit",), "Only runs made with this --limit (default: as the newest run).", type=int),
    Option("shots", ("--shots",), "Only runs made with this --shots (default: as the newest run).", type=int),
    Option(
        "mode",
        ("--mode",),
        "Only runs scored this way (default: as the newest run).",
        choices=("loglikelihood", "generate"),
    ),
    Option(
        "chat",
        ("--chat",),
        "Only runs made with --chat (default: as the newest run).",
        action="store_true",
        parse=lambda chat: True if chat else None,  # left out: any, as the newest run
    ),
    Option(
        "max_new_tokens", ("--max-new-tokens",), "Only runs made with this cap (default: as the newest run).", type=int
    ),
    Option("data", ("--data",), "Only runs of this data file (default: as the newest run)."),
    STORE,
]

CHECK: list[Option] = [
    Option(
        "spec",
        help="The gate spec: a YAML file naming the tasks, model(s), settings, baseline and rules (docs/ci-gate.md).",
    ),
    Option("junit", ("--junit",), "Also write JUnit XML for CI systems (one test case per rule) to this file."),
    Option(
        "save_baseline",
        ("--save-baseline",),
        "Write a baseline file (JSON, each item's values) from this check's runs, to commit and name in the spec "
        "as baseline: {file: ...}.",
    ),
    STORE,
]

EXPORT: list[Option] = [
    Option("target", help="Where to export: mlflow.", choices=("mlflow",), keyword=False),
    Option("runs", help="Run ids (or prefixes) to export; `workbench runs` lists them.", nargs="+", keyword=False),
    Option(
        "tracking_uri",
        ("--tracking-uri",),
        "MLflow tracking URI, e.g. http://127.0.0.1:5000 (default: MLflow's own, $MLFLOW_TRACKING_URI or "
        "sqlite:///mlflow.db). A login is read from MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD.",
    ),
    Option("experiment", ("--experiment",), "MLflow experiment (made when missing).", default="workbench"),
    Option(
        "tag_model_version",
        ("--tag-model-version",),
        "Also write the scores as tags on the MLflow registry version each run evaluated (mlflow:models:/... models).",
        action="store_true",
    ),
    STORE,
]

JUDGE_CALIBRATE: list[Option] = [*CALIBRATE, SEPARATE, STORE]

REPORT: list[Option] = [
    Option(
        "items",
        help="Run ids (or prefixes; `workbench runs` lists them), or a group or suite name (e.g. arc: the newest "
        "complete runs of its members).",
        nargs="+",
        keyword=False,
        metavar="RUN_OR_SUITE",
    ),
    Option("path", ("--output", "-o"), "The HTML file to write (default report.html).", default="report.html"),
    Option("title", ("--title",), "The report's title (default: what it shows)."),
    STORE,
]

VARIANTS: list[Option] = [*VARIANT_OPTIONS, STORE]
THROUGHPUT: list[Option] = [*THROUGHPUT_OPTIONS, *(o for o in LOAD if o.name != "adapter"), STORE]

# command name -> its table, for the shells and the tests
TABLES: dict[str, list[Option]] = {
    "eval": EVAL,
    "runs": RUNS,
    "ppl": PPL,
    "grid": GRID,
    "compare": COMPARE,
    "score": SCORE,
    "judge": JUDGE,
    "judge_calibrate": JUDGE_CALIBRATE,
    "rate": RATE,
    "arena": ARENA,
    "check": CHECK,
    "trend": TREND,
    "export": EXPORT,
    "report": REPORT,
    "variants": VARIANTS,
    "throughput": THROUGHPUT,
}
