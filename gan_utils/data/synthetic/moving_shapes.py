"""Moving shapes: a procedural video with a label map, an instance map, an RGB frame and the TRUE optical flow.

A textured background pans at one constant velocity (a camera move); discs, squares and triangles, each with
its own texture, slide across it and bounce off the borders, the later ones in front. Every pixel's colour is
a function of its position on its own surface, so the backward flow (where each pixel of frame t+1 was in
frame t) is known exactly, and so is where it was hidden (occluded) in frame t. It is vid2vid's offline
stand-in: the flow that the paper takes from FlowNet2 is here the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["MOVING_SHAPES_CLASSES", "MOVING_SHAPES_FOREGROUND", "MOVING_SHAPES_PALETTE", "VERSION", "MovingShapes",
           "moving_shapes"]

VERSION = 1  # part of cache file names: bump when the drawing changes

MOVING_SHAPES_CLASSES: tuple[str, ...] = ("background", "disc", "square", "triangle")
MOVING_SHAPES_FOREGROUND: tuple[int, ...] = (1, 2, 3)  # the shapes: vid2vid's foreground classes
MOVING_SHAPES_PALETTE = torch.tensor([(90, 90, 90), (220, 20, 60), (0, 0, 142), (250, 170, 30)], dtype=torch.uint8)
# The photo colour of each shape class (the label colours are the palette's); the background is grey-green.
_BASE = np.array([(0.45, 0.50, 0.42), (0.80, 0.25, 0.25), (0.20, 0.30, 0.75), (0.85, 0.70, 0.20)])


@dataclass
class MovingShapes:
    """One clip: labels (T, 1, H, W) uint8, inst (T, 1, H, W) int32, frames (T, 3, H, W) uint8, and between
    frames t and t+1 the backward flow (T-1, 2, H, W) float32 in pixels (dx, dy) and a visibility mask
    (T-1, 1, H, W) bool: True where the pixel of frame t+1 was visible in frame t."""

    labels: torch.Tensor
    inst: torch.Tensor
    frames: torch.Tensor
    flow: torch.Tensor
    visible: torch.Tensor


def _bounce(p0: np.ndarray, v: np.ndarray, t: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Position at time t of a point moving at v from p0, reflected between lo and hi (a triangle wave)."""
    span = hi - lo
    u = np.mod(p0 - lo + v * t, 2 * span)
    return lo + np.where(u > span, 2 * span - u, u)


