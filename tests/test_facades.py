"""CMP facades: a tiny tarball in pix2pix's layout, downloaded through a fake URL; the procedural stand-in;
a learner's own trainA/trainB folders."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import gan_utils.data.facades as facades
from gan_utils.data import DataError, load_dataset, unpaired_set_from_folders
from gan_utils.data.facades import (
    FACADE_CLASSES,
    FACADE_PALETTE,
    download_facades,
    load_facades,
    read_facades,
    synthetic_facade_pairs,
)
from gan_utils.data.synthetic.facades import BALCONY, DOOR, FACADE, WINDOW, synthetic_facades

SIDE = 64


def facade_ids(seed: int) -> np.ndarray:
    """Blocks of wall, windows and a door, big enough to survive JPEG."""
    a = np.full((SIDE, SIDE), FACADE, np.uint8)
    a[8:24, 8 + seed: 24 + seed] = WINDOW
    a[8:24, 40:56] = WINDOW
    a[40:, 24:40] = DOOR
    return a


def tarball_jpg(seed: int, palette: torch.Tensor = FACADE_PALETTE) -> bytes:
    photo = np.random.default_rng(seed).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)
    colour = palette[torch.from_numpy(facade_ids(seed)).long()].numpy()
    buf = io.BytesIO()
    Image.fromarray(np.concatenate([photo, colour], 1)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def make_tarball(path: Path, counts: dict[str, int], palette: torch.Tensor = FACADE_PALETTE) -> bytes:
    with tarfile.open(path, "w:gz") as tf:
        for split, n in counts.items():
            for i in range(1, n + 1):
                data = tarball_jpg(i, palette)
                info = tarfile.TarInfo(f"facades/{split}/{i}.jpg")
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path.read_bytes()


def fake_opener(payload: bytes):  # noqa: ANN201 - a urlopen stand-in
    def opener(url: str) -> io.BytesIO:
        assert url.endswith("facades.tar.gz")
        return io.BytesIO(payload)

    return opener


@pytest.fixture(autouse=True)
def tarballs_of_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tarballs made here are small; the size check on record has tests of its own below."""
    monkeypatch.setattr(facades, "FACADES_SIZE", None)


def test_download_unpack_and_read_the_tarball(tmp_path: Path) -> None:
    payload = make_tarball(tmp_path / "made.tar.gz", {"train": 3, "val": 2, "test": 1})
    root = tmp_path / "data"
    assert download_facades(root, opener=fake_opener(payload)) is None
    assert sorted(p.name for p in (root / "facades").iterdir()) == ["test", "train", "val"]
    pairs = read_facades(root / "facades", "train", size=32, cache_dir=tmp_path / "cache")
    assert pairs.is_real and len(pairs) == 3 and pairs.label_nc == len(FACADE_CLASSES) == 12
    assert pairs.A.shape == (3, 1, 32, 32) and pairs.B.shape == (3, 3, 32, 32)
    assert set(pairs.A.unique().tolist()) == {FACADE, WINDOW, DOOR}  # the right half is the label map
    expected = torch.from_numpy(facade_ids(1)[::2, ::2].copy())
    assert (pairs.A[0, 0] == expected).float().mean() > 0.95
    # B is the left half, the photo, not the colour map
    photo = np.random.default_rng(1).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)
    small = torch.from_numpy(np.array(Image.fromarray(photo).resize((32, 32), Image.Resampling.BICUBIC)))
    colour = FACADE_PALETTE[pairs.A[0, 0].long()]  # (32, 32, 3)
    b = pairs.B[0].permute(1, 2, 0).float()
    assert (b - small.float()).abs().mean() < 0.5 * (b - colour.float()).abs().mean()
    val = load_facades(root, source="real", split="val", size=32, verbose=False)
    assert len(val) == 2 and "the tarball's val split has 100" in val.description


def test_directions_and_unpaired_view(tmp_path: Path) -> None:
    make_tarball(tmp_path / "t.tar.gz", {"train": 4})
    with tarfile.open(tmp_path / "t.tar.gz") as tf:
        tf.extractall(tmp_path, filter="data")
    pairs = read_facades(tmp_path / "facades", "train", size=32)
    photo_to_label = pairs.photo_to_label()
    assert torch.equal(photo_to_label.A, pairs.B)
    assert photo_to_label.B[0, :, 10, 20].tolist() == FACADE_PALETTE[int(pairs.A[0, 0, 10, 20])].tolist()
    view = pairs.unpaired(seed=1)
    assert len(view.X) == 2 and len(view.Y) == 2 and view.domains == ("label map", "photo")


