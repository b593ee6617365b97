"""The layers stay apart: no import cycle among the project's modules, and viz/ is handed what it shows.

The graph is computed from the sources (every `import` and `from ... import`, at any depth in a module: a lazy
import inside a function couples two modules as much as one at the top). Tests are not part of the graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("tracer", "viz", "scenarios", "boxtrace", "bench", "notebooks", "scripts")
#: What viz/ must never import: it shows events it is handed (the brief's "never imports scenarios").
FORBIDDEN_FOR_VIZ = ("scenarios", "tracer.engine", "tracer.session")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            modules[_module_name(path)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an import names: the module itself, or the package that holds the name."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base if is_package else base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                # `from pkg import mod` imports the submodule pkg.mod when there is one, else a name of pkg.
                targets = [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in modules else prefix
                           for alias in node.names]
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved is None or resolved == name:
                    continue
                graph[name].add(resolved)
                # Importing a.b.c runs a/__init__ and a/b/__init__ first: edges to those packages too, except
                # to the importer's own packages (they are being imported already when it runs).
                own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1 + is_package)}
                parts = resolved.split(".")
                for i in range(1, len(parts)):
                    package = ".".join(parts[:i])
                    if package in modules and package not in own:
                        graph[name].add(package)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_the_graph_sees_imports() -> None:
    graph = import_graph()
    assert "tracer.events" in graph["tracer.engine"]
    assert "tracer.decoders" in graph["tracer.engine"]
    assert "viz.tui.screens.main" in graph["viz.tui.app"]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


#: Cycles that exist on main and are being broken; the test fails on any other cycle, and when one of these is gone
#: (take it out of this list then). The last one (tracer.insights -> overlay -> tracer.spec) ended when the spec
#: fold moved into the package as tracer.insights.spec.
KNOWN_CYCLES: list[list[str]] = []


def test_no_import_cycles() -> None:
    cycles = find_cycles(import_graph())
    new = [cycle for cycle in cycles if cycle not in KNOWN_CYCLES]
    assert not new, "import cycles: " + "; ".join(" <-> ".join(cycle) for cycle in new)
    gone = [cycle for cycle in KNOWN_CYCLES if cycle not in cycles]
    assert not gone, f"no longer a cycle, remove from KNOWN_CYCLES: {gone}"


def test_viz_is_handed_what_it_shows() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if module.startswith("viz")
        for target in targets
        if any(target == forbidden or target.startswith(forbidden + ".") for forbidden in FORBIDDEN_FOR_VIZ)
    )
    assert not wrong, wrong


def test_tracer_knows_nothing_of_display() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if module.startswith("tracer")
        for target in targets
        if target.split(".")[0] in ("viz", "scenarios", "boxtrace")
    )
    assert not wrong, wrong
