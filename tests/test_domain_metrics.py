"""Domain FID / IS against hand-computed and numpy/scipy values; the domain classifier, its training and cache."""

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn

import gan_utils.metrics.classifier as classifier_mod
import gan_utils.metrics.fid_is as fid_is_mod
from gan_utils.data.base import ImageSet
from gan_utils.metrics import (
    DomainClassifier,
    StandardFIDUnavailable,
    conditional_accuracy,
    confident_fraction,
    domain_fid,
    domain_inception_score,
    get_domain_classifier,
    standard_fid,
    standard_fid_available,
    train_classifier,
)
from gan_utils.metrics.classifier import classifier_cache_path
from gan_utils.metrics.fid_is import classifier_features, fid_from_features

torch.set_num_threads(1)  # the test machine's two cores are shared


class OneHotStub(nn.Module):
    """A 'perfect' classifier: reads the class from pixel (0, 0, 0) and answers with huge logits."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.n_classes = n_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1e4 * F.one_hot(x[:, 0, 0, 0].round().long(), self.n_classes).float()


class LogitStub(nn.Module):
    """Hands back the 'image' itself as logits: images are (N, K, 1, 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


def class_images(classes: torch.Tensor) -> torch.Tensor:
    x = torch.zeros(len(classes), 1, 2, 2)
    x[:, 0, 0, 0] = classes.float()
    return x


def blobs(n: int, seed: int) -> torch.Tensor:
    """Smooth random images in [-1, 1], (n, 1, 28, 28)."""
    g = torch.Generator().manual_seed(seed)
    return torch.tanh(2 * F.interpolate(torch.randn(n, 1, 7, 7, generator=g), size=28, mode="bilinear"))


def bright_dark(n: int, channels: int = 1, size: int = 28, source: str = "synthetic", seed: int = 0) -> ImageSet:
    """Two trivially separable classes: dark noise (0..69) and bright noise (185..254)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randint(0, 70, (n, channels, size, size), generator=g, dtype=torch.uint8)
    x = torch.where(y[:, None, None, None].bool(), x + 185, x)
    return ImageSet(x, y, "brightdark", source, "test set", ("dark", "bright"))


@pytest.fixture(scope="module")
def clf() -> DomainClassifier:
    torch.manual_seed(0)
    return DomainClassifier(1, 10, 28).eval()


# -- Inception score --------------------------------------------------------------------------------

def numpy_is(p: np.ndarray, splits: int) -> tuple[float, float]:
    """The IS as in Salimans et al.'s code, with torchmetrics' n-1 standard deviation."""
    scores = []
    for part in np.array_split(p, splits):
        kl = part * (np.log(part) - np.log(part.mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    return float(np.mean(scores)), float(np.std(scores, ddof=1)) if splits > 1 else 0.0


def test_is_of_perfect_classifier_on_balanced_set_is_number_of_classes() -> None:
    x = class_images(torch.arange(500) % 10)
    mean, std = domain_inception_score(x, OneHotStub(10), splits=1)
    assert mean == pytest.approx(10.0, abs=1e-9) and std == 0.0


def test_is_of_constant_prediction_is_one() -> None:
    # exact zeros in p(y) made torchmetrics return NaN here; the log-probability floor prevents it
    mean, std = domain_inception_score(class_images(torch.full((200,), 3)), OneHotStub(10), splits=10)
    assert mean == pytest.approx(1.0, abs=1e-9) and std == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("splits", [1, 5])
def test_is_matches_numpy(splits: int) -> None:
    logits = 3 * torch.randn(200, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    perm = torch.randperm(200, generator=torch.Generator().manual_seed(0))  # the split shuffle, seed 0
    ref = numpy_is(torch.softmax(logits[perm], 1).numpy(), splits)
    ours = domain_inception_score(logits[:, :, None, None], LogitStub(), splits=splits, seed=0)
    # both are float64 from the same logits; only summation order differs
    assert ours == pytest.approx(ref, rel=1e-10)


def test_is_keeps_the_global_rng_and_drops_the_remainder() -> None:
    logits = torch.randn(23, 4, 1, 1, generator=torch.Generator().manual_seed(2))
    state = torch.get_rng_state()
    a = domain_inception_score(logits, LogitStub(), splits=5)
    assert torch.equal(state, torch.get_rng_state())
    assert a == domain_inception_score(logits[:20], LogitStub(), splits=5)  # 23 images: 3 dropped, 5 splits of 4
    with pytest.raises(ValueError, match="splits"):
        domain_inception_score(logits[:3], LogitStub(), splits=5)


# -- FID --------------------------------------------------------------------------------------------

def numpy_fid(f1: np.ndarray, f2: np.ndarray) -> float:
    m1, m2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # dead ReLU units; see the tolerance below
def test_fid_matches_numpy_scipy(clf: DomainClassifier) -> None:
    real, fake = blobs(400, 1), blobs(400, 2)
    f_real, f_fake = classifier_features(real, clf).double(), classifier_features(fake, clf).double()
    assert f_real.shape == (400, 128)
    ref = numpy_fid(f_real.numpy(), f_fake.numpy())
    ours = domain_fid(real, fake, clf)
    assert ours == fid_from_features(f_real, f_fake)
    # Tolerance: both sides are float64 on identical features, but torchmetrics takes the trace of the matrix
    # square root as sum(sqrt(eigvals(S1 S2))) while scipy uses sqrtm, and dead ReLU units make S1 S2 singular.
    # An eigenvalue near 0 computed with error eps*|S|^2 has a square root off by up to sqrt(eps)*|S| ~ 1.5e-8
    # |S|, so over 128 dimensions the two may differ by ~1e-6 of the covariances' scale (measured: 3e-14).
    scale = np.trace(np.cov(f_real.numpy(), rowvar=False)) + np.trace(np.cov(f_fake.numpy(), rowvar=False))
    assert ours == pytest.approx(ref, abs=1e-6 * scale)
    assert ours > 1e-3 * scale  # and the two different sets are measurably apart


def test_fid_of_a_set_against_itself_is_zero(clf: DomainClassifier) -> None:
    x = blobs(300, 3)
    scale = 2 * float(classifier_features(x, clf).double().var(0).sum())
    assert abs(domain_fid(x, x, clf)) < 1e-6 * scale  # same sqrt(eps) argument as above


def test_fid_grows_with_noise(clf: DomainClassifier) -> None:
    real, base = blobs(300, 4), blobs(300, 5)
    noise = torch.randn(base.shape, generator=torch.Generator().manual_seed(6))
    fids = [domain_fid(real, (base + s * noise).clamp(-1, 1), clf) for s in (0.0, 0.1, 0.2, 0.4, 0.8)]
    assert all(a < b for a, b in zip(fids, fids[1:], strict=False)), fids


def test_fid_accepts_uint8_images(clf: DomainClassifier) -> None:
    x = ((blobs(200, 7) + 1) * 127.5).round().to(torch.uint8)
    scale = 2 * float(classifier_features(x, clf).double().var(0).sum())
    assert abs(domain_fid(x, x.float() / 127.5 - 1, clf)) < 1e-6 * scale


# -- accuracy-type measures -------------------------------------------------------------------------

def test_conditional_accuracy_on_a_stub() -> None:
    intended = torch.arange(20) % 10
    shown = intended.clone()
    shown[:5] = (shown[:5] + 1) % 10  # 5 of 20 come out as the wrong class
    assert conditional_accuracy(class_images(shown), intended, OneHotStub(10)) == pytest.approx(0.75)


def test_confident_fraction() -> None:
    logits = torch.tensor([[10.0, 0.0], [0.0, 10.0], [0.1, 0.0], [1.0, 0.0]])  # p_max: ~1, ~1, 0.52, 0.73
    assert confident_fraction(logits[:, :, None, None], LogitStub(), threshold=0.9) == pytest.approx(0.5)
    assert confident_fraction(logits[:, :, None, None], LogitStub(), threshold=0.7) == pytest.approx(0.75)


def test_metrics_restore_the_classifier_mode(clf: DomainClassifier) -> None:
    clf.train()
    domain_fid(blobs(10, 8), blobs(10, 9), clf)
    assert clf.training
    clf.eval()


# -- the classifier -----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_classifier_shapes(shape: tuple[int, int, int]) -> None:
    model = DomainClassifier(shape[0], 10, shape[1])
    x = torch.rand(5, *shape) * 2 - 1
    assert model.features(x).shape == (5, 128)
    assert model(x).shape == (5, 10)
    with pytest.raises(ValueError, match="get_domain_classifier"):
        model(torch.zeros(5, 2, shape[1], shape[1]))


@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_train_classifier_learns_bright_vs_dark(channels: int, size: int) -> None:
    train, test = bright_dark(240, channels, size).split(80, seed=0)
    model, acc = train_classifier(train, test, epochs=1, batch=32, progress=False)  # 5 steps
    assert acc > 0.9
    assert not model.training


def test_get_domain_classifier_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = bright_dark(200)
    model, acc = get_domain_classifier(data, tmp_path, epochs=1, n_holdout=50)
    assert "trained" in capsys.readouterr().out
    path = classifier_cache_path(data, tmp_path, 1)
    assert path.exists() and path.name == "classifier_brightdark_synthetic_200_1e_s0.pt"

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached classifier should have been loaded, not retrained")

    monkeypatch.setattr(classifier_mod, "train_classifier", no_training)
    model2, acc2 = get_domain_classifier(data, tmp_path, epochs=1, n_holdout=50)
    out = capsys.readouterr().out
    assert "loaded" in out and f"{acc:.1%}" in out
    assert acc2 == acc and not model2.training
    for a, b in zip(model.state_dict().values(), model2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # the real data set of the same name and size has its own file
    real_path = classifier_cache_path(bright_dark(200, source="real"), tmp_path, 1)
    assert real_path != path and "_real_" in real_path.name
    with pytest.raises(AssertionError, match="retrained"):
        get_domain_classifier(bright_dark(200, source="real"), tmp_path, epochs=1, n_holdout=50)


# -- the standard FID -----------------------------------------------------------------------------------

def test_standard_fid_says_what_to_use_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fid_is_mod, "_has_torch_fidelity", lambda: False)
    assert not standard_fid_available()
    with pytest.raises(StandardFIDUnavailable, match="torch-fidelity.*domain_fid"):
        standard_fid(blobs(4, 0), blobs(4, 1))


def test_holdout_shrinks_for_small_sets(tmp_path: Path) -> None:
    from gan_utils.metrics.classifier import get_domain_classifier

    images = torch.randint(0, 256, (50, 1, 28, 28), dtype=torch.uint8)
    data = ImageSet(images, torch.arange(50) % 2, "tiny", "synthetic", "test", ("a", "b"))
    _, acc = get_domain_classifier(data, tmp_path, epochs=1, n_holdout=2000)
    assert 0.0 <= acc <= 1.0
