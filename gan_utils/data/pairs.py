"""Label map <-> photo pairs with their classes: colouring maps, hold-out splits, both directions, unpaired views.

The Cityscapes and facades loaders (and their procedural stand-in) return a `LabelledPairs`: a PairedSet whose
A holds class ids 0..K-1 (label_nc = K), with the class names, a colour per class, and where each pair came
from (a video sequence and its frame index, or a still), so that hold-out splits never leak near-duplicate
frames into training.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gan_utils.data.base import DataError, cached_arrays
from gan_utils.data.images import _cache_key
from gan_utils.data.sets import PairedSet, UnpairedSet
from gan_utils.paths import shown_path

__all__ = ["LabelledPairs", "colorize", "contiguous_holdout", "ids_from_colors", "read_side_by_side", "square"]

Size = int | tuple[int, int]


def square(size: Size) -> tuple[int, int]:
    """(W, H) from a side (square images, as the pix2pix tarballs store them) or a (W, H) pair."""
    w, h = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if w <= 0 or h <= 0:
        raise ValueError(f"size={size}; give a positive side (128) or (width, height).")
    return w, h


def colorize(ids: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """Class-id maps (N, 1, H, W) or (N, H, W) as uint8 RGB images (N, 3, H, W), one palette colour per class."""
    if ids.dim() == 4:
        if ids.shape[1] != 1:
            raise ValueError(f"ids must be (N, 1, H, W) or (N, H, W), got {tuple(ids.shape)}.")
        ids = ids[:, 0]
    if ids.numel() and int(ids.max()) >= len(palette):
        raise ValueError(f"class id {int(ids.max())} has no colour: the palette has {len(palette)}.")
    return palette.to(ids.device)[ids.long()].permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)


def ids_from_colors(rgb: torch.Tensor, palette: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Colour-coded maps (N, 3, H, W) uint8 as class ids (N, 1, H, W) uint8, by the nearest palette colour.

    Also returns the mean distance (0..441) between each pixel and its chosen colour: a few units for JPEG
    noise, tens when the palette is not the one the maps were drawn with.
    """
    pal = palette.float().to(rgb.device)  # (K, 3)
    out = torch.empty((rgb.shape[0], 1, *rgb.shape[2:]), dtype=torch.uint8, device=rgb.device)
    total = 0.0
    for i in range(rgb.shape[0]):  # one image at a time keeps the (H*W, K) distance matrix small
        px = rgb[i].flatten(1).T.float()  # (H*W, 3)
        d = torch.cdist(px, pal)  # (H*W, K)
        best, idx = d.min(1)
        out[i, 0] = idx.view(rgb.shape[2:]).to(torch.uint8)
        total += float(best.mean())
    return out, total / max(1, rgb.shape[0])


def contiguous_holdout(n: int, n_holdout: int, gap: int = 0, start: int | None = None) -> tuple[list[int], list[int]]:
    """Train and test frame indices for a sequence of n frames: a contiguous test block, `gap` frames dropped each side.

    Neighbouring video frames are near-duplicates, so a random split would test on frames that training has
    all but seen; a block (by default the last n_holdout frames) with a gap keeps them apart.
    """
    start = n - n_holdout if start is None else start
    if not (0 < n_holdout < n and 0 <= start and start + n_holdout <= n and gap >= 0):
        raise ValueError(f"cannot hold out {n_holdout} frames from {start} of {n} with gap {gap}.")
    test = list(range(start, start + n_holdout))
    train = [i for i in range(n) if i < start - gap or i >= start + n_holdout + gap]
    if not train:
        raise ValueError(f"holding out {n_holdout} of {n} frames with gap {gap} leaves nothing to train on.")
    return train, test


