"""The package's layers, read from the source (fast, no model): no import cycles, the API layer never imports
the widget shell or notebook display machinery, and no module grows past 500 lines.

Imports are read with ``ast`` from every ``workbench/**/*.py``, at module level and inside functions alike
(a function-level import is still a dependency, only a later one); imports under ``if TYPE_CHECKING:`` are
left out, and so are the lazy re-exports of ``workbench/__init__.py`` (``importlib``, not an import).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "workbench"
MAX_LINES = 500
# the API layer: what Python code and the shells call; it never draws anything itself
API_LAYER = (
    "api",
    "scoring",
    "grids",
    "comparison",
    "judge",
    "human",
    "run",
    "engine",
    "store",
    "models",
    "tasks",
    "data",
    "metrics",
)
DISPLAY = ("IPython.display", "IPython.core.display", "ipywidgets", "anywidget")  # notebook display machinery
SHELL = "workbench.widgets"


def module_name(path: Path) -> str:
    parts = ["workbench", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except the bodies of ``if TYPE_CHECKING:`` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node.test):
            for child in node.orelse:
                yield child
                yield from _nodes(child)
            continue
        yield node
        yield from _nodes(node)


def imports(module: str) -> Iterator[tuple[str, int]]:
    """(imported module, line) for each import in ``module``: workbench modules resolved to the module
    (``from . import x`` names module x when x is one), other modules as written."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = ".".join(p for p in (base, node.module) if p)
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES or sub in DISPLAY else base), node.lineno


def _workbench_module(name: str) -> str | None:
    """The workbench module ``name`` loads (the longest known prefix), or None outside workbench."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, dict[str, list[int]]]:
    """module -> {workbench module it imports: lines}."""
    graph: dict[str, dict[str, list[int]]] = {m: {} for m in MODULES}
    for module in MODULES:
        for name, line in imports(module):
            target = _workbench_module(name) if name.startswith("workbench") else None
            if target and target != module:
                graph[module].setdefault(target, []).append(line)
    return graph


def cycles(graph: dict[str, dict[str, list[int]]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _where(module: str, lines: list[int]) -> str:
    return f"{MODULES[module].relative_to(ROOT.parent)}:{','.join(map(str, lines))}"


def test_the_import_graph_is_read_from_every_kind_of_import():
    graph = import_graph()
    assert "workbench.human.sources" in graph["workbench.human.rating"]  # from .sources import ...
    assert "workbench.human" in graph["workbench.widgets.rating_panel"]  # from ..human import ...
    assert "workbench.human" in graph["workbench.judge.agreement"]  # from .. import human, in a function
    assert "workbench.judge.results" not in graph["workbench.judge.agreement"]  # only under TYPE_CHECKING
    assert set(graph["workbench"]) <= {"workbench.magics"}  # the lazy _EXPORTS are not imports


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    report = []
    for component in found:
        inside = set(component)
        edges = [
            f"    {m} -> {t} ({_where(m, lines)})"
            for m in component
            for t, lines in sorted(graph[m].items())
            if t in inside
        ]
        report.append(" <-> ".join(component) + "\n" + "\n".join(edges))
    assert not found, f"{len(found)} import cycle(s):\n" + "\n".join(report)


def test_the_api_layer_never_imports_widgets_or_display_machinery():
    bad = []
    for module in MODULES:
        layer = module.split(".")[1] if "." in module else ""
        if layer not in API_LAYER:
            continue
        for name, line in imports(module):
            if (
                name == SHELL
                or name.startswith(SHELL + ".")
                or any(name == d or name.startswith(d + ".") for d in DISPLAY)
            ):
                bad.append(f"{module} imports {name} ({_where(module, [line])})")
    assert not bad, "The API layer must not draw: move these to workbench.widgets (or return views.html.HTML):\n" + (
        "\n".join(bad)
    )


def test_no_module_is_over_500_lines():
    long = {
        str(p.relative_to(ROOT.parent)): n
        for p in MODULES.values()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"Modules over {MAX_LINES} lines (split them by job): {long}"
