"""gan_utils.metrics.strokes: the lean of synthetic strokes at known angles, on both sides of the vertical."""

from __future__ import annotations

import math

import pytest
import torch

from gan_utils.metrics.strokes import lean_and_ink


def stroke(angle_deg: float, size: int = 28, length: float = 9.0, width: float = 1.2) -> torch.Tensor:
    """A straight stroke through the centre, leaning `angle_deg` from the vertical (top to the right if > 0)."""
    a = math.radians(angle_deg)
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64),
                            indexing="ij")
    c = (size - 1) / 2
    ux, uy = math.sin(a), -math.cos(a)             # along the stroke, upwards (rows grow downwards)
    along = (xs - c) * ux + (ys - c) * uy
    across = (xs - c) * uy - (ys - c) * ux
    ink = torch.exp(-0.5 * (across / width) ** 2) * (along.abs() <= length)
    return (ink * 2 - 1).view(1, 1, size, size)    # in [-1, 1]


@pytest.mark.parametrize("angle", [-30.0, -10.0, -3.0, 0.0, 3.0, 10.0, 30.0])
def test_lean_is_measured_from_the_vertical(angle: float) -> None:
    lean, ink = lean_and_ink(stroke(angle))
    assert lean.shape == (1,) and abs(lean.item() - angle) < 0.5
    assert 0 < ink.item() < 0.2


def test_small_leans_either_way_do_not_wrap() -> None:
    # From the horizontal, +-3 degrees from vertical read as +87 and -87: a 174-degree "change" for 6 degrees.
    left, right = lean_and_ink(torch.cat([stroke(-3.0), stroke(3.0)]))[0]
    assert abs((right - left).item() - 6.0) < 0.5


def test_lean_rejects_colour_images() -> None:
    with pytest.raises(ValueError, match="one-channel"):
        lean_and_ink(torch.zeros(2, 3, 28, 28))
