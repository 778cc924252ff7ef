"""The offline stand-in for CIFAR-10: 32x32 colour images of ten classes of procedural shapes and textures."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_utils.data.base import cached_images

__all__ = ["SHAPE_CLASSES", "VERSION", "synthetic_shapes"]

# Bump whenever the generator's output changes, so stale caches are not reused.
VERSION = 1

# Index i stands in for CIFAR-10 class i. Index 7 (CIFAR's "horse", the class of the DCGAN one-class
# experiment) is the star, the object class with the most shape parameters, so collapse onto a few of them shows.
SHAPE_CLASSES: tuple[str, ...] = (
    "disc", "square", "triangle", "ring", "cross", "ellipse", "stripes", "star", "checker", "spot",
)  # fmt: skip
DISC, SQUARE, TRIANGLE, RING, CROSS, ELLIPSE, STRIPES, STAR, CHECKER, SPOT = range(10)

_SIZE = 32
_PX = 2.0 / _SIZE  # one pixel in the [-1, 1] image coordinates
_CHUNK = 512  # small chunks keep the working set in cache
_NOISE_GRIDS = (4, 9)  # control points per side of the coarse and the fine background noise


def _hsv(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """RGB (n, 3) from hue, saturation and value (n,) each in [0, 1]."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + h[:, None] * 6) % 6  # (n, 3)
    return v[:, None] - v[:, None] * s[:, None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _draw_params(n: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    def uniform(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(*(shape or (n,)), generator=g)

    # Half the images are bright shapes on dark ground, half the reverse, so there is always contrast but
    # no single brightness tells the classes apart.
    dark = torch.rand(n, generator=g) < 0.5
    bg_v = torch.where(dark[:, None], uniform(0.08, 0.45, n, 2), uniform(0.55, 0.95, n, 2))  # (n, 2)
    fg_v = torch.where(dark, uniform(0.65, 1.0), uniform(0.05, 0.4))
    bg_hue = uniform(0, 1)
    return {
        "center": uniform(-0.3, 0.3, n, 2),
        "radius": uniform(0.45, 0.85),
        "theta": uniform(0, 2 * math.pi),
        "squash": uniform(0.8, 1.0),  # mild anisotropy for every object; the ellipse gets its own
        "p1": torch.rand(n, generator=g),  # one class-specific shape parameter in [0, 1]
        "p2": torch.rand(n, generator=g),  # a second one
        "phase": uniform(0, 2 * math.pi, n, 2),
        "soft": uniform(0.8, 1.8),  # edge width in pixels: focus blur
        # two background colours of nearby hues, blended along a random direction
        "bg0": _hsv(bg_hue, uniform(0.1, 0.8), bg_v[:, 0]),
        "bg1": _hsv((bg_hue + uniform(-0.2, 0.2)) % 1, uniform(0.1, 0.8), bg_v[:, 1]),
        "bg_dir": uniform(0, 2 * math.pi),
        "bg_noise": uniform(0.03, 0.16),
        "fg": _hsv(uniform(0, 1), uniform(0.3, 1.0), fg_v),
        "fg_noise": uniform(0.0, 0.12),
        "light_dir": uniform(0, 2 * math.pi),
        "shade": uniform(0.0, 0.45),
        "shadow_off": uniform(0.04, 0.14, n, 2) * torch.where(torch.rand(n, 2, generator=g) < 0.5, -1.0, 1.0),
        "shadow": uniform(0.0, 0.55),
        "grain": uniform(0.01, 0.04),
    }


def _box(u: torch.Tensor, v: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Signed distance to an axis-aligned box of half-sides a, b."""
    du, dv = u.abs() - a, v.abs() - b
    return torch.hypot(du.clamp(min=0), dv.clamp(min=0)) + torch.maximum(du, dv).clamp(max=0)


def _shape_sdf(k: int, u: torch.Tensor, v: torch.Tensor, p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
    """Signed distance (in units of the shape's radius) to object class k, at local coordinates u, v (m, H, W)."""
    p1, p2 = p1[:, None, None], p2[:, None, None]
    rho = torch.hypot(u, v)
    if k == DISC:
        return rho - 1
    if k == SQUARE:
        corner = 0.3 * p1  # rounded corners, from sharp to soft
        half = 0.8 - corner
        return _box(u, v, half, half) - corner
    if k == TRIANGLE:
        # Intersection of three half-planes (inradius 0.5, circumradius 1), stretched from squat to tall.
        v = v * (0.75 + 0.5 * p1)
        c = math.cos(math.pi / 6)
        return torch.stack([-v, c * u + 0.5 * v, -c * u + 0.5 * v]).amax(0) - 0.5
    if k == RING:
        width = 0.12 + 0.2 * p1
        return (rho - (1 - width)).abs() - width
    if k == CROSS:
        width = 0.2 + 0.18 * p1
        arm = 1.0 - 0.15 * p2
        return torch.minimum(_box(u, v, arm, width), _box(u, v, width, arm))
    if k == ELLIPSE:
        b = 0.32 + 0.28 * p1  # minor/major axis ratio
        return (torch.hypot(u, v / b) - 1) * b
    if k == STAR:
        points = torch.where(p2 < 0.5, 5.0, 6.0)
        inner = 0.35 + 0.25 * p1
        frac = (torch.atan2(v, u) * points / (2 * math.pi)) % 1.0
        reach = inner + (1 - inner) * (2 * (frac - 0.5).abs())
        return (rho - reach) * 0.5  # the radial gap overstates the distance to the steep edges
    raise ValueError(f"class {k} is not an object class")


@lru_cache(maxsize=8)
def _upsampler(k: int, size: int = _SIZE) -> torch.Tensor:
    """(size, k) matrix that bicubically upsamples k control points to `size` points."""
    eye = torch.eye(k)[:, None, None, :]  # (k, 1, 1, k)
    return F.interpolate(eye, size=(1, size), mode="bicubic", align_corners=False)[:, 0, 0, :].T.contiguous()


def _smooth_noise(ctrl: torch.Tensor, size: int = _SIZE) -> torch.Tensor:
    """Smooth fields (m, C, size, size) from control values (m, C, k, k); separable, so cheap."""
    m, c, k, _ = ctrl.shape
    b = _upsampler(k, size)
    rows = (ctrl.reshape(-1, k) @ b.T).reshape(m * c, k, size)  # two large matmuls, not m * c small ones
    return (rows.transpose(1, 2).reshape(-1, k) @ b.T).reshape(m, c, size, size).transpose(2, 3)


def _render_chunk(y: torch.Tensor, p: dict[str, torch.Tensor], g: torch.Generator) -> torch.Tensor:
    """Float images (m, 3, H, W) in [0, 1] for labels y and their drawn parameters p."""
    m = y.shape[0]
    axis = (torch.arange(_SIZE, dtype=torch.float32) + 0.5) * _PX - 1  # pixel centres in [-1, 1]
    X, Y = axis.view(1, 1, _SIZE), axis.view(1, _SIZE, 1)  # broadcast, so per-axis terms stay cheap

    def col(t: torch.Tensor) -> torch.Tensor:  # (m,) -> (m, 1, 1) to broadcast over pixels
        return t[:, None, None]

    def along(angle: torch.Tensor) -> torch.Tensor:  # (m, H, W) projection on a direction
        return X * col(torch.cos(angle)) + Y * col(torch.sin(angle))

    t = (along(p["bg_dir"]) * 0.5 + 0.5).clamp_(0, 1)[:, None]  # (m, 1, H, W)
    bg = torch.lerp(p["bg0"][:, :, None, None], p["bg1"][:, :, None, None], t)  # (m, 3, H, W)
    # Coarse and fine noise, mostly brightness and partly colour, so the ground is mottled, not a rainbow.
    k0, k1 = _NOISE_GRIDS
    coarse = 0.7 * torch.randn(m, 1, k0, k0, generator=g) + 0.5 * torch.randn(m, 3, k0, k0, generator=g)
    fine = 0.7 * torch.randn(m, 1, k1, k1, generator=g) + 0.5 * torch.randn(m, 3, k1, k1, generator=g)
    ctrl = (_smooth_noise(coarse, k1) + 0.5 * fine) * p["bg_noise"][:, None, None, None]
    bg += _smooth_noise(ctrl)

    cover = torch.zeros(m, _SIZE, _SIZE)
    shadow = torch.zeros(m, _SIZE, _SIZE)
    for k in range(len(SHAPE_CLASSES)):
        idx = (y == k).nonzero().squeeze(1)
        if idx.numel() == 0:
            continue
        q = {name: v[idx] for name, v in p.items()}
        cos, sin = col(torch.cos(q["theta"])), col(torch.sin(q["theta"]))
        if k == STRIPES:
            across = -X * sin + Y * cos
            wave = 0.25 * col(q["p2"]) * torch.sin(3.0 * across + col(q["phase"][:, 0]))
            freq = math.pi * (2.0 + 3.5 * col(q["p1"]))  # 2 to 5.5 stripes per image width
            s = torch.sin(freq * (X * cos + Y * sin + wave) + col(q["phase"][:, 1])) + 0.6 * (col(q["p2"]) - 0.5)
            cover[idx] = (0.5 + s / (freq * col(q["soft"]) * _PX)).clamp(0, 1)
            continue
        if k == CHECKER:
            freq = math.pi * (1.5 + 2.5 * col(q["p1"]))  # 1.5 to 4 cells per image width
            u, v = X * cos + Y * sin, -X * sin + Y * cos
            s = torch.sin(freq * u + col(q["phase"][:, 0])) * torch.sin(freq * v + col(q["phase"][:, 1]))
            cover[idx] = (0.5 + 1.5 * s / col(q["soft"])).clamp(0, 1)
            continue
        r = col(q["radius"])
        if k == SPOT:
            # A soft glow with a brighter core, like a light in a hazy sky.
            dx, dy = X - col(q["center"][:, 0]), Y - col(q["center"][:, 1])
            sigma = r * (0.25 + 0.25 * col(q["p1"]))
            d2 = (dx * dx + dy * dy) / (sigma * sigma)
            cover[idx] = (torch.exp(-0.5 * d2) * 1.4).clamp(max=1)
            continue
        sq = col(q["squash"])
        for target, off in ((cover, None), (shadow, q["shadow_off"])):
            cx, cy = q["center"][:, 0], q["center"][:, 1]
            if off is not None:
                cx, cy = cx + off[:, 0], cy + off[:, 1]
            dx, dy = X - col(cx), Y - col(cy)
            u, v = (dx * cos + dy * sin) / r, (-dx * sin + dy * cos) / (r * sq)
            sdf = _shape_sdf(k, u, v, q["p1"], q["p2"]) * r * sq  # back to image units, erring on the short side
            target[idx] = (0.5 - sdf / (col(q["soft"]) * _PX)).clamp(0, 1)

    light = 1 + col(p["shade"]) * along(p["light_dir"])  # (m, H, W)
    ctrl = torch.randn(m, 1, _NOISE_GRIDS[1], _NOISE_GRIDS[1], generator=g) * p["fg_noise"][:, None, None, None]
    fg = p["fg"][:, :, None, None] * light[:, None] + _smooth_noise(ctrl)  # (m, 3, H, W)
    img = bg.mul_(1 - (col(p["shadow"]) * shadow)[:, None])
    img = img.lerp_(fg, cover[:, None])
    grain = torch.randn(m, 3, _SIZE, _SIZE, generator=g).mul_(col(p["grain"])[:, None])
    return img.add_(grain).clamp_(0, 1)


def _generate(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) % len(SHAPE_CLASSES))[torch.randperm(n, generator=g)]  # balanced, in random order
    params = _draw_params(n, g)
    x = torch.empty(n, 3, _SIZE, _SIZE, dtype=torch.uint8)
    for s in range(0, n, _CHUNK):
        sl = slice(s, s + _CHUNK)
        img = _render_chunk(y[sl], {k: v[sl] for k, v in params.items()}, g)
        x[sl] = (img * 255).round_().to(torch.uint8)
    return x, y.long()


def synthetic_shapes(n: int, seed: int = 0, cache_dir: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-sized coloured shapes and textures in 10 classes (SHAPE_CLASSES): uint8 images and labels.

    Returns images (n, 3, 32, 32) as uint8 in 0..255 and int64 labels (n,) balanced over the 10 classes. Each
    image varies in colour, size, position, rotation, shading, shadow, blur and its noisy gradient background.
    The same seed always gives the same data. With cache_dir, the set is stored there as .npz and read back.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    path = None if cache_dir is None else Path(cache_dir) / f"synthetic_shapes_{n}_{seed}_v{VERSION}.npz"
    return cached_images(path, (n, 3, _SIZE, _SIZE), lambda: _generate(n, seed))
