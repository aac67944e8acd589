"""WikiText-2 documents for perplexity, split into pages as EleutherAI/wikitext_document_level splits them.

The harness scores ``wikitext-2-raw-v1`` (hub ``EleutherAI/wikitext_document_level``). The shared mirror holds
only the *tokenized* variant (``wiki.test.tokens``: out-of-vocabulary words replaced by ``<unk>``, numbers
split as ``1 @,@ 000``); the raw file is used instead when a mirror has it. Perplexity on the tokenized
variant is not comparable with published wikitext numbers: every ``<unk>`` is an odd, hard-to-predict string
for a modern tokenizer, and the page texts (so the word and byte counts) differ from the raw ones.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import notice
from .sources import DataSpec, Row, RowError

SPLIT_FILES = {"test": "test", "validation": "valid"}
TOKENIZED_NOTE = (
    "The data mirror holds WikiText-2's tokenized variant (wiki.{split}.tokens, with <unk> and ' @-@ '), not "
    "wikitext-2-raw-v1 as lm-evaluation-harness uses: perplexities are not comparable with published wikitext "
    "numbers (see workbench/data/wikitext.py)."
)


def split_pages(text: str) -> list[str]:
    """Pages of a WikiText file: a new page starts at each top-level heading line ``= Title =``."""
    pages: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        heading = line.replace("= = =", "===").replace("= =", "==").strip()
        if heading.startswith("= ") and heading.endswith(" ="):
            page = "\n".join(current)
            if page.strip():
                pages.append(page)
            current = []
        current.append(line)
    pages.append("\n".join(current))
    return pages


def mirror_file(root: Path, split: str) -> Path:
    """The raw file when the mirror has it (``wikitext2/wiki.{split}.raw``), else the tokenized one."""
    from .sources import require_file

    name = SPLIT_FILES.get(split, split)
    raw = root / "wikitext2" / f"wiki.{name}.raw"
    if raw.is_file():
        return raw
    return require_file(root / "wikitext2" / f"wiki.{name}.tokens", f"WikiText-2 {split} split")


def read_mirror(root: Path, split: str) -> list[Row]:
    path = mirror_file(root, split)
    if path.suffix == ".tokens":
        notice(TOKENIZED_NOTE.format(split=SPLIT_FILES.get(split, split)))
    return [{"page": page} for page in split_pages(path.read_text(encoding="utf-8"))]


def to_row(row: Row) -> Row:
    """A page row in the hub schema (``page``); a user's file may call the column ``text``."""
    field = "page" if "page" in row else "text"
    page = row[field]
    if not isinstance(page, str):
        raise RowError(field, f"{page!r:.40} is not text; each row needs the page as a string.")
    return {"page": page}


SPEC = DataSpec("EleutherAI/wikitext_document_level", "wikitext-2-raw-v1", read_mirror, to_row, ("page",))
