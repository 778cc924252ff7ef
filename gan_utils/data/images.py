"""Folders of large images (Cityscapes' 2048x1024 photos and label maps), resized once into an .npz cache.

Photos are resized with an antialiased bicubic filter. Label and instance maps are resized by nearest
neighbour only, because interpolating ids would invent classes that are not in the map (between road, 7,
and car, 26, lie the ids of sidewalk, building and sky).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_utils.data.base import DataError, cached_arrays
from gan_utils.data.sets import PairedSet
from gan_utils.paths import shown_path

__all__ = ["IMAGE_SUFFIXES", "KINDS", "check_same_size", "image_files", "image_size", "paired_set_from_folders",
           "read_image", "read_resized"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# What a file holds, which sets how it is decoded and resized, and the array it becomes (C, dtype).
KINDS: dict[str, tuple[int, np.dtype]] = {
    "photo": (3, np.dtype(np.uint8)),  # RGB, resized bicubic
    "label": (1, np.dtype(np.uint8)),  # class ids 0..255, resized nearest
    "instance": (1, np.dtype(np.int32)),  # instance ids, e.g. Cityscapes' 16-bit class * 1000 + k, nearest
}
# Part of every cache key: bump when the decoding or resizing changes, so stale caches are not reused.
VERSION = 1
# A check of one map's ids at full size, before resizing: check(path, ids (H, W)) raises DataError if they are wrong.
IdCheck = Callable[[Path, np.ndarray], None]


def image_files(folder: str | Path, suffixes: Sequence[str] = IMAGE_SUFFIXES) -> list[Path]:
    """The image files in `folder`, sorted by name (the order that pairs them with other folders)."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise DataError(f"{shown_path(folder)} {what}. Check the path, or put the data set's images there "
                        "(see data/README.md).")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    if not files:
        raise DataError(f"{shown_path(folder)} has no {'/'.join(suffixes)} images. Put the data set's images "
                        "there (see data/README.md), or point the loader at the folder that holds them.")
    return files


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; use one of {list(KINDS)}.")


def image_size(path: str | Path) -> tuple[int, int]:
    """The (width, height) of an image file, from its header (the pixels are not decoded)."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError, SyntaxError) as e:
        raise DataError(f"{shown_path(path)} could not be read as an image ({e}). Delete or replace it.") from e


def check_same_size(files: Mapping[str, Sequence[Path]]) -> None:
    """Refuse maps whose size differs from their photo's: {"photo": [...], "label map": [...], ...}, matched by index.

    A map is resized with its photo, so one of another size would be stretched onto it and its labels would
    land on the wrong pixels; the error names both files and both sizes.
    """
    (ref_what, refs), *others = files.items()
    bad: list[str] = []
    for what, paths in others:
        if len(paths) != len(refs):
            raise ValueError(f"{len(refs)} {ref_what} files but {len(paths)} {what} files; match them first.")
        for ref, path in zip(refs, paths, strict=True):
            (rw, rh), (w, h) = image_size(ref), image_size(path)
            if (w, h) != (rw, rh):
                bad.append(f"the {what} {shown_path(path)} is {w}x{h}, but its {ref_what} {shown_path(ref)} is "
                           f"{rw}x{rh}")
    if bad:
        more = f" ({len(bad) - 1} more file(s) differ likewise)" if len(bad) > 1 else ""
        raise DataError(f"{bad[0][0].upper()}{bad[0][1:]}{more}. A map must be the size of its {ref_what}, pixel "
                        f"for pixel, or it would be stretched and its ids would land on the wrong pixels. Replace "
                        f"it with the map made for that {ref_what}, or resize both the same way beforehand (the "
                        "map nearest-neighbour).")


def _nearest(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`a` (H, W) resampled to size (W, H) by picking the source pixel under each target pixel's centre."""
    (w, h), (src_h, src_w) = size, a.shape
    rows = np.minimum(((np.arange(h) + 0.5) * src_h / h).astype(np.intp), src_h - 1)
    cols = np.minimum(((np.arange(w) + 0.5) * src_w / w).astype(np.intp), src_w - 1)
    return a[rows[:, None], cols[None, :]]


def read_image(path: str | Path, kind: str, size: tuple[int, int] | None = None,
               check: IdCheck | None = None) -> np.ndarray:
    """One image file as an array (C, H, W) of `kind` ("photo", "label" or "instance"), resized to size (W, H).

    `check(path, ids)` vets a map's ids at full size, before resizing could hide a stray one.
    """
    _check_kind(kind)
    path = Path(path)
    size = None if size is None else (int(size[0]), int(size[1]))
    try:
        with Image.open(path) as im:
            if kind == "photo":
                if size is not None and im.format == "JPEG":
                    im.draft("RGB", size)  # decode a JPEG at a reduced scale: much faster, same quality
                im = im.convert("RGB")
                if size is not None and im.size != size:
                    im = im.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
                return np.asarray(im).transpose(2, 0, 1)  # (3, H, W)
            if len(im.getbands()) != 1:
                raise DataError(f"{shown_path(path)} is a {im.mode} image, but {kind} maps hold one channel of ids "
                                "(PNG mode L, P or I;16). Colour-coded maps must be turned into ids first.")
            ids = np.asarray(im)
    except (OSError, ValueError, SyntaxError) as e:  # PIL's errors for missing, truncated or unknown files
        raise DataError(f"{shown_path(path)} could not be read as an image ({e}). Delete or replace it.") from e
    if not (np.issubdtype(ids.dtype, np.integer) or ids.dtype == np.bool_):
        raise DataError(f"{shown_path(path)} holds {ids.dtype} values, but {kind} maps hold integer ids.")
    if check is not None:
        check(path, ids)
    if size is not None and ids.shape[::-1] != size:
        ids = _nearest(ids, size)
    dtype = KINDS[kind][1]
    if ids.size and (ids.min() < 0 or ids.max() > np.iinfo(dtype).max):
        hint = " Read it as kind='instance'." if kind == "label" else ""
        raise DataError(f"{shown_path(path)} holds ids {ids.min()}..{ids.max()}, outside the {dtype} range of "
                        f"{kind} maps.{hint}")
    return ids.astype(dtype)[None]  # (1, H, W)


