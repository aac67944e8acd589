"""What a run records about how to reproduce it: package versions and the call that started it.

The model's identity comes from ``models.describe`` and the data's fingerprint from ``data.fingerprint``;
this module adds the rest, so every kind of run records the same things the same way.
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

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
