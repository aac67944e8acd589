"""IPython magics: parse arguments, call the API, display. No evaluation logic lives here."""

from __future__ import annotations

import sys

from IPython.core import magic_arguments
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.display import display

from .errors import WorkbenchError
from .options import EVAL_OPTIONS, RUNS_OPTIONS, eval_kwargs


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


@magics_class
class WorkbenchMagics(Magics):
    @with_options(EVAL_OPTIONS)
    @line_magic
    def llm_eval(self, line: str):
        """Evaluate a model on a benchmark, show metrics with 95% intervals and a chart, save the run.

        Example: %llm_eval arc_easy --model smollm2-135m --limit 50
        """
        from . import api

        args = magic_arguments.parse_argstring(self.llm_eval, line)
        try:
            result = api.evaluate(args.task, command=f"%llm_eval {line.strip()}", **eval_kwargs(args))
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


def load_ipython_extension(ipython) -> None:
    ipython.register_magics(WorkbenchMagics)
