"""Zhu et al. 2017, CycleGAN: the image pool, the linear LR decay and the training step (LSGAN, cycle, identity).

Its G is the ResNet generator and its Ds are 70x70 PatchGANs with instance norm, both shared layers in
`gan_utils.nn.translation` (pix2pixHD builds on them too). The losses are `gan_utils.losses.d_loss_lsgan`,
`g_loss_lsgan`, `cycle_loss` and `identity_loss`. Names and defaults follow junyanz/pytorch-CycleGAN-and-pix2pix
(`models/cycle_gan_model.py`, `util/image_pool.py`): `pool_size`, `lambda_cyc` (its lambda_A = lambda_B),
`lambda_idt`. Notebook 10 writes the step inline and checks it against `train_step`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from gan_utils.losses import cycle_loss, d_loss_lsgan, g_loss_lsgan, identity_loss

__all__ = ["ImagePool", "linear_decay", "train_step"]


class ImagePool:
    """CycleGAN's history of generated images (Shrivastava et al.): D sees older fakes too, which damps oscillation.

    `query(fakes)` returns a batch of the same size. Until the pool holds `pool_size` images, each new fake is
    stored and returned. Once it is full, each fake is returned with probability 1/2; otherwise a stored fake
    chosen at random is returned and the new one takes its place. pool_size=0 returns the fakes unchanged.
    The draws come from the pool's own seeded generator, and `state_dict()` holds the images and that
    generator, so a resumed run continues exactly (pass the pool to Trainer(stateful=...)). The stored images live
    on the CPU, where a checkpoint loads them, and come back on the device of the fakes.
    """

    def __init__(self, pool_size: int = 50, seed: int = 0) -> None:
        if pool_size < 0:
            raise ValueError(f"pool_size={pool_size}; use 0 (no pool) or a positive size (the paper's 50).")
        self.pool_size = pool_size
        self.images: list[torch.Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """A batch like `fakes` (B, C, H, W), part new and part from the history; detached from G's graph."""
        fakes = fakes.detach()
        if self.pool_size == 0:
            return fakes
        out = []
        for fake in fakes:
            if len(self.images) < self.pool_size:
                self.images.append(fake.cpu().clone())
                out.append(fake)
            elif torch.rand((), generator=self.generator) < 0.5:
                i = int(torch.randint(self.pool_size, (), generator=self.generator))
                out.append(self.images[i].to(fake.device))
                self.images[i] = fake.cpu().clone()
            else:
                out.append(fake)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        """The stored fakes (one tensor) and the generator state, for a checkpoint."""
        images = torch.stack(self.images) if self.images else torch.empty(0)
        return {"pool_size": self.pool_size, "images": images, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what state_dict() saved; the pool size must match."""
        if int(state["pool_size"]) != self.pool_size:
            raise ValueError(f"the checkpoint's pool holds up to {state['pool_size']} images, this one "
                             f"{self.pool_size}; build the pool with the same pool_size.")
        images = state["images"]
        self.images = [im.cpu().clone() for im in images] if images.numel() else []
        self.generator.set_state(state["generator"].cpu())


def linear_decay(optimizer: torch.optim.Optimizer, n_constant: int,
                 n_decay: int) -> torch.optim.lr_scheduler.LambdaLR:
    """CycleGAN's schedule: the initial LR for n_constant epochs (or steps), then linearly towards 0 over n_decay.

    The reference code's rule (`lambda_rule` with epoch_count=1): after e calls to scheduler.step(), the LR is
    lr * (1 - max(0, e + 1 - n_constant) / (n_decay + 1)), so the last of the n_constant + n_decay epochs runs
    at lr / (n_decay + 1) and the next one would run at 0. Call scheduler.step() once per epoch (or step);
    its state_dict (the count) resumes with the run.
    """
    if n_constant < 0 or n_decay < 1:
        raise ValueError(f"n_constant={n_constant}, n_decay={n_decay}; need n_constant >= 0 and n_decay >= 1 "
                         "(the paper: 100 and 100 epochs).")

    def factor(e: int) -> float:
        return max(0.0, 1.0 - max(0, e + 1 - n_constant) / (n_decay + 1))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# --------------------------------------------------------------------------- the training step


def train_step(G: nn.Module, F: nn.Module, D_Y: nn.Module, D_X: nn.Module, opt_G: torch.optim.Optimizer,
               opt_D: torch.optim.Optimizer, pool_X: ImagePool, pool_Y: ImagePool, x: torch.Tensor, y: torch.Tensor,
               lambda_cyc: float = 10.0, lambda_idt: float = 0.5,
               schedulers: Iterable[torch.optim.lr_scheduler.LRScheduler] = (),
               lambda_identity: float | None = None) -> dict[str, float]:
    """CycleGAN's step: G and F together on GAN + cycle + identity, then D_Y and D_X on the pooled fakes.

    G maps X -> Y and F maps Y -> X; x and y are unpaired batches (B, C, H, W) of the two domains. opt_G holds G's
    and F's parameters, opt_D both Ds'. G's loss is L_GAN(G, D_Y) + L_GAN(F, D_X) + lambda_cyc * L_cyc +
    lambda_idt * lambda_cyc * L_identity (least squares GAN terms), as the reference code scales the identity
    term; `lambda_identity` sets its weight directly instead, so that an ablation with lambda_cyc=0 can keep it.
    Each D's loss is halved and sees a fake from its pool. The schedulers, if any (`linear_decay`), step once at
    the end. `cycle` is logged even where its weight is 0.

    Taught in notebook 10.
    """
    y_fake, x_fake = G(x), F(y)  # a fake Y, a fake X
    loss_gan = g_loss_lsgan(D_Y(y_fake)) + g_loss_lsgan(D_X(x_fake))
    loss_cyc = cycle_loss(x, F(y_fake)) + cycle_loss(y, G(x_fake))
    loss_idt = identity_loss(y, G(y)) + identity_loss(x, F(x))
    w_idt = lambda_idt * lambda_cyc if lambda_identity is None else lambda_identity
    loss_G = loss_gan + lambda_cyc * loss_cyc + w_idt * loss_idt
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    opt_G.step()
    y_old, x_old = pool_Y.query(y_fake), pool_X.query(x_fake)  # new or past fakes, detached
    loss_D = 0.5 * (d_loss_lsgan(D_Y(y), D_Y(y_old)) + d_loss_lsgan(D_X(x), D_X(x_old)))
    opt_D.zero_grad(set_to_none=True)  # also clears the Ds' gradients from G's update
    loss_D.backward()
    opt_D.step()
    for scheduler in schedulers:
        scheduler.step()
    return {"G_gan": loss_gan.item(), "cycle": loss_cyc.item(), "identity": loss_idt.item(), "D": loss_D.item()}
