"""Batch-norm variants shared by several papers: virtual batch norm (Salimans et al. 2016) for now.

Class-conditional batch norm (BigGAN) belongs here too when it arrives.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["VirtualBatchNorm", "vbn_reference_pass"]


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
