"""pix2pixHD's full mode as a script on one process or many:
`torchrun --nproc_per_node=N -m gan_utils.scripts.train_pix2pixhd`.

The models, losses and step are `gan_utils.models.pix2pixhd`'s: `train_step` is notebook 11's step (one D update on
the halved LSGAN loss, one G update on the GAN and feature-matching losses, plus VGG if asked for). Under
DistributedDataParallel it runs with D's real and fake passes joined into one call (`joint_D`), which DDP needs (one
forward per backward) and which changes only rounding, because every layer of D normalises per image (instance
norm); a single process runs it exactly as the notebook does. As in `gan_utils.scripts.train_biggan`, with the same loop
(`distributed.train_loop`): DDP, a DistributedSampler shard per process (`--batch` is the global batch),
SyncBatchNorm on CUDA (a no-op for pix2pixHD's instance norm, kept for `--norm batch`), rank-0-only atomic
checkpoints and logs, and resume with any number of processes.

Two phases, as the paper trains: `--phase global` trains G1 (with D and the instance encoder E) at half size;
`--phase local` builds G = {G1, G2} around the G1 of `--global-ckpt`, trains G2 (and E) alone for `--steps-fix`
steps, then all of G.

    torchrun --nproc_per_node=4 -m gan_utils.scripts.train_pix2pixhd --phase global --height 512 --steps 20000 \\
        --ckpt-dir runs/p2phd_global --data-root ../shared/realdata
    torchrun --nproc_per_node=4 -m gan_utils.scripts.train_pix2pixhd --phase local --height 512 --steps 40000 \\
        --global-ckpt runs/p2phd_global --ckpt-dir runs/p2phd_local --data-root ../shared/realdata
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.data.cityscapes import collapse_instances, load_cityscapes
from gan_utils.models.pix2pixhd import (
    GlobalGenerator,
    InstanceEncoder,
    LocalEnhancer,
    MultiscaleDiscriminator,
    load_vgg_loss,
    train_step,
)
from gan_utils.nn.init import weights_init
from gan_utils.paths import shown_path
from gan_utils.runtime import default_cache_dir, default_data_root
from gan_utils.train.checkpoints import CHECKPOINT_FILE, load_safe
from gan_utils.train.distributed import (
    DistInfo,
    add_run_args,
    cleanup,
    init_distributed,
    print_main,
    shard_batches,
    train_loop,
    wrap_ddp,
)
from gan_utils.train.history import History

ARCH_KEYS = ("phase", "height", "ngf", "ndf", "n_down", "n_blocks", "n_blocks_local", "feat_ngf", "n_feat", "num_D",
             "label_nc")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; defaults are notebook 11's full mode (the paper's networks at 512 px high)."""
    p = argparse.ArgumentParser(prog="python -m gan_utils.scripts.train_pix2pixhd",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--phase", choices=("global", "local"), default="global")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--steps-fix", type=int, default=2_000, help="local phase: steps with G1 fixed")
    p.add_argument("--batch", type=int, default=1, help="global batch, split over the processes")
    p.add_argument("--height", type=int, default=512, help="full-size map height (width is twice); G1 sees half")
    p.add_argument("--ngf", type=int, default=64, help="G1's width (G2 has half)")
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--n-down", type=int, default=4)
    p.add_argument("--n-blocks", type=int, default=9)
    p.add_argument("--n-blocks-local", type=int, default=3)
    p.add_argument("--feat-ngf", type=int, default=16)
    p.add_argument("--n-feat", type=int, default=3)
    p.add_argument("--num-D", type=int, default=3)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--vgg", action="store_true", help="add the VGG perceptual loss (needs torchvision's weights)")
    p.add_argument("--global-ckpt", type=Path, default=None, help="local phase: the global phase's --ckpt-dir")
    add_run_args(p, "runs/pix2pixhd", n_synthetic=400)
    return p.parse_args(argv)


def prepare_batch(a: torch.Tensor, inst: torch.Tensor, y: torch.Tensor, flip: bool,
                  half: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Notebook 11's batch: instance keys with stuff collapsed, an optional joint flip, G1's half size."""
    k = collapse_instances(inst, a)
    if flip:
        a, k, y = a.flip(-1), k.flip(-1), y.flip(-1)
    if half:
        a, k, y = a[..., ::2, ::2], k[..., ::2, ::2], F.avg_pool2d(y, 2)
    return a, k, y


def _load_checkpoint(path: Path, arch: dict[str, object]) -> dict | None:
    """This run's checkpoint, loaded to the CPU, or None if there is none; a clear exit if other settings wrote it."""
    if not path.exists():
        return None
    state = load_safe(path)  # on the CPU: load_state_dict places the weights on this process's device
    saved = state.get("extra", {}).get("arch", {})
    if saved != arch:
        raise SystemExit(f"The checkpoint {shown_path(path)} was written with {saved}, but this run asks for "
                         f"{arch}. Pass the same settings, or another --ckpt-dir to start afresh.")
    return state


def _adam(params: list[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))


def main(argv: list[str] | None = None) -> int:
    """Train one phase; return 0 when the requested number of steps is reached."""
    args = parse_args(argv)
    info: DistInfo = init_distributed(args.device)
    torch.manual_seed(args.seed)
    size = (2 * args.height, args.height)  # (W, H), as load_cityscapes takes it
    pairs = load_cityscapes(args.data_root or default_data_root(), source=args.data, device=info.device,
                            cache_dir=default_cache_dir(), n_synthetic=args.n_synthetic, seed=args.seed, size=size,
                            verbose=info.is_main)
    train, _ = pairs.split(n_holdout_frames=6, n_holdout_stills=2, gap=2, seed=args.seed)  # notebook 11's split
    K = pairs.label_nc
    arch = {k: getattr(args, k, None) for k in ARCH_KEYS if k != "label_nc"} | {"label_nc": K}
    c_in = K + 1
    G1 = GlobalGenerator(c_in + args.n_feat, 3, args.ngf, args.n_down, args.n_blocks)
    D = MultiscaleDiscriminator(c_in + 3, args.ndf, n_layers=3, num_D=args.num_D)
    E = InstanceEncoder(3, args.n_feat, args.feat_ngf, n_downsampling=args.n_down)
    for m in (G1, D, E):
        m.apply(weights_init)
    models: dict[str, nn.Module] = {"D": D, "E": E}
    if args.phase == "global":
        G: nn.Module = G1
        models["G1"] = G1
        opt_G = {"G": _adam([*G1.parameters(), *E.parameters()], args.lr)}
    else:
        if args.global_ckpt is None:
            raise SystemExit("--phase local needs --global-ckpt, the --ckpt-dir of a finished global phase.")
        g_state = load_safe(Path(args.global_ckpt) / CHECKPOINT_FILE)
        G1.load_state_dict(g_state["models"]["G1"])
        D.load_state_dict(g_state["models"]["D"])
        E.load_state_dict(g_state["models"]["E"])
        G = LocalEnhancer(c_in + args.n_feat, 3, args.ngf // 2, n_blocks_local=args.n_blocks_local, global_G=G1)
        G.front.apply(weights_init)
        G.back.apply(weights_init)
        models["G"] = G
        # Two optimizers instead of notebook 11's freeze_global: G1 keeps requires_grad (DDP needs a fixed set of
        # trained parameters) and its optimizer simply does not step while it is fixed; Adam's state for G1 starts
        # at the joint phase either way.
        opt_G = {"G": _adam([*G.local_parameters(), *E.parameters()], args.lr), "G1": _adam(list(G1.parameters()),
                                                                                             args.lr)}
    opt_D = _adam(list(D.parameters()), args.lr)
    for m in models.values():
        m.to(info.device)
    vgg = load_vgg_loss(info.device) if args.vgg else None
    history, step, seconds, batches_seen = History(), 0, 0.0, 0
    path = args.ckpt_dir / CHECKPOINT_FILE
    state = _load_checkpoint(path, arch)
    if state is not None:
        for name, m in models.items():
            m.load_state_dict(state["models"][name])
        for name, o in opt_G.items():
            o.load_state_dict(state["optimizers"][name])
        opt_D.load_state_dict(state["optimizers"]["D"])
        history.load_state_dict(state["history"])
        step, seconds = int(state["step"]), float(state["seconds"])
        batches_seen, args.batch = int(state["extra"]["batches_seen"]), int(state["extra"]["batch"])
        print_main(info, f"Resumed from {shown_path(path)} at step {step}, written by "
                         f"{state['extra']['world_size']} process(es); now {info.world_size}.")
    # in the local phase G1's output layers are unused (G2 takes G1's last features, not its image)
    ddp = {"G": wrap_ddp(G, info, find_unused=args.phase == "local"), "D": wrap_ddp(D, info), "E": wrap_ddp(E, info)}
    shards = shard_batches(len(train), args.batch, info, seed=args.seed, start=batches_seen)
    print_main(info, f"pix2pixHD {args.phase} phase: {info.world_size} process(es) on {info.device.type}, global "
                     f"batch {args.batch}, maps {size[0]}x{size[1]}" + (" (G1 at half size)" if args.phase == "global"
                                                                        else ""))

    def step_fn(step: int) -> dict[str, float]:
        nonlocal batches_seen
        gen = torch.Generator().manual_seed(args.seed * 1_000_003 + step * 1_009 + info.rank)
        idx = next(shards).to(info.device)
        batches_seen += 1
        a, y, inst = train.to_float(idx)
        a, k, y = prepare_batch(a, inst, y, flip=bool(torch.rand((), generator=gen) < 0.5),
                                half=args.phase == "global")
        opts = list(opt_G.values()) if args.phase == "global" or step >= args.steps_fix else [opt_G["G"]]
        return train_step(ddp["G"], ddp["D"], ddp["E"], opts, opt_D, a, k, y, K, vgg, joint_D=info.distributed,
                          D_for_G=D)

    def extra() -> dict[str, object]:
        return {"arch": arch, "batch": args.batch, "world_size": info.world_size, "batches_seen": batches_seen}

    train_loop(info, args, step_fn, models, {**opt_G, "D": opt_D}, history, path, extra, step, seconds)
    ddp.clear()  # DDP's reducer must go before its process group (gloo aborts on exit otherwise)
    cleanup(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
