"""A learner's own unpaired data in the CycleGAN repository's layout: root/trainA, trainB, testA, testB."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from gan_utils.data.base import DataError
from gan_utils.data.images import image_files, read_resized
from gan_utils.data.pairs import Size, square
from gan_utils.data.sets import UnpairedSet
from gan_utils.paths import shown_path

__all__ = ["unpaired_set_from_folders"]


def _sizes(files: list[Path]) -> dict[tuple[int, int], list[Path]]:
    out: dict[tuple[int, int], list[Path]] = {}
    for path in files:
        try:
            with Image.open(path) as im:
                out.setdefault(im.size, []).append(path)
        except (OSError, ValueError) as e:
            raise DataError(f"{shown_path(path)} could not be read as an image ({e}). Delete or replace it.") from e
    return out


def unpaired_set_from_folders(root: str | Path, split: str = "train", size: Size | None = None,
                              cache_dir: str | Path | None = None, device: str | torch.device = "cpu",
                              name: str | None = None, domains: tuple[str, str] = ("A", "B")) -> UnpairedSet:
    """The images of root/<split>A and root/<split>B as an UnpairedSet (X = A, Y = B), cached.

    With `size` (a side, or (W, H)) every image is resized to it; without it, all images must already share
    one size, and a folder of mixed sizes is an error that names them.
    """
    root = Path(root)
    dirs = [root / f"{split}A", root / f"{split}B"]
    for d in dirs:
        if not d.is_dir():
            raise DataError(f"{shown_path(d)} does not exist. The CycleGAN layout is {shown_path(root)}/trainA, "
                            "trainB, testA, testB, each a folder of .jpg/.png images of one domain.")
    files = [image_files(d) for d in dirs]  # an empty folder is a DataError there
    if size is None:
        found = {}
        for d, f in zip(dirs, files, strict=True):
            found.update({s: (d, paths) for s, paths in _sizes(f).items()})
        if len(found) > 1:
            listing = "; ".join(f"{w}x{h}: {len(p)} in {shown_path(d)}" for (w, h), (d, p) in found.items())
            raise DataError(f"The images differ in size ({listing}). Pass size=128 (or (W, H)) to resize them all, "
                            "or resize the files to one size.")
        wh = next(iter(found))
    else:
        wh = square(size)
    x, y = (torch.from_numpy(read_resized(f, wh, "photo", cache_dir)).to(device) for f in files)
    return UnpairedSet(x, y, name or root.name, "real",
                       f"{len(x)} {domains[0]} and {len(y)} {domains[1]} images from {shown_path(root)}/{split}A|B, "
                       f"at {wh[0]}x{wh[1]}", domains=domains)
