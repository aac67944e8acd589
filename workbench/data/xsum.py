"""XSum summaries with human references (Maynez et al., 2020): 500 BBC articles, the gold summary and the
outputs of four systems, for scoring summaries without running a model (mirror ``xsum_hallucination/``).

The annotation file repeats a summary once per annotated span and worker; rows here are deduplicated to one
per (article, system). ``eval_scores_xsum_summaries.csv`` holds the authors' own ROUGE, kept for checking.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..errors import WorkbenchError
from ..settings import DATA_ENV, data_dir
from .sources import require_file

SYSTEMS = ("BERTS2S", "PtGen", "TConvS2S", "TranS2S")
# eval_scores names -> annotation names (mapping established in the mirror's SOURCE.md)
SCORE_SYSTEMS = {"bert_withckpt": "BERTS2S", "bert_nockpt": "TranS2S", "ptgen": "PtGen", "tconvs2s": "TConvS2S"}


def _root(root: str | Path | None) -> Path:
    found = Path(root) if root is not None else data_dir()
    if found is None:
        raise WorkbenchError(
            f"The XSum summaries are read from the data mirror: set ${DATA_ENV} to the mirror root (it holds "
            "xsum_hallucination/)."
        )
    return found


def summaries(root: str | Path | None = None) -> list[dict[str, Any]]:
    """One row per (article, system): ``bbcid``, ``system``, ``prediction`` (system summary) and
    ``reference`` (the gold summary), systems in the order of :data:`SYSTEMS`."""
    path = require_file(
        _root(root) / "xsum_hallucination" / "hallucination_annotations_xsum_summaries.csv", "XSum summaries"
    )
    by_key: dict[tuple[str, str], str] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            by_key.setdefault((row["bbcid"], row["system"]), row["summary"])
    gold = {bbcid: text for (bbcid, system), text in by_key.items() if system == "Gold"}
    order = list(dict.fromkeys(bbcid for bbcid, _ in by_key))
    return [
        {"bbcid": bbcid, "system": system, "prediction": by_key[(bbcid, system)], "reference": gold[bbcid]}
        for system in SYSTEMS
        for bbcid in order
        if (bbcid, system) in by_key and bbcid in gold
    ]


def published_scores(root: str | Path | None = None) -> list[dict[str, Any]]:
    """The authors' ROUGE-1/2/L F1 per (article, system), system names mapped to the annotation file's."""
    path = require_file(_root(root) / "xsum_hallucination" / "eval_scores_xsum_summaries.csv", "XSum scores")
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            name, _, bbcid = row["system_bbcid"].rpartition("_")
            out.append(
                {"bbcid": bbcid, "system": SCORE_SYSTEMS[name], **{k: float(row[k]) for k in ("R1", "R2", "RL")}}
            )
    return out
