"""What a completions server is checked for before its log-probabilities are trusted (``Probe``, one per
replica), the context window it reports (``served_window``) and how its echoed prompt is read (``echoed``).

The checks, each failure one message before any run: the server answers and serves the model; every prompt token
gets an echoed log-probability; its tokens are the declared tokenizer's; the echoed log-probability of a prompt's
last token equals the one the server gives that token when generating it after the rest of the prompt
(llama-cpp-python 0.3.36's server fails this: it echoes each token with the distribution of the next); token-id
prompts score as text does.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from ..errors import WorkbenchError
from .openai import connect

if TYPE_CHECKING:
    from .completions import CompletionsModel

PROBE = "one, two, three, four, five, six, seven, eight"  # its last token is the likeliest next one for any LM
TOLERANCE = 0.05  # nats: a server's echoed and generated log-probabilities of one token may differ by this much
TOP_K = 5  # alternatives asked for with the generated token (OpenAI's limit)


def served_window(name: str, model: str, url: str) -> int | None:
    """The context window the server at ``url`` reports for ``model`` (vLLM's max_model_len; None where it says
    none), after checking that it answers and serves the model: one message for each failure."""
    import httpx

    from .replicas import key_variable

    key = os.environ.get(key_variable(url))
    try:
        resp = httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=10)
    except httpx.HTTPError as exc:
        raise WorkbenchError(
            f"{name}: the server at {url} does not answer ({type(exc).__name__}). Start it, or check the host, port "
            "and that the URL ends with the API root (usually /v1)."
        ) from None
    if resp.status_code in (401, 403):
        raise WorkbenchError(
            f"{url} refused to list its models (HTTP {resp.status_code}). Set ${key_variable(url)} to a valid key "
            "for this server."
        )
    try:
        served = {str(m["id"]): m for m in resp.json()["data"]}
    except (ValueError, KeyError, TypeError):
        return None  # no model list: the requests themselves will say whether the model is served
    if served and model not in served:
        raise WorkbenchError(
            f"{name}: the server at {url} serves {', '.join(map(repr, served))}, not {model!r}. Write the served "
            "name before the @ (and the tokenizer as ?tokenizer=... where that name is no tokenizer here)."
        )
    length = served.get(model, {}).get("max_model_len")
    return int(length) if isinstance(length, int) and length > 2 else None


def echoed(data: dict[str, Any], n: int) -> tuple[list[float], list[dict[str, float]], list[str]]:
    """The echoed prompt's log-probabilities, top log-probabilities and tokens (positions 1..n-1 must be there;
    position 0 has none). ValueError for an answer that has no log-probability for some prompt token."""
    logprobs = data["choices"][0]["logprobs"]
    values = list(logprobs["token_logprobs"] or [])
    tops = [t or {} for t in (logprobs.get("top_logprobs") or [])]
    tokens = [str(t) for t in (logprobs.get("tokens") or [])]
    if len(values) < n or any(v is None or not math.isfinite(v) for v in values[1:n]):
        raise ValueError(f"{sum(v is not None for v in values[1:n])} of {n - 1} prompt log-probabilities echoed")
    return [0.0, *[float(v) for v in values[1:n]]], [{}, *tops[1:n]], tokens[:n]


class Probe:
    """The checks of one replica (module docstring), each failure one WorkbenchError."""

    def __init__(self, model: CompletionsModel, url: str):
        self.model = model
        self.url = url
        self.replicas = connect([url], model.name, model.model, 1, None, 0, 0.0, 0.0)
        self.replica = self.replicas.replicas[0]

    def refuse(self, problem: str) -> WorkbenchError:
        return WorkbenchError(
            f"{self.model.name}: the server at {self.url} {problem} Its log-probabilities cannot score "
            "log-likelihood tasks. Score by generation instead: `--mode generate` (mode='generate' in Python) "
            f"with `openai:{self.model.model}@{self.url}`, or serve the model with vLLM."
        )

    def ask(self, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.replicas.post("/completions", {"model": self.model.model, **body},
                                                    lambda data, s, a: dict(data), "completion")  # fmt: skip
        return answer

    def run(self) -> dict[str, Any]:
        try:
            return self._run()
        finally:
            self.replicas.close()

    def _run(self) -> dict[str, Any]:
        tokenizer = self.model.tokenizer
        ids = self.model.encode(PROBE)
        # 1. the prompt echoed with a log-probability for each token, and tokenized as the declared tokenizer does
        data = self.ask({"prompt": PROBE, "echo": True, "logprobs": 1, "max_tokens": 1, "temperature": 0})
        try:
            info = data["choices"][0].get("logprobs") or {}
            values, tokens = list(info.get("token_logprobs") or []), [str(t) for t in info.get("tokens") or []]
        except (KeyError, IndexError, TypeError, AttributeError):
            values, tokens = [], []
        if not values:
            raise self.refuse(
                "answers without prompt log-probabilities (no logprobs for the echoed prompt of /completions with "
                "echo=true, logprobs=1)."
            )
        ours = [_plain(tokenizer.decode([i])) for i in ids]
        # a server may add a BOS token to a text prompt that the declared tokenizer does not
        extra = next((e for e in (0, 1) if [_plain(t) for t in tokens[e : e + len(ids)]] == ours), None)
        # the whole prompt echoed, cut in other places: another tokenizer (told before any count, which differs too)
        if extra is None and "".join(map(_spaced, tokens)).endswith(PROBE):
            raise WorkbenchError(
                f"{self.model.name}: the server at {self.url} tokenizes {PROBE!r} as {tokens[: len(ids) + 1]} but "
                f"the declared tokenizer {self.model.tokenizer_source!r} as {ours}: it serves another tokenizer, so "
                "the token boundaries of its scores would be wrong. Name its tokenizer: "
                f"`{self.model.name.split('?')[0]}?tokenizer=DIR_OR_HUB_ID`."
            )
        if len(values) < (extra or 0) + len(ids):
            raise self.refuse(
                f"echoed {len(values)} log-probabilities for a prompt of {len(ids) + (extra or 0)} tokens: the echoed "
                "log-probabilities do not cover the prompt."
            )
        if extra is None:
            raise self.refuse(
                f"echoes {PROBE!r} as the tokens {tokens[: len(ids) + 1]}, which are not the prompt's tokens "
                f"{ours}: its log-probabilities cannot be matched to the prompt's tokens."
            )
        echoed_last = values[extra + len(ids) - 1]
        if echoed_last is None or any(v is None for v in values[extra + 1 : extra + len(ids)]):
            raise self.refuse("echoes the prompt without a log-probability for each of its tokens.")
        # 2. the last token as the server scores it when generating after the rest
        rest = tokenizer.decode(ids[:-1])
        data = self.ask({"prompt": rest, "max_tokens": 1, "logprobs": TOP_K, "temperature": 0})
        try:
            tops = data["choices"][0]["logprobs"]["top_logprobs"][0] or {}
        except (KeyError, IndexError, TypeError):
            raise self.refuse("returns no log-probabilities for a generated token.") from None
        last = ours[-1]
        generated = next((float(v) for k, v in tops.items() if _plain(k) == last), None)
        if generated is None:
            raise self.refuse(
                f"does not rank {last!r} among its {TOP_K} likeliest tokens after {rest!r} (it ranks "
                f"{sorted(tops, key=lambda k: -tops[k])}), which any language model does."
            )
        if abs(generated - float(echoed_last)) > TOLERANCE:
            raise self.refuse(
                f"gives the last token of {PROBE!r} the log-probability {float(echoed_last):.4f} when echoing the "
                f"prompt but {generated:.4f} when generating it after the rest: its echoed log-probabilities are "
                "misaligned with the tokens (llama-cpp-python's server scores each echoed token with the "
                "distribution that predicts the next one)."
            )
        # 3. the same prompt as token ids: the same log-probabilities
        try:
            data = self.ask({"prompt": ids, "echo": True, "logprobs": 1, "max_tokens": 1, "temperature": 0})
            by_ids, _, _ = echoed(data, len(ids))
        except (WorkbenchError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise self.refuse(
                f"does not score a prompt sent as token ids ({str(exc)[:200]}), which exact token boundaries need."
            ) from None
        by_text = [float(v) for v in values[extra + 1 : extra + len(ids)]]
        worst = max(abs(a - b) for a, b in zip(by_ids[1:], by_text))
        if worst > TOLERANCE:
            raise self.refuse(
                f"scores the prompt sent as token ids differently from the same prompt as text (by up to {worst:.3f}): "
                "it does not read token ids as the declared tokenizer's."
            )
        return {"echoed": round(float(echoed_last), 5), "generated": round(generated, 5)}


def _spaced(token: str) -> str:
    """A token's text with byte-level and SentencePiece space marks as spaces."""
    return token.replace("\u0120", " ").replace("\u2581", " ")


def _plain(token: str) -> str:
    """A token's text for comparison: its space marks as spaces, outer spaces dropped."""
    return _spaced(token).strip()
