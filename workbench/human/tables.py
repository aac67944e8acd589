"""The saved judgments as tables: ratings, votes, and votes as battles between models."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import WorkbenchError
from ..store import Store
from .arena import VOTES

VOTE_SCORE = {"A": 1.0, "B": 0.0, "tie": 0.5, "both_bad": 0.5}  # score of the left output


def ratings(
    *, rubric: str | None = None, annotator: str | None = None, latest: bool = True, store: str | Path | None = None
) -> pd.DataFrame:
    """Ratings as a DataFrame: each annotator's current rating per item (``latest``), or every click.

    ``ratings(latest=False).to_csv(path, index=False)`` writes a file ``merge`` can read back.
    """
    events = Store(store, create=False).rating_events(rubric=rubric, annotator=annotator)
    if not latest:
        return events
    keys = ["rubric", "annotator", "item_key"]
    rated = events[events["action"] == "rate"].drop_duplicates(keys, keep="last").drop(columns=["note", "action"])
    notes = events[events["note"].notna()].drop_duplicates(keys, keep="last")[[*keys, "note"]]
    return rated.merge(notes, on=keys, how="left").reset_index(drop=True)


def votes(
    *, arena: str | None = None, annotator: str | None = None, latest: bool = True, store: str | Path | None = None
) -> pd.DataFrame:
    """Votes as a DataFrame: each annotator's current vote per pair (``latest``, skips left out), or every click."""
    events = Store(store, create=False).vote_events(arena=arena, annotator=annotator)
    if not latest:
        return events
    cast = events[events["vote"] != "skip"]
    latest_rows = cast.assign(_pair=model_pairs(cast)).drop_duplicates(
        ["arena", "annotator", "item_id", "_pair"], keep="last"
    )
    return latest_rows.drop(columns="_pair").reset_index(drop=True)


def model_pairs(vote_table: pd.DataFrame) -> pd.Series:
    """The two models of each vote in a fixed order, whichever side each was shown on."""
    pairs = [" | ".join(sorted(p)) for p in zip(vote_table["model_left"], vote_table["model_right"])]
    return pd.Series(pairs, index=vote_table.index, dtype=object)


def battles(vote_table: pd.DataFrame, *, both_bad: str = "tie") -> list[tuple[str, str, float]]:
    """(left model, right model, left's score) per vote, in vote order; ``both_bad`` 'tie' or 'drop'."""
    if both_bad not in ("tie", "drop"):
        raise WorkbenchError(f"both_bad must be 'tie' or 'drop', not {both_bad!r}.")
    rows = vote_table[vote_table["vote"].isin(VOTES)]
    if both_bad == "drop":
        rows = rows[rows["vote"] != "both_bad"]
    return [(a, b, VOTE_SCORE[v]) for a, b, v in zip(rows["model_left"], rows["model_right"], rows["vote"])]
