"""Time per BigGAN step of `gan_utils.scripts.train_biggan` as 1 process and as 2 torchrun processes, at one
global batch.

Each configuration runs the real entry point in a subprocess (fresh checkpoint folder, offline stand-in data unless
GAN_DATA_ROOT has CIFAR-10), and reports the script's own seconds per G step (start-up excluded) and the wall time
(start-up included). On a 2-core CPU the interesting comparison is 1 process with 2 threads against 2 processes
with 1 thread each: the same cores, split by data instead of inside each operator. Run it on a quiet machine.

    .venv/bin/python benchmarks/distributed.py --steps 30 --ch 8 --batch 32
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time


def run(nproc: int, threads: int, args: argparse.Namespace, folder: str) -> tuple[float, float]:
    """(seconds per G step as the script measured it, wall seconds) for one configuration."""
    launcher = ["-m", "torch.distributed.run", f"--nproc_per_node={nproc}"] if nproc > 1 else []
    cmd = [sys.executable, *launcher, "-m", "gan_utils.scripts.train_biggan", "--steps", str(args.steps), "--batch",
           str(args.batch), "--ch", str(args.ch), "--log-every", str(args.steps), "--ckpt-every", str(args.steps),
           "--ckpt-dir", folder, "--device", "cpu", "--data", args.data, "--n-synthetic", "2000"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "GAN_THREADS": str(threads)}
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    rate = re.findall(r"\(([\d.]+) s/step\)", res.stdout)
    return float(rate[-1]), wall


def main() -> None:
    """Print one line per configuration."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--ch", type=int, default=8)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--data", default=os.environ.get("GAN_DATA", "auto"))
    args = p.parse_args()
    configs = [(1, 2), (1, 1), (2, 1)]  # (processes, threads per process)
    print(f"BigGAN ch {args.ch}, global batch {args.batch}, {args.steps} G steps (2 D steps each), CPU")
    base = None
    for nproc, threads in configs:
        with tempfile.TemporaryDirectory() as folder:
            rate, wall = run(nproc, threads, args, folder)
        base = base or rate
        print(f"{nproc} process(es) x {threads} thread(s): {1000 * rate:7.0f} ms per G step "
              f"({base / rate:.2f}x the first row), {wall:5.1f} s wall with start-up", flush=True)


if __name__ == "__main__":
    main()