def _inside(kind: int, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    """Which offsets (dx, dy) from a shape's centre fall inside it."""
    if kind == 1:
        return dx ** 2 + dy ** 2 < r ** 2
    if kind == 2:
        return np.maximum(np.abs(dx), np.abs(dy)) < 0.85 * r
    # an upward triangle: below the two slanted sides, above the base
    return (dy < 0.7 * r) & (dy > -r + 2 * np.abs(dx))


def _texture(u: np.ndarray, v: np.ndarray, freq: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """A smooth two-wave pattern in about [-1, 1] on surface coordinates (u, v)."""
    return 0.6 * np.sin(freq[0] * u + freq[1] * v + phase[0]) + 0.4 * np.sin(freq[2] * u - freq[3] * v + phase[1])


def moving_shapes(n_frames: int = 30, size: tuple[int, int] = (128, 64), n_shapes: int = 4, seed: int = 0,
                  max_speed: float = 2.5, pan: float = 1.0) -> MovingShapes:
    """A clip of `n_frames` frames of size (W, H), deterministic by `seed`; speeds in pixels per frame."""
    if n_frames < 2 or n_shapes < 0:
        raise ValueError(f"n_frames={n_frames}, n_shapes={n_shapes}: need at least 2 frames and 0 or more shapes.")
    w, h = int(size[0]), int(size[1])
    if w < 8 or h < 8:
        raise ValueError(f"size={size} is too small; use at least 8x8 pixels.")
    rng = np.random.default_rng(seed)
    scale = min(w, h)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)  # pixel centres at integer coordinates
    angle = rng.uniform(0, 2 * np.pi)
    v_bg = pan * np.array([np.cos(angle), 0.3 * np.sin(angle)])  # mostly sideways, like a panning camera
    bg_freq, bg_phase = rng.uniform(2, 6, 4) * 2 * np.pi / scale, rng.uniform(0, 2 * np.pi, 2)
    kinds = rng.integers(1, 4, n_shapes)
    radius = rng.uniform(0.12, 0.22, n_shapes) * scale
    lo, hi = np.zeros(2), np.array([w - 1.0, h - 1.0])
    p0 = rng.uniform(lo, hi, (n_shapes, 2))
    speed, heading = rng.uniform(0.4, 1.0, n_shapes) * max_speed, rng.uniform(0, 2 * np.pi, n_shapes)
    vel = np.stack([speed * np.cos(heading), speed * np.sin(heading)], 1)
    freq, phase = rng.uniform(3, 8, (n_shapes, 4)) * 2 * np.pi / scale, rng.uniform(0, 2 * np.pi, (n_shapes, 2))
    shade = rng.uniform(0.8, 1.15, n_shapes)

    def layer(t: float) -> tuple[np.ndarray, np.ndarray]:
        """The topmost instance (0 = background) under every pixel at time t, and each shape's centre."""
        centres = np.stack([_bounce(p0[k], vel[k], t, lo, hi) for k in range(n_shapes)]) if n_shapes else p0
        top = np.zeros((h, w), np.int32)
        for k in range(n_shapes):  # later shapes are drawn on top
            top[_inside(kinds[k], xs - centres[k, 0], ys - centres[k, 1], radius[k])] = k + 1
        return top, centres

    labels = np.zeros((n_frames, 1, h, w), np.uint8)
    inst = np.zeros((n_frames, 1, h, w), np.int32)
    frames = np.zeros((n_frames, 3, h, w), np.uint8)
    flow = np.zeros((n_frames - 1, 2, h, w), np.float32)
    visible = np.zeros((n_frames - 1, 1, h, w), bool)
    prev_centres = None
    for t in range(n_frames):
        top, centres = layer(float(t))
        img = np.empty((h, w, 3))
        bu, bv = xs - v_bg[0] * t, ys - v_bg[1] * t  # background surface coordinates
        img[:] = _BASE[0] * (1 + 0.35 * _texture(bu, bv, bg_freq, bg_phase))[..., None]
        fx, fy = np.full((h, w), -v_bg[0]), np.full((h, w), -v_bg[1])
        if prev_centres is not None:
            step = prev_centres - centres  # (n_shapes, 2): where each shape's pixels were one frame ago
        for k in range(n_shapes):
            m = top == k + 1
            su, sv = xs[m] - centres[k, 0], ys[m] - centres[k, 1]
            img[m] = _BASE[kinds[k]] * shade[k] * (1 + 0.3 * _texture(su, sv, freq[k], phase[k]))[:, None]
            if prev_centres is not None:
                fx[m], fy[m] = step[k, 0], step[k, 1]
        labels[t, 0] = np.where(top > 0, kinds[np.maximum(top - 1, 0)], 0)
        inst[t, 0] = top
        frames[t] = np.clip(np.round(img * 255), 0, 255).astype(np.uint8).transpose(2, 0, 1)
        if t > 0:
            flow[t - 1] = np.stack([fx, fy])
            # visible in frame t-1: the same surface is on top at the flow's source point
            prev_top = np.zeros((h, w), np.int32)
            qx, qy = xs + fx, ys + fy
            for k in range(n_shapes):
                inside = _inside(kinds[k], qx - prev_centres[k, 0], qy - prev_centres[k, 1], radius[k])
                prev_top[inside] = k + 1
            in_frame = (qx >= 0) & (qx <= w - 1) & (qy >= 0) & (qy <= h - 1)
            visible[t - 1, 0] = (prev_top == top) & in_frame
        prev_centres = centres
    return MovingShapes(torch.from_numpy(labels), torch.from_numpy(inst), torch.from_numpy(frames),
                        torch.from_numpy(flow), torch.from_numpy(visible))
