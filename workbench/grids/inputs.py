"""What a grid is made of: prompt templates, generation parameter sets, full prompts and cache keys."""

from __future__ import annotations

import hashlib
import itertools
import json
import string
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import WorkbenchError, suggest
from ..scoring import text_of

Row = dict[str, Any]
DEFAULT_PARAMS: dict[str, Any] = {
    "temperature": 0.0,
    "max_new_tokens": 64,
    "system": None,  # a system prompt (chat models)
    "chat": True,  # wrap the prompt in the model's chat template; False sends the raw text
    "seed": None,
    "stop": (),
}
PARAM_ALIASES = {"max_tokens": "max_new_tokens", "system_prompt": "system"}


def named_prompts(prompts: str | Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    """Templates by name: a mapping as given, a list as p1, p2, ..."""
    if isinstance(prompts, str):
        prompts = [prompts]
    named = dict(prompts) if isinstance(prompts, Mapping) else {f"p{i}": t for i, t in enumerate(prompts, 1)}
    named = {str(k): t for k, t in named.items() if isinstance(t, str) and t.strip()}
    if not named:
        raise WorkbenchError("A grid needs at least one prompt template, e.g. 'Summarise: {text}'.")
    return named


def placeholders(name: str, template: str) -> list[str]:
    """The {names} a template uses; positional or malformed fields are refused with the prompt's name."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise WorkbenchError(
            f"Prompt {name!r} is not a valid template ({exc}). Write placeholders as {{column}} and literal "
            "braces as {{{{ and }}}}."
        ) from None
    out = []
    for f in fields:
        base = f.split(".")[0].split("[")[0]
        if not base or base.isdigit():
            raise WorkbenchError(f"Prompt {name!r} has a placeholder without a column name ({{{f}}}).")
        out.append(base)
    return list(dict.fromkeys(out))


def param_sets(params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Every combination of generation parameters: a mapping of lists is expanded (cartesian product)."""
    if params is None:
        combos: list[Mapping[str, Any]] = [{}]
    elif isinstance(params, Mapping):
        keys = list(params)
        values = [v if isinstance(v, (list, tuple)) and k != "stop" else [v] for k, v in params.items()]
        combos = [dict(zip(keys, vs)) for vs in itertools.product(*values)]
    else:
        combos = list(params) or [{}]
    out = []
    for combo in combos:
        full = dict(DEFAULT_PARAMS)
        for key, value in combo.items():
            key = PARAM_ALIASES.get(key, key)
            if key not in DEFAULT_PARAMS:
                raise WorkbenchError(
                    f"Unknown generation parameter {key!r}.{suggest(key, DEFAULT_PARAMS)} "
                    f"Grid parameters: {', '.join(DEFAULT_PARAMS)}."
                )
            full[key] = value
        full["temperature"] = float(full["temperature"])
        full["max_new_tokens"] = int(full["max_new_tokens"])
        full["stop"] = tuple([full["stop"]] if isinstance(full["stop"], str) else full["stop"] or ())
        if full["temperature"] < 0 or full["max_new_tokens"] < 1:
            raise WorkbenchError("temperature must be >= 0 and max_new_tokens >= 1.")
        if full not in out:
            out.append(full)
    return out


def params_label(params: Mapping[str, Any]) -> str:
    """The parameters that differ from the defaults, e.g. 'temperature=0.7, seed=1' ('defaults' if none)."""
    changed = [f"{k}={params[k]!r}" if isinstance(params[k], str) else f"{k}={params[k]}" for k in DEFAULT_PARAMS]
    changed = [c for c, k in zip(changed, DEFAULT_PARAMS) if params[k] != DEFAULT_PARAMS[k]]
    return ", ".join(changed) or "defaults"


def render(template: str, row: Row, params: Mapping[str, Any]) -> str | list[dict[str, str]]:
    """The full prompt sent to the model: text, or chat messages (system prompt first when given)."""
    text = template.format_map({k: v if isinstance(v, (dict, list)) else text_of(v) for k, v in row.items()})
    if not params["chat"]:
        return text if params["system"] is None else f"{params['system']}\n\n{text}"
    messages = [{"role": "system", "content": params["system"]}] if params["system"] else []
    return messages + [{"role": "user", "content": text}]


def generation_key(model_fingerprint: str, prompt: str | list, params: Mapping[str, Any]) -> tuple[str, bool]:
    """(cache key, cacheable): sha256 of model weights + full prompt + generation parameters. Sampling without
    a seed is not cacheable and gets a one-off key."""
    gen = {k: params[k] for k in ("max_new_tokens", "temperature", "stop", "seed")}
    cacheable = gen["temperature"] == 0 or gen["seed"] is not None
    if not cacheable:
        return f"once:{uuid.uuid4().hex}", False
    blob = json.dumps({"model": model_fingerprint, "prompt": prompt, "params": gen}, sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest(), True
