"""The set types of the image-to-image, 3D and video papers: paired, unpaired, voxel and clip sets.

Like ImageSet, each holds its whole data as uint8 tensors on the device and draws batches by index, so a
training step does no per-item work. A wrong dtype or rank is a ValueError (a bug in the calling code); parts
that do not fit together (counts, sizes, label ids, non-binary voxels) are a DataError, since they usually
come from files that do not match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from gan_utils.data.base import DataError, Provenance, to_tanh_range

__all__ = ["ClipBatch", "ClipSet", "PairBatch", "PairedSet", "UnpairedSet", "VoxelSet"]

Index = torch.Tensor | slice | None


def _check(x: torch.Tensor, what: str, ndim: int, layout: str, dtype: torch.dtype = torch.uint8) -> None:
    if x.dtype != dtype or x.ndim != ndim:
        raise ValueError(f"{what} must be {str(dtype).removeprefix('torch.')} {layout}, got {x.dtype} "
                         f"{tuple(x.shape)}.")


def _check_ids(ids: torch.Tensor, what: str, label_nc: int) -> None:
    if label_nc < 0:
        raise ValueError(f"label_nc={label_nc}; use the number of label ids, or 0 for none.")
    if label_nc and ids.numel() and int(ids.max()) >= label_nc:
        raise DataError(f"{what} holds label id {int(ids.max())}, but label_nc={label_nc} allows only "
                        f"0..{label_nc - 1}. Set label_nc to the data set's number of ids (Cityscapes labelIds: 35).")


def _same_device(**tensors: torch.Tensor | None) -> None:
    devices = {name: t.device for name, t in tensors.items() if t is not None}
    if len(set(devices.values())) > 1:
        raise ValueError(f"all parts of a set must be on one device, got {devices}; move them with .to(device).")


def _take(x: torch.Tensor, idx: Index) -> torch.Tensor:
    return x if idx is None else x[idx]


def _randint(high: int, size: tuple[int, ...], device: torch.device,
             generator: torch.Generator | None) -> torch.Tensor:
    # A generator draws on its own device (CUDA refuses a CPU generator); the indices then move to the data.
    src = generator.device if generator is not None else device
    return torch.randint(high, size, device=src, generator=generator).to(device)


def _draw(n: int, batch_size: int, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    if n == 0:
        raise DataError("cannot draw a batch from an empty set; check the folder the set was read from.")
    return _randint(n, (batch_size,), device, generator)


class PairBatch(NamedTuple):
    """Aligned inputs and targets of a paired set."""

    a: torch.Tensor  # (B, Ca, H, W) in [-1, 1], or (B, 1, H, W) int64 label ids when the set has label_nc
    b: torch.Tensor  # (B, Cb, H, W) in [-1, 1]
    inst: torch.Tensor | None  # (B, 1, H, W) int64 instance ids, or None


@dataclass(repr=False)
class PairedSet(Provenance):
    """Aligned pairs A -> B (label map -> photo, for pix2pix and pix2pixHD) as uint8 on the device.

    With `label_nc` > 0, A holds label ids 0..label_nc-1 in one channel and batches give them as int64, for
    the model to one-hot encode; with label_nc == 0, A is an image and batches give it in [-1, 1] like B.
    `inst` holds pix2pixHD's instance ids (int32, e.g. Cityscapes' 16-bit id * 1000 + k), when there are any.
    """

    A: torch.Tensor  # (N, Ca, H, W) uint8
    B: torch.Tensor  # (N, Cb, H, W) uint8
    name: str
    source: str  # "real" or "synthetic"
    description: str
    label_nc: int = 0
    inst: torch.Tensor | None = None  # (N, 1, H, W) int32

    def __post_init__(self) -> None:
        _check(self.A, "A", 4, "(N, C, H, W)")
        _check(self.B, "B", 4, "(N, C, H, W)")
        _same_device(A=self.A, B=self.B, inst=self.inst)
        n, (h, w) = len(self.A), tuple(self.A.shape[2:])
        if len(self.B) != n:
            raise DataError(f"A has {n} images but B has {len(self.B)}; every A needs its B. Check that both "
                            "folders hold the same pairs.")
        if tuple(self.B.shape[2:]) != (h, w):
            raise DataError(f"A is {w}x{h} but B is {self.B.shape[3]}x{self.B.shape[2]} (WxH); aligned pairs "
                            "must have one size. Resize both to it (read_resized does).")
        if self.label_nc:
            if self.A.shape[1] != 1:
                raise ValueError(f"with label_nc={self.label_nc}, A must hold one channel of label ids, got "
                                 f"{self.A.shape[1]} channels.")
        _check_ids(self.A, "A", self.label_nc)
        if self.inst is not None:
            _check(self.inst, "inst", 4, "(N, 1, H, W)", torch.int32)
            if tuple(self.inst.shape) != (n, 1, h, w):
                raise DataError(f"instance maps are {tuple(self.inst.shape)} but A is {tuple(self.A.shape)}; "
                                f"give one (1, {h}, {w}) map per pair.")

    def __len__(self) -> int:
        return self.A.shape[0]

    def to_float(self, idx: Index = None) -> PairBatch:
        """The pairs at `idx` (all if None) as the model takes them: images in [-1, 1], label ids as int64."""
        a = _take(self.A, idx)
        a = a.long() if self.label_nc else to_tanh_range(a)
        inst = None if self.inst is None else _take(self.inst, idx).long()
        return PairBatch(a, to_tanh_range(_take(self.B, idx)), inst)

    def batch(self, batch_size: int, generator: torch.Generator | None = None) -> PairBatch:
        """A random batch of aligned pairs, drawn with replacement by index on the data's device."""
        return self.to_float(_draw(len(self), batch_size, self.A.device, generator))

    def size_line(self) -> str:
        """How many pairs of what shapes, for the banner."""
        a = f"label ids 0..{self.label_nc - 1} {tuple(self.A.shape[1:])}" if self.label_nc else tuple(self.A.shape[1:])
        inst = ", with instance maps" if self.inst is not None else ""
        return f"{len(self):,} pairs: A {a} -> B {tuple(self.B.shape[1:])}{inst}"


