"""Models ranked from blind A/B votes: Bradley-Terry and online Elo, with 95% bootstrap intervals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import WorkbenchError
from .tables import battles, votes


def rankings(
    vote_table: pd.DataFrame | None = None,
    *,
    method: str = "both",
    rounds: int = 100,
    seed: int = 0,
    both_bad: str = "tie",
    arena: str | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Bradley-Terry and/or online Elo ratings from votes, with 95% bootstrap intervals and Arena ranks.

    ``vote_table`` defaults to ``votes(arena=arena)``. ``method``: 'bradley_terry', 'elo' or 'both'. Ties,
    and both-bad votes unless ``both_bad='drop'``, count half a win for each side.
    """
    from ..metrics.ranking import rank_models

    methods = ["bradley_terry", "elo"] if method == "both" else [method]
    table = votes(arena=arena, store=store) if vote_table is None else vote_table
    fights = battles(table, both_bad=both_bad)
    rows = []
    for m in methods:
        try:
            ranked = rank_models(fights, m, rounds=rounds, seed=seed)
        except ValueError as exc:
            raise WorkbenchError(str(exc)) from exc
        rows += [{"method": m, **vars(r)} for r in ranked]
    columns = ["method", "rank", "model", "rating", "ci95_low", "ci95_high", "battles", "wins", "losses"]
    return pd.DataFrame(rows, columns=columns)


def ranking_figure(table: pd.DataFrame, title: str | None = None):
    """Plotly chart of a ``rankings`` table: each model's rating with its 95% interval."""
    from ..charts import ranking_chart

    return ranking_chart(table, title)
