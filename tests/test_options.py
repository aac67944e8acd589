"""Options are defined once (workbench.options): the CLI, the magics, the Python keywords, the run config, the run
key and the recorded command are all derived from the tables, and the shells share their commands
(workbench.commands). No model is loaded here."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest

import workbench
import workbench.widgets
from workbench import api, cli, commands, comparison, grids, magics, options, scoring
from workbench.errors import WorkbenchError
from workbench.judge import calibration as judge_calibration
from workbench.judge import core as judge_core
from workbench.store import run_key

REPO = Path(__file__).resolve().parents[1]


# ---- helpers --------------------------------------------------------------------------------------------
def cli_subparser(name: str) -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def dests(parser: argparse.ArgumentParser) -> list[str]:
    return [a.dest for a in parser._actions if a.dest != "help"]


def magic_parser(table):
    @options.magic(table)
    def probe(self, line):
        """probe"""

    return probe.parser


def missing_keywords(table, function, leave_out=()) -> list[str]:
    """Keyword options of ``table`` that ``function`` does not take."""
    params = inspect.signature(function).parameters
    return [o.name for o in table if o.keyword and o.name not in params and o.name not in leave_out]


# ---- evaluate: config, run key and recorded command as api.evaluate writes them today -------------------
def todays_evaluate_record(task, model, *, limit, shots, batch_size, data, mode, chat, max_new_tokens):
    """The literal config, key fields and command of api.evaluate before the options tables (shots resolved)."""
    config = {
        "limit": limit,
        "shots": shots,
        "batch_size": batch_size,
        "fewshot_seed": 1234,
        "data": str(data or ""),
        "mode": mode,
        "chat": chat,
        "max_new_tokens": max_new_tokens,
    }
    key = {
        "task": task,
        "limit": limit,
        "shots": shots,
        **({"max_new_tokens": max_new_tokens} if max_new_tokens is not None else {}),
    }
    shown = {"model": model, "limit": limit, "shots": shots, "data": data, "mode": mode, "chat": chat or None}
    shown["max_new_tokens"] = max_new_tokens
    command = ", ".join([repr(task)] + [f"{k}={v!r}" for k, v in shown.items() if v is not None])
    return config, key, f"workbench.evaluate({command})"


EVAL_CALLS = [
    {"task": "arc_easy", "model": "smollm2-135m", "limit": None, "shots": 0, "batch_size": 16, "data": None,
     "mode": None, "chat": False, "max_new_tokens": None},
    {"task": "gsm8k", "model": "x.gguf", "limit": 5, "shots": 5, "batch_size": 4, "data": "rows.jsonl",
     "mode": None, "chat": True, "max_new_tokens": 64},
    {"task": "kobest_copa", "model": "org/name@rev", "limit": 20, "shots": 0, "batch_size": 16,
     "data": Path("rows.csv"), "mode": "generate", "chat": True, "max_new_tokens": None},
    {"task": "mmlu:anatomy", "model": "smollm2-135m", "limit": 1, "shots": 3, "batch_size": 1, "data": "",
     "mode": "loglikelihood", "chat": False, "max_new_tokens": 1},
]  # fmt: skip


@pytest.mark.parametrize("call", EVAL_CALLS, ids=lambda c: c["task"])
def test_evaluate_config_key_and_command_equal_todays(call):
    config, key, command = todays_evaluate_record(**call)
    values = {**call, "store": "project.sqlite"}
    assert options.config(options.EVAL, values) == config
    assert options.key_fields(options.EVAL, values) == key
    assert options.call_text("evaluate", options.EVAL, values) == command
    identity = {"model": "fingerprint", "data": "data fingerprint", "template": "Question: {q}"}
    assert run_key({**identity, **options.key_fields(options.EVAL, values)}) == run_key({**identity, **key})


def test_evaluate_literal_records():
    plain = EVAL_CALLS[0]
    assert options.config(options.EVAL, plain) == {
        "limit": None, "shots": 0, "batch_size": 16, "fewshot_seed": 1234, "data": "", "mode": None,
        "chat": False, "max_new_tokens": None,
    }  # fmt: skip
    assert options.key_fields(options.EVAL, plain) == {"task": "arc_easy", "limit": None, "shots": 0}
    assert (
        options.call_text("evaluate", options.EVAL, plain)
        == "workbench.evaluate('arc_easy', model='smollm2-135m', shots=0)"
    )
    capped = EVAL_CALLS[1]
    assert options.key_fields(options.EVAL, capped) == {"task": "gsm8k", "limit": 5, "shots": 5, "max_new_tokens": 64}
    assert options.call_text("evaluate", options.EVAL, capped) == (
        "workbench.evaluate('gsm8k', model='x.gguf', limit=5, shots=5, data='rows.jsonl', chat=True, max_new_tokens=64)"
    )


def test_a_config_option_missing_from_the_values_is_refused():
    values = dict(EVAL_CALLS[0])
    del values["batch_size"]
    with pytest.raises(KeyError, match="batch_size"):
        options.config(options.EVAL, values)


# ---- judge: the same for workbench.judge's config and command -------------------------------------------
def todays_judge_config(mode, run_ids, models, reference, turns, language, terse, limit, max_new_tokens):
    return {
        "mode": mode, "runs": run_ids, "models": models, "reference": reference,
        "turns": list(turns) if turns else None, "language": language, "terse": terse, "limit": limit,
        "max_new_tokens": max_new_tokens, "temperature": 0.0,
    }  # fmt: skip


def todays_judge_command(runs, judge, mode, reference, turns, language, terse, limit, max_new_tokens):
    """judge.core's recorded command before the options tables (it left out the language)."""
    args = [repr(r) for r in runs] + [f"judge={judge!r}"]
    shown = [("mode", mode, None), ("reference", reference, "auto"), ("turns", turns, None), ("terse", terse, False),
             ("limit", limit, None), ("max_new_tokens", max_new_tokens, 1024)]  # fmt: skip
    args += [f"{name}={value!r}" for name, value, default in shown if value != default]
    return f"workbench.judge({', '.join(args)})"


