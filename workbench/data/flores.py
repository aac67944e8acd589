"""FLORES-200 sentences: multi-way parallel, so any two languages make a translation test set.

Mirror: ``flores200/{dev,devtest}/{lang}.{split}`` (one sentence per line, files line-aligned). Hub:
``openlanguagedata/flores_plus`` is gated, so the hub form read here is ``facebook/flores`` (``sentence_{lang}``
columns). A user's file needs ``source`` and ``target`` columns.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import WorkbenchError
from .sources import DataSpec, Row, require_file

LANGUAGES = {
    "en": ("eng_Latn", "English"),
    "ko": ("kor_Hang", "Korean"),
    "ja": ("jpn_Jpan", "Japanese"),
    "zh": ("zho_Hans", "Chinese"),
    "de": ("deu_Latn", "German"),
    "fr": ("fra_Latn", "French"),
}
SPLITS = ("dev", "devtest")


def read_lines(root: Path, code: str, split: str) -> list[str]:
    path = require_file(root / "flores200" / split / f"{code}.{split}", f"FLORES-200 {code} {split}")
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def spec(src: str, tgt: str) -> DataSpec:
    """Rows ``{id, source, target}`` for translating ``src`` into ``tgt`` (short codes: en, ko, ja, ...)."""
    src_code, tgt_code = LANGUAGES[src][0], LANGUAGES[tgt][0]

    def mirror(root: Path, split: str) -> list[Row]:
        sources, targets = read_lines(root, src_code, split), read_lines(root, tgt_code, split)
        if len(sources) != len(targets):
            raise WorkbenchError(
                f"FLORES-200 {split}: {src_code} has {len(sources)} lines but {tgt_code} has {len(targets)}; "
                "the files must be line-aligned (restore them from the mirror)."
            )
        return [{"id": i, "source": s, "target": t} for i, (s, t) in enumerate(zip(sources, targets))]

    def normalize(row: Row) -> Row:
        if "source" in row:
            return {"id": row.get("id", ""), "source": str(row["source"]), "target": str(row["target"])}
        return {"id": row["id"], "source": row[f"sentence_{src_code}"], "target": row[f"sentence_{tgt_code}"]}

    return DataSpec("facebook/flores", f"{src_code}-{tgt_code}", mirror, normalize, ("source", "target"))
