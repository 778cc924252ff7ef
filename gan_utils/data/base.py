"""The in-memory image set every loader returns, and the banner that says where the data came from."""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


class DataError(RuntimeError):
    """Data could not be found, fetched, unpacked or read; the message says what to do about it."""


@dataclass
class ImageSet:
    """A whole data set as one uint8 tensor (N, C, H, W) on the device, batched by index, no per-image work."""

    images: torch.Tensor
    labels: torch.Tensor
    name: str
    source: str  # "real" or "synthetic"
    description: str
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels.shape[0] != self.images.shape[0]:
            raise ValueError(f"{self.images.shape[0]} images but {self.labels.shape[0]} labels")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def is_real(self) -> bool:
        return self.source == "real"

    def to_float(self, idx: torch.Tensor | slice | None = None) -> torch.Tensor:
        """Images at `idx` as floats in [-1, 1], the tanh range G produces."""
        x = self.images if idx is None else self.images[idx]
        return x.float().div_(127.5).sub_(1.0)

    def batch(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A random batch (x in [-1, 1], y), drawn with replacement by index on the data's device."""
        idx = torch.randint(len(self), (batch_size,), device=self.images.device, generator=generator)
        return self.to_float(idx), self.labels[idx]

    def subset(self, idx: torch.Tensor, note: str) -> ImageSet:
        """A new ImageSet with only the images at `idx`; `note` is added to the description."""
        idx = idx.to(self.images.device)
        return ImageSet(self.images[idx], self.labels[idx], self.name, self.source,
                        f"{self.description}; {note}", self.classes)

    def split(self, n_holdout: int, seed: int = 0) -> tuple[ImageSet, ImageSet]:
        """Split off a fixed, seeded hold-out part (for a classifier's test accuracy)."""
        if not 0 < n_holdout < len(self):
            raise ValueError(f"n_holdout={n_holdout} must be between 1 and {len(self) - 1}.")
        perm = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        return (self.subset(perm[n_holdout:], f"{len(self) - n_holdout} kept for training"),
                self.subset(perm[:n_holdout], f"{n_holdout} held out"))

    def banner(self) -> str:
        """A box that says plainly whether this is real data or the offline stand-in."""
        if self.is_real:
            lines = [f"REAL DATA: {self.description}", f"{len(self):,} images of shape {self.shape}"]
        else:
            lines = [f"OFFLINE STAND-IN, NOT {self.name.upper()}: {self.description}",
                     f"{len(self):,} images of shape {self.shape}. Results are not comparable with the paper's.",
                     "To use the real data: connect to the internet (GAN_DATA=auto downloads it),",
                     "or put the files under GAN_DATA_ROOT (see data/README.md)."]
        width = max(len(s) for s in lines)
        edge = "#" if self.is_real else "!"
        return "\n".join([edge * (width + 4)] + [f"{edge} {s:<{width}} {edge}" for s in lines] + [edge * (width + 4)])


def network_available(host: str = "ossci-datasets.s3.amazonaws.com", port: int = 443, timeout: float = 3.0) -> bool:
    """Quick check that a download could work, so an offline run falls back in seconds, not minutes."""
    if os.environ.get("GAN_OFFLINE"):
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def writable(path: Path) -> bool:
    """True if files can be created in `path` (created if missing)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def cached_images(path: Path | None, shape: tuple[int, ...],
                  make: Callable[[], tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (uint8, `shape`) and int64 labels from the .npz at `path`, or from `make()`, then cached atomically."""
    if path is not None and path.exists():
        try:
            with np.load(path) as f:
                x, y = torch.from_numpy(f["x"]), torch.from_numpy(f["y"])
            if tuple(x.shape) == shape and x.dtype == torch.uint8 and y.shape == (shape[0],):
                return x, y.long()
        except (OSError, ValueError, KeyError, EOFError):
            pass  # unreadable or truncated cache: fall through and regenerate it
    x, y = make()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so that an interrupted write never leaves a truncated cache behind.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(f, x=x.numpy(), y=y.numpy())
            os.chmod(tmp, 0o644)  # mkstemp makes files private; a cache is as readable as any download
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return x, y
