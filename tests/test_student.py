"""The exercise marks and the student copies: valid nbgrader metadata, copies in sync, no solution text in them.

The student copies are run in tests/test_student_notebooks.py (slow: each notebook executes in fast mode).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


marks = _tool("nbgrader_marks")
make_student = _tool("make_student")


@pytest.mark.parametrize("py", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_exercises_carry_valid_nbgrader_metadata(py: Path) -> None:
    problems = marks.check_pair(py)
    assert not problems, "\n".join(problems) + f"\nRun: python tools/nbgrader_marks.py {py.relative_to(REPO)}"
    cells = marks.read_source(py).cells
    kinds = [c.metadata["nbgrader"] for c in cells if "nbgrader" in c.metadata]
    assert any(k["solution"] for k in kinds) and any(k["grade"] for k in kinds), (
        f"{py.name} has no marked, gradable exercise: put the answers between '{marks.BEGIN}' / '{marks.END}' and "
        "follow each with a check cell")
    ids = [k["grade_id"] for k in kinds]
    assert len(ids) == len(set(ids)), f"{py.name}: duplicate grade_id in {ids}"
    from nbgrader.nbgraderformat import MetadataValidator
    MetadataValidator().validate_nb(nbformat.read(str(py.with_suffix(".ipynb")), as_version=4))


@pytest.mark.parametrize("py", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_copy_is_in_sync(py: Path) -> None:
    student = REPO / "student" / f"{py.stem}.ipynb"
    assert student.exists(), f"{student.relative_to(REPO)} is missing: run make student"
    assert student.read_text() == make_student.student_text(py.with_suffix(".ipynb")), (
        f"{student.relative_to(REPO)} is stale (its instructor copy changed): run make student")


def _solution_lines(nb: nbformat.NotebookNode) -> list[str]:
    """The non-trivial lines inside the solution regions of an instructor notebook."""
    out = []
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if marks.BEGIN in line:
                inside = True
            elif marks.END in line:
                inside = False
            elif inside and len(line.strip()) >= 12:
                out.append(line.strip())
    return out


@pytest.mark.parametrize("py", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_solution_text_leaks_into_the_student_copy(py: Path) -> None:
    instructor = nbformat.read(str(py.with_suffix(".ipynb")), as_version=4)
    student = nbformat.read(str(REPO / "student" / f"{py.stem}.ipynb"), as_version=4)
    start = next(i for i, c in enumerate(student.cells) if re.search(r"^#+ Exercises", c.source, re.M))
    exercises = "\n".join(c.source for c in student.cells[start:])
    outputs = json.dumps([c.get("outputs", []) for c in student.cells])
    for line in _solution_lines(instructor):
        assert line not in exercises, f"{py.stem}: solution line {line!r} is in the student copy's exercises"
        assert json.dumps(line)[1:-1] not in outputs, f"{py.stem}: solution line {line!r} is in an output"
    text = json.dumps(student.dict())
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "<summary>Solution"):
        assert marker not in text, f"{py.stem}: {marker!r} in the student copy"
    lines = set(_solution_lines(instructor))
    for cell in student.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            stub = "raise NotImplementedError(" if cell.cell_type == "code" else "YOUR ANSWER HERE"
            assert stub in cell.source and not cell.get("outputs"), f"{py.stem}: {cell.source[:200]}"
            kept = [s for s in cell.source.splitlines() if s.strip() in lines]
            assert not kept, f"{py.stem}: an answer cell of the student copy keeps solution lines {kept}"


@pytest.mark.parametrize("py", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_badge_points_at_the_student_copy(py: Path) -> None:
    text = make_student.student_text(py.with_suffix(".ipynb"))
    assert re.search(rf"blob/[\w.\-]+/student/{py.stem}\.ipynb", text) and "/notebooks/" + py.stem not in text, (
        f"{py.stem}: the student copy's Colab badge should open student/{py.stem}.ipynb")


def test_marking_is_idempotent_and_follows_the_conventions(tmp_path: Path) -> None:
    py = tmp_path / "99_demo.py"
    py.write_text(
        "# %% [markdown]\n# **Exercise 1.** Double it.\n\n"
        "# %%\ndef double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\n\n"
        "# %%\ncheck(double(2), 4, \"double\")\ncheck(double(0), 0, \"double 0\");\n\n"
        "# %% [markdown]\n# **Exercise 2 (open).** Think.\n\n# %%\nprint(check)\n")
    assert marks.check_pair(py)                                   # unmarked: problems reported
    assert marks.mark(py) and not marks.mark(py)                  # a second run changes nothing
    assert marks.check_pair(py) == []
    cells = marks.read_source(py).cells
    assert cells[1].metadata["nbgrader"] == marks.solution_meta("ex1")
    assert cells[2].metadata["nbgrader"] == marks.check_meta("ex1_check", 2)   # one point per check call
    assert "nbgrader" not in cells[4].metadata                    # not after a solution cell
    assert '# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 2' in py.read_text()
    text = py.read_text().replace('"points": 2', '"points": 5')  # a teacher's reweighting is kept
    py.write_text(text)
    assert not marks.mark(py) and marks.read_source(py).cells[2].metadata["nbgrader"]["points"] == 5


def test_answer_cells_of_open_exercises_are_graded_by_hand(tmp_path: Path) -> None:
    py = tmp_path / "99_demo.py"
    py.write_text("# %% [markdown]\n# **Exercise 1 (open).** Think.\n\n"
                  "# %% [markdown]\n# **Answer (3 points).** A good answer measures.\n\n"
                  "# %% [markdown]\n# **Exercise 2 (open).** Again.\n\n"
                  "# %% [markdown]\n# **Answer.** No points named.\n")
    marks.mark(py)
    cells = marks.read_source(py).cells
    assert cells[1].metadata["nbgrader"] == marks.answer_meta("ex1_answer", 3)
    assert cells[1].metadata["nbgrader"]["grade"] and cells[1].metadata["nbgrader"]["solution"]
    assert any("names its points" in p for p in marks.problems(cells, py.name))


def test_stubs_name_their_exercise_and_function() -> None:
    from gan_utils.grading import NameTheExercise

    cell = nbformat.v4.new_code_cell("class Block(nn.Module):\n    def forward(self, x):\n        # YOUR CODE HERE\n"
                                     "        raise NotImplementedError()\n\nvalue = None\n# YOUR CODE HERE\n"
                                     "raise NotImplementedError()")
    cell.metadata["nbgrader"] = marks.solution_meta("ex3")
    NameTheExercise().preprocess_cell(cell, {}, 0)
    first, second = (line.strip() for line in cell.source.splitlines() if "NotImplementedError" in line)
    assert first.startswith("raise NotImplementedError('Exercise 3: `forward` is not written yet.")
    assert second.startswith("raise NotImplementedError('Exercise 3 is not answered yet.")
    compile(cell.source, "cell", "exec")


def test_an_untouched_copy_may_stop_only_at_a_named_exercise() -> None:
    from tests.test_student_notebooks import untouched_run_problems

    def cell(error: tuple[str, str] | None = None, mark: dict | None = None) -> nbformat.NotebookNode:
        c = nbformat.v4.new_code_cell("x")
        c.outputs = [nbformat.v4.new_output("error", ename=error[0], evalue=error[1], traceback=[])] if error else []
        if mark:
            c.metadata["nbgrader"] = mark
        return c

    stub = ("NotImplementedError", "Exercise 1: `d_loss` is not written yet.")
    good = nbformat.v4.new_notebook(cells=[
        cell(), cell(stub, marks.solution_meta("ex1")), cell(stub, marks.check_meta("ex1_check", 1)),
        cell(stub), cell(("NameError", "history")), cell(("NameError", "G"), marks.check_meta("ex2_check", 1))])
    assert untouched_run_problems(good) == []
    early = nbformat.v4.new_notebook(cells=[cell(("NameError", "mnist")), cell(stub)])
    assert "NameError" in untouched_run_problems(early)[0]                     # a teaching cell broke first
    unnamed = nbformat.v4.new_notebook(cells=[cell(("NotImplementedError", ""))])
    assert untouched_run_problems(unnamed)                                     # a bare stub names no exercise
    free = nbformat.v4.new_notebook(cells=[cell(None, marks.check_meta("ex1_check", 1))])
    assert "pass without an answer" in untouched_run_problems(free)[0]


def test_the_suggested_assignments_name_every_notebook_once() -> None:
    assignments = _tool("assignments")
    names = [n for group in assignments.ASSIGNMENTS.values() for n in group]
    assert sorted(names) == sorted(p.stem for p in NOTEBOOKS)
    with pytest.raises(SystemExit, match="Unknown assignment 'a9'"):
        assignments.make("a9", REPO / "course-that-is-not-made")
