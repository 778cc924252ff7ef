"""Salimans et al. 2016, "Improved Techniques for Training GANs": the layers and regularisers it adds."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gan_utils.losses import feature_matching

__all__ = ["MinibatchDiscrimination", "VirtualBatchNorm", "vbn_reference_pass", "HistoricalAverage",
           "feature_matching_loss"]


def feature_matching_loss(f_real: torch.Tensor, f_fake: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """G's feature-matching loss ||mean f(x_real) - mean f(x_fake)||^2; 'mean' over features as the code does."""
    return feature_matching(f_real, f_fake, reduction)


class MinibatchDiscrimination(nn.Module):
    """Lets D see a whole batch: appends to f(x_i) (N, A) how close x_i is to the others, o(x_i) (N, B)."""

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
