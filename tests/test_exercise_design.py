"""The exercises make the learner build the paper, and their checks do not give the answers away (issue 25).

Read from the sources and the committed student copies (no kernel):
- every notebook has >= 2 build exercises, in place where the piece is taught (before "## Exercises"), whose code
  a later teaching cell runs, and >= 1 extension exercise;
- no coded exercise's solution appears in an earlier cell of its student copy: two consecutive non-trivial
  solution lines found verbatim in an earlier cell that is not an exercise fail;
- every check cell has hidden tests (removed from the student copy) with a check in them; its visible part never
  compares with a reference function (`check_function`) nor uses a seal, which a learner could brute-force;
- every open exercise has a manually graded answer cell with points;
- the student copy answered with the instructor's solutions is the instructor copy without its hidden tests, so
  the instructor copy's graded fast run (tests/test_notebooks.py, GAN_GRADING=1) is that submission's autograde.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from tests.test_student import _tool

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADING = re.compile(r"\*\*Exercise (\d+)(?: \((build|extend|open)\b[^)]*\))?\.?\*\*")
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
TRIVIAL = re.compile(r"^(#.*|return|pass|else:|try:|\)|\]|\}|\)\)|[\w.]+ = None|### (BEGIN|END) SOLUTION)?$")


make_student, marks = _tool("make_student"), _tool("nbgrader_marks")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def _kind(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Exercise number -> 'build', 'extend', 'open' or '' (a question), from the markdown headings."""
    kinds = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for number, kind in HEADING.findall(cell.source):
                kinds[number] = kind
    return kinds


def _exercises_heading(nb: nbformat.NotebookNode) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
                and re.search(r"^## Exercises", c.source, re.M))


def _solution_lines(source: str) -> list[str]:
    """The stripped lines between the solution markers of one cell."""
    out, inside = [], False
    for line in source.splitlines():
        s = line.strip()
        if s == marks.BEGIN:
            inside = True
        elif s == marks.END:
            inside = False
        elif inside:
            out.append(s)
    return out


def _defined(source: str) -> set[str]:
    """Names a cell defines at top level (functions, classes, assignments)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _used(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_build_exercises_in_place_and_an_extension(notebook: Path) -> None:
    nb = _read(notebook)
    kinds, end = _kind(nb), _exercises_heading(nb)
    solutions = {c.metadata["nbgrader"]["grade_id"]: (i, c) for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    build = [k for k, v in kinds.items() if v == "build"]
    assert len(build) >= 2, f"{notebook.stem}: {len(build)} build exercises (headings '**Exercise N (build).**')"
    assert sum(v == "extend" for v in kinds.values()) >= 1, f"{notebook.stem}: no '**Exercise N (extend).**'"
    for number in build:
        i, cell = solutions[f"ex{number}"]
        assert i < end, f"{notebook.stem}: build exercise {number} is not in place (it is after '## Exercises')"
        names = _defined(cell.source)
        users = [j for j, c in enumerate(nb.cells[i + 2:], i + 2) if c.cell_type == "code"
                 and "nbgrader" not in c.metadata and names & _used(c.source)]
        assert users, f"{notebook.stem}: no teaching cell after build exercise {number} runs {sorted(names)}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_solution_appears_in_an_earlier_cell_of_the_student_copy(notebook: Path) -> None:
    instructor = _read(notebook)
    student = _read(REPO / "student" / notebook.name)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in instructor.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}
    for i, cell in enumerate(student.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in answers:
            continue
        lines = [s for s in _solution_lines(answers[grade_id]) if not TRIVIAL.match(s)]
        pairs = list(zip(lines, lines[1:], strict=False))
        for earlier in student.cells[:i]:
            if "nbgrader" in earlier.metadata:
                continue
            text = [s.strip().lstrip("#").strip() for s in earlier.source.splitlines()]
            shown = set(zip(text, text[1:], strict=False))
            leaked = [p for p in pairs if p in shown]
            assert not leaked, f"{notebook.stem} {grade_id}: its solution is shown earlier: {leaked[0]}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_checks_hide_their_answers(notebook: Path) -> None:
    nb = _read(notebook)
    for i, cell in enumerate(nb.cells):
        assert "sealed(" not in cell.source, f"{notebook.stem} cell {i}: a seal; use hidden tests instead"
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        hidden = HIDDEN.findall(cell.source)
        assert hidden and any(marks.CHECK_CALL.search(h) for h in hidden), (
            f"{notebook.stem} {meta['grade_id']}: no check call between ### BEGIN/END HIDDEN TESTS")
        visible = HIDDEN.sub("", cell.source)
        assert "check_function(" not in visible, (
            f"{notebook.stem} {meta['grade_id']}: check_function in view names its reference; hide it")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_open_exercises_have_graded_answer_cells(notebook: Path) -> None:
    nb = _read(notebook)
    opens = [k for k, v in _kind(nb).items() if v == "open"]
    answers = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in nb.cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")}
    for number in opens:
        meta = answers.get(f"ex{number}_answer")
        assert meta and meta["points"] > 0 and meta["solution"], (
            f"{notebook.stem}: open exercise {number} needs an answer cell '**Answer (5 points).** ...' below it")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_answered_student_copy_is_the_instructor_copy_without_hidden_tests(notebook: Path) -> None:
    instructor = _read(notebook)
    filled = make_student.fill_solutions(nbformat.reads(make_student.student_text(notebook), as_version=4),
                                         _read(notebook))
    assert len(filled.cells) == len(instructor.cells)
    for a, b in zip(filled.cells, instructor.cells, strict=True):
        if a.cell_type == "code":
            expected = re.sub(r"[ \t]*### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS[ \t]*(\n|$)", "", b.source,
                              flags=re.S)
            assert a.source.rstrip() == expected.rstrip(), (
                f"{notebook.stem}: a cell of the answered copy differs:\n{a.source[:300]}")


def _echoes(source: str) -> bool:
    """Whether a cell ends with a bare expression without ';' (Jupyter would print its value, e.g. True)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    lines = [s for s in source.rstrip().splitlines() if s.strip() and not s.strip().startswith("#")]
    return bool(body) and isinstance(body[-1], ast.Expr) and not lines[-1].rstrip().endswith(";") \
        and isinstance(body[-1].value, ast.Call) and getattr(body[-1].value.func, "id", "").startswith("check")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_check_cells_print_verdicts_only(notebook: Path) -> None:
    """A check call that ends a cell would also print True or False under the verdict: end it with ';'."""
    for cell in _read(notebook).cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            for version in (cell.source, HIDDEN.sub("", cell.source)):
                assert not _echoes(version), f"{notebook.stem} {meta['grade_id']}: end the last check call with ';'"


def test_the_teachers_guide_lists_each_notebooks_points() -> None:
    """docs/teaching.md's table of points per notebook is the notebooks' nbgrader marks."""
    guide = (REPO / "docs" / "teaching.md").read_text()
    for notebook in NOTEBOOKS:
        nb = _read(notebook)
        graded = [c.metadata["nbgrader"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        auto = sum(m["points"] for m in graded if not m["solution"])
        by_hand = sum(m["points"] for m in graded if m["solution"])
        row = re.search(rf"^\| {notebook.stem[:2]} \|.*\| (\d+) \+ (\d+) \|$", guide, re.M)
        assert row and (int(row[1]), int(row[2])) == (auto, by_hand), (
            f"docs/teaching.md: {notebook.stem} has {auto} autograded + {by_hand} points by hand")
