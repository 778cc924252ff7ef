"""Volumetric building blocks (3D-GAN and any later voxel model): strided 3D up- and down-sampling blocks."""

from __future__ import annotations

from torch import nn

__all__ = ["down3d", "up3d", "volume_stages"]


def volume_stages(size: int, base: int = 4) -> int:
    """How many stride-2 stages lie between a base^3 volume and size^3: 32 -> 3, 64 -> 4."""
    stages, s = 0, size
    while s > base and s % 2 == 0:
        s, stages = s // 2, stages + 1
    if s != base or stages < 1:
        raise ValueError(f"size={size} is not {base}·2^k; use 32 or 64.")
    return stages


def up3d(c_in: int, c_out: int, norm: bool = True) -> nn.Sequential:
    """ConvTranspose3d 4x4x4, stride 2 (doubles D, H, W), then BN and ReLU."""
    layers: list[nn.Module] = [nn.ConvTranspose3d(c_in, c_out, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm3d(c_out))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def down3d(c_in: int, c_out: int, norm: bool = True, slope: float = 0.2) -> nn.Sequential:
    """Conv3d 4x4x4, stride 2 (halves D, H, W), then BN and LeakyReLU(slope); strides replace pooling."""
    layers: list[nn.Module] = [nn.Conv3d(c_in, c_out, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm3d(c_out))
    layers.append(nn.LeakyReLU(slope, inplace=True))
    return nn.Sequential(*layers)
