"""What a task is: rows -> requests, responses -> per-sample scores -> metrics. Tasks never call a model."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, cast

from ..data import DataSpec
from ..errors import WorkbenchError, suggest
from ..metrics import choice_predictions, mean, mean_stderr, normal_ci
from ..models.base import GenerateRequest, LoglikelihoodRequest, LoglikelihoodResponse, RollingRequest

Row = dict[str, Any]
FEWSHOT_SEED = 1234  # the harness's default fewshot seed


@dataclass
class Item:
    """One document turned into the requests that score it (all of one kind)."""

    doc_id: int
    doc: Row
    prompt: str
    requests: list[LoglikelihoodRequest] | list[GenerateRequest] | list[RollingRequest] = field(default_factory=list)


class Task(Protocol):
    """Everything callers use of a task: rows -> items of requests, responses -> records -> metrics, plus
    what the listing, the options and the runner read. ``TaskBase`` gives the optional parts defaults.

    The attributes are read-only here (properties), so a task may hold them as fields or derive them."""

    @property
    def name(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def data(self) -> DataSpec: ...

    @property
    def eval_split(self) -> str: ...

    @property
    def fewshot_split(self) -> str | None: ...

    @property
    def template(self) -> str: ...

    @property
    def metrics(self) -> tuple[str, ...]: ...

    @property
    def default_shots(self) -> int: ...  # examples shown when --shots is left out

    @property
    def fixed_shots(self) -> str: ...  # why --shots cannot change them, or ""

    @property
    def size(self) -> int | None: ...  # items in the eval split, when known without loading it

    @property
    def mirror(self) -> str: ...  # where the local mirror keeps the eval split ("" when it has none)

    @property
    def multi_turn(self) -> bool: ...  # each turn's request is built from the answers before it (next_request)

    @property
    def target_lang(self) -> str | None: ...  # language of the expected outputs (BLEU's tokenizer), when it is one

    def select_docs(self, docs: Sequence[Row], limit: int | None) -> list[Row]: ...

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]: ...

    def next_request(self, item: Item, answers: Sequence[str]) -> GenerateRequest | None: ...

    def score(self, item: Item, responses: Sequence[Any]) -> Row: ...

    def aggregate(self, records: Sequence[Row]) -> dict[str, Any]: ...

    def with_chat(self) -> Task: ...

    def with_max_new_tokens(self, max_new_tokens: int) -> Task: ...


class TaskBase:
    """Defaults for the optional parts of the Task contract; every task class derives from it."""

    if TYPE_CHECKING:  # a field of most tasks, a property of those that wrap another

        @property
        def name(self) -> str: ...

    default_shots: int = 0
    fixed_shots: str = ""
    size: int | None = None
    mirror: str = ""
    multi_turn: bool = False
    target_lang: str | None = None
    max_new_tokens: int | None = None  # None: the task generates nothing

    def select_docs(self, docs: Sequence[Row], limit: int | None) -> list[Row]:
        """The docs a run scores: the first ``limit`` (all when None)."""
        return list(docs[:limit] if limit else docs)

    def next_request(self, item: Item, answers: Sequence[str]) -> GenerateRequest | None:
        """Single-turn tasks: every request is known up front."""
        return None

    def with_chat(self) -> Task:
        raise WorkbenchError(f"{self.name} does not support --chat; leave it out.")

    def with_max_new_tokens(self, max_new_tokens: int) -> Task:
        """The task with another cap on generated tokens, or a message when it generates nothing."""
        if self.max_new_tokens is None or not dataclasses.is_dataclass(self):
            raise WorkbenchError(f"{self.name} does not generate text, so max_new_tokens does not apply; leave it out.")
        return cast(Task, dataclasses.replace(self, max_new_tokens=max_new_tokens))


ITEM_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)


def bad_item(task: str, doc_id: int, problem: str | Exception) -> WorkbenchError:
    """The error for a document that cannot become an item, raised before any model runs."""
    if isinstance(problem, KeyError):
        problem = f"the row has no field {problem.args[0]!r}"
    elif isinstance(problem, Exception):
        problem = f"{problem} ({type(problem).__name__})"
    return WorkbenchError(
        f"{task}, item {doc_id} (row {doc_id + 1} of the data): {problem}. Fix or delete that row in your --data "
        "file (or restore the mirror's original file); nothing was run."
    )


def summarize(records: Sequence[Row], metrics: Sequence[str]) -> dict[str, Any]:
    """Each metric's value, standard error and 95% interval over the records (the harness's mean and stderr).

    ``f1`` is macro F1 over the records' (gold, pred) pairs, with a bootstrap standard error.
    """
    from ..metrics.classification import bootstrap_stderr, macro_f1

    out: dict[str, Any] = {"n": len(records)}
    for metric in metrics:
        if metric == "f1":
            pairs = [(r["gold"], r["pred"]) for r in records]
            value, stderr = macro_f1(pairs), bootstrap_stderr(macro_f1, pairs)
        else:
            values = [float(r[metric]) for r in records]
            value, stderr = mean(values), mean_stderr(values)
        out[metric] = value
        out[f"{metric}_stderr"] = stderr
        out[f"{metric}_ci95"] = list(normal_ci(value, stderr))
    return out


@dataclass
class PromptTask(TaskBase):
    """A task whose prompt is built as lm-evaluation-harness builds it.

    Prompt = description + shots x (text + target_delimiter + answer + fewshot_delimiter) + text. Subclasses
    define doc_to_text, fewshot_answer (what follows a shown example), make_item (the requests) and score.
    """

    name: str
    summary: str
    data: DataSpec
    eval_split: str
    fewshot_split: str | None
    template: str  # how doc_to_text reads, recorded with each run
    description: str = ""
    target_delimiter: str = " "
    fewshot_delimiter: str = "\n\n"
    metrics: tuple[str, ...] = ()
    fewshot_sampler: str = "random"  # "random": Random(1234) consumed in doc order; "first_n": the pool's first n
    # the harness draws n + 1 examples and drops the doc itself when its fewshot split equals its test split
    # (also when both are unset, as for hellaswag and winogrande), which changes the draws of later docs
    fewshot_excludes_doc: bool = False
    default_shots: int = 0
    fixed_shots: str = ""  # why --shots cannot change the examples (truthfulqa's prompt carries its own), if so
    size: int | None = None  # items in the eval split
    mirror: str = ""  # where the mirror holds the eval split, relative to $WORKBENCH_DATA_DIR

    def doc_to_text(self, doc: Row) -> str:
        raise NotImplementedError

    def fewshot_answer(self, doc: Row) -> str:
        raise NotImplementedError

    def make_item(self, doc_id: int, doc: Row, prefix: str) -> Item:
        """The item for ``doc`` after ``prefix`` (description and few-shot examples)."""
        raise NotImplementedError

    # ---- rows -> requests ----------------------------------------------------------------------
    def doc_description(self, doc: Row) -> str:
        return self.description

    def fewshot_examples(self, rnd: random.Random, pool: list[Row], shots: int, doc: Row) -> list[Row]:
        """The examples shown before ``doc``, drawn as the harness's sampler draws them."""
        if self.fewshot_sampler == "first_n":
            return [d for d in pool if d != doc][:shots] if self.fewshot_excludes_doc else pool[:shots]
        if self.fewshot_excludes_doc:
            return [d for d in rnd.sample(pool, min(shots + 1, len(pool))) if d != doc][:shots]
        return rnd.sample(pool, shots)

    def fewshot_block(self, shots: Sequence[Row]) -> str:
        return "".join(
            self.doc_to_text(d) + self.target_delimiter + self.fewshot_answer(d) + self.fewshot_delimiter for d in shots
        )

    def build_items(self, docs: Sequence[Row], fewshot_pool: Sequence[Row], shots: int) -> list[Item]:
        """Prompts and requests for each doc; few-shot examples drawn as the harness draws them.

        One Random(1234) is consumed in document order, so doc i gets the same examples here as there.
        """
        pool = list(fewshot_pool)
        if shots and len(pool) < shots:
            raise WorkbenchError(
                f"--shots {shots} is more than the {len(pool)} examples in {self.name}'s "
                f"{self.fewshot_split} split; use at most {len(pool)}."
            )
        rnd = random.Random(FEWSHOT_SEED)
        items = []
        for doc_id, doc in enumerate(docs):
            self.check_doc(doc_id, doc)
            try:
                prefix = self.doc_description(doc)
                if shots:
                    prefix += self.fewshot_block(self.fewshot_examples(rnd, pool, shots, doc))
                items.append(self.make_item(doc_id, doc, prefix))
            except ITEM_ERRORS as exc:
                raise bad_item(self.name, doc_id, exc) from None
        return items

    def check_doc(self, doc_id: int, doc: Row) -> None:
        """Refuse a document that could not be scored, before any model runs (nothing to check by default)."""

    # ---- records -> metrics --------------------------------------------------------------------
    def aggregate_metrics(self, records: Sequence[Row], metrics: Sequence[str]) -> dict[str, Any]:
        return summarize(records, metrics)

    def aggregate(self, records: Sequence[Row]) -> dict[str, Any]:
        return self.aggregate_metrics(records, self.metrics)


