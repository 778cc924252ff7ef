"""Every notebook runs on a stand-in accelerator in fast mode, twice: trained, then resumed from its checkpoints.

CI has no GPU, and a learner's Colab GPU or Mac runs the very cells we run on the CPU. `standin_device` gives the
kernel a device with real numbers and GPU rules (see its docstring): a CPU tensor meeting a device tensor, a device
tensor handed to numpy or matplotlib, a CPU generator drawing for the device, and float64 on the device (MPS) all
raise. The second run finds the first run's checkpoints, as "run the cell again" and a teacher's pre-made
checkpoints do, so every resume and "already trained, just load" path also runs on the device.
Slow (each notebook executes twice); `make notebooks` runs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ENABLE = (f"import sys\nsys.path.insert(0, {str(REPO / 'tests')!r})\nimport standin_device\n"
          "standin_device.enable()")


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.output_type == "error":
                tb = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(o.traceback[-4:]))
                head = cell.source.splitlines()[0][:70] if cell.source else ""
                out.append(f"cell {i} ({head!r}): {o.ename}: {o.evalue[:300]}\n{tb[-1500:]}")
    return out


def _run(notebook: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(ENABLE))
    NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    return nb


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_resumes_on_a_gpu_like_device(notebook: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"GAN_MODE": "fast", "GAN_DEVICE": "standin", "GAN_DATA": "synthetic", "MPLBACKEND": "Agg",
                       "GAN_GRADING": "0",  # a graded run would checkpoint into a fresh folder and never resume
                       "GAN_CKPT_DIR": str(tmp_path / "checkpoints")}.items():
        monkeypatch.setenv(key, value)
    first = _run(notebook)
    errors = _errors(first)
    assert not errors, f"{notebook.name} on the stand-in device:\n" + "\n\n".join(errors[:3])
    assert "standin" in "".join(str(o.get("text", "")) for c in first.cells for o in c.get("outputs", [])), (
        "setup() did not report the stand-in device: the notebook ran on the CPU")
    again = _run(notebook)
    errors = _errors(again)
    assert not errors, f"{notebook.name} resumed on the stand-in device:\n" + "\n\n".join(errors[:3])
