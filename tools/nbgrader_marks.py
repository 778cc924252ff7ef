"""Give the exercise cells of a notebook their nbgrader metadata, from the course's conventions; or check them.

Usage:
    python tools/nbgrader_marks.py notebooks/07_3dgan.py [...]          mark (idempotent), sync the .ipynb, tidy it
    python tools/nbgrader_marks.py --check notebooks/[0-9][0-9]_*.py    exit 1 if a notebook is not marked as below

The conventions (STYLE.md, Exercises):
- a code cell holding `### BEGIN SOLUTION` ... `### END SOLUTION` is a **solution cell**
  (`solution: true`, `grade: false`, `locked: false`), with grade_id `exN` after the nearest "**Exercise N" above it;
- the code cell that follows a solution cell and calls `check(`, `check_that(` or `check_function(` is its
  **check cell** (`grade: true`, `locked: true`, `solution: false`), grade_id `exN_check`, worth one point per
  check call, hidden tests included (a `points` value already in the cell's metadata is kept, so a teacher can
  reweigh an exercise);
- a markdown cell that starts with `**Answer` (after an open exercise) is a **manually graded answer cell**
  (`grade: true`, `solution: true`, `locked: false`), grade_id `exN_answer`, worth the points its first line
  names ("**Answer (5 points).** ..."); its text in the instructor copy is the model answer and rubric, and the
  student copy shows "YOUR ANSWER HERE";
- every other cell carries no nbgrader metadata.
The metadata lives in the .py source as jupytext cell headers (`# %% nbgrader={...}`), and the tool writes it
there, then runs `jupytext --sync` (the .ipynb keeps its outputs) and tools/tidy_notebook.py, as a hand edit would.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jupytext
from nbformat import NotebookNode

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_CALL = re.compile(r"(?<![\w.])check(?:_function|_that)?\(")
ANSWER = re.compile(r"^\*\*Answer\b.*?(\d+) points?")
EXERCISE = re.compile(r"\*\*Exercise (\d+)")
JUPYTEXT_FILTERS = {"notebook_metadata_filter": "-all", "cell_metadata_filter": "nbgrader,-all"}
TOOLS = Path(__file__).resolve().parent


def solution_meta(grade_id: str) -> dict[str, Any]:
    """nbgrader metadata (schema 3) of an autograded answer cell."""
    return {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3, "solution": True,
            "task": False}


def check_meta(grade_id: str, points: int) -> dict[str, Any]:
    """nbgrader metadata (schema 3) of a locked, graded test cell."""
    return {"grade": True, "grade_id": grade_id, "locked": True, "points": points, "schema_version": 3,
            "solution": False, "task": False}


def answer_meta(grade_id: str, points: int) -> dict[str, Any]:
    """nbgrader metadata (schema 3) of a manually graded answer cell (markdown)."""
    return {"grade": True, "grade_id": grade_id, "locked": False, "points": points, "schema_version": 3,
            "solution": True, "task": False}


def is_solution_source(source: str) -> bool:
    """Whether a cell holds a solution region."""
    return BEGIN in source


def expected_marks(cells: list[NotebookNode]) -> list[dict[str, Any] | None]:
    """The nbgrader metadata each cell should carry (None: none), following the conventions above."""
    marks: list[dict[str, Any] | None] = [None] * len(cells)
    exercise, used, prev_code = "0", set(), None
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.startswith("**Answer"):
            found = ANSWER.match(cell.source)
            marks[i] = answer_meta(f"ex{exercise}_answer", int(found.group(1)) if found else 0)
            continue
        if cell.cell_type == "markdown":
            found = EXERCISE.findall(cell.source)
            exercise = found[-1] if found else exercise
            continue
        if cell.cell_type != "code":
            continue
        if is_solution_source(cell.source):
            grade_id, k = f"ex{exercise}", 1
            while grade_id in used:
                k += 1
                grade_id = f"ex{exercise}_{k}"
            used.add(grade_id)
            marks[i] = solution_meta(grade_id)
        elif prev_code is not None and marks[prev_code] and marks[prev_code]["solution"] \
                and CHECK_CALL.search(cell.source):
            grade_id = marks[prev_code]["grade_id"] + "_check"
            old = cell.metadata.get("nbgrader", {})
            points = old.get("points") if old.get("grade") and isinstance(old.get("points"), int) \
                and old["points"] > 0 else len(CHECK_CALL.findall(cell.source))
            marks[i] = check_meta(grade_id, points)
        prev_code = i
    return marks


def problems(cells: list[NotebookNode], where: str) -> list[str]:
    """What is wrong with the exercise marks of a notebook's cells (empty when it is marked as the tool would)."""
    out = []
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.startswith("**Answer") and not ANSWER.match(cell.source):
            out.append(f"{where} cell {i}: an answer cell's first line names its points: '**Answer (5 points).**'")
    for i, (cell, mark) in enumerate(zip(cells, expected_marks(cells), strict=True)):
        have = cell.metadata.get("nbgrader")
        if cell.cell_type == "code" and cell.source.count(BEGIN) != cell.source.count(END):
            out.append(f"{where} cell {i}: unbalanced {BEGIN} / {END}")
        if cell.cell_type == "markdown" and BEGIN in cell.source:
            out.append(f"{where} cell {i}: a solution region in a markdown cell")
        if have != mark:
            first = cell.source.splitlines()[0] if cell.source else ""
            out.append(f"{where} cell {i} ({first[:50]!r}): nbgrader metadata {have} should be {mark}")
    if any(c.cell_type == "markdown" and "<summary>Solution" in c.source for c in cells):
        out.append(f"{where}: a '<details><summary>Solutions' block; solutions go between the markers instead")
    return out


