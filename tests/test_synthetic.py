"""Tests for the synthetic stand-ins: the PacGAN 2D mixtures and the MNIST-like digits."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from gan_utils.data.synthetic import Mixture2D, grid25, ring8, synthetic_digits
from gan_utils.data.synthetic import digits as digits_module
from gan_utils.data.synthetic.digits import VERSION

N = 200


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    return synthetic_digits(N, seed=0)


# --------------------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_range(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = digits
    assert x.shape == (N, 1, 28, 28) and x.dtype == torch.uint8
    assert y.shape == (N,) and y.dtype == torch.int64
    assert x.min() == 0 and x.max() == 255
    assert y.min() == 0 and y.max() == 9


def test_digits_labels_balanced(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    _, y = digits
    assert torch.bincount(y, minlength=10).tolist() == [N // 10] * 10
    assert not torch.equal(y, torch.arange(N) % 10), "labels should come in random order"


def test_digits_look_like_mnist(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    """White digits on black, centred by centre of mass, larger side of the box about 20 px."""
    x, _ = digits
    img = x[:, 0].float()
    assert img.mean() < 60  # mostly black background (MNIST's mean is 33)
    assert img[:, :2].max() == 0 or img[:, :2].float().mean() < 1
    coord = torch.arange(28, dtype=torch.float32)
    mass = img.sum((1, 2))
    cy = (img.sum(2) * coord).sum(1) / mass
    cx = (img.sum(1) * coord).sum(1) / mass
    # the jitter moves centres by about half a pixel, as MNIST's own rounding does
    assert (cy - 13.5).abs().max() < 2.0 and (cx - 13.5).abs().max() < 2.0
    assert abs(cy.mean() - 13.5) < 0.25 and abs(cx.mean() - 13.5) < 0.25
    on = img > 127
    rows, cols = on.any(2), on.any(1)
    height = 28 - rows.int().argmax(1) - rows.flip(1).int().argmax(1)
    width = 28 - cols.int().argmax(1) - cols.flip(1).int().argmax(1)
    side = torch.maximum(height, width).float()
    assert 17 <= side.median() <= 21


def test_digits_deterministic_by_seed(digits: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, y = digits
    x2, y2 = synthetic_digits(N, seed=0)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, y3 = synthetic_digits(N, seed=1)
    assert not torch.equal(x, x3)
    assert not torch.equal(y, y3)


def test_digits_small_n() -> None:
    x, y = synthetic_digits(0)
    assert x.shape == (0, 1, 28, 28) and y.shape == (0,) and y.dtype == torch.int64
    _, y = synthetic_digits(7, seed=2)
    assert torch.bincount(y, minlength=10).max() == 1
    with pytest.raises(ValueError, match="non-negative"):
        synthetic_digits(-1)


def test_digits_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x, y = synthetic_digits(50, seed=3, cache_dir=tmp_path)
    path = tmp_path / f"synthetic_digits_50_3_v{VERSION}.npz"
    assert path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary files should be left behind"

    def no_generation(n: int, seed: int) -> None:
        raise AssertionError("the cached set should have been read, not regenerated")

    monkeypatch.setattr(digits_module, "_generate", no_generation)
    x2, y2 = synthetic_digits(50, seed=3, cache_dir=tmp_path)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert x2.dtype == torch.uint8 and y2.dtype == torch.int64


def test_digits_corrupt_cache_is_regenerated(tmp_path: Path) -> None:
    path = tmp_path / f"synthetic_digits_20_0_v{VERSION}.npz"
    path.write_bytes(b"not an npz file")
    x, y = synthetic_digits(20, seed=0, cache_dir=tmp_path)
    assert x.shape == (20, 1, 28, 28)
    x2, _ = synthetic_digits(20, seed=0, cache_dir=tmp_path)
    assert torch.equal(x, x2)


def test_digit_fonts_exist() -> None:
    font_dir = digits_module._font_dir()
    assert len(digits_module.DIGIT_FONTS) == 21
    assert all((font_dir / name).exists() for name in digits_module.DIGIT_FONTS)


# --------------------------------------------------------------------------- 2D mixtures


def test_ring8_matches_paper() -> None:
    m = ring8()
    assert isinstance(m, Mixture2D) and m.std == 0.01
    assert m.centers.shape == (8, 2) and m.centers.dtype == torch.float32
    angles = [2 * math.pi * k / 8 for k in range(8)]
    expected = torch.tensor([[math.cos(a), math.sin(a)] for a in angles])
    torch.testing.assert_close(m.centers, expected)
    torch.testing.assert_close(m.centers.norm(dim=1), torch.ones(8))


def test_grid25_matches_paper() -> None:
    m = grid25()
    assert isinstance(m, Mixture2D) and m.std == 0.05
    assert m.centers.shape == (25, 2) and m.centers.dtype == torch.float32
    got = {tuple(c) for c in m.centers.tolist()}
    assert got == {(float(a), float(b)) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}


@pytest.mark.parametrize("make", [ring8, grid25])
def test_mixture_samples_near_centres(make: type) -> None:
    m = make()
    x = m.sample(10_000, generator=torch.Generator().manual_seed(0))
    assert x.shape == (10_000, 2) and x.dtype == torch.float32
    dist, mode = torch.cdist(x, m.centers).min(dim=1)
    assert (dist < 4 * m.std).float().mean() > 0.99
    counts = torch.bincount(mode, minlength=len(m.centers)).float()
    assert counts.min() > 0.7 * counts.mean(), "modes should be drawn uniformly"
    # per-axis spread about the nearest centre is the mixture's std
    resid = x - m.centers[mode]
    assert abs(resid.std().item() - m.std) < 0.05 * m.std


def test_mixture_sample_deterministic_with_generator() -> None:
    m = grid25()
    a = m.sample(100, generator=torch.Generator().manual_seed(7))
    b = m.sample(100, generator=torch.Generator().manual_seed(7))
    c = m.sample(100, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_mixture_parameters_scale() -> None:
    m = ring8(radius=2.0, std=0.1)
    torch.testing.assert_close(m.centers.norm(dim=1), torch.full((8,), 2.0))
    assert m.std == 0.1
    assert grid25(spacing=1.0).centers.abs().max() == 2.0


# --------------------------------------------------------------------------- package layout


def test_package_reexports_each_stand_in() -> None:
    from gan_utils.data import synthetic
    from gan_utils.data.synthetic import digits, mixtures, shapes

    assert synthetic.ring8 is mixtures.ring8 and synthetic.Mixture2D is mixtures.Mixture2D
    assert synthetic.synthetic_digits is digits.synthetic_digits
    assert synthetic.synthetic_shapes is shapes.synthetic_shapes and synthetic.SHAPE_CLASSES is shapes.SHAPE_CLASSES