@pytest.mark.parametrize(
    "call",
    [
        {
            "runs": ["r1"],
            "judge": "smollm2-135m",
            "mode": None,
            "reference": "auto",
            "turns": None,
            "language": "auto",
            "terse": False,
            "limit": None,
            "max_new_tokens": 1024,
        },
        {
            "runs": ["r1", "r2"],
            "judge": "openai:gpt-4o",
            "mode": "pairwise",
            "reference": True,
            "turns": (1,),
            "language": "auto",
            "terse": True,
            "limit": 3,
            "max_new_tokens": 4,
        },
        {
            "runs": ["r1"],
            "judge": "j",
            "mode": "single",
            "reference": False,
            "turns": [1, 2],
            "language": "auto",
            "terse": False,
            "limit": None,
            "max_new_tokens": 1024,
        },
    ],
)
def test_judge_config_and_command_equal_todays(call):
    resolved = {**call, "mode": call["mode"] or ("pairwise" if len(call["runs"]) > 1 else "single")}
    expected = todays_judge_config(resolved["mode"], call["runs"], ["m"], call["reference"], call["turns"],
                                   call["language"], call["terse"], call["limit"], call["max_new_tokens"])  # fmt: skip
    resolved["partial"] = False  # newer than today's judge: never in its config or key, in its command when set
    assert {**options.config(options.JUDGE, resolved), "models": ["m"]} == expected
    assert {**options.key_fields(options.JUDGE, resolved), "models": ["m"]} == expected  # the key holds the config
    assert options.call_text("judge", options.JUDGE, {**call, "partial": False}) == todays_judge_command(**call)


