"""Semi-supervised MNIST with 100 labels at the paper's level (Salimans et al. 2016), against supervised-only.

The data is real MNIST (GAN_DATA_ROOT; only the 10k test split is needed). A fixed 2,000 images are held out as
the test set and never trained on, not even as unlabeled data. From the other 8,000, each label draw (seed)
takes 10 labelled digits per class; all 8,000 are the unlabelled data, as the official code uses all its
training images. The GAN run uses `gan_utils.models.improved.ssl_step`; the baseline trains the same D
(same init, noise, Adam, steps) on the 100 labels alone with `supervised_step`. Both report the test accuracy
of the EMA of D and of the raw D.

Example: `GAN_DATA_ROOT=../shared/realdata .venv/bin/python benchmarks/ssl_mnist.py --steps 3000 --seeds 0 1 2`
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator

import torch
from torch.optim.swa_utils import AveragedModel

from gan_utils.data.mnist import load_mnist
from gan_utils.models.improved import (
    SSLDiscriminator,
    SSLGenerator,
    draw_labels,
    ssl_accuracy,
    ssl_ema,
    ssl_step,
    supervised_step,
)
from gan_utils.runtime import default_data_root

N_HOLDOUT, HOLDOUT_SEED = 2000, 0
LR, BETA1, BATCH = 3e-3, 0.5, 100  # the official code's values; it keeps lr constant on MNIST


def index_batches(n: int, batch: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless batches of indices, one fresh permutation per epoch (as the official loop)."""
    while True:
        perm = torch.randperm(n, generator=generator)
        for i in range(0, n - batch + 1, batch):
            yield perm[i:i + batch]


def run(name: str, seed: int, steps: int, eval_every: int, step_fn: Callable[[AveragedModel], dict[str, float]],
        D: SSLDiscriminator, decay: float, x_test: torch.Tensor, y_test: torch.Tensor) -> tuple[float, float, float]:
    """Train with `step_fn(D_ema) -> losses`, print the test accuracy every `eval_every` steps; (EMA, raw, ms/step)."""
    D_ema = ssl_ema(D, decay)
    spent = 0.0
    acc_ema = acc_raw = float("nan")
    for t in range(1, steps + 1):
        start = time.perf_counter()
        losses = step_fn(D_ema)
        spent += time.perf_counter() - start
        if t % eval_every == 0 or t == steps:
            acc_ema, acc_raw = ssl_accuracy(D_ema, x_test, y_test), ssl_accuracy(D, x_test, y_test)
            shown = "  ".join(f"{k} {v:.3f}" for k, v in losses.items())
            print(f"draw {seed} {name:<15} step {t:6d}: test acc EMA {acc_ema:6.2%}  raw {acc_raw:6.2%}  | {shown}"
                  f"  | {1000 * spent / t:.1f} ms/step", flush=True)
    return acc_ema, acc_raw, 1000 * spent / steps


def one_draw(seed: int, args: argparse.Namespace, x_pool: torch.Tensor, y_pool: torch.Tensor, x_test: torch.Tensor,
             y_test: torch.Tensor) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The GAN run and the supervised-only run for one label draw; ((EMA, raw, ms/step) for each)."""
    lab = draw_labels(y_pool, args.per_class, seed)
    x_lab, y_lab = x_pool[lab], y_pool[lab]  # (100, 784), (100,)
    g = torch.Generator().manual_seed(seed)

    def fresh_d() -> SSLDiscriminator:
        torch.manual_seed(seed)  # the GAN's D and the baseline's D start from the same weights
        D = SSLDiscriminator()
        D.data_init(x_pool[torch.randperm(len(x_pool))[:500]])  # as the official init on 500 training images
        return D

    def adam(module: torch.nn.Module) -> torch.optim.Adam:
        return torch.optim.Adam([p for p in module.parameters() if p.requires_grad], LR, betas=(BETA1, 0.999))

    D, G = fresh_d(), SSLGenerator()
    opt_D, opt_G = adam(D), adam(G)
    unl, unl_G = index_batches(len(x_pool), BATCH, g), index_batches(len(x_pool), BATCH, g)

    def gan_step(D_ema: AveragedModel) -> dict[str, float]:
        perm = torch.randperm(len(x_lab), generator=g)  # all 100 labels in each batch, shuffled
        return ssl_step(D, G, opt_D, opt_G, x_lab[perm], y_lab[perm], x_pool[next(unl)], x_pool[next(unl_G)], D_ema)

    gan = run("GAN", seed, args.steps, args.eval_every, gan_step, D, args.ema_decay, x_test, y_test)
    sup = (float("nan"),) * 3
    if not args.no_baseline:
        D_sup = fresh_d()
        opt_S = adam(D_sup)

        def sup_step(D_ema: AveragedModel) -> dict[str, float]:
            perm = torch.randperm(len(x_lab), generator=g)
            return supervised_step(D_sup, opt_S, x_lab[perm], y_lab[perm], D_ema)

        sup = run("supervised-only", seed, args.steps, args.eval_every, sup_step, D_sup, args.ema_decay, x_test,
                  y_test)
    print(f"label draw {seed}: GAN {gan[0]:.2%} (EMA; raw {gan[1]:.2%}), supervised-only {sup[0]:.2%} "
          f"(EMA; raw {sup[1]:.2%}) after {args.steps} steps; {gan[2]:.1f} ms/GAN step, "
          f"{sup[2]:.1f} ms/supervised step", flush=True)
    return gan, sup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="label draws (also seed the training)")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ema-decay", type=float, default=0.999, help="paper: 0.9999 over 180k steps")
    ap.add_argument("--per-class", type=int, default=10, help="labels per class (paper: 10, i.e. 100 labels)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the supervised-only run")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    data = load_mnist(default_data_root(), source="real", verbose=True)
    train, test = data.split(N_HOLDOUT, seed=HOLDOUT_SEED)
    x_pool, y_pool = train.images.flatten(1).float() / 255, train.labels  # (8000, 784) in [0, 1]
    x_test, y_test = test.images.flatten(1).float() / 255, test.labels  # (2000, 784), never trained on
    print(f"{len(x_pool)} training images (all unlabelled), {len(x_test)} held out for testing; "
          f"{args.per_class * 10} labels per draw; {args.threads} thread(s)")

    summary = [one_draw(seed, args, x_pool, y_pool, x_test, y_test) for seed in args.seeds]
    if len(summary) > 1:
        def ms(values: list[float]) -> str:
            return f"{100 * statistics.mean(values):.2f} ± {100 * statistics.stdev(values):.2f}%"
        print(f"over {len(summary)} label draws: GAN {ms([g[0] for g, _ in summary])} (EMA), "
              f"supervised-only {ms([s[0] for _, s in summary])} (EMA)")


if __name__ == "__main__":
    main()