@dataclass(repr=False)
class UnpairedSet(Provenance):
    """Two unpaired image domains X and Y (CycleGAN's horses and zebras) as uint8 on the device.

    The domains may hold different numbers of images, of one (C, H, W) shape. A batch draws from each
    domain independently, so no pairing is ever implied.
    """

    X: torch.Tensor  # (Nx, C, H, W) uint8
    Y: torch.Tensor  # (Ny, C, H, W) uint8
    name: str
    source: str  # "real" or "synthetic"
    description: str
    domains: tuple[str, str] = ("X", "Y")  # what the domains are, e.g. ("horse", "zebra")

    def __post_init__(self) -> None:
        _check(self.X, "X", 4, "(N, C, H, W)")
        _check(self.Y, "Y", 4, "(N, C, H, W)")
        _same_device(X=self.X, Y=self.Y)
        if self.X.shape[1:] != self.Y.shape[1:]:
            raise DataError(f"domain {self.domains[0]} holds images of shape {tuple(self.X.shape[1:])} but "
                            f"{self.domains[1]} of {tuple(self.Y.shape[1:])} (C, H, W); resize both domains to one "
                            "size and channel count.")

    def __len__(self) -> int:
        # An epoch of CycleGAN's reference code covers the larger domain once.
        return max(self.X.shape[0], self.Y.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image in either domain."""
        return tuple(self.X.shape[1:])  # type: ignore[return-value]

    def to_float(self, idx_x: Index = None, idx_y: Index = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Images of X at `idx_x` and of Y at `idx_y` (all if None), in [-1, 1]."""
        return to_tanh_range(_take(self.X, idx_x)), to_tanh_range(_take(self.Y, idx_y))

    def batch(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A random batch (x, y) in [-1, 1], x and y drawn independently, with replacement."""
        idx_x = _draw(self.X.shape[0], batch_size, self.X.device, generator)
        idx_y = _draw(self.Y.shape[0], batch_size, self.Y.device, generator)
        return self.to_float(idx_x, idx_y)

    def size_line(self) -> str:
        """How many images in each domain, for the banner."""
        (dx, dy), (nx, ny) = self.domains, (self.X.shape[0], self.Y.shape[0])
        return f"{nx:,} {dx} and {ny:,} {dy} images of shape {self.shape}, unpaired"


@dataclass(repr=False)
class VoxelSet(Provenance):
    """Occupancy grids (3D-GAN's ModelNet chairs) as uint8 {0, 1} on the device, with class labels.

    Unlike the image sets, `to_float` gives occupancy as 0.0/1.0, not [-1, 1]: 3D-GAN's generator ends in a
    sigmoid, and its samples are thresholded at 0.5.
    """

    voxels: torch.Tensor  # (N, 1, D, H, W) uint8 in {0, 1}
    labels: torch.Tensor  # (N,) int64
    name: str
    source: str  # "real" or "synthetic"
    description: str
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        _check(self.voxels, "voxels", 5, "(N, 1, D, H, W) occupancy")
        if self.voxels.shape[1] != 1:
            raise ValueError(f"voxels must have one channel, (N, 1, D, H, W), got {tuple(self.voxels.shape)}.")
        _same_device(voxels=self.voxels, labels=self.labels)
        if self.voxels.numel() and int(self.voxels.max()) > 1:
            raise DataError(f"voxels hold values up to {int(self.voxels.max())}, but occupancy grids hold only 0 "
                            "and 1. Threshold them first, e.g. (grid > 0.5).to(torch.uint8).")
        if self.labels.shape != (self.voxels.shape[0],):
            raise DataError(f"{self.voxels.shape[0]} grids but labels of shape {tuple(self.labels.shape)}; give one "
                            "label per grid.")

    def __len__(self) -> int:
        return self.voxels.shape[0]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(1, D, H, W) of one grid."""
        return tuple(self.voxels.shape[1:])  # type: ignore[return-value]

    def to_float(self, idx: Index = None) -> torch.Tensor:
        """Grids at `idx` (all if None) as floats 0.0 (empty) and 1.0 (occupied), the range of a sigmoid."""
        return _take(self.voxels, idx).float()

    def batch(self, batch_size: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A random batch (x in {0, 1}, y), drawn with replacement by index on the data's device."""
        idx = _draw(len(self), batch_size, self.voxels.device, generator)
        return self.to_float(idx), self.labels[idx]

    def size_line(self) -> str:
        """How many grids of what size, for the banner."""
        return f"{len(self):,} occupancy grids of shape {self.shape}"


class ClipBatch(NamedTuple):
    """Aligned frames, label maps and flow of a batch of clips."""

    frames: torch.Tensor  # (B, T, C, H, W) in [-1, 1]
    label_maps: torch.Tensor  # (B, T, 1, H, W) int64 label ids
    flow: torch.Tensor | None  # (B, T-1, 2, H, W) float32, or None


@dataclass(repr=False)
class ClipSet(Provenance):
    """Short video clips with a label map per frame and optional optical flow (vid2vid) on the device.

    `flow[:, t]` is the backward flow from frame t+1 to frame t in pixels (dx, dy): warping frame t with it
    predicts frame t+1, which is how vid2vid uses it.
    """

    frames: torch.Tensor  # (N, T, C, H, W) uint8
    label_maps: torch.Tensor  # (N, T, 1, H, W) uint8 label ids
    name: str
    source: str  # "real" or "synthetic"
    description: str
    label_nc: int = 0  # > 0: the label ids are checked to be below it
    flow: torch.Tensor | None = None  # (N, T-1, 2, H, W) float32

    def __post_init__(self) -> None:
        _check(self.frames, "frames", 5, "(N, T, C, H, W)")
        _check(self.label_maps, "label_maps", 5, "(N, T, 1, H, W)")
        _same_device(frames=self.frames, label_maps=self.label_maps, flow=self.flow)
        n, t, _, h, w = self.frames.shape
        if tuple(self.label_maps.shape) != (n, t, 1, h, w):
            raise DataError(f"label maps are {tuple(self.label_maps.shape)} but frames are "
                            f"{tuple(self.frames.shape)}; give one (1, {h}, {w}) map per frame of every clip.")
        _check_ids(self.label_maps, "label_maps", self.label_nc)
        if self.flow is not None:
            _check(self.flow, "flow", 5, "(N, T-1, 2, H, W)", torch.float32)
            if tuple(self.flow.shape) != (n, t - 1, 2, h, w):
                raise DataError(f"flow is {tuple(self.flow.shape)} but {n} clips of {t} frames of {w}x{h} need "
                                f"{(n, t - 1, 2, h, w)}: one (dx, dy) field between each two frames.")

    def __len__(self) -> int:
        return self.frames.shape[0]

    @property
    def n_frames(self) -> int:
        """Frames per clip, T."""
        return self.frames.shape[1]

    def to_float(self, idx: Index = None, t: torch.Tensor | slice | None = None) -> ClipBatch:
        """Clips at `idx` (all if None), frames `t` of each, as frames in [-1, 1] and int64 label ids.

        `t` is a slice of frames for all clips, or a (B, T') tensor of frame indices, one row per clip in `idx`.
        """
        frames, maps, flow = (_take(x, idx) if x is not None else None
                              for x in (self.frames, self.label_maps, self.flow))
        if isinstance(t, torch.Tensor):
            rows = torch.arange(t.shape[0], device=t.device)[:, None]
            frames, maps = frames[rows, t], maps[rows, t]  # (B, T', ...)
            flow = None if flow is None else flow[rows, t[:, :-1]]
        elif t is not None:
            frames, maps = frames[:, t], maps[:, t]
            if flow is not None:
                start, stop, step = t.indices(self.n_frames)
                if step != 1:
                    raise ValueError(f"flow is defined between consecutive frames; t={t} skips frames.")
                flow = flow[:, start:max(start, stop - 1)]
        return ClipBatch(to_tanh_range(frames), maps.long(), flow)

    def batch(self, batch_size: int, generator: torch.Generator | None = None,
              n_frames: int | None = None) -> ClipBatch:
        """Random clips, drawn with replacement; with `n_frames`, a random window of that many frames of each."""
        device = self.frames.device
        idx = _draw(len(self), batch_size, device, generator)
        if n_frames is None or n_frames == self.n_frames:
            return self.to_float(idx)
        if not 1 <= n_frames <= self.n_frames:
            raise ValueError(f"n_frames={n_frames}, but the clips have {self.n_frames} frames.")
        start = _randint(self.n_frames - n_frames + 1, (batch_size, 1), device, generator)
        return self.to_float(idx, start + torch.arange(n_frames, device=device))  # (B, n_frames) frame indices

    def size_line(self) -> str:
        """How many clips of what shape, for the banner."""
        flow = ", with optical flow" if self.flow is not None else ""
        return f"{len(self):,} clips of {self.n_frames} frames of shape {tuple(self.frames.shape[2:])}{flow}"
