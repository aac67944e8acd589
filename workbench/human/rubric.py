"""Rubrics: what a rating can be (a 1-5 scale, pass/fail, a set of labels) and the key for each value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import WorkbenchError


@dataclass(frozen=True)
class Rubric:
    """What a rating can be: an ordered tuple of values, each with a one-key shortcut.

    ``kind`` is 'scale' (numbers, e.g. 1-5), 'binary' (pass/fail) or 'labels' (a set of names).
    """

    name: str
    kind: str
    values: tuple[str, ...]

    @property
    def keys(self) -> dict[str, str]:
        """Keyboard shortcut -> value: 1, 2, ... 9, then 0 for the tenth value."""
        return {str((i + 1) % 10): v for i, v in enumerate(self.values)}

    @property
    def level(self) -> str:
        """Krippendorff level for agreement: ordinal for scales, nominal otherwise."""
        return "ordinal" if self.kind == "scale" else "nominal"

    @classmethod
    def parse(cls, spec: str | Sequence[str] | Rubric) -> Rubric:
        """'1-5', '1-10' (any 'lo-hi' of at most 10 values), 'pass/fail', a list of labels, or a Rubric."""
        if isinstance(spec, Rubric):
            return spec
        if isinstance(spec, str):
            text = spec.strip().lower()
            if text in ("pass/fail", "pass-fail", "binary"):
                return cls("pass/fail", "binary", ("pass", "fail"))
            lo, sep, hi = text.partition("-")
            if sep and lo.strip().isdigit() and hi.strip().isdigit() and 2 <= int(hi) - int(lo) + 1 <= 10:
                values = tuple(str(v) for v in range(int(lo), int(hi) + 1))
                return cls(f"{int(lo)}-{int(hi)}", "scale", values)
        elif spec and all(isinstance(v, str) and v.strip() for v in spec):
            labels = tuple(dict.fromkeys(v.strip() for v in spec))
            if len(labels) <= 10:
                return cls("labels:" + "|".join(labels), "labels", labels)
        raise WorkbenchError(
            f"Unknown rubric {spec!r}. Use '1-5', '1-10' (or another 'lo-hi' range of at most 10 values), "
            "'pass/fail', or a list of at most 10 labels such as ['correct', 'partly', 'wrong']."
        )
