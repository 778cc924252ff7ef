"""Shape measures of generated digits: the lean of a digit's principal axis from the vertical, and its ink.

Taught in notebook 04.
"""

from __future__ import annotations

import torch


def lean_and_ink(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(lean in degrees, ink) of each image of a batch (B, 1, H, W) in [-1, 1].

    The lean is the angle of the principal axis of the image's ink (its second moments) from the **vertical**, in
    (-90, 90]: 0 for an upright stroke, positive when the top leans right (image rows grow downwards). Measured from
    the vertical, an upright digit sits at 0 rather than at the wrap-around of +-90 degrees, so a small lean either
    way reads as a small angle. The ink is the mean brightness in [0, 1], a proxy for stroke width.

    Taught in notebook 04.
    """
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"lean_and_ink takes a batch of one-channel images (B, 1, H, W); got {tuple(x.shape)}")
    w = (x + 1) / 2                                                      # (B, 1, H, W) in [0, 1]
    h, wd = x.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=x.dtype, device=x.device),
                            torch.arange(wd, dtype=x.dtype, device=x.device), indexing="ij")
    m = w.sum((1, 2, 3)).clamp_min(1e-6)
    cx, cy = (w * xs).sum((1, 2, 3)) / m, (w * ys).sum((1, 2, 3)) / m
    dx, dy = xs - cx.view(-1, 1, 1, 1), ys - cy.view(-1, 1, 1, 1)
    mu20, mu02, mu11 = (w * dx * dx).sum((1, 2, 3)), (w * dy * dy).sum((1, 2, 3)), (w * dx * dy).sum((1, 2, 3))
    return torch.rad2deg(0.5 * torch.atan2(-2 * mu11, mu02 - mu20)), w.mean((1, 2, 3))