def read_source(py: Path) -> NotebookNode:
    """The notebook as its py:percent source describes it (cells with their nbgrader headers)."""
    nb = jupytext.read(py, fmt="py:percent")
    nb.metadata["jupytext"] = dict(JUPYTEXT_FILTERS)
    return nb


def mark(py: Path) -> bool:
    """Write the expected marks into the .py (True if it changed); the .ipynb is synced and tidied afterwards."""
    nb = read_source(py)
    for cell, m in zip(nb.cells, expected_marks(nb.cells), strict=True):
        cell.metadata.pop("nbgrader", None)
        if m is not None:
            cell.metadata["nbgrader"] = m
    text = jupytext.writes(nb, fmt="py:percent")
    if text == py.read_text():
        return False
    py.write_text(text)
    return True


def sync(py: Path) -> None:
    """jupytext --sync the pair (the .ipynb keeps its outputs), then tidy the .ipynb."""
    subprocess.run([sys.executable, "-m", "jupytext", "--sync", "--quiet", str(py)], check=True)
    subprocess.run([sys.executable, str(TOOLS / "tidy_notebook.py"), str(py.with_suffix(".ipynb"))], check=True,
                   stdout=subprocess.DEVNULL)


def check_pair(py: Path) -> list[str]:
    """Problems with a notebook's marks, in its .py and in its .ipynb (which must agree)."""
    out = problems(read_source(py).cells, py.name)
    ipynb = py.with_suffix(".ipynb")
    if ipynb.exists():
        nb = jupytext.read(ipynb)
        src = read_source(py)
        marks_py = [c.metadata.get("nbgrader") for c in src.cells]
        marks_nb = [c.metadata.get("nbgrader") for c in nb.cells]
        if marks_py != marks_nb:
            out.append(f"{ipynb.name}: nbgrader metadata differs from {py.name}; run jupytext --sync {py}")
    return out


def _source_of(path: str) -> Path:
    p = Path(path)
    py = p.with_suffix(".py")
    if not py.exists():
        sys.exit(f"{py} not found: give the notebook's py:percent source (or its .ipynb beside it).")
    return py


def main(argv: list[str] | None = None) -> int:
    """Command line: mark the given notebooks, or with --check report what is not marked."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only report; exit 1 if a notebook needs marking")
    ap.add_argument("notebooks", nargs="+", help="notebooks/NN_name.py (or .ipynb)")
    args = ap.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        py = _source_of(path)
        if args.check:
            found = check_pair(py)
            bad += bool(found)
            print("\n".join(found) if found else f"{py.name}: marked")
            continue
        changed = mark(py)
        sync(py)
        found = check_pair(py)
        bad += bool(found)
        n_sol = sum(1 for c in read_source(py).cells if c.metadata.get("nbgrader", {}).get("solution"))
        n_pts = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in read_source(py).cells)
        print(f"{py.name}: {'marked' if changed else 'already marked'}, {n_sol} solution cells, {n_pts} points"
              + ("".join("\n  " + f for f in found)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
