"""The offline stand-in for ModelNet: procedural voxel furniture (chairs, tables, sofas, lamps) at 32^3 or 64^3.

Each shape is a union of boxes and cone frustums in the unit cube, drawn with its own proportions, thicknesses,
leg style, back and arms, then voxelised at voxel centres. Axes are (x, y, z) with z up and a chair's back
towards +y, as in the ModelNet10 voxels (see `gan_utils.data.voxels`). The same seed gives the same shapes at
both sizes, and a part thinner than a voxel is widened to one voxel so that no leg vanishes at 32^3.
"""

from __future__ import annotations

import torch

__all__ = ["FURNITURE_CLASSES", "VERSION", "synthetic_furniture"]

VERSION = 1  # bump whenever the output changes
FURNITURE_CLASSES: tuple[str, ...] = ("chair", "table", "sofa", "lamp")
_BOXES = 10  # the most boxes one shape uses (a chair with four legs, two arms and a back)
_CHUNK = 128


def _u(g: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def _box(cx: torch.Tensor, cy: torch.Tensor, z0: torch.Tensor, wx: torch.Tensor, wy: torch.Tensor,
         z1: torch.Tensor) -> torch.Tensor:
    """Boxes (n, 6) as (x0, y0, z0, x1, y1, z1) from a centre, widths and a z range."""
    return torch.stack([cx - wx / 2, cy - wy / 2, z0, cx + wx / 2, cy + wy / 2, z1], 1)


def _none(n: int) -> torch.Tensor:
    return torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0]).expand(n, 6)  # lo > hi: an empty box


def _legs(cx: torch.Tensor, cy: torch.Tensor, wx: torch.Tensor, wy: torch.Tensor, t: torch.Tensor,
          z1: torch.Tensor) -> list[torch.Tensor]:
    """Four square legs of thickness t under a top of size wx * wy centred at (cx, cy), from the floor to z1."""
    zero = torch.zeros_like(t)
    return [_box(cx + sx * (wx - t) / 2, cy + sy * (wy - t) / 2, zero, t, t, z1) for sx in (-1, 1) for sy in (-1, 1)]


