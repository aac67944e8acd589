"""IPython magics: parse arguments, call the API, display. No evaluation logic lives here."""

from __future__ import annotations

import sys

from IPython.core import magic_arguments
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from .errors import WorkbenchError
from .options import (
    COMPARE_OPTIONS,
    EVAL_OPTIONS,
    GRID_OPTIONS,
    PPL_OPTIONS,
    RUNS_OPTIONS,
    SCORE_OPTIONS,
    eval_kwargs,
    grid_kwargs,
    score_kwargs,
)


def with_options(options):
    """Apply shared option specs as magic_arguments decorators (so `%magic?` shows them)."""

    def decorate(func):
        for flags, kwargs in reversed(options):
            func = magic_arguments.argument(*flags, **kwargs)(func)
        return magic_arguments.magic_arguments()(func)

    return decorate


def show_figure(fig) -> None:
    """Display a Plotly figure as its mime bundle: JupyterLab renders it, a terminal prints one line."""
    import json

    title = fig.layout.title.text or "figure"
    bundle = {"application/vnd.plotly.v1+json": json.loads(fig.to_json()), "text/plain": f"<Plotly chart: {title}>"}
    display(bundle, raw=True)


def report(error: WorkbenchError) -> None:
    print(f"workbench: {error}", file=sys.stderr)


RATE_OPTIONS = [
    (("run",), {"nargs": "?", "default": None, "help": "Run id to rate (default: the newest run)."}),
    (
        ("--rubric",),
        {"default": "1-5", "help": "1-5, 1-10, pass/fail, or labels separated by commas (good,bad,unsure)."},
    ),
    (("--annotator",), {"default": None, "help": "Your name (else type it in the panel)."}),
    *RUNS_OPTIONS,  # --store
]
ARENA_OPTIONS = [
    (("runs",), {"nargs": "+", "help": "Two or more run ids answering the same items."}),
    (("--annotator",), {"default": None, "help": "Your name (else type it in the panel)."}),
    (("--name",), {"default": None, "help": "Session name in the store (default: the models compared)."}),
    *RUNS_OPTIONS,  # --store
]


@magics_class
class WorkbenchMagics(Magics):
    @with_options(EVAL_OPTIONS)
    @line_magic
    def llm_eval(self, line: str):
        """Evaluate a model on a benchmark, show metrics with 95% intervals and a chart, save the run.

        Example: %llm_eval arc_easy --model smollm2-135m --limit 50
        Both scoring modes on the same items: %llm_eval kobest_copa --mode both --limit 20
        Every task: %llm_eval --list
        """
        from . import api

        args = magic_arguments.parse_argstring(self.llm_eval, line)
        kwargs = eval_kwargs(args)
        try:
            if args.list:
                import pandas as pd

                with pd.option_context("display.max_rows", None, "display.max_colwidth", None):
                    display(api.tasks())
                return None
            if not args.task:
                raise WorkbenchError("Name a task, e.g. %llm_eval arc_easy --limit 50 (%llm_eval --list lists them).")
            if kwargs["mode"] == "both":
                del kwargs["mode"]
                both = api.compare_modes(args.task, command=f"%llm_eval {line.strip()}", **kwargs)
                display(both.table())
                show_figure(both.figure())
                display(both.disagreements())
                return None
            result = api.evaluate(args.task, command=f"%llm_eval {line.strip()}", **kwargs)
        except WorkbenchError as error:
            return report(error)
        display(result.summary())
        show_figure(result.figure())
        return None

    @with_options(RUNS_OPTIONS)
    @line_magic
    def llm_runs(self, line: str):
        """List the runs saved in the project store, newest first."""
        from . import api

        args = magic_arguments.parse_argstring(self.llm_runs, line)
        try:
            return api.runs(args.store)
        except WorkbenchError as error:
            return report(error)

    @with_options(RATE_OPTIONS)
    @line_magic
    def llm_rate(self, line: str):
        """Rate a run's outputs one at a time in a panel (buttons and keys); every click is saved at once.

        Example: %llm_rate 1a2b3c4d --rubric 1-5 --annotator ana
        """
        from . import api, human

        args = magic_arguments.parse_argstring(self.llm_rate, line)
        try:
            run = args.run or _newest_run(api.runs(args.store))
            return human.rate(run, rubric=_rubric(args.rubric), annotator=args.annotator, store=args.store)
        except WorkbenchError as error:
            return report(error)

    @with_options(ARENA_OPTIONS)
    @line_magic
    def llm_arena(self, line: str):
        """Blind A/B votes between the outputs of two or more runs on the same items.

        Example: %llm_arena 1a2b3c4d 5e6f7a8b --annotator ana
        """
        from . import human

        args = magic_arguments.parse_argstring(self.llm_arena, line)
        try:
            return human.arena(*args.runs, annotator=args.annotator, name=args.name, store=args.store)
        except WorkbenchError as error:
            return report(error)


def _rubric(text: str):
    """'1-5' / 'pass/fail' as they are; 'a,b,c' as a list of labels."""
    return [part.strip() for part in text.split(",")] if "," in text else text


def _newest_run(table) -> str:
    if table.empty:
        raise WorkbenchError("No runs in the store yet: run %llm_eval first, or name a run: %llm_rate RUN_ID.")
    return str(table["run_id"].iloc[0])


