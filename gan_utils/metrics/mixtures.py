"""Mode-collapse measures for 2D Gaussian mixtures, as defined in the PacGAN paper.

Lin, Khetan, Fanti & Oh, "PacGAN: The power of two samples in generative adversarial networks",
NeurIPS 2018 (Table 1), following VEEGAN (Srivastava et al. 2017): a sample is *high quality* if it lies
within 3 standard deviations of its nearest mode; a mode is *covered* if at least one high-quality sample
is assigned to it; the *reverse KL* is KL(q || uniform) between the histogram q of high-quality samples
over modes and the uniform distribution of the true mixture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ModeStats:
    """The three numbers of the PacGAN table for one set of samples."""

    modes_covered: int
    high_quality: float  # fraction in [0, 1]
    reverse_kl: float
    counts: tuple[int, ...]  # high-quality samples per mode

    def as_row(self) -> dict[str, float]:
        return {"modes": self.modes_covered, "high quality %": 100 * self.high_quality,
                "reverse KL": self.reverse_kl}


def mode_stats(samples: torch.Tensor, centers: torch.Tensor, std: float, threshold: float = 3.0) -> ModeStats:
    """Modes covered, high-quality fraction and reverse KL of 2D `samples` against a mixture's centres."""
    if samples.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"samples must be (N, {centers.shape[1]}), got {tuple(samples.shape)}.")
    samples = samples.detach().to(centers.device, centers.dtype)
    dist = torch.cdist(samples, centers) / std  # (N, K) in units of the mode's std
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist <= threshold
    k = centers.shape[0]
    counts = torch.bincount(nearest[good], minlength=k).cpu()  # (K,): the ratios below are float64, CPU only
    n_good = int(counts.sum())
    if n_good == 0:
        reverse_kl = math.inf  # no sample is near any mode: q is undefined, as far from uniform as can be
    else:
        q = counts.double() / n_good
        nz = q > 0
        reverse_kl = float((q[nz] * torch.log(q[nz] * k)).sum())
    return ModeStats(int((counts > 0).sum()), n_good / samples.shape[0], reverse_kl, tuple(counts.tolist()))
