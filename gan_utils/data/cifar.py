"""CIFAR-10 from torchvision's pickled batches or from class folders of JPEGs, held in memory; shapes offline."""

from __future__ import annotations

import codecs
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from gan_utils.data.base import DataError, ImageSet, check_source, load_with_fallback, writable
from gan_utils.network import network_available
from gan_utils.paths import shown_path

__all__ = ["CIFAR10_CLASSES", "find_cifar_batches", "load_cifar10", "read_cifar_batches", "read_image_folder"]

# Alphabetical, which is also CIFAR-10's label order (and torchvision ImageFolder's).
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
FOLDERS_DIR = "cifar10"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_SIDE = 32
_DOWNLOAD_HOST = "www.cs.toronto.edu"  # where torchvision fetches cifar-10-python.tar.gz from

# The only globals a CIFAR batch pickle needs: numpy's array rebuilders, and the codec that protocol-2
# pickles use for bytes. Anything else (os.system, eval, ...) is refused, so a stray file cannot run code.
_NUMPY_MODULES = ("numpy", "numpy.core.multiarray", "numpy._core.multiarray")
_SAFE_GLOBALS = {
    "_reconstruct": np.ndarray(0).__reduce__()[0],
    "scalar": np.uint8(0).__reduce__()[0],
    "ndarray": np.ndarray,
    "dtype": np.dtype,
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if module in _NUMPY_MODULES and name in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[name]
        if (module, name) == ("_codecs", "encode"):
            return codecs.encode
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR-10 batch holds only arrays")


def _unpickle(path: Path) -> dict:
    # The batches come from the md5-verified official tarball (torchvision checks it on download), and torchvision
    # itself unpickles them the same way (encoding="latin1" for the Python 2 strings). The restricted unpickler
    # adds a guard for files that came from anywhere else.
    try:
        with open(path, "rb") as f:
            entry = _ArrayUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError) as e:
        raise DataError(f"{shown_path(path)} could not be read as a CIFAR-10 batch ({e}). Delete the "
                        f"{path.parent.name} folder and download CIFAR-10 again.") from e
    if not isinstance(entry, dict):
        raise DataError(f"{shown_path(path)} holds a {type(entry).__name__}, not a CIFAR-10 batch dict.")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}


def find_cifar_batches(folder: str | Path) -> tuple[str, list[Path]] | None:
    """The split and batch files in a cifar-10-batches-py folder: the train batches if any, else test_batch."""
    folder = Path(folder)
    train = [folder / name for name in TRAIN_BATCHES if (folder / name).is_file()]
    if train:
        return "train", train
    if (folder / TEST_BATCH).is_file():
        return "test", [folder / TEST_BATCH]
    return None


