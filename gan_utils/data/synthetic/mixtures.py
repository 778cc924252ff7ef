"""The PacGAN/VEEGAN 2D Gaussian mixtures: the toy data on which mode collapse is easiest to see."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Mixture2D", "grid25", "ring8"]


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensor fields with == is ambiguous
class Mixture2D:
    """An equal-weight mixture of isotropic 2D Gaussians, as in the PacGAN and VEEGAN toy experiments."""

    centers: torch.Tensor  # (K, 2) float32
    std: float
    name: str

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw n points (n, 2): a uniformly chosen mode plus Gaussian noise of this mixture's std."""
        k = torch.randint(len(self.centers), (n,), generator=generator)  # (n,)
        noise = torch.randn(n, 2, generator=generator, dtype=self.centers.dtype)  # (n, 2)
        return self.centers[k] + self.std * noise


def ring8(radius: float = 1.0, std: float = 0.01) -> Mixture2D:
    """The PacGAN/VEEGAN 2D-ring: 8 modes evenly spaced on a circle."""
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    centers = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)  # (8, 2)
    return Mixture2D(centers.float(), std, "ring8")


def grid25(spacing: float = 2.0, std: float = 0.05) -> Mixture2D:
    """The PacGAN/VEEGAN 2D-grid: 25 modes on a 5x5 lattice centred at the origin."""
    axis = (torch.arange(5, dtype=torch.float64) - 2) * spacing  # (-4, -2, 0, 2, 4) by default
    gx, gy = torch.meshgrid(axis, axis, indexing="ij")
    centers = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)  # (25, 2)
    return Mixture2D(centers.float(), std, "grid25")
