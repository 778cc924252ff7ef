"""Mirza & Osindero 2014: G and D that both see the class label y, by concatenation with a one-hot code."""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_utils.nn.conditioning import one_hot


class ConditionalGenerator(nn.Module):
    """(z, y) -> image: z and one_hot(y) concatenated, then Linear-BN-ReLU layers and a Tanh output."""

    def __init__(self, z_dim: int = 100, n_classes: int = 10, img_shape: tuple[int, ...] = (1, 28, 28),
                 hidden: tuple[int, ...] = (256, 512, 1024), batchnorm: bool = True) -> None:
        super().__init__()
        self.z_dim, self.n_classes, self.img_shape = z_dim, n_classes, img_shape
        layers: list[nn.Module] = []
        width = z_dim + n_classes
        for h in hidden:
            layers += [nn.Linear(width, h)] + ([nn.BatchNorm1d(h)] if batchnorm else []) + [nn.ReLU()]
            width = h
        layers += [nn.Linear(width, math.prod(img_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([z, one_hot(y, self.n_classes, dtype=z.dtype)], dim=1)  # (B, z_dim + n_classes)
        return self.net(h).view(z.shape[0], *self.img_shape)


class ConditionalDiscriminator(nn.Module):
    """(x, y) -> one logit: the flattened image and one_hot(y) concatenated, then an MLP."""

    def __init__(self, n_classes: int = 10, img_shape: tuple[int, ...] = (1, 28, 28),
                 hidden: tuple[int, ...] = (512, 256), dropout: float = 0.5) -> None:
        super().__init__()
        self.n_classes = n_classes
        layers: list[nn.Module] = []
        width = math.prod(img_shape) + n_classes
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = h
        layers += [nn.Linear(width, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([x.flatten(1), one_hot(y, self.n_classes, dtype=x.dtype)], dim=1)  # (B, 784 + n_classes)
        return self.net(h).squeeze(1)
