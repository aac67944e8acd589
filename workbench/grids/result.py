"""A finished grid: its rows and cells as tables, the heatmap, and the (escaped) outputs behind any cell."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from ..views import html


@dataclass
class GridResult:
    """A finished grid: ``frame`` (one row per row x prompt x model x params), ``cells`` (one row per cell),
    the heatmap (``figure``) and the outputs behind any cell (``outputs``, ``open``)."""

    grid_id: str
    frame: Any
    cells: Any
    metrics: list[str]
    from_cache: int
    generated: int
    store_path: Path
    resumed: int = 0  # rows kept from an interrupted run of the same grid

    @property
    def note(self) -> str:
        total = self.from_cache + self.generated
        kept = f" ({self.resumed} kept from the interrupted grid)" if self.resumed else ""
        return f"{total} generations: {self.from_cache} from the cache, {self.generated} generated{kept}."

    def figure(self, metric: str | None = None):
        """Heatmap prompt x model (x params): colour = mean score, hover = n and 95% interval."""
        from ..charts import grid_heatmap

        return grid_heatmap(self.cells, metric or (self.metrics[0] if self.metrics else None))

    def outputs(self, prompt: str | None = None, model: str | None = None, params: str | None = None):
        """The rows behind one cell (or all cells matching the given names) as a DataFrame."""
        frame = self.frame
        for column, value in (("prompt", prompt), ("model", model), ("params", params)):
            if value is not None:
                if value not in set(frame[column]):
                    known = ", ".join(map(repr, dict.fromkeys(self.frame[column])))
                    raise WorkbenchError(f"No cell with {column} {value!r}; the grid has {known}.")
                frame = frame[frame[column] == value]
        return frame.reset_index(drop=True)

    def outputs_html(self, prompt: str | None = None, model: str | None = None, params: str | None = None) -> str:
        """The outputs behind a cell as an HTML table; every text is escaped (model outputs are untrusted)."""
        frame = self.outputs(prompt, model, params)
        columns = ["row", "prompt_text", "prediction", *(c for c in ("reference",) if c in frame), *self.metrics]
        rows = ([r[c] for c in columns] for r in frame.to_dict(orient="records"))
        return html.table(columns, rows, floats=".3f")

    def open(self, prompt: str | None = None, model: str | None = None, params: str | None = None) -> html.HTML:
        """Show the outputs behind a cell in the notebook (escaped HTML). ``workbench.grid_browser(result)``
        gives a drop-down of every cell."""
        return html.HTML(self.outputs_html(prompt, model, params))
