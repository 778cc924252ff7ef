"""FID and Inception score on a DOMAIN classifier, plus the accuracy of conditional samples.

These are *domain* versions of the two metrics. The papers compute them with an Inception-v3 network trained on
ImageNet: FID on its 2048-d pool features, IS on its 1008 class probabilities. Here the features are the 128-d
penultimate layer, and the probabilities the softmax, of a small classifier trained on the data set itself
(`gan_utils.metrics.classifier`). On 28×28 digits that yardstick is meaningful where ImageNet's is not, but
the numbers are on a different scale: never put them beside the Inception numbers in a paper. Compare them
only with each other, computed with the same classifier and the same numbers of images (FID is biased
upwards for small samples).

- FID fits a Gaussian to the features of real and of generated images and measures the Fréchet distance
  between the two: ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)). Lower is better; 0 means the same
  mean and covariance.
- IS = exp(E_x KL(p(y|x) || p(y))). It needs a classifier because it scores two things that only class
  predictions can show: each sample should be *confidently* one class (p(y|x) peaked) and the samples together
  should be *diverse* across classes (the marginal p(y) flat). It ranges from 1 (every sample gets the same
  prediction) to the number of classes (confident, and balanced over all classes).

Both are computed with torchmetrics (`FrechetInceptionDistance`, `InceptionScore`) fed with features that
this module computes first. The standard Inception FID is available through `standard_fid` only where
torch-fidelity and its weights are present.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore

from gan_utils.network import network_available

# log p(y|x) is floored here: a float softmax of very confident logits gives exact zeros, and torchmetrics'
# IS then computes 0 * log(0 / 0) = NaN. The floor changes the score by less than 1e-18.
LOG_P_FLOOR = -50.0

INCEPTION_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"  # the file torch-fidelity downloads


class StandardFIDUnavailable(RuntimeError):
    """The Inception network behind the standard FID cannot be had here."""


class _Precomputed(nn.Identity):
    """torchmetrics' feature network slot, filled with features computed beforehand."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        # without this attribute torchmetrics' FID infers the size from a dummy (1, 3, 299, 299) forward pass
        self.num_features = num_features


def _device_of(model: nn.Module) -> torch.device:
    t = next(model.parameters(), None)
    if t is None:
        t = next(model.buffers(), None)
    return t.device if t is not None else torch.device("cpu")


def _as_float(x: Tensor) -> Tensor:
    # uint8 images (an ImageSet's storage) are mapped to [-1, 1] like ImageSet.to_float
    return x.float().div(127.5).sub(1.0) if x.dtype == torch.uint8 else x


@torch.no_grad()
def _apply(classifier: nn.Module, x: Tensor, fn: Callable[[Tensor], Tensor], batch: int) -> Tensor:
    """fn over `x` in batches, on the classifier's device and in eval mode (its mode is restored after)."""
    if len(x) == 0:
        raise ValueError("No images given.")
    device = _device_of(classifier)
    was_training = classifier.training
    classifier.eval()
    try:
        return torch.cat([fn(_as_float(x[i:i + batch]).to(device)) for i in range(0, len(x), batch)])
    finally:
        classifier.train(was_training)


def classifier_features(x: Tensor, classifier: nn.Module, batch: int = 500) -> Tensor:
    """The classifier's penultimate features (N, d) of images in [-1, 1]."""
    return _apply(classifier, x, classifier.features, batch)


def classifier_log_probs(x: Tensor, classifier: nn.Module, batch: int = 500) -> Tensor:
    """log p(y|x) (N, n_classes) in float64 on the CPU, floored at LOG_P_FLOOR."""
    # float64 only on the CPU: MPS has none, and the logits are small next to the images that made them.
    return _apply(classifier, x, lambda b: classifier(b).cpu().double().log_softmax(1).clamp_min(LOG_P_FLOOR), batch)


def fid_from_features(f_real: Tensor, f_fake: Tensor) -> float:
    """FID between two sets of features (N, d), via torchmetrics, in float64 on the CPU."""
    if len(f_real) < 2 or len(f_fake) < 2:
        raise ValueError(f"FID needs at least 2 images on each side, got {len(f_real)} and {len(f_fake)}.")
    # torchmetrics keeps float64 sums, which MPS cannot hold; (N, d) features are cheap to move.
    metric = FrechetInceptionDistance(feature=_Precomputed(f_real.shape[1]))
    metric.update(f_real.to("cpu", torch.float64), real=True)
    metric.update(f_fake.to("cpu", torch.float64), real=False)
    return float(metric.compute())


