"""Cityscapes in each layout (official, pix2pixHD, vid2vid, pix2pix tarball), written here as tiny fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_utils.data import DataError, load_dataset
from gan_utils.data.cityscapes import (
    CITYSCAPES_CLASSES,
    CITYSCAPES_PALETTE,
    ID_COLORS,
    collapse_ids,
    find_cityscapes,
    load_cityscapes,
    read_pix2pix_cityscapes,
    read_pix2pixhd_cityscapes,
    read_standard_cityscapes,
    read_vid2vid_cityscapes,
)
from gan_utils.data.pairs import colorize, contiguous_holdout

W, H = 64, 32  # 2:1 like the 2048x1024 originals
ROAD, CAR, SKY, BUILDING = 7, 26, 23, 11


def label_ids(seed: int = 0) -> np.ndarray:
    """Sky on top, building in the middle, road below, a car on the road (all edges sharp)."""
    a = np.full((H, W), BUILDING, np.uint8)
    a[: H // 4] = SKY
    a[H // 2:] = ROAD
    a[H // 2 + 4: H // 2 + 10, 8 + seed: 24 + seed] = CAR
    return a


def photo(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def save(path: Path, array: np.ndarray, **kw: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kw)


def standard_layout(root: Path, n: int = 3) -> Path:
    for i in range(n):
        stem = f"aachen_{i:06d}_000019"
        save(root / "leftImg8bit" / "train" / "aachen" / f"{stem}_leftImg8bit.png", photo(i))
        save(root / "gtFine" / "train" / "aachen" / f"{stem}_gtFine_labelIds.png", label_ids(i))
        inst = label_ids(i).astype(np.uint16)
        inst[inst == CAR] = CAR * 1000 + i
        save(root / "gtFine" / "train" / "aachen" / f"{stem}_gtFine_instanceIds.png", inst)
    return root


def pix2pixhd_layout(root: Path, stems: list[str]) -> Path:
    for i, stem in enumerate(stems):
        save(root / "train_img" / f"{stem}_leftImg8bit.png", photo(i))
        save(root / "train_label" / f"{stem}_gtFine_labelIds.png", label_ids(i))
        save(root / "train_inst" / f"{stem}_gtFine_instanceIds.png", label_ids(i).astype(np.uint16) * 1000)
    return root


def vid2vid_layout(root: Path, n: int = 10) -> Path:
    for t in range(n):
        stem = f"aachen_000000_{t:06d}_leftImg8bit"
        save(root / "train_B" / "seq0000" / f"{stem}.jpg", photo(t), quality=95)
        save(root / "train_A" / "seq0000" / f"{stem}.png", label_ids(t % 3))
        save(root / "train_inst" / "seq0000" / f"{stem}.png", label_ids(t % 3))
    return root


def test_collapse_and_palette() -> None:
    ids = torch.tensor([0, 5, 7, 8, 9, 11, 17, 21, 23, 24, 26, 33, 255], dtype=torch.uint8)
    names = [CITYSCAPES_CLASSES[c] for c in collapse_ids(ids).tolist()]
    assert names == ["void", "void", "road", "sidewalk", "road", "building", "pole/sign", "vegetation", "sky",
                     "person", "vehicle", "vehicle", "void"]
    assert len(CITYSCAPES_PALETTE) == len(CITYSCAPES_CLASSES) == 9
    assert len(ID_COLORS) == 34 and ID_COLORS[ROAD].tolist() == [128, 64, 128]
    rgb = colorize(torch.tensor([[[1, 6]]]), CITYSCAPES_PALETTE)  # (1, 3, 1, 2)
    assert rgb[0, :, 0, 0].tolist() == [128, 64, 128] and rgb[0, :, 0, 1].tolist() == [70, 130, 180]
    with pytest.raises(ValueError, match="no colour"):
        colorize(torch.tensor([[[9]]]), CITYSCAPES_PALETTE)


def test_standard_layout_nearest_maps_and_instances(tmp_path: Path) -> None:
    pairs = read_standard_cityscapes(standard_layout(tmp_path / "cs"), size=16, cache_dir=tmp_path / "cache")
    assert len(pairs) == 3 and pairs.A.shape == (3, 1, 16, 16) and pairs.B.shape == (3, 3, 16, 16)
    assert set(pairs.A.unique().tolist()) == {1, 3, 6, 8}  # road, building, sky, vehicle: no class invented
    assert pairs.inst is not None and set(pairs.inst.unique().tolist()) >= {CAR * 1000, CAR * 1000 + 1}
    assert pairs.stems == ("aachen_000000_000019", "aachen_000001_000019", "aachen_000002_000019")
    assert pairs.A[0, 0, 0, 0] == 6 and pairs.A[0, 0, -1, -1] == 1  # sky on top, road at the bottom


def test_missing_label_is_a_clear_error(tmp_path: Path) -> None:
    root = standard_layout(tmp_path / "cs", n=2)
    next((root / "gtFine").rglob("*_labelIds.png")).unlink()
    with pytest.raises(DataError, match="no gtFine labelIds map"):
        read_standard_cityscapes(root, size=16)
    with pytest.raises(DataError, match="No \\*_leftImg8bit.png"):
        read_standard_cityscapes(tmp_path / "empty", size=16)


def test_pix2pixhd_and_vid2vid_layouts(tmp_path: Path) -> None:
    hd = read_pix2pixhd_cityscapes(pix2pixhd_layout(tmp_path / "hd", ["aachen_000000_000019"]), size=32)
    assert hd.frames == (-1,) and hd.inst is not None
    vid = read_vid2vid_cityscapes(vid2vid_layout(tmp_path / "vid"), size=(32, 16))
    assert vid.A.shape == (10, 1, 16, 32) and vid.frames == tuple(range(10))
    assert vid.groups == ("vid2vid/seq0000",) * 10


def test_load_joins_layouts_and_merges_the_shared_frame(tmp_path: Path) -> None:
    root = tmp_path / "realdata"
    pix2pixhd_layout(root / "pix2pixhd" / "cityscapes", ["aachen_000000_000005", "aachen_000001_000019"])
    vid2vid_layout(root / "vid2vid" / "Cityscapes", n=10)
    assert set(find_cityscapes(root)) == {"pix2pixhd", "vid2vid"}
    pairs = load_cityscapes(root, source="real", size=32, cache_dir=tmp_path / "cache", verbose=False)
    assert len(pairs) == 11  # aachen_000000_000005 is frame 5 of the sequence: kept once
    i = pairs.stems.index("aachen_000000_000005")
    assert pairs.groups[i] == "vid2vid/seq0000" and pairs.frames[i] == 5
    train, test = pairs.split(n_holdout_frames=3, n_holdout_stills=1, gap=1)
    seq_test = sorted(f for f, g in zip(test.frames, test.groups, strict=True) if g.startswith("vid2vid"))
    assert seq_test == [7, 8, 9]
    assert 6 not in [f for f, g in zip(train.frames, train.groups, strict=True) if g.startswith("vid2vid")]
    assert not set(train.stems) & set(test.stems)
    assert len(train) + len(test) == len(pairs) - 1  # the gap frame is in neither
    freqs = pairs.class_frequencies()
    assert sum(freqs.values()) == pytest.approx(1.0) and freqs["road"] > 0.3


def test_contiguous_holdout() -> None:
    assert contiguous_holdout(10, 3) == (list(range(7)), [7, 8, 9])
    assert contiguous_holdout(10, 2, gap=1, start=4) == ([0, 1, 2, 7, 8, 9], [4, 5])
    with pytest.raises(ValueError):
        contiguous_holdout(3, 3)


def test_pix2pix_tarball_layout(tmp_path: Path) -> None:
    folder = tmp_path / "cityscapes"
    for i in range(1, 4):
        ids = np.repeat(np.repeat(label_ids(i)[:, ::2], 8, 0), 8, 1)[:256, :256]  # big blocks survive JPEG
        colour = ID_COLORS[torch.from_numpy(ids).long()].numpy()
        big = np.concatenate([np.asarray(Image.fromarray(photo(i)).resize((256, 256))), colour], 1)
        save(folder / "val" / f"{i}.jpg", big, quality=95)
    pairs = read_pix2pix_cityscapes(folder, "val", size=32)
    assert pairs.stems == ("1", "2", "3") and pairs.A.shape == (3, 1, 32, 32)
    assert set(pairs.A.unique().tolist()) <= {1, 3, 6, 8}
    assert find_cityscapes(tmp_path, "val") == {"pix2pix": folder}


def test_unpaired_view_never_pairs(tmp_path: Path) -> None:
    pairs = read_standard_cityscapes(standard_layout(tmp_path / "cs", n=4), size=16)
    view = pairs.unpaired(seed=0)
    assert view.X.shape[0] + view.Y.shape[0] == 4 and view.X.shape[1] == 3
    perm = torch.randperm(4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(view.X, pairs.colour_maps(perm[:2])) and torch.equal(view.Y, pairs.B[perm[2:]])
    assert not set(perm[:2].tolist()) & set(perm[2:].tolist())  # maps and photos of different pairs
    x, y = view.batch(5, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 3, 16, 16)
    swapped = pairs.photo_to_label()
    assert swapped.A.shape == (4, 3, 16, 16) and swapped.B.shape == (4, 3, 16, 16)


def test_fallback_and_registry(tmp_path: Path) -> None:
    pairs = load_dataset("cityscapes", root=tmp_path, source="auto", cache_dir=tmp_path / "c", n_synthetic=6,
                         size=32, verbose=False)
    assert not pairs.is_real and len(pairs) == 6 and pairs.classes[1] == "facade"
    with pytest.raises(DataError, match="No Cityscapes pairs"):
        load_cityscapes(tmp_path, source="real", verbose=False)
    with pytest.raises(ValueError, match="layouts"):
        load_cityscapes(tmp_path, layouts=("nope",), verbose=False)


# --------------------------------------------------------------------------- files that do not fit: clear errors


def half_size(a: np.ndarray) -> np.ndarray:
    """The map at half its width and height, nearest-neighbour, as a badly exported map would be."""
    return a[::2, ::2].copy()


@pytest.mark.parametrize("which", ["label", "inst"])
def test_map_of_another_size_than_its_photo_is_an_error(tmp_path: Path, which: str) -> None:
    stem = "aachen_000001_000019"
    std = standard_layout(tmp_path / "cs", n=2)
    bad = std / "gtFine" / "train" / "aachen" / f"{stem}_gtFine_{'labelIds' if which == 'label' else 'instanceIds'}.png"
    save(bad, half_size(np.asarray(Image.open(bad))))  # 8-bit L or 16-bit I;16, as the real files
    kind = "label map" if which == "label" else "instance map"
    with pytest.raises(DataError, match=rf"The {kind} .*{stem}_gtFine_\w+\.png is 32x16, but its photo "
                                        rf".*{stem}_leftImg8bit\.png is 64x32\. A map must be the size of its photo"):
        read_standard_cityscapes(std, size=16)

    hd = pix2pixhd_layout(tmp_path / "hd", ["aachen_000000_000019", stem])
    bad = next((hd / f"train_{which}").glob(f"{stem}_*.png"))
    save(bad, half_size(np.asarray(Image.open(bad))))
    with pytest.raises(DataError, match=rf"train_{which}/{stem}_\w+\.png is 32x16, but its photo "
                                        rf".*train_img/{stem}_leftImg8bit\.png is 64x32"):
        read_pix2pixhd_cityscapes(hd, size=32)


def test_vid2vid_map_of_another_size_and_auto_does_not_fall_back(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_OFFLINE", "1")
    root = tmp_path / "realdata"
    vid = vid2vid_layout(root / "vid2vid" / "Cityscapes", n=3)
    bad = vid / "train_A" / "seq0000" / "aachen_000000_000002_leftImg8bit.png"
    save(bad, np.repeat(label_ids(2), 2, axis=1))  # 128x32 beside a 64x32 JPEG frame
    message = r"label map .*train_A/seq0000/aachen_000000_000002_leftImg8bit\.png is 128x32, but its photo " \
              r".*train_B/seq0000/aachen_000000_000002_leftImg8bit\.jpg is 64x32"
    with pytest.raises(DataError, match=message):
        read_vid2vid_cityscapes(vid, size=(32, 16))
    # a damaged real file stops GAN_DATA=auto too, as every loader does: the stand-in would hide it
    with pytest.raises(DataError, match=message):
        load_cityscapes(root, source="auto", size=32, verbose=False)


def test_label_ids_outside_0_33_are_an_error(tmp_path: Path) -> None:
    stem = "aachen_000001_000019"
    ids = label_ids(1)
    ids[0, 0], ids[-1, -1] = 34, 200  # two stray pixels; a 32-wide resize never samples column 0
    hd = pix2pixhd_layout(tmp_path / "hd", ["aachen_000000_000019", stem])
    save(hd / "train_label" / f"{stem}_gtFine_labelIds.png", ids)
    match = (r"holds label id\(s\) 34, 200 in 2 of 2,048 pixels, outside Cityscapes' labelIds 0\.\.33\. Label maps "
             r"hold the labelIds of cityscapesScripts' labels\.py")
    with pytest.raises(DataError, match=rf"train_label/{stem}_gtFine_labelIds\.png {match}"):
        read_pix2pixhd_cityscapes(hd, size=32, cache_dir=tmp_path / "cache")
    std = standard_layout(tmp_path / "cs", n=2)
    save(std / "gtFine" / "train" / "aachen" / f"{stem}_gtFine_labelIds.png", ids)
    with pytest.raises(DataError, match=rf"aachen/{stem}_gtFine_labelIds\.png {match}"):
        read_standard_cityscapes(std, size=16)


def test_a_trainids_map_is_named_as_one(tmp_path: Path) -> None:
    stem = "aachen_000000_000019"
    hd = pix2pixhd_layout(tmp_path / "hd", [stem])
    train_ids = np.select([label_ids(0) == SKY, label_ids(0) == ROAD, label_ids(0) == CAR], [10, 0, 13], 2)
    train_ids[:4] = 255  # trainIds: 0..18, and 255 for what is not scored
    save(hd / "train_label" / f"{stem}_gtFine_labelIds.png", train_ids.astype(np.uint8))
    with pytest.raises(DataError, match=r"holds label id\(s\) 255 in 256 of 2,048 pixels, .* looks like a "
                                        r"trainIds map \(ids 0\.\.18, 255 = ignore\): use the \*_gtFine_labelIds"):
        read_pix2pixhd_cityscapes(hd, size=32)


def test_a_cache_made_before_the_id_check_is_not_reused(tmp_path: Path) -> None:
    from gan_utils.data.images import image_files, read_resized

    stem = "aachen_000000_000019"
    hd = pix2pixhd_layout(tmp_path / "hd", [stem])
    ids = label_ids(0)
    ids[0, 0] = 99
    save(hd / "train_label" / f"{stem}_gtFine_labelIds.png", ids)
    read_resized(image_files(hd / "train_label"), (32, 32), "label", tmp_path / "cache")  # unchecked, cached
    with pytest.raises(DataError, match="label id\\(s\\) 99 in 1 of"):
        read_pix2pixhd_cityscapes(hd, size=32, cache_dir=tmp_path / "cache")
