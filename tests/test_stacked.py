import math
from pathlib import Path

import pytest
import torch
from torch import nn

from gan_utils.data import DATASETS, load_dataset
from gan_utils.data.stacked import stacked_mnist
from gan_utils.metrics.classifier import DomainClassifier
from gan_utils.metrics.stacked import StackedModes, read_stacked, stacked_modes, tally_modes
from tests.conftest import make_mnist

torch.set_num_threads(1)

LEVELS = torch.linspace(-1, 1, 10)  # digit d is drawn as a flat image of intensity LEVELS[d]


def flat_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """Ten fake digits (10, 1, 28, 28) in [-1, 1], whose intensity is their label, and the labels 0-9."""
    return LEVELS[:, None, None, None].expand(10, 1, 28, 28).clone(), torch.arange(10)


class IntensityClassifier(nn.Module):
    """A stand-in MNIST classifier: it reads the digit off the image's mean intensity."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1:] == (1, 28, 28) and x.dtype == torch.float32
        return -(x.mean((1, 2, 3))[:, None] - LEVELS) ** 2  # (B, 10)


def triples(modes: torch.Tensor) -> torch.Tensor:
    """The stacked images (B, 3, 28, 28) of the given modes."""
    x, _ = flat_digits()
    digits = torch.stack([modes // 100, modes // 10 % 10, modes % 10], 1)  # (B, 3)
    return x[digits, 0]


def test_every_triple_once_covers_all_modes_with_kl_zero() -> None:
    s = stacked_modes(triples(torch.arange(1000).repeat(2)), IntensityClassifier(), batch=300)
    assert isinstance(s, StackedModes) and s.modes == 1000 and s.kl == pytest.approx(0.0, abs=1e-9)
    assert s.counts.shape == (1000,) and (s.counts == 2).all()


def test_one_repeated_triple_is_one_mode_with_kl_log_1000() -> None:
    s = stacked_modes(triples(torch.full((50,), 427)), IntensityClassifier())
    assert s.modes == 1 and s.kl == pytest.approx(math.log(1000)) and s.counts[427] == 50


class FixedLogits(nn.Module):
    """A stand-in classifier that returns the same given logits (B·3, 10) for every batch of B·3 channels."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits[: len(x)]


def test_threshold_counts_only_confident_triples() -> None:
    # Channel logits with a known top probability: [L, 0, ..., 0] gives p = e^L / (e^L + 9).
    sure, unsure = math.log(9 * 0.95 / 0.05), math.log(9 * 0.6 / 0.4)   # p = 0.95 and p = 0.6
    rows = torch.zeros(4 * 3, 10)
    digits = [[1, 2, 3], [4, 5, 6], [1, 2, 3], [7, 8, 9]]                 # modes 123, 456, 123, 789
    tops = [[sure] * 3, [sure, unsure, sure], [sure] * 3, [unsure] * 3]
    for i, (ds, ts) in enumerate(zip(digits, tops, strict=True)):
        for c, (d, t) in enumerate(zip(ds, ts, strict=True)):
            rows[3 * i + c, d] = t
    x = torch.zeros(4, 3, 28, 28)
    every = stacked_modes(x, FixedLogits(rows))
    assert every.modes == 3 and every.confident == 1.0 and every.counts[[123, 456, 789]].tolist() == [2, 1, 1]
    half = stacked_modes(x, FixedLogits(rows), threshold=0.5)
    assert half.modes == 3 and half.confident == 1.0
    s = stacked_modes(x, FixedLogits(rows), threshold=0.9)               # only the two 123 samples are sure
    assert s.modes == 1 and s.confident == 0.5 and s.counts[123] == 2 and int(s.counts.sum()) == 2
    assert s.kl == pytest.approx(math.log(1000))                         # all counted mass on one mode
    none = stacked_modes(x, FixedLogits(rows), threshold=0.99)
    assert none.modes == 0 and none.confident == 0.0 and math.isnan(none.kl)
    assert s.as_row() == {"modes": 1, "KL": s.kl, "confident": 0.5}
    modes, sure = read_stacked(x, FixedLogits(rows))
    assert modes.tolist() == [123, 456, 123, 789] and sure.tolist() == pytest.approx([0.95, 0.6, 0.95, 0.6], abs=1e-5)
    t = tally_modes(modes, sure, 0.9)
    assert (t.modes, t.kl, t.confident) == (s.modes, s.kl, s.confident) and torch.equal(t.counts, s.counts)
    assert torch.equal(tally_modes(modes, sure).counts, every.counts)
    with pytest.raises(ValueError, match="same shape"):
        tally_modes(modes, sure[:3])
    with pytest.raises(ValueError, match=r"threshold is a class probability in \[0, 1\)"):
        stacked_modes(x, FixedLogits(rows), threshold=1.0)


