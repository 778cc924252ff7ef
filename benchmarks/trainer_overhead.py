"""Wall time of the Trainer vs a hand-written loop running the same MLP GAN step (goal: <= 5% overhead)."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from gan_utils.data.mnist import load_mnist
from gan_utils.models.vanilla import MLPDiscriminator, MLPGenerator
from gan_utils.runtime import default_data_root
from gan_utils.train.trainer import Trainer, train_discriminator, train_generator


def make(data, batch: int):
    torch.manual_seed(0)
    G, D = MLPGenerator(), MLPDiscriminator()
    opt_G = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))

    def step(i: int) -> dict[str, float]:
        x, _ = data.batch(batch)
        loss_D = train_discriminator(D, G, opt_D, x, torch.randn(batch, 100))
        loss_G = train_generator(D, G, opt_G, torch.randn(batch, 100))
        return {"loss_D": loss_D, "loss_G": loss_G}

    return G, D, opt_G, opt_D, step


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    data = load_mnist(default_data_root(), source="auto", verbose=True)
    hand, trainer = [], []
    for _ in range(args.repeats):
        *_, step = make(data, args.batch)
        t = time.perf_counter()
        for i in range(args.steps):
            step(i)
        hand.append(time.perf_counter() - t)

        G, D, opt_G, opt_D, step = make(data, args.batch)
        z = torch.randn(64, 100)
        tr = Trainer({"G": G, "D": D}, {"G": opt_G, "D": opt_D}, step, ckpt_dir=None,
                     sample_fn=lambda G=G, z=z: G(z), sample_every=500, live=False)
        t = time.perf_counter()
        tr.fit(args.steps, resume=False, progress=True)
        trainer.append(time.perf_counter() - t)
    h, tt = float(np.median(hand)), float(np.median(trainer))
    print(f"hand-written loop: {h:.2f} s, Trainer: {tt:.2f} s for {args.steps} steps (median of {args.repeats})")
    print(f"Trainer overhead: {100 * (tt - h) / h:+.1f}%  ({1000 * h / args.steps:.1f} ms/step by hand)")


if __name__ == "__main__":
    main()