ANSWER_CUE = re.compile(r"\s*(?<!\S)(?:Answer|A|답변|정답)\s*:\s*$")


@dataclass
class MultipleChoiceTask(PromptTask):
    """A task scored by the log-likelihood of each choice as a continuation of the prompt.

    Each choice is scored as target_delimiter + choice after the prompt: lm-evaluation-harness's multiple_choice
    layout. The same items can be scored generatively (tasks.generative) from doc_to_question/generation_options.
    """

    metrics: tuple[str, ...] = ("acc", "acc_norm")
    language: str = "en"  # of the instructions in generative scoring
    instruction: str = ""  # what generative scoring asks for (empty: the language's default)
    shuffle_for_generation: bool = False  # when the gold choice always sits in one position (truthfulqa)

    # ---- the three things a concrete task defines ----------------------------------------------
    def doc_to_text(self, doc: Row) -> str:
        raise NotImplementedError

    def doc_to_choice(self, doc: Row) -> list[str]:
        raise NotImplementedError

    def doc_to_target(self, doc: Row) -> int:
        raise NotImplementedError

    # ---- rows -> requests ----------------------------------------------------------------------
    def fewshot_answer(self, doc: Row) -> str:
        return self.doc_to_choice(doc)[self.doc_to_target(doc)]

    def make_item(self, doc_id: int, doc: Row, prefix: str) -> Item:
        prompt = prefix + self.doc_to_text(doc)
        requests = [LoglikelihoodRequest(prompt, self.target_delimiter + c) for c in self.doc_to_choice(doc)]
        return Item(doc_id, doc, prompt, requests)

    def check_doc(self, doc_id: int, doc: Row) -> None:
        """Every item has choices and its gold answer among them: a row from the hub, a mirror or a file that
        slipped past the data checks is refused here, before the model runs, not when its score is computed."""
        try:
            choices = self.doc_to_choice(doc)
            if not choices:
                raise bad_item(self.name, doc_id, "no answer choices; an item needs at least two")
            golds = self.gold_indices(doc)
        except ITEM_ERRORS as exc:
            raise bad_item(self.name, doc_id, exc) from None
        wrong = [g for g in golds if isinstance(g, bool) or not isinstance(g, int) or not 0 <= g < len(choices)]
        if not golds or wrong:
            raise bad_item(
                self.name,
                doc_id,
                f"gold answer {wrong[0] if wrong else 'missing'} is not the index of one of its {len(choices)} choices",
            )

    # ---- for generative scoring ----------------------------------------------------------------
    def doc_to_question(self, doc: Row) -> str:
        """The question without its answer cue; generative scoring lists the options after it."""
        return ANSWER_CUE.sub("", self.doc_to_text(doc))

    def generation_options(self, doc: Row) -> list[str]:
        """The options as the model reads them when it writes the label of one."""
        return self.doc_to_choice(doc)

    def gold_indices(self, doc: Row) -> list[int]:
        """Every correct option (one, except for truthfulqa_mc2)."""
        return [self.doc_to_target(doc)]

    def record_fields(self, doc: Row) -> Row:
        """Fields of the doc kept in each scored record (MMLU's subject, for its group metrics)."""
        return {}

    # ---- responses -> scores -------------------------------------------------------------------
    def score(self, item: Item, responses: Sequence[LoglikelihoodResponse]) -> Row:
        choices = self.doc_to_choice(item.doc)
        lls = [r.logprob for r in responses]
        gold = self.doc_to_target(item.doc)
        pred, pred_norm = choice_predictions(lls, choices)
        return {
            "doc_id": item.doc_id,
            "gold": gold,
            "pred": pred,
            "pred_norm": pred_norm,
            "acc": float(pred == gold),
            "acc_norm": float(pred_norm == gold),
            "loglikelihoods": lls,
            "is_greedy": [r.is_greedy for r in responses],
            "choices": choices,
            "prompt": item.prompt,
            **self.record_fields(item.doc),
        }


def unknown_subject(name: str, label: str, subjects: Sequence[str], categories: Sequence[str]) -> WorkbenchError:
    """The error for ``<family>:<something>`` (``mmlu:``, ``kmmlu:``) that is neither a subject nor a category:
    the nearest names, every subject, the categories and the whole benchmark."""
    family, wanted = name.split(":", 1)
    hint = re.sub(r"'([^']+)'", rf"'{family}:\1'", suggest(wanted, [*subjects, *categories]))
    listed = ", ".join(f"{family}:{c}" for c in categories)
    return WorkbenchError(
        f"Unknown {label} subject {wanted!r}.{hint} Use {family}:<subject> with one of the {len(subjects)} subjects "
        f"({', '.join(sorted(subjects))}), a category ({listed}), or {family} for all of them."
    )