def _cache_key(files: Sequence[Path], size: tuple[int, int], kind: str, check: IdCheck | None = None) -> str:
    entries = []
    for path in files:
        try:
            st = path.stat()
        except OSError as e:
            raise DataError(f"{shown_path(path)} could not be read ({e}). Check that the file is there.") from e
        entries.append([str(path.resolve()), st.st_size, st.st_mtime_ns])
    key: list[object] = [VERSION, kind, list(size), entries]
    if check is not None:  # a stack cached without the check must not pass for a checked one
        key.append(f"{check.__module__}.{check.__qualname__}")
    blob = json.dumps(key).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def read_resized(files: Sequence[str | Path], size: tuple[int, int], kind: str,
                 cache_dir: str | Path | None = None, check: IdCheck | None = None) -> np.ndarray:
    """Images resized to size (W, H), stacked as (N, C, H, W), read once and then from a cache in `cache_dir`.

    `kind` is "photo" (RGB uint8, bicubic), "label" (uint8 ids, nearest) or "instance" (int32 ids, nearest).
    The cache is keyed by the files' paths, sizes and modification times and the target size, so a changed
    file is read again; without `cache_dir`, every call reads the files. `check(path, ids)` vets each map's
    ids at full size (see `read_image`); a stack cached without it is not reused.
    """
    _check_kind(kind)
    files = [Path(f) for f in files]
    w, h = size
    if w <= 0 or h <= 0:
        raise ValueError(f"size={size}; give a positive (width, height), e.g. (512, 256).")
    channels, dtype = KINDS[kind]
    shape = (len(files), channels, h, w)

    def read() -> dict[str, np.ndarray]:
        out = np.empty(shape, dtype)  # filled in place: one copy of the stack in memory, not two
        for i, path in enumerate(files):
            out[i] = read_image(path, kind, (w, h), check)
        return {"x": out}

    def valid(arrays: dict[str, np.ndarray]) -> bool:
        return "x" in arrays and arrays["x"].shape == shape and arrays["x"].dtype == dtype

    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"resized_{kind}_{w}x{h}_{len(files)}_{_cache_key(files, size, kind, check)}.npz"
    return cached_arrays(path, read, valid)["x"]


def paired_set_from_folders(a_dir: str | Path, b_dir: str | Path, size: tuple[int, int], name: str, *,
                            label_nc: int = 0, inst_dir: str | Path | None = None,
                            cache_dir: str | Path | None = None, device: str | torch.device = "cpu",
                            source: str = "real", description: str | None = None) -> PairedSet:
    """A PairedSet from a folder of inputs A and one of targets B (and instance maps), paired in sorted order.

    A holds label maps when `label_nc` > 0 (pix2pixHD's train_label), else images. Every file is resized to
    size (W, H) once and cached in `cache_dir`. Label and instance maps must be the size of their target photo.
    """
    folders = {"A": Path(a_dir), "B": Path(b_dir)}
    if inst_dir is not None:
        folders["instance maps"] = Path(inst_dir)
    files = {what: image_files(folder) for what, folder in folders.items()}
    counts = {what: len(f) for what, f in files.items()}
    if len(set(counts.values())) > 1:
        found = ", ".join(f"{n} in {shown_path(folders[what])}" for what, n in counts.items())
        raise DataError(f"The pair folders hold different numbers of images ({found}). Pairs are matched in "
                        "sorted name order, so each folder needs exactly one file per pair: add the missing files "
                        "or remove the extra ones.")
    maps = {"label map": files["A"]} if label_nc else {}
    if inst_dir is not None:
        maps["instance map"] = files["instance maps"]
    if maps:
        check_same_size({"photo": files["B"], **maps})
    a = read_resized(files["A"], size, "label" if label_nc else "photo", cache_dir)
    b = read_resized(files["B"], size, "photo", cache_dir)
    inst = None
    if inst_dir is not None:
        inst = torch.from_numpy(read_resized(files["instance maps"], size, "instance", cache_dir)).to(device)
    if description is None:
        a_dir, b_dir = folders["A"], folders["B"]
        where = (f"{a_dir.name} -> {b_dir.name} in {shown_path(a_dir.parent)}" if a_dir.parent == b_dir.parent
                 else f"{shown_path(a_dir)} -> {shown_path(b_dir)}")
        description = f"{len(a)} pairs {where}, resized to {size[0]}x{size[1]}"
    return PairedSet(torch.from_numpy(a).to(device), torch.from_numpy(b).to(device), name, source, description,
                     label_nc=label_nc, inst=inst)
