"""KoBEST: five Korean understanding tasks (BoolQ, COPA, HellaSwag, SentiNeg, WiC) as lm-evaluation-harness
scores them: log-likelihood of each choice, acc and macro F1 (and acc_norm for HellaSwag), test split."""

from __future__ import annotations

from dataclasses import dataclass

from ..data import kobest as kobest_data
from .base import MultipleChoiceTask, Row

NO_YES = ["아니오", "예"]
COPA_CONNECTORS = {"원인": " 왜냐하면", "결과": " 그래서"}
COPA_ASKS = {"원인": "원인으로", "결과": "결과로"}


@dataclass
class KoBEST(MultipleChoiceTask):
    language: str = "ko"

    def doc_to_target(self, doc: Row) -> int:
        return int(doc["label"])


@dataclass
class BoolQ(KoBEST):
    def doc_to_text(self, doc: Row) -> str:
        return f"{doc['paragraph']} 질문: {doc['question']} 답변: "

    def doc_to_choice(self, doc: Row) -> list[str]:
        return NO_YES

    def doc_to_question(self, doc: Row) -> str:
        return f"{doc['paragraph']}\n질문: {doc['question']}"


@dataclass
class COPA(KoBEST):
    def doc_to_text(self, doc: Row) -> str:
        return f"{doc['premise']} {COPA_CONNECTORS[doc['question'].strip()]}"

    def doc_to_choice(self, doc: Row) -> list[str]:
        return [doc["alternative_1"], doc["alternative_2"]]

    def doc_to_target(self, doc: Row) -> int:
        """The harness's target is the correct alternative's text, looked up among the choices."""
        correct = doc["alternative_1"] if int(doc["label"]) == 0 else doc["alternative_2"]
        return self.doc_to_choice(doc).index(correct)

    def doc_to_question(self, doc: Row) -> str:
        return f"문장: {doc['premise']}\n질문: 이 문장의 {COPA_ASKS[doc['question'].strip()]} 가장 알맞은 것은?"


@dataclass
class HellaSwag(KoBEST):
    def doc_to_text(self, doc: Row) -> str:
        return f"문장: {doc['context']}"

    def doc_to_choice(self, doc: Row) -> list[str]:
        return [doc[f"ending_{i}"] for i in range(1, 5)]


@dataclass
class SentiNeg(KoBEST):
    def doc_to_text(self, doc: Row) -> str:
        return f"문장: {doc['sentence']} 긍부정:"

    def doc_to_choice(self, doc: Row) -> list[str]:
        return ["부정", "긍정"]

    def doc_to_question(self, doc: Row) -> str:
        return f"문장: {doc['sentence']}"


@dataclass
class WiC(KoBEST):
    def doc_to_text(self, doc: Row) -> str:
        return f"문장1: {doc['context_1']} 문장2: {doc['context_2']} 두 문장에서 {doc['word']}가 같은 뜻으로 쓰였나?"

    def doc_to_choice(self, doc: Row) -> list[str]:
        return NO_YES


def make(cls: type[KoBEST], subset: str, summary: str, template: str, instruction: str, **kw) -> KoBEST:
    return cls(
        name=f"kobest_{subset}",
        summary=summary,
        data=kobest_data.spec(subset),
        eval_split="test",
        fewshot_split="train",
        template=template,
        metrics=kw.pop("metrics", ("acc", "f1")),
        size=kobest_data.SUBSETS[subset].sizes["test"],
        mirror=f"kobest/{kobest_data.SUBSETS[subset].folder}/test.tsv",
        instruction=instruction,
        **kw,
    )


TASKS = [
    make(
        BoolQ,
        "boolq",
        "Korean yes/no questions about a Wikipedia paragraph.",
        "{paragraph} 질문: {question} 답변:  {아니오|예}",
        "문단을 읽고 질문에 답하세요. 정답인 보기의 기호만 쓰세요.",
    ),
    make(
        COPA,
        "copa",
        "Korean choice of plausible alternatives: the more likely cause or effect of a sentence.",
        "{premise}  {왜냐하면|그래서} {alternative}",
        "문장을 읽고 질문에 가장 알맞은 보기를 고르세요. 정답인 보기의 기호만 쓰세요.",
    ),
    make(
        HellaSwag,
        "hellaswag",
        "Korean HellaSwag: the most plausible next sentence of a short story (4 endings).",
        "문장: {context} {ending}",
        "문장 다음에 이어질 내용으로 가장 자연스러운 보기를 고르세요. 정답인 보기의 기호만 쓰세요.",
        metrics=("acc", "acc_norm", "f1"),
    ),
    make(
        SentiNeg,
        "sentineg",
        "Korean sentiment of product reviews, many with negation (positive or negative).",
        "문장: {sentence} 긍부정: {부정|긍정}",
        "문장의 감정이 긍정인지 부정인지 고르세요. 정답인 보기의 기호만 쓰세요.",
    ),
    make(
        WiC,
        "wic",
        "Korean words in context: is the bracketed word used in the same sense in both sentences?",
        "문장1: {context_1} 문장2: {context_2} 두 문장에서 {word}가 같은 뜻으로 쓰였나? {아니오|예}",
        "두 문장에서 [ ] 안의 단어가 같은 뜻으로 쓰였는지 답하세요. 정답인 보기의 기호만 쓰세요.",
    ),
]
