"""The one loading policy (load_with_fallback), the data-set registry, paths in banners and the .npz cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import gan_utils.data as data_pkg
from gan_utils.config import DATA_SOURCES
from gan_utils.data import DATASETS, load_dataset
from gan_utils.data.base import DataError, ImageSet, cached_arrays, check_source, load_with_fallback
from gan_utils.data.mnist import load_mnist
from tests.conftest import make_mnist


def tiny(source: str, description: str = "a test set") -> ImageSet:
    return ImageSet(torch.zeros(3, 1, 4, 4, dtype=torch.uint8), torch.zeros(3, dtype=torch.int64), "Tiny", source,
                    description, ("a",))


class Loader:
    """Fake parts of a loader that record what the policy asked for."""

    def __init__(self, on_disk: bool, download_gives: str | None = "no network", download_fills: bool = False):
        self.on_disk, self.download_gives, self.download_fills = on_disk, download_gives, download_fills
        self.calls: list[str] = []

    def read_real(self) -> ImageSet | None:
        self.calls.append("read")
        return tiny("real") if self.on_disk else None

    def download(self) -> str | None:
        self.calls.append("download")
        if self.download_gives is None and self.download_fills:
            self.on_disk = True
        return self.download_gives

    def standin(self, why: str) -> ImageSet:
        self.calls.append(f"standin({why})")
        return tiny("synthetic", f"stand-in ({why})")

    def load(self, source: str, verbose: bool = False) -> ImageSet:
        return load_with_fallback("Tiny", source, self.read_real, self.standin,
                                  lambda why: f"Tiny is missing ({why}). Set GAN_DATA=synthetic.",
                                  download=self.download, verbose=verbose)


# --------------------------------------------------------------------------- load_with_fallback


def test_real_data_on_disk_is_used_without_download() -> None:
    loader = Loader(on_disk=True)
    assert loader.load("auto").is_real and loader.calls == ["read"]


def test_auto_downloads_then_reads() -> None:
    loader = Loader(on_disk=False, download_gives=None, download_fills=True)
    assert loader.load("auto").is_real and loader.calls == ["read", "download", "read"]


def test_auto_falls_back_to_the_stand_in_with_the_reason() -> None:
    loader = Loader(on_disk=False)
    data = loader.load("auto")
    assert not data.is_real and loader.calls == ["read", "download", "standin(no network)"]


def test_a_download_that_leaves_nothing_is_named() -> None:
    loader = Loader(on_disk=False, download_gives=None, download_fills=False)
    with pytest.raises(DataError, match=r"Tiny is missing \(the download left no readable Tiny files\)"):
        loader.load("real")


def test_real_raises_the_loaders_message() -> None:
    loader = Loader(on_disk=False)
    with pytest.raises(DataError, match=r"Tiny is missing \(no network\)\. Set GAN_DATA=synthetic"):
        loader.load("real")


def test_synthetic_never_looks_for_real_data() -> None:
    loader = Loader(on_disk=True)
    assert not loader.load("synthetic").is_real and loader.calls == ["standin()"]


def test_no_download_means_no_reason() -> None:
    loader = Loader(on_disk=False)
    data = load_with_fallback("Tiny", "auto", loader.read_real, loader.standin, lambda why: why, verbose=False)
    assert not data.is_real and loader.calls == ["read", "standin()"]


def test_banner_is_printed_when_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    Loader(on_disk=False).load("auto", verbose=True)
    out = capsys.readouterr().out
    assert "OFFLINE STAND-IN, NOT TINY" in out and "stand-in (no network)" in out


def test_source_is_checked_against_the_config() -> None:
    for source in DATA_SOURCES:
        check_source(source)
    with pytest.raises(ValueError, match="source='imagenet'; use 'auto', 'real' or 'synthetic'"):
        Loader(on_disk=True).load("imagenet")


# --------------------------------------------------------------------------- registry


def test_registry_loads_by_name(tmp_path: Path) -> None:
    assert {"mnist", "cifar10"} <= set(DATASETS)
    make_mnist(tmp_path, "t10k", n=10)
    data = load_dataset("MNIST", root=tmp_path, source="real", verbose=False)
    assert data.is_real and len(data) == 10
    data = load_dataset("CIFAR-10", root=tmp_path, source="synthetic", n_synthetic=20, verbose=False)
    assert data.name == "CIFAR-10" and not data.is_real


def test_unknown_data_set_lists_the_known_names() -> None:
    with pytest.raises(DataError, match="Unknown data set 'facadez'. Known data sets: cifar10, .*mnist") as err:
        load_dataset("facadez", root=".")
    assert "gan_utils.data.DATASETS" in str(err.value)


def test_package_exports_the_set_types() -> None:
    for name in ("ImageSet", "PairedSet", "UnpairedSet", "VoxelSet", "ClipSet", "read_resized", "DataError"):
        assert hasattr(data_pkg, name), name


def test_data_error_is_one_class_everywhere() -> None:
    from gan_utils.data.download import ChecksumError
    from gan_utils.data.download import DataError as FromDownload

    assert FromDownload is DataError and issubclass(ChecksumError, DataError)


# --------------------------------------------------------------------------- paths shown to the reader


def test_banner_shows_the_data_root_not_the_machine_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_DATA_ROOT", str(tmp_path))
    make_mnist(tmp_path, "t10k", n=10)
    data = load_mnist(tmp_path, source="real", verbose=False)
    assert "from $GAN_DATA_ROOT/MNIST/raw" in data.banner() and str(tmp_path) not in data.banner()
    with pytest.raises(DataError) as err:
        load_mnist(tmp_path / "elsewhere", source="real", verbose=False)
    assert "$GAN_DATA_ROOT/elsewhere/MNIST/raw" in str(err.value) and str(tmp_path) not in str(err.value)


def test_stand_in_reason_shows_the_data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_DATA_ROOT", str(tmp_path))
    data = load_mnist(tmp_path, source="auto", n_synthetic=10, verbose=False)
    assert "real MNIST not in $GAN_DATA_ROOT/MNIST/raw: " in data.description


def test_short_repr() -> None:
    assert repr(tiny("real")) == "ImageSet('Tiny', real: 3 images of shape (1, 4, 4))"


# --------------------------------------------------------------------------- the .npz cache


def test_cached_arrays_round_trip_and_validation(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    made: list[int] = []

    def make() -> dict[str, np.ndarray]:
        made.append(1)
        return {"x": np.arange(6, dtype=np.uint8).reshape(2, 3)}

    first = cached_arrays(path, make)
    again = cached_arrays(path, make)
    assert len(made) == 1 and np.array_equal(first["x"], again["x"]) and again["x"].dtype == np.uint8
    cached_arrays(path, make, valid=lambda a: a["x"].shape == (9,))  # an invalid cache is made again
    assert len(made) == 2 and not list(tmp_path.glob("*.tmp"))
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)


def test_unwritable_cache_warns_and_still_returns(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")  # fails even for root, unlike chmod
    with pytest.warns(UserWarning, match="GAN_CACHE_DIR"):
        out = cached_arrays(blocker / "c.npz", lambda: {"x": np.ones(3)})
    assert out["x"].sum() == 3
