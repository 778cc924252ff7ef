"""Notebook 03's width sweep: DCGAN sizes against notebook 01's MLP GAN on MNIST, at equal samples seen.

Every run uses notebook 03's training step (BCE for D, the non-saturating loss for G, one D and one G step per
step, Adam 2e-4 with beta1 0.5, batch 64) and is scored like notebook 03 scores its DCGAN: 4,000 samples against
4,000 real digits on the course's cached MNIST domain classifier (6 epochs, seed 0): domain FID, IS, the share of
samples classified with p > 0.9 and the largest class share. Samples seen = steps x batch, so at a given step count
every row has seen the same number of digits; the MLP rows are notebook 01's MLP GAN with its settings.

The sizes (`--configs`): `w32` is notebook 03's former default (ngf = ndf = 32: G 7x7x64 -> 32 -> image, D 32 -> 64),
`w64` the library default (7x7x128 -> 64, D 64 -> 128), `g64d32` the same G with D halved (32 -> 64; notebook 03's
MNIST run), `textbook` the usual MNIST DCGAN (G 7x7x256 -> 128 -> image,
D 64 -> 128), i.e. ngf 128 with ndf 64.

Time 200 steps of each first (`--time-only`), then the sweep:
`GAN_DATA_ROOT=../shared/realdata flock /tmp/torch.lock .venv/bin/python benchmarks/dcgan_width_sweep.py \
    --configs w32 w64 textbook mlp --eval-at 2000 4000 --seeds 0`
"""

from __future__ import annotations

import argparse
import time

import torch

from gan_utils.data.mnist import load_mnist
from gan_utils.metrics.classifier import get_domain_classifier
from gan_utils.metrics.fid_is import classifier_log_probs, domain_fid, domain_inception_score
from gan_utils.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_utils.models.vanilla import MLPDiscriminator, MLPGenerator
from gan_utils.runtime import default_cache_dir, default_data_root
from gan_utils.train.trainer import train_discriminator, train_generator

CONFIGS = {"w32": (32, 32), "w64": (64, 64), "g64d32": (64, 32), "textbook": (128, 64), "mlp": None}  # (ngf, ndf)
BATCH, Z_DIM = 64, 100


def build(name: str, seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(seed)
    if CONFIGS[name] is None:
        return MLPGenerator(), MLPDiscriminator()
    ngf, ndf = CONFIGS[name]
    return DCGANGenerator(ngf=ngf), DCGANDiscriminator(ndf=ndf)


def scores(G: torch.nn.Module, clf: torch.nn.Module, x_ref: torch.Tensor, n: int, seed: int) -> dict[str, float]:
    G.eval()
    with torch.no_grad():
        x = G(torch.randn(n, Z_DIM, generator=torch.Generator().manual_seed(1000 + seed)))
    G.train()
    p = classifier_log_probs(x, clf).exp()
    share = torch.bincount(p.argmax(1), minlength=10).float() / n
    return {"fid": domain_fid(x_ref, x, clf), "is": domain_inception_score(x, clf)[0],
            "conf": float((p.amax(1) > 0.9).float().mean()), "max_share": float(share.max()),
            "max_class": int(share.argmax())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", nargs="+", default=["w32", "w64", "textbook", "mlp"], choices=list(CONFIGS))
    ap.add_argument("--eval-at", nargs="+", type=int, default=[2000, 4000])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--n-fid", type=int, default=4000)
    ap.add_argument("--time-only", type=int, default=0, help="only time this many steps of each config")
    args = ap.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    mnist = load_mnist(root=default_data_root(), source="real", device="cpu", cache_dir=default_cache_dir(),
                       n_synthetic=0, seed=0)
    for name in args.configs:
        G, D = build(name, 0)
        count = lambda m: sum(p.numel() for p in m.parameters()) / 1e6  # noqa: E731
        print(f"{name:9s} G {count(G):.2f}M  D {count(D):.2f}M parameters", flush=True)
    if args.time_only:
        for name in args.configs:
            G, D = build(name, 0)
            opt_G = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
            opt_D = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
            for i in range(args.time_only + 20):
                if i == 20:
                    t0 = time.perf_counter()  # 20 warm-up steps
                train_discriminator(D, G, opt_D, mnist.batch(BATCH)[0], torch.randn(BATCH, Z_DIM))
                train_generator(D, G, opt_G, torch.randn(BATCH, Z_DIM))
            ms = 1000 * (time.perf_counter() - t0) / args.time_only
            print(f"{name:9s} {ms:6.1f} ms/step -> 8,000 steps in {8000 * ms / 60000:.1f} min", flush=True)
        return
    clf, acc = get_domain_classifier(mnist, default_cache_dir(), epochs=6, seed=0)
    g = torch.Generator().manual_seed(0)
    x_ref = mnist.to_float(torch.randperm(len(mnist), generator=g)[:args.n_fid])
    print(f"classifier accuracy {acc:.1%}; real vs real FID "
          f"{domain_fid(x_ref, mnist.to_float(torch.randperm(len(mnist), generator=g)[:args.n_fid]), clf):.1f}")
    print("| config | seed | steps | samples seen | domain FID | IS | confident | largest class | s/1k steps |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        for name in args.configs:
            G, D = build(name, seed)
            opt_G = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
            opt_D = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
            spent, step = 0.0, 0
            for target in sorted(args.eval_at):
                t0 = time.perf_counter()
                while step < target:
                    train_discriminator(D, G, opt_D, mnist.batch(BATCH)[0], torch.randn(BATCH, Z_DIM))
                    train_generator(D, G, opt_G, torch.randn(BATCH, Z_DIM))
                    step += 1
                spent += time.perf_counter() - t0
                s = scores(G, clf, x_ref, args.n_fid, seed)
                print(f"| {name} | {seed} | {step:,} | {step * BATCH:,} | {s['fid']:.1f} | {s['is']:.2f} | "
                      f"{s['conf']:.1%} | {s['max_share']:.1%} ({s['max_class']}s) | {1000 * spent / step:.0f} |",
                      flush=True)


if __name__ == "__main__":
    main()