def _chairs(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    c = torch.full((n,), 0.5)
    w, d = _u(g, n, 0.45, 0.75), _u(g, n, 0.4, 0.65)
    seat_z, seat_t, leg_t = _u(g, n, 0.3, 0.5), _u(g, n, 0.04, 0.1), _u(g, n, 0.04, 0.11)
    top = seat_z + seat_t
    back_top, back_t = _u(g, n, 0.8, 0.98).maximum(top + 0.2), _u(g, n, 0.04, 0.1)
    back_w = w * _u(g, n, 0.7, 1.0)
    cy = c - _u(g, n, 0.0, 0.06)
    boxes = _legs(c, cy, w, d, leg_t, seat_z)
    solid_sides = torch.rand(n, generator=g) < 0.2  # panels instead of four legs, like a sled chair
    for i, sx in ((0, -1), (3, 1)):
        panel = _box(c + sx * (w - leg_t) / 2, cy, torch.zeros(n), leg_t, d, seat_z)
        boxes[i] = torch.where(solid_sides[:, None], panel, boxes[i])
    for i in (1, 2):
        boxes[i] = torch.where(solid_sides[:, None], _none(n), boxes[i])
    boxes.append(_box(c, cy, seat_z, w, d, top))  # seat
    boxes.append(_box(c, cy + (d - back_t) / 2, top, back_w, back_t, back_top))  # back
    arms = torch.rand(n, generator=g) < 0.4
    arm_z, arm_t = top + _u(g, n, 0.12, 0.22), _u(g, n, 0.04, 0.08)
    for sx in (-1, 1):
        arm = _box(c + sx * (w - arm_t) / 2, cy, arm_z - arm_t, arm_t, d, arm_z)
        post = _box(c + sx * (w - arm_t) / 2, cy - (d - arm_t) / 2, top, arm_t, arm_t, arm_z)
        boxes.append(torch.where(arms[:, None], arm, _none(n)))
        boxes.append(torch.where(arms[:, None], post, _none(n)))
    return torch.stack(boxes, 1), torch.empty(n, 0, 6)


def _tables(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    c = torch.full((n,), 0.5)
    w, d = _u(g, n, 0.6, 0.96), _u(g, n, 0.4, 0.9)
    top_z, top_t, leg_t = _u(g, n, 0.4, 0.8), _u(g, n, 0.04, 0.1), _u(g, n, 0.05, 0.12)
    inset = _u(g, n, 0.0, 0.1)
    legs = _legs(c, c, w - inset, d - inset, leg_t, top_z)
    pedestal = torch.rand(n, generator=g) < 0.3
    column = _box(c, c, torch.zeros(n), leg_t * 1.5, leg_t * 1.5, top_z)
    foot = _box(c, c, torch.zeros(n), w * 0.5, d * 0.5, torch.full((n,), 0.05))
    legs = [torch.where(pedestal[:, None], p, leg) for p, leg in zip((column, foot, _none(n), _none(n)), legs,
                                                                      strict=True)]
    shelf = torch.rand(n, generator=g) < 0.3
    shelf_z = top_z * _u(g, n, 0.2, 0.4)
    shelf_box = torch.where((shelf & ~pedestal)[:, None], _box(c, c, shelf_z, w - inset, d - inset, shelf_z + 0.04),
                            _none(n))
    boxes = [*legs, _box(c, c, top_z, w, d, top_z + top_t), shelf_box]
    return torch.stack(boxes + [_none(n)] * (_BOXES - len(boxes)), 1), torch.empty(n, 0, 6)


def _sofas(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    c = torch.full((n,), 0.5)
    w, d = _u(g, n, 0.8, 0.98), _u(g, n, 0.4, 0.65)
    foot = _u(g, n, 0.0, 0.1)
    seat_z = foot + _u(g, n, 0.2, 0.3)
    back_z, back_t = _u(g, n, 0.55, 0.8), _u(g, n, 0.08, 0.2)
    arm_z, arm_t = seat_z + _u(g, n, 0.1, 0.25), _u(g, n, 0.06, 0.18)
    arms = torch.rand(n, generator=g) < 0.85
    boxes = _legs(c, c, w, d, torch.full((n,), 0.06), foot)
    boxes += [_box(c, c, foot, w, d, seat_z),  # base and cushions
              _box(c, c + (d - back_t) / 2, seat_z, w, back_t, back_z)]
    for sx in (-1, 1):
        boxes.append(torch.where(arms[:, None], _box(c + sx * (w - arm_t) / 2, c, seat_z, arm_t, d, arm_z), _none(n)))
    return torch.stack(boxes + [_none(n)] * (_BOXES - len(boxes)), 1), torch.empty(n, 0, 6)


def _lamps(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    c = torch.full((n,), 0.5)
    zero = torch.zeros(n)
    base_r, base_t = _u(g, n, 0.12, 0.3), _u(g, n, 0.03, 0.08)
    pole_t, pole_z = _u(g, n, 0.03, 0.07), _u(g, n, 0.55, 0.8)
    shade_h = _u(g, n, 0.15, 0.3)
    shade_lo, shade_hi = _u(g, n, 0.15, 0.35), _u(g, n, 0.06, 0.3)
    shade_z0 = (pole_z - shade_h * 0.3).clamp(max=0.97 - shade_h)
    square_base = torch.rand(n, generator=g) < 0.3
    base_box = torch.where(square_base[:, None], _box(c, c, zero, 2 * base_r, 2 * base_r, base_t), _none(n))
    boxes = [base_box, _box(c, c, zero, pole_t, pole_t, pole_z)]
    cones = [torch.stack([c, c, zero, base_t, torch.where(square_base, -1.0, base_r), base_r], 1),
             torch.stack([c, c, shade_z0, shade_z0 + shade_h, shade_lo, shade_hi], 1)]
    return torch.stack(boxes + [_none(n)] * (_BOXES - len(boxes)), 1), torch.stack(cones, 1)


_BUILDERS = {"chair": _chairs, "table": _tables, "sofa": _sofas, "lamp": _lamps}


def _voxelise(boxes: torch.Tensor, cones: torch.Tensor, size: int) -> torch.Tensor:
    """Occupancy (n, size, size, size) bool of unions of boxes (n, K, 6) and cone frustums (n, C, 6)."""
    u = (torch.arange(size) + 0.5) / size  # voxel centres
    lo, hi = boxes[..., :3], boxes[..., 3:]
    # A part thinner than a voxel is widened to one voxel about its middle, so that it is never lost.
    thin = (hi - lo < 1.0 / size) & (hi >= lo)
    mid = (lo + hi) / 2
    lo = torch.where(thin, mid - 0.5001 / size, lo)
    hi = torch.where(thin, mid + 0.5001 / size, hi)
    inside = (u >= lo[..., None]) & (u <= hi[..., None])  # (n, K, 3, size)
    occ = torch.zeros(boxes.shape[0], size, size, size, dtype=torch.bool)
    for k in range(boxes.shape[1]):
        occ |= inside[:, k, 0, :, None, None] & inside[:, k, 1, None, :, None] & inside[:, k, 2, None, None, :]
    for k in range(cones.shape[1]):
        cx, cy, z0, z1, r0, r1 = cones[:, k].unbind(1)
        z1 = torch.maximum(z1, z0 + 1.0 / size)
        t = ((u[None] - z0[:, None]) / (z1 - z0)[:, None]).clamp(0, 1)  # (n, size)
        r = (r0[:, None] + (r1 - r0)[:, None] * t).clamp(min=0.5 / size) * (r0 >= 0)[:, None]
        in_z = (u[None] >= z0[:, None]) & (u[None] <= z1[:, None])
        d2 = (u[None, :, None] - cx[:, None, None]) ** 2 + (u[None, None, :] - cy[:, None, None]) ** 2  # (n, S, S)
        occ |= (d2[..., None] <= (r * r)[:, None, None, :]) & in_z[:, None, None, :]
    return occ


def synthetic_furniture(n: int, size: int = 32, seed: int = 0, classes: tuple[str, ...] = FURNITURE_CLASSES
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """n procedural furniture grids (n, 1, size, size, size) uint8 {0, 1} and labels (n,) indexing `classes`."""
    unknown = [c for c in classes if c not in _BUILDERS]
    if unknown or not classes:
        raise ValueError(f"classes={classes}; choose from {FURNITURE_CLASSES}.")
    if size < 16:
        raise ValueError(f"size={size} is too coarse for legs and backs; use 32 or 64.")
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % len(classes)
    labels = labels[torch.randperm(n, generator=g)]
    out = torch.zeros(n, 1, size, size, size, dtype=torch.uint8)
    for i, c in enumerate(classes):
        idx = torch.nonzero(labels == i).flatten()
        boxes, cones = _BUILDERS[c](len(idx), g)
        for s in range(0, len(idx), _CHUNK):
            j = idx[s:s + _CHUNK]
            out[j, 0] = _voxelise(boxes[s:s + _CHUNK], cones[s:s + _CHUNK], size).to(torch.uint8)
    return out, labels
