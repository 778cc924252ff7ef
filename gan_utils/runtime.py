"""Run-time set-up shared by every notebook: mode, device, seeds, data root, threads."""

from __future__ import annotations

import atexit
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_utils.config import DATA_SOURCES, MODES, RunConfig
from gan_utils.paths import env_path, repo_root
from gan_utils.teaching import grading_submission


def in_colab() -> bool:
    """Tell whether we run inside Google Colab."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


def pick_device(requested: str | None = None) -> torch.device:
    """Pick cuda > mps > cpu, or the device named in GAN_DEVICE."""
    requested = requested or os.environ.get("GAN_DEVICE")
    if requested:
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _read_choice(var: str, valid: tuple[str, ...], default: str) -> str:
    value = os.environ.get(var, default).strip().lower()
    if value not in valid:
        raise ValueError(
            f"{var}={value!r} is not valid. Use one of: {', '.join(valid)} "
            f"(for example `export {var}={default}`), or unset it to get {default!r}."
        )
    return value


def default_data_root() -> Path:
    """Where downloads land: GAN_DATA_ROOT, else data/ at the repo root (or in the working directory)."""
    env = env_path("GAN_DATA_ROOT")
    if env:
        return env
    root = repo_root()
    return (root / "data") if root else (Path.cwd() / "data").resolve()


def default_cache_dir() -> Path:
    """A writable folder for derived files (synthetic sets, classifiers); never inside a read-only data root."""
    env = env_path("GAN_CACHE_DIR")
    if env:
        return env
    root = repo_root()
    return ((root / "data") if root else (Path.cwd() / "data")).resolve() / "cache"


def default_ckpt_root() -> Path:
    """Where checkpoints go: GAN_CKPT_DIR, else checkpoints/ at the repo root (or in the working directory)."""
    env = env_path("GAN_CKPT_DIR")
    if env:
        return env
    root = repo_root()
    return ((root / "checkpoints") if root else (Path.cwd() / "checkpoints")).resolve()


def graded_ckpt_root() -> Path:
    """A fresh, empty checkpoint folder for one graded run, deleted when the kernel exits.

    nbgrader autogrades every submission with the teacher's environment, so GAN_CKPT_DIR (or the repository's
    checkpoints/) is the same for all of them: the second student's training cell would find the first student's
    finished model and skip training. A graded run therefore reads and writes no shared folder.
    """
    path = Path(tempfile.mkdtemp(prefix="gan-graded-")).resolve()
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _read_int(var: str, minimum: int, example: int) -> int | None:
    """An optional whole-number environment variable (None when unset), with an error that says what to set."""
    value = os.environ.get(var, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{var}={value!r} is not a whole number; set e.g. {var}={example}.") from None
    if number < minimum:
        raise ValueError(f"{var}={number} must be at least {minimum}.")
    return number


def setup(
    seed: int = 0,
    sizes: dict[str, dict[str, Any]] | None = None,
    name: str = "notebook",
    verbose: bool = True,
) -> RunConfig:
    """Read GAN_MODE/GAN_DATA/GAN_DATA_ROOT/GAN_CKPT_DIR/GAN_THREADS/GAN_SEED, seed, pick the device, print one line.

    `seed` is the notebook's base seed; GAN_SEED, when set, replaces it, so a whole notebook can be rerun on other
    seeds (every seed in a notebook is `cfg.seed` or counted from it).

    `name` is the notebook's name: its checkpoints go to GAN_CKPT_DIR/<mode>/<name>/ (`cfg.ckpt_dir`). When a
    grader runs the notebook (nbgrader's autograde, or GAN_GRADING=1), they go to a fresh folder of this run's own
    instead (`graded_ckpt_root`), so every submission trains its own models and none resumes another's.

    `sizes` maps each mode to the sizes that notebook reads, e.g.
    ``{"fast": {"steps": 200}, "default": {"steps": 8000}, "full": {"steps": 50000}}``.
    """
    mode = _read_choice("GAN_MODE", MODES, "default")
    data = _read_choice("GAN_DATA", DATA_SOURCES, "auto")
    threads = _read_int("GAN_THREADS", minimum=1, example=2)
    if threads is not None:
        torch.set_num_threads(threads)
    env_seed = _read_int("GAN_SEED", minimum=0, example=1)
    seed = seed if env_seed is None else env_seed
    device = pick_device()
    seed_everything(seed)
    graded = grading_submission()
    cfg = RunConfig(
        mode=mode,
        device=device,
        seed=seed,
        data=data,
        data_root=default_data_root(),
        cache_dir=default_cache_dir(),
        ckpt_root=graded_ckpt_root() if graded else default_ckpt_root(),
        name=name,
        threads=torch.get_num_threads(),
        colab=in_colab(),
        sizes=RunConfig.pick_sizes(sizes or {}, mode),
    )
    if verbose:
        print(cfg.summary())
        if graded:
            print("Graded run: checkpoints go to a fresh folder of this run's own, so every model trains from "
                  "scratch (GAN_CKPT_DIR is neither read nor written).")
    return cfg
