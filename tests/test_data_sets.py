"""Paired, unpaired, voxel and clip sets: shapes, dtypes, value ranges, alignment, banners and errors."""

from __future__ import annotations

import pytest
import torch

from gan_utils.data.base import DataError
from gan_utils.data.sets import ClipSet, PairedSet, UnpairedSet, VoxelSet


def u8(*shape: int, high: int = 256, seed: int = 0) -> torch.Tensor:
    return torch.randint(high, shape, generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def coded(n: int, c: int, h: int, w: int) -> torch.Tensor:
    """uint8 images whose every pixel holds the image's index, so alignment can be checked after batching."""
    return torch.arange(n, dtype=torch.uint8)[:, None, None, None].expand(n, c, h, w).contiguous()


# --------------------------------------------------------------------------- PairedSet


def test_paired_batches_are_aligned_and_in_range() -> None:
    A, B = coded(10, 3, 8, 12), coded(10, 1, 8, 12)
    data = PairedSet(A, B, "pairs", "real", "test pairs")
    a, b, inst = data.batch(16, generator=torch.Generator().manual_seed(0))
    assert a.shape == (16, 3, 8, 12) and b.shape == (16, 1, 8, 12) and inst is None
    assert a.dtype == b.dtype == torch.float32 and a.min() >= -1 and b.max() <= 1
    assert torch.equal(a[:, :1], b)  # the same index on both sides
    again = data.batch(16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.a, a) and len(data) == 10


def test_paired_label_ids_stay_ids_and_instances_come_along() -> None:
    A = u8(6, 1, 4, 4, high=35)
    inst = (A.int() * 1000 + 1).contiguous()
    data = PairedSet(A, u8(6, 3, 4, 4), "Cityscapes", "real", "test", label_nc=35, inst=inst)
    batch = data.to_float(torch.tensor([2, 5]))
    assert batch.a.dtype == torch.int64 and torch.equal(batch.a, A[[2, 5]].long())
    assert batch.inst is not None and batch.inst.dtype == torch.int64 and torch.equal(batch.inst, inst[[2, 5]].long())
    assert batch.b.shape == (2, 3, 4, 4) and batch.b.min() >= -1
    assert "label ids 0..34" in data.size_line() and "instance maps" in data.size_line()


def test_paired_errors_say_what_differs() -> None:
    with pytest.raises(DataError, match="A has 4 images but B has 3"):
        PairedSet(u8(4, 3, 8, 8), u8(3, 3, 8, 8), "p", "real", "t")
    with pytest.raises(DataError, match="A is 8x8 but B is 16x8 .*one size"):
        PairedSet(u8(4, 3, 8, 8), u8(4, 3, 8, 16), "p", "real", "t")
    with pytest.raises(ValueError, match="B must be uint8"):
        PairedSet(u8(4, 3, 8, 8), torch.zeros(4, 3, 8, 8), "p", "real", "t")
    with pytest.raises(DataError, match="label id 40, but label_nc=35"):
        PairedSet(torch.full((2, 1, 4, 4), 40, dtype=torch.uint8), u8(2, 3, 4, 4), "p", "real", "t", label_nc=35)
    with pytest.raises(ValueError, match="one channel of label ids"):
        PairedSet(u8(2, 3, 4, 4, high=5), u8(2, 3, 4, 4), "p", "real", "t", label_nc=35)
    with pytest.raises(DataError, match="instance maps are"):
        PairedSet(u8(2, 1, 4, 4), u8(2, 3, 4, 4), "p", "real", "t", inst=torch.zeros(2, 1, 4, 5, dtype=torch.int32))


def test_paired_banner_is_shared_with_image_sets() -> None:
    real = PairedSet(u8(2, 3, 4, 4), u8(2, 3, 4, 4), "Facades", "real", "CMP facades")
    fake = PairedSet(u8(2, 3, 4, 4), u8(2, 3, 4, 4), "Facades", "synthetic", "blocks")
    assert "REAL DATA: CMP facades" in real.banner() and real.banner().startswith("#")
    assert "OFFLINE STAND-IN, NOT FACADES: blocks" in fake.banner() and "GAN_DATA_ROOT" in fake.banner()
    assert "2 pairs: A (3, 4, 4) -> B (3, 4, 4)" in real.banner()
    assert repr(real) == "PairedSet('Facades', real: 2 pairs: A (3, 4, 4) -> B (3, 4, 4))"


# --------------------------------------------------------------------------- UnpairedSet


def test_unpaired_draws_each_domain_independently() -> None:
    X = torch.zeros(5, 3, 8, 8, dtype=torch.uint8)
    Y = torch.full((9, 3, 8, 8), 255, dtype=torch.uint8)
    data = UnpairedSet(X, Y, "horse2zebra", "real", "test", domains=("horse", "zebra"))
    x, y = data.batch(7, generator=torch.Generator().manual_seed(1))
    assert x.shape == y.shape == (7, 3, 8, 8) and (x == -1).all() and (y == 1).all()
    assert len(data) == 9 and data.shape == (3, 8, 8)
    assert "5 horse and 9 zebra images of shape (3, 8, 8), unpaired" in data.banner()
    coded_x, coded_y = coded(50, 1, 2, 2), coded(50, 1, 2, 2)
    pairs = UnpairedSet(coded_x, coded_y, "u", "real", "t")
    x, y = pairs.batch(64, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(x, y)  # not the same index in both domains


def test_unpaired_shape_mismatch_is_an_error() -> None:
    with pytest.raises(DataError, match=r"horse holds images of shape \(3, 8, 8\) but zebra of \(3, 16, 16\)"):
        UnpairedSet(u8(2, 3, 8, 8), u8(2, 3, 16, 16), "u", "real", "t", domains=("horse", "zebra"))
    with pytest.raises(DataError, match="cannot draw a batch from an empty set"):
        UnpairedSet(u8(0, 3, 8, 8), u8(2, 3, 8, 8), "u", "real", "t").batch(2)


# --------------------------------------------------------------------------- VoxelSet


def test_voxels_are_zero_one_floats() -> None:
    grids = u8(6, 1, 4, 5, 6, high=2)
    data = VoxelSet(grids, torch.arange(6) % 2, "ModelNet10", "real", "chairs", ("chair", "monitor"))
    x, y = data.batch(4, generator=torch.Generator().manual_seed(0))
    assert x.shape == (4, 1, 4, 5, 6) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(data.to_float(), grids.float()) and data.shape == (1, 4, 5, 6)
    assert "6 occupancy grids of shape (1, 4, 5, 6)" in data.banner()


def test_voxel_errors() -> None:
    labels = torch.zeros(2, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"voxels must be uint8 \(N, 1, D, H, W\)"):
        VoxelSet(u8(2, 4, 4, 4, high=2), labels, "v", "real", "t", ("a",))
    with pytest.raises(ValueError, match="voxels must be uint8"):
        VoxelSet(torch.zeros(2, 1, 4, 4, 4), labels, "v", "real", "t", ("a",))
    with pytest.raises(ValueError, match="one channel"):
        VoxelSet(u8(2, 2, 4, 4, 4, high=2), labels, "v", "real", "t", ("a",))
    with pytest.raises(DataError, match=r"values up to 255.*\(grid > 0.5\)"):
        VoxelSet(torch.full((2, 1, 4, 4, 4), 255, dtype=torch.uint8), labels, "v", "real", "t", ("a",))
    with pytest.raises(DataError, match="one label per grid"):
        VoxelSet(u8(2, 1, 4, 4, 4, high=2), torch.zeros(3), "v", "real", "t", ("a",))


# --------------------------------------------------------------------------- ClipSet


def clips(n: int = 3, t: int = 5, flow: bool = True) -> ClipSet:
    frames = torch.arange(n * t, dtype=torch.uint8).reshape(n, t, 1, 1, 1).expand(n, t, 3, 4, 6).contiguous()
    maps = (frames[:, :, :1] % 35).contiguous()  # ids tell clip and frame apart too
    f = torch.arange(n * (t - 1), dtype=torch.float32).reshape(n, t - 1, 1, 1, 1).expand(n, t - 1, 2, 4, 6)
    return ClipSet(frames, maps, "Cityscapes video", "real", "clips", label_nc=35,
                   flow=f.contiguous() if flow else None)


def test_clip_batches_keep_frames_maps_and_flow_aligned() -> None:
    data = clips()
    frames, maps, flow = data.batch(4, generator=torch.Generator().manual_seed(0))
    assert frames.shape == (4, 5, 3, 4, 6) and frames.dtype == torch.float32 and frames.min() >= -1
    assert maps.shape == (4, 5, 1, 4, 6) and maps.dtype == torch.int64
    assert flow is not None and flow.shape == (4, 4, 2, 4, 6) and flow.dtype == torch.float32
    code = ((frames[:, :, 0, 0, 0] + 1) * 127.5).round().long()  # (B, T) frame codes n * T + t
    assert torch.equal(maps[:, :, 0, 0, 0], code % 35)
    clip = code[:, 0] // 5
    assert torch.equal(flow[:, :, 0, 0, 0].long(), clip[:, None] * 4 + torch.arange(4))
    assert "3 clips of 5 frames of shape (3, 4, 6), with optical flow" in data.banner()


def test_clip_windows_are_consecutive_frames() -> None:
    data = clips(n=4, t=8)
    frames, maps, flow = data.batch(32, generator=torch.Generator().manual_seed(2), n_frames=3)
    assert frames.shape == (32, 3, 3, 4, 6) and maps.shape == (32, 3, 1, 4, 6) and flow.shape == (32, 2, 2, 4, 6)
    code = ((frames[:, :, 0, 0, 0] + 1) * 127.5).round().long()
    assert (code[:, 1:] - code[:, :-1] == 1).all()  # consecutive frames of one clip
    starts = code[:, 0] % 8
    assert starts.max() <= 5 and len(starts.unique()) > 1
    assert torch.equal(flow[:, :, 0, 0, 0].long(), (code[:, 0] // 8 * 7 + starts)[:, None] + torch.arange(2))
    sliced = data.to_float(torch.tensor([1]), slice(2, 5))
    assert sliced.frames.shape[1] == 3 and sliced.flow is not None and sliced.flow.shape[1] == 2
    with pytest.raises(ValueError, match="n_frames=9"):
        data.batch(2, n_frames=9)
    assert clips(flow=False).batch(2).flow is None


def test_clip_errors_name_the_mismatch() -> None:
    frames, maps = u8(2, 5, 3, 4, 6), u8(2, 5, 1, 4, 6, high=35)
    with pytest.raises(DataError, match=r"label maps are \(2, 4, 1, 4, 6\) but frames are \(2, 5, 3, 4, 6\)"):
        ClipSet(frames, maps[:, :4], "c", "real", "t")
    with pytest.raises(DataError, match="label maps are"):
        ClipSet(frames, u8(3, 5, 1, 4, 6), "c", "real", "t")
    with pytest.raises(DataError, match="label maps are"):
        ClipSet(frames, u8(2, 5, 1, 4, 8), "c", "real", "t")
    with pytest.raises(DataError, match=r"flow is \(2, 5, 2, 4, 6\) but 2 clips of 5 frames"):
        ClipSet(frames, maps, "c", "real", "t", flow=torch.zeros(2, 5, 2, 4, 6))
    with pytest.raises(ValueError, match="flow must be float32"):
        ClipSet(frames, maps, "c", "real", "t", flow=torch.zeros(2, 4, 2, 4, 6, dtype=torch.float64))
    with pytest.raises(DataError, match="label id 40, but label_nc=35"):
        ClipSet(frames, torch.full((2, 5, 1, 4, 6), 40, dtype=torch.uint8), "c", "real", "t", label_nc=35)
    with pytest.raises(ValueError, match=r"frames must be uint8 \(N, T, C, H, W\)"):
        ClipSet(u8(2, 3, 4, 6), maps, "c", "real", "t")