# ---- one definition reaches every shell and the Python keyword ------------------------------------------
def test_a_new_eval_option_reaches_the_cli_the_magic_and_python(monkeypatch):
    new = options.Option("top_k", ("--top-k",), "Sample from the K likeliest tokens.", type=int, config=True,
                         key="if_set")  # fmt: skip
    monkeypatch.setattr(options, "EVAL", [*options.EVAL, new])

    args = cli.build_parser().parse_args(["eval", "arc_easy", "--top-k", "5"])
    magic_args = magic_parser(options.EVAL).parse_argstring("arc_easy --top-k 5")
    assert options.kwargs(options.EVAL, args)["top_k"] == options.kwargs(options.EVAL, magic_args)["top_k"] == 5

    seen, evaluate = {}, api.evaluate
    monkeypatch.setattr(api, "evaluate", lambda task, **kw: seen.update(kw, task=task))
    commands.evaluate(args, "workbench eval arc_easy --top-k 5")
    assert seen["top_k"] == 5 and seen["task"] == "arc_easy"

    values = {**EVAL_CALLS[0], "top_k": 5}
    assert options.config(options.EVAL, values)["top_k"] == 5
    assert options.key_fields(options.EVAL, values)["top_k"] == 5
    assert "top_k" not in options.key_fields(options.EVAL, {**values, "top_k": None})  # old runs keep their keys
    assert options.call_text("evaluate", options.EVAL, values).endswith("shots=0, top_k=5)")
    # ... and the signature test below names what workbench.evaluate lacks
    assert missing_keywords(options.EVAL, evaluate) == ["top_k"]


TABLE_FUNCTIONS = [
    ("EVAL", api.evaluate, ()),
    ("EVAL", api.compare_modes, ("mode",)),  # --mode both: every other option must reach compare_modes too
    ("RUNS", api.runs, ()),
    ("PPL", scoring.perplexity, ()),
    ("GRID", grids.grid, ()),
    ("COMPARE", comparison.compare, ()),
    ("SCORE", scoring.score, ()),
    ("JUDGE", judge_core.judge, ()),
    ("JUDGE_CALIBRATE", judge_calibration.calibrate, ()),
    ("RATE", lambda: workbench.rate, ()),
    ("ARENA", lambda: workbench.arena, ()),
    ("VARIANTS", lambda: workbench.variants, ()),
    ("THROUGHPUT", lambda: workbench.throughput, ()),
]


@pytest.mark.parametrize("table, function, leave_out", TABLE_FUNCTIONS, ids=lambda x: getattr(x, "__name__", x))
def test_every_keyword_option_is_a_keyword_of_its_function(table, function, leave_out):
    function = function() if function.__name__ == "<lambda>" else function
    assert missing_keywords(getattr(options, table), function, leave_out) == []


def test_every_flag_of_the_cli_eval_parser_is_a_keyword_of_evaluate():
    params = set(inspect.signature(workbench.evaluate).parameters)
    assert set(dests(cli_subparser("eval"))) - params == {"list"}  # --list only lists the tasks


@pytest.mark.parametrize(
    "magic, table",
    [("llm_eval", "EVAL"), ("llm_runs", "RUNS"), ("llm_rate", "RATE"), ("llm_arena", "ARENA"), ("llm_ppl", "PPL"),
     ("llm_grid", "GRID"), ("llm_compare", "COMPARE"), ("llm_score", "SCORE"), ("llm_judge", "JUDGE"),
     ("llm_judge_calibrate", "JUDGE_CALIBRATE")],
)  # fmt: skip
def test_the_magics_parse_exactly_their_tables(magic, table):
    expected = [o.name for o in getattr(options, table) if "magic" in o.shells]
    assert dests(magic_function(magic).parser) == expected


@pytest.mark.parametrize("name, table", [(n, t) for n, t, _ in cli.SUBCOMMANDS if t])
def test_the_cli_parses_exactly_the_tables(name, table):
    assert dests(cli_subparser(name)) == [o.name for o in getattr(options, table) if "cli" in o.shells]


