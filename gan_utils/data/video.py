"""Video sequences for vid2vid: label maps, instance maps, frames and optical flow per sequence.

Reads vid2vid's layout (`{split}_A/<seq>/` label ids, `{split}_B/<seq>/` frames, `{split}_inst/<seq>/`
instance maps, one folder per sequence; the frames are optional, since vid2vid's test split has labels only),
as in `vid2vid/Cityscapes/` of the course's realdata, or a user's own folders in that layout. When none is on
disk, NVIDIA's example files are downloaded into that layout (sha256-verified; gan_utils.data.nvidia_examples).
Offline, the moving-shapes stand-in (gan_utils.data.synthetic.moving_shapes) comes with the true flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gan_utils.data.base import DataError, check_source, load_with_fallback
from gan_utils.data.cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, check_label_ids, collapse_ids
from gan_utils.data.images import check_same_size, image_files, read_resized
from gan_utils.data.nvidia_examples import download_nvidia_examples
from gan_utils.data.pairs import colorize
from gan_utils.data.sets import ClipSet
from gan_utils.data.synthetic.moving_shapes import (
    MOVING_SHAPES_CLASSES,
    MOVING_SHAPES_FOREGROUND,
    MOVING_SHAPES_PALETTE,
    moving_shapes,
)
from gan_utils.paths import shown_path

__all__ = ["CITYSCAPES_FOREGROUND", "VideoClips", "find_vid2vid", "load_video", "read_vid2vid_sequences",
           "synthetic_video"]

# vid2vid's foreground for Cityscapes: people and vehicles (their --fg_labels are the person..bicycle ids).
CITYSCAPES_FOREGROUND: tuple[int, ...] = (CITYSCAPES_CLASSES.index("person"), CITYSCAPES_CLASSES.index("vehicle"))


@dataclass(repr=False)
class VideoClips(ClipSet):
    """A ClipSet with the classes' names and colours, instance maps, which classes are foreground, and names.

    `frames` may be all zeros with `has_frames=False` (a test split of label maps only). `visible`, where
    known (the stand-in), marks the pixels of frame t+1 that were visible in frame t, like `flow`.
    """

    classes: tuple[str, ...] = ()
    palette: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 3, dtype=torch.uint8))
    foreground: tuple[int, ...] = ()
    inst: torch.Tensor | None = None  # (N, T, 1, H, W) int32
    visible: torch.Tensor | None = None  # (N, T-1, 1, H, W) bool
    has_frames: bool = True
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.classes) != self.label_nc or len(self.palette) != self.label_nc:
            raise ValueError(f"label_nc={self.label_nc} but {len(self.classes)} class names and {len(self.palette)} "
                             "colours; give one of each per class.")
        n, t, _, h, w = self.frames.shape
        if self.inst is not None and tuple(self.inst.shape) != (n, t, 1, h, w):
            raise DataError(f"instance maps are {tuple(self.inst.shape)}, frames {tuple(self.frames.shape)}; give one "
                            "instance map per frame.")
        self.names = self.names or tuple(f"seq{i:04d}" for i in range(n))

    def colour_maps(self, i: int) -> torch.Tensor:
        """Clip i's label maps drawn in the palette, uint8 (T, 3, H, W)."""
        return colorize(self.label_maps[i], self.palette)

    def foreground_mask(self, maps: torch.Tensor) -> torch.Tensor:
        """1.0 where label ids (..., 1, H, W) are a foreground class, else 0.0."""
        fg = torch.tensor(self.foreground, device=maps.device, dtype=maps.dtype)
        return torch.isin(maps, fg).float()

    def size_line(self) -> str:
        """How many clips of what shape, for the banner."""
        what = "frames" if self.has_frames else "label maps (no frames)"
        return (f"{len(self):,} clip(s) of {self.n_frames} {what} of {self.frames.shape[-1]}x{self.frames.shape[-2]}"
                + (", with true optical flow" if self.flow is not None else ""))


