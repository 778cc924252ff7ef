"""The procedural voxel furniture: shapes, labels, determinism by seed, sizes."""

from __future__ import annotations

import pytest
import torch

from gan_utils.data.synthetic.voxels import FURNITURE_CLASSES, synthetic_furniture


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_and_labels(size: int) -> None:
    x, y = synthetic_furniture(24, size, seed=1)
    assert x.shape == (24, 1, size, size, size) and x.dtype == torch.uint8 and int(x.max()) == 1
    assert y.shape == (24,) and sorted(set(y.tolist())) == list(range(len(FURNITURE_CLASSES)))
    assert (x.flatten(1).sum(1) > 0).all()
    assert (x[:, 0, :, :, 0].flatten(1).sum(1) > 0).all()  # everything stands on the floor (z = 0)


def test_deterministic_by_seed() -> None:
    a, la = synthetic_furniture(16, 32, seed=3)
    b, lb = synthetic_furniture(16, 32, seed=3)
    c, _ = synthetic_furniture(16, 32, seed=4)
    assert torch.equal(a, b) and torch.equal(la, lb) and not torch.equal(a, c)


def test_shapes_vary_within_a_class() -> None:
    x, y = synthetic_furniture(40, 32, seed=0, classes=("chair",))
    assert (y == 0).all()
    assert len({tuple(g.flatten().nonzero().flatten()[:50].tolist()) for g in x}) > 30


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="choose from"):
        synthetic_furniture(4, classes=("bed",))
    with pytest.raises(ValueError, match="coarse"):
        synthetic_furniture(4, size=8)
