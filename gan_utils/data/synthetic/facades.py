"""The offline stand-in for CMP facades: procedural building fronts as label maps, photo-like renderings, instances.

Each image is one building: floors of windows on a jittered grid, sills, shutters (blinds) on some buildings,
balconies on some floors, a cornice under the roof line and above the ground floor, a door and shop windows on
the ground floor, sky and neighbouring buildings around it. The label map uses the CMP facade classes (and
their colours, FACADE_PALETTE); the photo is rendered from the same geometry with a wall colour per building,
plaster or brick texture, window frames and glass reflections, shading and sensor noise; the instance map gives
every window, balcony, door and shop window its own id (0 for walls, sky and other stuff), for pix2pixHD.
Everything is drawn with vectorised torch ops from a seeded generator, so a seed gives the same set anywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gan_utils.data.base import cached_arrays

__all__ = ["FACADE_CLASSES", "FACADE_PALETTE", "VERSION", "synthetic_facades"]

VERSION = 1  # part of the cache file name: bump when the drawing changes

# The CMP facade database's 12 classes, in its label order (1..12 there, 0..11 here).
FACADE_CLASSES: tuple[str, ...] = (
    "background", "facade", "window", "door", "cornice", "sill", "balcony", "blind", "deco", "molding",
    "pillar", "shop",
)  # fmt: skip
BACKGROUND, FACADE, WINDOW, DOOR, CORNICE, SILL, BALCONY, BLIND, DECO, MOLDING, PILLAR, SHOP = range(12)
# MATLAB's jet(12) over the classes in that order: the colours of the label halves in pix2pix's facades
# tarball (background dark blue, facade blue, windows (0, 85, 255), ...). Taken from the colour rule, not
# checked against the tarball's files, which this machine cannot fetch; load_facades measures the fit.
FACADE_PALETTE = torch.tensor([
    (0, 0, 170), (0, 0, 255), (0, 85, 255), (0, 170, 255), (0, 255, 255), (85, 255, 170), (170, 255, 85),
    (255, 255, 0), (255, 170, 0), (255, 85, 0), (255, 0, 0), (170, 0, 0)], dtype=torch.uint8)  # fmt: skip

_MAX_FLOORS, _MAX_COLS = 6, 7
_CHUNK = 64


def _u(g: torch.Generator, lo: float, hi: float, *shape: int) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(*shape, generator=g)


def _hsv(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """RGB (..., 3) from hue, saturation and value in [0, 1]."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + h[..., None] * 6) % 6
    return v[..., None] - v[..., None] * s[..., None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _smooth_noise(g: torch.Generator, n: int, size: int, cells: int) -> torch.Tensor:
    """Value noise (n, size, size) in about [-1, 1]: a random cells x cells grid, bicubically upsampled."""
    grid = torch.randn(n, 1, cells, cells, generator=g)
    return F.interpolate(grid, size=(size, size), mode="bicubic", align_corners=False)[:, 0]


def _draw(n: int, size: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One chunk: labels (n, H, W) int64, photos (n, 3, H, W) float in [0, 1], instances (n, H, W) int64."""
    H = W = size
    y = ((torch.arange(H) + 0.5) / H)[None, :, None].expand(n, H, W)
    x = ((torch.arange(W) + 0.5) / W)[None, None, :].expand(n, H, W)

    def per(t: torch.Tensor) -> torch.Tensor:  # (n,) -> (n, 1, 1), to broadcast over pixels
        return t[:, None, None]

    # --- geometry, in [0, 1] image coordinates
    full = torch.rand(n, generator=g) < 0.4
    bx0 = torch.where(full, 0.0, _u(g, 0.02, 0.14, n))
    bx1 = torch.where(full, 1.0, _u(g, 0.86, 0.98, n))
    roof = _u(g, 0.02, 0.12, n)
    cornice_h = _u(g, 0.02, 0.04, n)
    gf_h = _u(g, 0.14, 0.2, n)
    top, bottom = roof + cornice_h, 1.0 - gf_h
    n_floors = torch.randint(3, _MAX_FLOORS + 1, (n,), generator=g)
    n_cols = torch.randint(3, _MAX_COLS + 1, (n,), generator=g)
    floor_h = (bottom - top - 0.015) / n_floors
    col_w = (bx1 - bx0) / n_cols
    ww, wh, v0 = _u(g, 0.35, 0.6, n), _u(g, 0.45, 0.62, n), _u(g, 0.15, 0.28, n)
    jx = _u(g, -0.04, 0.04, n, _MAX_FLOORS, _MAX_COLS)  # the jitter of each window, in cell units
    jy = _u(g, -0.03, 0.03, n, _MAX_FLOORS, _MAX_COLS)
    js = _u(g, 0.93, 1.07, n, _MAX_FLOORS, _MAX_COLS)

    inside = (x >= per(bx0)) & (x < per(bx1)) & (y >= per(roof))
    fy = (y - per(top)) / per(floor_h)
    f = fy.floor().long()
    cx = (x - per(bx0)) / per(col_w)
    c = cx.floor().long()
    u, v = cx - c, fy - f
    fc, cc = f.clamp(0, _MAX_FLOORS - 1), c.clamp(0, _MAX_COLS - 1)
    rows = torch.arange(n)[:, None, None]
    wjx, wjy, wjs = jx[rows, fc, cc], jy[rows, fc, cc], js[rows, fc, cc]
    in_floors = inside & (f >= 0) & (f < per(n_floors)) & (c >= 0) & (c < per(n_cols))
    half_w = per(ww) * wjs / 2
    du = half_w - (u - 0.5 - wjx).abs()  # > 0 inside the window's columns, in cell widths
    wtop = per(v0) + wjy
    wbot = wtop + per(wh) * wjs
    window = in_floors & (du > 0) & (v >= wtop) & (v < wbot)
    sill = in_floors & (du > -0.05) & (v >= wbot) & (v < wbot + 0.07)
    has_blinds = per(torch.rand(n, generator=g) < 0.35)
    blind = in_floors & has_blinds & (du <= 0) & (du > -0.45 * half_w) & (v >= wtop) & (v < wbot)
    balcony_floor = torch.rand(n, _MAX_FLOORS, generator=g) < 0.3
    balcony_floor[:, 0] = False  # none on the top floor, under the cornice
    continuous = per(torch.rand(n, generator=g) < 0.4)
    bal_x = torch.where(continuous, torch.ones_like(du, dtype=torch.bool), du > -0.12)
    balcony = (in_floors & balcony_floor[rows, fc] & bal_x & (v >= wbot - 0.3 * per(wh)) & (v < wbot + 0.1))
    balcony &= ~(continuous & ((x < per(bx0) + 0.01) | (x > per(bx1) - 0.01)))
    roof_cornice = inside & (y < per(top))
    string_course = inside & (y >= per(bottom) - 0.015) & (y < per(bottom))
    ground = inside & (y >= per(bottom))
    gv = (y - per(bottom)) / per(gf_h)  # 0 at the top of the ground floor, 1 at the street
    door_col = (torch.rand(n, generator=g) * n_cols).long()
    door = ground & (c == per(door_col)) & ((u - 0.5).abs() < 0.25) & (gv > 0.15)
    has_shop = per(torch.rand(n, generator=g) < 0.6)
    shop = ground & has_shop & ~door & (c >= 0) & (c < per(n_cols)) & ((u - 0.5).abs() < 0.42) & (gv > 0.12) \
        & (gv < 0.9)
    gwindow = ground & ~has_shop & ~door & (c >= 0) & (c < per(n_cols)) & ((u - 0.5).abs() < 0.25) \
        & (gv > 0.25) & (gv < 0.75)

    labels = torch.full((n, H, W), BACKGROUND, dtype=torch.long)
    for mask, cls in ((inside, FACADE), (roof_cornice | string_course, CORNICE), (sill, SILL),
                      (window | gwindow, WINDOW), (blind, BLIND), (balcony, BALCONY), (shop, SHOP), (door, DOOR)):
        labels[mask] = cls
    inst = torch.zeros((n, H, W), dtype=torch.long)
    cell = 1 + fc * _MAX_COLS + cc  # 1..42, one per window cell
    inst = torch.where(labels == WINDOW, torch.where(ground, 100 + cc, cell), inst)
    inst = torch.where(labels == BALCONY, torch.where(continuous, 200 + fc * _MAX_COLS, 200 + cell), inst)
    inst = torch.where(labels == SHOP, 300 + cc, inst)
    inst = torch.where(labels == DOOR, 400, inst)

    # --- rendering
    hue = torch.where(torch.rand(n, generator=g) < 0.5, _u(g, 0.02, 0.14, n), torch.rand(n, generator=g))
    wall = _hsv(hue, _u(g, 0.05, 0.45, n), _u(g, 0.45, 0.92, n))  # (n, 3)
    img = wall[:, :, None, None].expand(n, 3, H, W).clone()
    brick = per(torch.rand(n, generator=g) < 0.3)
    bh = _u(g, 0.012, 0.022, n)
    row = (y / per(bh)).floor()
    bx = (x / per(2.2 * bh) + 0.5 * (row % 2))
    mortar = ((y / per(bh)) % 1 < 0.16) | ((bx % 1) < 0.08)
    plaster = 0.06 * _smooth_noise(g, n, size, 6) + 0.03 * _smooth_noise(g, n, size, 24)
    tex = torch.where(brick, torch.where(mortar, 0.18, 0.04 * _smooth_noise(g, n, size, 32)), plaster)
    img = img * (1 + tex[:, None])

    sky = torch.stack([_u(g, 0.45, 0.7, n), _u(g, 0.6, 0.8, n), _u(g, 0.8, 0.98, n)], 1)  # (n, 3)
    sky_img = sky[:, :, None, None] * (0.85 + 0.25 * y[:, None])
    neighbour = _hsv(torch.rand(n, generator=g), _u(g, 0.0, 0.3, n), _u(g, 0.3, 0.7, n))[:, :, None, None]
    nb_top = per(_u(g, 0.0, 0.3, n))
    bg = torch.where((y >= nb_top)[:, None], neighbour * (1 + 0.08 * _smooth_noise(g, n, size, 8)[:, None]), sky_img)

    stone = _hsv(hue, _u(g, 0.0, 0.2, n), _u(g, 0.75, 0.97, n))[:, :, None, None]
    glass = _hsv(_u(g, 0.5, 0.65, n), _u(g, 0.1, 0.4, n), _u(g, 0.12, 0.35, n))[:, :, None, None]
    frame = torch.where(torch.rand(n, generator=g)[:, None, None, None] < 0.6, stone,
                        _hsv(torch.rand(n, generator=g), _u(g, 0.2, 0.6, n), _u(g, 0.2, 0.6, n))[:, :, None, None])
    blind_c = _hsv(torch.rand(n, generator=g), _u(g, 0.2, 0.7, n), _u(g, 0.25, 0.8, n))[:, :, None, None]
    metal = _u(g, 0.05, 0.3, n)[:, None, None, None].expand(n, 3, 1, 1)
    wood = _hsv(_u(g, 0.03, 0.1, n), _u(g, 0.4, 0.8, n), _u(g, 0.15, 0.45, n))[:, :, None, None]

    px_w = (per(col_w) * W)  # one cell width in pixels
    fw = 1.2 / px_w  # a frame about one pixel wide, in cell widths
    dv = torch.minimum(v - wtop, wbot - v) * per(floor_h) / per(col_w)  # distance to the top/bottom edge, in cells
    on_frame = (torch.minimum(du, dv) < fw) | ((u - 0.5 - wjx).abs() < fw / 2) | ((v - (wtop + wbot) / 2).abs()
                                                                               * per(floor_h / col_w) < fw / 2)
    reflection = (0.6 + 0.7 * (1 - (v - wtop) / (per(wh) * wjs)).clamp(0, 1)) * (1 + 0.3 * (u - 0.5 - wjx))
    glass_img = glass * reflection[:, None]
    glass_img = torch.where(((v - wtop) * per(floor_h) * H < 1.5)[:, None], glass_img * 0.5, glass_img)  # lintel shadow
    win_img = torch.where(on_frame[:, None], frame, glass_img)
    slats = ((y * H / 2) % 1 < 0.5)[:, None]
    blind_img = blind_c * torch.where(slats, 0.8, 1.05)
    bars = (((x * W) / per(_u(g, 2.5, 4.0, n))) % 1 < 0.4)[:, None]
    rail_top = ((v - (wbot - 0.3 * per(wh))) * per(floor_h) * H < 1.5)[:, None]
    shop_light = _hsv(_u(g, 0.08, 0.15, n), _u(g, 0.2, 0.5, n), _u(g, 0.55, 0.9, n))[:, :, None, None]
    shop_img = torch.where(((u - 0.5).abs() > 0.39)[:, None] | ((gv - 0.12) * per(gf_h) * H < 1.5)[:, None],
                           frame * 0.6, shop_light * (0.7 + 0.4 * gv[:, None]))
    door_img = wood * torch.where((((u - 0.5).abs() > 0.17) | (gv < 0.25))[:, None], 0.8, 1.0)

    photo = torch.where(inside[:, None], img, bg)
    for mask, colour in ((roof_cornice | string_course, stone), (sill, stone), (window | gwindow, win_img),
                         (blind, blind_img), (shop, shop_img), (door, door_img)):
        photo = torch.where(mask[:, None], colour.expand_as(photo), photo)
    behind = photo * 0.55
    photo = torch.where(balcony[:, None], torch.where(bars | rail_top, metal.expand_as(photo), behind), photo)
    # shadows under the cornices and sills: the light comes from above
    below_cornice = inside & (y >= per(top)) & (y < per(top) + 0.012)
    below_sill = in_floors & (du > -0.05) & (v >= wbot + 0.07) & (v < wbot + 0.1) & ~balcony
    photo = torch.where((below_cornice | below_sill)[:, None], photo * 0.7, photo)
    light = 1 + per(_u(g, -0.15, 0.15, n)) * (y - 0.5) + per(_u(g, -0.12, 0.12, n)) * (x - 0.5)
    photo = photo * light[:, None] * per(_u(g, 0.8, 1.15, n))[:, None]
    photo = photo + 0.025 * torch.randn(photo.shape, generator=g)
    return labels, photo.clamp(0, 1), inst


def synthetic_facades(n: int, size: int = 128, seed: int = 0,
                      cache_dir: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n procedural facades at size x size: label maps (n, 1, H, W) uint8 in FACADE_CLASSES, photos (n, 3, H, W)
    uint8, instance maps (n, 1, H, W) int32. The same seed gives the same images; cached in `cache_dir`."""
    if n < 1 or size < 16:
        raise ValueError(f"n={n}, size={size}; need at least one image of at least 16 px.")

    def make() -> dict[str, np.ndarray]:
        g = torch.Generator().manual_seed(seed)
        labels, photos, insts = [], [], []
        for start in range(0, n, _CHUNK):
            lab, ph, ins = _draw(min(_CHUNK, n - start), size, g)
            labels.append(lab.to(torch.uint8)[:, None])
            photos.append((ph * 255 + 0.5).to(torch.uint8))
            insts.append(ins.to(torch.int32)[:, None])
        return {"labels": torch.cat(labels).numpy(), "photos": torch.cat(photos).numpy(),
                "inst": torch.cat(insts).numpy()}

    def valid(a: dict[str, np.ndarray]) -> bool:
        return all(k in a for k in ("labels", "photos", "inst")) and a["photos"].shape == (n, 3, size, size)

    path = None if cache_dir is None else Path(cache_dir) / f"synthetic_facades_v{VERSION}_{n}_{size}_{seed}.npz"
    a = cached_arrays(path, make, valid)
    return torch.from_numpy(a["labels"]), torch.from_numpy(a["photos"]), torch.from_numpy(a["inst"])