def test_a_fixed_third_channel_covers_at_most_100_modes() -> None:
    x, y = flat_digits()
    images, modes = stacked_mnist(x, y, 3000, seed=1)
    images[:, 2] = x[7, 0]
    s = stacked_modes(images, IntensityClassifier())
    assert 90 <= s.modes <= 100 and set(s.counts.nonzero().squeeze(1).remainder(10).tolist()) == {7}
    assert s.kl >= math.log(10) - 1e-6  # at best uniform over 100 of the 1000 modes


def test_stacked_mnist_shapes_dtypes_and_labels() -> None:
    x, y = flat_digits()
    images, modes = stacked_mnist(x, y, 500, seed=0)
    assert images.shape == (500, 3, 28, 28) and images.dtype == x.dtype and modes.dtype == torch.int64
    assert torch.equal(stacked_modes(images, IntensityClassifier()).counts, torch.bincount(modes, minlength=1000))
    again, modes_again = stacked_mnist(x, y, 500, seed=0)
    assert torch.equal(again, images) and torch.equal(modes_again, modes)
    assert not torch.equal(stacked_mnist(x, y, 500, seed=1)[1], modes)
    # uint8 digits stay uint8, and a channel is one whole digit image of the right label
    x8 = (torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    y8 = torch.arange(20) % 10
    images8, modes8 = stacked_mnist(x8, y8, 40)
    assert images8.dtype == torch.uint8
    for img, m in zip(images8[:5], modes8[:5], strict=True):
        for c, d in enumerate((int(m) // 100, int(m) // 10 % 10, int(m) % 10)):
            matches = (x8[:, 0] == img[c]).flatten(1).all(1).nonzero().squeeze(1)
            assert len(matches) == 1 and y8[matches[0]] == d


def test_the_course_classifier_and_uint8_input_are_accepted() -> None:
    x8 = (torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    images, _ = stacked_mnist(x8, torch.arange(20) % 10, 30)
    torch.manual_seed(0)
    clf = DomainClassifier().train()  # untrained: only the plumbing is checked
    s = stacked_modes(images, clf, batch=7)
    assert int(s.counts.sum()) == 30 and 1 <= s.modes <= 30 and clf.training  # its mode is restored
    assert torch.equal(s.counts, stacked_modes(images, clf, batch=500).counts)


def test_registered_loader(tmp_path: Path) -> None:
    make_mnist(tmp_path, n=20)
    assert "stackedmnist" in DATASETS
    data = load_dataset("Stacked-MNIST", root=tmp_path, source="real", n=30, verbose=False)
    assert data.shape == (3, 28, 28) and len(data) == 30 and data.source == "real" and len(data.classes) == 1000
    assert data.images.dtype == torch.uint8 and int(data.labels.max()) <= 999


def test_bad_input_gets_a_clear_error() -> None:
    x, y = flat_digits()
    with pytest.raises(ValueError, match=r"single-channel digit set \(N, 1, H, W\)"):
        stacked_mnist(x[:, 0], y, 10)
    with pytest.raises(ValueError, match="single-channel"):
        stacked_mnist(x.repeat(1, 3, 1, 1), y, 10)
    with pytest.raises(ValueError, match="one label per image"):
        stacked_mnist(x, y[:5], 10)
    with pytest.raises(ValueError, match="labels 0-9"):
        stacked_mnist(x, y + 1, 10)
    with pytest.raises(ValueError, match="at least one"):
        stacked_mnist(x, y, 0)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        stacked_modes(x, IntensityClassifier())
    with pytest.raises(ValueError, match="10-class"):
        stacked_modes(triples(torch.arange(5)), DomainClassifier(n_classes=12))
