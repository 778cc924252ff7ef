"""Sample diversity as the mean MS-SSIM between pairs of images (Odena et al. 2017; Wang et al. 2003).

A set whose images look alike (a collapsed generator) has a high mean pairwise MS-SSIM; a diverse set a low one.
Compare a generator's value with the same number computed on real images of the same class.

The convention (torchmetrics' MS-SSIM, which this wraps): images mapped from [-1, 1] to [0, 1] (data_range 1),
a Gaussian window with sigma 0.8 (7 taps) and 3 scales, so that 28- and 32-pixel images fit; the betas are the
first three of Wang et al.'s five, renormalised to sum to 1. torchmetrics averages the SSIM map over the whole
image, padded border included, so the values are not identical to skimage's (which crops the border).
"""

from __future__ import annotations

import torch
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure as _ms_ssim

_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim(x: torch.Tensor, y: torch.Tensor, scales: int = 3, sigma: float = 0.8) -> torch.Tensor:
    """MS-SSIM of each pair (x[i], y[i]) for images (B, C, H, W) in [-1, 1]; returns (B,) values in [0, 1]."""
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"ms_ssim needs two (B, C, H, W) batches of the same shape, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    taps = 2 * int(3.5 * sigma + 0.5) + 1  # the window torchmetrics uses with gaussian_kernel=True
    smallest = min(x.shape[-2:]) // 2 ** (scales - 1)
    if smallest < taps:
        raise ValueError(f"{x.shape[-2]}x{x.shape[-1]} images are too small for {scales} MS-SSIM scales with "
                         f"sigma {sigma} ({taps}-tap window); use fewer scales or a smaller sigma")
    betas = torch.tensor(_BETAS[:scales])
    betas = tuple((betas / betas.sum()).tolist())
    to_unit = lambda t: ((t.float() + 1) / 2).clamp(0, 1)  # noqa: E731
    return _ms_ssim(to_unit(x), to_unit(y), gaussian_kernel=True, sigma=sigma, kernel_size=taps,
                    reduction="none", data_range=1.0, betas=betas)


def mean_pairwise_ms_ssim(x: torch.Tensor, n_pairs: int = 500, seed: int = 0, scales: int = 3,
                          sigma: float = 0.8) -> float:
    """Mean MS-SSIM over `n_pairs` random pairs of distinct images from the batch x (B, C, H, W) in [-1, 1]."""
    if len(x) < 2:
        raise ValueError("mean_pairwise_ms_ssim needs at least two images")
    gen = torch.Generator().manual_seed(seed)
    i = torch.randint(len(x), (n_pairs,), generator=gen)
    j = (i + torch.randint(1, len(x), (n_pairs,), generator=gen)) % len(x)  # j != i
    i, j = i.to(x.device), j.to(x.device)
    with torch.no_grad():
        return ms_ssim(x[i], x[j], scales=scales, sigma=sigma).mean().item()
