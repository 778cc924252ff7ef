"""Real voxel data for 3D-GAN: .binvox and numpy occupancy files, resampling 32^3 <-> 64^3, ModelNet10 as a VoxelSet.

Grids are indexed (x, y, z) with z up, as binvox_rw's `read_as_3d_array` gives them by default (binvox itself
stores x, z, y with y running fastest). The ModelNet10 chairs and monitors of SomTambe/ModelNet10-dataset were
made that way (`binvox -d 32 -e -cb`), and the procedural furniture follows the same convention.

Download: ModelNet10's official archive (3dvision.princeton.edu, ModelNet10.zip) holds meshes (.off), not voxels,
and voxelising them needs the external `binvox` program, so it is not wired. What is wired is the one voxelised
source with a checksum on record: the per-class chair and monitor files of SomTambe/ModelNet10-dataset at a fixed
commit, verified by sha256 (the sums of `shared/realdata/SHA256SUMS`, computed on files byte-identical to
those git blobs). For other classes or 64^3, voxelise the meshes yourself and put the .binvox or .npy files
in a folder (see `read_voxel_folder`).
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from gan_utils.data.base import DataError, check_source, load_with_fallback, writable
from gan_utils.data.sets import VoxelSet
from gan_utils.network import network_available
from gan_utils.paths import shown_path

__all__ = ["MAX_SYNTHETIC", "MODELNET10_CLASSES", "MODELNET10_FILES", "BinvoxHeader", "download_modelnet10",
           "drop_empty", "load_modelnet10", "read_binvox", "read_voxel_array", "read_voxel_folder", "resample"]

MODELNET10_CLASSES: tuple[str, ...] = (
    "bathtub", "bed", "chair", "desk", "dresser", "monitor", "night_stand", "sofa", "table", "toilet",
)  # fmt: skip
_COMMIT = "4d0b73133baf34f23b2735875a5f9ea1dfaf8d11"
_BASE_URL = f"https://raw.githubusercontent.com/SomTambe/ModelNet10-dataset/{_COMMIT}"
# file name -> sha256, from shared/realdata/SHA256SUMS (files checked byte-identical to the git blobs at _COMMIT).
MODELNET10_FILES: dict[str, str] = {
    "chair.npy.gz": "cb33b51e8a5d65db881783fa19016d88e356ca33a7ca419e139520d086e38b69",
    "monitor.npy.gz": "c7b5028678ce848ec98ca5d36a8a1f1786420de119b0532f53972ac093d08230",
}
_SUFFIXES = (".binvox", ".npy", ".npy.gz", ".npz")
# ModelNet10's train split has 3,991 shapes; the course's n_synthetic (60,000 for the image sets) would be 2 GB at 32^3.
MAX_SYNTHETIC = 4000


class BinvoxHeader(NamedTuple):
    """A .binvox header: grid size, and the translation and scale that place the grid in the mesh's coordinates."""

    dims: tuple[int, int, int]
    translate: tuple[float, float, float]
    scale: float


def _header_line(f: IO[bytes], path: Path, key: str, n: int) -> list[str]:
    words = f.readline().decode("ascii", "replace").split()
    if len(words) != n + 1 or words[0] != key:
        raise DataError(f"{shown_path(path)}: expected a '{key}' line with {n} value(s) in the binvox header, got "
                        f"{' '.join(words)!r}. The file is not a binvox file, or it is damaged.")
    return words[1:]


def read_binvox(path: str | Path) -> tuple[np.ndarray, BinvoxHeader]:
    """Read a .binvox file as a bool occupancy grid indexed (x, y, z), and its header."""
    path = Path(path)
    with open(path, "rb") as f:
        if not f.readline().startswith(b"#binvox"):
            raise DataError(f"{shown_path(path)} does not start with '#binvox', so it is not a binvox file.")
        dims = tuple(int(v) for v in _header_line(f, path, "dim", 3))
        translate = tuple(float(v) for v in _header_line(f, path, "translate", 3))
        scale = float(_header_line(f, path, "scale", 1)[0])
        _header_line(f, path, "data", 0)
        raw = np.frombuffer(f.read(), dtype=np.uint8)
    if raw.size % 2:
        raise DataError(f"{shown_path(path)}: the voxel data has an odd number of bytes, but binvox stores "
                        "(value, count) pairs; the file is truncated.")
    values, counts = raw[::2], raw[1::2]
    n = int(np.prod(dims))
    if int(counts.sum(dtype=np.int64)) != n:
        raise DataError(f"{shown_path(path)}: the runs cover {int(counts.sum(dtype=np.int64))} voxels, but the "
                        f"header says {dims[0]}x{dims[1]}x{dims[2]} = {n}; the file is truncated or damaged.")
    flat = np.repeat(values.astype(bool), counts)
    # binvox runs go over x, then z, then y fastest; swapping the last two axes gives (x, y, z).
    grid = flat.reshape(dims).transpose(0, 2, 1)
    return np.ascontiguousarray(grid), BinvoxHeader(dims, translate, scale)  # type: ignore[arg-type]