def find_vid2vid(root: str | Path, split: str = "train") -> Path | None:
    """The folder under `root` (or `root` itself) that holds vid2vid's `{split}_A/<seq>/`, or None."""
    root = Path(root)
    for base in (root / "vid2vid" / "Cityscapes", root / "Cityscapes", root):
        if (base / f"{split}_A").is_dir() and any(p.is_dir() for p in (base / f"{split}_A").iterdir()):
            return base
    return None


def read_vid2vid_sequences(folder: str | Path, split: str = "train", size: tuple[int, int] = (128, 64),
                           n_frames: int | None = None, cache_dir: str | Path | None = None,
                           device: str | torch.device = "cpu", labels: str = "cityscapes") -> VideoClips:
    """Every sequence in vid2vid's layout under `folder`, resized to size (W, H), first `n_frames` frames of each.

    `labels="cityscapes"` collapses Cityscapes labelIds to the 9 classes of gan_utils.data.cityscapes (ids
    outside 0..33 are an error); `labels="raw"` keeps the ids as they are (a user's own label maps, classes
    named by number). Each frame's label map, photo and instance map must have one size.
    """
    if labels not in ("cityscapes", "raw"):
        raise ValueError(f"labels={labels!r}; use 'cityscapes' or 'raw'.")
    folder, size = Path(folder), (int(size[0]), int(size[1]))
    a_root = folder / f"{split}_A"
    seqs = sorted(p for p in a_root.iterdir() if p.is_dir()) if a_root.is_dir() else []
    if not seqs:
        raise DataError(f"No sequence folders in {shown_path(a_root)}. vid2vid keeps each sequence's label maps in "
                        f"{split}_A/<seq>/, its frames in {split}_B/<seq>/ and instance maps in {split}_inst/<seq>/.")
    has_b = (folder / f"{split}_B").is_dir()
    has_inst = (folder / f"{split}_inst").is_dir()
    maps, photos, insts, names = [], [], [], []
    for seq in seqs:
        files = {"A": image_files(seq)}
        if has_b:
            files["B"] = image_files(folder / f"{split}_B" / seq.name)
        if has_inst:
            files["inst"] = image_files(folder / f"{split}_inst" / seq.name)
        counts = {k: len(v) for k, v in files.items()}
        if len(set(counts.values())) > 1:
            raise DataError(f"Sequence {seq.name} has {counts} files in {shown_path(folder)}; each folder needs one "
                            "file per frame, matched in sorted name order. Add the missing frames or remove extras.")
        k = counts["A"] if n_frames is None else n_frames
        if counts["A"] < k:
            raise DataError(f"Sequence {seq.name} has {counts['A']} frames, fewer than n_frames={k}. Lower n_frames "
                            "or add frames.")
        order = ("B", "A", "inst") if has_b else ("A", "inst")  # the photo, where there is one, is the reference
        what = {"A": "label map", "B": "photo", "inst": "instance map"}
        check_same_size({what[key]: files[key][:k] for key in order if key in files})
        check = check_label_ids if labels == "cityscapes" else None
        maps.append(read_resized(files["A"][:k], size, "label", cache_dir, check=check))
        if has_b:
            photos.append(read_resized(files["B"][:k], size, "photo", cache_dir))
        if has_inst:
            insts.append(read_resized(files["inst"][:k], size, "instance", cache_dir))
        names.append(seq.name)
    if len({m.shape[0] for m in maps}) > 1:
        raise DataError(f"The sequences in {shown_path(a_root)} have different lengths "
                        f"({[m.shape[0] for m in maps]}); pass n_frames to cut them to one length.")
    ids = torch.from_numpy(np.stack(maps))  # (N, T, 1, H, W)
    if labels == "cityscapes":
        ids, classes, palette, fg = collapse_ids(ids), CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, CITYSCAPES_FOREGROUND
    else:
        nc = int(ids.max()) + 1
        classes, fg = tuple(f"class {i}" for i in range(nc)), ()
        palette = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (nc, 3), dtype=np.uint8))
    n, t, _, h, w = ids.shape
    frames = torch.from_numpy(np.stack(photos)) if has_b else torch.zeros(n, t, 3, h, w, dtype=torch.uint8)
    inst = torch.from_numpy(np.stack(insts)).to(device) if has_inst else None
    where = f"{split} split of {shown_path(folder)}"
    desc = (f"{n} sequence(s) of {t} {'frames' if has_b else 'label maps (no frames)'} from the {where}"
            + (" (labels predicted by a segmentation network)" if labels == "cityscapes" else ""))
    return VideoClips(frames.to(device), ids.to(device), "Cityscapes video" if labels == "cityscapes" else folder.name,
                      "real", desc, len(classes), None, classes, palette, fg, inst, None, has_b, tuple(names))


