"""Community metrics through Hugging Face ``evaluate``: ``evaluate:NAME`` (a hub metric) or a metric script's path.

    workbench.score("outputs.csv", ["chrf", "evaluate:exact_match", "./metrics/char_overlap.py"])

:func:`resolve` loads a metric once with ``evaluate.load`` and makes it a :class:`~.definition.TextMetric`, so scoring,
grids and comparison treat it like one of ours. Its values are recorded under its label: ``evaluate:NAME``, where NAME
is the hub name or the script's file name; a metric that returns several numbers gets one column each
(``evaluate:rouge.rouge1``, ...).

- Per item where the metric allows: ``compute`` with one prediction and one reference; the numbers it returns are the
  item's values and the run's score is their mean with a normal 95% interval, so paired comparison works as for exact
  match.
- On the corpus otherwise: a metric that declares ``corpus_level = True`` on its class, one of the hub's corpus
  statistics (BLEU, TER, Pearson's r, F1, ...), or one whose first per-item call raises is computed once over all
  items, with a percentile bootstrap interval when a computation is cheap enough to repeat, else without one.

Each run records ``<label>_signature`` (as sacrebleu's metrics record theirs): where the metric came from (hub name or
script path), the sha256 of the script that ran (and evaluate's module hash for a hub metric), evaluate's version
and the level it was computed at. Offline, a script path needs no network and a hub name loads from evaluate's cache;
``HF_HUB_OFFLINE=1`` (or ``HF_EVALUATE_OFFLINE``, ``HF_DATASETS_OFFLINE``) loads a hub metric straight from that cache,
without trying the hub.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import numbers
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import WorkbenchError, notice
from .definition import TextMetric, mean_metrics

PREFIX = "evaluate:"
# hub metrics whose value over a corpus is not the mean of per-item values (or that cannot score one item)
CORPUS_STATISTICS = frozenset(
    {"bleu", "sacrebleu", "google_bleu", "chrf", "ter", "mauve", "pearsonr", "spearmanr", "matthews_correlation",
     "f1", "precision", "recall", "roc_auc", "r_squared"}
)  # fmt: skip
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_EVALUATE_OFFLINE", "HF_DATASETS_OFFLINE")
BOOTSTRAP_SECONDS, MAX_RESAMPLES = 3.0, 1000  # a corpus metric's interval: 1000 resamples, when they fit in 3 s


def is_spec(name: str) -> bool:
    """Whether a metric name means an evaluate metric: ``evaluate:NAME``, a name ending in .py, an existing path."""
    return name.startswith(PREFIX) or name.endswith(".py") or (bool(name) and Path(name).expanduser().exists())


def label(spec: str) -> str:
    """The name a metric's values are recorded under: ``evaluate:NAME`` (the hub name, or the script's file name)."""
    if spec.startswith(PREFIX):
        return PREFIX + spec[len(PREFIX) :].strip()
    path = Path(spec).expanduser()
    return PREFIX + (path.stem if path.suffix == ".py" else path.resolve().name)


def resolve(spec: str) -> TextMetric:
    """The evaluate metric ``spec`` names, loaded once (a script again when its text changed)."""
    return _loaded(spec, _script_digest(spec)).metric


def _script_digest(spec: str) -> str | None:
    """sha256 of a local script (None for a hub name): part of the cache key, so an edited script is reloaded."""
    script = _script(spec)
    return hashlib.sha256(script.read_bytes()).hexdigest() if script is not None else None


def _script(spec: str) -> Path | None:
    """The script file a path names: the file, or DIR/DIR.py as evaluate.load finds it; None for a hub name."""
    if spec.startswith(PREFIX):
        return None
    path = Path(spec).expanduser().resolve()
    if path.is_dir():
        path = path / f"{path.name}.py"
    if not path.is_file():
        raise WorkbenchError(
            f"No metric script at {path}. Give the path of an evaluate metric script (a .py file, or a folder "
            f"NAME holding NAME.py), or evaluate:NAME for a metric on the Hugging Face Hub."
        )
    return path


@lru_cache(maxsize=64)
def _loaded(spec: str, digest: str | None) -> Community:
    try:
        import evaluate
    except ImportError:
        raise WorkbenchError(
            f"Metric {spec!r} needs Hugging Face evaluate: pip install 'llm-eval-workbench[evaluate]'."
        ) from None
    name, script = label(spec), _script(spec)
    hub = spec[len(PREFIX) :].strip() if script is None else ""
    if script is None and not hub:
        raise WorkbenchError("evaluate: needs a metric name after it, e.g. evaluate:exact_match.")
    target = str(script) if script is not None else _hub_target(hub, evaluate)
    try:
        module = evaluate.load(target, keep_in_memory=True)
    except (FileNotFoundError, ConnectionError) as e:
        if script is None:
            raise WorkbenchError(_not_downloaded(hub)) from None
        raise WorkbenchError(f"Metric script {script} could not be loaded: {_said(e)}") from None
    except Exception as e:  # the script's own code failed (an import, a syntax error, _info)
        raise WorkbenchError(f"Metric {name} ({script or hub}) could not be loaded: {_said(e)}") from None
    if module.module_type != "metric":
        raise WorkbenchError(
            f"{name} is an evaluate {module.module_type}, not a metric: only metrics (predictions against "
            "references) can score outputs."
        )
    ran = Path(inspect.getfile(type(module)))  # evaluate's copy of the script, in a folder named by its module hash
    source = f"source:{script}" if script is not None else f"source:hub:{hub}|hash:{ran.parent.name}"
    sha = hashlib.sha256(ran.read_bytes()).hexdigest()
    return Community(
        name,
        module,
        signature=f"{name}|{source}|sha256:{sha}|evaluate:{evaluate.__version__}",
        corpus_only=bool(getattr(module, "corpus_level", False)) or hub in CORPUS_STATISTICS,
        nested=_nested_references(module),
    )


def _hub_target(name: str, evaluate: Any) -> str:
    """What evaluate.load gets for a hub metric: its name, or offline (HF_HUB_OFFLINE and the like) the newest copy of
    its script in evaluate's module cache, so that nothing tries the network."""
    if _offline_variable() is None:
        return name
    folder = name.replace("/", "--") if "/" in name else f"evaluate-metric--{name}"
    cached = Path(evaluate.config.HF_MODULES_CACHE) / "evaluate_modules" / "metrics" / folder
    scripts = sorted(cached.glob(f"*/{name.split('/')[-1]}.py"), key=lambda p: p.stat().st_mtime)
    if not scripts:
        raise WorkbenchError(_not_downloaded(name))
    return str(scripts[-1])


