"""The course's data: loaders by name (DATASETS, load_dataset) and the set types they return."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gan_utils.data.base import DataError, ImageSet, Provenance, load_with_fallback
from gan_utils.data.cifar import load_cifar10
from gan_utils.data.cityscapes import load_cityscapes
from gan_utils.data.facades import load_facades
from gan_utils.data.folders import unpaired_set_from_folders
from gan_utils.data.images import paired_set_from_folders, read_resized
from gan_utils.data.mnist import load_mnist
from gan_utils.data.pairs import LabelledPairs, colorize
from gan_utils.data.sets import ClipSet, PairedSet, UnpairedSet, VoxelSet
from gan_utils.data.stacked import load_stacked_mnist, stacked_mnist
from gan_utils.data.voxels import load_modelnet10

__all__ = [
    "DATASETS", "ClipSet", "DataError", "ImageSet", "LabelledPairs", "PairedSet", "Provenance", "UnpairedSet",
    "VoxelSet", "colorize", "load_cifar10", "load_cityscapes", "load_dataset", "load_facades", "load_mnist",
    "load_modelnet10", "load_stacked_mnist", "load_with_fallback", "paired_set_from_folders", "read_resized",
    "stacked_mnist", "unpaired_set_from_folders",
]  # fmt: skip

# Every loader takes (root, source, device, cache_dir, n_synthetic, seed, verbose) as keywords, so a notebook
# can call load_dataset(name, **cfg.data_kwargs) whatever the data set.
DATASETS: dict[str, Callable[..., Provenance]] = {
    "mnist": load_mnist,
    "cifar10": load_cifar10,
    "stackedmnist": load_stacked_mnist,
    "cityscapes": load_cityscapes,
    "facades": load_facades,
    "modelnet10": load_modelnet10,
}


def load_dataset(name: str, **kwargs: Any) -> Provenance:
    """Load a data set by its name in DATASETS ("mnist", "CIFAR-10", ...), passing kwargs to its loader."""
    key = name.lower().replace("-", "")
    if key not in DATASETS:
        raise DataError(f"Unknown data set {name!r}. Known data sets: {', '.join(sorted(DATASETS))}. Check the "
                        "spelling, or register a loader in gan_utils.data.DATASETS.")
    return DATASETS[key](**kwargs)
