"""Write the student copies: student/NN_name.ipynb from notebooks/NN_name.ipynb, through nbgrader's preprocessors.

Usage:
    python tools/make_student.py [notebooks/NN_name.ipynb ...]   (`make student`; default: every marked notebook)
    python tools/make_student.py --check [...]                    exit 1 if a student copy is missing or stale
    python tools/make_student.py --filled DIR [...]               student copies answered with the instructor's
                                                                  solutions, written to DIR (to try a grader)

nbconvert runs nbgrader's own preprocessors on the instructor copy, as `nbgrader generate_assignment` does:
- ClearSolutions: each `### BEGIN SOLUTION` ... `### END SOLUTION` region becomes `# YOUR CODE HERE` and
  `raise NotImplementedError()` (it refuses a solution region outside a cell marked as a solution cell), and a
  markdown answer cell (an open exercise) becomes "YOUR ANSWER HERE";
- NameTheExercise: each stub's `NotImplementedError` names its exercise and function, so a later cell that runs
  the learner's code stops with a message that says which exercise to write (the course's own step);
- ClearHiddenTests: `### BEGIN HIDDEN TESTS` regions are dropped, and the check cells stay;
- ClearOutput, on the exercise cells only (cells with nbgrader metadata): the teaching outputs stay;
- LockCells: check cells become read-only and undeletable, solution cells undeletable.
Then the Colab badge is pointed at the student copy. The result is deterministic, so CI can compare.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, LockCells
from traitlets.config import Config

from gan_utils.grading import ClearExerciseOutput, NameTheExercise, StudentBadge

REPO = Path(__file__).resolve().parent.parent
STUDENT = REPO / "student"


def exporter() -> NotebookExporter:
    """An nbconvert notebook exporter with the student preprocessors, in nbgrader's order."""
    ex = NotebookExporter(config=Config())
    for pre in (ClearSolutions(), NameTheExercise(), ClearHiddenTests(), ClearExerciseOutput(), LockCells(),
                StudentBadge()):
        ex.register_preprocessor(pre, enabled=True)
    return ex


def student_text(instructor: Path) -> str:
    """The student copy of an instructor notebook, as the text `make student` writes."""
    nb = nbformat.read(str(instructor), as_version=4)
    text, _ = exporter().from_notebook_node(nb, resources={"metadata": {"name": instructor.stem}})
    return text if text.endswith("\n") else text + "\n"


def fill_solutions(student: nbformat.NotebookNode, instructor: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A student copy whose answer cells hold the instructor's code, as a perfect submission would."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in instructor.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in student.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers[meta["grade_id"]]
    return student


def is_marked(instructor: Path) -> bool:
    """Whether the notebook has nbgrader solution cells (only those get a student copy)."""
    nb = nbformat.read(str(instructor), as_version=4)
    return any(c.metadata.get("nbgrader", {}).get("solution") for c in nb.cells)


def default_notebooks() -> list[Path]:
    """Every instructor notebook with marked exercises."""
    return [p for p in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")) if is_marked(p)]


def main(argv: list[str] | None = None) -> int:
    """Command line: write (or --check) the student copies."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare with the committed student copies")
    ap.add_argument("--skip-unmarked", action="store_true", help="pass over notebooks without marked exercises")
    ap.add_argument("--filled", type=Path, help="write answered student copies to this folder instead")
    ap.add_argument("notebooks", nargs="*", type=Path)
    args = ap.parse_args(argv)
    paths = [p.with_suffix(".ipynb") for p in args.notebooks] or default_notebooks()
    stale = 0
    for src in paths:
        if not is_marked(src):
            if args.skip_unmarked:
                continue
            print(f"{src}: no nbgrader solution cells; run tools/nbgrader_marks.py {src.with_suffix('.py')} first")
            stale += 1
            continue
        out = STUDENT / src.name
        text = student_text(src)
        if args.filled:
            args.filled.mkdir(parents=True, exist_ok=True)
            filled = fill_solutions(nbformat.reads(text, as_version=4), nbformat.read(str(src), as_version=4))
            nbformat.write(filled, str(args.filled / src.name))
            print(f"wrote {args.filled / src.name} (answered with the instructor's solutions)")
        elif args.check:
            ok = out.exists() and out.read_text() == text
            stale += not ok
            print(f"{out.relative_to(REPO)}: {'in sync' if ok else 'missing or stale: run make student'}")
        else:
            STUDENT.mkdir(exist_ok=True)
            out.write_text(text)
            print(f"wrote {out.relative_to(REPO)}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
