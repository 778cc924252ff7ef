"""BigGAN on CIFAR-10 as a script, on one process or many:
`torchrun --nproc_per_node=N -m gan_utils.scripts.train_biggan`.

It runs notebook 13's model, losses and step (`gan_utils.models.biggan`) under DistributedDataParallel, each
process on its own DistributedSampler shard of every batch (`--batch` is the global batch), with SyncBatchNorm
(BigGAN's cross-replica BN) on CUDA. Rank 0 alone writes the log lines and the checkpoint, `<ckpt-dir>/latest.pt`,
atomically and in the `Trainer`'s layout (`checkpoints.training_state`, in the loop `distributed.train_loop` that
`gan_utils.scripts.train_pix2pixhd` shares), so notebook 13 reads it with
`gan_utils.train.checkpoints.load_module`. A run
resumes from that checkpoint with any number of processes: the weights, optimizer states, step and count of
batches seen carry over, and the global batch stays what the checkpoint says.

    torchrun --nproc_per_node=4 -m gan_utils.scripts.train_biggan --steps 50000 --batch 256 --ch 64 \
        --ckpt-dir runs/biggan
    python -m gan_utils.scripts.train_biggan --steps 200 --ch 8          # one process, no process group
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from gan_utils.data.cifar import load_cifar10
from gan_utils.models import biggan as bg
from gan_utils.paths import shown_path
from gan_utils.runtime import default_cache_dir, default_data_root
from gan_utils.train.checkpoints import CHECKPOINT_FILE, load_safe
from gan_utils.train.distributed import (
    add_run_args,
    cleanup,
    init_distributed,
    print_main,
    shard_batches,
    train_loop,
    wrap_ddp,
)
from gan_utils.train.history import History

# Settings that fix the shapes of the weights; a checkpoint only resumes with the same values.
ARCH_KEYS = ("ch", "z_dim", "shared_dim", "n_classes")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; defaults are the BigGAN-PyTorch CIFAR settings scaled to what is passed."""
    p = argparse.ArgumentParser(prog="python -m gan_utils.scripts.train_biggan", description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=50_000, help="G steps in total (a resumed run stops there too)")
    p.add_argument("--batch", type=int, default=64, help="global batch per D and G step, split over the processes")
    p.add_argument("--ch", type=int, default=64, help="width: G and D have 4*ch channels per block")
    p.add_argument("--z-dim", type=int, default=128)
    p.add_argument("--shared-dim", type=int, default=128)
    p.add_argument("--n-D", type=int, default=2, help="D steps per G step (the paper: 2)")
    p.add_argument("--lr-G", type=float, default=2e-4)
    p.add_argument("--lr-D", type=float, default=2e-4)
    p.add_argument("--ortho", type=float, default=1e-4, help="beta of the orthogonal regulariser (0: off)")
    p.add_argument("--ema-decay", type=float, default=0.9999)
    p.add_argument("--ema-start", type=int, default=1000, help="G steps before the EMA starts averaging")
    add_run_args(p, "runs/biggan", n_synthetic=50_000)
    return p.parse_args(argv)


def _arch(args: argparse.Namespace, n_classes: int) -> dict[str, int]:
    return {"ch": args.ch, "z_dim": args.z_dim, "shared_dim": args.shared_dim, "n_classes": n_classes}


def _load_checkpoint(path: Path, arch: dict[str, int]) -> dict | None:
    if not path.exists():
        return None
    state = load_safe(path)  # on the CPU: load_state_dict places the weights on this process's device
    saved = state.get("extra", {}).get("arch")
    if saved is None:  # a notebook's Trainer checkpoint: the weights' shapes are checked when they are loaded
        return state
    if {k: saved.get(k) for k in ARCH_KEYS} != arch:
        raise SystemExit(f"The checkpoint {shown_path(path)} was written with {saved}, but this run asks for {arch}. "
                         "Pass the same --ch/--z-dim/--shared-dim, or another --ckpt-dir to start afresh.")
    return state


