"""Refresh the outputs of a notebook's exercise cells only, without re-running it in default mode.

Usage: flock /tmp/torch.lock python tools/exercise_outputs.py notebooks/01_vanilla_gan.ipynb [...]

A copy of the notebook runs in fast mode on the offline stand-ins (seconds); the outputs of its nbgrader cells
(the solution cells and their check cells, which print verdicts, never numbers) are copied into the committed
notebook, and every other output stays as the default run left it. The notebook is then tidied and synced.
The run is graded (GAN_GRADING=1, hidden tests included): a solution that fails its check, or any cell that
raises, stops it with the error, and nothing is written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

TOOLS = Path(__file__).resolve().parent


def fast_run(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """The notebook executed in fast mode on the stand-ins, in its own folder, with throw-away checkpoints."""
    nb = nbformat.read(str(path), as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GAN_MODE": "fast", "GAN_DATA": "synthetic", "GAN_CKPT_DIR": tmp, "MPLBACKEND": "Agg",
               "GAN_GRADING": "1"}  # as a grader: a solution that fails its own check (hidden tests too) raises
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    return nb


def refresh(path: Path) -> int:
    """Copy the exercise cells' outputs of a fast run into the notebook; return how many cells were refreshed."""
    nb = nbformat.read(str(path), as_version=4)
    ran = fast_run(path)
    n = 0
    for cell, new in zip(nb.cells, ran.cells, strict=True):
        if cell.cell_type == "code" and "nbgrader" in cell.metadata:
            cell.outputs = new.outputs
            n += 1
    nbformat.write(nb, str(path))
    subprocess.run([sys.executable, str(TOOLS / "tidy_notebook.py"), str(path)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "jupytext", "--sync", "--quiet", str(path)], check=True)
    return n


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(f"{p}: refreshed the outputs of {refresh(Path(p).with_suffix('.ipynb'))} exercise cells")