def read_cifar_batches(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and int64 labels (N,) from torchvision's cifar-10-batches-py folder."""
    folder = Path(folder)
    found = find_cifar_batches(folder)
    if found is None:
        raise DataError(f"No CIFAR-10 batches in {shown_path(folder)} (looked for data_batch_1..5 and test_batch).")
    images, labels = [], []
    for path in found[1]:
        entry = _unpickle(path)
        if "data" not in entry or "labels" not in entry:
            raise DataError(f"{shown_path(path)} has keys {sorted(entry)}; a CIFAR-10 batch has 'data' and "
                            "'labels'. (A CIFAR-100 batch has 'fine_labels' instead.)")
        data, lab = np.asarray(entry["data"]), np.asarray(entry["labels"])
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * _SIDE * _SIDE:
            raise DataError(f"{shown_path(path)} holds data of shape {data.shape} ({data.dtype}); CIFAR-10 batches "
                            "hold uint8 rows of 3072 = 3x32x32 values. Delete it and download CIFAR-10 again.")
        if lab.ndim != 1 or lab.shape[0] != data.shape[0]:
            raise DataError(f"{shown_path(path)} has {lab.shape[0] if lab.ndim else 0} labels for {data.shape[0]} "
                            "images.")
        if lab.size and (lab.min() < 0 or lab.max() >= len(CIFAR10_CLASSES)):
            raise DataError(f"{shown_path(path)} has labels outside 0..9; it is not a CIFAR-10 batch.")
        images.append(data.reshape(-1, 3, _SIDE, _SIDE))  # each row is the red, then green, then blue plane
        labels.append(lab.astype(np.int64))
    return np.concatenate(images), np.concatenate(labels)


def _center_square(im: Image.Image, size: int) -> Image.Image:
    w, h = im.size
    scale = size / min(w, h)
    im = im.resize((max(size, round(w * scale)), max(size, round(h * scale))), Image.Resampling.BICUBIC)
    left, top = (im.size[0] - size) // 2, (im.size[1] - size) // 2
    return im.crop((left, top, left + size, top + size))


def read_image_folder(folder: str | Path, size: int = 32, classes: Sequence[str] | None = None,
                      resize: bool = False, only: Sequence[str] | None = None,
                      ) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """Images (N, 3, size, size) uint8, int64 labels and class names from `<folder>/<class>/*.jpg|png`.

    `classes` fixes the label order (default: the sub-folders, sorted, as torchvision's ImageFolder does);
    `only` reads just those classes, still labelled by their index in `classes`. Images must already be
    size x size unless `resize`, which scales the short side to `size` and crops the centre.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{shown_path(folder)} is not a folder of class sub-folders.")
    names = tuple(classes) if classes is not None else tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    if not names:
        raise DataError(f"{shown_path(folder)} has no class sub-folders; expected "
                        f"{shown_path(folder)}/<class>/<image>.jpg.")
    wanted = tuple(only) if only is not None else names
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise ValueError(f"classes {unknown} are not among {list(names)}.")
    files: list[Path] = []
    labels: list[int] = []
    for name in wanted:
        sub = folder / name
        found = sorted(p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if sub.is_dir() else []
        if not found:
            raise DataError(f"No images for class {name!r}: {shown_path(sub)} is missing or has no .jpg/.jpeg/.png "
                            "files.")
        files += found
        labels += [names.index(name)] * len(found)
    out = np.empty((len(files), size, size, 3), dtype=np.uint8)  # decoded once, straight into one array
    for i, path in enumerate(files):
        try:
            with Image.open(path) as im:
                if im.size != (size, size):
                    if not resize:
                        raise DataError(f"{shown_path(path)} is {im.size[0]}x{im.size[1]}, expected {size}x{size}. "
                                        "Use images of that size, or pass resize=True to scale and centre-crop them.")
                    im = _center_square(im, size)
                out[i] = np.asarray(im.convert("RGB"))
        except (OSError, UnidentifiedImageError) as e:
            raise DataError(f"{shown_path(path)} could not be read as an image ({e}). Delete or replace it.") from e
    images = torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()
    return images, torch.tensor(labels, dtype=torch.int64), names


def _class_indices(classes: Sequence[str] | None) -> list[int] | None:
    if classes is None:
        return None
    if isinstance(classes, str):
        classes = [classes]
    unknown = [c for c in classes if c not in CIFAR10_CLASSES]
    if unknown or not classes:
        raise ValueError(f"Unknown CIFAR-10 class name(s) {unknown}; valid names are {list(CIFAR10_CLASSES)}.")
    return sorted({CIFAR10_CLASSES.index(c) for c in classes})


def _folder_split(root: Path) -> tuple[str, Path] | None:
    for split in ("train", "test"):
        path = root / FOLDERS_DIR / split
        if path.is_dir() and any((path / c).is_dir() for c in CIFAR10_CLASSES):
            return split, path
    return None


def _read_real(root: Path, keep: list[int] | None) -> tuple[torch.Tensor, torch.Tensor, str] | None:
    """Real CIFAR-10 from the first layout found under root, or None when there is none."""
    batches = root / BATCHES_DIR
    found = find_cifar_batches(batches)
    if found is not None:
        split, paths = found
        images, labels = read_cifar_batches(batches)
        if keep is not None:
            mask = np.isin(labels, keep)
            images, labels = images[mask], labels[mask]
        if split == "train":
            what = "train split" if len(paths) == 5 else f"train split, {len(paths)} of 5 batches"
            note = ""
        else:
            what, note = "test split", " (train batches data_batch_1..5 not found there)"
        return torch.from_numpy(images), torch.from_numpy(labels), f"CIFAR-10 {what} from {shown_path(batches)}{note}"
    folders = _folder_split(root)
    if folders is not None:
        split, path = folders
        only = None if keep is None else [CIFAR10_CLASSES[i] for i in keep]
        images_t, labels_t, _ = read_image_folder(path, _SIDE, classes=CIFAR10_CLASSES, only=only)
        note = "" if split == "train" else "; no train/ folder there"
        return images_t, labels_t, (f"CIFAR-10 {split} split from {shown_path(path)} (JPEG copies, slightly different "
                                    f"from the binary release{note})")
    return None


def _download_cifar10(root: Path) -> str | None:
    """Try torchvision's CIFAR-10 download (md5-checked) into root; return why it failed, or None."""
    if not network_available(_DOWNLOAD_HOST):
        return "no network"
    if not writable(root):
        return f"{shown_path(root)} is not writable"
    try:
        from torchvision.datasets import CIFAR10

        CIFAR10(str(root), train=True, download=True)  # one tarball holds the train and test batches
    except Exception as e:  # torchvision raises several kinds on network/checksum trouble
        return f"download failed: {e}"
    return None


def load_cifar10(root: str | Path, source: str = "auto", device: str | torch.device = "cpu",
                 cache_dir: str | Path | None = None, n_synthetic: int = 50_000, seed: int = 0,
                 classes: Sequence[str] | None = None, verbose: bool = True) -> ImageSet:
    """CIFAR-10 as an in-memory ImageSet: real if on disk or downloadable, else (source='auto') the shapes stand-in.

    `classes` (CIFAR-10 names, e.g. ["horse"]) keeps only those classes, with their original labels; the
    stand-in keeps its classes with the same label indices.
    """
    check_source(source)
    keep = _class_indices(classes)
    root = Path(root)

    def read_real() -> ImageSet | None:
        real = _read_real(root, keep)
        if real is None:
            return None
        images, labels, description = real
        subset_note = "" if keep is None else "; only class " + ", ".join(CIFAR10_CLASSES[i] for i in keep)
        return ImageSet(images.to(device), labels.to(device), "CIFAR-10", "real", description + subset_note,
                        CIFAR10_CLASSES)

    def standin(why: str) -> ImageSet:
        from gan_utils.data.synthetic.shapes import SHAPE_CLASSES, synthetic_shapes

        images, labels = synthetic_shapes(n_synthetic, seed=seed,
                                          cache_dir=Path(cache_dir) if cache_dir is not None else None)
        subset_note = ""
        if keep is not None:
            mask = torch.isin(labels, torch.tensor(keep))
            images, labels = images[mask], labels[mask]
            subset_note = "; only class " + ", ".join(f"{SHAPE_CLASSES[i]} (standing in for {CIFAR10_CLASSES[i]})"
                                                      for i in keep)
        reason = f" (real CIFAR-10 not in {shown_path(root)}: {why})" if why else ""
        return ImageSet(images.to(device), labels.to(device), "CIFAR-10", "synthetic",
                        f"coloured shapes and textures, 10 classes{reason}{subset_note}", SHAPE_CLASSES)

    def missing(why: str) -> str:
        batches, folders = shown_path(root / BATCHES_DIR), shown_path(root / FOLDERS_DIR)
        return (f"CIFAR-10 not found in {shown_path(root)} and it could not be downloaded ({why}). Looked for "
                f"{batches}/data_batch_1..5 or test_batch (torchvision's layout, from cifar-10-python.tar.gz) "
                f"and for JPEG class folders {folders}/train/<class>/ or {folders}/test/<class>/. Put the files "
                "there, or set GAN_DATA=synthetic to use the offline stand-in.")

    return load_with_fallback("CIFAR-10", source, read_real, standin, missing,
                              download=lambda: _download_cifar10(root), verbose=verbose)
