"""The offline stand-in for MNIST: MNIST-like digits rendered from matplotlib's fonts and hand-drawn strokes.

The digits come from a fixed bank of distance fields: the outlines of 21 matplotlib fonts, their centre
lines, and hand-written stroke templates. Each image warps one field (rotation, slant, aspect, elastic
distortion), inks it at a random stroke width, sometimes breaks a stroke, and is normalised as MNIST was
(larger side of the box to 20 px, centre of mass to the middle of 28x28). A LeNet trained on 60k of them
alone scores about 94% on the real MNIST test set (benchmarks/synthetic_digits_vs_mnist.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from skimage.morphology import skeletonize

from gan_utils.data.base import cached_images

__all__ = ["DIGIT_FONTS", "VERSION", "synthetic_digits"]

# Bump whenever the generator's output changes, so stale caches are not reused (v1: an early draft; v2: our
# own Zhang-Suen thinning, whose centre lines differ from skimage's by a few pixels per glyph).
VERSION = 3


# The matplotlib fonts whose digits look like digits (DejaVu*Display, STIXNonUni*, STIXSiz*, LastResortHE,
# cmex10 and cmsy10 lack digits or map them to other glyphs; cmmi10 has old-style figures).
DIGIT_FONTS: tuple[str, ...] = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmb10.ttf", "cmss10.ttf", "cmti10.ttf", "cmtt10.ttf",
)  # fmt: skip

_RES = 64  # side of the glyph bank's canvas, in bank pixels
_CANVAS = 48  # side of the warped canvas; the fields are smooth, so it can be coarser than the bank
_GLYPH_H = 44.0  # glyph height in bank pixels; the margin leaves room for rotation, slant and distortion
_BOX = 20.0  # MNIST scales each digit so that its larger side fits 20 of the 28 pixels
_OUT = 28
_SUPER = 2  # supersampling factor of the final resampling, for MNIST-like antialiasing
_CHUNK = 2048
_FLOW_K = 5  # control points per side of the elastic displacement field

# Each bank entry is rendered in one of three ways. A font outline gives a filled shape whose stroke
# contrast is typographic; its skeleton traced with a round pen and the hand-written templates below give
# the uniform ballpoint strokes that dominate MNIST.
_FILL, _PEN, _TEMPLATE = 0, 1, 2
_KIND_WEIGHTS = (0.2, 0.35, 0.45)


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _glyph_coverage(font_file: Path, char: str) -> np.ndarray:
    """Antialiased coverage (RES, RES) in [0, 1] of one character, scaled to the bank's glyph height."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    path = TextPath((0, 0), char, size=1, prop=FontProperties(fname=font_file))
    ext = path.get_extents()
    scale = _GLYPH_H / max(ext.height, ext.width)
    to_canvas = (
        Affine2D()
        .translate(-(ext.x0 + ext.x1) / 2, -(ext.y0 + ext.y1) / 2)
        .scale(scale)
        .translate(_RES / 2, _RES / 2)
    )
    renderer = RendererAgg(_RES, _RES, 72)
    renderer.draw_path(renderer.new_gc(), path, to_canvas, (1.0, 1.0, 1.0))
    return np.asarray(renderer.buffer_rgba())[..., 3].astype(np.float32) / 255.0


def _grid_points() -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(_RES, dtype=torch.float32), torch.arange(_RES, dtype=torch.float32),
                            indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1)  # (RES*RES, 2) as (x, y)


def _distance_to(points: torch.Tensor) -> torch.Tensor:
    """Distance (RES, RES) from every bank pixel to the nearest of the given (x, y) points."""
    return torch.cdist(_grid_points(), points).amin(dim=1).reshape(_RES, _RES)


def _signed_distance(coverage: np.ndarray) -> torch.Tensor:
    """Signed distance (RES, RES) to a glyph's outline, positive inside, so thresholds set stroke width."""
    inside = torch.from_numpy(coverage > 0.5)
    # The nearest pixel across the outline is always one that touches it, so only those are searched.
    pad = F.pad(inside[None, None].float(), (1, 1, 1, 1), mode="replicate")
    has_in = F.max_pool2d(pad, 3, stride=1)[0, 0] > 0
    has_out = -F.max_pool2d(-pad, 3, stride=1)[0, 0] < 1
    pts = _grid_points()
    d_in = _distance_to(pts[(~inside & has_in).reshape(-1)])  # for inside pixels: how far to the background
    d_out = _distance_to(pts[(inside & has_out).reshape(-1)])
    return torch.where(inside, d_in - 0.5, 0.5 - d_out)


