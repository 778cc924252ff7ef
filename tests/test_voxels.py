"""The voxel readers (binvox, npy, npy.gz, npz), placeholder dropping, resampling, and the ModelNet10 loader."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_utils.data import DataError, VoxelSet, load_dataset
from gan_utils.data.voxels import MAX_SYNTHETIC, drop_empty, read_binvox, read_voxel_array, read_voxel_folder, resample

HEADER = b"#binvox 1\ndim 2 2 2\ntranslate -0.5 0.25 1\nscale 2.5\ndata\n"


def _rle(stored: np.ndarray) -> bytes:
    """Run-length (value, count <= 255) pairs of a flat 0/1 array, as binvox writes them."""
    out, i = bytearray(), 0
    while i < len(stored):
        j = i
        while j < len(stored) and stored[j] == stored[i] and j - i < 255:
            j += 1
        out += bytes([int(stored[i]), j - i])
        i = j
    return bytes(out)


def test_binvox_hand_built(tmp_path: Path) -> None:
    # Stored order is x, then z, then y fastest: flat index x*4 + z*2 + y. Index 1 is x=0, z=0, y=1.
    p = tmp_path / "one.binvox"
    p.write_bytes(HEADER + bytes([0, 1, 1, 1, 0, 6]))
    grid, header = read_binvox(p)
    assert grid.dtype == bool and grid.shape == (2, 2, 2)
    assert header.dims == (2, 2, 2) and header.translate == (-0.5, 0.25, 1.0) and header.scale == 2.5
    assert np.argwhere(grid).tolist() == [[0, 1, 0]]  # (x, y, z)


def test_binvox_long_runs_and_axis_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    grid = np.zeros((32, 32, 32), bool)
    grid[4:28, 10:20, :] = True  # runs far longer than 255
    grid |= rng.random(grid.shape) < 0.05
    p = tmp_path / "big.binvox"
    p.write_bytes(HEADER.replace(b"2 2 2", b"32 32 32") + _rle(grid.transpose(0, 2, 1).ravel()))
    assert np.array_equal(read_binvox(p)[0], grid)


@pytest.mark.parametrize("body, match", [
    (b"#binvox 1\ndim 2 2\ntranslate 0 0 0\nscale 1\ndata\n\x00\x08", "dim"),
    (HEADER + bytes([0, 1, 1]), "odd number"),
    (HEADER + bytes([0, 3]), "truncated"),
    (b"P3\n2 2\n", "not a binvox"),
])
def test_binvox_bad_files(tmp_path: Path, body: bytes, match: str) -> None:
    p = tmp_path / "bad.binvox"
    p.write_bytes(body)
    with pytest.raises(DataError, match=match):
        read_binvox(p)


def _grids(n: int = 3, size: int = 8) -> np.ndarray:
    a = np.zeros((n, 1, size, size, size))  # float64 with a channel axis, like the ModelNet10 files
    for i in range(1, n):
        a[i, 0, 1:i + 2, 2:5, 0:3] = 1.0
    return a  # a[0] is the all-zero placeholder


def test_numpy_formats_and_placeholder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _grids()
    np.save(tmp_path / "a.npy", a)
    with gzip.open(tmp_path / "b.npy.gz", "wb") as f:
        np.save(f, a)
    np.savez(tmp_path / "c.npz", voxels=a[:, 0].astype(bool))
    for name in ("a.npy", "b.npy.gz", "c.npz"):
        g = read_voxel_array(tmp_path / name)
        assert g.dtype == np.uint8 and g.shape == (3, 8, 8, 8)
        assert np.array_equal(g, a[:, 0].astype(np.uint8))
    kept = drop_empty(read_voxel_array(tmp_path / "b.npy.gz"), "b")
    assert len(kept) == 2 and "Dropped 1 empty grid" in capsys.readouterr().out


def test_numpy_bad_input(tmp_path: Path) -> None:
    np.save(tmp_path / "soft.npy", np.full((2, 4, 4, 4), 0.7))
    with pytest.raises(DataError, match="threshold"):
        read_voxel_array(tmp_path / "soft.npy")
    assert read_voxel_array(tmp_path / "soft.npy", threshold=0.5).min() == 1
    np.save(tmp_path / "flat.npy", np.zeros((4, 4)))
    with pytest.raises(DataError, match="shape"):
        read_voxel_array(tmp_path / "flat.npy")
    np.savez(tmp_path / "two.npz", x=np.zeros((1, 4, 4, 4)), y=np.zeros(1))
    with pytest.raises(DataError, match="key="):
        read_voxel_array(tmp_path / "two.npz")
    (tmp_path / "junk.npy.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="damaged"):
        read_voxel_array(tmp_path / "junk.npy.gz")


def test_resample() -> None:
    g = torch.zeros(2, 1, 32, 32, 32, dtype=torch.uint8)
    g[0, 0, 3, 4, 5] = 1
    up = resample(g, 64)
    assert up.shape == (2, 1, 64, 64, 64) and up.dtype == torch.uint8
    assert up.sum() == 8 and up[0, 0, 6:8, 8:10, 10:12].all()
    assert torch.equal(resample(up, 32, "max"), g) and torch.equal(resample(up, 32, "nearest"), g)
    thin = torch.zeros(1, 64, 64, 64, dtype=torch.uint8)
    thin[0, 10, 20, :] = 1  # a one-voxel rod at an even index: kept by max-pool, lost by nearest (odd indices)
    assert resample(thin, 32, "max").sum() == 32 and resample(thin, 32, "nearest").sum() == 0
    assert resample(g, 16).shape == (2, 1, 16, 16, 16)
    with pytest.raises(ValueError, match="mode"):
        resample(g, 64, "cubic")
    with pytest.raises(ValueError, match="cubes"):
        resample(torch.zeros(1, 4, 4, 8), 8)


def test_folder_of_classes(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "chair.npy.gz", "wb") as f:
        np.save(f, _grids())
    (tmp_path / "lamp").mkdir()
    (tmp_path / "lamp" / "0001.binvox").write_bytes(HEADER.replace(b"2 2 2", b"16 16 16")
                                                    + _rle(np.ones(16 ** 3, np.uint8)))
    x, y, names = read_voxel_folder(tmp_path, size=8, verbose=False)
    assert names == ("chair", "lamp") and x.shape == (3, 1, 8, 8, 8) and y.tolist() == [0, 0, 1]
    assert int(x[2].sum()) == 8 ** 3  # the 16^3 lamp was max-pooled to 8^3
    with pytest.raises(DataError, match="sofa"):
        read_voxel_folder(tmp_path, classes=("sofa",))


def test_load_modelnet10_real_and_standin(tmp_path: Path) -> None:
    (tmp_path / "modelnet10").mkdir()
    with gzip.open(tmp_path / "modelnet10" / "chair.npy.gz", "wb") as f:
        np.save(f, _grids(size=32))
    real = load_dataset("ModelNet10", root=tmp_path, source="real", verbose=False)
    assert isinstance(real, VoxelSet) and real.is_real and len(real) == 2 and real.classes == ("chair",)
    x, yb = real.batch(4)
    assert x.shape == (4, 1, 32, 32, 32) and set(x.unique().tolist()) <= {0.0, 1.0}
    big = load_dataset("modelnet10", root=tmp_path, source="real", size=64, verbose=False)
    assert big.shape == (1, 64, 64, 64)
    fake = load_dataset("modelnet10", root=tmp_path / "none", source="synthetic", n_synthetic=8,
                        classes=None, verbose=False)
    assert not fake.is_real and len(fake) == 8 and fake.classes == ("chair", "table", "sofa", "lamp")
    many = load_dataset("modelnet10", root=tmp_path / "none", source="synthetic", n_synthetic=60_000, verbose=False)
    assert len(many) == MAX_SYNTHETIC and many.classes == ("chair",)
    with pytest.raises(DataError, match="GAN_DATA=synthetic"):
        load_dataset("modelnet10", root=tmp_path / "none", source="real", classes=("bed",), verbose=False)


def test_real_modelnet10_fixture() -> None:
    root = Path(__file__).resolve().parents[2] / "shared" / "realdata"
    if not (root / "modelnet10" / "chair.npy.gz").exists():
        pytest.skip("shared/realdata/modelnet10 is not here")
    data = load_dataset("modelnet10", root=root, source="real", classes=("chair", "monitor"), verbose=False)
    assert len(data) == 889 + 465 and int((data.labels == 0).sum()) == 889


def test_download_is_checksum_verified(tmp_path: Path) -> None:
    import io

    from gan_utils.data.voxels import download_modelnet10

    real = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "modelnet10" / "chair.npy.gz"
    assert "sha256 check" in download_modelnet10(tmp_path, ("chair",), opener=lambda url: io.BytesIO(b"junk"))
    assert not (tmp_path / "modelnet10" / "chair.npy.gz").exists()
    assert "no verified voxel download" in download_modelnet10(tmp_path, ("bed",))
    if real.exists():
        assert download_modelnet10(tmp_path, ("chair",), opener=lambda url: open(real, "rb")) is None
        assert (tmp_path / "modelnet10" / "chair.npy.gz").read_bytes() == real.read_bytes()


@pytest.mark.parametrize("shape", [(5, 7, 3), (2, 1, 8, 8, 4), (3, 8, 8, 6)])
def test_grids_that_are_not_cubes_are_an_error(tmp_path: Path, shape: tuple[int, ...]) -> None:
    path = tmp_path / "chair.npy.gz"
    with gzip.open(path, "wb") as f:  # as the ModelNet10 class files are stored
        np.save(f, np.zeros(shape))
    d, h, w = shape[-3:]
    with pytest.raises(DataError, match=rf"chair\.npy\.gz holds an array of shape {re.escape(str(shape))}, read as "
                                        rf"grids of {d}x{h}x{w} voxels: not cubes"):
        read_voxel_array(path)
    np.save(tmp_path / "table.npy", np.ones(shape, bool))
    with pytest.raises(DataError, match=r"table\.npy holds an array of shape .* not cubes"):
        read_voxel_array(tmp_path / "table.npy")


def test_a_binvox_that_is_not_a_cube_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "lamp").mkdir()
    (tmp_path / "lamp" / "0001.binvox").write_bytes(HEADER.replace(b"2 2 2", b"4 4 2") + _rle(np.ones(32, np.uint8)))
    with pytest.raises(DataError, match=r"0001\.binvox holds an array of shape \(4, 2, 4\), read as grids of 4x2x4"):
        read_voxel_folder(tmp_path, size=8)


def test_a_damaged_modelnet10_file_stops_auto_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_OFFLINE", "1")  # without the check, auto would try the download, then the stand-in
    (tmp_path / "modelnet10").mkdir()
    with gzip.open(tmp_path / "modelnet10" / "chair.npy.gz", "wb") as f:
        np.save(f, np.zeros((5, 7, 3)))
    for source in ("auto", "real"):
        with pytest.raises(DataError, match=r"modelnet10/chair\.npy\.gz holds an array of shape \(5, 7, 3\)"):
            load_dataset("modelnet10", root=tmp_path, source=source, verbose=False)
    # a class file that is simply not there still falls back under auto (with the reason in the banner)
    syn = load_dataset("modelnet10", root=tmp_path, source="auto", classes=("monitor",), n_synthetic=4,
                       verbose=False)
    assert not syn.is_real and "no network" in syn.description
