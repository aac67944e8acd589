"""IPython magics: parse arguments, call the API, display. No evaluation logic lives here."""

from __future__ import annotations

from typing import Any

from IPython.core import magic_arguments
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display

from . import commands, options
from .errors import WorkbenchError, notice
from .options import grid_prompts

with_options = options.magic  # the magic's arguments from an options table


def show_figure(fig) -> None:
    """Display a Plotly figure as its mime bundle: JupyterLab renders it, a terminal prints one line."""
    import json

    title = fig.layout.title.text or "figure"
    bundle = {"application/vnd.plotly.v1+json": json.loads(fig.to_json()), "text/plain": f"<Plotly chart: {title}>"}
    display(bundle, raw=True)


def shown(table):
    """A result table as a person reads it: scores as '0.60 ± 0.11 [0.38, 0.82]', empty columns left out
    (``workbench.views.text.shown``; pandas is imported here, on first use, not when the extension loads)."""
    from .views.text import shown as for_people

    return for_people(table)


def show_result(result: Any) -> None:
    """A run (its metrics and chart), a suite (every member's metrics, the headline, a chart) or a leaderboard
    (ranked table, failed cells, grouped bars and heatmap). A run's and a suite's table also carry the workbench's
    result bundle (views/bundle.py), which JupyterLab's extension renders without a kernel; the HTML stays beside it."""
    from IPython import get_ipython

    from .leaderboards import Leaderboard
    from .suites import SuiteResult
    from .views.bundle import MIME, result_bundle

    def table_output(raw, view, title: str) -> None:
        shell = get_ipython()
        if shell is None:  # no IPython display formatter: the plain table
            display(view)
            return
        data, metadata = shell.display_formatter.format(view)  # the table's own HTML and text, and the bundle
        display({**data, MIME: result_bundle(view, raw, title)}, raw=True, metadata=metadata)

    if isinstance(result, Leaderboard):
        display(result.view())
        if len(result.failed()):
            print("Failed cells (rerun the same call to retry only them):")
            display(result.failed())
        show_figure(result.figure())
        show_figure(result.heatmap())
        return None
    if isinstance(result, SuiteResult):
        raw = result.table()
        table_output(raw, shown(raw.drop(columns=["model", "run_id"])), f"{result.suite.name} | {result.model}")
        show_figure(result.figure())
        return None
    table = result.summary()
    table_output(table, shown(table), f"{result.task} | {result.model} | run {result.run_id}")
    show_figure(result.figure())
    return None


def file_link(path, summary: str):
    """A link to a written file (relative to the notebook's folder where it lies below it, as IPython's FileLink)
    and a line saying what it holds; both escaped."""
    import os
    from urllib.parse import quote

    from .views.html import HTML, escape

    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    link = f'<a href="{escape(quote(shown))}" target="_blank">{escape(shown)}</a>'
    return HTML(f"{link}<br><span>{escape(summary)}</span>")


def report(error: WorkbenchError) -> None:
    notice(str(error))


def user_ns(magics: Magics) -> dict[str, Any]:
    """The notebook's variables (IPython gives magics their shell when it registers them, before any runs)."""
    if magics.shell is None:
        raise RuntimeError(f"{type(magics).__name__} is not registered with an IPython shell")
    return magics.shell.user_ns


