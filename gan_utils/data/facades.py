"""CMP facades as pix2pix ships them (facades.tar.gz: facades/{train,val,test}/N.jpg, 400/100/106), and the stand-in.

Each tarball image is 512x256: the photo on the left, the colour-coded label map on the right. pix2pix trains
label -> photo with `--direction BtoA` (junyanz/pytorch-CycleGAN-and-pix2pix, scripts/train_pix2pix.sh), which
is what says that A, the left half, is the photo. The label colours are turned back into the 12 CMP classes by
the nearest FACADE_PALETTE colour; the loader checks the fit and refuses maps that are not drawn in it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

import torch

from gan_utils.data.base import DataError, check_source, load_with_fallback, writable
from gan_utils.data.images import image_files
from gan_utils.data.pairs import LabelledPairs, Size, ids_from_colors, read_side_by_side, square
from gan_utils.data.synthetic.facades import FACADE_CLASSES, FACADE_PALETTE, synthetic_facades
from gan_utils.network import network_available
from gan_utils.paths import shown_path

__all__ = ["FACADES_SHA256", "FACADES_SIZE", "FACADES_URL", "FACADE_CLASSES", "FACADE_PALETTE", "SPLITS",
           "download_facades", "load_facades", "read_facades", "synthetic_facade_pairs"]

FACADES_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"  # as in junyanz's download script
# No published checksum was found (the pix2pix and CycleGAN download scripts use plain wget), and this machine
# cannot fetch the file to compute one. Until someone records it, the download is checked for its size on record,
# a complete transfer and a readable archive. Set it to the sha256 of a known-good facades.tar.gz to verify it fully.
FACADES_SHA256: str | None = None
# The tarball's size as the server reported it in a 2022 wget log and as two independent repositories hard-code it;
# a different size means another file (an error page, a re-packed tarball). None switches the check off.
FACADES_SIZE: int | None = 30_168_306
SPLITS = {"train": 400, "val": 100, "test": 106}
_SEED_OFFSET = {"train": 0, "val": 500, "test": 1000}  # the stand-in's splits are other buildings
_HOST = "efrosgans.eecs.berkeley.edu"
_MAX_COLOUR_DISTANCE = 40.0  # mean distance to the palette above which the maps are not in FACADE_PALETTE


def read_facades(folder: str | Path, split: str = "train", size: Size = 128,
                 cache_dir: str | Path | None = None, device: str | torch.device = "cpu") -> LabelledPairs:
    """The pix2pix facades split in `folder/<split>/` as label ids -> photos, resized to `size`, cached."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r}; use one of {list(SPLITS)}.")
    folder, wh = Path(folder), square(size)
    files = sorted(image_files(folder / split), key=lambda p: (len(p.stem), p.stem))  # 1, 2, ..., 10
    photos, maps = read_side_by_side(files, wh, cache_dir, "pix2pix facades")
    ids, dist = ids_from_colors(torch.from_numpy(maps), FACADE_PALETTE)
    if dist > _MAX_COLOUR_DISTANCE:
        raise DataError(f"The label halves in {shown_path(folder / split)} are on average {dist:.0f} away from "
                        "FACADE_PALETTE's colours, so they are not pix2pix's facade maps (or the palette is wrong; "
                        "see gan_utils/data/synthetic/facades.py).")
    note = "" if len(files) == SPLITS[split] else f" (the tarball's {split} split has {SPLITS[split]})"
    return LabelledPairs(ids.to(device), torch.from_numpy(photos).to(device), "CMP facades", "real",
                         f"{len(files)} CMP facades {split} pairs{note} from {shown_path(folder)}, at {wh[0]}x{wh[1]}",
                         len(FACADE_CLASSES), None, FACADE_CLASSES, FACADE_PALETTE, ("facades/" + split,) * len(files),
                         (-1,) * len(files), tuple(p.stem for p in files))


