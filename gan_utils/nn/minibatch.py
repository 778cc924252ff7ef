"""Minibatch discrimination (Salimans et al. 2016): a layer that lets D compare each sample with its batch-mates.

Shared by every D that fights mode collapse this way: the improved-techniques D (notebook 05) and later ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["MinibatchDiscrimination"]


class MinibatchDiscrimination(nn.Module):
    """Lets D see a whole batch: appends to f(x_i) (N, A) how close x_i is to the others, o(x_i) (N, B).

    Taught in notebook 05.
    """

    def __init__(self, in_features: int, n_kernels: int = 100, kernel_dim: int = 5,
                 include_self: bool = False) -> None:
        super().__init__()
        self.in_features, self.n_kernels, self.kernel_dim = in_features, n_kernels, kernel_dim
        # The paper's sum over j includes j = i, which adds exp(0) = 1 to every o(x_i)_b: a constant that carries
        # no information. The official code removes it (it adds 1e6 to the diagonal), and so do we by default.
        self.include_self = include_self
        self.T = nn.Parameter(torch.empty(in_features, n_kernels, kernel_dim))
        # std 1/sqrt(A) keeps the entries of M near unit scale, so exp(-L1) neither underflows to 0 (no gradient)
        # nor sits at 1; the official code reaches the same with weight normalisation.
        nn.init.normal_(self.T, 0.0, 1.0 / math.sqrt(in_features))

    def closeness(self, f: torch.Tensor) -> torch.Tensor:
        """o(x_i)_b = sum_j exp(-||M_i,b - M_j,b||_L1) for a batch of features f (N, A) -> (N, B)."""
        if f.dim() != 2 or f.shape[1] != self.in_features:
            raise ValueError(f"expected features of shape (N, {self.in_features}), got {tuple(f.shape)}; flatten "
                             "or pool D's activations first.")
        M = torch.einsum("na,abc->nbc", f, self.T)  # (N, B, C)
        l1 = (M.unsqueeze(1) - M.unsqueeze(0)).abs().sum(-1)  # (N, N, B): ||M_i,b - M_j,b||_L1
        c = torch.exp(-l1)  # (N, N, B)
        o = c.sum(1)  # (N, B)
        if not self.include_self:
            o = o - 1.0  # the j = i term is exactly exp(0) = 1
        return o

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return torch.cat([f, self.closeness(f)], dim=1)  # (N, A + B)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_kernels={self.n_kernels}, kernel_dim={self.kernel_dim}, "
                f"include_self={self.include_self}")
