"""Salimans et al. 2016, "Improved Techniques for Training GANs": what the paper adds to notebook 03's DCGAN.

The paper's techniques are switches on a DCGAN, so this module extends `gan_utils.models.dcgan`. Its reusable
layers live in `nn/` (`nn.minibatch.MinibatchDiscrimination`, `nn.normalization.VirtualBatchNorm`), and its losses
in `losses.py` (`feature_matching`, `semi_supervised_d_loss`). Here: the D with a minibatch-discrimination head and
K class logits, historical averaging, and the surgery that gives a network virtual batch norm.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from gan_utils.models.dcgan import DCGANDiscriminator
from gan_utils.nn.minibatch import MinibatchDiscrimination
from gan_utils.nn.normalization import VirtualBatchNorm

__all__ = ["ImprovedDiscriminator", "HistoricalAverage", "replace_bn_with_vbn"]


class ImprovedDiscriminator(DCGANDiscriminator):
    """DCGAN's D with minibatch discrimination before the logit and/or K class logits for semi-supervised learning.

    With `minibatch_kernels > 0`, minibatch discrimination reads the globally pooled last-conv features (as in the
    official CIFAR code) and its o(x) joins the features before the logit. With `n_outputs = K > 1`, D returns
    (B, K) logits, the K real classes of the (K+1)-class D (`losses.semi_supervised_d_loss`). `features(x)` is
    unchanged, for feature matching.
    """

    def __init__(self, channels: int = 1, img_size: int = 28, ndf: int = 64, minibatch_kernels: int = 0,
                 minibatch_dim: int = 5, n_outputs: int = 1) -> None:
        # Set before DCGANDiscriminator.__init__, whose call to build_head() reads them.
        self.minibatch_kernels, self.minibatch_dim, self.n_outputs = minibatch_kernels, minibatch_dim, n_outputs
        super().__init__(channels, img_size, ndf)

    def build_head(self) -> nn.Module:
        """Minibatch discrimination (if any) on the pooled features, then a Linear to n_outputs logits."""
        # Pooling first keeps T small: on all 6272 features T would be far larger than D itself.
        self.mbd = (MinibatchDiscrimination(self.last_channels, self.minibatch_kernels, self.minibatch_dim)
                    if self.minibatch_kernels else None)
        return nn.Linear(self.feature_dim + self.minibatch_kernels, self.n_outputs)

    def from_features(self, f: torch.Tensor) -> torch.Tensor:
        """The logits from `features(x)`: (B,), or (B, n_outputs) when n_outputs > 1."""
        if self.mbd is not None:
            pooled = f.reshape(f.shape[0], self.last_channels, -1).mean(2)  # (B, C_last)
            f = torch.cat([f, self.mbd.closeness(pooled)], dim=1)  # (B, feature_dim + n_kernels)
        logits = self.head(f)  # (B, n_outputs)
        return logits.squeeze(1) if self.n_outputs == 1 else logits


class HistoricalAverage:
    """Keeps the running mean of a module's parameters over time and gives the penalty ||theta - mean_t theta_t||^2.

    Call `update()` after each optimiser step and add `lambda * penalty()` to the player's loss. The average
    includes the current parameters once they are recorded, as in the paper's (1/t) sum_{i=1}^t theta[i].
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.count = 0
        self.avg: dict[str, torch.Tensor] = {}

    def update(self) -> None:
        """Record the current parameters into the average."""
        self.count += 1
        with torch.no_grad():
            for name, p in self.module.named_parameters():
                if name not in self.avg:
                    self.avg[name] = p.detach().clone()
                else:
                    self.avg[name] += (p.detach() - self.avg[name]) / self.count

    def penalty(self) -> torch.Tensor:
        """Sum over parameters of ||theta - historical mean||^2 (zero before the first update)."""
        params = dict(self.module.named_parameters())
        first = next(iter(params.values()))
        total = torch.zeros((), device=first.device, dtype=first.dtype)
        for name, avg in self.avg.items():
            total = total + (params[name] - avg).square().sum()
        return total

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "avg": {k: v.clone() for k, v in self.avg.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count = int(state["count"])
        self.avg = {k: v.clone() for k, v in state["avg"].items()}


def replace_bn_with_vbn(model: nn.Module) -> nn.Module:
    """Swap every BatchNorm1d/2d in `model` for a VirtualBatchNorm with the same affine parameters (in place)."""
    for name, child in model.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            vbn = VirtualBatchNorm(child.num_features, child.eps).to(child.weight.device)
            with torch.no_grad():
                vbn.weight.copy_(child.weight)
                vbn.bias.copy_(child.bias)
            setattr(model, name, vbn)
        else:
            replace_bn_with_vbn(child)
    return model
