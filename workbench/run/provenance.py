"""What a run records about how to reproduce it: package versions, the call that started it, and what the
model's endpoint said it was.

The model's identity comes from ``models.describe`` and the data's fingerprint from ``data.fingerprint``;
this module adds the rest, so every kind of run records the same things the same way. An API model's identity
can change under an unchanged name (a provider updates the model behind an alias): each record keeps what its
answers reported (``reported_by``) and a finished run the total (``reported_over``, in ``model_identity``).
"""

from __future__ import annotations

import platform
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from typing import Any

from ..models.base import SERVED_MODEL, SYSTEM_FINGERPRINT, GenerateResponse

PACKAGES = ("workbench", "torch", "transformers", "datasets", "numpy", "pandas", "tokenizers")


def versions() -> dict[str, str]:
    """Python's and the key packages' versions ('not installed' where absent)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        dist = "llm-eval-workbench" if name == "workbench" else name
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def shown(value: Any) -> str:
    """A value as the recorded command shows it: DataFrames and long lists by their size, else ``repr``."""
    if hasattr(value, "shape"):  # a DataFrame
        return f"<DataFrame {value.shape[0]}x{value.shape[1]}>"
    if isinstance(value, (list, tuple)) and len(repr(value)) > 200:
        return f"<{len(value)} items>"
    return repr(value)


# ---- what the endpoint said it is ---------------------------------------------------------------------------
# what is recorded -> the GenerateResponse.extra key an API backend fills from each answer (models/base.py)
REPORTED = {"model": SERVED_MODEL, "system_fingerprint": SYSTEM_FINGERPRINT}


def reported_by(responses: Sequence[Any]) -> dict[str, Any] | None:
    """What an item's answers said about the model behind them: ``{"calls": n, "model": {name: count},
    "system_fingerprint": {fingerprint: count}}`` over the answers that carry the report (answers from an
    OpenAI-compatible endpoint); None when none does (local models report nothing)."""
    told = [r.extra for r in responses if isinstance(r, GenerateResponse) and SERVED_MODEL in r.extra]
    if not told:
        return None
    out: dict[str, Any] = {"calls": len(told)}
    for name, key in REPORTED.items():
        counts = Counter(str(extra[key]) for extra in told if extra.get(key))  # "" and None: not reported
        if counts:
            out[name] = dict(counts)
    return out


def reported_over(records: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The reports of a run's records (each record's ``reported``) added up, the same shape as
    :func:`reported_by`, names by count (most first); None when no record holds one."""
    calls, counts = 0, {name: Counter[str]() for name in REPORTED}
    for record in records:
        told = record.get("reported")
        if not isinstance(told, dict):
            continue
        calls += int(told.get("calls") or 0)
        for name in REPORTED:
            counts[name].update({str(k): int(v) for k, v in (told.get(name) or {}).items()})
    if not calls:
        return None
    return {"calls": calls, **{name: dict(c.most_common()) for name, c in counts.items() if c}}
