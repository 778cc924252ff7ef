"""Every student copy runs in fast mode, as a grader would run it, and fails only where the learner has work to do.

Under a grader (GAN_GRADING=1, as nbgrader's NBGRADER_EXECUTION) an unanswered exercise raises. A student copy must
raise NotImplementedError in its exercise cells (nbgrader metadata) and nowhere else: no NameError from a stub,
no teaching cell that breaks, and no check cell that passes without an answer (a free point).
Then a real nbgrader autograde of two students: both score full points, and each trains its own models.
Slow (each notebook executes); `make notebooks` runs it beside tests/test_notebooks.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
STUDENT = sorted((REPO / "student").glob("[0-9][0-9]_*.ipynb"))


STUB_MESSAGE = re.compile(r"^Exercise \d+")


def untouched_run_problems(nb: nbformat.NotebookNode) -> list[str]:
    """What is wrong with an executed, unanswered student copy (allow_errors, as nbgrader runs it).

    Up to the first teaching cell that runs a learner's unwritten code, every cell must run, except the exercise
    cells, which may raise NotImplementedError only. That teaching cell must stop with the stub's message, which
    names the exercise. After it, cells that need its results fail as they would in a learner's Run All. No check
    cell may pass without an answer (a free point)."""
    wrong, free, stopped = [], [], False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        mark = cell.metadata.get("nbgrader", {})
        first = cell.source.splitlines()[0] if cell.source else ""
        if mark.get("grade") and not errors:
            free.append(f"cell {i} ({mark['grade_id']})")
        if stopped:
            continue
        for e in errors:
            named = e.ename == "NotImplementedError" and STUB_MESSAGE.match(e.evalue)
            if mark and e.ename == "NotImplementedError":
                continue
            if named:
                stopped = True  # a teaching cell ran the learner's unwritten code: Run All stops here
                continue
            wrong.append(f"cell {i} ({first[:60]!r}): {e.ename}: {e.evalue[:200]}")
    return wrong + [f"check cells that pass without an answer: {free}"] * bool(free)


@pytest.mark.parametrize("notebook", STUDENT, ids=[p.stem for p in STUDENT])
def test_untouched_student_copy_scores_nothing_and_stops_at_an_exercise(notebook: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"GAN_MODE": "fast", "GAN_GRADING": "1", "MPLBACKEND": "Agg",
                       "GAN_CKPT_DIR": str(tmp_path / "checkpoints")}.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(str(notebook), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    problems = untouched_run_problems(nb)
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)


AUTOGRADED = "02_conditional_gan"  # the quickest notebook in fast mode
STUDENTS = ("alice", "bob")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real nbgrader, as docs/teaching.md runs it: generate_assignment on the instructor copy, then one autograde of
    two students' answered copies, with one GAN_CKPT_DIR for the whole class (a teacher's usual environment)."""
    src = REPO / "notebooks" / f"{AUTOGRADED}.ipynb"
    if not (REPO / "student" / src.name).exists():
        pytest.skip(f"no student copy of {AUTOGRADED}")
    tmp_path = tmp_path_factory.mktemp("course")
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "GAN_MODE": "fast",
           "GAN_DATA": "synthetic", "GAN_CKPT_DIR": str(tmp_path / "ckpt"), "MPLBACKEND": "Agg"}
    env.pop("GAN_GRADING", None)  # only nbgrader's own NBGRADER_EXECUTION says that this is a grader
    (tmp_path / "source" / "a1").mkdir(parents=True)
    (tmp_path / "source" / "a1" / src.name).write_bytes(src.read_bytes())
    run = lambda *args: subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True)
    made = run("-m", "nbgrader", "generate_assignment", "a1")
    assert made.returncode == 0, made.stderr[-3000:]
    for student in STUDENTS:
        filled = run(str(REPO / "tools" / "make_student.py"), "--filled", str(tmp_path / "submitted" / student / "a1"),
                     str(src))
        assert filled.returncode == 0, filled.stderr[-3000:]
    bobs = tmp_path / "submitted" / "bob" / "a1" / src.name  # another submission: the same answers, written apart
    nb = nbformat.read(str(bobs), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source += "\n# bob's answer"
    nbformat.write(nb, str(bobs))
    graded = run("-m", "nbgrader", "autograde", "a1")
    assert graded.returncode == 0, graded.stderr[-3000:]
    return tmp_path


def test_nbgrader_autograde_gives_full_points_to_the_instructor_answers(course: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in STUDENTS:
            sub = gb.find_submission("a1", student)
            assert sub.max_score > 0 and sub.score == sub.max_score, (
                f"autograde gave {student} {sub.score} of {sub.max_score}")


def test_nbgrader_autograde_trains_every_submission_afresh(course: Path) -> None:
    """No submission is graded on a model that another submission (or the teacher) trained."""
    outputs = {}
    for student in STUDENTS:
        nb = nbformat.read(str(course / "autograded" / student / "a1" / f"{AUTOGRADED}.ipynb"), as_version=4)
        outputs[student] = "\n".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
                                     for o in c.outputs)
    reused = {s: [w for w in ("Resumed from", "Already trained") if w in text] for s, text in outputs.items()}
    assert not any(reused.values()), f"graded on a model the submission did not train: {reused}"
    written = sorted(p.relative_to(course / "ckpt").as_posix() for p in (course / "ckpt").rglob("*"))
    assert not written, f"autograde wrote into the class's GAN_CKPT_DIR: {written}"
    for student, text in outputs.items():
        assert "Graded run: checkpoints go to a fresh folder" in text, f"{student}: setup() did not see the grader"
