"""LLM-as-a-judge over saved runs: single-answer grading and pairwise comparison in both orders.

What is judged is a *conversation*: the questions a run's model was asked and its answers (MT-Bench runs
keep both turns; any other generation run gives one question and one answer). Every judge call is saved
the moment it returns, so an interrupted judging resumes where it stopped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import options
from ..data.mt_bench import NEED_REFERENCE
from ..errors import WorkbenchError, check_count
from ..models.base import GenerateRequest, GenerateResponse, Model
from ..run.records import FIELDS, Sample
from ..store import Store
from . import parse, prompts

if TYPE_CHECKING:
    from .results import JudgeResult

MODES = {"single": "single", "pairwise": "pair", "pair": "pair"}
SAMPLING = {"temperature": 0.0, "seed": None}  # how judge.judge asks: greedily (recorded with every judge run)
HANGUL = re.compile(r"[\uac00-\ud7a3]")
LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Conversation:
    """What a run's model was asked and answered for one item."""

    doc_id: int
    question_id: Any
    category: str
    language: str
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    """One judge request: which answer (item, turn, presentation order) and the exact messages."""

    doc_id: int
    turn: int
    swapped: int
    prompt_name: str
    messages: prompts.Messages


def language_of(text: str) -> str:
    """'ko' when most letters are Hangul, else 'en'."""
    letters = LETTER.findall(text)
    return "ko" if letters and len(HANGUL.findall(text)) / len(letters) > 0.3 else "en"


def conversations(records: Sequence[dict[str, Any]], run_id: str, language: str = "auto") -> list[Conversation]:
    """The judged conversations of a run's records, read through ``run.records.Sample`` (MT-Bench records
    keep every turn; any other record with a question and an answer gives one turn)."""
    out = []
    for r in records:
        sample = Sample.of(r)
        if not sample.questions or not sample.answers:
            raise WorkbenchError(
                f"Run {run_id} has no question/answer to judge in item {r.get('doc_id')} (it needs one of "
                f"{', '.join(FIELDS['question'])} and one of {', '.join(FIELDS['output'])}; its fields are "
                f"{', '.join(sorted(r))}). Judge a generation run, e.g. evaluate('mt_bench', ...)."
            )
        lang = language if language != "auto" else sample.language or language_of(" ".join(sample.questions))
        if lang not in prompts.WORDINGS:
            raise WorkbenchError(f"language must be 'auto', 'en' or 'ko' (got {lang!r}).")
        out.append(
            Conversation(
                sample.doc_id, sample.question_id, sample.category, lang, sample.questions, sample.answers,
                sample.references,
            )
        )  # fmt: skip
    return out


def uses_reference(conv: Conversation, policy: bool | str) -> bool:
    """Whether the judge sees the reference: 'auto' for math, reasoning and coding (as FastChat), else policy."""
    if not conv.references:
        return False
    return conv.category in NEED_REFERENCE if policy == "auto" else bool(policy)


def plan(
    mode: str,
    convs: Sequence[Conversation],
    others: Sequence[Conversation] | None,
    *,
    reference: bool | str,
    turns: Sequence[int] | None,
    terse: bool = False,
) -> list[Call]:
    """Every judge call: each answered turn of each conversation (pairwise: in both orders)."""
    calls = []
    by_doc = {c.doc_id: c for c in others or ()}
    for conv in convs:
        other = by_doc.get(conv.doc_id)
        if mode == "pair" and other is None:
            continue
        n_turns = len(conv.answers) if other is None else min(len(conv.answers), len(other.answers))
        for turn in range(1, n_turns + 1):
            if turns and turn not in turns:
                continue
            ref = uses_reference(conv, reference)
            refs = conv.references[:turn] if ref else ()
            name = prompts.prompt_name(mode, ref, turn > 1, conv.language, terse)
            questions = conv.questions[:turn]
            if other is None:
                messages = prompts.render(mode, conv.language, questions, [conv.answers[:turn]], refs, terse)
                calls.append(Call(conv.doc_id, turn, 0, name, messages))
                continue
            sides = [conv.answers[:turn], other.answers[:turn]]
            for swapped in (0, 1):
                shown = sides[::-1] if swapped else sides
                messages = prompts.render(mode, conv.language, questions, shown, refs, terse)
                calls.append(Call(conv.doc_id, turn, swapped, name, messages))
    return calls


