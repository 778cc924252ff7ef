"""Goodfellow et al. 2014: the fully connected G and D used on MNIST (notebook 01) and on 2D mixtures."""

from __future__ import annotations

import torch
from torch import nn


class MLPGenerator(nn.Module):
    """z (B, z_dim) -> image (B, *img_shape) in [-1, 1] through Linear-BN-ReLU layers and a Tanh output."""

    def __init__(self, z_dim: int = 100, img_shape: tuple[int, ...] = (1, 28, 28),
                 hidden: tuple[int, ...] = (256, 512, 1024), batchnorm: bool = True) -> None:
        super().__init__()
        self.z_dim, self.img_shape = z_dim, img_shape
        layers: list[nn.Module] = []
        width = z_dim
        for h in hidden:
            layers += [nn.Linear(width, h)] + ([nn.BatchNorm1d(h)] if batchnorm else []) + [nn.ReLU()]
            width = h
        layers += [nn.Linear(width, int(torch.tensor(img_shape).prod())), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.img_shape)


class MLPDiscriminator(nn.Module):
    """image (B, *img_shape) -> one logit per image; sigmoid(logit) is D(x), the probability of 'real'."""

    def __init__(self, img_shape: tuple[int, ...] = (1, 28, 28), hidden: tuple[int, ...] = (512, 256),
                 dropout: float = 0.5) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = int(torch.tensor(img_shape).prod())
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = h
        layers += [nn.Linear(width, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def mlp(sizes: tuple[int, ...], act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """A plain MLP with `act` between layers and a linear output (G and D for 2D toy data)."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers[:-1])
