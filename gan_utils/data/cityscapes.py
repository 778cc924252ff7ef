"""Cityscapes label maps <-> street photos (pix2pix's and CycleGAN's labels <-> photo task), in every common layout.

Layouts read (each under the data root, or the root itself):
- the official download: `leftImg8bit/<split>/<city>/*_leftImg8bit.png` with
  `gtFine/<split>/<city>/*_gtFine_labelIds.png` (and `_instanceIds.png`);
- pix2pixHD's `datasets/cityscapes/{train,test}_{img,label,inst}/` (as in `pix2pixhd/cityscapes/`);
- vid2vid's `datasets/Cityscapes/train_{A,B,inst}/<seq>/`: A holds label ids (predicted by a segmentation
  network, not ground truth), B the photo frames (JPEG), inst 8-bit instance maps (read into gtFine's
  instanceIds convention: labelId for stuff, labelId * 1000 + k for object k);
- the pix2pix tarball `cityscapes/{train,val}/N.jpg`: photo | colour-coded label map side by side, 256x256 each.

The 34 label ids are collapsed to the 9 classes below (Cityscapes' 7 categories, void, and sidewalk split off
from road), which a small segmenter can learn from a few dozen photos. Maps are resized nearest-neighbour,
photos bicubic, once, into the resize cache. pix2pixHD's test maps come without photos (`LabelMaps`). A label or
instance map whose size differs from its photo's, or a label map with ids outside 0..33, is a DataError that
names the file, in every layout (it would otherwise be stretched, or its ids read as void).

The full data set needs a registration at cityscapes-dataset.com, so it is never downloaded. What is downloaded,
when no layout is on disk, are NVIDIA's example files in the pix2pixHD and vid2vid layouts (204 files, 28 MiB,
sha256-verified; gan_utils.data.nvidia_examples), the real data of notebooks 09-12.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_utils.data.base import DataError, Provenance, check_source, load_with_fallback
from gan_utils.data.images import check_same_size, image_files, read_resized
from gan_utils.data.nvidia_examples import EXAMPLE_SETS, download_nvidia_examples
from gan_utils.data.pairs import LabelledPairs, Size, colorize, ids_from_colors, read_side_by_side, square
from gan_utils.paths import shown_path

__all__ = [
    "CITYSCAPES_CLASSES", "CITYSCAPES_PALETTE", "ID_COLORS", "ID_NAMES", "ID_TO_CLASS", "N_IDS", "VOID", "LabelMaps",
    "check_label_ids", "collapse_ids", "collapse_instances", "find_cityscapes", "load_cityscapes",
    "load_cityscapes_label_maps", "merge_duplicate_frames", "read_pix2pix_cityscapes", "read_pix2pixhd_cityscapes",
    "read_pix2pixhd_label_maps", "read_standard_cityscapes", "read_vid2vid_cityscapes", "vid2vid_instance_ids",
]  # fmt: skip

# Cityscapes' labelIds 0..33 with their official colours (cityscapesScripts, helpers/labels.py).
_LABELS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("unlabeled", (0, 0, 0)), ("ego vehicle", (0, 0, 0)), ("rectification border", (0, 0, 0)),
    ("out of roi", (0, 0, 0)), ("static", (0, 0, 0)), ("dynamic", (111, 74, 0)), ("ground", (81, 0, 81)),
    ("road", (128, 64, 128)), ("sidewalk", (244, 35, 232)), ("parking", (250, 170, 160)),
    ("rail track", (230, 150, 140)), ("building", (70, 70, 70)), ("wall", (102, 102, 156)),
    ("fence", (190, 153, 153)), ("guard rail", (180, 165, 180)), ("bridge", (150, 100, 100)),
    ("tunnel", (150, 120, 90)), ("pole", (153, 153, 153)), ("polegroup", (153, 153, 153)),
    ("traffic light", (250, 170, 30)), ("traffic sign", (220, 220, 0)), ("vegetation", (107, 142, 35)),
    ("terrain", (152, 251, 152)), ("sky", (70, 130, 180)), ("person", (220, 20, 60)), ("rider", (255, 0, 0)),
    ("car", (0, 0, 142)), ("truck", (0, 0, 70)), ("bus", (0, 60, 100)), ("caravan", (0, 0, 90)),
    ("trailer", (0, 0, 110)), ("train", (0, 80, 100)), ("motorcycle", (0, 0, 230)), ("bicycle", (119, 11, 32)),
)  # fmt: skip
ID_NAMES: tuple[str, ...] = tuple(name for name, _ in _LABELS)
N_IDS = len(_LABELS)  # 34: the label maps hold ids 0..33, and the readers refuse any other
ID_COLORS = torch.tensor([c for _, c in _LABELS], dtype=torch.uint8)  # (34, 3)

# The collapsed classes, each drawn in the official colour of its main label.
CITYSCAPES_CLASSES: tuple[str, ...] = (
    "void", "road", "sidewalk", "building", "pole/sign", "vegetation", "sky", "person", "vehicle",
)
VOID = 0  # pass as ignore_index to the segmentation scores: void pixels are not scored, as in Cityscapes
CITYSCAPES_PALETTE = torch.tensor([
    (0, 0, 0), (128, 64, 128), (244, 35, 232), (70, 70, 70), (153, 153, 153), (107, 142, 35), (70, 130, 180),
    (220, 20, 60), (0, 0, 142)], dtype=torch.uint8)  # fmt: skip
_GROUPS = {  # collapsed class: the labelIds it takes in
    0: (0, 1, 2, 3, 4, 5, 6),  # void: unlabeled, ego vehicle, border, out of roi, static, dynamic, ground
    1: (7, 9, 10),  # road, parking, rail track
    2: (8,),  # sidewalk
    3: (11, 12, 13, 14, 15, 16),  # building, wall, fence, guard rail, bridge, tunnel (category "construction")
    4: (17, 18, 19, 20),  # pole, polegroup, traffic light, traffic sign (category "object")
    5: (21, 22),  # vegetation, terrain (category "nature")
    6: (23,),  # sky
    7: (24, 25),  # person, rider (category "human")
    8: (26, 27, 28, 29, 30, 31, 32, 33),  # car, truck, bus, caravan, trailer, train, motorcycle, bicycle
}
ID_TO_CLASS = np.zeros(256, np.uint8)  # defined for every uint8 so any tensor collapses; the readers allow 0..33
for _c, _ids in _GROUPS.items():
    ID_TO_CLASS[list(_ids)] = _c


# What a DataError says to do when no Cityscapes layout is on disk and the example files could not be fetched.
_DOWNLOAD_HINT = ("Run this where there is a network (GAN_DATA=auto or real downloads NVIDIA's 204 example files, "
                  "28 MiB, from github.com/NVIDIA/pix2pixHD and github.com/NVIDIA/vid2vid, and resumes an "
                  "interrupted download), set GAN_DATA_ROOT to a folder that holds the files (e.g. "
                  "../shared/realdata), or set GAN_DATA=synthetic for the procedural stand-in. See data/README.md.")


def collapse_ids(ids: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Cityscapes labelIds (uint8, any shape) as the 9 collapsed classes of CITYSCAPES_CLASSES (uint8)."""
    ids = torch.as_tensor(ids)
    return torch.from_numpy(ID_TO_CLASS).to(ids.device)[ids.long()]


