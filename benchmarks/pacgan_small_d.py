"""Stacked MNIST with PacGAN's Table 3 networks (a small G, D = G/4), with and without packing: modes over steps.

The setting of the unrolled-GAN experiment that PacGAN's Table 3 uses (official code:
`stacked_MNIST_experiments/unrolled_GAN_experiment/D=0.25G/model.py`): z of 256, G a linear layer to 64x4x4 and
three 3x3 stride-2 transposed convs to 32, 16 and 8 channels (BN, ReLU), a 3x3 conv to 3 channels, tanh; D three
3x3 stride-2 convs of ndf, 2ndf, 4ndf channels (BN, LeakyReLU 0.3) and a linear logit (ndf 2 is D = G/4, 4 is
G/2); weights N(0, 0.02). Adam betas (0.5, 0.99), lr 2e-4 for D and 1e-4 for G, fresh random digit triples every
step; PacGANm's D judges `--batch` packed sets of m images (so it sees m times as many images, as the official code).
Every `--every` steps it counts the modes of `--n-eval` samples from fixed z with the course's MNIST classifier:
all samples (the papers' count), confident triples only (every channel's class probability above 0.9), their share,
KL(q || uniform), and D's loss at that step. Notebook 08 quotes a 12,000-step run of this script (its `LONG_RUN`).

Example (about 14 min on 2 cores): `flock /tmp/torch.lock .venv/bin/python benchmarks/pacgan_small_d.py
--root ../shared/realdata --packs 1 2 --seeds 0 --steps 12000 --every 2000 --n-eval 5000`
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.data.mnist import load_mnist
from gan_utils.metrics.classifier import get_domain_classifier
from gan_utils.models.pacgan import PacSmallDiscriminator, SmallStackedGenerator


@torch.no_grad()
def score(G: nn.Module, clf: nn.Module, n: int, seed: int) -> tuple[int, int, float, float]:
    """(modes, confident modes, confident share, KL to uniform over 1000) of n samples from fixed z."""
    gen = torch.Generator().manual_seed(seed)
    G.eval()
    modes, conf = [], []
    for i in range(0, n, 1000):
        x = G(torch.randn(min(1000, n - i), G.z_dim, generator=gen))                # (b, 3, 28, 28)
        p = F.softmax(clf(x.reshape(-1, 1, 28, 28)), 1).reshape(-1, 3, 10)         # (b, 3, 10)
        p_max, digit = p.max(2)
        modes.append((digit * torch.tensor([100, 10, 1])).sum(1))
        conf.append((p_max > 0.9).all(1))
    G.train()
    modes_t, conf_t = torch.cat(modes), torch.cat(conf)
    counts = torch.bincount(modes_t, minlength=1000)
    q = counts[counts > 0].double() / n
    kl = float((q * torch.log(q * 1000)).sum())
    return int((counts > 0).sum()), int(torch.bincount(modes_t[conf_t], minlength=1000).gt(0).sum()), \
        float(conf_t.float().mean()), kl


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data", help="folder with MNIST/ (the course's GAN_DATA_ROOT)")
    ap.add_argument("--cache", default=None, help="where the MNIST classifier is cached (default: <root>/cache)")
    ap.add_argument("--packs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--n-eval", type=int, default=5000)
    ap.add_argument("--ndf", type=int, default=2, help="2: D = G/4, 4: D = G/2 (the paper's two settings)")
    ap.add_argument("--batch", type=int, default=64, help="packed sets per step (the paper: 128)")
    args = ap.parse_args()

    mnist = load_mnist(args.root, verbose=False)
    cache = Path(args.cache) if args.cache else Path(args.root) / "cache"
    clf, acc = get_domain_classifier(mnist, cache, epochs=5, seed=0)
    clf.eval()
    digits = mnist.to_float()                                                      # (N, 1, 28, 28)
    print(f"{len(digits)} digits, classifier {100 * acc:.1f}%, D ndf {args.ndf}, batch {args.batch}", flush=True)
    results = {}
    for m in args.packs:
        for seed in args.seeds:
            torch.manual_seed(seed)
            G, D = SmallStackedGenerator(), PacSmallDiscriminator(pack=m, ndf=args.ndf)
            opt_G = torch.optim.Adam(G.parameters(), 1e-4, betas=(0.5, 0.99))
            opt_D = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.99))
            n, t0, curve = args.batch * m, time.perf_counter(), []
            for step in range(1, args.steps + 1):
                x_real = digits[torch.randint(len(digits), (n, 3)), 0]                # (n, 3, 28, 28)
                x_fake = G(torch.randn(n, G.z_dim))
                loss_D = F.softplus(-D(x_real)).mean() + F.softplus(D(x_fake.detach())).mean()
                opt_D.zero_grad()
                loss_D.backward()
                opt_D.step()
                loss_G = F.softplus(-D(G(torch.randn(n, G.z_dim)))).mean()
                opt_G.zero_grad()
                loss_G.backward()
                opt_G.step()
                if step % args.every == 0:
                    modes, sure, share, kl = score(G, clf, args.n_eval, seed=99)
                    curve.append((step, modes, sure, share, kl, loss_D.item()))
                    print(f"m={m} seed={seed} step {step}: modes {modes}, confident modes {sure}, confident "
                          f"{100 * share:.1f}%, KL {kl:.2f}, D loss {loss_D.item():.3f} | "
                          f"{time.perf_counter() - t0:.0f} s", flush=True)
            results[f"m{m}_seed{seed}"] = curve
    print(json.dumps(results))


if __name__ == "__main__":
    main()