@magics_class
class TextMagics(Magics):
    """%llm_ppl, %%llm_grid, %llm_compare and %llm_score: perplexity, prompt grids, run comparison, scoring."""

    def _value(self, text: str):
        """A variable of the notebook when ``text`` names one, else ``text`` itself (a path, task or text)."""
        text = text.strip()
        if text.isidentifier() and text in self.shell.user_ns:
            return self.shell.user_ns[text]
        return text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else text

    @with_options(PPL_OPTIONS)
    @line_magic
    def llm_ppl(self, line: str):
        """Perplexity (token, word, byte) and bits per byte of texts: a variable, a file, or a quoted text.

        Example: %llm_ppl "The cat sat on the mat." --model smollm2-135m
        """
        from . import scoring

        args = magic_arguments.parse_argstring(self.llm_ppl, line)
        try:
            texts = self._value(args.text)
            texts = [texts] if isinstance(texts, str) and not _is_file(texts) else texts
            result = scoring.perplexity(
                texts, args.model, column=args.column, limit=args.limit, store=args.store, command=f"%llm_ppl {line}"
            )
        except WorkbenchError as error:
            return report(error)
        display(result.summary())
        return result.samples

    @with_options(GRID_OPTIONS)
    @cell_magic
    def llm_grid(self, line: str, cell: str):
        """Prompt grid: the cell holds templates with {placeholders}, separated by lines of ---; a block may start
        with [name]. Shows the cells, a heatmap and a browser of the outputs; the result is kept in `_grid`.

        Example:
            %%llm_grid --rows flores:en-ko --reference target --limit 5 --param temperature=0
            [plain]
            Translate into Korean: {source}
            ---
            [formal]
            Translate this English sentence into formal Korean. Reply with the translation only.
            {source}
        """
        from . import grids

        args = magic_arguments.parse_argstring(self.llm_grid, line)
        try:
            rows = self._value(args.rows) if args.rows else None
            command = f"%%llm_grid {line.strip()}\n{cell}"
            result = grids.grid(grid_prompts(cell), rows=rows, command=command, **grid_kwargs(args))
        except WorkbenchError as error:
            return report(error)
        self.shell.user_ns["_grid"] = result
        display(result.cells)
        show_figure(result.figure())
        display(result.browser())
        return None

    @with_options(COMPARE_OPTIONS)
    @line_magic
    def llm_compare(self, line: str):
        """Paired comparison of two runs on their shared items: B - A with a bootstrap 95% interval, McNemar's
        exact test for 0/1 metrics, and the items that flipped.

        Example: %llm_compare 1a2b3c4d 5e6f7a8b --metric acc
        """
        from . import comparison

        args = magic_arguments.parse_argstring(self.llm_compare, line)
        try:
            result = comparison.compare(args.run_a, args.run_b, metric=args.metric, store=args.store)
        except WorkbenchError as error:
            return report(error)
        print(result.summary())
        display(result.table())
        show_figure(result.figure())
        return result.flips()

    @with_options(SCORE_OPTIONS)
    @line_magic
    def llm_score(self, line: str):
        """Score existing predictions against references (BLEU, chrF, ROUGE, exact match, F1), no model needed.

        Example: %llm_score outputs.csv --metrics bleu,chrf --prediction pred --reference gold
        """
        from . import scoring

        args = magic_arguments.parse_argstring(self.llm_score, line)
        try:
            data = self._value(args.data)
            result = scoring.score(data, command=f"%llm_score {line.strip()}", **score_kwargs(args))
        except WorkbenchError as error:
            return report(error)
        display(result.summary())
        show_figure(result.figure())
        return None


def _is_file(text: str) -> bool:
    from pathlib import Path

    return len(text) < 4096 and "\n" not in text and Path(text).expanduser().is_file()


def grid_prompts(cell: str) -> dict[str, str]:
    """Templates of a %%llm_grid cell: blocks separated by lines of ---, each optionally headed [name]."""
    import re

    prompts: dict[str, str] = {}
    for i, block in enumerate(re.split(r"^\s*---\s*$", cell, flags=re.M), start=1):
        lines = block.strip("\n").splitlines()
        name = f"p{i}"
        if lines and re.fullmatch(r"\s*\[[^\]]+\]\s*", lines[0]):
            name, lines = lines[0].strip()[1:-1].strip(), lines[1:]
        text = "\n".join(lines).strip()
        if text:
            prompts[name] = text
    return prompts


def _judge_options():
    from .judge.options import JUDGE_OPTIONS

    return JUDGE_OPTIONS


@magics_class
class JudgeMagics(Magics):
    """%llm_judge: an LLM grades a run's answers (1-10) or compares two runs' answers in both orders."""

    @with_options(_judge_options())
    @line_magic
    def llm_judge(self, line: str):
        """Judge saved answers with an LLM; shows the scores (or win rates), a chart and the judge's rationales.

        Example: %llm_judge 1a2b3c4d --judge openai:gpt-4o-mini
        Pairwise, both orders: %llm_judge 1a2b3c4d 5e6f7a8b --judge openai:MODEL@http://127.0.0.1:8000/v1
        """
        from . import api
        from .judge.options import judge_kwargs

        args = magic_arguments.parse_argstring(self.llm_judge, line)
        try:
            kwargs = judge_kwargs(args)
            result = api.judge(kwargs.pop("run"), kwargs.pop("other"), command=f"%llm_judge {line.strip()}", **kwargs)
        except WorkbenchError as error:
            return report(error)
        self.shell.user_ns["_judged"] = result
        print(result)
        display(result.summary())
        show_figure(result.figure())
        display(result.view(limit=10))
        return None


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(WorkbenchMagics)
    ipython.register_magics(TextMagics)
    ipython.register_magics(JudgeMagics)
