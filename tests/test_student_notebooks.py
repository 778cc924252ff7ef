"""Every student copy runs in fast mode, as a grader would run it, and fails only where the learner has work to do.

Under a grader (GAN_GRADING=1, as nbgrader's NBGRADER_EXECUTION) an unanswered exercise raises. A student copy must
raise NotImplementedError in its exercise cells (nbgrader metadata) and nowhere else: no NameError from a stub,
no teaching cell that breaks, and no check cell that passes without an answer (a free point).
Slow (each notebook executes); `make notebooks` runs it beside tests/test_notebooks.py.
"""

from __future__ import annotations

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