def check_label_ids(path: Path, ids: np.ndarray) -> None:
    """Refuse a label map with ids outside Cityscapes' labelIds 0..33, naming the file and the ids."""
    bad = (ids < 0) | (ids >= N_IDS)
    if not bad.any():
        return
    found = np.unique(ids[bad])
    listed = ", ".join(str(v) for v in found[:8]) + (", ..." if len(found) > 8 else "")
    ok = ids[~bad]
    if 255 in found and (ok.size == 0 or ok.max() <= 18):
        hint = ("It looks like a trainIds map (ids 0..18, 255 = ignore): use the *_gtFine_labelIds.png files, "
                "whose ids are the labelIds of cityscapesScripts' labels.py.")
    else:
        hint = ("Label maps hold the labelIds of cityscapesScripts' labels.py, one channel: use the "
                "*_gtFine_labelIds.png files (not the colour, trainIds or instanceIds maps), or replace or remove "
                "this file.")
    raise DataError(f"{shown_path(path)} holds label id(s) {listed} in {int(bad.sum()):,} of {ids.size:,} pixels, "
                    f"outside Cityscapes' labelIds 0..{N_IDS - 1}. {hint}")


def _read_frames(photos: list[Path], labels: list[Path], inst: list[Path] | None, size: tuple[int, int],
                 cache_dir: str | Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Photos, labelIds and instance ids of matched frames, once each frame's files are known to agree in size."""
    check_same_size({"photo": photos, "label map": labels, **({"instance map": inst} if inst is not None else {})})
    x = read_resized(photos, size, "photo", cache_dir)
    ids = read_resized(labels, size, "label", cache_dir, check=check_label_ids)
    return x, ids, None if inst is None else read_resized(inst, size, "instance", cache_dir)


def _pairs(photos: np.ndarray, ids: np.ndarray, inst: np.ndarray | None, description: str, group: str,
           frames: list[int], stems: list[str], device: str | torch.device) -> LabelledPairs:
    return LabelledPairs(collapse_ids(ids).to(device), torch.from_numpy(photos).to(device), "Cityscapes", "real",
                         description, len(CITYSCAPES_CLASSES),
                         None if inst is None else torch.from_numpy(inst).to(device), CITYSCAPES_CLASSES,
                         CITYSCAPES_PALETTE, (group,) * len(stems), tuple(frames), tuple(stems))


def _stem(path: Path) -> str:
    """The frame's name without the layout's suffix: aachen_000000_000019."""
    return re.sub(r"_(leftImg8bit|gtFine_labelIds|gtFine_instanceIds|gtFine_color)$", "", path.stem)


def _match(photos: list[Path], others: list[Path], what: str, folder: Path) -> list[Path]:
    by_stem = {_stem(p): p for p in others}
    missing = [p.name for p in photos if _stem(p) not in by_stem]
    if missing:
        raise DataError(f"{len(missing)} photo(s) have no {what} in {shown_path(folder)} (e.g. {missing[0]}). Each "
                        f"photo needs the {what} with the same frame name; add them or remove the extra photos.")
    return [by_stem[_stem(p)] for p in photos]


def read_standard_cityscapes(root: str | Path, split: str = "train", size: Size = 128,
                             cache_dir: str | Path | None = None, device: str | torch.device = "cpu",
                             instances: bool = True) -> LabelledPairs:
    """The official layout: root/leftImg8bit/<split>/<city>/*_leftImg8bit.png and root/gtFine/<split>/<city>/."""
    root, size = Path(root), square(size)
    photo_dir, gt_dir = root / "leftImg8bit" / split, root / "gtFine" / split
    photos = sorted(photo_dir.glob("*/*_leftImg8bit.png"))
    if not photos:
        raise DataError(f"No *_leftImg8bit.png photos in {shown_path(photo_dir)}/<city>/. Unzip Cityscapes' "
                        "leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip into one folder.")
    labels = _match(photos, sorted(gt_dir.glob("*/*_gtFine_labelIds.png")), "gtFine labelIds map", gt_dir)
    inst_files = sorted(gt_dir.glob("*/*_gtFine_instanceIds.png")) if instances else []
    inst = _match(photos, inst_files, "instanceIds map", gt_dir) if inst_files else None
    x, ids, inst_ids = _read_frames(photos, labels, inst, size, cache_dir)
    return _pairs(x, ids, inst_ids, f"{len(photos)} Cityscapes {split} frames from {shown_path(root)} (gtFine labels)",
                  f"cityscapes/{split}", [-1] * len(photos), [_stem(p) for p in photos], device)


def read_pix2pixhd_cityscapes(folder: str | Path, split: str = "train", size: Size = 128,
                              cache_dir: str | Path | None = None,
                              device: str | torch.device = "cpu") -> LabelledPairs:
    """pix2pixHD's sample layout: folder/{split}_img, {split}_label (labelIds), {split}_inst (16-bit instanceIds)."""
    folder, size = Path(folder), square(size)
    photos = image_files(folder / f"{split}_img")
    labels = _match(photos, image_files(folder / f"{split}_label"), "label map", folder / f"{split}_label")
    inst_dir = folder / f"{split}_inst"
    inst = _match(photos, image_files(inst_dir), "instance map", inst_dir) if inst_dir.is_dir() else None
    x, ids, inst_ids = _read_frames(photos, labels, inst, size, cache_dir)
    return _pairs(x, ids, inst_ids, f"{len(photos)} frames with ground-truth labels ({shown_path(folder)})",
                  f"pix2pixhd/{split}", [-1] * len(photos), [_stem(p) for p in photos], device)


def read_vid2vid_cityscapes(folder: str | Path, split: str = "train", size: Size = 128,
                            cache_dir: str | Path | None = None,
                            device: str | torch.device = "cpu") -> LabelledPairs:
    """vid2vid's layout: folder/{split}_B/<seq>/ photo frames, {split}_A/<seq>/ label ids, {split}_inst/<seq>/.

    Its label maps were predicted by a segmentation network (vid2vid's README), so they are noisier than
    gtFine. Each sequence is a group, with its frames numbered in order, for contiguous hold-outs.
    """
    folder, size = Path(folder), square(size)
    seq_root = folder / f"{split}_B"
    seqs = sorted(p for p in seq_root.iterdir() if p.is_dir()) if seq_root.is_dir() else []
    if not seqs:
        raise DataError(f"No sequence folders in {shown_path(seq_root)}; vid2vid keeps frames in "
                        f"{split}_B/<seq>/ and label maps in {split}_A/<seq>/.")
    out: LabelledPairs | None = None
    for seq in seqs:
        photos = image_files(seq)
        label_dir, inst_dir = folder / f"{split}_A" / seq.name, folder / f"{split}_inst" / seq.name
        labels = _match(photos, image_files(label_dir), "label map", label_dir)
        inst = _match(photos, image_files(inst_dir), "instance map", inst_dir) if inst_dir.is_dir() else None
        x, ids, inst_ids = _read_frames(photos, labels, inst, size, cache_dir)
        if inst_ids is not None:
            inst_ids = vid2vid_instance_ids(inst_ids, ids)
        part = _pairs(x, ids, inst_ids, f"{len(photos)} consecutive frames with predicted labels "
                      f"({seq.name})", f"vid2vid/{seq.name}", list(range(len(photos))),
                      [_stem(p) for p in photos], device)
        out = part if out is None else out.concat(part)
    assert out is not None
    return out


def vid2vid_instance_ids(inst: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """vid2vid's 8-bit instance maps (255 = no object, k = object k) in Cityscapes' instanceIds convention.

    As in gtFine: a pixel outside any object keeps its labelId, a pixel of object k gets labelId * 1000 + k.
    """
    inst, ids = inst.astype(np.int32), ids.astype(np.int32)
    return np.where(inst == 255, ids, ids * 1000 + inst).astype(np.int32)


def collapse_instances(inst: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """An instance map whose stuff pixels (instanceIds < 1000) carry their collapsed class and objects keep their ids.

    Its boundary map then marks where the collapsed label map changes and where one object meets another, not
    the borders between labelIds merged into one class (building | wall).
    """
    return torch.where(inst >= 1000, inst.long(), ids.long())


@dataclass(repr=False)
class LabelMaps(Provenance):
    """Label maps (N, 1, H, W) with instance maps and no photos: what a trained G is run on at test time."""

    ids: torch.Tensor
    inst: torch.Tensor
    name: str
    source: str
    description: str
    classes: tuple[str, ...]
    palette: torch.Tensor
    stems: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def size_line(self) -> str:
        """How many maps of what size, for the banner."""
        return f"{len(self)} label and instance maps of {self.ids.shape[-1]}x{self.ids.shape[-2]} px, no photos"

    def colour_maps(self) -> torch.Tensor:
        """The label maps drawn in the palette, uint8 (N, 3, H, W)."""
        return colorize(self.ids, self.palette)


def read_pix2pixhd_label_maps(folder: str | Path, split: str = "test", size: Size = 128,
                              cache_dir: str | Path | None = None, device: str | torch.device = "cpu") -> LabelMaps:
    """pix2pixHD's test maps: folder/{split}_label (labelIds) and {split}_inst (instanceIds), without photos."""
    folder, size = Path(folder), square(size)
    labels = image_files(folder / f"{split}_label")
    inst_dir = folder / f"{split}_inst"
    inst_files = _match(labels, image_files(inst_dir), "instance map", inst_dir)
    check_same_size({"label map": labels, "instance map": inst_files})
    ids = read_resized(labels, size, "label", cache_dir, check=check_label_ids)
    inst = read_resized(inst_files, size, "instance", cache_dir)
    return LabelMaps(collapse_ids(ids).to(device), torch.from_numpy(inst).to(device), "Cityscapes", "real",
                     f"{len(labels)} {split} label maps with ground-truth instances ({shown_path(folder)})",
                     CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, tuple(_stem(p) for p in labels))


def load_cityscapes_label_maps(root: str | Path, source: str = "auto", device: str | torch.device = "cpu",
                               cache_dir: str | Path | None = None, n_synthetic: int = 15, seed: int = 1,
                               size: Size = 128, split: str = "test", verbose: bool = True) -> LabelMaps:
    """pix2pixHD's test label maps without photos (15 Frankfurt scenes in realdata); offline, procedural facades."""
    check_source(source)
    root = Path(root)

    def read_real() -> LabelMaps | None:
        for base in (root / "pix2pixhd" / "cityscapes", root / "cityscapes", root):
            if (base / f"{split}_label").is_dir() and (base / f"{split}_inst").is_dir():
                return read_pix2pixhd_label_maps(base, split, size, cache_dir, device)
        return None

    def standin(why: str) -> LabelMaps:
        facades = _facades_standin(n_synthetic, size, seed, cache_dir, device, "")
        assert facades.inst is not None
        return LabelMaps(facades.A, facades.inst, "Cityscapes", "synthetic",
                         f"label maps of procedural facades (seed {seed}); no Cityscapes test maps in "
                         f"{shown_path(root)}" + (f" ({why})" if why else ""), facades.classes, facades.palette,
                         facades.stems)

    def missing(why: str) -> str:
        tried = f", and NVIDIA's example files could not be downloaded ({why})" if why else ""
        return (f"No pix2pixHD {split} label maps under {shown_path(root)}{tried}: looked for pix2pixhd/cityscapes/"
                f"{split}_label/ and {split}_inst/. {_DOWNLOAD_HINT}")

    # Both example sets, as load_cityscapes fetches them: one set alone would later be read as all the real data.
    download = (lambda: download_nvidia_examples(root)) if split in ("train", "test") else None
    return load_with_fallback("Cityscapes", source, read_real, standin, missing, download=download, verbose=verbose)


def _facades_standin(n: int, size: Size, seed: int, cache_dir: str | Path | None, device: str | torch.device,
                     note: str) -> LabelledPairs:
    """The procedural facades at (W, H), drawn square at the larger side and centre-cropped, with instance ids in
    Cityscapes' convention (stuff: the class id; object k: class * 1000 + k), like the real maps."""
    from gan_utils.data.facades import synthetic_facade_pairs

    w, h = square(size)
    side = max(w, h)
    pairs = synthetic_facade_pairs(n, side, seed, cache_dir, device, name="Cityscapes", note=note)
    top, left = (side - h) // 2, (side - w) // 2
    crop = (..., slice(top, top + h), slice(left, left + w))
    inst = None
    if pairs.inst is not None:
        a, k = pairs.A[crop].long(), pairs.inst[crop].long()
        inst = torch.where(k > 0, a * 1000 + k, a).to(torch.int32)
    return LabelledPairs(pairs.A[crop].contiguous(), pairs.B[crop].contiguous(), pairs.name, pairs.source,
                         pairs.description, pairs.label_nc, inst, pairs.classes, pairs.palette, pairs.groups,
                         pairs.frames, pairs.stems)


def read_pix2pix_cityscapes(folder: str | Path, split: str = "train", size: Size = 128,
                            cache_dir: str | Path | None = None,
                            device: str | torch.device = "cpu") -> LabelledPairs:
    """pix2pix's tarball: folder/{train,val}/N.jpg, photo on the left, colour-coded label map on the right.

    The colours are turned back into classes by the nearest official Cityscapes colour (the JPEG blurs
    them); ids that share a colour (void ids 0-4, pole/polegroup) fall in one collapsed class anyway.
    """
    folder, size = Path(folder), square(size)
    files = sorted(image_files(folder / split), key=lambda p: (len(p.stem), p.stem))  # 1, 2, ..., 10
    left, right = read_side_by_side(files, size, cache_dir, "pix2pix cityscapes")
    ids, dist = ids_from_colors(torch.from_numpy(right), ID_COLORS)
    if dist > 40:
        raise DataError(f"The label halves in {shown_path(folder / split)} are on average {dist:.0f} away from the "
                        "Cityscapes colours; they are not pix2pix's colour-coded Cityscapes maps.")
    return _pairs(left, ids.numpy(), None, f"{len(files)} pix2pix Cityscapes {split} pairs from {shown_path(folder)}",
                  f"pix2pix/{split}", [-1] * len(files), [p.stem for p in files], device)


def merge_duplicate_frames(pairs: LabelledPairs) -> LabelledPairs:
    """One pair per frame name: a still that is also a sequence frame keeps its (ground-truth) labels but takes
    the sequence's place, so a hold-out block never has its twin in training.

    pix2pixHD's aachen_000000_000019 is frame 19 of vid2vid's seq0000 (the annotated frame of that snippet).
    """
    first: dict[str, int] = {}
    keep: list[int] = []
    groups, frames = list(pairs.groups), list(pairs.frames)
    for i, stem in enumerate(pairs.stems):
        if stem not in first:
            first[stem] = i
            keep.append(i)
            continue
        j = first[stem]
        if frames[j] < 0 <= frames[i]:  # the still j takes over sequence frame i's slot
            groups[j], frames[j] = groups[i], frames[i]
    if len(keep) == len(pairs):
        return pairs
    merged = LabelledPairs(pairs.A, pairs.B, pairs.name, pairs.source, pairs.description, pairs.label_nc,
                           pairs.inst, pairs.classes, pairs.palette, tuple(groups), tuple(frames), pairs.stems)
    n_dup = len(pairs) - len(keep)
    return merged.subset(keep, f"{n_dup} frame(s) found twice kept once")


def find_cityscapes(root: str | Path, split: str = "train") -> dict[str, Path]:
    """Which Cityscapes layouts are under `root` (or at it): layout name -> folder to pass to its reader."""
    root = Path(root)
    found: dict[str, Path] = {}
    for base in (root, root / "cityscapes", root / "Cityscapes"):
        if "standard" not in found and any((base / "leftImg8bit" / split).glob("*/*_leftImg8bit.png")):
            found["standard"] = base
        if "pix2pix" not in found and base.name == "cityscapes" and any((base / split).glob("*.jpg")):
            found["pix2pix"] = base
    for base in (root / "pix2pixhd" / "cityscapes", root / "cityscapes", root):
        if "pix2pixhd" not in found and (base / f"{split}_img").is_dir() and (base / f"{split}_label").is_dir():
            found["pix2pixhd"] = base
    for base in (root / "vid2vid" / "Cityscapes", root / "Cityscapes", root):
        if "vid2vid" not in found and (base / f"{split}_B").is_dir() and (base / f"{split}_A").is_dir():
            found["vid2vid"] = base
    return found


READERS = {"standard": read_standard_cityscapes, "pix2pixhd": read_pix2pixhd_cityscapes,
           "vid2vid": read_vid2vid_cityscapes, "pix2pix": read_pix2pix_cityscapes}


def load_cityscapes(root: str | Path, source: str = "auto", device: str | torch.device = "cpu",
                    cache_dir: str | Path | None = None, n_synthetic: int = 400, seed: int = 0, size: Size = 128,
                    split: str = "train", layouts: tuple[str, ...] | None = None,
                    verbose: bool = True) -> LabelledPairs:
    """Cityscapes label maps -> photos from every layout found under `root`, joined; offline, procedural facades.

    With NVIDIA's example files, that is 8 ground-truth frames (pix2pixHD) and 30 consecutive frames (vid2vid,
    predicted labels). `layouts` limits the search (names in READERS). When no layout is on disk, those example
    files are downloaded (sha256-verified, gan_utils.data.nvidia_examples; the full Cityscapes needs a
    registration); failing that, source='auto' falls back to the procedural facades, whose classes differ: read
    `classes`, `label_nc` and `palette` from the set, not from this module.
    """
    check_source(source)
    root = Path(root)
    wanted = tuple(READERS) if layouts is None else layouts
    unknown = [k for k in wanted if k not in READERS]
    if unknown:
        raise ValueError(f"layouts {unknown} unknown; use names from {list(READERS)}.")

    def read_real() -> LabelledPairs | None:
        found = {k: v for k, v in find_cityscapes(root, split).items() if k in wanted}
        out: LabelledPairs | None = None
        for name, folder in found.items():
            part = READERS[name](folder, split=split, size=size, cache_dir=cache_dir, device=device)
            out = part if out is None else out.concat(part)
        return None if out is None else merge_duplicate_frames(out)

    def standin(why: str) -> LabelledPairs:
        reason = f"; real Cityscapes not in {shown_path(root)}" + (f" ({why})" if why else "")
        return _facades_standin(n_synthetic, size, seed, cache_dir, device, reason)

    def missing(why: str) -> str:
        tried = f", and NVIDIA's example files could not be downloaded ({why})" if why else ""
        return (f"No Cityscapes pairs under {shown_path(root)}{tried}. Looked for leftImg8bit/ + gtFine/ (the official "
                f"download, registration at cityscapes-dataset.com), pix2pixhd/cityscapes/{split}_{{img,label}}/, "
                f"vid2vid/Cityscapes/{split}_{{A,B}}/<seq>/ and the pix2pix tarball cityscapes/{{train,val}}/. "
                f"{_DOWNLOAD_HINT}")

    # Only the train split has photos in NVIDIA's examples; both sets come at once, as the notebooks use both.
    nvidia = tuple(s for s in EXAMPLE_SETS if s in wanted)
    download = (lambda: download_nvidia_examples(root, nvidia)) if nvidia and split == "train" else None
    return load_with_fallback("Cityscapes", source, read_real, standin, missing, download=download, verbose=verbose)
