"""Isola et al. 2017, pix2pix: the U-Net generator and the training step (cGAN loss plus lambda L1, D's loss halved).

The PatchGAN D that judges (input, output) pairs is a shared layer, `gan_utils.nn.translation.PatchDiscriminator`:
CycleGAN, pix2pixHD and vid2vid are built from it too. The losses are `gan_utils.losses.d_loss_bce` and
`g_loss_pix2pix`. Names and defaults follow junyanz/pytorch-CycleGAN-and-pix2pix (`models/networks.py`,
`models/pix2pix_model.py`): `ngf`, `n_down` (its `num_downs`), `lambda_L1`. Notebook 09 builds the U-Net and the step
inline and checks them against this module; notebook 11 trains its pix2pix baseline with `train_step`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from gan_utils.losses import d_loss_bce, g_loss_pix2pix, l1_loss
from gan_utils.nn.translation import norm_layer, use_bias

__all__ = ["UnetGenerator", "train_step", "unet_depth"]


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

    Taught in notebook 09.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, n_down: int = 8, ngf: int = 64,
                 norm: str = "batch", skips: bool = True, n_dropout: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        if n_down < 2:
            raise ValueError(f"n_down={n_down}; a U-Net needs at least 2 down steps.")
        self.n_down, self.skips = n_down, skips
        bias = use_bias(norm)
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


# --------------------------------------------------------------------------- the training step


def train_step(G: nn.Module, D: nn.Module | None, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer | None,
               x: torch.Tensor, y: torch.Tensor, lambda_L1: float = 100.0) -> dict[str, float]:
    """pix2pix's step: one D update on (x, y) against (x, G(x)), then one G update on cGAN + lambda_L1 * L1.

    x (B, C_in, H, W) is the input image (a one-hot label map), y (B, 3, H, W) its target photo. D's cross-entropy
    loss is halved (section 3.3 of the paper); G's adversarial term is the non-saturating one. D=None trains G on
    the L1 loss alone (the paper's "L1 only" ablation); lambda_L1=0 is its "cGAN only".

    Taught in notebook 09.
    """
    y_fake = G(x)  # (B, 3, H, W); dropout is the only noise
    if D is None:
        loss_l1 = l1_loss(y_fake, y)
        opt_G.zero_grad(set_to_none=True)
        loss_l1.backward()
        opt_G.step()
        return {"L1": loss_l1.item()}
    if opt_D is None:
        raise ValueError("a D needs its optimizer opt_D; pass D=None (and opt_D=None) for the L1-only run.")
    loss_D = 0.5 * d_loss_bce(D(torch.cat([x, y], 1)), D(torch.cat([x, y_fake.detach()], 1)))
    opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    opt_D.step()
    loss_G, loss_gan, loss_l1 = g_loss_pix2pix(D(torch.cat([x, y_fake], 1)), y_fake, y, lambda_L1)
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    opt_G.step()
    return {"loss_D": loss_D.item(), "loss_G_cGAN": loss_gan.item(), "L1": loss_l1.item()}
