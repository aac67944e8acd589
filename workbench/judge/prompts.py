"""Judge prompts, written for this project, in English and Korean.

Each prompt is a (system, user) pair chosen by four things: the mode (``single``: a 1-10 rating, or
``pair``: which of two answers is better), whether a reference answer is shown (math, reasoning and coding by
default), whether the judge sees a whole conversation (the answer judged is to a later turn), and the
language of the question. Output markers are those of the MT-Bench judge: ``[[rating]]`` with a number 1-10,
and ``[[A]]`` / ``[[B]]`` / ``[[C]]`` (tie), so verdicts parse the same way whichever judge wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Wording:
    """Every sentence and heading of the prompts in one language."""

    role: str
    single_task: str
    single_task_reference: str
    pair_task: str
    pair_task_reference: str
    last_turn: str
    fairness: str
    language_rule: str
    explain_first: str
    single_output: str
    pair_output: str
    single_cue: str  # terse prompts end the user message with this (small judges follow it better)
    pair_cue: str
    question: str
    reference: str
    reference_turn: str
    answer: str
    answer_of: str
    end: str
    conversation: str
    conversation_of: str
    user: str
    assistant: str


ENGLISH = Wording(
    role="You are an impartial evaluator of the answers that AI assistants give to users.",
    single_task=(
        "Judge how well the assistant's answer serves the user: consider how helpful, relevant, accurate, deep, "
        "creative and detailed it is."
    ),
    single_task_reference=(
        "Judge whether the assistant's answer is correct and helpful. You are given a reference answer: compare "
        "the assistant's answer with it, and name and correct every mistake you find."
    ),
    pair_task=(
        "Two assistants, A and B, answered the same user. Decide which answer serves the user better, considering "
        "how helpful, relevant, accurate, deep, creative and detailed each is."
    ),
    pair_task_reference=(
        "Two assistants, A and B, answered the same user. Decide which answer is more correct and helpful. You are "
        "given a reference answer: compare both answers with it and name the mistakes of each."
    ),
    last_turn="You see the whole conversation; judge only the assistant's reply to the user's last message.",
    fairness=(
        "Do not let the order of the answers, their length or the assistants' names sway you, and be as objective "
        "as you can."
    ),
    language_rule="",
    explain_first="Start with a short explanation of your judgment.",
    single_output=(
        'Then rate the answer from 1 (worst) to 10 (best) in double square brackets, like this: "Rating: [[6]]".'
    ),
    pair_output=(
        'Then give your verdict in double square brackets: "[[A]]" if A is better, "[[B]]" if B is better, '
        '"[[C]]" if they are equally good.'
    ),
    single_cue="Your rating (Rating: [[1]] to [[10]]):",
    pair_cue="Your verdict ([[A]], [[B]] or [[C]]):",
    question="[Question]",
    reference="[Reference answer]",
    reference_turn="[Reference answer to message {n}]",
    answer="[The assistant's answer]",
    answer_of="[Assistant {who}'s answer]",
    end="[End]",
    conversation="[The conversation]",
    conversation_of="[Conversation with assistant {who}]",
    user="### User:",
    assistant="### Assistant:",
)

KOREAN = Wording(
    role="당신은 AI 어시스턴트가 사용자에게 한 답변을 공정하게 심사하는 평가자입니다.",
    single_task=(
        "어시스턴트의 답변이 사용자에게 얼마나 도움이 되는지 유용성, 관련성, 정확성, 깊이, 창의성, 구체성을 "
        "따져 판단하세요."
    ),
    single_task_reference=(
        "어시스턴트의 답변이 정확하고 도움이 되는지 판단하세요. 참고 답변이 함께 주어집니다. 어시스턴트의 답변을 "
        "참고 답변과 비교하고, 찾은 실수를 모두 짚어 바로잡으세요."
    ),
    pair_task=(
        "두 어시스턴트 A와 B가 같은 사용자에게 답했습니다. 유용성, 관련성, 정확성, 깊이, 창의성, 구체성을 따져 "
        "어느 답변이 사용자에게 더 도움이 되는지 판단하세요."
    ),
    pair_task_reference=(
        "두 어시스턴트 A와 B가 같은 사용자에게 답했습니다. 어느 답변이 더 정확하고 도움이 되는지 판단하세요. 참고 "
        "답변이 함께 주어집니다. 두 답변을 참고 답변과 비교하고 각각의 실수를 짚으세요."
    ),
    last_turn="대화 전체가 주어집니다. 사용자의 마지막 메시지에 대한 어시스턴트의 응답만 평가하세요.",
    fairness="답변의 순서나 길이, 어시스턴트의 이름에 흔들리지 말고 최대한 객관적으로 판단하세요.",
    language_rule="답변은 사용자가 쓴 언어(한국어)로 작성되어야 합니다. 다른 언어로 답했다면 감점하세요.",
    explain_first="먼저 판단 이유를 짧게 설명하세요.",
    single_output='그다음 답변을 1점(가장 나쁨)부터 10점(가장 좋음)까지 두 겹 대괄호 안에 적으세요. 예: "평가: [[6]]".',
    pair_output=(
        '그다음 판정을 두 겹 대괄호 안에 적으세요. A가 더 좋으면 "[[A]]", B가 더 좋으면 "[[B]]", 비슷하면 "[[C]]".'
    ),
    single_cue="평가 (평가: [[1]] ~ [[10]]):",
    pair_cue="판정 ([[A]], [[B]] 또는 [[C]]):",
    question="[질문]",
    reference="[참고 답변]",
    reference_turn="[{n}번째 메시지에 대한 참고 답변]",
    answer="[어시스턴트의 답변]",
    answer_of="[어시스턴트 {who}의 답변]",
    end="[끝]",
    conversation="[대화]",
    conversation_of="[어시스턴트 {who}와의 대화]",
    user="### 사용자:",
    assistant="### 어시스턴트:",
)

WORDINGS = {"en": ENGLISH, "ko": KOREAN}


def prompt_name(mode: str, reference: bool, multi_turn: bool, language: str, terse: bool = False) -> str:
    """e.g. 'single-ref-multi-en': which prompt judged an answer (stored with each judgment)."""
    parts = [mode, *(["ref"] if reference else []), *(["multi"] if multi_turn else []), language]
    return "-".join(parts + (["terse"] if terse else []))


def system_prompt(mode: str, reference: bool, multi_turn: bool, language: str) -> str:
    w = WORDINGS[language]
    if mode == "single":
        task = w.single_task_reference if reference else w.single_task
        output = w.single_output
    else:
        task = w.pair_task_reference if reference else w.pair_task
        output = w.pair_output
    parts = [w.role, task, w.last_turn if multi_turn else "", w.language_rule, w.fairness, w.explain_first, output]
    return " ".join(p for p in parts if p)


def _references(w: Wording, references: Sequence[str]) -> str:
    if len(references) == 1:
        return f"{w.reference}\n{references[0]}\n{w.end}"
    return "\n\n".join(f"{w.reference_turn.format(n=n)}\n{r}\n{w.end}" for n, r in enumerate(references, start=1))


def _transcript(w: Wording, questions: Sequence[str], answers: Sequence[str]) -> str:
    return "\n\n".join(f"{w.user}\n{q}\n\n{w.assistant}\n{a}" for q, a in zip(questions, answers))


def render(
    mode: str,
    language: str,
    questions: Sequence[str],
    answers: Sequence[Sequence[str]],
    references: Sequence[str] = (),
    terse: bool = False,
) -> Messages:
    """The judge's messages for the last turn of ``questions``.

    ``answers`` holds one list of answers per assistant (one for ``single``, two for ``pair``), each as long as
    ``questions``; ``references`` holds the reference answer of each turn shown, or nothing. ``terse`` ends the
    user message with a short cue for the verdict, which small judges follow far better (and explain less).
    """
    w = WORDINGS[language]
    multi = len(questions) > 1
    blocks: list[str] = []
    if not multi:
        blocks.append(f"{w.question}\n{questions[0]}")
    if references:
        blocks.append(_references(w, references))
    names = ["A", "B"] if mode == "pair" else [None]
    for who, side in zip(names, answers):
        if multi:
            title = w.conversation_of.format(who=who) if who else w.conversation
            blocks.append(f"{title}\n{_transcript(w, questions, side)}\n{w.end}")
        else:
            title = w.answer_of.format(who=who) if who else w.answer
            blocks.append(f"{title}\n{side[-1]}\n{w.end}")
    if terse:
        blocks.append(w.single_cue if mode == "single" else w.pair_cue)
    return [
        {"role": "system", "content": system_prompt(mode, bool(references), multi, language)},
        {"role": "user", "content": "\n\n".join(blocks)},
    ]


def all_prompts() -> dict[str, str]:
    """Every system prompt (and terse cue) by name: recorded with each judge run so it can be reproduced."""
    prompts = {
        prompt_name(mode, ref, multi, lang): system_prompt(mode, ref, multi, lang)
        for mode in ("single", "pair")
        for ref in (False, True)
        for multi in (False, True)
        for lang in WORDINGS
    }
    for lang, w in WORDINGS.items():
        prompts |= {f"single-cue-{lang}": w.single_cue, f"pair-cue-{lang}": w.pair_cue}
    return prompts


def templates(names: Sequence[str]) -> dict[str, str]:
    """The text behind each prompt name: its system prompt, and for a terse prompt also its closing cue."""
    every = all_prompts()
    out = {}
    for name in names:
        base = name.removesuffix("-terse")
        parts = base.split("-")
        cue = f"\n\n(The user message ends with: {every[f'{parts[0]}-cue-{parts[-1]}']})" if base != name else ""
        out[name] = every[base] + cue
    return out