def test_the_readme_lists_every_eval_flag():
    readme = (REPO / "README.md").read_text()
    flags = [f for o in options.EVAL for f in o.flags if f.startswith("--")]
    assert [f for f in flags if f"`{f}" not in readme] == []


# ---- the commands both shells run -----------------------------------------------------------------------
def magic_function(name: str):
    return next(getattr(c, name) for c in (magics.WorkbenchMagics, magics.TextMagics, magics.JudgeMagics)
                if hasattr(c, name))  # fmt: skip


def both_parsers(name: str, line: str) -> list:
    """The same arguments parsed by the CLI and by the magic."""
    import shlex

    cli_name = {"llm_eval": "eval", "llm_judge": "judge", "llm_grid": "grid"}[name]
    return [
        cli.build_parser().parse_args([cli_name, *shlex.split(line)]),
        magic_function(name).parser.parse_argstring(line),
    ]


@pytest.mark.parametrize("mode", ["both", "generate", None])
def test_mode_both_runs_compare_modes_from_either_shell(monkeypatch, mode):
    calls = []
    monkeypatch.setattr(api, "evaluate", lambda task, **kw: calls.append(("evaluate", task, kw)))
    monkeypatch.setattr(api, "compare_modes", lambda task, **kw: calls.append(("compare_modes", task, kw)))
    line = "kobest_copa --limit 2 --max-new-tokens 8" + (f" --mode {mode}" if mode else "")
    for args in both_parsers("llm_eval", line):
        commands.evaluate(args, "cmd")
    assert len(calls) == 2 and calls[0] == calls[1]
    function, task, kw = calls[0]
    assert function == ("compare_modes" if mode == "both" else "evaluate") and task == "kobest_copa"
    assert kw["max_new_tokens"] == 8 and kw["limit"] == 2 and kw["command"] == "cmd"
    assert ("mode" not in kw) if mode == "both" else (kw["mode"] == mode)


def test_judge_kwargs_from_either_shell():
    line = "r1 r2 --judge smollm2-135m --turns 1,2 --reference yes --terse"
    expected = {"run": "r1", "other": "r2", "judge": "smollm2-135m", "mode": None, "reference": True, "turns": [1, 2],
                "language": "auto", "terse": True, "limit": None, "max_new_tokens": 1024, "partial": False,
                "separate": False, "store": None}  # fmt: skip
    for args in both_parsers("llm_judge", line):
        assert commands.judge_kwargs(args) == expected
    single = commands.judge_kwargs(cli.build_parser().parse_args(["judge", "r1"]))
    assert single["other"] is None and single["reference"] == "auto" and single["turns"] is None
    with pytest.raises(WorkbenchError, match="not 3"):
        commands.judge_kwargs(cli.build_parser().parse_args(["judge", "a", "b", "c"]))
    with pytest.raises(WorkbenchError, match=r"--turns takes turn numbers.*'x'"):
        commands.judge_kwargs(cli.build_parser().parse_args(["judge", "a", "--turns", "x"]))


def test_grid_prompts_from_a_cell_and_from_prompt_options_parse_alike(monkeypatch):
    cell = "[plain]\nQ: {question}\n---\nAnswer briefly.\n{question}\n---\n\n"
    expected = {"plain": "Q: {question}", "p2": "Answer briefly.\n{question}"}
    assert options.grid_prompts(cell) == magics.grid_prompts(cell) == expected
    assert options.prompt_options(["plain=Q: {question}", "Answer briefly.\n{question}"]) == expected
    assert options.prompt_options(["{x} a=b"]) == {"p1": "{x} a=b"}  # an '=' after a placeholder names nothing

    seen = {}
    monkeypatch.setattr(grids, "grid", lambda **kw: seen.update(kw))
    args = cli.build_parser().parse_args(
        ["grid", "--prompt", "plain=Q: {question}", "--prompt", "Answer briefly.\n{question}", "-m", "a, b",
         "-p", "temperature=0,0.7", "--rows", "qa.csv"]
    )  # fmt: skip
    commands.grid(args, "workbench grid ...")
    assert seen["prompts"] == expected and seen["models"] == ["a", "b"] and seen["rows"] == "qa.csv"
    assert seen["params"] == {"temperature": [0, 0.7]}
    magic_args = magic_parser(options.GRID).parse_argstring("--rows qa_rows -m a,b")
    rows = [{"question": "q"}]
    commands.grid(magic_args, "%%llm_grid", prompts=expected, resolve={"qa_rows": rows}.get)
    assert seen["prompts"] == expected and seen["rows"] is rows and seen["models"] == ["a", "b"]