def _check_pair(a: Sequence[Conversation], b: Sequence[Conversation], run_a: str, run_b: str) -> None:
    by_doc = {c.doc_id: c for c in b}
    shared = [c for c in a if c.doc_id in by_doc]
    if not shared:
        raise WorkbenchError(
            f"Runs {run_a} and {run_b} share no items, so there is nothing to compare. Pairwise judging needs two "
            "runs of the same task over the same items (same --limit or data)."
        )
    for c in shared:
        if c.questions[0] != by_doc[c.doc_id].questions[0]:
            raise WorkbenchError(
                f"Item {c.doc_id} asks different questions in runs {run_a} and {run_b}; pairwise judging compares "
                "answers to the same questions. Compare runs of the same task and data."
            )


def record(call: Call, response: GenerateResponse, mode: str, run_id: str) -> dict[str, Any]:
    """The stored row for one judge reply: its verdict when readable, and always its whole text."""
    text = response.text
    row: dict[str, Any] = {
        "run_id": run_id,
        "doc_id": call.doc_id,
        "turn": call.turn,
        "swapped": call.swapped,
        "prompt_name": call.prompt_name,
        "judge_output": text,
        "messages": call.messages,
        "prompt_tokens": response.prompt_tokens,
        "completion_tokens": response.completion_tokens,
    }
    if mode == "single":
        row["score"] = parse.parse_rating(text)
        row["parsed"] = int(row["score"] is not None)
    else:
        shown = parse.parse_verdict(text)
        row["shown_verdict"] = shown
        row["verdict"] = parse.winner(shown, bool(call.swapped))
        row["parsed"] = int(shown is not None)
    return row


def _judge_model(judge: str | Model) -> tuple[str, dict[str, Any], Any]:
    """(name, identity, loader) for a spec or a ready Model."""
    from .. import models

    if isinstance(judge, str):
        return judge, models.describe(judge), lambda: models.load(judge)
    if not isinstance(judge, Model):
        raise WorkbenchError(f"judge= takes a model spec or a loaded model, not {type(judge).__name__}.")
    return judge.name, judge.identity(), lambda: judge


def _run_id(run: Any) -> str:
    run_id = getattr(run, "run_id", run)
    if not isinstance(run_id, str):
        raise WorkbenchError(f"Give a run id or an EvalResult to judge, not {type(run).__name__}.")
    return run_id


