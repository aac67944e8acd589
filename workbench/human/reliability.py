"""Agreement between annotators (people, or an LLM judge as one more): kappa, alpha and agreement rates."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import WorkbenchError
from .arena import VOTES
from .tables import model_pairs, ratings


def _long_form(frame: pd.DataFrame, rubric: str | None) -> tuple[pd.DataFrame, list[str] | list[int] | None, str]:
    """(item, annotator, value) rows, the ordered categories and the default level for a ratings/votes table."""
    if {"rubric", "value", "item_key"} <= set(frame.columns):
        rubrics = frame["rubric"].unique().tolist()
        if rubric is None and len(rubrics) > 1:
            raise WorkbenchError(f"The ratings use several rubrics {rubrics}; choose one with rubric=...")
        part = frame[frame["rubric"] == (rubric or rubrics[0])] if rubrics else frame
        scale: list[str] | None = json.loads(part["scale"].iloc[0]) if len(part) else None
        long = part.rename(columns={"item_key": "item"})[["item", "annotator", "value"]]
        if scale and all(v.lstrip("-").isdigit() for v in scale):
            return long.assign(value=long["value"].astype(int)), [int(v) for v in scale], "ordinal"
        return long, scale, "nominal"
    if {"vote", "winner", "model_left", "model_right"} <= set(frame.columns):
        cast = frame[frame["vote"].isin(VOTES)]
        item = cast["item_id"].astype(str) + " :: " + model_pairs(cast)
        value = cast["winner"].where(~cast["vote"].isin(["tie", "both_bad"]), "tie")
        return pd.DataFrame({"item": item, "annotator": cast["annotator"], "value": value}), None, "nominal"
    if {"item", "annotator", "value"} <= set(frame.columns):
        return frame[["item", "annotator", "value"]], None, "nominal"
    raise WorkbenchError(
        "agreement() needs a ratings() or votes() table, or columns item, annotator and value; "
        f"got {list(frame.columns)}."
    )


def agreement(
    frame: pd.DataFrame | None = None,
    *,
    rubric: str | None = None,
    level: str | None = None,
    categories: Sequence[Any] | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Agreement between every pair of annotators, and among all of them, as a table.

    ``frame``: a ``ratings()`` table (default), a ``votes()`` table, or any table with columns item,
    annotator and value (an LLM judge can be one of the annotators). Columns: items both judged, agreement
    (share of equal verdicts; MT-Bench S1), agreement_no_ties (S2, pairs where neither vote is a tie; NaN
    when no verdict is a tie, e.g. for ratings),
    cohen_kappa, weighted_kappa (quadratic, ordered scales) and krippendorff_alpha at ``level`` (ordinal
    for numeric scales, nominal otherwise). The last row, 'all', pools every pair of annotators per item.
    """
    from ..metrics.agreement import TIES, cohen_kappa, krippendorff_alpha, pairwise_agreement_rate

    long, scale, default_level = _long_form(ratings(store=store) if frame is None else frame, rubric)
    has_ties = long["value"].isin(TIES).any()  # S2 only means something for votes that can tie
    level = level or default_level
    cats = list(categories) if categories is not None else scale
    wide = long.drop_duplicates(["item", "annotator"], keep="last").pivot(
        index="item", columns="annotator", values="value"
    )
    wide = wide.astype(object).where(wide.notna(), None)
    raters = list(wide.columns)

    def row(label: str, names: Sequence[str]) -> dict[str, Any]:
        part = wide[list(names)]
        units = [list(r) for r in part.itertuples(index=False)]
        both = sum(sum(v is not None for v in u) >= 2 for u in units)
        s1 = pairwise_agreement_rate(units, include_ties=True)
        s2 = pairwise_agreement_rate(units, include_ties=False).rate if has_ties else math.nan
        out = {"raters": label, "items": both, "agreement": s1.rate, "agreement_no_ties": s2}
        two = len(names) == 2
        out["cohen_kappa"] = cohen_kappa(*(part[n].tolist() for n in names), categories=cats) if two else math.nan
        out["weighted_kappa"] = (
            cohen_kappa(*(part[n].tolist() for n in names), categories=cats, weights="quadratic")
            if two and level != "nominal"
            else math.nan
        )
        out["krippendorff_alpha"] = krippendorff_alpha([part[n].tolist() for n in names], level=level, categories=cats)
        return out

    rows = [row(f"{a} vs {b}", (a, b)) for a, b in itertools.combinations(raters, 2)]
    if len(raters) > 2:
        rows.append(row(f"all ({len(raters)} annotators)", raters))
    return pd.DataFrame(
        rows,
        columns=[
            "raters",
            "items",
            "agreement",
            "agreement_no_ties",
            "cohen_kappa",
            "weighted_kappa",
            "krippendorff_alpha",
        ],
    )
