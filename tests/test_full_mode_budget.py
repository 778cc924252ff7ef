"""Full mode fits the GPU it names: benchmarks/full_mode_budget.py's memory count, on the meta device, per notebook."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("full_mode_budget", ROOT / "benchmarks" / "full_mode_budget.py")
fmb = importlib.util.module_from_spec(_spec)
sys.modules["full_mode_budget"] = fmb
_spec.loader.exec_module(fmb)

# The notebooks whose full mode works on 256 px images, 64^3 voxels or 512x256 video: the ones that come near a
# 16 GB GPU. The others peak under 2.5 GiB (table in benchmarks/README.md); counting them too would double this
# file's time (about 12 s for these five on a 2-core CPU).
HEAVY = ("07", "09", "10", "11", "12")


def test_every_notebook_has_a_budget_spec() -> None:
    numbers = [p.name[:2] for p in fmb.notebook_sources()]
    assert numbers == sorted(fmb.SPECS), (
        f"benchmarks/full_mode_budget.py has specs for {sorted(fmb.SPECS)} but the notebooks are {numbers}; add a "
        "spec for the new notebook (its networks and step, as the others do)")
    for p in fmb.notebook_sources():
        assert fmb.read_sizes(p)  # every full entry parses without running the notebook


@pytest.mark.parametrize("number", HEAVY)
def test_full_mode_fits_a_16_gb_gpu(number: str) -> None:
    cost = fmb.budget(number, count_flops=False)
    peak = cost.peak / fmb.GiB
    assert peak <= fmb.BUDGET_GIB, (
        f"{cost.name}'s full mode needs ≈ {peak:.1f} GiB of GPU memory (counted on the meta device; the run "
        f"'{max(cost.runs, key=lambda r: r.peak).name}' peaks), over the {fmb.BUDGET_GIB:g} GiB that a 16 GB Colab "
        "T4 leaves. Shrink SIZES['full'] (batch, size or width) and keep the larger size as a documented option; "
        "`python benchmarks/full_mode_budget.py --notebook NN --set key=value` tries sizes.")


def test_tracker_counts_live_tensors_and_sees_them_freed() -> None:
    tracker = fmb.Tracker()
    with tracker:
        lin = torch.nn.Linear(1000, 1000, device=fmb.META)  # 4 MB of weights, each rounded up to 512 bytes
        weights = tracker.cur
        x = torch.empty(4000, 1000, device=fmb.META, requires_grad=True)  # 16 MB
        y = torch.relu(lin(x))  # 16 MB: the Linear's output is freed, the ReLU's is kept for the backward
        after_forward = tracker.cur
        y.sum().backward()
        del y
    assert weights == 4_000_256 + 4_096
    assert after_forward == weights + 2 * 16_000_000
    assert tracker.peak >= after_forward + 16_000_000  # both 16 MB outputs lived at once, inside the forward
    assert tracker.cur == 2 * weights + 2 * 16_000_000  # x, the weights and their gradients: y is gone
