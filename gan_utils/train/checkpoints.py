"""Atomic checkpoint save, safe load, reading one trained model, and capture/restore of every RNG a run uses.

A training checkpoint is the file `<folder>/latest.pt` that `Trainer` and the torchrun entries write: a dict with
"models" (name -> state_dict), "optimizers", "step", "seconds" (training wall time), "rng", "history", "extra" and
"stateful", made by `training_state`. `load_module` is the public way for one notebook to read a model that another
notebook trained.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from gan_utils.train.history import History

CHECKPOINT_FILE = "latest.pt"


class CheckpointMismatchError(RuntimeError):
    """A checkpoint on disk was saved from different models (another architecture or other sizes)."""


class TrainedFor(NamedTuple):
    """How long the model in a checkpoint was trained."""

    step: int
    seconds: float


def checkpoint_path(path: str | Path) -> Path:
    """The checkpoint file for `path`: the path itself if it is a file name, else <folder>/latest.pt."""
    path = Path(path)
    return path if path.suffix == ".pt" else path / CHECKPOINT_FILE


def has_checkpoint(path: str | Path) -> bool:
    """True if a training checkpoint exists at `path` (a folder or a .pt file)."""
    return checkpoint_path(path).is_file()


def load_module(path: str | Path, key: str, module: nn.Module) -> TrainedFor:
    """Load model `key` (e.g. "G") of the training checkpoint at `path` into `module`; return its training length."""
    file = checkpoint_path(path)
    state = load_safe(file)  # on the CPU: load_state_dict then copies the weights to the module's device
    models = state.get("models", {}) if isinstance(state, dict) else {}
    if key not in models:
        raise KeyError(f"The checkpoint {file} holds the models {sorted(models)}, not {key!r}. Pass one of those.")
    try:
        module.load_state_dict(models[key])
    except RuntimeError as e:
        raise CheckpointMismatchError(
            f"Model {key!r} in {file} does not fit the module you passed (other layers or sizes). Build the module "
            f"with the settings of the notebook that trained it, or retrain that notebook. Details: "
            f"{str(e).splitlines()[0]}") from e
    return TrainedFor(int(state.get("step", 0)), float(state.get("seconds", 0.0)))


def training_state(step: int, seconds: float, models: Mapping[str, nn.Module],
                   optimizers: Mapping[str, torch.optim.Optimizer], history: History,
                   extra: dict[str, Any] | None = None, stateful: Mapping[str, Any] | None = None,
                   generators: dict[str, torch.Generator] | None = None) -> dict[str, Any]:
    """The checkpoint dict of a training run (the layout `load_module` and every resume read).

    `stateful` holds objects with `state_dict()` (an image pool, a scheduler); `extra` plain values; `generators`
    named random generators whose states go into "rng" beside the global ones.
    """
    return {
        "step": step,
        "seconds": seconds,
        "models": {k: m.state_dict() for k, m in models.items()},
        "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
        "rng": rng_state(generators),
        "history": history.state_dict(),
        "extra": extra if extra is not None else {},
        "stateful": {k: obj.state_dict() for k, obj in (stateful or {}).items()},
    }


def save_atomic(state: dict[str, Any], path: str | Path) -> Path:
    """Save `state` with torch.save so that `path` holds either the old or the new file, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file private (0600); give it the mode a normal new file gets, so that a shared class
        # folder can read it.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_safe(path: str | Path, map_location: str | torch.device | None = "cpu") -> dict[str, Any]:
    """Load a checkpoint to the CPU with weights_only=True (no pickled code runs), with a clear error if unusable."""
    # The CPU, not the model's device: RNG states must be CPU tensors, a checkpoint written on CUDA then opens on a
    # Mac (MPS has no float64), and load_state_dict places each weight on its model's device anyway.
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}. Run the notebook (or training cell) that writes it first.")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # a truncated or foreign file
        raise RuntimeError(
            f"Checkpoint {path} could not be read ({type(e).__name__}: {e}). Delete it to start afresh."
        ) from e


def rng_state(generators: dict[str, torch.Generator] | None = None) -> dict[str, Any]:
    """Capture python, numpy, torch (CPU and CUDA) and any named generators, in weights_only-safe types."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
        "generators": {k: g.get_state() for k, g in (generators or {}).items()},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], generators: dict[str, torch.Generator] | None = None) -> None:
    """Restore what rng_state captured, from CPU tensors or from a checkpoint that was mapped to a device."""
    # Every RNG setter, CUDA's included, takes a CPU ByteTensor, and numpy needs host memory.
    random.setstate(_as_tuple(state["python"]))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.cpu().numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        # a run saved on more GPUs than this machine has restores the ones that are here
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"][:torch.cuda.device_count()]])
    for k, g in (generators or {}).items():
        if k in state["generators"]:
            g.set_state(state["generators"][k].cpu())


def _as_tuple(x: Any) -> Any:
    # weights_only loading may hand tuples back as lists; random.setstate needs tuples.
    if isinstance(x, list | tuple):
        return tuple(_as_tuple(v) for v in x)
    return x
