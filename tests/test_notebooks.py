"""Every notebook executes under nbval in fast mode (GAN_MODE=fast), as CI runs it, and writes only its own folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_fast_mode(notebook: Path, tmp_path: Path) -> None:
    # A fresh checkpoint folder per run: the training code runs every time, and no notebook finds another's model.
    ckpt_root = tmp_path / "checkpoints"
    tmp = tmp_path / "tmp"  # a graded run (GAN_GRADING=1) checkpoints into a fresh folder here instead
    tmp.mkdir()
    env = {**os.environ, "GAN_MODE": "fast", "MPLBACKEND": "Agg", "GAN_CKPT_DIR": str(ckpt_root), "TMPDIR": str(tmp)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-cell-timeout=600", str(notebook)],
        cwd=notebook.parent, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, (
        f"{notebook.name} failed under nbval:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    written = sorted(p.relative_to(root).as_posix() for root in [ckpt_root, *tmp.glob("gan-graded-*")]
                     for p in root.glob("*/*"))
    assert written in ([], [f"fast/{notebook.stem}"]), (
        f"{notebook.name} wrote checkpoints outside its own folder fast/{notebook.stem}: {written}")