@dataclass(repr=False)
class LabelledPairs(PairedSet):
    """A PairedSet of class-id maps A (label_nc classes) -> photos B, with class names, colours and origins."""

    classes: tuple[str, ...] = ()
    palette: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 3, dtype=torch.uint8))  # (K, 3) uint8
    groups: tuple[str, ...] = ()  # the sequence or folder each pair came from
    frames: tuple[int, ...] = ()  # the frame's index in its sequence, or -1 for a still
    stems: tuple[str, ...] = ()  # file names without suffix, for the reader

    def __post_init__(self) -> None:
        super().__post_init__()
        n = len(self)
        if not self.label_nc or len(self.classes) != self.label_nc or len(self.palette) != self.label_nc:
            raise ValueError(f"label_nc={self.label_nc}, {len(self.classes)} class names and {len(self.palette)} "
                             "colours; give one name and one colour per class.")
        self.groups = self.groups or ("all",) * n
        self.frames = self.frames or (-1,) * n
        self.stems = self.stems or tuple(str(i) for i in range(n))
        if not len(self.groups) == len(self.frames) == len(self.stems) == n:
            raise ValueError(f"{n} pairs but {len(self.groups)} groups, {len(self.frames)} frames and "
                             f"{len(self.stems)} stems.")

    def subset(self, idx: Sequence[int] | torch.Tensor, note: str) -> LabelledPairs:
        """The pairs at `idx`, with `note` added to the description."""
        idx = [int(i) for i in idx]
        t = torch.tensor(idx, dtype=torch.long, device=self.A.device)
        return LabelledPairs(self.A[t], self.B[t], self.name, self.source, f"{self.description}; {note}",
                             self.label_nc, None if self.inst is None else self.inst[t], self.classes, self.palette,
                             tuple(self.groups[i] for i in idx), tuple(self.frames[i] for i in idx),
                             tuple(self.stems[i] for i in idx))

    def concat(self, other: LabelledPairs) -> LabelledPairs:
        """Both sets' pairs in one set (same classes and image size)."""
        if other.classes != self.classes or other.A.shape[1:] != self.A.shape[1:]:
            raise DataError("cannot join sets with other classes or another image size; read them at one size.")
        inst = None
        if self.inst is not None and other.inst is not None:
            inst = torch.cat([self.inst, other.inst])
        return LabelledPairs(torch.cat([self.A, other.A]), torch.cat([self.B, other.B]), self.name, self.source,
                             f"{self.description} + {other.description}", self.label_nc, inst, self.classes,
                             self.palette, self.groups + other.groups, self.frames + other.frames,
                             self.stems + other.stems)

    def split(self, n_holdout_frames: int = 6, n_holdout_stills: int = 2, gap: int = 2,
              seed: int = 0) -> tuple[LabelledPairs, LabelledPairs]:
        """(train, test): per sequence the last `n_holdout_frames` frames (a `gap` dropped before them), and
        `n_holdout_stills` stills of each other group drawn with `seed`. Never train on the test pairs."""
        train: list[int] = []
        test: list[int] = []
        for group in dict.fromkeys(self.groups):
            members = [i for i, g in enumerate(self.groups) if g == group]
            if all(self.frames[i] >= 0 for i in members) and len(members) > 1:
                members.sort(key=lambda i: self.frames[i])
                tr, te = contiguous_holdout(len(members), min(n_holdout_frames, len(members) - 1), gap)
            else:
                k = min(n_holdout_stills, len(members) - 1)
                perm = torch.randperm(len(members), generator=torch.Generator().manual_seed(seed)).tolist()
                tr, te = sorted(perm[k:]), sorted(perm[:k])
            train += [members[j] for j in tr]
            test += [members[j] for j in te]
        if not test:
            raise ValueError("nothing held out; raise n_holdout_frames or n_holdout_stills.")
        dropped = len(self) - len(train) - len(test)
        note = f", {dropped} frames next to the test block dropped" if dropped else ""
        return (self.subset(train, f"{len(train)} pairs for training{note}"),
                self.subset(test, f"{len(test)} held-out pairs"))

    def colour_maps(self, idx: torch.Tensor | slice | None = None) -> torch.Tensor:
        """The label maps at `idx` drawn in the palette, uint8 (N, 3, H, W)."""
        return colorize(self.A if idx is None else self.A[idx], self.palette)

    def photo_to_label(self) -> PairedSet:
        """The other direction: photos A -> colour label maps B (pix2pix's photo -> map), as a PairedSet."""
        return PairedSet(self.B, self.colour_maps(), self.name, self.source,
                         f"{self.description}; photo -> colour label map")

    def unpaired(self, seed: int = 0, fraction_x: float = 0.5) -> UnpairedSet:
        """CycleGAN's view: colour label maps from one part of the pairs, photos from the other, never the same pair."""
        n = len(self)
        if n < 2:
            raise DataError(f"{n} pair(s): an unpaired view needs at least 2, one per domain.")
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(self.A.device)
        k = min(n - 1, max(1, round(n * fraction_x)))
        return UnpairedSet(self.colour_maps(perm[:k]), self.B[perm[k:]], self.name, self.source,
                           f"{self.description}; unpaired: maps of {k} pairs, photos of the other {n - k}",
                           domains=("label map", "photo"))

    def class_frequencies(self) -> dict[str, float]:
        """The fraction of pixels of each class, over all label maps."""
        counts = torch.bincount(self.A.flatten().long(), minlength=self.label_nc).cpu().double()  # MPS has no float64
        return {c: float(v) for c, v in zip(self.classes, counts / counts.sum().clamp_min(1), strict=True)}


def read_side_by_side(files: Sequence[Path], size: tuple[int, int], cache_dir: str | Path | None,
                      expect: str) -> tuple[np.ndarray, np.ndarray]:
    """pix2pix tarball images (left | right halves) as two uint8 stacks (N, 3, H, W) at size (W, H), cached.

    The left half is a photo (resized bicubic); the right half is a colour-coded label map (resized nearest,
    so that no colour between two classes is invented). `expect` names the layout for error messages.
    """
    from PIL import Image

    w, h = size

    def read() -> dict[str, np.ndarray]:
        left = np.empty((len(files), 3, h, w), np.uint8)
        right = np.empty_like(left)
        for i, path in enumerate(files):
            try:
                with Image.open(path) as im:
                    im = im.convert("RGB")
                    if im.size[0] != 2 * im.size[1]:
                        raise DataError(f"{shown_path(path)} is {im.size[0]}x{im.size[1]}, but {expect} images hold "
                                        "two square halves side by side (width = 2 x height, e.g. 512x256).")
                    half = im.size[1]
                    photo = im.crop((0, 0, half, half)).resize((w, h), Image.Resampling.BICUBIC)
                    labels = im.crop((half, 0, 2 * half, half)).resize((w, h), Image.Resampling.NEAREST)
            except (OSError, ValueError, SyntaxError) as e:
                raise DataError(f"{shown_path(path)} could not be read as an image ({e}). Delete or replace it.") from e
            left[i] = np.asarray(photo).transpose(2, 0, 1)
            right[i] = np.asarray(labels).transpose(2, 0, 1)
        return {"left": left, "right": right}

    def valid(a: dict[str, np.ndarray]) -> bool:
        return all(k in a and a[k].shape == (len(files), 3, h, w) for k in ("left", "right"))

    path = None
    if cache_dir is not None:
        key = hashlib.sha256(json.dumps([_cache_key(list(files), size, "side_by_side")]).encode()).hexdigest()[:16]
        path = Path(cache_dir) / f"side_by_side_{w}x{h}_{len(files)}_{key}.npz"
    arrays = cached_arrays(path, read, valid)
    return arrays["left"], arrays["right"]
