"""Figures the notebooks share: image grids, loss curves, snapshots over training, 2D sample scatters."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid

from gan_utils.history import History

ValueRange = tuple[float, float]


def to_unit(x: torch.Tensor, value_range: ValueRange = (-1.0, 1.0)) -> torch.Tensor:
    """Map float images in `value_range` (the course's tanh range [-1, 1] by default), or uint8, to [0, 1]."""
    if x.dtype == torch.uint8:
        return x.float() / 255.0
    lo, hi = value_range
    if not hi > lo:
        raise ValueError(f"value_range={value_range} must be (low, high) with high > low, e.g. (-1, 1) or (0, 1).")
    return ((x.float() - lo) / (hi - lo)).clamp(0, 1)


def grid_image(x: torch.Tensor, nrow: int | None = None, padding: int = 2,
               value_range: ValueRange = (-1.0, 1.0)) -> np.ndarray:
    """Tile a batch (B, C, H, W) with values in `value_range` into one HxWxC numpy image in [0, 1]."""
    x = to_unit(x.detach().cpu(), value_range)
    nrow = nrow or int(np.ceil(np.sqrt(x.shape[0])))
    g = make_grid(x, nrow=nrow, padding=padding, pad_value=1.0)
    return g.permute(1, 2, 0).numpy()


def show_grid(x: torch.Tensor, nrow: int | None = None, title: str | None = None, ax: plt.Axes | None = None,
              figsize: tuple[float, float] = (5, 5), value_range: ValueRange = (-1.0, 1.0)) -> plt.Axes:
    """Show a batch of images as one grid; floats are read as `value_range` ([-1, 1], G's tanh range, by default)."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    img = grid_image(x, nrow, value_range=value_range)
    ax.imshow(img if img.shape[2] == 3 else img[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def smooth(values: list[float] | np.ndarray, window: int) -> np.ndarray:
    """Moving average (window clipped to the series), so noisy GAN losses show a trend."""
    v = np.asarray(values, dtype=float)
    window = max(1, min(window, len(v)))
    return np.convolve(v, np.ones(window) / window, mode="valid")


def plot_losses(history: History, ax: plt.Axes | None = None, window: int | None = None) -> plt.Axes:
    """Plot every loss in a History against the step, lightly smoothed."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    steps = np.asarray(history.steps)
    window = window or max(1, len(steps) // 100)
    for name, values in history.losses.items():
        y = smooth(values, window)
        ax.plot(steps[window - 1:], y, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return ax


def plot_snapshots(history: History, max_cols: int = 6, n_images: int = 36, size: float = 2.3,
                   nrow: int | None = None) -> plt.Figure:
    """Show the fixed-z sample grids saved during training, left to right over steps.

    `nrow` is the number of images per grid row (default: a square grid); pass the width of a structured sample
    grid, e.g. 8 when each block of 8 samples shares one class or code.
    """
    snaps = history.snapshots
    if not snaps:
        raise ValueError("This History has no sample snapshots to plot: the run was trained without a sample_fn, or "
                         "its checkpoint holds none. Pass sample_fn= to the Trainer, or retrain after deleting the "
                         "checkpoint folder.")
    if len(snaps) > max_cols:
        idx = np.linspace(0, len(snaps) - 1, max_cols).round().astype(int)
        snaps = [snaps[i] for i in idx]
    fig, axes = plt.subplots(1, len(snaps), figsize=(size * len(snaps), size + 0.3))
    for ax, (step, x) in zip(np.atleast_1d(axes), snaps, strict=True):
        show_grid(x[:n_images], nrow=nrow, ax=ax, title=f"step {step}")
    fig.tight_layout()
    return fig


def scatter_2d(samples: torch.Tensor, centers: torch.Tensor | None = None, ax: plt.Axes | None = None,
               title: str | None = None, lim: float | None = None) -> plt.Axes:
    """Scatter 2D samples, with the mixture centres as red crosses."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    s = samples.detach().cpu().numpy()
    ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.4, color="tab:blue", label="samples")
    if centers is not None:
        c = centers.detach().cpu().numpy()
        ax.scatter(c[:, 0], c[:, 1], marker="x", s=40, color="tab:red", label="modes")
        lim = lim or float(np.abs(c).max()) * 1.5
    if lim:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
