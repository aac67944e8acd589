"""What a grid is made of: prompt templates, generation parameter sets, full prompts and cache keys."""

from __future__ import annotations

import hashlib
import itertools
import json
import numbers
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


NO_PROMPT = "A grid needs at least one prompt template, e.g. 'Summarise: {text}'."


def named_prompts(prompts: str | Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    """Templates by name: a mapping as given, a list as p1, p2, ... (blank ones are left out)."""
    if isinstance(prompts, str):
        prompts = [prompts]
    if not isinstance(prompts, (Mapping, Sequence)):
        raise WorkbenchError(f"{NO_PROMPT} Give a text, a list of texts or a dict of them (got {prompts!r:.60}).")
    named = dict(prompts) if isinstance(prompts, Mapping) else {f"p{i}": t for i, t in enumerate(prompts, 1)}
    for name, template in named.items():
        if not isinstance(template, str):
            raise WorkbenchError(
                f"Prompt {str(name)!r} is {type(template).__name__}, not a template: write it as text, e.g. "
                "'Summarise: {text}'."
            )
    named = {str(k): t for k, t in named.items() if t.strip()}
    if not named:
        raise WorkbenchError(NO_PROMPT)
    return named


def placeholders(name: str, template: str) -> list[str]:
    """The {names} a template uses; positional or malformed fields are refused with the prompt's name."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise WorkbenchError(
            f"Prompt {name!r} is not a valid template ({exc}). Write placeholders as {{column}} and literal "
            "braces as {{ and }}."
        ) from None
    out = []
    for f in fields:
        base = f.split(".")[0].split("[")[0]
        if not base or base.isdigit():
            raise WorkbenchError(f"Prompt {name!r} has a placeholder without a column name ({{{f}}}).")
        out.append(base)
    return list(dict.fromkeys(out))


PARAMS_EXAMPLE = "{'temperature': [0, 0.7], 'max_new_tokens': 64}"


def param_sets(params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """Every combination of generation parameters: a mapping of lists is expanded (cartesian product).

    Each value is checked before anything runs: a message names the parameter, the value and what it must be."""
    if params is None:
        combos: list[Mapping[str, Any]] = [{}]
    elif isinstance(params, Mapping):
        keys = list(params)
        values = [v if isinstance(v, (list, tuple)) and k != "stop" else [v] for k, v in params.items()]
        for key, vs in zip(keys, values):
            if not vs:
                raise WorkbenchError(f"{key}=[] gives no values to try; give at least one, e.g. {key}=[...].")
        combos = [dict(zip(keys, vs)) for vs in itertools.product(*values)]
    elif isinstance(params, Sequence) and not isinstance(params, str) and all(isinstance(p, Mapping) for p in params):
        combos = list(params) or [{}]
    else:
        raise WorkbenchError(
            f"params must be a dict such as {PARAMS_EXAMPLE} (lists are crossed), or a list of such dicts; got "
            f"{type(params).__name__}. In the shells: --param temperature=0,0.7."
        )
    out = []
    for combo in combos:
        full = dict(DEFAULT_PARAMS)
        for key, value in combo.items():
            key = PARAM_ALIASES.get(key, key)
            if key not in DEFAULT_PARAMS:
                raise WorkbenchError(
                    f"Unknown generation parameter {key!r}.{suggest(str(key), DEFAULT_PARAMS)} "
                    f"Grid parameters: {', '.join(DEFAULT_PARAMS)}."
                )
            full[key] = value
        full = checked_params(full)
        if full not in out:
            out.append(full)
    return out


def _number(value: Any, whole: bool) -> float | int | None:
    """``value`` as a number (numeric text too, as older calls passed it), or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, numbers.Real) or value != value:  # NaN
        return None
    number = float(value)
    if whole:
        return int(number) if number.is_integer() else None
    return number


def checked_params(full: dict[str, Any]) -> dict[str, Any]:
    """One parameter set with each value of the type generation takes, or a message naming the fix."""
    temperature = _number(full["temperature"], whole=False)
    if temperature is None or temperature < 0:
        raise WorkbenchError(
            f"temperature must be a number (temperature >= 0, got {full['temperature']!r}): 0 answers greedily, "
            "e.g. temperature=0.7 samples."
        )
    tokens = _number(full["max_new_tokens"], whole=True)
    if tokens is None or tokens < 1:
        raise WorkbenchError(
            f"max_new_tokens must be a whole number (max_new_tokens >= 1, got {full['max_new_tokens']!r}), e.g. "
            "max_new_tokens=64."
        )
    seed = full["seed"]
    if seed is not None and _number(seed, whole=True) is None:
        raise WorkbenchError(f"seed must be a whole number or None (got {seed!r}), e.g. seed=1.")
    if not isinstance(full["chat"], bool):
        raise WorkbenchError(f"chat must be True or False (got {full['chat']!r}): False sends the prompt as raw text.")
    if full["system"] is not None and not isinstance(full["system"], str):
        raise WorkbenchError(f"system must be a text or None (got {full['system']!r}), e.g. system='Be brief.'.")
    stop = full["stop"]
    stops = [stop] if isinstance(stop, str) else stop
    if stops is None:
        stops = ()
    if not isinstance(stops, (list, tuple)) or not all(isinstance(t, str) and t for t in stops):
        raise WorkbenchError(
            f"stop must be a text or a list of texts (got {stop!r}), e.g. stop=['\\n\\n'] (one value per "
            "--param stop=... in the shells)."
        )
    return {
        **full,
        "temperature": temperature,
        "max_new_tokens": tokens,
        "seed": None if seed is None else _number(seed, whole=True),
        "stop": tuple(stops),
    }


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