def test_llm_rate_without_a_run_picks_the_newest(monkeypatch):
    import time

    from workbench.store import Store

    from .test_ratings import mc_run

    args = SimpleNamespace(source=None, rubric="good,bad", annotator="ana", partial=False, store=None)
    with pytest.raises(WorkbenchError, match="There is no project store at"):
        commands.rate(args)  # no store yet: reading never creates one
    Store()
    with pytest.raises(WorkbenchError, match="No runs in the store yet"):
        commands.rate(args)
    old = mc_run(Store())
    time.sleep(0.01)
    new = mc_run(Store())
    monkeypatch.setattr(workbench.widgets, "rate", lambda **kw: kw)
    expected = {"source": new, "rubric": ["good", "bad"], "annotator": "ana", "partial": False, "store": None}
    assert commands.rate(args) == expected
    assert commands.rate(SimpleNamespace(**{**vars(args), "source": old}))["source"] == old


def test_variable_options_are_looked_up_only_where_the_table_says():
    args = magic_parser(options.SCORE).parse_argstring("outputs_df --metrics bleu,chrf --by outputs_df")
    frame = object()
    values = options.kwargs(options.SCORE, args, resolve={"outputs_df": frame}.get)
    assert values["data"] is frame and values["by"] == "outputs_df" and values["metrics"] == ["bleu", "chrf"]
    assert options.kwargs(options.PPL, SimpleNamespace(texts="One text.", model="m", column="text", limit=None,
                                                       store=None))["texts"] == ["One text."]  # fmt: skip


def test_the_judge_command_now_records_the_language():
    call = {"runs": ["r1"], "judge": "j", "mode": None, "reference": "auto", "turns": None, "language": "ko",
            "terse": False, "limit": None, "max_new_tokens": 1024, "partial": False}  # fmt: skip
    assert options.call_text("judge", options.JUDGE, call) == "workbench.judge('r1', judge='j', language='ko')"
    assert options.call_text("judge", options.JUDGE, {**call, "partial": True}).endswith("partial=True)")


def test_score_grid_and_perplexity_configs_equal_todays():
    score = {"metrics": ["bleu"], "prediction": "pred", "reference": "gold", "by": "system", "lang": "ko"}
    assert options.config(options.SCORE, score) == score  # scoring.score's literal config
    plain = {**score, "prediction": "prediction", "reference": "reference", "lang": None, "by": None}
    rest = {"key": None, "limit": None}
    # as scoring.call_text("score", [source], {"metrics": names, "by": by}) ...
    assert options.call_text("score", options.SCORE, {**plain, **rest}, "out.csv") == (
        "workbench.score('out.csv', metrics=['bleu'])"
    )
    # ... which left out the columns and language it was given
    assert options.call_text("score", options.SCORE, {**score, **rest}, "out.csv") == (
        "workbench.score('out.csv', metrics=['bleu'], prediction='pred', reference='gold', by='system', lang='ko')"
    )
    grid = {"reference": "answer", "metrics": ["chrf"], "lang": None, "limit": 5, "ppl_model": None}
    assert options.config(options.GRID, grid) == grid  # grids.grid's config, less grid_id, prompt_name, params
    ppl = {"column": "text", "limit": None}
    assert options.config(options.PPL, ppl) == ppl  # scoring.perplexity's config, less max_length
