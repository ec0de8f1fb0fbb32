"""The structure of the package: imports go one way, and every arrow points down.

Every import counts, at module level or inside a function (those hide circles too);
imports for type checking only do not run, and count for circles only (a circle of types
is still two modules that cannot be understood apart).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent.parent / "server" / "chmocoder"

BELOW = {
    "analysis": set(),
    "engine": set(),
    "assist": {"analysis", "engine"},
    "lsp": {"analysis", "engine", "assist"},
}
"""What each floor may import (the top-level modules, config.py and friends, aside)."""


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("chmocoder", *path.relative_to(PACKAGE).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, known: set[str], *, typing: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    typing_only = (
        set()
        if typing
        else {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
    )
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out.update(name for name in names if name in known)
    return out


GRAPH = {name: _imports(path, set(_modules())) - {name} for name, path in _modules().items()}
TYPED_GRAPH = {
    name: _imports(path, set(_modules()), typing=True) - {name} for name, path in _modules().items()
}


def _floor(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2:
        return ""
    return parts[1] if len(parts) > 2 or parts[1] in BELOW else ""


@pytest.mark.parametrize("graph", [GRAPH, TYPED_GRAPH], ids=["imports", "with-types"])
def test_no_import_circle(graph: dict[str, set[str]]) -> None:
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        seen[module] = 1
        for target in sorted(graph[module]):
            if seen.get(target) == 1:
                pytest.fail("import circle: " + " -> ".join([*path, module, target]))
            if target not in seen:
                visit(target, [*path, module])
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module, [])


def test_every_arrow_points_down() -> None:
    wrong = [
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _floor(module) in BELOW
        and _floor(target) in BELOW
        and _floor(target) != _floor(module)
        and _floor(target) not in BELOW[_floor(module)]
    ]
    assert wrong == []


def test_the_graph_is_read() -> None:
    """A check that found no modules or no imports would pass whatever the code did."""
    assert len(GRAPH) > 40
    assert "chmocoder.analysis.document" in GRAPH["chmocoder.lsp.features.documents"]


def test_start_up_loads_neither_pydantic_nor_the_model_side() -> None:
    """What `serve` imports before it can answer `initialize` (bench/bench_startup.py):
    pygls and tree-sitter, not pydantic, the settings, the engine or a model runtime."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from chmocoder.cli import _parser\n"
        "from chmocoder.lsp import create_server\n"
        "_parser(); create_server()\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "chmocoder.lsp.features.hover" in loaded  # the check sees the server's modules
    heavy = {"pydantic", "chmocoder.config", "chmocoder.engine.engine", "chmocoder.assist.assistant",
             "llama_cpp", "ctransformers", "chmocoder.analysis.index"}  # fmt: skip
    assert heavy & loaded == set()


def test_a_task_is_its_module_and_its_feature() -> None:
    """A task beyond the core is its module, its feature module and one registration line
    (CONTRIBUTING.md, "Adding a task"): explain-error (assist/explain_error.py) is built by
    its feature (lsp/features/errors.py) and the command line only, and that feature is
    registered by lsp/__init__.py only. Fails if the task is threaded through the
    assistant, the offers or the other features again."""
    task, feature = "chmocoder.assist.explain_error", "chmocoder.lsp.features.errors"
    assert {m for m, targets in GRAPH.items() if task in targets} == {
        feature,
        "chmocoder.cli_tasks",
    }
    assert {m for m, targets in GRAPH.items() if feature in targets} == {"chmocoder.lsp"}
