"""Sample diversity as the mean MS-SSIM between pairs of images (Odena et al. 2017; Wang et al. 2003).

A set whose images look alike (a collapsed generator) has a high mean pairwise MS-SSIM; a diverse set a low one.
Compare a generator's value with the same number computed on real images of the same class.

The convention is the papers' (Wang et al.'s MS-SSIM as TF's `ssim_multiscale` and skimage compute it), sized
for 28- and 32-pixel images:
- images are mapped from [-1, 1] to [0, 1] (data_range 1, K1 0.01, K2 0.03, population covariances);
- a Gaussian window with sigma 0.8, truncated at 3.5 sigma: 2*int(3.5*sigma + 0.5) + 1 = 7 taps;
- each SSIM or contrast-structure (cs) map is averaged over its VALID region only, the positions where the
  whole window lies inside the image (skimage crops (taps - 1) // 2 pixels from each side; here the
  convolution is simply unpadded). Averaging over a padded border instead, as torchmetrics does, counts
  MNIST's black margins as agreement and inflates the score (0.54 against 0.33 single-scale on real digits);
- 3 scales, each a 2x2 average pool of the last (floor for odd sides): cs at every scale but the coarsest,
  full SSIM (luminance times cs) at the coarsest; with sigma 0.8 a 28-pixel image's coarsest scale is 7x7,
  a single window, which compares the digits' overall layout;
- betas: the first `scales` of Wang et al.'s five (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), renormalised
  to sum to 1; each factor is clamped at 0 before its power (as TF and pytorch-msssim do), so that anti-
  correlated images score 0 rather than a complex number;
- MS-SSIM is computed per channel, then averaged over channels (TF, pytorch-msssim). With one scale the
  value is skimage's `structural_similarity(gaussian_weights=True, sigma=0.8, use_sample_covariance=False,
  data_range=1)`, clamped at 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_K1, _K2 = 0.01, 0.03


def _taps(sigma: float) -> int:
    return 2 * int(3.5 * sigma + 0.5) + 1


def _ssim_and_cs(x: torch.Tensor, y: torch.Tensor, window: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure term over the valid region, per image and channel: (B, C) each."""
    B, C = x.shape[:2]
    kernel = (window[:, None] * window[None, :]).expand(C, 1, -1, -1)  # (C, 1, k, k)
    stats = F.conv2d(torch.cat([x, y, x * x, y * y, x * y]), kernel, groups=C)  # unpadded: the valid region only
    mu_x, mu_y, xx, yy, xy = stats.split(B)
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    c1, c2 = _K1**2, _K2**2
    cs = (2 * cov + c2) / (var_x + var_y + c2)
    luminance = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1)
    return (luminance * cs).mean((-2, -1)), cs.mean((-2, -1))


def ms_ssim(x: torch.Tensor, y: torch.Tensor, scales: int = 3, sigma: float = 0.8) -> torch.Tensor:
    """MS-SSIM of each pair (x[i], y[i]) for images (B, C, H, W) in [-1, 1]; returns (B,) values in [0, 1]."""
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"ms_ssim needs two (B, C, H, W) batches of the same shape, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    if not 1 <= scales <= len(_BETAS) or sigma <= 0:
        raise ValueError(f"scales={scales}, sigma={sigma}: use 1 to {len(_BETAS)} scales and a positive sigma")
    taps, side = _taps(sigma), min(x.shape[-2:])
    for _ in range(scales - 1):
        side //= 2
    if side < taps:
        raise ValueError(f"{x.shape[-2]}x{x.shape[-1]} images are too small for {scales} MS-SSIM scales with "
                         f"sigma {sigma}: the coarsest scale is {side} px, smaller than the {taps}-tap window. "
                         "Use fewer scales or a smaller sigma (28 px: scales=3 with sigma <= 0.8, or scales=2).")
    to_unit = lambda t: ((t.float() + 1) / 2).clamp(0, 1)  # noqa: E731
    x, y = to_unit(x), to_unit(y)
    window = torch.exp(-0.5 * (torch.arange(taps, dtype=x.dtype, device=x.device) - taps // 2) ** 2 / sigma**2)
    window = window / window.sum()
    factors = []
    for s in range(scales):
        ssim, cs = _ssim_and_cs(x, y, window)
        if s < scales - 1:
            factors.append(cs)
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    factors.append(ssim)
    betas = torch.tensor(_BETAS[:scales], dtype=x.dtype, device=x.device)
    betas = betas / betas.sum()
    per_channel = (torch.stack(factors, -1).clamp_min(0) ** betas).prod(-1)  # (B, C)
    return per_channel.mean(1)


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
