"""Image-to-image translation layers that several papers share: the norms, the PatchGAN D, the ResNet G and block.

pix2pix introduced the PatchGAN (notebook 09); CycleGAN (10) judges with it, and pix2pixHD's multi-scale D (11)
and vid2vid's (12) are made of it. The ResNet generator (Johnson et al. 2016) is CycleGAN's G and pix2pixHD's
global G1. Each paper's own pieces live in its module: the U-Net in `models.pix2pix`, the image pool and the LR
decay in `models.cyclegan`. Names and defaults follow junyanz/pytorch-CycleGAN-and-pix2pix
(`models/networks.py`): `ngf`, `ndf`, `n_layers`, `n_blocks`. Every network takes a width (`ngf`/`ndf`) so a CPU
run can shrink it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

__all__ = [
    "PatchDiscriminator", "ResnetBlock", "ResnetGenerator", "norm_layer", "patch_output_size", "receptive_field",
    "use_bias",
]  # fmt: skip

NORMS = ("batch", "instance", "none")


def norm_layer(norm: str, channels: int) -> nn.Module:
    """The normalisation the papers use: batch (pix2pix), instance (CycleGAN, pix2pixHD) or none."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        # affine=False, no running stats: the reference code's InstanceNorm, the same at train and test time.
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm={norm!r}; use one of {NORMS}.")


def use_bias(norm: str) -> bool:
    """Whether a conv before this norm needs a bias: not before batch norm, whose mean subtraction cancels it."""
    # instance norm here has no affine shift, so a bias before it is kept, as in the reference code
    return norm != "batch"


# --------------------------------------------------------------------------- PatchGAN


class PatchDiscriminator(nn.Module):
    """pix2pix's PatchGAN D: one logit per overlapping patch; n_layers=3 sees 70x70, 1 sees 16x16, 5 sees 286x286.

    C64-C128-...: 4x4 convs, stride 2 for the first n_layers, then two with stride 1; LeakyReLU 0.2, no norm
    on the first layer; no sigmoid (the losses take logits). n_layers=0 is the 1x1 PixelGAN (1x1 convs). For
    pix2pix's conditional D, in_channels = input + output channels and D sees torch.cat([x, y], 1).

    Taught in notebook 09.
    """

    def __init__(self, in_channels: int = 6, ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        if n_layers < 0:
            raise ValueError(f"n_layers={n_layers}; use 0 (PixelGAN), 1 (16x16), 3 (70x70) or 5 (286x286).")
        bias = use_bias(norm)
        self.n_layers = n_layers
        if n_layers == 0:
            layers: list[nn.Module] = [
                nn.Conv2d(in_channels, ndf, 1), nn.LeakyReLU(0.2),
                nn.Conv2d(ndf, ndf * 2, 1, bias=bias), norm_layer(norm, ndf * 2), nn.LeakyReLU(0.2),
                nn.Conv2d(ndf * 2, 1, 1)]
        else:
            layers = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
            c = ndf
            for n in range(1, n_layers + 1):
                c_out = ndf * min(2 ** n, 8)
                stride = 2 if n < n_layers else 1  # the last C-layer keeps the resolution
                layers += [nn.Conv2d(c, c_out, 4, stride, 1, bias=bias), norm_layer(norm, c_out), nn.LeakyReLU(0.2)]
                c = c_out
            layers.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = patch_output_size(self, (x.shape[-2], x.shape[-1]))
        if h < 1 or w < 1:
            raise ValueError(f"input {x.shape[-1]}x{x.shape[-2]} is too small for n_layers={self.n_layers} (it "
                             "would leave no patch). Use fewer layers or larger images.")
        return self.model(x)  # (B, 1, h, w) logits, one per patch


def _first(v: Any) -> Any:
    return v[0] if isinstance(v, tuple) else v


def _conv_layers(model_or_layers: nn.Module | Iterable[Any]) -> list[tuple[int, int, int, int]]:
    """(kernel, stride, padding, dilation) of every conv or pooling layer, in the order they are applied."""
    if isinstance(model_or_layers, nn.Module):
        out = []
        for m in model_or_layers.modules():
            if isinstance(m, nn.ConvTranspose2d):
                raise ValueError("receptive_field covers encoders (convs and pooling), not transposed convs.")
            if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
                k, s, p, d = (_first(getattr(m, a, 1)) for a in ("kernel_size", "stride", "padding", "dilation"))
                if isinstance(p, str):
                    raise ValueError(f"{m} uses padding={p!r}; give numeric padding to compute sizes.")
                out.append((k, s, p, d))
        return out
    return [(int(t[0]), int(t[1]), int(t[2]) if len(t) > 2 else 0, int(t[3]) if len(t) > 3 else 1)
            for t in model_or_layers]


def receptive_field(model_or_layers: nn.Module | Sequence[tuple[int, ...]]) -> int:
    """How many input pixels (per side) one output unit sees: 70 for pix2pix's PatchGAN with n_layers=3.

    Takes a model (its Conv2d and pooling layers, in registration order, which is the order a Sequential
    applies them) or a list of (kernel, stride) tuples. Each layer widens the field by (kernel - 1) times the
    product of the strides before it.
    """
    rf, jump = 1, 1
    for k, s, _, d in _conv_layers(model_or_layers):
        rf += (k - 1) * d * jump
        jump *= s
    return rf


def patch_output_size(model_or_layers: nn.Module | Sequence[tuple[int, ...]],
                      size: tuple[int, int]) -> tuple[int, int]:
    """The (H, W) of the output map for an input of size (H, W): 30x30 patches for the 70x70 D at 256 px."""
    h, w = size
    for k, s, p, d in _conv_layers(model_or_layers):
        h = (h + 2 * p - d * (k - 1) - 1) // s + 1
        w = (w + 2 * p - d * (k - 1) - 1) // s + 1
    return h, w


# --------------------------------------------------------------------------- CycleGAN ResNet G


class ResnetBlock(nn.Module):
    """x + conv-norm-ReLU-conv-norm(x), 3x3 convs with reflection padding (Johnson et al.'s residual block).

    Taught in notebook 10.
    """

    def __init__(self, channels: int, norm: str = "instance", dropout: float = 0.0) -> None:
        super().__init__()
        bias = use_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias),
                                   norm_layer(norm, channels), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's G: c7s1-64, d128, d256, n_blocks x R256, u128, u64, c7s1-3 (6 blocks at 128 px, 9 at 256).

    Reflection padding and instance norm, as in the paper's appendix; `ngf` scales every width (64 in the
    paper). Works at any size divisible by 4.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_blocks: int = 9,
                 norm: str = "instance", dropout: float = 0.0, n_down: int = 2) -> None:
        super().__init__()
        bias = use_bias(norm)
        self.n_down = n_down
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=bias),
                                   norm_layer(norm, ngf), nn.ReLU()]
        c = ngf
        for _ in range(n_down):  # d128, d256
            layers += [nn.Conv2d(c, c * 2, 3, 2, 1, bias=bias), norm_layer(norm, c * 2), nn.ReLU()]
            c *= 2
        layers += [ResnetBlock(c, norm, dropout) for _ in range(n_blocks)]
        for _ in range(n_down):  # u128, u64
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                       norm_layer(norm, c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        step = 2 ** self.n_down
        if x.shape[-1] % step or x.shape[-2] % step:
            raise ValueError(f"input {x.shape[-1]}x{x.shape[-2]} is not divisible by {step}; resize the images to "
                             "a multiple of it (64, 128, 256).")
        return self.model(x)  # (B, out_channels, H, W) in [-1, 1]
