"""Sizing notebook 11 on a CPU: the cost of one pix2pixHD step per phase, and of pix2pix at the same size.

Run from the repository root, alone on the machine: `python benchmarks/pix2pixhd_steps.py [height]` (default 64:
G1 at 128x64, G2 at 256x128, the default mode's sizes and widths). Prints seconds per training step.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable

import torch
from torch import nn

from gan_utils.models import pix2pix
from gan_utils.models.pix2pix import UnetGenerator, unet_depth
from gan_utils.models.pix2pixhd import (
    GlobalGenerator,
    InstanceEncoder,
    LocalEnhancer,
    MultiscaleDiscriminator,
    train_step,
)
from gan_utils.nn.translation import PatchDiscriminator

K, N_FEAT = 9, 3


def timed(step: Callable[[], None], reps: int = 4) -> float:
    step()  # warm-up
    t = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - t) / reps


def adam(params: Iterable[nn.Parameter]) -> torch.optim.Adam:
    return torch.optim.Adam([p for p in params if p.requires_grad], 2e-4, betas=(0.5, 0.999))


def hd_step(G: nn.Module, D: MultiscaleDiscriminator, E: InstanceEncoder | None, batch: int, h: int,
            w: int) -> Callable[[], None]:
    """One pix2pixHD step, `gan_utils.models.pix2pixhd.train_step` (notebook 11's step)."""
    params = list(G.parameters()) + (list(E.parameters()) if E is not None else [])
    opt_G, opt_D = adam(params), adam(D.parameters())
    ids, inst = torch.randint(0, K, (batch, 1, h, w)), torch.randint(0, 30, (batch, 1, h, w))
    y = torch.rand(batch, 3, h, w) * 2 - 1

    def step() -> None:
        train_step(G, D, E, opt_G, opt_D, ids, inst, y, K)

    return step


def pix2pix_step(batch: int, h: int, w: int, ngf: int) -> Callable[[], None]:
    G, D = UnetGenerator(K, 3, unet_depth((w, h)), ngf), PatchDiscriminator(K + 3, ngf, 3)
    opt_G, opt_D = adam(G.parameters()), adam(D.parameters())
    x, y = torch.rand(batch, K, h, w), torch.rand(batch, 3, h, w) * 2 - 1

    def step() -> None:
        pix2pix.train_step(G, D, opt_G, opt_D, x, y)

    return step


def main(height: int = 64, ngf: int = 32, n_down: int = 3, n_blocks: int = 6, ndf: int = 32, batch: int = 4) -> None:
    torch.manual_seed(0)
    h1, w1, h2, w2 = height, 2 * height, 2 * height, 4 * height
    c = K + 1
    print(f"threads {torch.get_num_threads()}, batch {batch}; G1 {w1}x{h1}, G2 {w2}x{h2}")
    G1 = GlobalGenerator(c + N_FEAT, 3, ngf, n_down, n_blocks)
    D, E = MultiscaleDiscriminator(c + 3, ndf, 3, 3), InstanceEncoder(3, N_FEAT, 8, n_down)
    print(f"phase 1, G1 + E:            {timed(hd_step(G1, D, E, batch, h1, w1)):.3f} s/step")
    G1_plain = GlobalGenerator(c, 3, ngf, n_down, n_blocks)
    print(f"ablation, G1 without E:     {timed(hd_step(G1_plain, D, None, batch, h1, w1)):.3f} s/step")
    G = LocalEnhancer(c + N_FEAT, 3, ngf // 2, global_G=G1)
    G.freeze_global(True)
    print(f"phase 2, G2 alone (G1 fixed): {timed(hd_step(G, D, E, batch, h2, w2)):.3f} s/step")
    G.freeze_global(False)
    print(f"phase 3, G1 + G2 jointly:   {timed(hd_step(G, D, E, batch, h2, w2)):.3f} s/step")
    print(f"pix2pix at {w2}x{h2}, width {ngf}: {timed(pix2pix_step(batch, h2, w2, ngf)):.3f} s/step")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 64)
