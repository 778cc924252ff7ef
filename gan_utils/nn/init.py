"""The DCGAN initialisation (Radford et al. 2015), which most later papers keep: InfoGAN, pix2pix, CycleGAN, ..."""

from __future__ import annotations

from torch import nn

from gan_utils.nn.normalization import VirtualBatchNorm

__all__ = ["weights_init"]


def weights_init(m: nn.Module) -> None:
    """DCGAN's initialisation, for `model.apply(weights_init)`: weights N(0, 0.02), BN gains N(1, 0.02), biases 0."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Conv3d, nn.ConvTranspose3d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, VirtualBatchNorm)):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
