"""Scores for voxel shapes: intersection over union, and similarity to the nearest training shape."""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

__all__ = ["largest_component", "nearest_iou", "pairwise_iou", "voxel_iou"]


def _occupied(x: torch.Tensor, threshold: float) -> torch.Tensor:
    return (x.flatten(1).float() > threshold).float()  # (N, V)


def voxel_iou(pred: torch.Tensor, target: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """IoU of each predicted grid with its target (N,), both thresholded at `threshold`; empty vs empty is 1."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} must have the same shape.")
    p, t = _occupied(pred, threshold), _occupied(target, threshold)
    inter, union = (p * t).sum(1), ((p + t) > 0).float().sum(1)
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def pairwise_iou(a: torch.Tensor, b: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """IoU of every grid in `a` with every grid in `b`: (len(a), len(b))."""
    p, q = _occupied(a, threshold), _occupied(b, threshold)
    inter = p @ q.T
    union = p.sum(1, keepdim=True) + q.sum(1)[None] - inter
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))


def nearest_iou(samples: torch.Tensor, reference: torch.Tensor, threshold: float = 0.5,
                chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """For each sample, the best IoU with any reference grid and that grid's index: (N,), (N,)."""
    best, idx = [], []
    for i in range(0, len(samples), chunk):
        v, j = pairwise_iou(samples[i:i + chunk], reference, threshold).max(1)
        best.append(v)
        idx.append(j)
    return torch.cat(best), torch.cat(idx)


def largest_component(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Each grid (N, 1, n, n, n) thresholded and reduced to its largest 26-connected component, as 0/1 floats.

    Generated grids carry loose voxels and specks; removing them before a nearest-neighbour IoU separates how new a
    shape is from how noisy it is. An empty grid stays empty. Runs on the CPU (scipy) and returns a CPU tensor.
    """
    if x.dim() != 5:
        raise ValueError(f"largest_component needs grids (N, 1, n, n, n), got shape {tuple(x.shape)}.")
    occ = (x.detach().float().cpu() > threshold).numpy()
    out = np.zeros(occ.shape, dtype=np.float32)
    for i, grid in enumerate(occ[:, 0]):
        labels, n = ndimage.label(grid, structure=np.ones((3, 3, 3)))
        if n:
            sizes = np.bincount(labels.ravel())[1:]
            out[i, 0] = labels == 1 + int(sizes.argmax())
    return torch.from_numpy(out)
