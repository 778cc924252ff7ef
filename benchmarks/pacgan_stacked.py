"""Aggregate steps/s of R PacGAN 2D runs stacked into batched weights vs the same R runs stepped one after another.

Both train the same networks on the same batches (`gan_utils.train.seed_runs` is tested equal to separate eager runs);
only the wall time differs. Runs on CUDA if there is one (then the stacked step is also timed in a CUDA graph).
Example: `flock /tmp/torch.lock .venv/bin/python benchmarks/pacgan_stacked.py --runs 3 12 --steps 100`
"""

from __future__ import annotations

import argparse
import time

import torch

from gan_utils.models.pacgan import PacMLPDiscriminator, PacMLPGenerator, init_normal
from gan_utils.train.seed_runs import StackedGAN
from gan_utils.train.trainer import train_discriminator, train_generator


def make(R: int, args, device: torch.device) -> tuple[list[PacMLPGenerator], list[PacMLPDiscriminator]]:
    Gs, Ds = [], []
    for s in range(R):
        gen = torch.Generator().manual_seed(s)
        G, D = PacMLPGenerator(2, 2, args.g_width, 4), PacMLPDiscriminator(2, args.pack, args.d_width, 3, 5)
        init_normal(G, generator=gen)
        init_normal(D, generator=gen)
        Gs.append(G.to(device))
        Ds.append(D.to(device))
    return Gs, Ds


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _run_steps_per_second(step, R: int, args, device: torch.device) -> float:
    """Aggregate run-steps/s of `step()` (one training step of all R runs), after args.warmup untimed steps."""
    for i in range(args.warmup + args.steps):
        if i == args.warmup:
            sync(device)
            t = time.perf_counter()
        step()
    sync(device)
    return R * args.steps / (time.perf_counter() - t)


def time_sequential(R: int, args, device: torch.device) -> float:
    Gs, Ds = make(R, args, device)
    opts = [(torch.optim.Adam(G.parameters(), 1e-4, (0.8, 0.999)), torch.optim.Adam(D.parameters(), 1e-4, (0.8, 0.999)))
            for G, D in zip(Gs, Ds, strict=True)]
    n = args.batch * args.pack
    x, z = torch.randn(R, n, 2, device=device), torch.randn(2, R, n, 2, device=device)

    def step() -> None:
        for r in range(R):
            train_discriminator(Ds[r], Gs[r], opts[r][1], x[r], z[0, r])
            train_generator(Ds[r], Gs[r], opts[r][0], z[1, r])

    return _run_steps_per_second(step, R, args, device)


def time_stacked(R: int, args, device: torch.device, cuda_graph: bool) -> float:
    gan = StackedGAN(*make(R, args, device), 1e-4, (0.8, 0.999), cuda_graph=cuda_graph)
    n = args.batch * args.pack
    x, z = torch.randn(R, n, 2, device=device), torch.randn(2, R, n, 2, device=device)
    return _run_steps_per_second(lambda: gan.step(x, z[0], z[1]), R, args, device)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, nargs="+", default=[3, 12])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--pack", type=int, default=2)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--g-width", type=int, default=400, help="paper: 400")
    ap.add_argument("--d-width", type=int, default=200, help="paper: 200")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device {device}, {torch.get_num_threads()} threads, pack {args.pack}, batch {args.batch}, "
          f"G width {args.g_width}, D width {args.d_width}, {args.steps} timed steps")
    for R in args.runs:
        seq = time_sequential(R, args, device)
        stk = time_stacked(R, args, device, cuda_graph=False)
        line = (f"R={R:3d}: sequential {seq:7.1f} run-steps/s, stacked {stk:7.1f} run-steps/s, "
                f"ratio {stk / seq:.2f}x")
        if device.type == "cuda":
            gr = time_stacked(R, args, device, cuda_graph=True)
            line += f"; stacked in a CUDA graph {gr:7.1f} run-steps/s, ratio {gr / seq:.2f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
