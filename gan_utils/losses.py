"""The papers' losses, one small pure function each. D returns logits; sigmoid(logit) = D(x)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss_bce(d_real: torch.Tensor, d_fake: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """D's loss -[log D(x) + log(1 - D(G(z)))], from logits; real_label < 1 gives one-sided smoothing."""
    loss_real = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_label))
    loss_fake = F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    return loss_real + loss_fake


def g_loss_saturating(d_fake: torch.Tensor) -> torch.Tensor:
    """G's minimax loss log(1 - D(G(z))), which G minimises; its gradient vanishes when D wins."""
    # log(1 - sigmoid(a)) = -softplus(a), computed without forming 1 - sigmoid(a).
    return -F.softplus(d_fake).mean()


def g_loss_nonsaturating(d_fake: torch.Tensor) -> torch.Tensor:
    """G's non-saturating loss -log D(G(z)) (Goodfellow et al. 2014, section 3)."""
    return F.softplus(-d_fake).mean()
