"""Every student copy runs in fast mode, as a grader would run it, and fails only where the learner has work to do.

Under a grader (GAN_GRADING=1, as nbgrader's NBGRADER_EXECUTION) an unanswered exercise raises. An untouched student
copy raises NotImplementedError in its exercise cells; every teaching cell before the first one that runs a
learner's unwritten code runs, and that one stops with the stub's message naming the exercise; no check cell
passes without an answer (a free point).
Then docs/teaching.md's workflow with real nbgrader on assignment a1 and two different submissions: the
instructor's answers score full points, a wrong answer loses its cell, and each submission trains its own models.
Slow (each notebook executes); `make notebooks` runs it beside tests/test_notebooks.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
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


ASSIGNMENT = "a1"          # 01 and 02: the quickest pair in fast mode
STUDENTS = ("alice", "bob")
ROSTER = "id,first_name,last_name,email\nalice,Alice,Martin,alice@example.org\nbob,Bob,Okafor,bob@example.org\n"


def _answered(release: Path, instructor: Path, wrong: dict[str, tuple[str, str]]) -> nbformat.NotebookNode:
    """A release copy answered with the instructor's solutions, with `wrong` answers (grade_id: old -> new)."""
    sys.path.insert(0, str(REPO / "tools"))
    import make_student

    nb = make_student.fill_solutions(nbformat.read(str(release), as_version=4),
                                     nbformat.read(str(instructor), as_version=4))
    for cell in nb.cells:
        change = wrong.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if change:
            assert change[0] in cell.source, f"the test's wrong answer no longer fits: {change[0]!r}"
            cell.source = cell.source.replace(*change)
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/teaching.md's workflow, run end to end on two different submissions: make the assignment (the course's
    nbgrader_config.py), import the roster, collect an LMS download with zip_collect, autograde with one
    GAN_CKPT_DIR for the whole class (a teacher's usual environment), grade the open answers by hand as formgrader
    would, then feedback and export."""
    tools = REPO / "tools"
    course = tmp_path_factory.mktemp("class") / "course"
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "GAN_DATA": "synthetic",
           "GAN_CKPT_DIR": str(course.parent / "ckpt"), "MPLBACKEND": "Agg"}
    for key in ("GAN_GRADING", "GAN_MODE"):  # nbgrader's NBGRADER_EXECUTION says grader; the config sets fast mode
        env.pop(key, None)
    run = lambda *args: subprocess.run([sys.executable, *args], cwd=course, env=env, capture_output=True, text=True)
    course.mkdir()
    made = subprocess.run([sys.executable, str(tools / "assignments.py"), ASSIGNMENT, "--course", str(course)],
                          env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr[-3000:]
    (course / "students.csv").write_text(ROSTER)
    roster = run("-m", "nbgrader", "db", "student", "import", "students.csv")
    assert roster.returncode == 0, roster.stderr[-3000:]
    # The LMS download: Moodle's "Download all submissions", one folder per learner.
    wrong = {"bob": {"ex3": ("d_star_at_x = 0.3 / (0.3 + 0.1)", "d_star_at_x = 0.3 / 0.5")}}
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "submissions.zip", "w") as zf:
        for k, student in enumerate(STUDENTS):
            for release in sorted((course / "release" / ASSIGNMENT).glob("*.ipynb")):
                nb = _answered(release, REPO / "notebooks" / release.name,
                               wrong.get(student, {}) if release.name.startswith("01") else {})
                zf.writestr(f"{student}_{101 + k}_assignsubmission_file_/{release.name}", nbformat.writes(nb))
    collected = run("-m", "nbgrader", "zip_collect", ASSIGNMENT)
    assert collected.returncode == 0, collected.stderr[-3000:]
    graded = run("-m", "nbgrader", "autograde", ASSIGNMENT)
    assert graded.returncode == 0, graded.stderr[-3000:]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # formgrader's job: the open answers, by hand
        for student in STUDENTS:
            for nb in gb.find_submission(ASSIGNMENT, student).notebooks:
                for grade in nb.grades:
                    if grade.needs_manual_grade:
                        grade.manual_score = grade.max_score if student == "alice" else 0
        gb.db.commit()
    for step in (("generate_feedback", ASSIGNMENT), ("export",)):
        done = run("-m", "nbgrader", *step)
        assert done.returncode == 0, done.stderr[-3000:]
    return course


def test_the_teachers_workflow_grades_two_submissions(course: Path) -> None:
    from nbgrader.api import Gradebook

    for student in STUDENTS:
        for name in ("01_vanilla_gan", "02_conditional_gan"):
            assert (course / "submitted" / student / ASSIGNMENT / f"{name}.ipynb").exists(), "zip_collect missed it"
            assert (course / "feedback" / student / ASSIGNMENT / f"{name}.html").exists(), "no feedback"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        alice, bob = (gb.find_submission(ASSIGNMENT, s) for s in STUDENTS)
        assert alice.max_code_score > 0 and alice.code_score == alice.max_code_score, (
            f"the instructor's answers scored {alice.code_score} of {alice.max_code_score}")
        assert alice.max_written_score > 0 and alice.score == alice.max_score
        assert 0 < bob.code_score < alice.code_score, f"bob's wrong answer scored {bob.code_score}"
    feedback = (course / "feedback" / "bob" / ASSIGNMENT / "01_vanilla_gan.html").read_text()
    assert "D*(x): not yet" in feedback and "0.75" not in feedback.split("D*(x): not yet")[1][:300]
    grades = (course / "grades.csv").read_text()
    assert all(f",{s}," in grades for s in STUDENTS)


def test_nbgrader_autograde_trains_every_submission_afresh(course: Path) -> None:
    """No submission is graded on a model that another submission (or the teacher) trained."""
    outputs = {}
    for student in STUDENTS:
        nb = nbformat.read(str(course / "autograded" / student / ASSIGNMENT / "02_conditional_gan.ipynb"),
                           as_version=4)
        outputs[student] = "\n".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
                                     for o in c.outputs)
    reused = {s: [w for w in ("Resumed from", "Already trained") if w in text] for s, text in outputs.items()}
    assert not any(reused.values()), f"graded on a model the submission did not train: {reused}"
    ckpt = course.parent / "ckpt"
    written = sorted(p.relative_to(ckpt).as_posix() for p in ckpt.rglob("*")) if ckpt.exists() else []
    assert not written, f"autograde wrote into the class's GAN_CKPT_DIR: {written}"
    for student, text in outputs.items():
        assert "Graded run: checkpoints go to a fresh folder" in text, f"{student}: setup() did not see the grader"
