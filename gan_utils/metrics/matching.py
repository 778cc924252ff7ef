"""Accuracy of an unsupervised clustering (e.g. InfoGAN's categorical code) after the best code-to-label match."""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def matched_accuracy(codes: torch.Tensor, labels: torch.Tensor, n_codes: int | None = None,
                     n_labels: int | None = None) -> tuple[float, dict[int, int]]:
    """Accuracy of `codes` as a classifier of `labels` under the one-to-one matching that maximises it (Hungarian)."""
    codes, labels = codes.detach().cpu().long(), labels.detach().cpu().long()
    if codes.shape != labels.shape:
        raise ValueError(f"codes {tuple(codes.shape)} and labels {tuple(labels.shape)} must have the same shape.")
    n_codes = n_codes or int(codes.max()) + 1
    n_labels = n_labels or int(labels.max()) + 1
    counts = torch.zeros(n_codes, n_labels, dtype=torch.long)
    counts.index_put_((codes, labels), torch.ones_like(codes), accumulate=True)
    rows, cols = linear_sum_assignment(-counts.numpy())  # maximise the matched counts
    correct = int(counts.numpy()[rows, cols].sum())
    return correct / len(codes), {int(r): int(c) for r, c in zip(rows, cols, strict=True)}


def confusion(codes: torch.Tensor, labels: torch.Tensor, n_codes: int, n_labels: int) -> np.ndarray:
    """Counts of (code, label) pairs as an (n_codes, n_labels) array."""
    counts = torch.zeros(n_codes, n_labels, dtype=torch.long)
    counts.index_put_((codes.cpu().long(), labels.cpu().long()), torch.ones_like(codes.cpu().long()), accumulate=True)
    return counts.numpy()
