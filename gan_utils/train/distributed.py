"""Training on several processes with PyTorch's own engine: torchrun, DistributedDataParallel, DistributedSampler.

A script started as `torchrun --nproc_per_node=N -m gan_utils.scripts.train_biggan ...` calls `init_distributed()`,
wraps
its models with `wrap_ddp`, draws its share of each batch from `shard_batches`, and writes checkpoints and logs on
rank 0 only (`save_on_main`, `print_main`). Started with plain `python -m`, the same script runs as one process
with no process group at all.

What DDP guarantees, and what this module relies on: every process starts from rank 0's weights (DDP broadcasts
them when it wraps a model), each computes gradients on its own shard, and the backward pass averages the
gradients across processes, so that identical optimizers keep identical weights. Each process's loss is a mean
over its shard, so the average of the shards' gradients is the gradient of the mean over the global batch.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler

from gan_utils.paths import shown_path
from gan_utils.train.checkpoints import save_atomic, training_state
from gan_utils.train.history import History

__all__ = ["DistInfo", "all_mean", "barrier", "cleanup", "init_distributed", "max_param_spread", "print_main",
           "save_on_main", "shard_batches", "train_loop", "unwrap", "wrap_ddp"]


@dataclass(frozen=True)
class DistInfo:
    """Who this process is: its rank among `world_size` processes, its device, and whether it is rank 0."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    distributed: bool

    @property
    def is_main(self) -> bool:
        """True on rank 0, the only process that writes checkpoints and logs."""
        return self.rank == 0