@magics_class
class WorkbenchMagics(Magics):
    @with_options(options.EVAL)
    @line_magic
    def llm_eval(self, line: str):
        """Evaluate a model on a benchmark, show metrics with 95% intervals and a chart, save the run.

        Example: %llm_eval arc_easy --model smollm2-135m --limit 50
        Both scoring modes on the same items: %llm_eval kobest_copa --mode both --limit 20
        A group or suite (each member its own run): %llm_eval arc --limit 50
        Several models (a leaderboard): %llm_eval arc --model smollm2-135m,gemma3-270m --limit 20
        Every task, group and suite: %llm_eval --list
        """
        from . import api

        args = magic_arguments.parse_argstring(self.llm_eval, line)
        try:
            if args.list:
                import pandas as pd

                from .settings import data_dir
                from .views.text import task_list

                heading, table, notes = task_list(api.tasks(), data_dir(), detail=True)
                print(heading)
                with pd.option_context("display.max_rows", None, "display.max_colwidth", None):
                    display(table)
                    print(notes)
                    print("\nGroups and suites (workbench.define_suite adds your own):")
                    display(api.suites())
                return None
            if not args.task:
                raise WorkbenchError("Name a task, e.g. %llm_eval arc_easy --limit 50 (%llm_eval --list lists them).")
            result = commands.evaluate(args, f"%llm_eval {line.strip()}")
        except WorkbenchError as error:
            return report(error)
        if isinstance(result, api.ModeComparison):
            display(shown(result.table()))
            show_figure(result.figure())
            display(result.disagreements())
            return None
        return show_result(result)

    @with_options(options.EVAL)
    @line_magic
    def llm_leaderboard(self, line: str):
        """Every model on every task of a suite, group or task list, each a resumable run (complete ones reused):
        ranks with ties where intervals overlap, grouped bars and a heatmap. The result is kept in `_leaderboard`.

        Example: %llm_leaderboard open_llm_leaderboard --model smollm2-135m,gemma3-270m --limit 5
        """
        args = magic_arguments.parse_argstring(self.llm_leaderboard, line)
        try:
            if not args.task:
                raise WorkbenchError("Name a suite, group or task, e.g. %llm_leaderboard arc --model a,b --limit 20.")
            result = commands.leaderboard(args, f"%llm_leaderboard {line.strip()}")
        except WorkbenchError as error:
            return report(error)
        user_ns(self)["_leaderboard"] = result
        return show_result(result)

    @with_options(options.RUNS)
    @line_magic
    def llm_runs(self, line: str):
        """List the runs saved in the project store, newest first, each with its headline metric (workbench.runs()
        gives the same as numbers)."""
        args = magic_arguments.parse_argstring(self.llm_runs, line)
        from .views.text import shown_runs

        try:
            return shown_runs(commands.runs(args))
        except WorkbenchError as error:
            return report(error)

    @with_options(options.RATE)
    @line_magic
    def llm_rate(self, line: str):
        """Rate a run's outputs one at a time in a panel (buttons and keys); every click is saved at once.

        Example: %llm_rate 1a2b3c4d --rubric 1-5 --annotator ana
        """
        args = magic_arguments.parse_argstring(self.llm_rate, line)
        try:
            return commands.rate(args)
        except WorkbenchError as error:
            return report(error)

    @with_options(options.ARENA)
    @line_magic
    def llm_arena(self, line: str):
        """Blind A/B votes between the outputs of two or more runs on the same items.

        Example: %llm_arena 1a2b3c4d 5e6f7a8b --annotator ana
        """
        args = magic_arguments.parse_argstring(self.llm_arena, line)
        try:
            return commands.arena(args)
        except WorkbenchError as error:
            return report(error)


@magics_class
class CostMagics(Magics):
    """%llm_variants and %llm_throughput: what quantization costs, and how fast a model serves."""

    @with_options(options.VARIANTS)
    @line_magic
    def llm_variants(self, line: str):
        """One model's variants on the same items: score with interval, paired difference from the reference
        (bootstrap interval, McNemar p), items flipped each way, weight bytes, peak memory, tokens/s; then the
        chart (score against memory and speed, the Pareto front marked). Returns the result (``.flips(variant)``).

        Example: %llm_variants float32,bfloat16,int8,gguf --tasks arc_easy,kobest_copa --limit 50
        """
        args = magic_arguments.parse_argstring(self.llm_variants, line)
        try:
            result = commands.variants(args)
        except WorkbenchError as error:
            return report(error)
        display(shown(result.table().drop(columns=["speed_run_id"])))
        show_figure(result.figure())
        return result

    @with_options(options.THROUGHPUT)
    @line_magic
    def llm_throughput(self, line: str):
        """Serving speed: time to first token and per-token latency p50/p95, requests/s and tokens/s at each
        concurrency; on the local engine also static batching against continuous slot refill. Saved as a run.

        Example: %llm_throughput arc_easy --concurrency 1,4,16 --max-new-tokens 32
        """
        args = magic_arguments.parse_argstring(self.llm_throughput, line)
        try:
            result = commands.throughput(args, lambda text: user_ns(self).get(text, text))  # a list variable
        except WorkbenchError as error:
            return report(error)
        display(shown(result.table()))
        show_figure(result.figure())
        return result


