"""Linear probes: how linearly separable are the classes in a set of features (3D-GAN's D features, raw voxels)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["linear_probe", "stratified_split"]


def stratified_split(labels: torch.Tensor, test_fraction: float = 0.3,
                     seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and test indices with the same class proportions in both, shuffled by `seed`."""
    g = torch.Generator().manual_seed(seed)
    train, test = [], []
    for c in labels.unique():
        idx = (labels == c).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=g)]
        n_test = max(1, round(test_fraction * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return torch.cat(train), torch.cat(test)


def linear_probe(f_train: torch.Tensor, y_train: torch.Tensor, f_test: torch.Tensor, y_test: torch.Tensor,
                 weight_decay: float = 1e-3, max_iter: int = 200) -> float:
    """Test accuracy of an L2-regularised multinomial logistic regression fitted (L-BFGS) on standardised features.

    The paper used a linear SVM; both are linear classifiers, so the features decide the accuracy.
    """
    if len(f_train) != len(y_train) or len(f_test) != len(y_test):
        raise ValueError("features and labels must have the same length.")
    # The probe is small and fitted in float64, which only the CPU is sure to have (MPS has none).
    f_train, f_test = f_train.detach().flatten(1).cpu().double(), f_test.detach().flatten(1).cpu().double()
    y_train, y_test = y_train.cpu(), y_test.cpu()
    mean, std = f_train.mean(0), f_train.std(0).clamp(min=1e-6)
    f_train, f_test = (f_train - mean) / std, (f_test - mean) / std
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    clf = nn.Linear(f_train.shape[1], n_classes).double()
    opt = torch.optim.LBFGS(clf.parameters(), lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")
    y_train = y_train.long()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(clf(f_train), y_train) + weight_decay * clf.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float((clf(f_test).argmax(1) == y_test.long()).double().mean())
