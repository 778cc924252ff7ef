"""Goodfellow et al. 2014: the fully connected G and D used on MNIST (notebook 01) and on 2D mixtures."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import torch
from torch import nn

__all__ = ["mlp", "MLPGenerator", "MLPDiscriminator"]


def mlp(sizes: tuple[int, ...], act: Callable[[], nn.Module] = nn.ReLU, batchnorm: bool = False,
        dropout: float | None = None, out_act: nn.Module | None = None) -> nn.Sequential:
    """An MLP: Linear, [BN], act, [Dropout] per hidden layer, then a Linear output [and `out_act`].

    `mlp((2, 128, 128, 1))` is a G or D for 2D toy data; the MNIST and cGAN networks add BN, dropout or a Tanh.
    """
    layers: list[nn.Module] = []
    n_hidden = len(sizes) - 2
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < n_hidden:
            layers += ([nn.BatchNorm1d(b)] if batchnorm else []) + [act()]
            layers += [nn.Dropout(dropout)] if dropout is not None else []
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """z (B, z_dim) -> image (B, *img_shape) in [-1, 1] through Linear-BN-ReLU layers and a Tanh output.

    Taught in notebook 01.
    """

    def __init__(self, z_dim: int = 100, img_shape: tuple[int, ...] = (1, 28, 28),
                 hidden: tuple[int, ...] = (256, 512, 1024), batchnorm: bool = True) -> None:
        super().__init__()
        self.z_dim, self.img_shape = z_dim, img_shape
        self.net = mlp((z_dim, *hidden, math.prod(img_shape)), nn.ReLU, batchnorm=batchnorm, out_act=nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(z.shape[0], *self.img_shape)


class MLPDiscriminator(nn.Module):
    """image (B, *img_shape) -> one logit per image; sigmoid(logit) is D(x), the probability of 'real'.

    Taught in notebook 01.
    """

    def __init__(self, img_shape: tuple[int, ...] = (1, 28, 28), hidden: tuple[int, ...] = (512, 256),
                 dropout: float = 0.5) -> None:
        super().__init__()
        layers = mlp((math.prod(img_shape), *hidden, 1), partial(nn.LeakyReLU, 0.2), dropout=dropout)
        self.net = nn.Sequential(nn.Flatten(), *layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
