"""Scores for voxel shapes: intersection over union, and similarity to the nearest training shape."""

from __future__ import annotations

import torch

__all__ = ["nearest_iou", "pairwise_iou", "voxel_iou"]


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