def judge(
    run: Any,
    other: Any = None,
    *,
    judge: str | Model | None = None,
    mode: str | None = None,
    reference: bool | str = "auto",
    turns: Sequence[int] | None = None,
    language: str = "auto",
    terse: bool = False,
    limit: int | None = None,
    max_new_tokens: int = 1024,
    batch_size: int = 8,
    store: str | Path | None = None,
    command: str | None = None,
    separate: bool = False,
    partial: bool = False,
) -> JudgeResult:
    """Judge a run's answers with an LLM and save every verdict; returns a ``JudgeResult``.

    ``mode='single'`` (default with one run): each answer rated 1-10 with a rationale. ``mode='pairwise'``
    (default with two runs): for each shared item, which run answered better, asked in both orders; a
    verdict that flips with the order counts as a tie and its share is reported as position bias.
    ``reference``: 'auto' shows reference answers for math, reasoning and coding (FastChat's rule); True
    wherever a reference exists; False never. Later turns are judged with the whole conversation in view;
    ``turns=[1]`` judges only first turns. Korean questions get Korean prompts (``language='auto'``).
    ``terse=True`` ends each prompt with a short verdict cue, which small local judges need to answer in the
    format at all (their rationales are then minimal). Repeating an interrupted call resumes it.
    A run that is not complete (running, interrupted, failed) is refused: finish it first by repeating its call.
    ``partial=True`` judges its saved items anyway and records that in the judge run's config
    (``"partial": {"run": id, "items": 4, "of": 10}``, a list when both runs of a pairwise judging are partial),
    which ``JudgeResult``'s repr and ``summary()`` show.
    """
    from ..data import fingerprint
    from ..human.sources import unfinished
    from ..run import lifecycle
    from .results import JudgeResult

    if judge is None:
        raise WorkbenchError(
            "Name the judge model: judge='openai:gpt-4o' (key in $OPENAI_API_KEY), an OpenAI-compatible server "
            "judge='openai:MODEL@http://127.0.0.1:8000/v1', or a local model such as judge='smollm2-135m'."
        )
    mode_key = MODES.get(mode or ("pairwise" if other is not None else "single"))
    if mode_key is None:
        raise WorkbenchError(f"mode must be 'single' or 'pairwise' (got {mode!r}).")
    if (mode_key == "pair") != (other is not None):
        raise WorkbenchError(
            "Pairwise judging compares two runs: judge(run_a, run_b, mode='pairwise'). Single grading takes one run."
        )
    if reference not in ("auto", True, False):
        raise WorkbenchError(f"reference must be 'auto', True or False (got {reference!r}).")
    for name, value in (("limit", limit), ("max_new_tokens", max_new_tokens), ("batch_size", batch_size)):
        check_count(name, value, 1)
    if turns is not None and not all(isinstance(t, int) and t >= 1 for t in turns):
        raise WorkbenchError(f"turns lists turn numbers from 1, e.g. turns=[1] (got {turns!r}).")

    run_ids = [_run_id(run)] + ([_run_id(other)] if other is not None else [])
    db = Store(store or getattr(run, "store_path", None), create=False)
    cut = unfinished(db, run_ids, partial=partial, doing="judge")
    judged = []
    for rid in run_ids:
        r = db.run(rid)
        if r["task"].startswith("judge:"):
            raise WorkbenchError(f"Run {rid} is itself a judge run; judge the run whose answers it graded.")
        records = db.sample_records(rid)
        if not records:
            raise WorkbenchError(f"Run {rid} has no answers yet; finish it by repeating its evaluate() call.")
        convs = conversations(records, rid, language)
        judged.append((r, convs[:limit] if limit else convs))
    if other is not None:
        _check_pair(judged[0][1], judged[1][1], *run_ids)
    others = judged[1][1] if other is not None else None
    calls = plan(mode_key, judged[0][1], others, reference=reference, turns=turns, terse=terse)
    if not calls:
        raise WorkbenchError(f"Nothing to judge in run(s) {', '.join(run_ids)} with turns={turns!r}.")

    judge_name, identity, load = _judge_model(judge)
    used = prompts.templates(sorted({c.prompt_name for c in calls}))
    values = {"runs": run_ids, "judge": judge_name, "mode": "pairwise" if mode_key == "pair" else "single",
              "reference": reference, "turns": turns, "language": language, "terse": terse, "limit": limit,
              "max_new_tokens": max_new_tokens, "store": store, "batch_size": batch_size,
              "partial": partial, "separate": separate}  # fmt: skip
    config = {**options.config(options.JUDGE, values), "models": [r["model"] for r, _ in judged]}
    config.pop("partial", None)  # recorded below, as what the judged runs held, only where one was unfinished
    if cut:
        covered = [{"run": c["run"], "items": c["items"], "of": c["of"]} for c in cut]
        config["partial"] = covered[0] if len(covered) == 1 else covered
    data_fp = fingerprint([vars(c) for _, convs in judged for c in convs])
    key = {"judge": identity["fingerprint"], "data": data_fp, "prompts": used, **config}
    run_spec = lifecycle.RunSpec(
        task=f"judge:{config['mode']}",
        model=judge_name,
        identity=identity,
        source="runs:" + ",".join(run_ids),
        data_fingerprint=data_fp,
        template=json.dumps(used, ensure_ascii=False, indent=1),
        config={**config, **SAMPLING},  # recorded, not in the key: keys of earlier judge runs stay the same
        key=key,
        command=command or options.call_text("judge", options.JUDGE, {**values, "mode": mode}),
        n_items=len(calls),
    )
    judge_run = lifecycle.start(db, run_spec, done=db.judgment_keys, noun="judgments", verb="saved", separate=separate)
    with judge_run.recording():
        pending = [c for c in calls if (c.doc_id, c.turn, c.swapped) not in judge_run.done]
        if pending:
            ask(load(), pending, mode_key, judge_run.run_id, db, max_new_tokens, batch_size)
        result = JudgeResult.load(judge_run.run_id, db.path, judged=judged)
    judge_run.finish(result.compute_metrics())
    return JudgeResult.load(judge_run.run_id, db.path, judged=judged, resumed=len(judge_run.done))


def ask(
    model: Model,
    calls: Sequence[Call],
    mode: str,
    judge_run: str,
    db: Store,
    max_new_tokens: int,
    batch_size: int,
    temperature: float = 0.0,
    seed: int | None = None,
) -> None:
    """Ask the judge every call, saving each reply (with its verdict) as it returns."""
    from tqdm.auto import tqdm

    from ..engine.answering import advance, answer_each

    requests = [GenerateRequest(c.messages, max_new_tokens, temperature, seed=seed) for c in calls]
    with tqdm(total=len(calls), desc=f"judging | {model.name}", unit="call") as bar:
        answer_each(
            model,
            requests,
            lambda i, response: db.add_judgment(record(calls[i], response, mode, judge_run)),
            batch_size=batch_size,
            progress=advance(bar),
        )
