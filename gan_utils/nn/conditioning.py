"""Mirza & Osindero 2014: feeding a label y to G and D, as a one-hot vector or a learned embedding."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _check_labels(y: torch.Tensor, n_classes: int) -> None:
    if y.dim() != 1 or y.dtype in (torch.float16, torch.float32, torch.float64, torch.bfloat16, torch.bool):
        raise ValueError(f"labels y must be a 1-D integer tensor of shape (B,), got dtype {y.dtype} and shape "
                         f"{tuple(y.shape)}; pass class indices (e.g. y = torch.tensor([3, 1, 4])), not one-hots.")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes - 1}], got values from {int(y.min())} to "
                         f"{int(y.max())}; check n_classes.")


def one_hot(y: torch.Tensor, n_classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Class indices (B,) -> one-hot rows (B, n_classes), the cGAN paper's way of feeding y.

    Taught in notebook 02.
    """
    _check_labels(y, n_classes)
    return F.one_hot(y.long(), n_classes).to(dtype)  # (B, n_classes)


def concat_condition(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Append a condition c (B, K) to x: as K features for vectors (B, D), as K constant maps for images."""
    if c.dim() != 2:
        raise ValueError(f"the condition must be (B, K), got shape {tuple(c.shape)}; use one_hot(y, K) or an "
                         "embedding of y.")
    if x.shape[0] != c.shape[0]:
        raise ValueError(f"x and the condition disagree on the batch size: {x.shape[0]} vs {c.shape[0]}.")
    c = c.to(x.dtype)
    if x.dim() == 2:
        return torch.cat([x, c], dim=1)  # (B, D + K)
    if x.dim() == 4:
        # Every pixel sees the label, so the first conv can mix it with local image content.
        maps = c[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])  # (B, K, H, W)
        return torch.cat([x, maps], dim=1)  # (B, C + K, H, W)
    raise ValueError(f"x must be (B, D) or (B, C, H, W), got shape {tuple(x.shape)}.")


class Condition(nn.Module):
    """Turns labels y (B,) into the condition vector (B, out_features): one-hot, or a learned embedding."""

    def __init__(self, n_classes: int, embed_dim: int = 0) -> None:
        super().__init__()
        if n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, got {n_classes}.")
        self.n_classes = n_classes
        # An embedding lets similar classes share directions; one-hot is what the cGAN paper used.
        self.embed = nn.Embedding(n_classes, embed_dim) if embed_dim > 0 else None
        self.out_features = embed_dim if embed_dim > 0 else n_classes

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if self.embed is None:
            return one_hot(y, self.n_classes, dtype=torch.get_default_dtype())  # (B, n_classes)
        _check_labels(y, self.n_classes)
        return self.embed(y.long())  # (B, embed_dim)


class LabelEmbedding(Condition):
    """A learned label embedding y (B,) -> (B, embed_dim), the alternative to one_hot."""

    def __init__(self, n_classes: int, embed_dim: int) -> None:
        if embed_dim < 1:
            raise ValueError(f"embed_dim must be >= 1 for an embedding, got {embed_dim}; use one_hot for none.")
        super().__init__(n_classes, embed_dim)