def _offline_variable() -> str | None:
    return next((v for v in OFFLINE_VARIABLES if os.environ.get(v, "").upper() in ("1", "ON", "YES", "TRUE")), None)


def _not_downloaded(name: str) -> str:
    variable = _offline_variable()
    host = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"
    if variable:
        why = f"this machine seems offline ({variable} is set)"
    elif not _reachable(host):
        why = f"this machine seems offline ({host} cannot be reached)"
    else:
        why = f"{host} has no metric named {name!r} (the list: https://huggingface.co/evaluate-metric)"
    return (
        f"Metric evaluate:{name} could not be downloaded from the Hugging Face Hub and is not in evaluate's cache: "
        f"{why}. Fix: give the path of a local metric script instead (metrics=['./{name}.py']), or run once online "
        "so that evaluate caches the metric."
    )


def _reachable(host: str) -> bool:
    try:
        socket.create_connection((host, 443), timeout=3).close()
        return True
    except OSError:
        return False


def _nested_references(module: Any) -> bool:
    """Whether the metric takes a list of references per item (sacrebleu-style) rather than one string."""
    features = module.info.features
    options = [f for f in (features if isinstance(features, list) else [features]) if f is not None]
    if not options:
        return False
    if any("references" not in f for f in options):
        raise WorkbenchError(f"evaluate metric {module.name} takes no references, so it cannot score outputs.")
    from datasets import Value

    return not any(isinstance(f["references"], Value) for f in options)


def _said(e: BaseException) -> str:
    return f"{type(e).__name__}: {' '.join(str(e).split()) or '(no message)'}"


