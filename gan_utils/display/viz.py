"""Figures the notebooks share: image grids, loss curves, snapshots over training, 2D sample scatters, voxels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid

from gan_utils.train.history import History

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


# --------------------------------------------------------------------------- voxels (3D-GAN)

VoxelGrid = torch.Tensor | np.ndarray
Angle = float | tuple[float, float]


def _cube(grid: VoxelGrid, threshold: float = 0.5) -> np.ndarray:
    """One occupancy grid as a bool (S, S, S) array, from (S, S, S) or (1, S, S, S), tensor or array."""
    g = grid.detach().cpu().numpy() if isinstance(grid, torch.Tensor) else np.asarray(grid)
    g = g.reshape(g.shape[-3:]) if g.ndim == 4 and g.shape[0] == 1 else g
    if g.ndim != 3:
        raise ValueError(f"expected one grid (S, S, S) or (1, S, S, S), got shape {g.shape}; index a batch first.")
    return g > threshold


def show_voxels(grid: VoxelGrid, ax: plt.Axes | None = None, threshold: float = 0.5, method: str = "mesh",
                elev: float = 20.0, azim: float = -60.0, color: str = "tab:blue", title: str | None = None,
                figsize: tuple[float, float] = (3, 3)) -> plt.Axes:
    """Draw one occupancy grid (x, y, z; z up) in 3D: a marching-cubes surface, or matplotlib's `voxels`.

    `method="mesh"` (fast, smooth) needs scikit-image and falls back to "voxels" (exact cubes, slower at
    64^3) without it. Values above `threshold` are occupied, so G's sigmoid outputs can be drawn directly.
    `ax` must be a 3D axes (`projection="3d"`); one is made if it is None.
    """
    if method not in ("mesh", "voxels"):
        raise ValueError(f"method={method!r}; use 'mesh' or 'voxels'.")
    occ = _cube(grid, threshold)
    if ax is None:
        ax = plt.figure(figsize=figsize).add_subplot(projection="3d")
    if not hasattr(ax, "view_init"):
        raise ValueError("ax must be a 3D axes: plt.figure().add_subplot(projection='3d').")
    s = occ.shape[0]
    if not occ.any():
        ax.text2D(0.5, 0.5, "empty", transform=ax.transAxes, ha="center")
    elif method == "mesh":
        try:
            from mpl_toolkits.mplot3d.art3d import Poly3DCollection
            from skimage.measure import marching_cubes
        except ImportError:
            method = "voxels"
        else:
            # Padding closes the surface where the shape touches the grid's border.
            verts, faces, _, _ = marching_cubes(np.pad(occ, 1).astype(np.float32), 0.5)
            mesh = Poly3DCollection(verts[faces] - 1.0 + 0.5, facecolor=color, edgecolor="none", alpha=1.0)
            ax.add_collection3d(mesh)
            # Shade each face by its normal's angle to a light above and in front.
            n = np.cross(verts[faces][:, 1] - verts[faces][:, 0], verts[faces][:, 2] - verts[faces][:, 0])
            n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-9
            light = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
            shade = 0.45 + 0.55 * np.abs(n @ light)
            base = np.array(plt.matplotlib.colors.to_rgb(color))
            mesh.set_facecolor(np.clip(base[None] * shade[:, None], 0, 1))
    if method == "voxels" and occ.any():
        ax.voxels(occ, facecolors=color, edgecolor="k", linewidth=0.1)
    ax.set_xlim(0, s)
    ax.set_ylim(0, s)
    ax.set_zlim(0, s)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def render_views(grid: VoxelGrid, angles: list[Angle] | tuple[Angle, ...] = (0.0, 45.0, 90.0),
                 mode: str = "depth", image_size: int | None = None, scale: float | None = None,
                 elevation: float = 0.0, threshold: float = 0.5) -> np.ndarray:
    """Orthographic images (len(angles), H, W) in [0, 1] of one grid: silhouettes or depth-shaded views.

    Each angle is an azimuth in degrees about the up axis z (with `elevation`), or a pair (azimuth,
    elevation); azimuth 0 looks along +y, at a chair's front. `mode="silhouette"` gives 1 where the shape is;
    "depth" gives 0.2 (far) to 1.0 (near) there, 0 elsewhere. `scale` is pixels per voxel, by default the
    largest at which the grid's cube fits any rotation; `image_size` defaults to the grid's side. These are
    the images of 3D-VAE-GAN's image -> shape pairs.
    """
    if mode not in ("depth", "silhouette"):
        raise ValueError(f"mode={mode!r}; use 'depth' or 'silhouette'.")
    occ = _cube(grid, threshold)
    s = occ.shape[0]
    size = image_size or s
    scale = scale if scale is not None else size / (s * np.sqrt(3))
    # Eight points per voxel, a quarter voxel from its centre, so that no gaps open when a view magnifies.
    offsets = np.array([[dx, dy, dz] for dx in (-0.25, 0.25) for dy in (-0.25, 0.25) for dz in (-0.25, 0.25)])
    centres = np.argwhere(occ) + 0.5 - s / 2  # (n, 3) about the cube's centre
    pts = (centres[:, None] + offsets[None]).reshape(-1, 3)
    radius = s * np.sqrt(3) / 2
    out = np.zeros((len(angles), size, size), dtype=np.float32)
    for k, angle in enumerate(angles):
        az, el = (angle, elevation) if np.isscalar(angle) else angle  # type: ignore[misc]
        a, e = np.deg2rad(az), np.deg2rad(el)
        rot_z = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        rot_x = np.array([[1, 0, 0], [0, np.cos(e), -np.sin(e)], [0, np.sin(e), np.cos(e)]])
        p = pts @ (rot_x @ rot_z).T  # (m, 3): u = x', depth = y' (camera on the -y side), v = z' (up)
        cols = np.floor(p[:, 0] * scale + size / 2).astype(int)
        rows = size - 1 - np.floor(p[:, 2] * scale + size / 2).astype(int)
        ok = (rows >= 0) & (rows < size) & (cols >= 0) & (cols < size)
        depth = np.full((size, size), np.inf)
        np.minimum.at(depth, (rows[ok], cols[ok]), p[ok, 1])
        hit = np.isfinite(depth)
        if mode == "silhouette":
            out[k][hit] = 1.0
        else:
            out[k][hit] = 1.0 - 0.8 * (depth[hit] + radius) / (2 * radius)
    return out