def test_wrong_palette_and_wrong_shape_are_errors(tmp_path: Path) -> None:
    shuffled = FACADE_PALETTE.roll(1, 1) // 3
    make_tarball(tmp_path / "t.tar.gz", {"train": 2}, palette=shuffled)
    with tarfile.open(tmp_path / "t.tar.gz") as tf:
        tf.extractall(tmp_path, filter="data")
    with pytest.raises(DataError, match="not pix2pix's facade maps"):
        read_facades(tmp_path / "facades", "train", size=32)
    square = tmp_path / "sq" / "facades" / "train" / "1.jpg"
    square.parent.mkdir(parents=True)
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(square)
    with pytest.raises(DataError, match="side by side"):
        read_facades(square.parent.parent, "train", size=32)
    with pytest.raises(ValueError, match="split"):
        read_facades(tmp_path / "facades", "training")


def test_unsafe_tarball_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("../outside.jpg")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    why = download_facades(tmp_path / "data", opener=fake_opener(path.read_bytes()))
    assert why is not None and "download failed" in why
    assert not (tmp_path / "outside.jpg").exists()


def test_offline_fallback_banner_and_real_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = load_dataset("facades", root=tmp_path, cache_dir=tmp_path / "c", n_synthetic=5, size=32)
    assert not pairs.is_real and len(pairs) == 5 and pairs.inst is not None
    assert "OFFLINE STAND-IN, NOT CMP FACADES" in capsys.readouterr().out
    with pytest.raises(DataError, match="facades.tar.gz"):
        load_facades(tmp_path, source="real", verbose=False)


def test_the_size_on_record_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = make_tarball(tmp_path / "made.tar.gz", {"train": 2})
    assert facades.FACADES_URL == "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
    monkeypatch.setattr(facades, "FACADES_SIZE", 30_168_306)  # the value in facades.py, whatever the fixture set
    why = download_facades(tmp_path / "data", opener=fake_opener(payload))
    assert why is not None and "30,168,306" in why and "FACADES_SIZE = None" in why
    assert not list((tmp_path / "data").iterdir())  # the wrong file is not kept, nothing is unpacked
    monkeypatch.setattr(facades, "FACADES_SIZE", len(payload))
    assert download_facades(tmp_path / "data", opener=fake_opener(payload)) is None
    assert len(list((tmp_path / "data" / "facades" / "train").iterdir())) == 2


def test_facades_drop_into_the_cityscapes_data_cells(tmp_path: Path) -> None:
    """Notebooks 09 and 10 switch data sets with one line: load_facades(**cfg.data_kwargs, size=cfg.size)."""
    make_tarball(tmp_path / "t.tar.gz", {"train": 12, "test": 3})
    with tarfile.open(tmp_path / "t.tar.gz") as tf:
        tf.extractall(tmp_path, filter="data")
    data_kwargs = dict(root=tmp_path, source="auto", device="cpu", cache_dir=tmp_path / "c", n_synthetic=400, seed=0)
    pairs = load_facades(**data_kwargs, size=32, verbose=False)  # 09's and 10's call, with load_facades
    assert pairs.is_real and len(pairs) == 12 and pairs.label_nc == 12 and "void" not in pairs.classes
    train, test = pairs.split(n_holdout_frames=6, n_holdout_stills=2, gap=2, seed=0)  # 09's split: stills only
    assert len(train) == 10 and len(test) == 2 and not any(f >= 0 for f in test.frames)
    train_pairs, test_pairs = pairs.split()  # 10's
    view = train_pairs.unpaired(seed=0)
    x, y = view.to_float()
    assert x.shape[1:] == y.shape[1:] == (3, 32, 32) and test_pairs.colour_maps().shape[1:] == (3, 32, 32)
    paper_test = load_facades(**data_kwargs, size=32, split="test", verbose=False)  # the paper's test split
    assert paper_test.is_real and len(paper_test) == 3


