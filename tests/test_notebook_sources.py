"""The notebook sources: jupytext pairs in sync, one shared Colab set-up cell, and run modes that change sizes only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NB_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
SOURCES = sorted(NB_DIR.glob("[0-9][0-9]_*.py"))
ids = [p.stem for p in NOTEBOOKS]


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def _code(source: Path) -> ast.Module:
    """The code cells of a py:percent source, parsed (markdown cells are comments)."""
    return ast.parse(source.read_text(encoding="utf-8"), filename=str(source))


def test_every_notebook_has_a_source_and_vice_versa() -> None:
    assert NOTEBOOKS, "no notebooks found"
    assert [p.stem for p in SOURCES] == [p.stem for p in NOTEBOOKS], (
        "each notebooks/NN_name.ipynb needs its notebooks/NN_name.py pair; create a missing one with "
        "`jupytext --sync notebooks/NN_name.ipynb` (jupytext.toml pairs them)")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=ids)
def test_pair_is_in_sync(notebook: Path) -> None:
    ipynb = nbformat.read(notebook, as_version=4)
    py = jupytext.read(notebook.with_suffix(".py"))
    a, b = _cells(ipynb), _cells(py)
    fix = (f"Run `make sync` (or `jupytext --sync notebooks/{notebook.name}`): it copies the newer of the two files' "
           "cells into the other and keeps the outputs.")
    assert len(a) == len(b), f"{notebook.name} has {len(a)} cells, its .py source {len(b)}. {fix}"
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        where = f"cell {i} of {notebook.name}"
        assert x == y, f"{where} differs from its .py source:\n{x[1][:300]}\n---\n{y[1][:300]}\n{fix}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=ids)
def test_kernel_is_python3(notebook: Path) -> None:
    assert nbformat.read(notebook, as_version=4).metadata["kernelspec"]["name"] == "python3"


def test_colab_setup_cell_is_the_same_everywhere() -> None:
    cells = {}
    for src in SOURCES:
        code = [c.source for c in jupytext.read(src).cells if c.cell_type == "code"]
        cells[src.stem] = code[0]
        assert "google.colab" in code[0], f"{src.name}: the first code cell must be the shared Colab install cell"
    first = next(iter(cells.values()))
    differ = [name for name, c in cells.items() if c != first]
    assert not differ, f"the Colab set-up cell of {differ} differs from {SOURCES[0].name}'s; copy it from there"


def test_colab_cells_and_badges_name_the_release_in_pyproject() -> None:
    """One place for the release: pyproject's version names the tag that Colab opens and installs."""
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import release
    finally:
        sys.path.pop(0)
    tag = "v" + release.current_version()
    stale = [p.name for p in release.files() if not release.pinned(p, tag)]
    assert not stale, f"{stale} name another release than {tag}; run `make release VERSION={tag[1:]}`"
    cell = [c.source for c in jupytext.read(SOURCES[0]).cells if c.cell_type == "code"][0]
    assert f"gans-from-scratch.git@{tag}" in cell, "the Colab install cell must install the pinned release"
    assert "KEEP_ON_DRIVE" in cell and "drive.mount" in cell, "the Colab cell must offer checkpoints on Drive"
    import gan_utils

    assert gan_utils.__version__ == tag[1:], "gan_utils.__version__ must be pyproject's version"


def _sizes(tree: ast.Module, name: str) -> dict[str, set[str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SIZES" for t in node.targets):
            out = {}
            for k, v in zip(node.value.keys, node.value.values, strict=True):
                assert isinstance(v, ast.Call) and not v.args, f"{name}: write SIZES[{ast.unparse(k)}] as dict(...)"
                out[ast.literal_eval(k)] = {kw.arg for kw in v.keywords}
            return out
    raise AssertionError(f"{name} has no SIZES table")


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_modes_change_sizes_only(source: Path) -> None:
    tree = _code(source)
    sizes = _sizes(tree, source.name)
    assert set(sizes) == {"fast", "default", "full"}, f"{source.name}: SIZES must define fast, default and full"
    assert sizes["fast"] == sizes["default"] == sizes["full"], (
        f"{source.name}: the SIZES of the three modes must have the same keys; they differ in "
        f"{sorted((sizes['fast'] | sizes['full']) ^ sizes['default'])}")
    sizes_node = next(n for n in ast.walk(tree) if isinstance(n, ast.Assign)
                      and any(isinstance(t, ast.Name) and t.id == "SIZES" for t in n.targets))
    inside_sizes = {id(n) for n in ast.walk(sizes_node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "mode":
            raise AssertionError(f"{source.name}:{node.lineno} reads the run mode ({ast.unparse(node)}); modes may "
                                 "change only the sizes in SIZES, never which code runs")
        if (isinstance(node, ast.Constant) and node.value in ("fast", "default", "full", "GAN_MODE")
                and id(node) not in inside_sizes):
            raise AssertionError(f"{source.name}:{node.lineno} names the mode {node.value!r} outside SIZES; modes "
                                 "may change only the sizes, never which code runs")


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_setup_is_named_after_the_notebook(source: Path) -> None:
    calls = [n for n in ast.walk(_code(source)) if isinstance(n, ast.Call) and ast.unparse(n.func).endswith("setup")]
    names = [ast.literal_eval(kw.value) for c in calls for kw in c.keywords if kw.arg == "name"]
    assert names == [source.stem], (
        f"{source.name} must call setup(..., name={source.stem!r}) once, so that its checkpoints go to its own folder")
