"""pix2pixHD's data: its test label maps without photos, instance ids in gtFine's convention, the stand-in's maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gan_utils.data import DataError
from gan_utils.data.cityscapes import (
    CITYSCAPES_CLASSES,
    collapse_instances,
    load_cityscapes,
    load_cityscapes_label_maps,
    read_pix2pixhd_label_maps,
    read_vid2vid_cityscapes,
    vid2vid_instance_ids,
)
from gan_utils.models.pix2pixhd import instance_boundary
from tests.test_cityscapes import CAR, ROAD, label_ids, photo, pix2pixhd_layout, save

W, H = 64, 32
CLASS = {name: i for i, name in enumerate(CITYSCAPES_CLASSES)}


def two_cars() -> tuple[np.ndarray, np.ndarray]:
    """labelIds and 16-bit instanceIds: two touching cars (26000 | 26001) on the road, building and sky above."""
    ids = label_ids(0)
    ids[H // 2 + 4: H // 2 + 10, 8:40] = CAR
    inst = ids.astype(np.uint16)
    inst[ids == CAR] = 26000
    inst[H // 2 + 4: H // 2 + 10, 24:40] = 26001
    return ids, inst


def write_test_maps(root: Path, n: int = 3) -> Path:
    """pix2pixHD's test_label / test_inst folders, no test_img (as in the repo)."""
    ids, inst = two_cars()
    for i in range(n):
        stem = f"frankfurt_000000_{i:06d}"
        save(root / "test_label" / f"{stem}_gtFine_labelIds.png", ids)
        save(root / "test_inst" / f"{stem}_gtFine_instanceIds.png", inst)
    return root




