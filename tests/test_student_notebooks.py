"""Every student copy runs in fast mode, as a grader would run it, and fails only where the learner has work to do.

Under a grader (GAN_GRADING=1, as nbgrader's NBGRADER_EXECUTION) an unanswered exercise raises. A student copy must
raise NotImplementedError in its exercise cells (nbgrader metadata) and nowhere else: no NameError from a stub,
no teaching cell that breaks, and no check cell that passes without an answer (a free point).
Slow (each notebook executes); `make notebooks` runs it beside tests/test_notebooks.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
STUDENT = sorted((REPO / "student").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", STUDENT, ids=[p.stem for p in STUDENT])
def test_student_copy_fails_only_with_not_implemented(notebook: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"GAN_MODE": "fast", "GAN_GRADING": "1", "MPLBACKEND": "Agg",
                       "GAN_CKPT_DIR": str(tmp_path / "checkpoints")}.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(str(notebook), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    wrong, free = [], []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        mark = cell.metadata.get("nbgrader", {})
        first = cell.source.splitlines()[0] if cell.source else ""
        for e in errors:
            if e.ename != "NotImplementedError" or not mark:
                wrong.append(f"cell {i} ({first[:60]!r}): {e.ename}: {e.evalue[:200]}")
        if mark.get("grade") and not errors:
            free.append(f"cell {i} ({mark['grade_id']})")
    assert not wrong, f"{notebook.name}: errors other than NotImplementedError in exercise cells:\n" + "\n".join(wrong)
    assert not free, f"{notebook.name}: check cells that pass without an answer: {free}"


AUTOGRADED = "02_conditional_gan"  # the quickest notebook in fast mode


def test_nbgrader_autograde_gives_full_points_to_the_instructor_answers(tmp_path: Path) -> None:
    """Real nbgrader: generate_assignment on the instructor copy, then autograde an answered student copy."""
    from nbgrader.api import Gradebook

    src = REPO / "notebooks" / f"{AUTOGRADED}.ipynb"
    if not (REPO / "student" / src.name).exists():
        pytest.skip(f"no student copy of {AUTOGRADED}")
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", ""), "GAN_MODE": "fast",
           "GAN_DATA": "synthetic", "GAN_CKPT_DIR": str(tmp_path / "ckpt"), "MPLBACKEND": "Agg"}
    (tmp_path / "source" / "a1").mkdir(parents=True)
    (tmp_path / "source" / "a1" / src.name).write_bytes(src.read_bytes())
    run = lambda *args: subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True)
    made = run("-m", "nbgrader", "generate_assignment", "a1")
    assert made.returncode == 0, made.stderr[-3000:]
    filled = run(str(REPO / "tools" / "make_student.py"), "--filled", str(tmp_path / "submitted" / "alice" / "a1"),
                 str(src))
    assert filled.returncode == 0, filled.stderr[-3000:]
    graded = run("-m", "nbgrader", "autograde", "a1")
    assert graded.returncode == 0, graded.stderr[-3000:]
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        sub = gb.find_submission("a1", "alice")
        assert sub.max_score > 0 and sub.score == sub.max_score, f"autograde gave {sub.score} of {sub.max_score}"
