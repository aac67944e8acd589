"""The task registry: every benchmark by name."""

from __future__ import annotations

from ..errors import WorkbenchError, suggest
from . import arc, flores, gsm8k, haerae, hellaswag, kmmlu, kobest, mmlu, mt_bench, truthfulqa, wikitext, winogrande
from .base import Item, MultipleChoiceTask, Task
from .suites import names as suite_names

TASKS: list[Task] = [*arc.TASKS, *wikitext.TASKS, *flores.TASKS]
TASKS += [t for m in (hellaswag, mmlu, truthfulqa, winogrande, gsm8k, kobest, kmmlu, haerae) for t in m.TASKS]
TASKS += mt_bench.TASKS
REGISTRY: dict[str, Task] = {t.name: t for t in TASKS}


def get_task(name: str) -> Task:
    if not isinstance(name, str):
        if isinstance(name, (list, tuple)) and all(isinstance(n, str) for n in name):
            raise WorkbenchError(
                f"Evaluate one task per call (got {len(name)}): `for task in {list(name)!r}: workbench.evaluate(task)`."
            )
        raise WorkbenchError(
            f"Name the task as a string such as 'arc_easy' (got {name!r}); workbench.list_tasks() or "
            "`workbench tasks` lists them."
        )
    if name not in REGISTRY:
        if name.startswith("mmlu:"):
            raise mmlu.unknown(name)
        if name.startswith("kmmlu:"):
            raise kmmlu.unknown(name)
        listed = sorted(n for n in REGISTRY if not n.startswith(("mmlu:", "kmmlu:")))
        listed += ["mmlu:<subject>", "kmmlu:<subject>"]
        raise WorkbenchError(
            f"Unknown task {name!r}.{suggest(name, [*REGISTRY, *suite_names()])} Available tasks: "
            f"{', '.join(listed)}; groups and suites: {', '.join(suite_names())} (`workbench tasks` lists them)."
        )
    return REGISTRY[name]


__all__ = ["REGISTRY", "Item", "MultipleChoiceTask", "Task", "get_task"]