@magics_class
class TextMagics(Magics):
    """%llm_ppl, %%llm_grid, %llm_compare, %llm_trend, %llm_report and %llm_score: perplexity, prompt grids, run
    comparison, one evaluation over time, a report in one HTML file, scoring."""

    def _value(self, text: str):
        """A variable of the notebook when ``text`` names one, else ``text`` itself (a path, task or text)."""
        text = text.strip()
        if text.isidentifier() and text in user_ns(self):
            return user_ns(self)[text]
        return text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else text

    @with_options(options.PPL)
    @line_magic
    def llm_ppl(self, line: str):
        """Perplexity (token, word, byte) and bits per byte of texts: a variable, a file, or a quoted text.

        Example: %llm_ppl "The cat sat on the mat." --model smollm2-135m
        """
        args = magic_arguments.parse_argstring(self.llm_ppl, line)
        try:
            result = commands.perplexity(args, f"%llm_ppl {line}", resolve=self._value)
        except WorkbenchError as error:
            return report(error)
        display(shown(result.summary()))
        return result.samples

    @with_options(options.GRID)
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
        args = magic_arguments.parse_argstring(self.llm_grid, line)
        try:
            command = f"%%llm_grid {line.strip()}\n{cell}"
            result = commands.grid(args, command, prompts=grid_prompts(cell), resolve=self._value)
        except WorkbenchError as error:
            return report(error)
        user_ns(self)["_grid"] = result
        display(shown(result.cells))
        show_figure(result.figure())
        from .widgets import grid_browser

        display(grid_browser(result))
        return None

    @with_options(options.COMPARE)
    @line_magic
    def llm_compare(self, line: str):
        """Paired comparison of two runs on their shared items: B - A with a bootstrap 95% interval, McNemar's
        exact test for 0/1 metrics, and the items that flipped.

        Example: %llm_compare 1a2b3c4d 5e6f7a8b --metric acc
        """
        args = magic_arguments.parse_argstring(self.llm_compare, line)
        try:
            result = commands.compare(args)
        except WorkbenchError as error:
            return report(error)
        print(result.summary())
        display(shown(result.table()))
        show_figure(result.figure())
        return result.flips()

    @with_options(options.TREND)
    @line_magic
    def llm_trend(self, line: str):
        """One evaluation repeated over time: each run's score with its 95% interval, the change from the run before
        (paired, significant ones marked) and what the model's endpoint reported (changes marked), then a chart.

        Example: %llm_trend gsm8k --model openai:gpt-4o-mini --metric exact_match_strict
        """
        args = magic_arguments.parse_argstring(self.llm_trend, line)
        try:
            result = commands.trend(args)
        except WorkbenchError as error:
            return report(error)
        display(result)
        show_figure(result.figure())
        return None

    @with_options(options.REPORT)
    @line_magic
    def llm_report(self, line: str):
        """Write one self-contained HTML report (opens offline in any browser, fetches nothing) of runs, a group or
        suite (its members' newest complete runs) or two runs with their paired comparison; shows a link to it.

        Example: %llm_report 1a2b3c4d 5e6f7a8b -o report.html
        A result in a variable: %llm_report _leaderboard -o board.html
        """
        args = magic_arguments.parse_argstring(self.llm_report, line)
        args.items = [self._value(item) for item in args.items]  # a notebook variable, or the text unquoted
        args.path, args.title = self._value(args.path), args.title and self._value(args.title)
        try:
            written = commands.report(args)
        except WorkbenchError as error:
            return report(error)
        display(file_link(written.path, written.summary()))
        return None

    @with_options(options.SCORE)
    @line_magic
    def llm_score(self, line: str):
        """Score existing predictions against references (BLEU, chrF, ROUGE, exact match, F1), no model needed.

        Example: %llm_score outputs.csv --metrics bleu,chrf --prediction pred --reference gold
        """
        args = magic_arguments.parse_argstring(self.llm_score, line)
        try:
            result = commands.score(args, f"%llm_score {line.strip()}", resolve=self._value)
        except WorkbenchError as error:
            return report(error)
        display(shown(result.summary()))
        show_figure(result.figure())
        return None


@magics_class
class JudgeMagics(Magics):
    """%llm_judge: an LLM grades a run's answers (1-10) or compares two runs' answers in both orders;
    %llm_judge_calibrate: how well a judge agrees with people's pairwise votes."""

    @with_options(options.JUDGE)
    @line_magic
    def llm_judge(self, line: str):
        """Judge saved answers with an LLM; shows the scores (or win rates), a chart and the judge's rationales.

        Example: %llm_judge 1a2b3c4d --judge openai:gpt-4o-mini
        Pairwise, both orders: %llm_judge 1a2b3c4d 5e6f7a8b --judge openai:MODEL@http://127.0.0.1:8000/v1
        """
        args = magic_arguments.parse_argstring(self.llm_judge, line)
        try:
            result = commands.judge(args, f"%llm_judge {line.strip()}")
        except WorkbenchError as error:
            return report(error)
        user_ns(self)["_judged"] = result
        print(result)
        display(shown(result.summary()))
        show_figure(result.figure())
        display(result.view(limit=10))
        return None

    @with_options(options.JUDGE_CALIBRATE)
    @line_magic
    def llm_judge_calibrate(self, line: str):
        """Calibrate a judge against people's pairwise votes (MT-Bench's human judgments, a file or arena votes):
        agreement with ties (S1) and without (S2), kappa, position and length bias, beside the paper's figures.

        Example: %llm_judge_calibrate --judge openai:gpt-4o-mini --limit 100
        Your own votes: %llm_judge_calibrate --judge openai:MODEL@http://127.0.0.1:8000/v1 --dataset votes.jsonl
        """
        args = magic_arguments.parse_argstring(self.llm_judge_calibrate, line)
        try:
            result = commands.judge_calibrate(args, f"%llm_judge_calibrate {line.strip()}")
        except WorkbenchError as error:
            return report(error)
        user_ns(self)["_calibrated"] = result
        print(result)
        show_figure(result.figure())
        display(result.view(limit=10))
        return None


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(WorkbenchMagics)
    ipython.register_magics(TextMagics)
    ipython.register_magics(CostMagics)
    ipython.register_magics(JudgeMagics)


__all__ = ["grid_prompts", "load_ipython_extension"]  # grid_prompts: the cell parser, kept importable from here
