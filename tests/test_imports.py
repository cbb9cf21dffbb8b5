"""The package layout holds: core/ depends on no face, and no modules import each other in a circle.

Every import counts, those inside functions too: an import moved into a function to break a circle at
run time leaves the circle in the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("core", "server", "bots", "api")
FACES = ("server", "bots", "api")
# The command line lives in core and starts each face on demand.
FACE_STARTERS = {"core.cli"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in (REPO / package).rglob("*.py")}


def _imported(path: Path, name: str, known: set[str]) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from server import commands` names a module; `from core.records import Paper` a name.
            targets = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            targets = targets or [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: set(_imported(path, name, known)) for name, path in modules.items()}


def _cycle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    stack, path, seen = [iter(sorted(graph[start]))], [start], {start}
    while stack:
        for child in stack[-1]:
            if child == start:
                return [*path, start]
            if child not in seen and child.split(".")[0] in PACKAGES:
                seen.add(child)
                path.append(child)
                stack.append(iter(sorted(graph.get(child, ()))))
                break
        else:
            stack.pop()
            path.pop()
    return None


def test_the_import_walk_sees_a_known_edge() -> None:
    graph = _graph()
    assert "core.documents.citations" in graph["server.server"]
    assert "api.node" in graph["api.workers"]


def test_core_imports_no_face() -> None:
    graph = _graph()
    offending = {
        name: sorted(t for t in targets if t.split(".")[0] in FACES)
        for name, targets in graph.items()
        if name.split(".")[0] == "core" and name not in FACE_STARTERS
    }
    assert {name: faces for name, faces in offending.items() if faces} == {}


def test_no_import_circle() -> None:
    graph = _graph()
    cycles = {name: cycle for name in sorted(graph) if (cycle := _cycle_from(graph, name))}
    assert cycles == {}, " ; ".join(" → ".join(c) for c in list(cycles.values())[:5])
