"""What a check found: every rule's outcome, as a table, a plain-text summary for a terminal or a CI log (100
columns), JUnit XML for CI systems (one test suite, one test case per rule) and HTML for a notebook."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..writing import write_whole
from .rules import Outcome, num, signed

_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot hold


def _xml_text(value: Any) -> str:
    return _NOT_XML.sub("?", str(value))


@dataclass
class CheckResult:
    """The outcome of ``workbench.check``: ``passed``, ``table()``, ``summary()``, ``junit(path)``."""

    outcomes: list[Outcome]
    name: str = "workbench check"
    spec: str = "the spec"
    store_path: Path | None = None
    saved_baseline: Path | None = None
    runs: dict[str, str] = field(default_factory=dict)  # 'arc_easy smollm2-135m' -> the candidate's run id

    @property
    def passed(self) -> bool:
        """Every rule held."""
        return all(o.passed for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]

    @property
    def exit_code(self) -> int:
        """What `workbench check` exits with: 0 when every rule holds, 1 when one fails."""
        return 0 if self.passed else 1

    def _several_models(self) -> bool:
        return len({o.check.model for o in self.outcomes}) > 1

    def table(self):
        """One row per rule: task, model, metric, rule, PASS/FAIL, the candidate's and the baseline's scores, the
        difference with its 95% interval, why, what the baseline is, the items compared and the run id."""
        import pandas as pd

        rows = [
            {
                "task": o.check.task,
                "model": o.check.model,
                "metric": o.rule.metric,
                "rule": o.rule.label,
                "result": "PASS" if o.passed else "FAIL",
                "candidate": o.candidate,
                "baseline": o.baseline,
                "difference": o.diff,
                "ci95_low": o.ci95[0] if o.ci95 else None,
                "ci95_high": o.ci95[1] if o.ci95 else None,
                "why": o.reason,
                "against": o.against,
                "items": o.n,
                "run_id": o.run_id,
                "detail": o.detail,
            }
            for o in self.outcomes
        ]
        return pd.DataFrame(rows, columns=["task", "model", "metric", "rule", "result", "candidate", "baseline",
                                           "difference", "ci95_low", "ci95_high", "why", "against", "items",
                                           "run_id", "detail"])  # fmt: skip

    def _shown(self):
        """The table as text cells, for a terminal or a notebook."""
        import pandas as pd

        several = self._several_models()
        return pd.DataFrame(
            {
                "task": [o.check.task + (f" {o.check.model}" if several else "") for o in self.outcomes],
                "metric": [o.rule.metric for o in self.outcomes],
                "cand.": [num(o.candidate) for o in self.outcomes],
                "base.": ["" if o.baseline is None else num(o.baseline) for o in self.outcomes],
                "cand-base [95% CI]": [_difference(o) for o in self.outcomes],
                "rule": [o.rule.label for o in self.outcomes],
                "result": ["PASS" if o.passed else "FAIL" for o in self.outcomes],
                "why": [o.reason for o in self.outcomes],
            }
        )

    def verdict(self) -> str:
        """'PASSED: 3 rules hold' or 'FAILED: 1 of 3 rules failed', with what was checked."""
        n, failed = len(self.outcomes), len(self.failures)
        models = sorted({o.check.model for o in self.outcomes})
        tasks = sorted({o.check.task for o in self.outcomes})
        what = f"{len(tasks)} task{'s' * (len(tasks) != 1)}, model{'s' * (len(models) != 1)} {', '.join(models)}"
        head = f"PASSED: {n} rule{'s' * (n != 1)} hold" if not failed else f"FAILED: {failed} of {n} rules failed"
        return f"{self.name} ({self.spec}): {head} ({what})"

    def summary(self, width: int = 100) -> str:
        """Plain text: the verdict, the table (``width`` columns), each failure in full, the runs checked."""
        from ..views.text import as_text

        lines = [self.verdict(), "", as_text(self._shown(), width=width, whole=("result", "cand-base [95% CI]"))]
        if self.failures:
            lines.append("")
        for o in self.failures:
            lines += textwrap.wrap(
                f"FAIL {o.label} (run {o.run_id}): {o.detail}", width=width, subsequent_indent="     "
            )
        runs = ", ".join(f"{k} {v}" for k, v in self.runs.items())
        lines += ["", *textwrap.wrap(f"runs: {runs}" + (f" in {self.store_path}" if self.store_path else ""), width)]
        if self.saved_baseline is not None:
            lines.append(f"baseline file written: {self.saved_baseline}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from ..views.html import escape, pre, table

        shown = self._shown()
        colour = "#1a7f37" if self.passed else "#cf222e"
        head = f'<p><b style="color: {colour}">{escape(self.verdict())}</b></p>'
        body = table(list(shown.columns), shown.itertuples(index=False))
        details = "".join(f"<li>{pre(f'{o.label}: {o.detail}')}</li>" for o in self.failures)
        return head + body + (f"<ul>{details}</ul>" if details else "")

    def junit(self, path: str | Path) -> Path:
        """Write JUnit XML (one ``testsuite``, one ``testcase`` per rule, a ``failure`` with the message for each
        rule that failed); written to a temporary file and renamed, so it is never half-written."""
        import xml.etree.ElementTree as ET

        failed = len(self.failures)
        root = ET.Element("testsuites", name=_xml_text(self.name), tests=str(len(self.outcomes)),
                          failures=str(failed), errors="0")  # fmt: skip
        suite = ET.SubElement(
            root, "testsuite", name=_xml_text(f"{self.name} ({self.spec})"), tests=str(len(self.outcomes)),
            failures=str(failed), errors="0", skipped="0",
        )  # fmt: skip
        if self.store_path is not None:
            properties = ET.SubElement(suite, "properties")
            ET.SubElement(properties, "property", name="store", value=_xml_text(self.store_path))
        for o in self.outcomes:
            case = ET.SubElement(
                suite, "testcase", classname=_xml_text(o.check.task),
                name=_xml_text(f"{o.check.model}: {o.rule.metric} {o.rule.label}"), time="0",
            )  # fmt: skip
            if o.passed:
                ET.SubElement(case, "system-out").text = _xml_text(o.detail)
            else:
                failure = ET.SubElement(
                    case, "failure", message=_xml_text(f"{o.reason}: {o.detail}"), type="regression"
                )
                failure.text = _xml_text(f"{o.label} (run {o.run_id}): {o.detail}")
        ET.indent(root)
        xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return write_whole(path, xml, "JUnit XML", make_folder=True)


def _difference(o: Outcome) -> str:
    if o.diff is None:
        return ""
    return signed(o.diff) + (f" [{signed(o.ci95[0])}, {signed(o.ci95[1])}]" if o.ci95 else "")
