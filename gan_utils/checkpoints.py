"""Atomic checkpoint save, safe load, and capture/restore of every RNG a training run uses."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch


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
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load_safe(path: str | Path, map_location: str | torch.device | None = "cpu") -> dict[str, Any]:
    """Load a checkpoint with weights_only=True (no pickled code runs), with a clear error if it is unusable."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}. Train first, or pass resume=False.")
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
    """Restore what rng_state captured."""
    random.setstate(_as_tuple(state["python"]))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    for k, g in (generators or {}).items():
        if k in state["generators"]:
            g.set_state(state["generators"][k])


def _as_tuple(x: Any) -> Any:
    # weights_only loading may hand tuples back as lists; random.setstate needs tuples.
    if isinstance(x, list | tuple):
        return tuple(_as_tuple(v) for v in x)
    return x