def synthetic_video(n_clips: int = 1, n_frames: int = 30, size: tuple[int, int] = (128, 64), seed: int = 0,
                    device: str | torch.device = "cpu", note: str = "") -> VideoClips:
    """`n_clips` moving-shapes clips (seeds seed, seed+1, ...) with their true flow and visibility."""
    clips = [moving_shapes(n_frames, size, seed=seed + i) for i in range(n_clips)]
    stack = lambda key: torch.stack([getattr(c, key) for c in clips]).to(device)  # noqa: E731
    desc = f"moving shapes on a panning background, true optical flow{note}"
    return VideoClips(stack("frames"), stack("labels"), "moving shapes", "synthetic", desc,
                      len(MOVING_SHAPES_CLASSES), stack("flow"), MOVING_SHAPES_CLASSES, MOVING_SHAPES_PALETTE,
                      MOVING_SHAPES_FOREGROUND, stack("inst"), stack("visible"), True,
                      tuple(f"shapes{seed + i}" for i in range(n_clips)))


def load_video(root: str | Path, source: str = "auto", device: str | torch.device = "cpu",
               cache_dir: str | Path | None = None, n_synthetic: int = 1, seed: int = 0,
               size: tuple[int, int] = (128, 64), n_frames: int = 30, split: str = "train",
               verbose: bool = True) -> VideoClips:
    """vid2vid's sequences under `root` (vid2vid/Cityscapes), else NVIDIA's downloaded, else moving-shapes clips.

    The download fetches pix2pixHD's example files too (notebooks 09-11 read both). The test split's stand-in uses
    other seeds than the train split's, so its clips are new scenes.
    """
    check_source(source)

    def read_real() -> VideoClips | None:
        folder = find_vid2vid(root, split)
        if folder is None:
            return None
        return read_vid2vid_sequences(folder, split, size, n_frames, cache_dir, device)

    def standin(why: str) -> VideoClips:
        reason = f"; real sequences not in {shown_path(root)}" + (f" ({why})" if why else "")
        offset = 0 if split == "train" else 1000
        return synthetic_video(n_synthetic, n_frames, size, seed + offset, device, note=reason)

    def missing(why: str) -> str:
        tried = f", and NVIDIA's example files could not be downloaded ({why})" if why else ""
        return (f"No vid2vid sequences under {shown_path(root)}{tried}: looked for {split}_A/<seq>/ in "
                "vid2vid/Cityscapes/, Cityscapes/ and the root itself. Run this where there is a network "
                "(GAN_DATA=auto or real downloads NVIDIA's example files from github.com/NVIDIA/vid2vid and "
                "github.com/NVIDIA/pix2pixHD, and resumes an interrupted download), set GAN_DATA_ROOT to the folder "
                "that holds them (e.g. ../shared/realdata), or set GAN_DATA=synthetic for the moving-shapes stand-in.")

    # Both example sets, as load_cityscapes fetches them: one set alone would later be read as all the real data.
    download = (lambda: download_nvidia_examples(root)) if split in ("train", "test") else None
    return load_with_fallback("vid2vid sequences", source, read_real, standin, missing, download=download,
                              verbose=verbose)
