"""What API calls cost: a price table in US dollars per 1,000 tokens, which users can extend.

    workbench.set_price("my-model", prompt=0.0005, completion=0.0015)   # per 1,000 tokens

or put ``{"my-model": [0.0005, 0.0015]}`` in a JSON file named by ``$WORKBENCH_PRICES``. A dated snapshot
("gpt-4o-mini-2024-07-18") costs what its family ("gpt-4o-mini") costs: the longest matching prefix wins.
Models served on this machine (localhost, 127.0.0.1) cost nothing unless the table says otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import WorkbenchError

PRICES_ENV = "WORKBENCH_PRICES"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


@dataclass(frozen=True)
class Price:
    """US dollars per 1,000 prompt tokens and per 1,000 completion tokens."""

    prompt: float
    completion: float
    source: str = "built-in table"


# OpenAI list prices (standard tier) converted to per-1,000 tokens; check https://openai.com/api/pricing
# before relying on them for budgets, and override with set_price() when they change.
_BUILT_IN = {
    "gpt-5": (0.00125, 0.01),
    "gpt-5-mini": (0.00025, 0.002),
    "gpt-5-nano": (0.00005, 0.0004),
    "gpt-4.1": (0.002, 0.008),
    "gpt-4.1-mini": (0.0004, 0.0016),
    "gpt-4.1-nano": (0.0001, 0.0004),
    "gpt-4o": (0.0025, 0.01),
    "gpt-4o-mini": (0.00015, 0.0006),
    "gpt-4-turbo": (0.01, 0.03),
    "gpt-4": (0.03, 0.06),
    "gpt-3.5-turbo": (0.0005, 0.0015),
    "o1": (0.015, 0.06),
    "o3": (0.002, 0.008),
    "o3-mini": (0.0011, 0.0044),
    "o4-mini": (0.0011, 0.0044),
}
PRICES: dict[str, Price] = {name: Price(p, c) for name, (p, c) in _BUILT_IN.items()}


def set_price(model: str, prompt: float, completion: float) -> None:
    """Add or change a model's price, in US dollars per 1,000 prompt / completion tokens."""
    for name, value in (("prompt", prompt), ("completion", completion)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise WorkbenchError(f"The {name} price of {model!r} must be a number >= 0 (dollars per 1,000 tokens).")
    PRICES[model] = Price(float(prompt), float(completion), "set_price")


def _file_prices() -> dict[str, Price]:
    path = os.environ.get(PRICES_ENV)
    if not path:
        return {}
    try:
        table = json.loads(Path(path).read_text())
        return {str(k): Price(float(v[0]), float(v[1]), f"file:{path}") for k, v in table.items()}
    except (OSError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise WorkbenchError(
            f"${PRICES_ENV} names {path!r}, which is not a readable JSON object of "
            f'{{"model": [prompt_per_1k, completion_per_1k]}} ({type(exc).__name__}). Fix the file or unset it.'
        ) from None


def price_for(model: str, base_url: str | None = None) -> Price | None:
    """The price of ``model`` (exact name, else longest prefix); free on this machine; None if unknown."""
    table = {**PRICES, **_file_prices()}
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name + "-")]
    if prefixes:
        return table[max(prefixes, key=len)]
    if base_url and urlsplit(base_url).hostname in LOCAL_HOSTS:
        return Price(0.0, 0.0, "served on this machine")
    return None


def cost(price: Price | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Dollars for the given token counts, or None when the price is unknown."""
    if price is None:
        return None
    return (prompt_tokens * price.prompt + completion_tokens * price.completion) / 1000.0


def price_of(identity: Mapping[str, Any]) -> Price | None:
    """The price of the model a run record's identity names: API models by the table, local ones free."""
    if identity.get("kind") not in ("api", "completions"):  # served elsewhere: priced by the table
        return Price(0.0, 0.0, "local model")
    model, _, url = str(identity.get("location", "")).partition("@")  # "MODEL@URL"
    return price_for(model, url or None)


def usage_totals(usages: Iterable[Mapping[str, Any] | None], price: Price | None) -> dict[str, Any]:
    """Summed calls and prompt/completion tokens of per-sample usage dicts, and their cost at ``price``."""
    prompt = completion = calls = empty = 0
    for usage in usages:
        if usage:
            prompt += int(usage.get("prompt_tokens") or 0)
            completion += int(usage.get("completion_tokens") or 0)
            calls += int(usage.get("calls") or 1)
            empty += int(usage.get("no_content") or 0)
    return {
        "calls": calls,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cost_usd": cost(price, prompt, completion),
        "price_source": price.source if price else "unknown: add it with workbench.set_price()",
        **({"no_content": empty} if empty else {}),  # answers the endpoint sent with content null
    }


def response_usage(responses: Iterable[Any]) -> dict[str, int]:
    """Calls and prompt/completion tokens of one item's responses (GenerateResponse), as recorded per sample."""
    responses = list(responses)
    empty = sum(bool(r.extra.get("no_content")) for r in responses)
    return {
        "calls": len(responses),
        "prompt_tokens": sum(r.prompt_tokens for r in responses),
        "completion_tokens": sum(r.completion_tokens for r in responses),
        **({"no_content": empty} if empty else {}),  # answers sent with content null, saved as ""
    }


def run_usage(identity: Mapping[str, Any], records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"usage": totals}`` for a run whose records carry per-sample usage, else ``{}``."""
    usages = [r["usage"] for r in records if r.get("usage")]
    return {"usage": usage_totals(usages, price_of(identity))} if usages else {}
