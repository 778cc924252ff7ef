"""Lin, Khetan, Fanti & Oh 2018, PacGAN: D judges m samples at once ("packing"); extends `dcgan` for stacked MNIST.

Paper: Zinan Lin, Ashish Khetan, Giulia Fanti, Sewoong Oh. *PacGAN: The power of two samples in generative
adversarial networks.* NeurIPS 2018. arXiv:1712.04086.

Packing changes one thing: D's input layer is m times wider, and it sees m samples concatenated along the feature
axis (2D points) or the channel axis (images), all real or all generated. G, the loss and the optimiser stay.

The 2D-mixture networks follow the official code (github.com/fjxmlzn/PacGAN, `synthetic_data_experiments`):
- G: z (2-d, N(0, 1)) -> 4 x (Linear 400, BN, ReLU) -> Linear 2;
- D: 3 x LinearMaxout (200 units, 5 pieces) -> Linear 1, input 2·m;
- weights N(0, 0.02), biases 0; Adam lr 1e-4, beta1 0.8, batch 100.
Unverified details: Adam's beta2 and eps (Blocks' defaults, taken as PyTorch's 0.999 and 1e-8), BN's eps and
momentum (PyTorch's defaults here), whether BN's gain is initialised to 1 (it is here), and whether the official
samples use batch or population BN statistics (`eval()` here uses population statistics). The official code also
calls G once per packed slot (m calls of B samples, each with its own BN statistics); here G sees all B·m at once.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_utils.models.dcgan import DCGANDiscriminator

__all__ = ["Maxout", "PacDCGANDiscriminator", "PacMLPDiscriminator", "PacMLPGenerator", "PacSmallDiscriminator",
           "SmallStackedGenerator", "init_normal", "pack"]

# The paper's 2D-mixture sizes, for the config's "paper value" column.
PAPER_2D = {"z_dim": 2, "g_width": 400, "g_layers": 4, "d_width": 200, "d_layers": 3, "pieces": 5,
            "lr": 1e-4, "betas": (0.8, 0.999), "batch": 100}


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(B·m, F, ...) -> (B, m·F, ...): each group of m consecutive samples becomes one packed sample.

    Taught in notebook 08.
    """
    if m < 1:
        raise ValueError(f"pack size m must be at least 1, got {m}.")
    if x.ndim < 2:
        raise ValueError(f"pack expects a batch of samples (N, features...), got shape {tuple(x.shape)}.")
    if x.shape[0] % m != 0:
        raise ValueError(f"pack: the batch of {x.shape[0]} samples does not split into groups of m={m}; "
                         f"pass B·m samples (e.g. {x.shape[0] - x.shape[0] % m or m}).")
    return x.reshape(x.shape[0] // m, m * x.shape[1], *x.shape[2:])


def init_normal(module: nn.Module, std: float = 0.02, generator: torch.Generator | None = None) -> None:
    """The official 2D init: every Linear's weight N(0, std) and bias 0; BN gains 1 and biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            with torch.no_grad():
                m.weight.copy_(torch.randn(m.weight.shape, generator=generator) * std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm1d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class Maxout(nn.Module):
    """Blocks' LinearMaxout: a Linear to out·pieces units, then the max over each unit's `pieces` values."""

    def __init__(self, in_features: int, out_features: int, pieces: int = 5) -> None:
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x)  # (B, out·pieces)
        return h.view(*h.shape[:-1], self.out_features, self.pieces).amax(-1)  # (B, out)


class PacMLPGenerator(nn.Module):
    """z (B, z_dim) -> points (B, x_dim) through `layers` x (Linear `width`, BN, ReLU) and a linear output."""

    def __init__(self, z_dim: int = 2, x_dim: int = 2, width: int = 400, layers: int = 4,
                 batchnorm: bool = True) -> None:
        super().__init__()
        self.z_dim, self.x_dim = z_dim, x_dim
        mods: list[nn.Module] = []
        d = z_dim
        for _ in range(layers):
            # No bias before BN: BN subtracts it, and its zero gradient would only feed Adam rounding noise.
            mods += [nn.Linear(d, width, bias=not batchnorm)] + ([nn.BatchNorm1d(width)] if batchnorm else [])
            mods.append(nn.ReLU())
            d = width
        mods.append(nn.Linear(d, x_dim))
        self.net = nn.Sequential(*mods)
        init_normal(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"G expects z of shape (B, {self.z_dim}), got {tuple(z.shape)}.")
        return self.net(z)  # (B, x_dim)


class PacMLPDiscriminator(nn.Module):
    """B·m points (B·m, x_dim) -> one logit per packed group (B,), through `layers` maxout layers.

    With pack=1 this is the paper's plain GAN D; pack=m only widens the first layer to m·x_dim inputs.

    Taught in notebook 08.
    """

    def __init__(self, x_dim: int = 2, pack: int = 1, width: int = 200, layers: int = 3, pieces: int = 5) -> None:
        super().__init__()
        if pack < 1:
            raise ValueError(f"pack must be at least 1, got {pack}.")
        self.x_dim, self.pack = x_dim, pack
        mods: list[nn.Module] = []
        d = x_dim * pack
        for _ in range(layers):
            mods.append(Maxout(d, width, pieces))
            d = width
        mods.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*mods)
        init_normal(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.x_dim:
            raise ValueError(f"D expects unpacked points (B·m, {self.x_dim}), got {tuple(x.shape)}.")
        return self.net(pack(x, self.pack)).squeeze(1)  # (B,)


class PacDCGANDiscriminator(DCGANDiscriminator):
    """B·m images (B·m, channels, H, W) -> one logit per packed group (B,): a DCGAN D with channels·m inputs.

    For stacked MNIST (channels=3, 28 px); G is the unchanged `DCGANGenerator(channels=3)`. The paper's stacked-MNIST
    networks are carpedm20's DCGAN-tensorflow (5x5 kernels); this course's DCGAN uses 4x4 kernels.
    """

    def __init__(self, pack: int = 1, channels: int = 3, img_size: int = 28, ndf: int = 64) -> None:
        if pack < 1:
            raise ValueError(f"pack must be at least 1, got {pack}.")
        super().__init__(channels=channels * pack, img_size=img_size, ndf=ndf)
        self.pack = pack

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is not None:
            raise ValueError("PacDCGANDiscriminator takes no labels.")
        return super().forward(pack(x, self.pack))  # (B,)


class SmallStackedGenerator(nn.Module):
    """z (B, z_dim) -> Stacked-MNIST images (B, 3, 28, 28) in [-1, 1]: the G of the paper's Table 3 (unrolled GAN).

    Official code (`stacked_MNIST_experiments/unrolled_GAN_experiment/D=0.25G/model.py`): Linear to 64x4x4, BN,
    ReLU; three 3x3 stride-2 transposed convs to 32 (7x7), 16 (14x14) and 8 (28x28) channels, each with BN and
    ReLU; a 3x3 conv to 3 channels and tanh. z has 256 dimensions. Weights N(0, 0.02), biases 0 (as here).

    Taught in notebook 08.
    """

    def __init__(self, z_dim: int = 256) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.fc = nn.Linear(z_dim, 64 * 4 * 4)
        self.net = nn.Sequential(
            nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 3, 2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),                    # 7x7
            nn.ConvTranspose2d(32, 16, 3, 2, padding=1, output_padding=1), nn.BatchNorm2d(16), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(16, 8, 3, 2, padding=1, output_padding=1), nn.BatchNorm2d(8), nn.ReLU(),    # 28x28
            nn.Conv2d(8, 3, 3, padding=1), nn.Tanh())
        _init_conv(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"G expects z of shape (B, {self.z_dim}), got {tuple(z.shape)}.")
        return self.net(self.fc(z).view(len(z), 64, 4, 4))  # (B, 3, 28, 28)


class PacSmallDiscriminator(nn.Module):
    """B·m Stacked-MNIST images (B·m, 3, 28, 28) -> one logit per packed group (B,): the D of the paper's Table 3.

    Three 3x3 stride-2 convs of ndf, 2·ndf and 4·ndf channels (28 -> 14 -> 7 -> 4), each with BN and
    LeakyReLU(0.3), then a linear logit. The official code's `D=0.25G` uses ndf=2 and `D=0.5G` ndf=4 (G's
    transposed convs have 32, 16 and 8 channels). Packing widens the first conv to 3·m input channels.

    Taught in notebook 08.
    """

    def __init__(self, pack: int = 1, ndf: int = 2) -> None:
        super().__init__()
        if pack < 1 or ndf < 1:
            raise ValueError(f"pack and ndf must be at least 1, got pack={pack}, ndf={ndf}.")
        self.pack = pack
        layers: list[nn.Module] = []
        c = 3 * pack
        for w in (ndf, 2 * ndf, 4 * ndf):
            layers += [nn.Conv2d(c, w, 3, 2, padding=1), nn.BatchNorm2d(w), nn.LeakyReLU(0.3)]
            c = w
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * 4 * 4, 1))
        _init_conv(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1:] != (3, 28, 28):
            raise ValueError(f"D expects unpacked images (B·m, 3, 28, 28), got {tuple(x.shape)}.")
        return self.net(pack(x, self.pack)).squeeze(1)  # (B,)


def _init_conv(module: nn.Module) -> None:
    """DCGAN-tensorflow's init: conv, transposed-conv and linear weights N(0, 0.02), biases 0; BN gains 1."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