def test_stand_in_splits_are_other_buildings_and_the_real_split_sizes(tmp_path: Path) -> None:
    kw = dict(root=tmp_path, source="synthetic", cache_dir=tmp_path / "c", n_synthetic=60_000, size=16, verbose=False)
    train, test = load_facades(**kw), load_facades(**kw, split="test")
    assert len(train) == 400 and len(test) == 106  # capped at the tarball's split sizes
    assert not torch.equal(train.B[:106], test.B)
    with pytest.raises(ValueError, match="split"):
        load_facades(tmp_path, split="validation")


# --------------------------------------------------------------------------- procedural facades


@pytest.mark.parametrize("size", [64, 128, 256])
def test_synthetic_facades_sizes_and_classes(size: int) -> None:
    labels, photos, inst = synthetic_facades(4, size, seed=0)
    assert labels.shape == (4, 1, size, size) and photos.shape == (4, 3, size, size) and inst.shape == labels.shape
    assert labels.dtype == photos.dtype == torch.uint8 and inst.dtype == torch.int32
    present = set(labels.unique().tolist())
    assert {FACADE, WINDOW, DOOR} <= present and max(present) < len(FACADE_CLASSES)
    assert (inst[labels != WINDOW][(labels[labels != WINDOW] == FACADE)] == 0).all()  # wall is stuff


def test_synthetic_facades_deterministic_and_varied(tmp_path: Path) -> None:
    a = synthetic_facades(6, 64, seed=3)
    b = synthetic_facades(6, 64, seed=3, cache_dir=tmp_path)
    c = synthetic_facades(6, 64, seed=3, cache_dir=tmp_path)  # from the cache
    assert all(torch.equal(x, y) and torch.equal(x, z) for x, y, z in zip(a, b, c, strict=True))
    other = synthetic_facades(6, 64, seed=4)
    assert not torch.equal(a[1], other[1])
    wall_colours = torch.stack([a[1][i][:, a[0][i, 0] == FACADE].float().mean(1) for i in range(6)])
    assert wall_colours.std(0).mean() > 10  # buildings differ in colour


def test_every_window_is_its_own_instance() -> None:
    labels, _, inst = synthetic_facades(8, 128, seed=0)
    for i in range(8):
        ids = inst[i][labels[i] == WINDOW].unique()
        assert len(ids) >= 6 and (ids > 0).all()
        # no instance id is shared by two classes
        for j in ids.tolist():
            assert len(labels[i][inst[i] == j].unique()) == 1
    assert (labels == BALCONY).any()


def test_synthetic_pairs_as_labelled_pairs() -> None:
    pairs = synthetic_facade_pairs(5, 32, seed=0)
    train, test = pairs.split(n_holdout_stills=2)
    assert len(train) == 3 and len(test) == 2 and not set(train.stems) & set(test.stems)
    with pytest.raises(ValueError, match="square"):
        synthetic_facade_pairs(2, (64, 32))


# --------------------------------------------------------------------------- trainA/trainB folders


def write_domain(folder: Path, n: int, size: tuple[int, int] = (24, 16), value: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((size[1], size[0], 3), value + i, np.uint8)).save(folder / f"{i}.png")


def test_cyclegan_folders(tmp_path: Path) -> None:
    write_domain(tmp_path / "trainA", 3, value=0)
    write_domain(tmp_path / "trainB", 5, value=100)
    data = unpaired_set_from_folders(tmp_path, cache_dir=tmp_path / "cache", domains=("horse", "zebra"))
    assert data.X.shape == (3, 3, 16, 24) and data.Y.shape == (5, 3, 16, 24) and len(data) == 5
    g = torch.Generator().manual_seed(0)
    x, y = data.batch(64, g)
    assert x.max() < -0.9 and y.min() > -0.3  # x only from A, y only from B
    assert len(x.flatten(1)[:, 0].unique()) == 3 and len(y.flatten(1)[:, 0].unique()) == 5
    resized = unpaired_set_from_folders(tmp_path, size=8)
    assert resized.shape == (3, 8, 8)


def test_cyclegan_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="trainA"):
        unpaired_set_from_folders(tmp_path)
    (tmp_path / "trainA").mkdir()
    write_domain(tmp_path / "trainB", 2)
    with pytest.raises(DataError, match="has no"):
        unpaired_set_from_folders(tmp_path)
    write_domain(tmp_path / "trainA", 2, size=(32, 32))
    with pytest.raises(DataError, match="differ in size.*size=128"):
        unpaired_set_from_folders(tmp_path)
    assert unpaired_set_from_folders(tmp_path, size=16).shape == (3, 16, 16)
