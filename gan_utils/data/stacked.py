"""Stacked MNIST: three random digits, one per RGB channel, so 10 x 10 x 10 = 1000 modes.

The mode-collapse benchmark of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018): a generator that
covers all 1000 digit triples has not collapsed. `stacked_mnist` builds the images from any single-channel digit
set (real MNIST or the synthetic stand-in); `gan_utils.metrics.stacked.stacked_modes` counts the modes a
generator's samples cover.
"""

from __future__ import annotations

from pathlib import Path

import torch

from gan_utils.data.base import ImageSet
from gan_utils.data.mnist import load_mnist

MODES = 1000
CLASSES = tuple(f"{m:03d}" for m in range(MODES))  # "042": 0 in red, 4 in green, 2 in blue


def stacked_mnist(x: torch.Tensor, y: torch.Tensor, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n Stacked-MNIST images (n, 3, H, W) drawn from digits x (N, 1, H, W), and their modes 100*y0 + 10*y1 + y2."""
    if x.ndim != 4 or x.shape[1] != 1 or len(x) == 0:
        raise ValueError(f"stacked_mnist needs a non-empty single-channel digit set (N, 1, H, W), got "
                         f"{tuple(x.shape)}; for an ImageSet pass data.images and data.labels.")
    if y.shape != (len(x),):
        raise ValueError(f"stacked_mnist needs one label per image: {len(x)} images but labels of shape "
                         f"{tuple(y.shape)}.")
    if len(y) and (int(y.min()) < 0 or int(y.max()) > 9):
        raise ValueError(f"stacked_mnist needs digit labels 0-9, got {int(y.min())} to {int(y.max())}.")
    if n < 1:
        raise ValueError(f"n={n}: ask for at least one stacked image.")
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(x), (n, 3), generator=gen).to(x.device)  # three independent draws per image
    images = x[idx, 0]  # (n, 3, H, W), same dtype as x
    modes = (y.to(x.device)[idx].long() * torch.tensor([100, 10, 1], device=x.device)).sum(1)  # (n,)
    return images, modes


def load_stacked_mnist(root: str | Path, source: str = "auto", device: str | torch.device = "cpu",
                       cache_dir: str | Path | None = None, n_synthetic: int = 60_000, seed: int = 0,
                       prefer: str = "train", verbose: bool = True, n: int | None = None) -> ImageSet:
    """Stacked MNIST as an ImageSet of n images (default: as many as the MNIST set) labelled with their mode."""
    mnist = load_mnist(root, source=source, device=device, cache_dir=cache_dir, n_synthetic=n_synthetic, seed=seed,
                       prefer=prefer, verbose=False)
    images, modes = stacked_mnist(mnist.images, mnist.labels, len(mnist) if n is None else n, seed=seed)
    data = ImageSet(images, modes, "Stacked-MNIST", mnist.source,
                    f"three digits per image, one per channel, drawn from {mnist.description}", CLASSES)
    if verbose:
        print(data.banner())
    return data
