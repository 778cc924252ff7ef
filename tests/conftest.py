"""Shared fixtures: a clean environment for setup(), and tiny MNIST IDX files written by the tests."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.standin_device import register

# The stand-in device must exist before the first backward pass of the process: autograd sizes its per-device
# queues once (tests/test_standin_device.py trains on it).
register()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("GAN_MODE", "GAN_DATA", "GAN_DATA_ROOT", "GAN_THREADS", "GAN_DEVICE", "GAN_CACHE_DIR", "GAN_CKPT_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GAN_OFFLINE", "1")  # tests never touch the network
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    """Write `array` (uint8) in the IDX format MNIST uses."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
    return path


def make_mnist(root: Path, split: str = "t10k", n: int = 20, gz: bool = True,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tiny MNIST-format files under root/MNIST/raw; returns what was written."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    raw = root / "MNIST" / "raw"
    write_idx(raw / f"{split}-images-idx3-ubyte", images, gz)
    write_idx(raw / f"{split}-labels-idx1-ubyte", labels, gz)
    return images, labels


def assert_gradients_reach(model: torch.nn.Module) -> None:
    """Every parameter of `model` got a finite, non-zero gradient from the last backward pass."""
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
