"""The task registry: every benchmark by name."""

from __future__ import annotations

from ..errors import WorkbenchError, suggest
from . import arc
from .base import Item, MultipleChoiceTask, Task

REGISTRY: dict[str, Task] = {t.name: t for t in arc.TASKS}


def get_task(name: str) -> Task:
    if name not in REGISTRY:
        raise WorkbenchError(
            f"Unknown task {name!r}.{suggest(name, REGISTRY)} Available tasks: {', '.join(sorted(REGISTRY))} "
            "(list them with `workbench tasks`)."
        )
    return REGISTRY[name]


__all__ = ["REGISTRY", "Item", "MultipleChoiceTask", "Task", "get_task"]
