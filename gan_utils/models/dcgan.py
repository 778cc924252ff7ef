"""Radford et al. 2015, DCGAN: the all-convolutional G and D, at 28 px (MNIST) and 32 px (CIFAR-10).

The paper's guidelines, and where each one lives below:
- strided convolutions in D and transposed ("fractional-strided") convolutions in G, no pooling;
- batch norm in G and D, but not on G's output layer nor on D's input layer;
- no fully connected hidden layers: G's only Linear is the projection of z, D's only one is the logit;
- ReLU in G with a Tanh output, LeakyReLU(0.2) in D;
- weights N(0, 0.02), batch-norm gains N(1, 0.02) (`gan_utils.nn.init.weights_init`, shared with later papers);
- and, from the course's list, G larger than D.
Kernels are 4x4 with stride 2 (the paper's code uses 5x5): a kernel that the stride divides gives every output
pixel of a transposed conv the same number of contributions, which avoids checkerboard artefacts.
Both networks optionally take a class label y, as in the DCGAN authors' conditional MNIST code.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_utils.nn.conditioning import Condition, concat_condition
from gan_utils.nn.init import weights_init

__all__ = ["DCGANGenerator", "DCGANDiscriminator"]


def _plan(img_size: int) -> tuple[int, int]:
    """(base size, number of stride-2 stages): 28 -> (7, 2), 32 -> (4, 3), 64 -> (4, 4)."""
    base, stages = img_size, 0
    while base > 7 and base % 2 == 0:
        base, stages = base // 2, stages + 1
    if stages < 2 or base < 3:
        raise ValueError(f"img_size {img_size} is not supported: use 7·2^k or 4·2^k with k >= 2 "
                         "(28 for MNIST, 32 for CIFAR-10).")
    return base, stages


class DCGANGenerator(nn.Module):
    """z (B, z_dim) [and labels y (B,)] -> image (B, channels, img_size, img_size) in [-1, 1].

    Taught in notebook 03.
    """

    def __init__(self, z_dim: int = 100, channels: int = 1, img_size: int = 28, ngf: int = 64,
                 n_classes: int = 0, embed_dim: int = 0) -> None:
        super().__init__()
        self.z_dim, self.channels, self.img_size, self.n_classes = z_dim, channels, img_size, n_classes
        base, stages = _plan(img_size)
        # y joins z before the projection, so every layer of G can use it (Mirza & Osindero 2014).
        self.cond = Condition(n_classes, embed_dim) if n_classes > 0 else None
        in_dim = z_dim + (self.cond.out_features if self.cond is not None else 0)
        width = ngf * 2 ** (stages - 1)  # 28 px: 128 at 7x7; 32 px: 256 at 4x4
        # The one matrix multiply the paper allows: z -> a small stack of feature maps. No bias: BN follows.
        self.project = nn.Sequential(
            nn.Linear(in_dim, width * base * base, bias=False),
            nn.Unflatten(1, (width, base, base)),
            nn.BatchNorm2d(width),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2),
                       nn.ReLU()]
            width //= 2
        # No BN on the output layer: it would pin the image's per-channel mean and spread to the batch's.
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        self.apply(weights_init)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = z.flatten(1)  # also accepts (B, z_dim, 1, 1)
        if z.shape[1] != self.z_dim:
            raise ValueError(f"G expects z of shape (B, {self.z_dim}), got {tuple(z.shape)}.")
        if self.cond is not None:
            if y is None:
                raise ValueError(f"G was built with n_classes={self.n_classes}: pass the labels, G(z, y).")
            z = concat_condition(z, self.cond(y))  # (B, z_dim + K)
        elif y is not None:
            raise ValueError("G was built with n_classes=0 and takes no labels; build it with n_classes > 0.")
        return self.body(self.project(z))  # (B, channels, img_size, img_size)


class DCGANDiscriminator(nn.Module):
    """image (B, channels, img_size, img_size) [and labels y (B,)] -> one logit per image (B,).

    `features(x)` is the last conv block's activations, flattened: the layer for feature matching and the body
    that InfoGAN's Q head shares; `from_features(f)` is the logit. With `n_classes > 0`, y enters as K constant
    channels on the input image (one-hot or embedded), as in the DCGAN authors' conditional MNIST code; the first
    conv then sees label and pixels together. Papers that change what sits on top of the body (minibatch
    discrimination, K class logits) override `build_head` and `from_features`.

    Taught in notebook 03.
    """

    def __init__(self, channels: int = 1, img_size: int = 28, ndf: int = 64, n_classes: int = 0,
                 embed_dim: int = 0) -> None:
        super().__init__()
        self.channels, self.img_size, self.n_classes = channels, img_size, n_classes
        base, stages = _plan(img_size)
        self.cond = Condition(n_classes, embed_dim) if n_classes > 0 else None
        in_ch = channels + (self.cond.out_features if self.cond is not None else 0)
        # No BN on the input layer: it would erase the real/fake difference in per-batch brightness and contrast.
        layers: list[nn.Module] = [nn.Conv2d(in_ch, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        width = ndf
        for _ in range(stages - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2),
                       nn.LeakyReLU(0.2)]
            width *= 2
        self.body = nn.Sequential(*layers)
        self.last_channels, self.last_size = width, base
        self.feature_dim = width * base * base  # 28 px: 128*7*7 = 6272; 32 px: 256*4*4 = 4096
        self.head = self.build_head()
        self.apply(weights_init)

    def build_head(self) -> nn.Module:
        """The layer(s) from `features(x)` to the logit; DCGAN's is a single Linear."""
        return nn.Linear(self.feature_dim, 1)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The last conv block's activations, flattened: (B, feature_dim)."""
        if x.shape[1:] != (self.channels, self.img_size, self.img_size):
            raise ValueError(f"D expects images (B, {self.channels}, {self.img_size}, {self.img_size}), "
                             f"got {tuple(x.shape)}.")
        if self.cond is not None:
            if y is None:
                raise ValueError(f"D was built with n_classes={self.n_classes}: pass the labels, D(x, y).")
            x = concat_condition(x, self.cond(y))  # (B, channels + K, H, W)
        elif y is not None:
            raise ValueError("D was built with n_classes=0 and takes no labels; build it with n_classes > 0.")
        return self.body(x).flatten(1)  # (B, feature_dim)

    def from_features(self, f: torch.Tensor) -> torch.Tensor:
        """The logit from `features(x)`, so that D and a Q head can share one pass through the body."""
        return self.head(f).squeeze(1)  # (B,)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.from_features(self.features(x, y))  # (B,)
