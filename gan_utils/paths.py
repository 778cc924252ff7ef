"""Where the course's files are: the repository root, folders named by environment variables, paths as printed.

The bottom of the package: it imports nothing from gan_utils, so config, runtime, data and metrics can all use it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["env_path", "repo_root", "shown_path"]


def repo_root() -> Path | None:
    """Return the repository root when the package runs from a checkout, else None."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() and (here / "notebooks").is_dir() else None


def env_path(var: str) -> Path | None:
    """The folder named by an environment variable; a relative one is taken from the repository root if there is one.

    Jupyter runs a notebook's kernel in notebooks/, so `GAN_DATA_ROOT=../shared/realdata make lab`, typed at the
    repository root, must not be read from notebooks/.
    """
    value = os.environ.get(var)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = (repo_root() or Path.cwd()) / path
    return path.resolve()


def shown_path(path: str | Path) -> str:
    """A path as outputs print it: under $GAN_DATA_ROOT, the repository or ~, never a machine's absolute path."""
    path = Path(path).expanduser().resolve()
    anchors: list[tuple[Path, str]] = []
    env = env_path("GAN_DATA_ROOT")
    if env:
        anchors.append((env, "$GAN_DATA_ROOT"))
    root = repo_root()
    if root is not None:
        anchors.append((root, ""))
    anchors.append((Path.home().resolve(), "~"))
    for anchor, label in anchors:
        try:
            rel = path.relative_to(anchor)
        except ValueError:
            continue
        if not label:
            return rel.as_posix() or "."
        return label if rel == Path(".") else f"{label}/{rel.as_posix()}"
    return path.as_posix()