def main(argv: list[str] | None = None) -> int:
    """Train; return 0 when the requested number of steps is reached."""
    args = parse_args(argv)
    info = init_distributed(args.device)
    torch.manual_seed(args.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    data = load_cifar10(args.data_root or default_data_root(), source=args.data, device=info.device,
                        cache_dir=default_cache_dir(), n_synthetic=args.n_synthetic, seed=args.seed,
                        verbose=info.is_main)
    arch = _arch(args, len(data.classes))
    G = bg.Generator(z_dim=args.z_dim, n_classes=arch["n_classes"], ch=args.ch, shared_dim=args.shared_dim)
    D = bg.Discriminator(n_classes=arch["n_classes"], ch=args.ch)
    G, D = G.to(info.device), D.to(info.device)
    G_ema = bg.make_ema(G)
    opt_G = torch.optim.Adam(G.parameters(), lr=args.lr_G, betas=(0.0, 0.999), eps=1e-6)
    opt_D = torch.optim.Adam(D.parameters(), lr=args.lr_D, betas=(0.0, 0.999), eps=1e-6)
    history, step, seconds, batches_seen = History(), 0, 0.0, 0
    path = args.ckpt_dir / CHECKPOINT_FILE
    state = _load_checkpoint(path, arch)
    if state is not None:
        try:
            for name, model in (("G", G), ("D", D), ("G_ema", G_ema)):
                model.load_state_dict(state["models"][name])
            opt_G.load_state_dict(state["optimizers"]["G"])
            opt_D.load_state_dict(state["optimizers"]["D"])
        except (KeyError, RuntimeError, ValueError) as e:
            raise SystemExit(f"The checkpoint {shown_path(path)} does not fit a BigGAN with {arch} ({e!s:.200}). "
                             "Pass the sizes it was trained with, or another --ckpt-dir to start afresh.") from e
        history.load_state_dict(state["history"])
        step, seconds = int(state["step"]), float(state["seconds"])
        extra = {"batches_seen": args.n_D * step, "batch": args.batch, "world_size": "1 (a notebook's Trainer)",
                 **state.get("extra", {})}
        batches_seen = int(extra["batches_seen"])
        if extra["batch"] != args.batch:
            print_main(info, f"Resuming with the checkpoint's global batch {extra['batch']} (not {args.batch}).")
            args.batch = int(extra["batch"])
        print_main(info, f"Resumed from {shown_path(path)} at step {step}, written by {extra['world_size']} "
                         f"process(es); now {info.world_size}.")
    ddp = {"G": wrap_ddp(G, info), "D": wrap_ddp(D, info)}  # G, D themselves are the plain modules
    local = args.batch // max(1, info.world_size)
    shards = shard_batches(len(data), args.batch, info, seed=args.seed, start=batches_seen)
    print_main(info, f"{info.world_size} process(es) on {info.device.type}, global batch {args.batch} "
                     f"({local} per process), G {sum(p.numel() for p in G.parameters()) / 1e6:.2f}M / "
                     f"D {sum(p.numel() for p in D.parameters()) / 1e6:.2f}M parameters; "
                     f"{'SyncBatchNorm' if info.device.type == 'cuda' and info.distributed else 'per-process BN'}.")

    def next_real() -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal batches_seen
        idx = next(shards).to(info.device)
        batches_seen += 1
        return data.to_float(idx), data.labels[idx]

    def step_fn(step: int) -> dict[str, float]:
        # noise from (seed, step, rank): a resumed run with the same process count draws what it would have drawn
        gen = torch.Generator().manual_seed(args.seed * 1_000_003 + step * 1_009 + info.rank)

        def next_noise(n: int) -> tuple[torch.Tensor, torch.Tensor]:
            z = torch.randn(n, args.z_dim, generator=gen).to(info.device)
            return z, torch.randint(0, arch["n_classes"], (n,), generator=gen).to(info.device)

        decay = args.ema_decay if step >= args.ema_start else 0.0  # before the start the EMA copies G
        return bg.train_step(ddp["G"], ddp["D"], opt_G, opt_D, next_real, next_noise, n_D=args.n_D,
                             ortho_beta=args.ortho, G_ema=G_ema, ema_decay=decay, D_for_G=D)

    def extra() -> dict[str, object]:
        return {"arch": arch, "batch": args.batch, "world_size": info.world_size, "batches_seen": batches_seen,
                "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}

    train_loop(info, args, step_fn, {"G": G, "D": D, "G_ema": G_ema}, {"G": opt_G, "D": opt_D}, history, path,
               extra, step, seconds, signed=True)
    ddp.clear()  # DDP's reducer must go before its process group (gloo aborts on exit otherwise)
    cleanup(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
