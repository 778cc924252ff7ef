"""CIFAR-10 loader: torchvision's pickled batches, JPEG class folders, the one-class subset and the offline path."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_utils.data.base import DataError
from gan_utils.data.cifar import (
    CIFAR10_CLASSES,
    find_cifar_batches,
    load_cifar10,
    read_cifar_batches,
    read_image_folder,
)
from gan_utils.data.synthetic.shapes import SHAPE_CLASSES


def write_batch(path: Path, data: np.ndarray, labels: np.ndarray, name: str) -> None:
    """One batch file as in cifar-10-batches-py: a pickled dict with bytes keys, (N, 3072) uint8 rows."""
    entry = {b"batch_label": name.encode(), b"labels": [int(v) for v in labels], b"data": data,
             b"filenames": [f"img_{i}.png".encode() for i in range(len(labels))]}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(entry, f, protocol=2)


def make_batches(root: Path, n: int = 4, train: bool = True, test: bool = True,
                 seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Tiny CIFAR-10 batches under root/cifar-10-batches-py, with batches.meta; returns what was written."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    names = ([f"data_batch_{i}" for i in range(1, 6)] if train else []) + (["test_batch"] if test else [])
    written = {}
    for j, name in enumerate(names):
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = (np.arange(n) + j) % 10
        write_batch(folder / name, data, labels, name)
        written[name] = data, labels
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"num_cases_per_batch": n, b"label_names": [c.encode() for c in CIFAR10_CLASSES],
                     b"num_vis": 3072}, f, protocol=2)
    return written


def pixel_value(cls: int, i: int) -> tuple[int, int, int]:
    return (20 * cls + 10, 200 - 10 * i, 60)


def make_folders(root: Path, split: str = "test", per_class: int = 3, ext: str = "jpg",
                 classes: tuple[str, ...] = CIFAR10_CLASSES, size: int = 32) -> Path:
    """Flat-colour images under root/cifar10/<split>/<class>/NNNN.<ext>, each colour coding its class and index."""
    base = root / "cifar10" / split
    for name in classes:
        (base / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.new("RGB", (size, size), pixel_value(CIFAR10_CLASSES.index(name), i)).save(
                base / name / f"{i:04d}.{ext}", quality=95)
    return base


def tree(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


# --------------------------------------------------------------------------- pickled batches


def test_reads_train_batches_in_order(tmp_path: Path) -> None:
    written = make_batches(tmp_path, n=4)
    data = load_cifar10(tmp_path, source="real", verbose=False)
    assert data.is_real and len(data) == 20 and data.shape == (3, 32, 32)
    assert data.images.dtype == torch.uint8 and data.labels.dtype == torch.int64
    expected = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)]).reshape(-1, 3, 32, 32)
    assert torch.equal(data.images, torch.from_numpy(expected))
    labels = np.concatenate([written[f"data_batch_{i}"][1] for i in range(1, 6)])
    assert torch.equal(data.labels, torch.from_numpy(labels))
    assert data.classes == CIFAR10_CLASSES
    assert "train split" in data.description and "test split" not in data.description


def test_rows_are_red_green_blue_planes(tmp_path: Path) -> None:
    row = np.zeros((1, 3072), np.uint8)
    row[0, :1024], row[0, 1024:2048], row[0, 2048:] = 10, 20, 30
    row[0, 5] = 99  # red plane, row 0, column 5
    row[0, 1024 + 32 * 2 + 1] = 77  # green plane, row 2, column 1
    write_batch(tmp_path / "test_batch", row, np.array([3]), "testing batch 1 of 1")
    images, labels = read_cifar_batches(tmp_path)
    assert images.shape == (1, 3, 32, 32) and images.dtype == np.uint8 and labels.tolist() == [3]
    assert images[0, 0, 0, 5] == 99 and images[0, 1, 2, 1] == 77 and images[0, 2].max() == 30


def test_falls_back_to_test_batch(tmp_path: Path) -> None:
    written = make_batches(tmp_path, n=6, train=False)
    assert find_cifar_batches(tmp_path / "cifar-10-batches-py")[0] == "test"
    data = load_cifar10(tmp_path, source="auto", verbose=False)
    assert data.is_real and len(data) == 6
    assert torch.equal(data.images, torch.from_numpy(written["test_batch"][0].reshape(-1, 3, 32, 32)))
    assert "test split" in data.description and "data_batch_1..5 not found" in data.description
    assert "REAL DATA" in data.banner() and "test split" in data.banner()


def test_partial_train_batches_are_named(tmp_path: Path) -> None:
    make_batches(tmp_path, n=2)
    (tmp_path / "cifar-10-batches-py" / "data_batch_4").unlink()
    data = load_cifar10(tmp_path, source="real", verbose=False)
    assert len(data) == 8 and "4 of 5 batches" in data.description


def test_wrong_row_length_is_a_clear_error(tmp_path: Path) -> None:
    write_batch(tmp_path / "data_batch_1", np.zeros((2, 1024), np.uint8), np.array([0, 1]), "b")
    with pytest.raises(DataError, match="3072"):
        read_cifar_batches(tmp_path)


def test_label_count_and_range_are_checked(tmp_path: Path) -> None:
    write_batch(tmp_path / "data_batch_1", np.zeros((3, 3072), np.uint8), np.array([0, 1]), "b")
    with pytest.raises(DataError, match="2 labels for 3 images"):
        read_cifar_batches(tmp_path)
    write_batch(tmp_path / "data_batch_1", np.zeros((2, 3072), np.uint8), np.array([0, 12]), "b")
    with pytest.raises(DataError, match="outside 0..9"):
        read_cifar_batches(tmp_path)


def test_truncated_batch_says_download_again(tmp_path: Path) -> None:
    make_batches(tmp_path, n=3)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_2"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="download CIFAR-10 again"):
        load_cifar10(tmp_path, source="real", verbose=False)


class _Boom:
    def __reduce__(self) -> tuple:
        return (os.system, ("echo should-not-run",))


def test_pickle_with_code_is_refused(tmp_path: Path) -> None:
    with open(tmp_path / "data_batch_1", "wb") as f:
        pickle.dump({b"data": _Boom(), b"labels": [0]}, f, protocol=2)
    with pytest.raises(DataError, match="refusing to load"):
        read_cifar_batches(tmp_path)


def test_cifar100_batch_is_named(tmp_path: Path) -> None:
    with open(tmp_path / "data_batch_1", "wb") as f:
        pickle.dump({b"data": np.zeros((1, 3072), np.uint8), b"fine_labels": [0]}, f, protocol=2)
    with pytest.raises(DataError, match="CIFAR-100"):
        read_cifar_batches(tmp_path)


# --------------------------------------------------------------------------- class folders


def test_reads_jpeg_class_folders_in_class_order(tmp_path: Path) -> None:
    make_folders(tmp_path, "test", per_class=3)
    data = load_cifar10(tmp_path, source="real", verbose=False)
    assert data.is_real and len(data) == 30 and data.shape == (3, 32, 32) and data.images.dtype == torch.uint8
    assert data.labels.tolist() == [c for c in range(10) for _ in range(3)]
    want = torch.tensor([pixel_value(c, i) for c in range(10) for i in range(3)], dtype=torch.float32)
    got = data.images.float().mean((2, 3))  # (30, 3) flat colours, up to JPEG rounding
    assert (got - want).abs().max() < 4
    assert "test split" in data.description and "JPEG" in data.description
    assert "slightly different from the binary release" in data.description
    assert "test split" in data.banner()


def test_prefers_train_folders_over_test(tmp_path: Path) -> None:
    make_folders(tmp_path, "test", per_class=1)
    make_folders(tmp_path, "train", per_class=2)
    data = load_cifar10(tmp_path, source="real", verbose=False)
    assert len(data) == 20 and "train split" in data.description and "no train/" not in data.description


def test_prefers_batches_over_folders(tmp_path: Path) -> None:
    make_folders(tmp_path, "train", per_class=1)
    make_batches(tmp_path, n=2, train=False)
    data = load_cifar10(tmp_path, source="real", verbose=False)
    assert len(data) == 2 and "cifar-10-batches-py" in data.description


def test_read_image_folder_png_exact_and_sorted(tmp_path: Path) -> None:
    base = tmp_path / "imgs"
    for name, colour in (("zebra", (1, 2, 3)), ("ant", (200, 100, 50))):
        (base / name).mkdir(parents=True)
        Image.new("RGB", (8, 8), colour).save(base / name / "b.png")
        Image.new("L", (8, 8), 128).save(base / name / "a.png")  # greyscale becomes RGB
    (base / "ant" / "notes.txt").write_text("not an image")
    images, labels, names = read_image_folder(base, size=8)
    assert names == ("ant", "zebra") and labels.tolist() == [0, 0, 1, 1]
    assert images.shape == (4, 3, 8, 8) and images.dtype == torch.uint8
    assert images[0].unique().tolist() == [128] and images[1, :, 0, 0].tolist() == [200, 100, 50]
    assert images[3, :, 0, 0].tolist() == [1, 2, 3]


def test_wrong_image_size_names_the_file(tmp_path: Path) -> None:
    base = make_folders(tmp_path, "test", per_class=1)
    Image.new("RGB", (40, 30), (9, 9, 9)).save(base / "cat" / "0005.jpg")
    with pytest.raises(DataError, match=r"0005\.jpg is 40x30, expected 32x32"):
        load_cifar10(tmp_path, source="real", verbose=False)
    images, labels, _ = read_image_folder(base, size=32, resize=True)
    assert images.shape == (11, 3, 32, 32) and labels.tolist().count(3) == 2


def test_missing_class_folder_is_a_clear_error(tmp_path: Path) -> None:
    make_folders(tmp_path, "test", per_class=1, classes=("cat", "dog"))
    with pytest.raises(DataError, match="airplane"):
        load_cifar10(tmp_path, source="real", verbose=False)
    data = load_cifar10(tmp_path, source="real", classes=["dog"], verbose=False)
    assert data.labels.tolist() == [5]


# --------------------------------------------------------------------------- classes, source, offline


def test_one_class_subset_real_batches_and_folders(tmp_path: Path) -> None:
    make_batches(tmp_path / "a", n=20)
    data = load_cifar10(tmp_path / "a", source="real", classes=["horse"], verbose=False)
    assert len(data) == 10 and set(data.labels.tolist()) == {7} and data.classes == CIFAR10_CLASSES
    assert "only class horse" in data.description
    make_folders(tmp_path / "b", per_class=2)
    data = load_cifar10(tmp_path / "b", source="real", classes=["horse", "cat"], verbose=False)
    assert data.labels.tolist() == [3, 3, 7, 7]


def test_one_class_subset_synthetic(tmp_path: Path) -> None:
    data = load_cifar10(tmp_path, source="synthetic", n_synthetic=100, classes=["horse"],
                        cache_dir=tmp_path / "cache", verbose=False)
    assert not data.is_real and len(data) == 10 and set(data.labels.tolist()) == {7}
    assert SHAPE_CLASSES[7] in data.description and "horse" in data.description


def test_unknown_class_lists_valid_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="airplane.*truck"):
        load_cifar10(tmp_path, classes=["unicorn"], verbose=False)


def test_bad_source_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'auto', 'real' or 'synthetic'"):
        load_cifar10(tmp_path, source="imagenet", verbose=False)


def test_real_without_files_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="GAN_DATA=synthetic") as err:
        load_cifar10(tmp_path, source="real", verbose=False)
    assert "no network" in str(err.value) and "cifar-10-batches-py" in str(err.value)


def test_auto_offline_falls_back_to_the_stand_in(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = load_cifar10(tmp_path / "data", source="auto", n_synthetic=50, cache_dir=tmp_path / "cache")
    banner = capsys.readouterr().out
    assert "OFFLINE STAND-IN" in banner and "NOT CIFAR-10" in banner
    assert not data.is_real and len(data) == 50 and data.shape == (3, 32, 32) and data.classes == SHAPE_CLASSES
    assert "no network" in data.description
    assert not (tmp_path / "data").exists()  # nothing is created in the data root when offline
    assert list((tmp_path / "cache").glob("synthetic_shapes_50_0_v*.npz"))


def test_read_only_root_is_never_written(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    make_batches(root, n=2, train=False)
    make_folders(root, "test", per_class=1)
    before = tree(root)
    dirs = [root, *[p for p in root.rglob("*") if p.is_dir()]]
    for d in dirs:
        d.chmod(0o555)
    try:
        load_cifar10(root, source="real", verbose=False)
        load_cifar10(root, source="auto", classes=["cat"], verbose=False)
        load_cifar10(root, source="synthetic", n_synthetic=20, cache_dir=tmp_path / "cache", verbose=False)
    finally:
        for d in dirs:
            d.chmod(0o755)
    assert tree(root) == before


def test_batches_are_in_tanh_range(tmp_path: Path) -> None:
    make_batches(tmp_path, n=4)
    data = load_cifar10(tmp_path, source="real", verbose=False)
    x, y = data.batch(8, generator=torch.Generator().manual_seed(0))
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32 and y.shape == (8,)
    assert x.min() >= -1 and x.max() <= 1


def test_reads_numpy1_pickles_with_str_keys(tmp_path: Path) -> None:
    # The official batches were pickled by Python 2 and numpy 1: str keys and numpy.core.multiarray globals.
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    raw = pickle.dumps({"data": data, "labels": [4, 9]}, protocol=2)
    raw = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray\n_reconstruct" in raw
    (tmp_path / "test_batch").write_bytes(raw)
    images, labels = read_cifar_batches(tmp_path)
    assert np.array_equal(images, data.reshape(2, 3, 32, 32)) and labels.tolist() == [4, 9]