def read_voxel_array(path: str | Path, key: str | None = None, threshold: float | None = None) -> np.ndarray:
    """Occupancy grids from a .npy, .npy.gz or .npz file as uint8 {0, 1}, shape (N, D, H, W).

    One grid (D, H, W) and a channel axis (N, 1, D, H, W) are accepted too. The grids must be cubes (D = H = W).
    Values must be 0/1 (any dtype) unless `threshold` is given, which marks values above it as occupied. In an
    .npz, `key` names the array (default: "voxels", or the only array in the file).
    """
    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith(".npy.gz"):
            with gzip.open(path, "rb") as f:
                a = np.load(f, allow_pickle=False)
        elif name.endswith(".npy"):
            a = np.load(path, allow_pickle=False)
        elif name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                k = key or ("voxels" if "voxels" in z.files else (z.files[0] if len(z.files) == 1 else None))
                if k not in z.files:
                    raise DataError(f"{shown_path(path)} holds arrays {z.files}; pass key= to say which one "
                                    "holds the grids (or name it 'voxels').")
                a = z[k]
        else:
            raise DataError(f"Don't know how to read {shown_path(path)}: use .binvox, .npy, .npy.gz or .npz.")
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"Could not read {shown_path(path)} as a numpy array ({e}); the file is damaged or not "
                        "a numpy file.") from e
    shape = a.shape
    if a.ndim == 5 and a.shape[1] == 1:
        a = a[:, 0]
    elif a.ndim == 3:
        a = a[None]
    if a.ndim != 4:
        raise DataError(f"{shown_path(path)} holds an array of shape {shape}; expected occupancy grids "
                        "(N, D, H, W), (N, 1, D, H, W) or one grid (D, H, W).")
    _check_cubic(a, path, shape)
    if threshold is not None:
        return (a > threshold).astype(np.uint8)
    if a.dtype != bool and a.size and not np.isin(a, (0, 1)).all():
        raise DataError(f"{shown_path(path)} holds values other than 0 and 1 (min {a.min()}, max {a.max()}); "
                        "pass threshold=0.5 to read it as occupancy.")
    return a.astype(np.uint8)


def _check_cubic(grids: np.ndarray, path: Path, shape: tuple[int, ...]) -> None:
    """Refuse grids (N, D, H, W) that are not cubes, naming the file and the shape it holds."""
    d, h, w = grids.shape[1:]
    if not d == h == w:
        raise DataError(f"{shown_path(path)} holds an array of shape {shape}, read as grids of {d}x{h}x{w} voxels: "
                        "not cubes. 3D-GAN's grids are cubes, saved as (N, S, S, S) (e.g. 32^3 or 64^3; binvox -d 32 "
                        "makes 32^3): voxelise the shapes again, or remove the file.")


def drop_empty(grids: np.ndarray, what: str = "grids", verbose: bool = True) -> np.ndarray:
    """Grids (N, ...) without the all-empty ones (placeholders), with a printed notice of how many were dropped."""
    keep = grids.reshape(len(grids), -1).any(axis=1)
    n_empty = int((~keep).sum())
    if n_empty and verbose:
        where = np.flatnonzero(~keep)[:5].tolist()
        print(f"Dropped {n_empty} empty grid(s) of {len(grids)} from {what} (index {where}"
              f"{', ...' if n_empty > 5 else ''}): placeholders with no occupied voxel.")
    return grids[keep] if n_empty else grids


