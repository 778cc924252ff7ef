"""Temporal measures for video synthesis: flicker as the warp error between consecutive frames, and optical flow.

Flow here is always the backward flow between frames t and t+1, in pixels (dx, dy), shaped (T-1, 2, H, W):
warping frame t with it predicts frame t+1. For real frames, which come without a true flow, `tvl1_flows`
estimates it with skimage's TV-L1 (it stands in for FlowNet2, which vid2vid used) and caches the result.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from gan_utils.data.base import cached_arrays
from gan_utils.nn.warp import warp

__all__ = ["endpoint_error", "flow_confidence", "tvl1_flows", "warp_error", "warp_errors"]


def _as_float(frames: torch.Tensor) -> torch.Tensor:
    return frames.float() / 127.5 - 1 if frames.dtype == torch.uint8 else frames.float()


def warp_errors(frames: torch.Tensor, flow: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Per pair of consecutive frames (T-1,): mean |x_{t+1} - warp(x_t, flow_t)| over valid pixels and channels.

    frames (T, C, H, W) uint8 or floats in [-1, 1]; flow (T-1, 2, H, W); valid (T-1, 1, H, W), e.g. the
    non-occluded pixels. Static content gives 0; flicker (content that changes where nothing moves) raises it.
    """
    x = _as_float(frames)
    if flow.shape != (x.shape[0] - 1, 2, *x.shape[-2:]):
        raise ValueError(f"{x.shape[0]} frames of {tuple(x.shape[-2:])} need a flow of shape "
                         f"{(x.shape[0] - 1, 2, *x.shape[-2:])}, got {tuple(flow.shape)}.")
    err = (x[1:] - warp(x[:-1], flow.to(x))).abs().mean(1, keepdim=True)  # (T-1, 1, H, W)
    if valid is None:
        return err.mean((1, 2, 3))
    v = valid.to(err).expand_as(err)
    return (err * v).sum((1, 2, 3)) / v.sum((1, 2, 3)).clamp_min(1)


def warp_error(frames: torch.Tensor, flow: torch.Tensor, valid: torch.Tensor | None = None) -> float:
    """The flicker of a clip: the mean of `warp_errors` over its consecutive pairs (in [-1, 1] units)."""
    return float(warp_errors(frames, flow, valid).mean())


def flow_confidence(frames: torch.Tensor, flow: torch.Tensor, threshold: float = 0.1) -> torch.Tensor:
    """1.0 where the flow explains frame t+1 from frame t (warp error under `threshold`), else 0.0: (T-1, 1, H, W).

    vid2vid weights its flow losses with such a map (conf_ref), so that occlusions and flow failures do not count.
    """
    x = _as_float(frames)
    err = (x[1:] - warp(x[:-1], flow.to(x))).abs().mean(1, keepdim=True)
    return (err < threshold).float()


def endpoint_error(flow: torch.Tensor, flow_ref: torch.Tensor, valid: torch.Tensor | None = None) -> float:
    """Mean Euclidean distance in pixels between two flows (..., 2, H, W), over valid pixels if given."""
    epe = (flow - flow_ref).pow(2).sum(-3, keepdim=True).sqrt()
    if valid is None:
        return float(epe.mean())
    v = valid.to(epe).expand_as(epe)
    return float((epe * v).sum() / v.sum().clamp_min(1))


def _gray(frame: np.ndarray) -> np.ndarray:
    """(3, H, W) uint8 -> (H, W) float luminance in [0, 1]."""
    return (np.tensordot(np.array([0.299, 0.587, 0.114]), frame.astype(np.float64), 1) / 255.0)


def tvl1_flows(frames: torch.Tensor, cache_dir: str | Path | None = None, **tvl1_kwargs: float) -> torch.Tensor:
    """TV-L1 backward flows (T-1, 2, H, W) between consecutive uint8 frames (T, 3, H, W), cached by content.

    skimage.registration.optical_flow_tvl1(reference=x_{t+1}, moving=x_t) gives (row, col) shifts such that
    x_t sampled at p + shift matches x_{t+1} at p: exactly the backward flow, returned as (dx, dy).
    """
    from skimage.registration import optical_flow_tvl1

    if frames.dtype != torch.uint8 or frames.dim() != 4 or frames.shape[1] != 3:
        raise ValueError(f"frames must be uint8 (T, 3, H, W), got {frames.dtype} {tuple(frames.shape)}.")
    x = frames.cpu().numpy()
    key = hashlib.sha256(x.tobytes() + repr(sorted(tvl1_kwargs.items())).encode()).hexdigest()[:16]
    path = None if cache_dir is None else Path(cache_dir) / f"tvl1_flow_{x.shape[-1]}x{x.shape[-2]}_{len(x)}_{key}.npz"

    def make() -> dict[str, np.ndarray]:
        out = np.zeros((len(x) - 1, 2, *x.shape[-2:]), np.float32)
        for t in range(len(x) - 1):
            v, u = optical_flow_tvl1(_gray(x[t + 1]), _gray(x[t]), **tvl1_kwargs)  # rows, cols
            out[t] = np.stack([u, v])
        return {"flow": out}

    arrays = cached_arrays(path, make, lambda a: "flow" in a and a["flow"].shape == (len(x) - 1, 2, *x.shape[-2:]))
    return torch.from_numpy(arrays["flow"]).to(frames.device)
