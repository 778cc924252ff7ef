"""Mode coverage on Stacked MNIST (1000 modes), as in VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

Each of a sample's three channels is classified as a digit by an MNIST classifier (the course's domain
classifier, `get_domain_classifier(mnist, ...)`), which gives its mode 100*d0 + 10*d1 + d2. The PacGAN protocol
(following VEEGAN) draws 26,000 samples, counts a mode as covered if at least one sample lands in it,
and reports KL(q || uniform) = sum_m q_m log(q_m / (1/1000)) over the modes with q_m > 0, where q is the
histogram of predicted modes: 0 for a perfectly even spread, log(1000) = 6.91 when every sample is one mode.
Real data does not reach KL 0: 26,000 samples over 1000 modes leave about 999 / (2 * 26,000) = 0.02 nats of
sampling noise, MNIST's digits are not exactly balanced, and the classifier misreads a few percent of digits.
26,000 real Stacked-MNIST samples (10k test split, the default-mode classifier) cover 1000 modes with KL 0.024-0.027.

The argmax always names a digit, even on a blotch, so a generator of noise "covers" modes too. With
`threshold=p`, a sample counts only where the classifier gives each of its three channels a probability of at
least p (a *confident* triple); the modes and the KL are then those of the confident samples, and `confident`
is their share. `threshold=0` (the default) is the papers' protocol: every sample counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_utils.data.base import to_tanh_range

MODES = 1000


@dataclass(frozen=True)
class StackedModes:
    """Modes covered (of 1000), KL(q || uniform) in nats, the counted samples per mode (1000,), the confident share."""

    modes: int
    kl: float
    counts: torch.Tensor
    confident: float = 1.0

    def as_row(self) -> dict[str, float]:
        return {"modes": self.modes, "KL": self.kl, "confident": self.confident}


@torch.no_grad()
def read_stacked(x: torch.Tensor, classifier: nn.Module, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """The mode 100*d0 + 10*d1 + d2 of each Stacked-MNIST image (N,) and its least sure channel's probability (N,).

    x is (N, 3, H, W), uint8 or in [-1, 1]; both results are on the CPU.
    """
    if x.ndim != 4 or x.shape[1] != 3 or len(x) == 0:
        raise ValueError(f"stacked_modes needs Stacked-MNIST images (N, 3, H, W) with N >= 1, got {tuple(x.shape)}.")
    param = next(classifier.parameters(), None)
    device = param.device if param is not None else x.device
    was_training = classifier.training
    classifier.eval()
    place = torch.tensor([100, 10, 1], device=device)
    modes, sure = [], []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].to(device)
        xb = to_tanh_range(xb) if xb.dtype == torch.uint8 else xb.float()
        B, _, H, W = xb.shape
        logits = classifier(xb.reshape(B * 3, 1, H, W))  # each channel is one grey digit
        if logits.shape != (B * 3, 10):
            raise ValueError(f"stacked_modes needs a 10-class digit classifier; it returned {tuple(logits.shape)} "
                             "logits. Use get_domain_classifier on MNIST.")
        p_max, digit = logits.float().softmax(1).max(1)  # (B·3,) each
        modes.append((digit.reshape(B, 3) * place).sum(1))  # (B,)
        sure.append(p_max.reshape(B, 3).amin(1))  # (B,)
    classifier.train(was_training)
    return torch.cat(modes).cpu(), torch.cat(sure).cpu()


def tally_modes(modes: torch.Tensor, sure: torch.Tensor, threshold: float = 0.0) -> StackedModes:
    """Modes covered and KL of read samples: modes (N,) and least channel probabilities (N,) from `read_stacked`."""
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold is a class probability in [0, 1), got {threshold}; 0 counts every sample.")
    if modes.shape != sure.shape or modes.ndim != 1 or len(modes) == 0:
        raise ValueError(f"tally_modes needs modes and probabilities of the same shape (N,), N >= 1; got "
                         f"{tuple(modes.shape)} and {tuple(sure.shape)}. Use read_stacked(x, classifier).")
    keep = sure >= threshold
    counts = torch.bincount(modes[keep].cpu(), minlength=MODES)  # (1000,)
    n = int(counts.sum())
    q = counts[counts > 0].double() / max(n, 1)
    kl = float((q * torch.log(q * MODES)).sum()) if n else float("nan")
    return StackedModes(int((counts > 0).sum()), kl, counts, n / len(modes))


def stacked_modes(x: torch.Tensor, classifier: nn.Module, batch: int = 500, threshold: float = 0.0) -> StackedModes:
    """Modes covered and KL to uniform of Stacked-MNIST images x (N, 3, H, W), uint8 or in [-1, 1].

    With threshold > 0, only the samples whose three channels all get a class probability >= threshold count.
    """
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold is a class probability in [0, 1), got {threshold}; 0 counts every sample.")
    return tally_modes(*read_stacked(x, classifier, batch), threshold=threshold)
