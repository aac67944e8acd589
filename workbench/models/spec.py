"""A model spec as resolved: what the user typed, the kind of model it names and where its weights (or its
server) are. Its own module so that backends name it without importing the registry that imports them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """Where a model's weights are: kind is 'gguf', 'dir', 'hub', 'mlflow', or a backend's scheme ('api' for
    openai:, 'completions', 'llamacpp', 'vllm'); location is a path, a hub id or MODEL@URL."""

    name: str
    kind: str
    location: str
    revision: str | None = None
