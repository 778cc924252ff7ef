"""Backward warping of images by a dense flow: vid2vid's generator and the temporal measures both move pixels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["warp"]


def warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward-warp images x (B, C, H, W) by flow (B, 2, H, W) in pixels (dx, dy): out(p) = x(p + flow(p)).

    Bilinear, with border padding (vid2vid's `resample`); flow from frame t to t-1 turns frame t-1 into t.

    Taught in notebook 12.
    """
    if flow.shape[1] != 2 or flow.shape[-2:] != x.shape[-2:] or flow.shape[0] != x.shape[0]:
        raise ValueError(f"flow {tuple(flow.shape)} does not fit images {tuple(x.shape)}; it must be (B, 2, H, W).")
    b, _, h, w = x.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=x.device, dtype=x.dtype),
                            torch.arange(w, device=x.device, dtype=x.dtype), indexing="ij")
    gx = (xs + flow[:, 0]) * (2 / max(w - 1, 1)) - 1  # pixel centres at -1 ... 1 (align_corners=True)
    gy = (ys + flow[:, 1]) * (2 / max(h - 1, 1)) - 1
    grid = torch.stack([gx, gy], -1)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)
