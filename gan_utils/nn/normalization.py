"""Batch-norm variants shared by several papers: virtual batch norm (Salimans et al. 2016) and conditional BN.

`ConditionalBatchNorm2d` is BigGAN's class-conditional BN (after de Vries et al. 2017 and Miyato & Koyama 2018):
the gain and bias come from a condition vector (in BigGAN, a shared class embedding joined with a chunk of z).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["ConditionalBatchNorm2d", "VirtualBatchNorm", "vbn_reference_pass"]


class VirtualBatchNorm(nn.Module):
    """Batch norm whose statistics come from a fixed reference batch, so no example depends on its batch-mates.

    The first call after `set_reference` (or the very first call) is the reference pass: the reference batch is
    normalised with its own statistics, which are stored. Every later call normalises each example x with the
    statistics of the reference batch plus x itself (the paper's version): mean and mean of squares are pooled
    with weights N/(N+1) and 1/(N+1), per channel. Run the reference batch through the network before each
    training batch (`vbn_reference_pass`), as the paper does; that second forward pass is VBN's cost. The stored
    statistics keep their graph, so reusing them after a backward pass fails with "Trying to backward through the
    graph a second time": redo the reference pass (under `torch.no_grad()` when only sampling).
    Works on (B, C) and (B, C, H, W).

    Taught in notebook 05.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        # Kept with their graph: in G, the reference statistics depend on G's parameters too.
        self.ref_mean: torch.Tensor | None = None
        self.ref_mean_sq: torch.Tensor | None = None
        self.ref_count = 0
        self._next_is_reference = True

    def set_reference(self) -> None:
        """Make the next forward call the reference pass."""
        self._next_is_reference = True

    def _shape(self, x: torch.Tensor) -> list[int]:
        if x.dim() < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"expected (B, {self.num_features}, ...) input, got {tuple(x.shape)}.")
        return [1, self.num_features] + [1] * (x.dim() - 2)

    def _affine(self, x: torch.Tensor, mean: torch.Tensor, mean_sq: torch.Tensor) -> torch.Tensor:
        shape = self._shape(x)
        var = (mean_sq - mean.square()).clamp_min(0.0)  # rounding can make E[x^2] - E[x]^2 slightly negative
        x_hat = (x - mean) / torch.sqrt(var + self.eps)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = self._shape(x)
        reduce = [0] + list(range(2, x.dim()))
        if self._next_is_reference:
            self._next_is_reference = False
            self.ref_mean = x.mean(reduce, keepdim=True)  # (1, C, 1, 1)
            self.ref_mean_sq = x.square().mean(reduce, keepdim=True)  # (1, C, 1, 1)
            self.ref_count = x.shape[0]
            return self._affine(x, self.ref_mean, self.ref_mean_sq)
        if self.ref_mean is None or self.ref_mean_sq is None:
            raise RuntimeError("VirtualBatchNorm has no reference statistics; call vbn_reference_pass first.")
        # Each example's own per-channel moments (over its spatial positions), pooled with the reference batch's.
        spatial = list(range(2, x.dim()))
        own_mean = x.mean(spatial, keepdim=True) if spatial else x  # (B, C, 1, 1)
        own_mean_sq = x.square().mean(spatial, keepdim=True) if spatial else x.square()  # (B, C, 1, 1)
        w_own = 1.0 / (self.ref_count + 1)
        mean = w_own * own_mean + (1.0 - w_own) * self.ref_mean.view(shape)
        mean_sq = w_own * own_mean_sq + (1.0 - w_own) * self.ref_mean_sq.view(shape)
        return self._affine(x, mean, mean_sq)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


def vbn_reference_pass(model: nn.Module, *args: Any, **kwargs: Any) -> Any:
    """Run the fixed reference input through `model`, so that every VirtualBatchNorm in it stores its statistics."""
    for m in model.modules():
        if isinstance(m, VirtualBatchNorm):
            m.set_reference()
    return model(*args, **kwargs)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose per-channel gain and bias are linear functions of a condition vector c.

    out = BN(x) * (1 + W_gamma c) + W_beta c, with BN without its own affine part. The statistics come from an
    inner `nn.BatchNorm2d(affine=False)`, so `nn.SyncBatchNorm.convert_sync_batchnorm` turns it into BigGAN's
    cross-replica BN without further changes. The gain is 1 plus a projection (BigGAN's `ccbn`), so a zero
    condition gives plain BN; `spectral=True` puts spectral norm on both projections, as BigGAN's generator does.

    Taught in notebook 13.
    """

    def __init__(self, num_features: int, cond_dim: int, eps: float = 1e-5, momentum: float = 0.1,
                 spectral: bool = True) -> None:
        super().__init__()
        self.num_features, self.cond_dim = num_features, cond_dim
        self.bn = nn.BatchNorm2d(num_features, eps=eps, momentum=momentum, affine=False)
        self.gain = nn.Linear(cond_dim, num_features, bias=False)
        self.bias = nn.Linear(cond_dim, num_features, bias=False)
        if spectral:
            from torch.nn.utils.parametrizations import spectral_norm

            self.gain, self.bias = spectral_norm(self.gain, eps=1e-6), spectral_norm(self.bias, eps=1e-6)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"expected (B, {self.num_features}, H, W) input, got {tuple(x.shape)}.")
        if c.shape != (x.shape[0], self.cond_dim):
            raise ValueError(f"expected a condition of shape ({x.shape[0]}, {self.cond_dim}), got {tuple(c.shape)}.")
        gamma = 1.0 + self.gain(c)[:, :, None, None]  # (B, C, 1, 1)
        beta = self.bias(c)[:, :, None, None]  # (B, C, 1, 1)
        return self.bn(x) * gamma + beta

    def extra_repr(self) -> str:
        return f"{self.num_features}, cond_dim={self.cond_dim}"
