"""What every loader shares: DataError, the in-memory ImageSet and its banner, the .npz cache, the loading policy."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from gan_utils.config import DATA_SOURCES
from gan_utils.paths import shown_path


class DataError(RuntimeError):
    """Data could not be found, fetched, unpacked or read; the message says what to do about it."""


def check_source(source: str) -> None:
    """Refuse a data source other than GAN_DATA's values, naming them."""
    if source not in DATA_SOURCES:
        names = ", ".join(repr(s) for s in DATA_SOURCES[:-1]) + f" or {DATA_SOURCES[-1]!r}"
        raise ValueError(f"source={source!r}; use {names}.")


def to_tanh_range(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels 0..255 as floats in [-1, 1], the tanh range G produces."""
    return x.float().div_(127.5).sub_(1.0)


class Provenance:
    """What every data set says about itself: its name, whether it is real, and the banner that tells the reader.

    A mixin for the set dataclasses, which define `name`, `source` ("real" or "synthetic") and `description`,
    and a one-line `size_line()` ("10,000 images of shape (1, 28, 28)").
    """

    name: str
    source: str
    description: str

    @property
    def is_real(self) -> bool:
        return self.source == "real"

    def size_line(self) -> str:
        """How many items of what shape, for the banner."""
        raise NotImplementedError

    def __repr__(self) -> str:
        # The dataclass repr would print every pixel; a notebook cell that ends with a set shows this instead.
        return f"{type(self).__name__}({self.name!r}, {self.source}: {self.size_line()})"

    def banner(self) -> str:
        """A box that says plainly whether this is real data or the offline stand-in."""
        if self.is_real:
            lines = [f"REAL DATA: {self.description}", self.size_line()]
        else:
            lines = [f"OFFLINE STAND-IN, NOT {self.name.upper()}: {self.description}",
                     f"{self.size_line()}. Results are not comparable with the paper's.",
                     "To use the real data: connect to the internet (GAN_DATA=auto downloads it),",
                     "or put the files under GAN_DATA_ROOT (see data/README.md)."]
        width = max(len(s) for s in lines)
        edge = "#" if self.is_real else "!"
        return "\n".join([edge * (width + 4)] + [f"{edge} {s:<{width}} {edge}" for s in lines] + [edge * (width + 4)])


@dataclass(repr=False)
class ImageSet(Provenance):
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

    def to_float(self, idx: torch.Tensor | slice | None = None) -> torch.Tensor:
        """Images at `idx` as floats in [-1, 1], the tanh range G produces."""
        return to_tanh_range(self.images if idx is None else self.images[idx])

    def batch(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A random batch (x in [-1, 1], y), drawn with replacement by index on the data's device."""
        # A generator draws on its own device (CUDA refuses a CPU generator); the indices then move to the data.
        src = generator.device if generator is not None else self.images.device
        idx = torch.randint(len(self), (batch_size,), device=src, generator=generator).to(self.images.device)
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

    def size_line(self) -> str:
        """How many images of what shape, for the banner."""
        return f"{len(self):,} images of shape {self.shape}"


def writable(path: Path) -> bool:
    """True if files can be created in `path` (created if missing)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def save_npz_atomic(path: Path, arrays: Mapping[str, np.ndarray], compress: bool = True) -> None:
    """Write arrays to the .npz at `path` so that readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so that an interrupted write never leaves a truncated cache behind.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            (np.savez_compressed if compress else np.savez)(f, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a cache is as readable as any download
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cached_arrays(path: Path | None, make: Callable[[], dict[str, np.ndarray]],
                  valid: Callable[[dict[str, np.ndarray]], bool] = lambda arrays: True,
                  compress: bool = True) -> dict[str, np.ndarray]:
    """Named arrays from the .npz at `path` if it is there and `valid`, else from `make()`, then cached atomically."""
    if path is not None and path.exists():
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
            if valid(arrays):
                return arrays
        except (OSError, ValueError, KeyError, EOFError):
            pass  # unreadable or truncated cache: fall through and make it again
    arrays = make()
    if path is not None:
        try:
            save_npz_atomic(path, arrays, compress)
        except OSError as e:  # a cache that cannot be written must not stop the notebook
            warnings.warn(f"Could not write the cache {shown_path(path)} ({e}); the data is used uncached and "
                          "made again next time. Set GAN_CACHE_DIR to a writable folder.", stacklevel=2)
    return arrays


def cached_images(path: Path | None, shape: tuple[int, ...],
                  make: Callable[[], tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (uint8, `shape`) and int64 labels from the .npz at `path`, or from `make()`, then cached atomically."""
    def make_arrays() -> dict[str, np.ndarray]:
        x, y = make()
        return {"x": x.numpy(), "y": y.numpy()}

    def valid(a: dict[str, np.ndarray]) -> bool:
        return ("x" in a and "y" in a and a["x"].shape == shape and a["x"].dtype == np.uint8
                and a["y"].shape == (shape[0],))

    arrays = cached_arrays(path, make_arrays, valid)
    return torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"]).long()


# --------------------------------------------------------------------------- the one loading policy

S = TypeVar("S", bound=Provenance)


def load_with_fallback(name: str, source: str, read_real: Callable[[], S | None], make_standin: Callable[[str], S],
                       missing: Callable[[str], str], download: Callable[[], str | None] | None = None,
                       verbose: bool = True) -> S:
    """Every loader's policy: the real data on disk, else a verified download, else (source='auto') the stand-in.

    `read_real()` returns the real set, or None when its files are not there. `download()` fetches them and
    returns None, or a short reason why it could not ("no network"); pass download=None for a set that cannot
    be downloaded. `make_standin(why)` builds the offline stand-in, and `missing(why)` is the DataError
    message for source='real', which must say what to do; `why` is "" when no download was tried. The chosen
    set's banner is printed when `verbose`.
    """
    check_source(source)
    data: S | None = None
    why = ""
    if source != "synthetic":
        data = read_real()
        if data is None and download is not None:
            why = download() or ""
            if not why:
                data = read_real()
                why = "" if data is not None else f"the download left no readable {name} files"
        if data is None and source == "real":
            raise DataError(missing(why))
    if data is None:
        data = make_standin(why)
    if verbose:
        print(data.banner())
    return data
