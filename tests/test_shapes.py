"""The coloured-shapes stand-in for CIFAR-10: deterministic, balanced, cached, and not trivial."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_utils.data.synthetic.shapes import SHAPE_CLASSES, VERSION, synthetic_shapes


@pytest.fixture(scope="module")
def shapes() -> tuple[torch.Tensor, torch.Tensor]:
    return synthetic_shapes(2000, seed=0)


def test_shapes_dtypes_and_range(shapes: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = shapes
    assert x.shape == (2000, 3, 32, 32) and x.dtype == torch.uint8
    assert y.shape == (2000,) and y.dtype == torch.int64
    assert len(SHAPE_CLASSES) == 10 and int(y.min()) == 0 and int(y.max()) == 9
    assert int(x.min()) < 10 and int(x.max()) > 245  # uses the full range
    assert x.float().std() > 40


def test_labels_are_balanced_and_shuffled(shapes: tuple[torch.Tensor, torch.Tensor]) -> None:
    _, y = shapes
    assert torch.bincount(y, minlength=10).tolist() == [200] * 10
    assert not torch.equal(y, torch.sort(y).values)


def test_same_seed_same_data_other_seed_other_data() -> None:
    x1, y1 = synthetic_shapes(64, seed=3)
    x2, y2 = synthetic_shapes(64, seed=3)
    x3, _ = synthetic_shapes(64, seed=4)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_global_rng_is_untouched() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    synthetic_shapes(20, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_cache_round_trip(tmp_path: Path) -> None:
    x, y = synthetic_shapes(30, seed=1, cache_dir=tmp_path)
    path = tmp_path / f"synthetic_shapes_30_1_v{VERSION}.npz"
    assert path.exists() and not list(tmp_path.glob("*.tmp"))
    x2, y2 = synthetic_shapes(30, seed=1, cache_dir=tmp_path)
    assert torch.equal(x, x2) and torch.equal(y, y2) and y2.dtype == torch.int64
    path.write_bytes(b"truncated")  # a broken cache is regenerated, not trusted
    x3, _ = synthetic_shapes(30, seed=1, cache_dir=tmp_path)
    assert torch.equal(x, x3)


def test_cache_is_read_back_not_regenerated(tmp_path: Path) -> None:
    import numpy as np

    synthetic_shapes(10, seed=0, cache_dir=tmp_path)
    path = tmp_path / f"synthetic_shapes_10_0_v{VERSION}.npz"
    marker = np.zeros((10, 3, 32, 32), np.uint8)
    np.savez_compressed(path, x=marker, y=np.arange(10))
    x, y = synthetic_shapes(10, seed=0, cache_dir=tmp_path)
    assert int(x.sum()) == 0 and y.tolist() == list(range(10))


def test_empty_and_negative() -> None:
    x, y = synthetic_shapes(0)
    assert x.shape == (0, 3, 32, 32) and y.shape == (0,)
    with pytest.raises(ValueError, match="non-negative"):
        synthetic_shapes(-1)


def test_classes_differ(shapes: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = shapes
    xf = x.float() / 255
    # Per-class mean images differ: position and colour average out, shape and texture statistics do not.
    means = torch.stack([xf[y == k].mean(0) for k in range(10)]).flatten(1)
    gaps = torch.cdist(means, means) + torch.eye(10) * 1e9
    assert gaps.min() > 0.5
    # So does the mean edge energy (a texture statistic): stripes and checkers are busier than a disc.
    edges = (xf[:, :, :, 1:] - xf[:, :, :, :-1]).abs().mean((1, 2, 3))
    per_class = torch.stack([edges[y == k].mean() for k in range(10)])
    assert per_class[SHAPE_CLASSES.index("checker")] > 1.5 * per_class[SHAPE_CLASSES.index("disc")]
    assert per_class[SHAPE_CLASSES.index("stripes")] > 1.5 * per_class[SHAPE_CLASSES.index("disc")]


def test_each_class_varies(shapes: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = shapes
    xf = x.float() / 255
    for k in range(10):
        xk = xf[y == k]
        assert xk.std(0).mean() > 0.15, SHAPE_CLASSES[k]  # per-pixel spread within the class
        d = torch.cdist(xk[:50].flatten(1), xk[:50].flatten(1)) + torch.eye(50) * 1e9
        assert d.min() > 1.0, SHAPE_CLASSES[k]  # no near-duplicates
