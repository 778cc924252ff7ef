"""MNIST from its IDX files (gzipped or not), held in memory; the synthetic-digit stand-in when offline."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from gan_utils.data.base import DataError, ImageSet, load_with_fallback, writable
from gan_utils.network import network_available
from gan_utils.paths import shown_path

IDX_DTYPES = {0x08: np.uint8}
SPLITS = ("train", "t10k")
CLASSES = tuple(str(d) for d in range(10))


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (the format MNIST ships in), gzipped or not, into a numpy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{shown_path(path)} could not be read ({e}). Delete it and download MNIST again.") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{shown_path(path)} is not an IDX file (bad magic number). Delete it and download MNIST "
                        "again.")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code not in IDX_DTYPES:
        raise DataError(f"{shown_path(path)}: IDX element type 0x{dtype_code:02x} is not supported (MNIST uses "
                        "0x08, uint8).")
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims)) if dims else 0
    if len(raw) - header != expected:
        raise DataError(f"{shown_path(path)} is truncated or corrupt: header says {dims} ({expected} bytes), file has "
                        f"{len(raw) - header}. Delete it and download MNIST again.")
    return np.frombuffer(raw, dtype=IDX_DTYPES[dtype_code], offset=header).reshape(dims)


def _find(raw_dir: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (raw_dir / name).exists():
            return raw_dir / name
    return None


def find_mnist_split(raw_dir: Path, prefer: str = "train") -> tuple[str, Path, Path] | None:
    """The first split (preferred one first) whose image and label files are both present."""
    order = [prefer] + [s for s in SPLITS if s != prefer]
    for split in order:
        images, labels = _find(raw_dir, f"{split}-images-idx3-ubyte"), _find(raw_dir, f"{split}-labels-idx1-ubyte")
        if images and labels:
            return split, images, labels
    return None


def read_mnist(raw_dir: str | Path, prefer: str = "train") -> tuple[np.ndarray, np.ndarray, str]:
    """Images (N, 28, 28) uint8, labels (N,) and the split name, from whatever split is in `raw_dir`."""
    raw_dir = Path(raw_dir)
    found = find_mnist_split(raw_dir, prefer)
    if found is None:
        raise DataError(f"No MNIST IDX files in {shown_path(raw_dir)} (looked for "
                        "train-/t10k-images-idx3-ubyte[.gz] and the matching labels file).")
    split, img_path, lab_path = found
    images, labels = read_idx(img_path), read_idx(lab_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{shown_path(img_path)} holds images of shape {images.shape[1:]}, expected 28x28 MNIST "
                        "digits.")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataError(f"{shown_path(lab_path)} has {labels.shape[0]} labels for {images.shape[0]} images in "
                        f"{shown_path(img_path)}.")
    if labels.max(initial=0) > 9:
        raise DataError(f"{shown_path(lab_path)} has labels above 9; it is not an MNIST labels file.")
    return images, labels, split


def _download_mnist(root: Path) -> str | None:
    """Try torchvision's MNIST download into root/MNIST/raw; return why it failed, or None."""
    if not writable(root):
        return f"{shown_path(root)} is not writable"
    if not network_available():
        return "no network"
    try:
        from torchvision.datasets import MNIST

        MNIST(str(root), train=True, download=True)
        MNIST(str(root), train=False, download=True)
    except Exception as e:  # torchvision raises several kinds on network/checksum trouble
        return f"download failed: {e}"
    return None


def load_mnist(root: str | Path, source: str = "auto", device: str | torch.device = "cpu",
               cache_dir: str | Path | None = None, n_synthetic: int = 60_000, seed: int = 0,
               prefer: str = "train", verbose: bool = True) -> ImageSet:
    """MNIST as an in-memory ImageSet: real if on disk or downloadable, else (source='auto') synthetic digits."""
    root = Path(root)
    raw_dir = root / "MNIST" / "raw"

    def read_real() -> ImageSet | None:
        if find_mnist_split(raw_dir, prefer) is None:
            return None
        images, labels, split = read_mnist(raw_dir, prefer)
        note = "" if split == prefer else f" ({prefer} images not found there, so the {split} split is used)"
        split_name = {"train": "train split", "t10k": "10k test split"}[split]
        return ImageSet(torch.from_numpy(images.copy()).unsqueeze(1).to(device),
                        torch.from_numpy(labels.astype(np.int64)).to(device), "MNIST", "real",
                        f"MNIST {split_name} from {shown_path(raw_dir)}{note}", CLASSES)

    def standin(why: str) -> ImageSet:
        from gan_utils.data.synthetic import synthetic_digits

        images, labels = synthetic_digits(n_synthetic, seed=seed,
                                          cache_dir=Path(cache_dir) if cache_dir is not None else None)
        reason = f" (real MNIST not in {shown_path(raw_dir)}: {why})" if why else ""
        return ImageSet(images.to(device), labels.to(device), "MNIST", "synthetic",
                        f"synthetic digits rendered from matplotlib's fonts{reason}", CLASSES)

    def missing(why: str) -> str:
        return (f"MNIST not found in {shown_path(raw_dir)} and it could not be downloaded ({why}). Put the four "
                "IDX files (train-/t10k-images-idx3-ubyte[.gz], train-/t10k-labels-idx1-ubyte[.gz]) "
                "there, or set GAN_DATA=synthetic to use the offline stand-in.")

    return load_with_fallback("MNIST", source, read_real, standin, missing,
                              download=lambda: _download_mnist(root), verbose=verbose)
