"""Mirza & Osindero 2014: G and D that both see the class label y, by concatenation with a one-hot code.

The conditional GAN extends the GAN of Goodfellow et al. 2014: the same MLPs (`vanilla.mlp`), with y appended.
`ProjectionDiscriminator` (Miyato & Koyama 2018) takes y at the top instead, as an inner product with D's features.
"""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import nn

from gan_utils.models.vanilla import mlp
from gan_utils.nn.conditioning import one_hot

__all__ = ["ConditionalGenerator", "ConditionalDiscriminator", "ProjectionDiscriminator"]


class ConditionalGenerator(nn.Module):
    """(z, y) -> image: z and one_hot(y) concatenated, then Linear-BN-ReLU layers and a Tanh output.

    Taught in notebook 02.
    """

    def __init__(self, z_dim: int = 100, n_classes: int = 10, img_shape: tuple[int, ...] = (1, 28, 28),
                 hidden: tuple[int, ...] = (256, 512, 1024), batchnorm: bool = True) -> None:
        super().__init__()
        self.z_dim, self.n_classes, self.img_shape = z_dim, n_classes, img_shape
        self.net = mlp((z_dim + n_classes, *hidden, math.prod(img_shape)), nn.ReLU, batchnorm=batchnorm,
                       out_act=nn.Tanh())

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([z, one_hot(y, self.n_classes, dtype=z.dtype)], dim=1)  # (B, z_dim + n_classes)
        return self.net(h).view(z.shape[0], *self.img_shape)


class ConditionalDiscriminator(nn.Module):
    """(x, y) -> one logit: the flattened image and one_hot(y) concatenated, then an MLP.

    Taught in notebook 02.
    """

    def __init__(self, n_classes: int = 10, img_shape: tuple[int, ...] = (1, 28, 28),
                 hidden: tuple[int, ...] = (512, 256), dropout: float = 0.5) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.net = mlp((math.prod(img_shape) + n_classes, *hidden, 1), partial(nn.LeakyReLU, 0.2),
                       dropout=dropout)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = torch.cat([x.flatten(1), one_hot(y, self.n_classes, dtype=x.dtype)], dim=1)  # (B, 784 + n_classes)
        return self.net(h).squeeze(1)


class ProjectionDiscriminator(nn.Module):
    """(x, y) -> one logit psi(phi(x)) + <e_y, phi(x)>: notebook 02's D body without y, and a class embedding e_y.

    Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018.
    Taught in notebook 02.
    """

    def __init__(self, n_classes: int = 10, img_shape: tuple[int, ...] = (1, 28, 28),
                 hidden: tuple[int, ...] = (512, 256), dropout: float = 0.5) -> None:
        super().__init__()
        self.n_classes = n_classes
        layers: list[nn.Module] = []
        width = math.prod(img_shape)
        for h in hidden:                                     # phi: ConditionalDiscriminator's hidden layers
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = h
        self.phi = nn.Sequential(*layers)
        self.psi = nn.Linear(hidden[-1], 1)                  # the unconditional logit
        self.embed = nn.Embedding(n_classes, hidden[-1])     # e_y, one row per class

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        f = self.phi(x.flatten(1))                            # (B, hidden[-1])
        return self.psi(f).squeeze(1) + (self.embed(y) * f).sum(1)