def synthetic_facade_pairs(n: int, size: Size = 128, seed: int = 0, cache_dir: str | Path | None = None,
                           device: str | torch.device = "cpu", name: str = "CMP facades",
                           note: str = "") -> LabelledPairs:
    """The procedural facades as LabelledPairs (label ids -> photo, with instance maps), labelled as a stand-in."""
    w, h = square(size)
    if w != h:
        raise ValueError(f"size={size}: the procedural facades are square; give one side (64, 128, 256).")
    labels, photos, inst = synthetic_facades(n, w, seed, cache_dir)
    return LabelledPairs(labels.to(device), photos.to(device), name, "synthetic",
                         f"procedural facades (seed {seed}), label map -> photo{note}", len(FACADE_CLASSES),
                         inst.to(device), FACADE_CLASSES, FACADE_PALETTE, ("synthetic",) * n, (-1,) * n,
                         tuple(f"synthetic_{i}" for i in range(n)))


def download_facades(root: str | Path, opener: Callable[[str], IO[bytes]] | None = None) -> str | None:
    """Fetch and safely unpack facades.tar.gz into root/facades; return why it could not, or None."""
    from gan_utils.data.download import download_url, fetch_and_extract

    root = Path(root)
    if opener is None and not network_available(_HOST, 80):
        return "no network"
    if not writable(root):
        return f"{shown_path(root)} is not writable"
    archive = root / "facades.tar.gz"
    try:
        download_url(FACADES_URL, archive, sha256=FACADES_SHA256, opener=opener)
        size = archive.stat().st_size
        if FACADES_SIZE is not None and size != FACADES_SIZE:
            archive.unlink()
            return (f"download failed: {FACADES_URL} sent {size:,} bytes, not the {FACADES_SIZE:,} of pix2pix's "
                    "facades.tar.gz (an error page, or a changed file); nothing was kept. If the site now serves a "
                    "new tarball, set gan_utils.data.facades.FACADES_SIZE = None")
        fetch_and_extract(FACADES_URL, archive, root, sha256=FACADES_SHA256, opener=opener)
    except (DataError, OSError) as e:
        return f"download failed: {str(e).splitlines()[0]}"
    return None


def load_facades(root: str | Path, source: str = "auto", device: str | torch.device = "cpu",
                 cache_dir: str | Path | None = None, n_synthetic: int = 400, seed: int = 0, size: Size = 128,
                 split: str = "train", verbose: bool = True) -> LabelledPairs:
    """CMP facades (pix2pix tarball) as label ids -> photos: on disk, else downloaded, else procedural facades.

    For the other direction use `.photo_to_label()`, for CycleGAN's unpaired view `.unpaired(seed)`. The stand-in
    has at most as many pairs as the real split (400/100/106), drawn with other seeds for val and test, so a test
    stand-in never repeats the training one.
    """
    check_source(source)
    if split not in SPLITS:
        raise ValueError(f"split={split!r}; use one of {list(SPLITS)}.")
    root = Path(root)
    folder = root / "facades"

    def read_real() -> LabelledPairs | None:
        if not (folder / split).is_dir():
            return None
        return read_facades(folder, split, size, cache_dir, device)

    def standin(why: str) -> LabelledPairs:
        reason = f"; real facades not in {shown_path(folder)}" + (f" ({why})" if why else "")
        return synthetic_facade_pairs(min(n_synthetic, SPLITS[split]), size, seed + _SEED_OFFSET[split], cache_dir,
                                      device, note=reason)

    def missing(why: str) -> str:
        return (f"CMP facades not found in {shown_path(folder)}/{split}/ and the download failed ({why}). Download "
                f"{FACADES_URL}, unpack it into {shown_path(root)} (it holds facades/train, val, test), or set "
                "GAN_DATA=synthetic to use the procedural facades.")

    return load_with_fallback("CMP facades", source, read_real, standin, missing,
                              download=lambda: download_facades(root), verbose=verbose)
