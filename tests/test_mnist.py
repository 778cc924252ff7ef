from pathlib import Path

import numpy as np
import pytest
import torch

from gan_utils.data.base import DataError
from gan_utils.data.mnist import load_mnist, read_idx
from tests.conftest import make_mnist, write_idx


@pytest.mark.parametrize("gz", [True, False])
def test_reads_idx_files_through_the_loader(tmp_path: Path, gz: bool) -> None:
    images, labels = make_mnist(tmp_path, "train", n=30, gz=gz)
    data = load_mnist(tmp_path, source="real", verbose=False)
    assert data.is_real and len(data) == 30 and data.shape == (1, 28, 28)
    assert data.images.dtype == torch.uint8
    assert torch.equal(data.images[:, 0], torch.from_numpy(images))
    assert torch.equal(data.labels, torch.from_numpy(labels.astype(np.int64)))
    assert "train split" in data.description


def test_uses_the_test_split_when_train_images_are_missing(tmp_path: Path) -> None:
    make_mnist(tmp_path, "t10k", n=12)
    write_idx(tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte", np.zeros(60, np.uint8))  # labels only
    data = load_mnist(tmp_path, source="auto", verbose=False)
    assert data.is_real and len(data) == 12
    assert "10k test split" in data.description and "train images not found" in data.description
    assert "REAL DATA" in data.banner() and "10k test split" in data.banner()


def test_batches_are_in_tanh_range_and_seeded(tmp_path: Path) -> None:
    make_mnist(tmp_path, "train", n=50)
    data = load_mnist(tmp_path, source="real", verbose=False)
    x, y = data.batch(16, generator=torch.Generator().manual_seed(0))
    assert x.shape == (16, 1, 28, 28) and x.dtype == torch.float32 and y.shape == (16,)
    assert x.min() >= -1 and x.max() <= 1
    x2, _ = data.batch(16, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, x2)
    # pixel value v maps to v / 127.5 - 1
    assert torch.allclose(data.to_float(slice(0, 1)), data.images[:1].float() / 127.5 - 1)


def test_real_without_files_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="GAN_DATA=synthetic"):
        load_mnist(tmp_path, source="real", verbose=False)


def test_read_only_root_is_never_written(tmp_path: Path) -> None:
    make_mnist(tmp_path, "t10k", n=10)
    raw = tmp_path / "MNIST" / "raw"
    before = sorted(p.name for p in raw.iterdir())
    raw.chmod(0o555)
    try:
        load_mnist(tmp_path, source="real", verbose=False)
    finally:
        raw.chmod(0o755)
    assert sorted(p.name for p in raw.iterdir()) == before


def test_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    path = write_idx(tmp_path / "x-idx3-ubyte", np.zeros((4, 28, 28), np.uint8), gz=False)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_idx(path)
    path.write_bytes(b"\x12\x34garbage")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)


def test_wrong_image_size_is_a_clear_error(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((3, 32, 32), np.uint8))
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="expected 28x28"):
        load_mnist(tmp_path, source="real", verbose=False)


def test_label_count_mismatch(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="5 labels for 3 images"):
        load_mnist(tmp_path, source="real", verbose=False)


def test_split_holds_out_a_fixed_part(tmp_path: Path) -> None:
    make_mnist(tmp_path, "train", n=40)
    data = load_mnist(tmp_path, source="real", verbose=False)
    train, test = data.split(10, seed=1)
    train2, test2 = data.split(10, seed=1)
    assert len(train) == 30 and len(test) == 10 and torch.equal(test.images, test2.images)
    seen = {tuple(x.flatten().tolist()) for x in train.images}
    assert not any(tuple(x.flatten().tolist()) in seen for x in test.images)