# Hand-written digit shapes as centre-line strokes in a unit box (x right, y down). They supply the shapes
# fonts lack: the plain 1, the open-top 4, looped 2s, crossed 7s, straight-stemmed 9s, single-stroke 8s.
_Stroke = np.ndarray  # (m, 2) polyline


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float) -> _Stroke:
    t = np.radians(np.linspace(a0, a1, max(8, int(abs(a1 - a0) / 4))))
    return np.stack([cx + rx * np.cos(t), cy - ry * np.sin(t)], axis=1)


def _line(*pts: tuple[float, float]) -> _Stroke:
    out = [np.linspace(p, q, 24) for p, q in zip(pts[:-1], pts[1:], strict=False)]
    return np.concatenate(out)


def _bezier(p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float],
            p3: tuple[float, float]) -> _Stroke:
    t = np.linspace(0, 1, 40)[:, None]
    a, b, c, d = (np.asarray(p, dtype=np.float64) for p in (p0, p1, p2, p3))
    return (1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t**2 * c + t**3 * d


def _figure_eight() -> _Stroke:
    t = np.linspace(0, 2 * np.pi, 120)
    return np.stack([0.5 + 0.28 * np.sin(2 * t) * (1.1 - 0.2 * np.cos(t)), 0.5 - 0.5 * np.cos(t)], axis=1)


_TEMPLATES: dict[int, list[Callable[[], list[_Stroke]]]] = {
    0: [lambda: [_arc(0.5, 0.5, 0.32, 0.5, 100, 470)],
        lambda: [_arc(0.5, 0.5, 0.4, 0.5, 80, 430)],
        lambda: [_bezier((0.6, 0.0), (-0.1, 0.1), (0.1, 1.1), (0.55, 1.0)),
                 _bezier((0.55, 1.0), (1.05, 0.9), (0.95, -0.05), (0.45, 0.05))]],
    1: [lambda: [_line((0.5, 0.0), (0.5, 1.0))],
        lambda: [_line((0.25, 0.22), (0.55, 0.0), (0.55, 1.0))],
        lambda: [_line((0.3, 0.2), (0.55, 0.0), (0.55, 1.0)), _line((0.3, 1.0), (0.8, 1.0))]],
    2: [lambda: [_arc(0.5, 0.3, 0.33, 0.3, 160, -30), _line((0.79, 0.45), (0.15, 1.0), (0.88, 1.0))],
        lambda: [_arc(0.5, 0.3, 0.33, 0.3, 160, -30),
                 _bezier((0.79, 0.45), (0.6, 0.7), (0.2, 0.85), (0.2, 0.95)),
                 _arc(0.3, 0.9, 0.1, 0.08, 180, -180), _line((0.3, 0.98), (0.9, 0.95))],
        # the looped 2 that MNIST is full of: down to the bottom left, a loop, then the base to the right
        lambda: [_arc(0.45, 0.28, 0.32, 0.28, 165, -20),
                 _bezier((0.75, 0.38), (0.6, 0.65), (0.3, 0.8), (0.15, 0.95)),
                 _bezier((0.15, 0.95), (0.05, 1.02), (0.25, 1.05), (0.35, 0.9)),
                 _bezier((0.35, 0.9), (0.45, 0.8), (0.5, 1.0), (1.0, 0.95))],
        lambda: [_bezier((0.1, 0.2), (0.3, -0.1), (0.9, -0.05), (0.7, 0.4)),
                 _line((0.7, 0.4), (0.1, 1.0), (0.95, 0.92))],
        lambda: [_arc(0.45, 0.22, 0.33, 0.22, 165, -30), _line((0.73, 0.33), (0.2, 0.78)),
                 _arc(0.3, 0.86, 0.15, 0.12, 0, 360), _line((0.35, 0.96), (0.95, 0.95))],
        lambda: [_arc(0.35, 0.15, 0.2, 0.15, 180, -60), _line((0.45, 0.28), (0.2, 1.0), (0.9, 1.0))],
        lambda: [_arc(0.5, 0.2, 0.3, 0.2, 160, -40), _line((0.73, 0.33), (0.35, 0.6)),
                 _arc(0.35, 0.78, 0.25, 0.2, 0, 360), _line((0.5, 0.95), (1.0, 1.0))]],
    3: [lambda: [_arc(0.45, 0.26, 0.3, 0.26, 150, -90), _arc(0.45, 0.74, 0.34, 0.26, 90, -150)],
        lambda: [_line((0.15, 0.0), (0.8, 0.0), (0.4, 0.42)), _arc(0.45, 0.71, 0.35, 0.29, 95, -150)],
        lambda: [_bezier((0.1, 0.1), (0.5, -0.1), (0.9, 0.2), (0.35, 0.48)),
                 _bezier((0.35, 0.48), (1.0, 0.5), (0.9, 1.1), (0.1, 0.9))]],
    4: [lambda: [_line((0.2, 0.0), (0.15, 0.62), (0.9, 0.6)), _line((0.72, 0.0), (0.72, 1.0))],
        lambda: [_line((0.7, 1.0), (0.7, 0.0), (0.1, 0.66), (0.9, 0.66))],
        lambda: [_line((0.35, 0.0), (0.12, 0.6), (0.9, 0.58)), _line((0.72, 0.25), (0.65, 1.0))],
        lambda: [_line((0.25, 0.05), (0.1, 0.55), (0.95, 0.5)), _line((0.75, 0.0), (0.6, 1.0))],
        lambda: [_line((0.5, 0.0), (0.1, 0.6), (0.95, 0.6)), _line((0.72, 0.0), (0.72, 1.0))],
        lambda: [_line((0.45, 0.0), (0.1, 0.6), (0.75, 0.6)), _line((0.75, 0.0), (0.75, 1.0))],
        lambda: [_line((0.15, 0.0), (0.15, 0.55), (0.8, 0.55)), _line((0.8, 0.0), (0.8, 1.0))]],
    5: [lambda: [_line((0.85, 0.0), (0.3, 0.0), (0.25, 0.44)), _arc(0.48, 0.69, 0.34, 0.31, 130, -150)],
        lambda: [_line((0.3, 0.0), (0.25, 0.44)), _arc(0.48, 0.69, 0.34, 0.31, 130, -150),
                 _line((0.3, 0.0), (0.85, 0.02))],
        lambda: [_line((0.3, 0.02), (0.2, 0.45)), _bezier((0.2, 0.45), (0.9, 0.2), (1.0, 1.0), (0.1, 0.9)),
                 _line((0.3, 0.02), (0.9, 0.0))]],
    6: [lambda: [_bezier((0.75, 0.0), (0.35, 0.08), (0.15, 0.45), (0.2, 0.72)),
                 _arc(0.48, 0.71, 0.3, 0.29, 180, -180)],
        lambda: [_line((0.65, 0.0), (0.22, 0.65)), _arc(0.48, 0.73, 0.28, 0.27, 200, -160)],
        # a long stem into a small loop at the bottom
        lambda: [_bezier((0.8, 0.0), (0.45, 0.15), (0.15, 0.5), (0.18, 0.8)),
                 _arc(0.42, 0.8, 0.25, 0.2, 190, -170)],
        lambda: [_line((0.75, 0.0), (0.2, 0.78)), _arc(0.45, 0.82, 0.25, 0.18, 170, -190)],
        lambda: [_bezier((0.7, 0.0), (0.2, 0.2), (0.0, 0.8), (0.45, 0.95)),
                 _bezier((0.45, 0.95), (0.9, 1.0), (0.85, 0.5), (0.45, 0.55)),
                 _line((0.45, 0.55), (0.22, 0.7))],
        lambda: [_line((0.3, 0.0), (0.2, 0.7)), _arc(0.45, 0.72, 0.27, 0.26, 0, 360)]],
    7: [lambda: [_line((0.1, 0.0), (0.9, 0.0), (0.4, 1.0))],
        lambda: [_line((0.1, 0.0), (0.9, 0.0), (0.4, 1.0)), _line((0.3, 0.5), (0.85, 0.5))],
        lambda: [_line((0.1, 0.05), (0.9, 0.0)), _bezier((0.9, 0.0), (0.65, 0.3), (0.5, 0.6), (0.5, 1.0))],
        lambda: [_line((0.0, 0.15), (0.05, 0.0), (1.0, 0.0), (0.55, 1.0))],
        lambda: [_bezier((0.05, 0.1), (0.3, -0.05), (0.7, 0.1), (0.95, 0.0)),
                 _line((0.95, 0.0), (0.5, 1.0))]],
    8: [lambda: [_arc(0.5, 0.25, 0.25, 0.25, 0, 360), _arc(0.5, 0.73, 0.31, 0.27, 0, 360)],
        lambda: [_figure_eight()],
        lambda: [_arc(0.55, 0.22, 0.22, 0.22, 0, 360), _arc(0.42, 0.7, 0.3, 0.3, 0, 360)],
        lambda: [_arc(0.5, 0.28, 0.3, 0.28, 0, 360), _arc(0.5, 0.78, 0.15, 0.22, 0, 360)],
        # an S closed by a diagonal, as many people write it
        lambda: [_bezier((0.85, 0.1), (0.3, -0.2), (0.0, 0.3), (0.5, 0.5)),
                 _bezier((0.5, 0.5), (1.0, 0.7), (0.6, 1.1), (0.2, 0.9)), _line((0.2, 0.9), (0.85, 0.1))]],
    9: [lambda: [_arc(0.5, 0.3, 0.32, 0.3, 0, 360), _line((0.82, 0.3), (0.78, 1.0))],
        lambda: [_arc(0.48, 0.28, 0.3, 0.28, 20, 380),
                 _bezier((0.78, 0.3), (0.8, 0.6), (0.7, 0.85), (0.55, 1.0))],
        lambda: [_arc(0.45, 0.3, 0.3, 0.3, 0, 360), _line((0.75, 0.3), (0.45, 1.0))],
        # a small head on a long straight stem
        lambda: [_arc(0.5, 0.2, 0.3, 0.2, 0, 360), _line((0.8, 0.15), (0.75, 1.0))],
        lambda: [_arc(0.5, 0.3, 0.3, 0.28, 20, 330), _line((0.8, 0.25), (0.8, 1.0))],
        lambda: [_arc(0.55, 0.15, 0.2, 0.15, 0, 360), _line((0.75, 0.15), (0.6, 1.0))]],
}
_TEMPLATE_COPIES = 6  # jittered copies per template: the jitter moves strokes relative to each other


def _template_distance(strokes: list[_Stroke], rng: np.random.Generator) -> torch.Tensor:
    """Distance (RES, RES) to a template's centre lines, with each stroke jittered as a hand would."""
    jittered = []
    for s in strokes:
        centre = s.mean(axis=0)
        a = np.eye(2) + rng.normal(0, 0.06, (2, 2))
        jittered.append((s - centre) @ a.T + centre + rng.normal(0, 0.03, 2))
    pts = np.concatenate(jittered)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    scale = _GLYPH_H / max(hi - lo)
    pts = (pts - (lo + hi) / 2) * scale + (_RES - 1) / 2
    return _distance_to(torch.from_numpy(pts).float())


@lru_cache(maxsize=1)
def _glyph_bank() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fields (G, RES, RES), labels (G,) and kinds (G,) of all glyphs; fixed, so built once per process."""
    fields, labels, kinds = [], [], []
    font_dir = _font_dir()
    for name in DIGIT_FONTS:
        for digit in range(10):
            cov = _glyph_coverage(font_dir / name, str(digit))
            fields.append(_signed_distance(cov))
            skel = skeletonize(cov > 0.5)
            ys, xs = np.nonzero(skel)
            fields.append(-_distance_to(torch.from_numpy(np.stack([xs, ys], 1)).float()))
            labels += [digit, digit]
            kinds += [_FILL, _PEN]
    rng = np.random.default_rng(12345)  # the bank is part of the generator's definition, not of the seed
    for digit, makers in _TEMPLATES.items():
        for make in makers:
            for _ in range(_TEMPLATE_COPIES):
                fields.append(-_template_distance(make(), rng))
                labels.append(digit)
                kinds.append(_TEMPLATE)
    return torch.stack(fields), torch.tensor(labels), torch.tensor(kinds)


def _choose_glyphs(y: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Bank index per label: first a rendering kind by _KIND_WEIGHTS, then a glyph of that kind uniformly."""
    _, bank_y, bank_kind = _glyph_bank()
    kind = torch.multinomial(torch.tensor(_KIND_WEIGHTS), len(y), replacement=True, generator=g)
    u = torch.rand(len(y), generator=g, dtype=torch.float64)
    idx = torch.empty_like(y)
    for digit in range(10):
        for k in range(3):
            pool = torch.nonzero((bank_y == digit) & (bank_kind == k)).squeeze(1)
            sel = (y == digit) & (kind == k)
            idx[sel] = pool[(u[sel] * len(pool)).long().clamp_max(len(pool) - 1)]
    return idx


def _smooth_basis(n: int, k: int = _FLOW_K) -> torch.Tensor:
    """Weights (n, k) that spread k control values smoothly over n samples with unit variance per sample."""
    x = torch.linspace(0, k - 1, n)[:, None]
    w = torch.exp(-0.5 * (x - torch.arange(k, dtype=torch.float32)) ** 2)
    return w / w.pow(2).sum(1, keepdim=True).sqrt()  # iid N(0, 1) controls -> N(0, 1) displacement


def _render_chunk(fields: torch.Tensor, kinds: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
    """Warp and ink a chunk of glyph fields (B, RES, RES), then normalise them as MNIST does: (B, 28, 28)."""
    b = len(fields)
    # Pass 1: rotation, slant, aspect and elastic distortion, applied to the distance field so that the
    # stroke width is set after warping and stays uniform.
    cos, sin = torch.cos(p["rot"]), torch.sin(p["rot"])
    a, s, k = p["aspect"], 1 / p["aspect"], p["slant"]
    # rotation @ slant @ aspect, mapping output positions to input positions
    m00, m01, m10, m11 = cos * a, (cos * k - sin) * s, sin * a, (sin * k + cos) * s
    c = (torch.arange(_CANVAS, dtype=torch.float32) * 2 + 1) / _CANVAS - 1  # pixel centres in [-1, 1]
    bx, by = c[None, None, :], c[None, :, None]
    basis = _smooth_basis(_CANVAS)
    flow = torch.einsum("yi,bcij,xj->bcyx", basis, p["elastic"], basis) * (2.0 / _RES)  # (B, 2, C, C)
    gx = m00[:, None, None] * bx + m01[:, None, None] * by + flow[:, 0]
    gy = m10[:, None, None] * bx + m11[:, None, None] * by + flow[:, 1]
    field = F.grid_sample(fields[:, None], torch.stack([gx, gy], 3), mode="bilinear", padding_mode="border",
                          align_corners=False)[:, 0]  # (B, C, C)
    # Fill glyphs take a signed offset (thinner or bolder); pen glyphs take their half-width.
    half = torch.where(kinds == _FILL, p["bold"], p["pen"])
    ink = field.add_(half[:, None, None]).div_(1.5).add_(0.5).clamp_(0, 1)  # (B, C, C)

    # A broken stroke: erase a disc around a point drawn in proportion to the ink.
    cdf = ink.reshape(b, -1).cumsum(1)
    at = torch.searchsorted(cdf, (p["break_u"] * cdf[:, -1]).unsqueeze(1))[:, 0].clamp_max(_CANVAS**2 - 1)
    coord = torch.arange(_CANVAS, dtype=torch.float32)
    d2 = (coord[None, None, :] - (at % _CANVAS)[:, None, None]) ** 2
    d2 = d2 + (coord[None, :, None] - (at // _CANVAS)[:, None, None]) ** 2
    r = torch.where(p["break_on"], p["break_r"] * (_CANVAS / _RES), 0.0)[:, None, None]
    ink.mul_(((d2.sqrt() - r) / 1.5).clamp_(0, 1))

    # Pass 2: MNIST's normalisation - the larger side of the bounding box to 20 px, the centre of mass to the
    # image centre - plus a little jitter, since MNIST's own boxes were not exact either.
    on = ink > 0.5
    rows, cols = on.any(2), on.any(1)
    extent_y = torch.where(rows, coord, -1.0).amax(1) - torch.where(rows, coord, float(_CANVAS)).amin(1)
    extent_x = torch.where(cols, coord, -1.0).amax(1) - torch.where(cols, coord, float(_CANVAS)).amin(1)
    extent = torch.maximum(extent_y, extent_x).clamp_min(0.0) + 1
    mass = ink.sum((1, 2)).clamp_min(1e-6)
    cy = (ink.sum(2) * coord).sum(1) / mass
    cx = (ink.sum(1) * coord).sum(1) / mass
    scale = _BOX * p["box"] / extent  # output pixels per canvas pixel
    n = _OUT * _SUPER
    u = (torch.arange(n, dtype=torch.float32) + 0.5) / _SUPER - _OUT / 2  # output coords about the centre
    src_x = cx[:, None] + (u[None] - p["shift"][:, 0:1]) / scale[:, None]  # (B, n), in canvas pixel indices
    src_y = cy[:, None] + (u[None] - p["shift"][:, 1:2]) / scale[:, None]
    gx2 = ((2 * src_x + 1) / _CANVAS - 1)[:, None, :].expand(b, n, n)
    gy2 = ((2 * src_y + 1) / _CANVAS - 1)[:, :, None].expand(b, n, n)
    out = F.grid_sample(ink[:, None], torch.stack([gx2, gy2], 3), mode="bilinear", padding_mode="zeros",
                        align_corners=False)
    return F.avg_pool2d(out, _SUPER)[:, 0]  # (B, 28, 28)


def _draw_params(n: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    """All per-image random choices, drawn up front so that the output does not depend on the chunk size."""
    def uniform(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, *shape, generator=g)

    # Scales are in bank pixels; a bank pixel is about 0.45 output pixels (20 / 44).
    elastic_rms = uniform(1.5, 5.5)
    return {
        "rot": torch.randn(n, generator=g) * math.radians(10),
        "slant": 0.1 + torch.randn(n, generator=g) * 0.2,  # MNIST leans to the right
        "aspect": torch.exp(torch.randn(n, generator=g) * 0.15),
        "elastic": torch.randn(n, 2, _FLOW_K, _FLOW_K, generator=g) * elastic_rms[:, None, None, None],
        "bold": uniform(-1.0, 2.0),
        "pen": uniform(2.0, 6.5),
        "break_on": torch.rand(n, generator=g) < 0.3,
        "break_u": torch.rand(n, generator=g),
        "break_r": uniform(2.5, 5.0),
        "box": uniform(0.88, 1.04),
        "shift": torch.randn(n, 2, generator=g) * 0.5,
    }


def _generate(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    if n == 0:  # torch.multinomial refuses to draw zero samples
        return torch.empty(0, 1, _OUT, _OUT, dtype=torch.uint8), torch.empty(0, dtype=torch.int64)
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) % 10)[torch.randperm(n, generator=g)]  # balanced labels in random order
    idx = _choose_glyphs(y, g)
    params = _draw_params(n, g)
    bank, _, bank_kind = _glyph_bank()
    x = torch.empty(n, 1, _OUT, _OUT, dtype=torch.uint8)
    for s in range(0, n, _CHUNK):
        sl = slice(s, s + _CHUNK)
        ink = _render_chunk(bank[idx[sl]], bank_kind[idx[sl]], {k: v[sl] for k, v in params.items()})
        x[sl, 0] = (ink * 255).round().to(torch.uint8)
    return x, y.long()


def synthetic_digits(
    n: int, seed: int = 0, cache_dir: Path | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST-like digits rendered from matplotlib's fonts and hand-drawn templates: uint8 images and labels.

    Returns images (n, 1, 28, 28) as uint8 in 0..255, white on black, and int64 labels (n,) balanced over
    0-9. The same seed always gives the same data. With cache_dir, the set is stored there as .npz and read
    back on the next call.
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    path = None if cache_dir is None else Path(cache_dir) / f"synthetic_digits_{n}_{seed}_v{VERSION}.npz"
    return cached_images(path, (n, 1, _OUT, _OUT), lambda: _generate(n, seed))
