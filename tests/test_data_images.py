"""Image folders and the resize cache: photos bicubic, label and instance maps nearest, read once, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_utils.data import images as images_module
from gan_utils.data.base import DataError
from gan_utils.data.images import image_files, paired_set_from_folders, read_image, read_resized

IDS = (0, 7, 33)


def label_map(w: int = 64, h: int = 32) -> np.ndarray:
    """Vertical bands of the ids 0, 7 and 33, with a checkerboard of 7/33 in the last band (every edge sharp)."""
    a = np.zeros((h, w), np.uint8)
    a[:, w // 3:] = 7
    a[:, 2 * w // 3:] = 33
    yy, xx = np.mgrid[:h, :w]
    a[(xx >= 5 * w // 6) & ((xx + yy) % 2 == 0)] = 7
    return a


def photo(w: int = 64, h: int = 32, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def write(path: Path, array: np.ndarray, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kw)
    return path


def cityscapes_like(root: Path, n: int = 3, w: int = 64, h: int = 32) -> tuple[Path, Path, Path]:
    """train_img (RGB PNG), train_label (L PNG) and train_inst (16-bit I;16 PNG) folders, as pix2pixHD lays out."""
    for i in range(n):
        stem = f"aachen_{i:06d}_000019"
        write(root / "train_img" / f"{stem}_leftImg8bit.png", photo(w, h, seed=i))
        write(root / "train_label" / f"{stem}_gtFine_labelIds.png", label_map(w, h))
        inst = label_map(w, h).astype(np.uint16) * 1000 + np.uint16(i)
        write(root / "train_inst" / f"{stem}_gtFine_instanceIds.png", inst)
    return root / "train_img", root / "train_label", root / "train_inst"


# --------------------------------------------------------------------------- folders


def test_image_files_sorted_and_filtered(tmp_path: Path) -> None:
    for name in ("b.png", "a.JPG", "c.jpeg"):
        write(tmp_path / name, photo(4, 4))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in image_files(tmp_path)] == ["a.JPG", "b.png", "c.jpeg"]


def test_missing_empty_and_file_folders_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere does not exist. Check the path"):
        image_files(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match=r"empty has no \.png/\.jpg/\.jpeg images. Put the data set's images there"):
        image_files(tmp_path / "empty")
    write(tmp_path / "x.png", photo(4, 4))
    with pytest.raises(DataError, match="is a file, not a folder"):
        image_files(tmp_path / "x.png")


# --------------------------------------------------------------------------- one image


def test_label_ids_are_never_interpolated(tmp_path: Path) -> None:
    path = write(tmp_path / "label.png", label_map())
    for size in ((16, 8), (50, 20), (128, 64), (37, 13)):
        ids = read_image(path, "label", size)
        assert ids.shape == (1, size[1], size[0]) and ids.dtype == np.uint8
        assert set(np.unique(ids).tolist()) == set(IDS), size
    # the trap this avoids: a bicubic resize invents ids between the classes
    smooth = np.asarray(Image.fromarray(label_map()).resize((16, 8), Image.Resampling.BICUBIC))
    assert set(np.unique(smooth).tolist()) - set(IDS)


def test_palette_and_16_bit_maps(tmp_path: Path) -> None:
    palette = write(tmp_path / "p.png", np.asarray(Image.fromarray(label_map()).convert("P")))
    assert set(np.unique(read_image(palette, "label", (16, 8))).tolist()) == set(IDS)
    inst = label_map().astype(np.uint16) * 1000 + 1
    path = write(tmp_path / "inst.png", inst)
    assert Image.open(path).mode == "I;16"
    out = read_image(path, "instance", (16, 8))
    assert out.dtype == np.int32 and set(np.unique(out).tolist()) == {1, 7001, 33001}
    small = write(tmp_path / "small16.png", label_map().astype(np.uint16))
    assert read_image(small, "label").dtype == np.uint8  # 16-bit file, ids that fit a label map
    with pytest.raises(DataError, match=r"ids 1\.\.33001, outside the uint8 range of label maps. Read it as "
                                        r"kind='instance'"):
        read_image(path, "label")


def test_colour_label_map_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "colour.png", photo(8, 8))
    with pytest.raises(DataError, match="is a RGB image, but label maps hold one channel of ids"):
        read_image(path, "label")


def test_photos_are_rgb_and_resized_smoothly(tmp_path: Path) -> None:
    flat = write(tmp_path / "flat.png", np.full((32, 64, 3), (10, 120, 250), np.uint8))
    out = read_image(flat, "photo", (16, 8))
    assert out.shape == (3, 8, 16) and out.dtype == np.uint8
    assert out[:, 0, 0].tolist() == [10, 120, 250] and (out == out[:, :1, :1]).all()
    grey = write(tmp_path / "grey.png", np.full((8, 8), 77, np.uint8))
    assert read_image(grey, "photo").shape == (3, 8, 8) and (read_image(grey, "photo") == 77).all()
    jpeg = write(tmp_path / "frame.jpg", np.full((64, 128, 3), 200, np.uint8), quality=95)
    out = read_image(jpeg, "photo", (32, 16))  # decoded at a reduced scale
    assert out.shape == (3, 16, 32) and abs(int(out.mean()) - 200) <= 2
    stripes = np.zeros((32, 64, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: an antialiased downscale averages them to grey
    out = read_image(write(tmp_path / "stripes.png", stripes), "photo", (16, 8))
    assert 100 < out.mean() < 155 and out.std() < 20


def test_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"this is not a PNG")
    with pytest.raises(DataError, match=r"garbage\.png could not be read as an image .* Delete or replace it"):
        read_image(garbage, "photo")
    good = write(tmp_path / "cut.png", photo(64, 64))
    good.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(DataError, match=r"cut\.png could not be read as an image"):
        read_image(good, "photo", (8, 8))
    with pytest.raises(DataError, match="could not be read as an image"):
        read_image(tmp_path / "missing.png", "label")
    with pytest.raises(ValueError, match="kind='depth'"):
        read_image(good, "depth")


# --------------------------------------------------------------------------- the resize cache


def test_read_resized_stacks_and_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    img_dir, label_dir, inst_dir = cityscapes_like(tmp_path / "data")
    cache = tmp_path / "cache"
    photos = read_resized(image_files(img_dir), (32, 16), "photo", cache)
    labels = read_resized(image_files(label_dir), (32, 16), "label", cache)
    inst = read_resized(image_files(inst_dir), (32, 16), "instance", cache)
    assert photos.shape == (3, 3, 16, 32) and photos.dtype == np.uint8
    assert labels.shape == (3, 1, 16, 32) and labels.dtype == np.uint8 and set(np.unique(labels)) == set(IDS)
    assert inst.dtype == np.int32 and set(np.unique(inst[2]).tolist()) == {2, 7002, 33002}
    assert len(list(cache.glob("resized_*.npz"))) == 3 and not list(cache.glob("*.tmp"))

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit must not read the source images")

    monkeypatch.setattr(images_module, "read_image", no_reading)
    again = read_resized(image_files(img_dir), (32, 16), "photo", cache)
    assert np.array_equal(again, photos) and again.dtype == np.uint8
    assert np.array_equal(read_resized(image_files(label_dir), (32, 16), "label", cache), labels)
    with pytest.raises(AssertionError, match="must not read"):  # another size is another cache entry
        read_resized(image_files(img_dir), (16, 8), "photo", cache)


def test_a_changed_source_file_is_read_again(tmp_path: Path) -> None:
    img_dir, _, _ = cityscapes_like(tmp_path / "data", n=2)
    cache = tmp_path / "cache"
    first = read_resized(image_files(img_dir), (32, 16), "photo", cache)
    path = image_files(img_dir)[1]
    write(path, np.zeros((32, 64, 3), np.uint8))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    second = read_resized(image_files(img_dir), (32, 16), "photo", cache)
    assert np.array_equal(second[0], first[0]) and second[1].max() == 0
    assert len(list(cache.glob("resized_photo_*.npz"))) == 2


def test_no_cache_dir_reads_every_time(tmp_path: Path) -> None:
    img_dir, _, _ = cityscapes_like(tmp_path / "data", n=1)
    out = read_resized(image_files(img_dir), (32, 16), "photo")
    assert out.shape == (1, 3, 16, 32) and sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    with pytest.raises(ValueError, match="positive"):
        read_resized(image_files(img_dir), (0, 16), "photo")


# --------------------------------------------------------------------------- paired folders


def test_paired_set_from_folders(tmp_path: Path) -> None:
    img_dir, label_dir, inst_dir = cityscapes_like(tmp_path / "data")
    data = paired_set_from_folders(label_dir, img_dir, (32, 16), "Cityscapes", label_nc=35, inst_dir=inst_dir,
                                   cache_dir=tmp_path / "cache")
    assert len(data) == 3 and data.A.shape == (3, 1, 16, 32) and data.B.shape == (3, 3, 16, 32)
    assert data.inst is not None and data.inst.dtype == torch.int32
    assert "3 pairs train_label -> train_img in" in data.description and "resized to 32x16" in data.description
    batch = data.batch(2, generator=torch.Generator().manual_seed(0))
    assert batch.a.dtype == torch.int64 and set(batch.a.unique().tolist()) <= set(IDS)
    assert batch.inst is not None and torch.equal(batch.inst // 1000, batch.a)  # maps stay aligned


def test_paired_folders_with_different_counts(tmp_path: Path) -> None:
    img_dir, label_dir, _ = cityscapes_like(tmp_path / "data")
    image_files(img_dir)[0].unlink()
    with pytest.raises(DataError, match=r"different numbers of images \(3 in .*train_label, 2 in .*train_img\)"):
        paired_set_from_folders(label_dir, img_dir, (32, 16), "Cityscapes", label_nc=35)
    with pytest.raises(DataError, match="does not exist"):
        paired_set_from_folders(label_dir, tmp_path / "data" / "train_photos", (32, 16), "Cityscapes")


def test_paired_maps_of_another_size_than_their_photo(tmp_path: Path) -> None:
    img_dir, label_dir, inst_dir = cityscapes_like(tmp_path / "data")
    bad = image_files(inst_dir)[2]
    write(bad, label_map(32, 16).astype(np.uint16) * 1000)  # 16-bit, as the instanceIds files
    with pytest.raises(DataError, match=r"The instance map .*train_inst/aachen_000002_000019_gtFine_instanceIds\.png "
                                        r"is 32x16, but its photo .*train_img/aachen_000002_000019_leftImg8bit\.png "
                                        r"is 64x32\. A map must be the size of its photo, pixel for pixel"):
        paired_set_from_folders(label_dir, img_dir, (32, 16), "Cityscapes", label_nc=35, inst_dir=inst_dir)
    for path in image_files(label_dir)[:2]:
        write(path, label_map(128, 64))
    with pytest.raises(DataError, match=r"The label map .* is 128x64, but its photo .* is 64x32 \(2 more file\(s\) "
                                        r"differ likewise\)"):
        paired_set_from_folders(label_dir, img_dir, (32, 16), "Cityscapes", label_nc=35, inst_dir=inst_dir)
    # images to images (an edges -> photos set) are both resized as they are: no size rule
    data = paired_set_from_folders(label_dir, img_dir, (32, 16), "edges", label_nc=0)
    assert data.A.shape == (3, 3, 16, 32)


def test_an_id_check_sees_the_full_size_map_and_keys_the_cache(tmp_path: Path) -> None:
    path = write(tmp_path / "label.png", label_map())
    seen: list[tuple[int, ...]] = []

    def record(p: Path, ids: np.ndarray) -> None:
        seen.append(ids.shape)

    assert read_image(path, "label", (16, 8), check=record).shape == (1, 8, 16) and seen == [(32, 64)]
    cache = tmp_path / "cache"
    read_resized([path], (16, 8), "label", cache)
    read_resized([path], (16, 8), "label", cache, check=record)
    assert len(list(cache.glob("resized_label_*.npz"))) == 2 and len(seen) == 2  # checked, then cached apart
    read_resized([path], (16, 8), "label", cache, check=record)
    assert len(seen) == 2  # a checked stack is reused