@dataclass(eq=False)
class Community:
    """One loaded evaluate metric: computes per item until that fails on the first item, then on the corpus."""

    name: str
    module: Any  # evaluate.EvaluationModule
    signature: str
    corpus_only: bool
    nested: bool
    level: str | None = None  # "item" or "corpus", decided by the first item ever scored
    reason: str = ""  # why it is computed on the corpus

    def __post_init__(self) -> None:
        if self.corpus_only:
            self.level, self.reason = "corpus", "it is declared corpus-level"

    @property
    def metric(self) -> TextMetric:
        about = (self.module.info.description or "").strip().split("\n")[0]
        return TextMetric(
            self.name, about or f"evaluate metric {self.name}", self.item, top=float("inf"), bottom=float("-inf"),
            summarize=self.summarize,
        )  # fmt: skip

    def compute(
        self, predictions: Sequence[str], references: Sequence[str], lang: str | None = None, *, direct: bool = False
    ) -> dict[str, float]:
        """The metric's numbers over these items (``lang`` passed on to a metric that takes it, such as bertscore);
        ``direct``: through its own _compute, without evaluate's arrow round trip (for bootstrap resamples, once it
        gave the numbers compute gave)."""
        refs = [[r] for r in references] if self.nested else list(references)
        run = self.module._compute if direct else self.module.compute
        takes_lang = lang and "lang" in inspect.signature(self.module._compute).parameters
        return self.numbers(
            run(predictions=list(predictions), references=refs, **({"lang": lang} if takes_lang else {}))
        )

    def numbers(self, result: Any) -> dict[str, float]:
        """The numbers of a compute result by column: one number under the label, several as label.key."""
        if not isinstance(result, Mapping):
            raise WorkbenchError(
                f"Metric {self.name} returned {_shown(result)}, not a dict of numbers; its _compute must return "
                "e.g. {'score': 0.5}."
            )
        found = {str(k): v for k, v in ((k, _number(v)) for k, v in result.items()) if v is not None}
        if not found:
            raise WorkbenchError(
                f"Metric {self.name} returned no number ({_shown(result)}); its _compute must return a dict of "
                "numbers, e.g. {'score': 0.5}."
            )
        if len(found) == 1:
            return {self.name: next(iter(found.values()))}
        return {f"{self.name}.{k}": v for k, v in found.items()}

    def item(self, prediction: str, reference: str, lang: str | None = None) -> dict[str, float]:
        if self.level == "corpus":
            return {}
        try:
            values = self.compute([prediction], [reference], lang)
        except WorkbenchError:
            raise
        except Exception as e:
            if self.level is None:  # the metric cannot score one item: the corpus it is, for every run
                self.level, self.reason = "corpus", f"its per-item call raised {_said(e)}"
                return {}
            raise WorkbenchError(
                f"Metric {self.name} raised on an item after scoring others per item: {_said(e)}. Fix the metric "
                "script (or remove the item it cannot score)."
            ) from None
        self.level = "item"
        return values

    def summarize(
        self, records: Sequence[Mapping[str, Any]], prediction: str, reference: str, lang: str | None = None
    ) -> dict[str, Any]:
        """Means of the per-item values, or the corpus computation with a bootstrap interval when cheap."""
        keys = dict.fromkeys(k for r in records for k in r)
        per_item = [k for k in keys if k == self.name or k.startswith(self.name + ".")]
        if per_item and self.level != "corpus":
            means = {k: v for c in per_item for k, v in mean_metrics(c, records, float("-inf"), float("inf")).items()}
            return {**means, f"{self.name}_signature": f"{self.signature}|level:item"}
        predictions = ["" if r[prediction] is None else str(r[prediction]) for r in records]
        references = [str(r[reference]) for r in records]
        try:
            start = time.perf_counter()
            out: dict[str, Any] = dict(self.compute(predictions, references, lang))
            took = time.perf_counter() - start
        except WorkbenchError:
            raise
        except Exception as e:
            raise WorkbenchError(
                f"Metric {self.name} raised: {_said(e)}. Fix the metric script (or choose another metric)."
            ) from None
        interval, said = self._intervals(predictions, references, lang, out, took)
        out.update(interval)
        if not interval or not self.corpus_only:
            notice(
                f"{self.name} was computed once over all {len(records)} items ({self.reason}); {said}. It has no "
                "per-item values to compare item by item."
            )
        ci = f"bootstrap-{MAX_RESAMPLES}" if interval else "none"
        return {**out, f"{self.name}_signature": f"{self.signature}|level:corpus|ci:{ci}"}

    def _intervals(
        self,
        predictions: Sequence[str],
        references: Sequence[str],
        lang: str | None,
        full: Mapping[str, float],
        took: float,
    ) -> tuple[dict[str, list[float]], str]:
        """Percentile 95% intervals of each number from MAX_RESAMPLES bootstrap resamples of the items, when they fit
        in BOOTSTRAP_SECONDS (else none), and what was done, in words. Each resample is computed once for all
        numbers (bootstrap_interval draws the same resamples from one seed), through the metric's own _compute
        when that gives the numbers compute gave."""
        import numpy as np

        from .paired import bootstrap_interval

        direct = False
        with contextlib.suppress(Exception):
            start = time.perf_counter()
            direct = self.compute(predictions, references, lang, direct=True) == dict(full)
            took = time.perf_counter() - start if direct else took
        if len(predictions) < 2:
            return {}, "no interval from one item"
        if took * MAX_RESAMPLES > BOOTSTRAP_SECONDS:
            return {}, f"no interval: one computation took {took:.2g} s, too long to repeat for a bootstrap"
        done: dict[bytes, dict[str, float]] = {}

        def on(column: str):
            def statistic(rows: np.ndarray) -> float:
                idx = rows.astype(int)
                if idx.tobytes() not in done:
                    picked = [predictions[i] for i in idx], [references[i] for i in idx]
                    done[idx.tobytes()] = self.compute(*picked, lang, direct=direct)
                return done[idx.tobytes()][column]

            return statistic

        rows = np.arange(len(predictions))
        try:
            ci = {f"{c}_ci95": list(bootstrap_interval(rows, on(c), n_resamples=MAX_RESAMPLES)) for c in full}
        except Exception as e:  # a resample the metric cannot score (one repeated item, say)
            return {}, f"no interval: a bootstrap resample raised {_said(e)}"
        return ci, f"95% interval from {MAX_RESAMPLES} bootstrap resamples"


def _number(value: Any) -> float | None:
    """A number (a Python or numpy scalar, or a list or array holding one), else None."""
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return _number(value[0])
    if getattr(value, "size", None) == 1 and hasattr(value, "item"):
        return _number(value.item())
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 80 else text[:77] + '...'}"