def resample(grids: torch.Tensor | np.ndarray, size: int, mode: str = "max") -> torch.Tensor:
    """Occupancy grids (N, [1,] S, S, S) resampled to size^3 as uint8, keeping the leading axes.

    Upsampling (32 -> 64) repeats each voxel into a 2x2x2 block, whatever the mode. Downsampling by an integer
    factor k (64 -> 32) is "max" (a voxel is occupied if any of its k^3 voxels is: thin legs survive, shapes
    thicken a little) or "nearest" (every k-th voxel: sizes stay true, thin parts may vanish). Other ratios use
    nearest-neighbour interpolation.
    """
    if mode not in ("max", "nearest"):
        raise ValueError(f"mode={mode!r}; use 'max' (max-pool) or 'nearest'.")
    x = torch.as_tensor(grids)
    if x.ndim not in (4, 5) or len(set(x.shape[-3:])) != 1:
        raise ValueError(f"grids must be (N, S, S, S) or (N, 1, S, S, S) cubes, got {tuple(x.shape)}.")
    lead, s = x.shape[:-3], x.shape[-1]
    v = x.reshape(-1, 1, s, s, s).to(torch.uint8)
    if size == s:
        out = v
    elif size > s and size % s == 0:
        k = size // s
        out = v.repeat_interleave(k, 2).repeat_interleave(k, 3).repeat_interleave(k, 4)
    elif size < s and s % size == 0 and mode == "max":
        out = F.max_pool3d(v.float(), s // size).to(torch.uint8)
    elif size < s and s % size == 0:
        k = s // size
        out = v[:, :, k // 2::k, k // 2::k, k // 2::k]
    else:
        out = F.interpolate(v.float(), size=(size,) * 3, mode="nearest").to(torch.uint8)
    return out.reshape(*lead, size, size, size).contiguous()


def _read_any(path: Path, threshold: float | None) -> np.ndarray:
    if path.name.lower().endswith(".binvox"):
        grid = read_binvox(path)[0][None].astype(np.uint8)
        _check_cubic(grid, path, grid.shape[1:])
        return grid
    return read_voxel_array(path, threshold=threshold)


def _class_of(path: Path) -> str:
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _voxel_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(_SUFFIXES))


def _class_files(folder: Path) -> dict[str, list[Path]]:
    """Class name -> its voxel files: `<class>.npy.gz` (etc.) in `folder`, and the files of each `<class>/`."""
    found: dict[str, list[Path]] = {}
    for p in _voxel_files(folder):
        found.setdefault(_class_of(p), []).append(p)
    for d in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = _voxel_files(d)
        if files:
            found.setdefault(d.name, []).extend(files)
    return found


def read_voxel_folder(folder: str | Path, size: int = 32, classes: tuple[str, ...] | None = None,
                      threshold: float | None = None, verbose: bool = True
                      ) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """Grids (N, 1, size^3) uint8, labels (N,) and class names from a folder of voxel files.

    Either one file per class (`chair.npy.gz`, `monitor.npz`: the file name is the class), or one subfolder
    per class holding .binvox/.npy files of single shapes (`chair/0001.binvox`). Empty grids are dropped with
    a notice, and every grid is resampled to `size` (see `resample`). `classes` picks and orders the classes.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{shown_path(folder)} is not a folder; put one voxel file per class there "
                        "(chair.npy.gz, ...) or one subfolder per class of .binvox/.npy files.")
    found = _class_files(folder)
    if not found:
        raise DataError(f"No voxel files (.binvox, .npy, .npy.gz, .npz) in {shown_path(folder)} or its subfolders.")
    names = tuple(classes) if classes is not None else tuple(sorted(found))
    missing = [c for c in names if c not in found]
    if missing:
        raise DataError(f"No voxel files for class(es) {missing} in {shown_path(folder)}; it holds "
                        f"{sorted(found)}.")
    grids, labels = [], []
    for label, c in enumerate(names):
        arrays = [_read_any(p, threshold) for p in found[c]]  # each a stack of cubes, or a DataError
        a = np.concatenate([resample(a, size).numpy() for a in arrays])
        a = drop_empty(a, f"{c} ({shown_path(folder)})", verbose)
        grids.append(torch.from_numpy(a))
        labels.append(torch.full((len(a),), label, dtype=torch.int64))
    return torch.cat(grids).unsqueeze(1), torch.cat(labels), names


def download_modelnet10(root: str | Path, classes: tuple[str, ...] = ("chair", "monitor"),
                        opener: Callable[[str], IO[bytes]] | None = None) -> str | None:
    """Fetch the verified voxelised ModelNet10 class files into root/modelnet10; return why it could not, or None."""
    from gan_utils.data.download import download_url

    unknown = [c for c in classes if f"{c}.npy.gz" not in MODELNET10_FILES]
    if unknown:
        return (f"no verified voxel download for {unknown} (only {sorted(MODELNET10_FILES)}); voxelise "
                "ModelNet10's meshes yourself")
    folder = Path(root) / "modelnet10"
    if opener is None and not network_available("raw.githubusercontent.com"):
        return "no network"
    if not writable(folder):
        return f"{shown_path(folder)} is not writable"
    try:
        for c in classes:
            name = f"{c}.npy.gz"
            download_url(f"{_BASE_URL}/{name}", folder / name, sha256=MODELNET10_FILES[name], opener=opener)
    except DataError as e:
        return f"download failed: {str(e).splitlines()[0]}"
    return None


def load_modelnet10(root: str | Path, source: str = "auto", device: str | torch.device = "cpu",
                    cache_dir: str | Path | None = None, n_synthetic: int = 1000, seed: int = 0, size: int = 32,
                    classes: tuple[str, ...] | None = ("chair",), verbose: bool = True) -> VoxelSet:
    """ModelNet10 occupancy grids as a VoxelSet: on disk in root/modelnet10, else downloaded, else procedural furniture.

    `classes` picks the classes (None: every class on disk); the real chair and monitor files download with a
    checksum, other classes must be voxelised by hand (see the module docstring). The stand-in is the
    procedural furniture (chair, table, sofa, lamp); asked for "chair" only, it gives procedural chairs only.
    At most MAX_SYNTHETIC (4,000, about ModelNet10's train split) stand-in shapes are made, whatever `n_synthetic`.
    """
    from gan_utils.data.synthetic.voxels import FURNITURE_CLASSES, synthetic_furniture

    check_source(source)
    folder = Path(root) / "modelnet10"

    def read_real() -> VoxelSet | None:
        found = _class_files(folder) if folder.is_dir() else {}
        if not found:
            return None
        absent = [c for c in classes or () if c not in found]
        if absent and all(f"{c}.npy.gz" in MODELNET10_FILES for c in classes or ()):
            return None  # some class files are missing: let the download fetch them
        # Files that are there but damaged (not 0/1, not cubes, unreadable) stop with their DataError, in every
        # mode, as in every loader: falling back would hide them.
        x, y, names = read_voxel_folder(folder, size, classes, verbose=verbose)
        counts = ", ".join(f"{int((y == i).sum())} {c}" for i, c in enumerate(names))
        return VoxelSet(x.to(device), y.to(device), "ModelNet10", "real",
                        f"ModelNet10 train-split voxels ({counts}) from {shown_path(folder)}, at {size}^3", names)

    def standin(why: str) -> VoxelSet:
        wanted = tuple(c for c in (classes or FURNITURE_CLASSES) if c in FURNITURE_CLASSES) or FURNITURE_CLASSES
        x, y = synthetic_furniture(min(n_synthetic, MAX_SYNTHETIC), size, seed, classes=wanted)
        reason = f"; real ModelNet10 not in {shown_path(folder)}" + (f" ({why})" if why else "")
        return VoxelSet(x.to(device), y.to(device), "ModelNet10", "synthetic",
                        f"procedural voxel furniture (seed {seed}){reason}", wanted)

    def missing(why: str) -> str:
        return (f"ModelNet10 voxels not found in {shown_path(folder)} and the download failed ({why}). Put "
                "chair.npy.gz (and other <class>.npy.gz/.npz files, or <class>/ folders of .binvox files) there, "
                "or set GAN_DATA=synthetic to use the procedural furniture.")

    wanted = classes if classes is not None else ("chair", "monitor")
    t0 = time.perf_counter()
    data = load_with_fallback("ModelNet10", source, read_real, standin, missing,
                              download=lambda: download_modelnet10(root, wanted), verbose=False)
    if verbose:
        print(data.banner())
        print(f"loaded in {time.perf_counter() - t0:.1f} s; {100 * data.voxels.float().mean():.1f}% of voxels "
              "occupied")
    return data
