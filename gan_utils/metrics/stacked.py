"""Mode coverage on Stacked MNIST (1000 modes), as in VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018).

Each of a sample's three channels is classified as a digit by an MNIST classifier (the course's domain
classifier, `get_domain_classifier(mnist, ...)`), which gives its mode 100*d0 + 10*d1 + d2. The PacGAN protocol
(following VEEGAN) draws 26,000 samples, counts a mode as covered if at least one sample lands in it,
and reports KL(q || uniform) = sum_m q_m log(q_m / (1/1000)) over the modes with q_m > 0, where q is the
histogram of predicted modes: 0 for a perfectly even spread, log(1000) = 6.91 when every sample is one mode.
Real data does not reach KL 0: 26,000 samples over 1000 modes leave about 999 / (2 * 26,000) = 0.02 nats of
sampling noise, MNIST's digits are not exactly balanced, and the classifier misreads a few percent of digits.
26,000 real Stacked-MNIST samples (10k test split, the default-mode classifier) cover 1000 modes with KL 0.024-0.027.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_utils.data.base import to_tanh_range

MODES = 1000


@dataclass(frozen=True)
class StackedModes:
    """Modes covered (of 1000), KL(q || uniform) in nats, and the samples per mode (1000,)."""

    modes: int
    kl: float
    counts: torch.Tensor

    def as_row(self) -> dict[str, float]:
        return {"modes": self.modes, "KL": self.kl}


@torch.no_grad()
def stacked_modes(x: torch.Tensor, classifier: nn.Module, batch: int = 500) -> StackedModes:
    """Modes covered and KL to uniform of Stacked-MNIST images x (N, 3, H, W), uint8 or in [-1, 1]."""
    if x.ndim != 4 or x.shape[1] != 3 or len(x) == 0:
        raise ValueError(f"stacked_modes needs Stacked-MNIST images (N, 3, H, W) with N >= 1, got {tuple(x.shape)}.")
    param = next(classifier.parameters(), None)
    device = param.device if param is not None else x.device
    was_training = classifier.training
    classifier.eval()
    place = torch.tensor([100, 10, 1], device=device)
    modes = []
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].to(device)
        xb = to_tanh_range(xb) if xb.dtype == torch.uint8 else xb.float()
        B, _, H, W = xb.shape
        logits = classifier(xb.reshape(B * 3, 1, H, W))  # each channel is one grey digit
        if logits.shape != (B * 3, 10):
            raise ValueError(f"stacked_modes needs a 10-class digit classifier; it returned {tuple(logits.shape)} "
                             "logits. Use get_domain_classifier on MNIST.")
        modes.append((logits.argmax(1).reshape(B, 3) * place).sum(1))  # (B,)
    classifier.train(was_training)
    counts = torch.bincount(torch.cat(modes), minlength=MODES).cpu()  # (1000,)
    q = counts[counts > 0].double() / len(x)
    kl = float((q * torch.log(q * MODES)).sum())
    return StackedModes(int((counts > 0).sum()), kl, counts)
