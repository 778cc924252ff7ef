"""Helpers for the course "GANs in computer vision, built from scratch".

Each piece is first written inline in the notebook that teaches it, then promoted here for later notebooks. The
package, from the bottom up:

- `paths`, `network`, `config`, `runtime` (`setup()`): where files are, whether we are online, the run's mode,
  device and seed;
- `losses`, `nn/` (layers several papers share), `models/` (one module per paper: its networks and training step),
  `metrics/` (what we measure), `data/` (loaders and offline stand-ins);
- `train/` (the Trainer, checkpoints, loss history, batched seed runs, DDP), `display/` (grids, curves, clip players,
  sliders), `teaching` (exercise checks and grading);
- `scripts/`: the torchrun entries, run as `torchrun -m gan_utils.scripts.train_biggan` (and `train_pix2pixhd`).
"""

from gan_utils.runtime import setup

__all__ = ["setup"]
__version__ = "0.2.0"