def test_reads_test_maps_without_photos(tmp_path: Path) -> None:
    maps = read_pix2pixhd_label_maps(write_test_maps(tmp_path / "hd"), size=(W, H), cache_dir=tmp_path / "cache")
    assert len(maps) == 3 and maps.ids.shape == (3, 1, H, W) and maps.inst.shape == (3, 1, H, W)
    assert maps.stems[0] == "frankfurt_000000_000000" and maps.is_real
    ids, inst = two_cars()
    assert maps.ids[0, 0, -1, 0] == CLASS["road"] and maps.ids[0, 0, H // 2 + 5, 10] == CLASS["vehicle"]
    assert torch.equal(maps.inst[0, 0], torch.from_numpy(inst.astype(np.int32)))  # 16-bit ids kept
    assert maps.colour_maps().shape == (3, 3, H, W)
    # half size: nearest-neighbour keeps only ids that exist
    small = read_pix2pixhd_label_maps(tmp_path / "hd", size=(W // 2, H // 2))
    assert set(small.inst.unique().tolist()) <= set(np.unique(inst).tolist())


def test_missing_instance_map_is_a_clear_error(tmp_path: Path) -> None:
    root = write_test_maps(tmp_path / "hd", n=2)
    next((root / "test_inst").iterdir()).unlink()
    with pytest.raises(DataError, match="instance map"):
        read_pix2pixhd_label_maps(root, size=(W, H))


def test_load_label_maps_real_and_standin(tmp_path: Path) -> None:
    root = tmp_path / "realdata"
    write_test_maps(root / "pix2pixhd" / "cityscapes", n=2)
    maps = load_cityscapes_label_maps(root, size=(W, H), cache_dir=tmp_path / "cache", verbose=False)
    assert maps.is_real and len(maps) == 2
    syn = load_cityscapes_label_maps(tmp_path / "empty", size=(W, H), n_synthetic=4, cache_dir=tmp_path / "cache",
                                     verbose=False)
    assert not syn.is_real and syn.ids.shape == (4, 1, H, W) and "OFFLINE STAND-IN" in syn.banner()
    with pytest.raises(DataError, match="GAN_DATA_ROOT"):
        load_cityscapes_label_maps(tmp_path / "empty", source="real", size=(W, H))


def test_vid2vid_instance_ids_by_hand() -> None:
    inst = np.array([[255, 0, 1], [255, 255, 1]], np.uint8)
    ids = np.array([[7, 26, 26], [11, 7, 33]], np.uint8)
    assert vid2vid_instance_ids(inst, ids).tolist() == [[7, 26000, 26001], [11, 7, 33001]]


def test_vid2vid_reader_converts_instances(tmp_path: Path) -> None:
    root = tmp_path / "vid"
    for t in range(2):
        stem = f"aachen_000000_{t:06d}_leftImg8bit"
        ids = label_ids(0)
        inst = np.full_like(ids, 255)
        inst[ids == CAR] = 3
        save(root / "train_B" / "seq0000" / f"{stem}.jpg", photo(t), quality=95)
        save(root / "train_A" / "seq0000" / f"{stem}.png", ids)
        save(root / "train_inst" / "seq0000" / f"{stem}.png", inst)
    vid = read_vid2vid_cityscapes(root, size=(W, H))
    assert vid.inst is not None
    assert set(vid.inst.unique().tolist()) == {ROAD, 11, 23, CAR * 1000 + 3}


def test_collapse_instances_drops_merged_label_borders() -> None:
    # building (11) beside wall (12): one collapsed class, so no boundary; two cars keep theirs
    inst = torch.tensor([[11, 11, 12, 12], [26000, 26000, 26001, 26001]]).view(1, 1, 2, 4)
    ids = torch.tensor([[3, 3, 3, 3], [8, 8, 8, 8]]).view(1, 1, 2, 4)
    key = collapse_instances(inst, ids)
    assert key[0, 0].tolist() == [[3, 3, 3, 3], [26000, 26000, 26001, 26001]]
    edge = instance_boundary(key)[0, 0]
    assert edge[1].tolist() == [1, 1, 1, 1] and edge[0].tolist() == [1, 1, 1, 1]  # row 0 touches the cars
    assert instance_boundary(collapse_instances(inst[..., :1, :], ids[..., :1, :])).sum() == 0


def test_standin_pairs_are_cropped_to_a_wide_size(tmp_path: Path) -> None:
    pairs = load_cityscapes(tmp_path / "empty", size=(W, H), n_synthetic=4, cache_dir=tmp_path / "cache",
                            verbose=False)
    assert not pairs.is_real and pairs.A.shape == (4, 1, H, W) and pairs.B.shape == (4, 3, H, W)
    assert pairs.inst is not None and pairs.inst.shape == (4, 1, H, W)
    things = pairs.inst >= 1000
    assert things.any()
    assert torch.equal(pairs.inst[~things].long(), pairs.A[~things].long())  # stuff carries its class
    assert torch.equal(pairs.inst[things].long() // 1000, pairs.A[things].long())  # objects: class * 1000 + k


def test_pix2pixhd_train_reader_unchanged(tmp_path: Path) -> None:
    from gan_utils.data.cityscapes import read_pix2pixhd_cityscapes

    hd = read_pix2pixhd_cityscapes(pix2pixhd_layout(tmp_path / "hd", ["aachen_000000_000019"]), size=(W, H))
    assert hd.inst is not None and hd.inst.max() == 26000  # gtFine instanceIds as stored


def test_test_maps_of_two_sizes_or_foreign_ids_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_OFFLINE", "1")
    root = tmp_path / "realdata"
    hd = write_test_maps(root / "pix2pixhd" / "cityscapes", n=2)
    stem = "frankfurt_000000_000001"
    _, inst = two_cars()
    save(hd / "test_inst" / f"{stem}_gtFine_instanceIds.png", inst[:, : W // 2])  # 16-bit, half as wide
    with pytest.raises(DataError, match=rf"The instance map .*test_inst/{stem}_gtFine_instanceIds\.png is 32x32, "
                                        rf"but its label map .*test_label/{stem}_gtFine_labelIds\.png is 64x32"):
        load_cityscapes_label_maps(root, size=(W, H), verbose=False)  # GAN_DATA=auto: no fallback either
    save(hd / "test_inst" / f"{stem}_gtFine_instanceIds.png", inst)
    ids, _ = two_cars()
    ids[5:7, 5:7] = 40
    save(hd / "test_label" / f"{stem}_gtFine_labelIds.png", ids)
    with pytest.raises(DataError, match=rf"test_label/{stem}_gtFine_labelIds\.png holds label id\(s\) 40 in 4 of "
                                        r"2,048 pixels, outside Cityscapes' labelIds 0\.\.33"):
        load_cityscapes_label_maps(root, size=(W, H), verbose=False)
