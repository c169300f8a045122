"""The core never imports a platform library: only adapters/ may import discord or nio."""

from __future__ import annotations

import ast
from collections.abc import Collection
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ("bot", "commands", "storage", "scheduler")
PLATFORM_LIBRARIES = {"discord", "nio"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            roots.add(str(node.args[0].value).split(".")[0])
    return roots


@pytest.mark.parametrize("package", CORE)
def test_core_packages_do_not_import_platform_libraries(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & PLATFORM_LIBRARIES)
        for path in (ROOT / package).rglob("*.py")
        if _imported_roots(path) & PLATFORM_LIBRARIES
    }
    assert offenders == {}


def test_commands_do_not_import_adapters() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("commands", "storage", "scheduler")
        for path in (ROOT / package).rglob("*.py")
        if "adapters" in _imported_roots(path)
    ]
    assert offenders == []


def test_the_check_itself_sees_a_platform_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import discord.ext\nfrom nio import AsyncClient\n", encoding="utf-8")
    assert _imported_roots(sample) >= {"discord", "nio"}


# --- import cycles -----------------------------------------------------------------------------
#
# Every import that runs (at module level or inside a function) is an edge of the graph; only
# imports inside ``if TYPE_CHECKING:`` blocks are left out, because they exist for annotations and
# never execute. A cycle means two modules can only be understood (and imported) together.

CYCLE_PACKAGES = ("bot", "commands", "storage", "scheduler")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST, package: str, modules: Collection[str]) -> set[str]:
    """Dotted names imported by ``tree``, skipping ``if TYPE_CHECKING:`` bodies."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                # ``from pkg import sub`` depends on the submodule when there is one, else on pkg
                submodule = f"{module}.{alias.name}"
                found.add(submodule if submodule in modules else module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    paths = [path for package in packages for path in sorted((root / package).rglob("*.py"))]
    modules = {_module_name(root, path): path for path in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = {
            target
            for target in _runtime_imports(tree, package, modules)
            if target in modules and target != name
        }
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as one cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                strongconnect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(_one_cycle(graph, set(component)))

    for node in sorted(graph):
        if node not in index:
            strongconnect(node)
    return components


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A concrete path a -> b -> ... -> a inside one strongly connected component."""
    start = min(component)
    paths: dict[str, list[str]] = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & component):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return sorted(component)  # unreachable for a real component


def test_core_has_no_import_cycles() -> None:
    cycles = [" -> ".join(cycle) for cycle in find_cycles(import_graph(ROOT, CYCLE_PACKAGES))]
    assert cycles == [], "import cycles: " + "; ".join(cycles)


def test_the_cycle_check_sees_a_cycle_and_ignores_type_checking(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "a.py").write_text("from pkg.b import thing\n", encoding="utf-8")
    (pkg / "b.py").write_text("def thing():\n    from pkg import c\n", encoding="utf-8")
    (pkg / "c.py").write_text("from . import a\n", encoding="utf-8")
    (pkg / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import e\n",
        encoding="utf-8",
    )
    (pkg / "e.py").write_text("import pkg.d\n", encoding="utf-8")
    assert find_cycles(import_graph(tmp_path, ("pkg",))) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
