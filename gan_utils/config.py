"""The one config object a notebook reads: run settings plus the sizes for the current mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gan_utils.paths import shown_path

MODES = ("fast", "default", "full")  # GAN_MODE: CI smoke run, real results on a CPU, paper scale on a GPU
DATA_SOURCES = ("auto", "real", "synthetic")  # GAN_DATA: real if it can be had, real or fail, offline stand-in

# Sizes every notebook gets unless it overrides them: how many synthetic stand-in images to make.
COMMON_SIZES: dict[str, dict[str, Any]] = {
    "fast": {"n_synthetic": 2_000},
    "default": {"n_synthetic": 60_000},
    "full": {"n_synthetic": 60_000},
}


@dataclass
class RunConfig:
    """Mode, device, seed, data location and the per-mode sizes (read as attributes, e.g. cfg.steps)."""

    mode: str
    device: torch.device
    seed: int
    data: str
    data_root: Path
    cache_dir: Path
    ckpt_root: Path
    name: str
    threads: int
    colab: bool
    sizes: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def pick_sizes(sizes: dict[str, dict[str, Any]], mode: str) -> dict[str, Any]:
        """Check that every mode defines the same size keys and return the current mode's."""
        modes = MODES
        unknown = set(sizes) - set(modes)
        if unknown:
            raise ValueError(f"Unknown mode(s) {sorted(unknown)} in sizes; use only {modes}.")
        if sizes:
            missing = [m for m in modes if m not in sizes]
            if missing:
                raise ValueError(f"sizes must define every mode; {missing} missing. Give fast, default and full.")
            keys = {m: set(sizes[m]) for m in modes}
            for m in modes:
                if keys[m] != keys["default"]:
                    diff = sorted(keys[m] ^ keys["default"])
                    raise ValueError(f"sizes[{m!r}] and sizes['default'] differ in keys {diff}; fast mode may "
                                     "change sizes, never which settings exist.")
        out = dict(COMMON_SIZES[mode])
        out.update(sizes.get(mode, {}))
        return out

    def __getattr__(self, key: str) -> Any:
        # Only called when normal attribute lookup fails, i.e. for size keys.
        sizes = self.__dict__.get("sizes", {})
        if key in sizes:
            return sizes[key]
        if key.startswith("__"):
            raise AttributeError(key)
        raise AttributeError(
            f"Config has no setting {key!r}. Known sizes for mode {self.__dict__.get('mode')!r}: "
            f"{sorted(sizes)}. Add it to the sizes you pass to setup()."
        )

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    @property
    def ckpt_dir(self) -> Path:
        """This notebook's own checkpoint folder: <ckpt_root>/<mode>/<name>. Nothing else writes there."""
        return self.ckpt_dir_of(self.name)

    def ckpt_dir_of(self, notebook: str) -> Path:
        """Another notebook's checkpoint folder in this mode, for reading a model it trained (never for writing)."""
        return self.ckpt_root / self.mode / notebook

    @property
    def data_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the data loaders (root, source, device, cache, stand-in size, seed)."""
        return {
            "root": self.data_root,
            "source": self.data,
            "device": self.device,
            "cache_dir": self.cache_dir,
            "n_synthetic": self.sizes["n_synthetic"],
            "seed": self.seed,
        }

    def summary(self) -> str:
        """One line: mode, device, threads, data source and root, seed."""
        colab = " (Colab)" if self.colab else ""
        return (f"GAN_MODE={self.mode} | device={self.device}{colab} ({self.threads} CPU threads) | "
                f"GAN_DATA={self.data}, root={shown_path(self.data_root)} | seed={self.seed}")