def domain_fid(real: Tensor, fake: Tensor, classifier: nn.Module, batch: int = 500) -> float:
    """FID between real and generated images in [-1, 1], on the domain classifier's penultimate features."""
    return fid_from_features(classifier_features(real, classifier, batch), classifier_features(fake, classifier, batch))


def inception_score_from_log_probs(log_p: Tensor, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """IS (mean, std over `splits` random equal parts) of log class probabilities (N, n_classes), via torchmetrics."""
    if splits < 1 or len(log_p) < splits:
        raise ValueError(f"The IS needs splits >= 1 and at least that many images; got splits={splits}, "
                         f"{len(log_p)} images.")
    n = len(log_p) - len(log_p) % splits  # torch.chunk would otherwise make unequal, and maybe fewer, splits
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        metric = InceptionScore(feature=_Precomputed(log_p.shape[1]), splits=splits)  # normalize must stay False
    metric.update(log_p[:n].cpu())  # its statistics stay on the CPU, as FID's do
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        torch.manual_seed(seed)  # torchmetrics shuffles with the global RNG; fixed here, and the caller's is kept
        warnings.filterwarnings("ignore", message=".*degrees of freedom.*")
        mean, std = metric.compute()
    # one split has no spread; torchmetrics' std (n-1 estimator) is NaN there
    return float(mean), (float(std) if splits > 1 else 0.0)


def domain_inception_score(fake: Tensor, classifier: nn.Module, splits: int = 10, batch: int = 500,
                           seed: int = 0) -> tuple[float, float]:
    """Inception score (mean, std over splits) of generated images on the domain classifier's softmax."""
    return inception_score_from_log_probs(classifier_log_probs(fake, classifier, batch), splits, seed)


def conditional_accuracy(fake: Tensor, labels: Tensor, classifier: nn.Module, batch: int = 500) -> float:
    """Fraction of conditional samples that the classifier assigns to the label they were generated for."""
    if len(fake) != len(labels):
        raise ValueError(f"{len(fake)} images but {len(labels)} labels.")
    pred = _apply(classifier, fake, lambda b: classifier(b).argmax(1), batch)
    return float((pred == labels.to(pred.device)).float().mean())


def confident_fraction(fake: Tensor, classifier: nn.Module, threshold: float = 0.9, batch: int = 500) -> float:
    """Fraction of samples whose top class probability exceeds `threshold` (a proxy for recognisable samples)."""
    top = _apply(classifier, fake, lambda b: classifier(b).softmax(1).amax(1), batch)
    return float((top > threshold).float().mean())


def _has_torch_fidelity() -> bool:
    return importlib.util.find_spec("torch_fidelity") is not None


def _standard_fid_problem() -> str | None:
    if not _has_torch_fidelity():
        return "torch-fidelity, which holds the Inception network, is not installed (pip install torch-fidelity)"
    weights = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS
    if not weights.exists() and not network_available("github.com"):
        return f"its Inception weights are not in {weights.parent} and cannot be downloaded (offline)"
    return None


def standard_fid_available() -> bool:
    """True if the standard (Inception-v3, torch-fidelity weights) FID can be computed here."""
    return _standard_fid_problem() is None


def _to_inception_uint8(x: Tensor) -> Tensor:
    if x.dtype != torch.uint8:
        x = ((x.float() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x  # grey to RGB


def _inception_network() -> nn.Module:
    """torch-fidelity's Inception-v3 as torchmetrics' FID builds it: uint8 images -> 2048-d pool features."""
    return FrechetInceptionDistance(feature=2048, normalize=False).inception


def standard_fid(real: Tensor, fake: Tensor, batch: int = 100) -> float:
    """The papers' FID (Inception-v3 pool features, images resized to 299×299) of images in [-1, 1]."""
    problem = _standard_fid_problem()
    if problem is not None:
        raise StandardFIDUnavailable(
            f"The standard Inception FID cannot be computed here: {problem}. The course reports "
            "domain_fid(real, fake, classifier) instead, on its own scale (not comparable with papers' FIDs)."
        )
    # The network runs on the images' device; the float64 sums of its features stay on the CPU (MPS has none).
    inception = _inception_network().to(real.device)
    metric = FrechetInceptionDistance(feature=_Precomputed(2048))
    with torch.no_grad():
        for imgs, is_real in ((real, True), (fake, False)):
            for i in range(0, len(imgs), batch):
                features = inception(_to_inception_uint8(imgs[i:i + batch].to(real.device)))  # (B, 2048)
                metric.update(features.cpu(), real=is_real)
    return float(metric.compute())
