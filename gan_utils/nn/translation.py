"""The image-to-image translation blocks: pix2pix's U-Net and PatchGAN, CycleGAN's ResNet G, image pool, LR decay.

Shared by notebooks 09 (pix2pix), 10 (CycleGAN) and 11 (pix2pixHD). Names and defaults follow the papers and
junyanz/pytorch-CycleGAN-and-pix2pix (`models/networks.py`, `util/image_pool.py`): `ngf`, `ndf`, `n_layers`,
`n_blocks`, `pool_size`. Every network takes a width (`ngf`/`ndf`) so a CPU run can shrink it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

__all__ = [
    "ImagePool", "PatchDiscriminator", "ResnetBlock", "ResnetGenerator", "UnetGenerator",
    "linear_decay", "norm_layer", "patch_output_size", "receptive_field", "unet_depth",
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


def _use_bias(norm: str) -> bool:
    # A bias before batch norm is cancelled by its mean subtraction; instance norm here has no affine shift.
    return norm != "batch"


# --------------------------------------------------------------------------- pix2pix U-Net


def unet_depth(size: int | tuple[int, int]) -> int:
    """The number of down steps that takes an image of `size` (side, or (W, H)) to a 1-pixel bottleneck side."""
    side = min(size) if isinstance(size, tuple) else size
    if side < 2 or side & (side - 1):
        raise ValueError(f"size={size}: the U-Net halves the image at every step, so its smaller side must be a "
                         "power of two (64, 128, 256). Resize the images, or pass n_down explicitly.")
    return int(math.log2(side))


class UnetGenerator(nn.Module):
    """pix2pix's G: an encoder-decoder with skips between mirrored layers (skips=False: the plain encoder-decoder).

    Encoder C64-C128-C256-C512-C512-...: 4x4 convs, stride 2, LeakyReLU 0.2, no norm on the first layer or
    the bottleneck. Decoder: ReLU, 4x4 transposed convs, norm; dropout 0.5 on the first `n_dropout` decoder
    layers is the only noise (the paper's CD512-CD1024-CD1024). The output layer ends in tanh. Channels are
    min(ngf * 2^i, ngf * 8). `n_down` = 8 is `unet_256`; unet_depth(size) gives a 1x1 bottleneck at any size.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, n_down: int = 8, ngf: int = 64,
                 norm: str = "batch", skips: bool = True, n_dropout: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        if n_down < 2:
            raise ValueError(f"n_down={n_down}; a U-Net needs at least 2 down steps.")
        self.n_down, self.skips = n_down, skips
        bias = _use_bias(norm)
        ch = [ngf * min(2 ** i, 8) for i in range(n_down)]  # output channels of down step i
        downs = [nn.Conv2d(in_channels, ch[0], 4, 2, 1, bias=bias)]
        for i in range(1, n_down):
            inner = i == n_down - 1
            downs.append(nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(ch[i - 1], ch[i], 4, 2, 1, bias=bias),
                                       nn.Identity() if inner else norm_layer(norm, ch[i])))
        ups: list[nn.Module] = []
        for i in range(n_down):  # ups[i] mirrors downs[i]; it runs in reverse order
            c_in = ch[i] * (2 if skips and i < n_down - 1 else 1)
            if i == 0:
                ups.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh()))
                continue
            layers = [nn.ReLU(), nn.ConvTranspose2d(c_in, ch[i - 1], 4, 2, 1, bias=bias), norm_layer(norm, ch[i - 1])]
            if n_down - i <= n_dropout:
                layers.append(nn.Dropout(dropout))
            ups.append(nn.Sequential(*layers))
        self.downs, self.ups = nn.ModuleList(downs), nn.ModuleList(ups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        step = 2 ** self.n_down
        if x.shape[-1] % step or x.shape[-2] % step:
            raise ValueError(f"input {x.shape[-1]}x{x.shape[-2]} is not divisible by 2^n_down = {step}. Use "
                             f"n_down=unet_depth(size) (e.g. {unet_depth(64)} at 64 px), or resize the images.")
        feats = []
        for down in self.downs:
            x = down(x)
            feats.append(x)  # (B, ch[i], H / 2^(i+1), W / 2^(i+1))
        h = feats[-1]
        for i in reversed(range(self.n_down)):
            if self.skips and i < self.n_down - 1:
                h = torch.cat([h, feats[i]], dim=1)  # the skip: the mirrored encoder layer's features
            h = self.ups[i](h)
        return h  # (B, out_channels, H, W) in [-1, 1]


# --------------------------------------------------------------------------- PatchGAN


class PatchDiscriminator(nn.Module):
    """pix2pix's PatchGAN D: one logit per overlapping patch; n_layers=3 sees 70x70, 1 sees 16x16, 5 sees 286x286.

    C64-C128-...: 4x4 convs, stride 2 for the first n_layers, then two with stride 1; LeakyReLU 0.2, no norm
    on the first layer; no sigmoid (the losses take logits). n_layers=0 is the 1x1 PixelGAN (1x1 convs). For
    pix2pix's conditional D, in_channels = input + output channels and D sees torch.cat([x, y], 1).
    """

    def __init__(self, in_channels: int = 6, ndf: int = 64, n_layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        if n_layers < 0:
            raise ValueError(f"n_layers={n_layers}; use 0 (PixelGAN), 1 (16x16), 3 (70x70) or 5 (286x286).")
        bias = _use_bias(norm)
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
    """x + conv-norm-ReLU-conv-norm(x), 3x3 convs with reflection padding (Johnson et al.'s residual block)."""

    def __init__(self, channels: int, norm: str = "instance", dropout: float = 0.0) -> None:
        super().__init__()
        bias = _use_bias(norm)
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
        bias = _use_bias(norm)
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


# --------------------------------------------------------------------------- image pool, LR decay


class ImagePool:
    """CycleGAN's history of generated images (Shrivastava et al.): D sees older fakes too, which damps oscillation.

    `query(fakes)` returns a batch of the same size. Until the pool holds `pool_size` images, each new fake is
    stored and returned. Once it is full, each fake is returned with probability 1/2; otherwise a stored fake
    chosen at random is returned and the new one takes its place. pool_size=0 returns the fakes unchanged.
    The draws come from the pool's own seeded generator, and `state_dict()` holds the images and that
    generator, so a resumed run continues exactly (pass the pool to Trainer(stateful=...)). The stored images live
    on the CPU, where a checkpoint loads them, and come back on the device of the fakes.
    """

    def __init__(self, pool_size: int = 50, seed: int = 0) -> None:
        if pool_size < 0:
            raise ValueError(f"pool_size={pool_size}; use 0 (no pool) or a positive size (the paper's 50).")
        self.pool_size = pool_size
        self.images: list[torch.Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """A batch like `fakes` (B, C, H, W), part new and part from the history; detached from G's graph."""
        fakes = fakes.detach()
        if self.pool_size == 0:
            return fakes
        out = []
        for fake in fakes:
            if len(self.images) < self.pool_size:
                self.images.append(fake.cpu().clone())
                out.append(fake)
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(self.pool_size, (), generator=self.generator))
                out.append(self.images[i].to(fake.device))
                self.images[i] = fake.cpu().clone()
            else:
                out.append(fake)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        """The stored fakes (one tensor) and the generator state, for a checkpoint."""
        images = torch.stack(self.images) if self.images else torch.empty(0)
        return {"pool_size": self.pool_size, "images": images, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what state_dict() saved; the pool size must match."""
        if int(state["pool_size"]) != self.pool_size:
            raise ValueError(f"the checkpoint's pool holds up to {state['pool_size']} images, this one "
                             f"{self.pool_size}; build the pool with the same pool_size.")
        images = state["images"]
        self.images = [im.cpu().clone() for im in images] if images.numel() else []
        self.generator.set_state(state["generator"].cpu())


def linear_decay(optimizer: torch.optim.Optimizer, n_constant: int,
                 n_decay: int) -> torch.optim.lr_scheduler.LambdaLR:
    """CycleGAN's schedule: the initial LR for n_constant epochs (or steps), then linearly towards 0 over n_decay.

    The reference code's rule (`lambda_rule` with epoch_count=1): after e calls to scheduler.step(), the LR is
    lr * (1 - max(0, e + 1 - n_constant) / (n_decay + 1)), so the last of the n_constant + n_decay epochs runs
    at lr / (n_decay + 1) and the next one would run at 0. Call scheduler.step() once per epoch (or step);
    its state_dict (the count) resumes with the run.
    """
    if n_constant < 0 or n_decay < 1:
        raise ValueError(f"n_constant={n_constant}, n_decay={n_decay}; need n_constant >= 0 and n_decay >= 1 "
                         "(the paper: 100 and 100 epochs).")

    def factor(e: int) -> float:
        return max(0.0, 1.0 - max(0, e + 1 - n_constant) / (n_decay + 1))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
