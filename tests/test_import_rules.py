"""The layering of gan_utils, read from the source: which modules may import which, and no import cycles.

Every module of the package is parsed with ast, and every import in it counts, those inside functions too (a
lazy import is still a dependency). The rules: nn/ (layers several papers share) sits below every paper, measure
and loader; a paper's module in models/ (its networks and training step) takes its batch from the caller and runs
under the caller's DDP wrapper and loop, so it imports neither data/ nor train.distributed, train.trainer or the
torchrun entries in scripts/; a measure in metrics/ never imports a paper's model. And no two modules import each
other, even
through others: the small modules at the bottom (paths, network) exist so that config, runtime, data, metrics and
models can share them without a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gan_utils"


def module_names(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted name -> file of every module of the package (a package is its __init__.py)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imported(node: ast.AST, name: str, is_package: bool, modules: dict[str, Path]) -> Iterator[str]:
    """The gan_utils modules one import statement of module `name` loads."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    if not isinstance(node, ast.ImportFrom):
        return
    base = node.module or ""
    if node.level:  # a relative import, from the module's own package upwards
        package = name.split(".") if is_package else name.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([base] if base else []))
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        yield sub if sub in modules else base  # `from pkg import module` loads the module, else names of pkg


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the gan_utils modules it imports anywhere in its source (top level or inside functions)."""
    modules = module_names(package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = set()
        for node in ast.walk(tree):
            for target in _imported(node, name, path.name == "__init__.py", modules):
                if target in modules and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


# (importer's package, forbidden targets, why)
RULES = [
    ("gan_utils.models", ("gan_utils.data", "gan_utils.train.distributed", "gan_utils.train.trainer",
                          "gan_utils.scripts"),
     "a paper's module holds its networks and step; the caller brings the data, the DDP wrapping and the loop"),
    ("gan_utils.metrics", ("gan_utils.models",), "a measure works on images, flows or features, not on a paper's "
                                                   "model; a piece both need is a layer in nn/"),
    ("gan_utils.nn", ("gan_utils.models", "gan_utils.metrics", "gan_utils.data"),
     "nn/ holds layers several papers share, below every paper, measure and loader"),
    ("gan_utils", ("gan_utils.scripts",), "the torchrun entries in scripts/ are programs: nothing imports them"),
]


def violations(graph: dict[str, set[str]], importer: str, forbidden: tuple[str, ...]) -> list[str]:
    """'a -> b' for every import of a forbidden module by a module of the `importer` package."""
    def hit(target: str) -> bool:
        return any(_in(target, f) for f in forbidden)

    return [f"{a} -> {b}" for a, targets in sorted(graph.items()) if _in(a, importer)
            for b in sorted(targets) if hit(b)]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> ... -> a) through each strongly connected group of modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_through(graph, g) for g in groups]


def _cycle_through(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group (breadth first)."""
    start, members = group[0], set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & members):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return group  # unreachable for a strongly connected group


@pytest.mark.parametrize(("importer", "forbidden", "why"), RULES, ids=[r[0].split(".")[-1] for r in RULES])
def test_layer_imports(importer: str, forbidden: tuple[str, ...], why: str) -> None:
    bad = violations(import_graph(), importer, forbidden)
    assert not bad, f"{importer} must not import {', '.join(forbidden)} ({why}):\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles among gan_utils modules:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_graph_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    pkg = tmp_path / "gan_utils"
    (pkg / "models").mkdir(parents=True)
    (pkg / "data").mkdir()
    for f in ("__init__.py", "models/__init__.py", "data/__init__.py", "data/base.py", "config.py"):
        (pkg / f).write_text("")
    (pkg / "models" / "m.py").write_text("def f():\n    from gan_utils.data.base import x\n\nfrom .. import config\n")
    (pkg / "config.py").write_text("from gan_utils.models import m\n")
    graph = import_graph(pkg)
    assert graph["gan_utils.models.m"] == {"gan_utils.data.base", "gan_utils.config"}
    assert violations(graph, "gan_utils.models", RULES[0][1]) == ["gan_utils.models.m -> gan_utils.data.base"]
    assert cycles(graph) == [["gan_utils.config", "gan_utils.models.m", "gan_utils.config"]]