def init_distributed(device: str | None = None, backend: str | None = None) -> DistInfo:
    """Join the process group that torchrun describes in RANK/WORLD_SIZE/LOCAL_RANK; a single process without them.

    The backend is NCCL on CUDA and gloo on the CPU. Each process on a machine takes the GPU of its LOCAL_RANK.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    kind = device or os.environ.get("GAN_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    if kind.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for, but CUDA is not available here; use --device cpu.")
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK {local_rank} has no GPU: this machine has {torch.cuda.device_count()}. "
                               "Start at most that many processes per node (torchrun --nproc_per_node).")
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    else:
        dev = torch.device(kind)
    distributed = world_size > 1 or "TORCHELASTIC_RUN_ID" in os.environ
    if distributed and not dist.is_initialized():
        dist.init_process_group(backend or ("nccl" if dev.type == "cuda" else "gloo"))
    return DistInfo(rank, world_size, local_rank, dev, distributed)


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside DistributedDataParallel (or the module itself)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def wrap_ddp(model: nn.Module, info: DistInfo, sync_bn: bool = True, find_unused: bool = False) -> nn.Module:
    """DistributedDataParallel around `model`; on CUDA its BatchNorms first become SyncBatchNorm (cross-replica BN).

    SyncBatchNorm exists only for CUDA, so on the CPU every process normalises over its own shard of the batch.
    `find_unused` is DDP's `find_unused_parameters`, for a model some of whose parameters take no part in the
    loss (it costs a graph traversal per step). Without a process group the model is returned as it is.
    """
    if not info.distributed:
        return model
    if sync_bn and info.device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [info.device.index] if info.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused)


def shard_batches(n_items: int, global_batch: int, info: DistInfo, seed: int = 0,
                  start: int = 0) -> Iterator[torch.Tensor]:
    """This process's indices for each batch, endlessly: a DistributedSampler shard, reshuffled every epoch.

    Each of the `world_size` processes gets `global_batch // world_size` indices per batch, disjoint from the
    others'. `start` skips that many batches (a resumed run continues where the checkpoint stopped; with another
    process count the shards are cut differently, but the count of batches seen carries over).
    """
    if global_batch % info.world_size:
        raise ValueError(f"The global batch {global_batch} does not split evenly over {info.world_size} processes; "
                         f"use a multiple of {info.world_size}.")
    local = global_batch // info.world_size
    sampler = DistributedSampler(range(n_items), num_replicas=info.world_size, rank=info.rank, shuffle=True,
                                 seed=seed, drop_last=True)
    per_epoch = len(sampler) // local
    if per_epoch < 1:
        raise ValueError(f"{n_items} items are too few for a global batch of {global_batch}.")
    epoch, skip = divmod(start, per_epoch)
    while True:
        sampler.set_epoch(epoch)
        idx = torch.tensor(list(sampler))
        for b in range(skip, per_epoch):
            yield idx[b * local:(b + 1) * local]
        epoch, skip = epoch + 1, 0


def barrier(info: DistInfo) -> None:
    """Wait for every process (nothing to wait for in a single process)."""
    if info.distributed:
        dist.barrier()


def save_on_main(state: dict[str, Any], path: str | Path, info: DistInfo) -> None:
    """Rank 0 writes the checkpoint atomically; the others wait until it is on disk."""
    if info.is_main:
        save_atomic(state, path)
    barrier(info)


def print_main(info: DistInfo, *args: Any) -> None:
    """print on rank 0 only, so that a log line appears once, not once per process."""
    if info.is_main:
        print(*args, flush=True)


def all_mean(values: dict[str, float], info: DistInfo) -> dict[str, float]:
    """Each value averaged over the processes (for logging losses measured on different shards)."""
    if not info.distributed or not values:
        return dict(values)
    # NCCL reduces on the GPU; float64 only where it is sure to exist (the values are float32 losses anyway)
    dtype = torch.float64 if info.device.type == "cpu" else torch.float32
    t = torch.tensor(list(values.values()), dtype=dtype, device=info.device)
    dist.all_reduce(t)
    return dict(zip(values, (t / info.world_size).tolist(), strict=True))


def max_param_spread(model: nn.Module, info: DistInfo) -> float:
    """The largest difference of any parameter between processes (0.0 when they hold identical weights)."""
    if not info.distributed:
        return 0.0
    # MAX and MIN pick values exactly in the weights' own dtype; the difference is taken in float64 on the CPU.
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    hi, lo = flat.clone(), flat.clone()
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    return float((hi.cpu().double() - lo.cpu().double()).max())


def cleanup(info: DistInfo) -> None:
    """Wait for every process, then leave the process group (drop the DDP wrappers first)."""
    if info.distributed and dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def add_run_args(p: argparse.ArgumentParser, ckpt_dir: str, n_synthetic: int) -> None:
    """The options every torchrun entry shares: checkpoints, logging, data source, device and seed."""
    p.add_argument("--ckpt-dir", type=Path, default=Path(ckpt_dir))
    p.add_argument("--ckpt-every", type=int, default=1000)
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--data", choices=("auto", "real", "synthetic"), default=os.environ.get("GAN_DATA", "auto"))
    p.add_argument("--data-root", type=Path, default=None, help="default: $GAN_DATA_ROOT, else data/")
    p.add_argument("--n-synthetic", type=int, default=n_synthetic, help="size of the offline stand-in")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--crash-at", type=int, default=None, help=argparse.SUPPRESS)  # tests: SIGKILL after this step


def train_loop(info: DistInfo, args: argparse.Namespace, step_fn: Callable[[int], dict[str, float]],
               models: Mapping[str, nn.Module], optimizers: Mapping[str, torch.optim.Optimizer], history: History,
               path: Path, extra: Callable[[], dict[str, Any]], step: int = 0, seconds: float = 0.0,
               signed: bool = False) -> int:
    """The torchrun entries' loop: `step_fn(step)` until `args.steps`, with logs, checkpoints and a final check.

    Every `args.log_every` steps the losses, averaged over the processes, go into the history and one log line
    (`signed`: with a + sign); every `args.ckpt_every` steps rank 0 writes the checkpoint (`training_state` of the
    plain `models` and the `optimizers`, with `extra()`); `args.crash_at` kills the process after a checkpoint
    (tests). At the end it prints the largest weight difference between the processes. Returns the last step.
    """
    t0 = t_run = time.perf_counter()
    first_step = step
    while step < args.steps:
        logs = step_fn(step)
        step += 1
        if step % args.log_every == 0 or step == args.steps:
            logs = all_mean(logs, info)
            history.append(step, logs)
            rate = (time.perf_counter() - t_run) / (step - first_step)
            print_main(info, f"step {step:>7d}  " + "  ".join(f"{k} {v:{'+' if signed else ''}.3f}"
                                                              for k, v in logs.items())
                       + f"  ({rate:.3f} s/step)")
        if step % args.ckpt_every == 0 or step == args.steps:
            seconds += time.perf_counter() - t0
            t0 = time.perf_counter()
            save_on_main(training_state(step, seconds, models, optimizers, history, extra()), path, info)
            if args.crash_at is not None and step >= args.crash_at:
                os.kill(os.getpid(), signal.SIGKILL)  # a hard kill, as an out-of-memory killer or a pre-emption
    spread = sum(max_param_spread(m, info) for m in models.values())
    print_main(info, f"done: {step} steps; largest weight difference between processes {spread:.1e}; "
                     f"checkpoint {shown_path(path)}")
    return step
