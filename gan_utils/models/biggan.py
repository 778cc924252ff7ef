"""Brock, Donahue & Simonyan 2019 (BigGAN), at CIFAR-10 scale: what the paper adds, in one place.

- `Generator`: ResNet blocks with class-conditional BN fed by a **shared class embedding** joined with a chunk
  of z per block (**skip-z**, "hierarchical latents"); spectral norm everywhere; orthogonal init.
- `Discriminator`: ResNet blocks with spectral norm and a **projection** head (Miyato & Koyama 2018).
- `d_hinge_loss` / `g_hinge_loss`, `ortho_reg` (the paper's R_beta), `ema_update`, `truncated_z`,
  `standing_stats`, and the D and G steps (`d_step`, `g_step`) that both notebook 13 and the torchrun entry
  `gan_utils.scripts.train_biggan` run, single-process or under DistributedDataParallel.

The layouts follow `ajbrock/BigGAN-PyTorch`'s 32x32 architecture (G: 3 up-blocks from 4x4; D: 4 blocks, the first
two downsampling), with the channel count `ch` as the width knob (the code's CIFAR default is 64).
Class-conditional BN lives in `gan_utils.nn.normalization`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_utils.nn.normalization import ConditionalBatchNorm2d

__all__ = ["DBlock", "Discriminator", "GBlock", "Generator", "d_hinge_loss", "d_step", "ema_update", "g_hinge_loss",
           "g_step", "make_ema", "ortho_init_", "ortho_reg", "standing_stats", "train_step", "truncated_z"]

SN_EPS = 1e-6  # BigGAN's --SN_eps


def sn(module: nn.Module) -> nn.Module:
    """Spectral norm on a layer's weight (one power iteration per training forward)."""
    return spectral_norm(module, eps=SN_EPS)


def _check_labels(y: Tensor, n: int, n_classes: int) -> None:
    bad = y.shape != (n,) or y.dtype != torch.long
    if not bad and y.device.type == "cpu" and n:  # a range check on a GPU would wait for the device every step
        bad = bool(y.min() < 0 or y.max() >= n_classes)
    if bad:
        raise ValueError(f"y must be ({n},) int64 class indices in 0..{n_classes - 1}, got {y.dtype} "
                         f"{tuple(y.shape)}.")


def ortho_init_(model: nn.Module) -> nn.Module:
    """Orthogonal init of every conv, linear and embedding weight (BigGAN's `--G_init ortho --D_init ortho`)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear | nn.Embedding):
            # under spectral norm the trainable tensor is the parametrization's `original`
            w = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            with torch.no_grad():
                nn.init.orthogonal_(w)
            if getattr(m, "bias", None) is not None and isinstance(m.bias, Tensor):
                nn.init.zeros_(m.bias)
    return model


class GBlock(nn.Module):
    """G's up-block: cBN, ReLU, 2x nearest upsampling, 3x3 conv, cBN, ReLU, 3x3 conv; a 1x1 conv on the skip."""

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int) -> None:
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(in_ch, cond_dim)
        self.conv1 = sn(nn.Conv2d(in_ch, out_ch, 3, padding=1))
        self.bn2 = ConditionalBatchNorm2d(out_ch, cond_dim)
        self.conv2 = sn(nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.skip = sn(nn.Conv2d(in_ch, out_ch, 1))

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x, c)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), c)))
        return h + self.skip(F.interpolate(x, scale_factor=2.0, mode="nearest"))  # (B, out_ch, 2H, 2W)


class Generator(nn.Module):
    """BigGAN's G at 32x32: z split into chunks, the first to the 4x4 input, one per block with the class embedding."""

    def __init__(self, z_dim: int = 128, n_classes: int = 10, ch: int = 64, shared_dim: int = 128,
                 resolution: int = 32, bottom: int = 4, hier: bool = True) -> None:
        super().__init__()
        n_blocks = int(math.log2(resolution // bottom))
        if bottom * 2**n_blocks != resolution:
            raise ValueError(f"resolution {resolution} is not {bottom} times a power of 2.")
        self.n_chunks = n_blocks + 1 if hier else 1
        if z_dim % self.n_chunks:
            raise ValueError(f"z_dim={z_dim} must split evenly into {self.n_chunks} chunks (skip-z); "
                             f"use a multiple of {self.n_chunks}, or hier=False.")
        self.z_dim, self.n_classes, self.ch, self.bottom, self.hier = z_dim, n_classes, ch, bottom, hier
        self.chunk = z_dim // self.n_chunks
        width = 4 * ch
        cond_dim = shared_dim + (self.chunk if hier else 0)
        self.shared = nn.Embedding(n_classes, shared_dim)  # one embedding feeds every cBN layer
        self.linear = sn(nn.Linear(self.chunk if hier else z_dim, width * bottom * bottom))
        self.blocks = nn.ModuleList([GBlock(width, width, cond_dim) for _ in range(n_blocks)])
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), sn(nn.Conv2d(width, 3, 3, padding=1)), nn.Tanh())
        ortho_init_(self)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be (B, {self.z_dim}), got {tuple(z.shape)}.")
        _check_labels(y, len(z), self.n_classes)
        e = self.shared(y)  # (B, shared_dim)
        if self.hier:
            zs = z.split(self.chunk, dim=1)  # n_chunks x (B, chunk)
            h, conds = self.linear(zs[0]), [torch.cat([e, z_i], 1) for z_i in zs[1:]]
        else:
            h, conds = self.linear(z), [e] * len(self.blocks)
        h = h.view(len(z), -1, self.bottom, self.bottom)  # (B, 4ch, 4, 4)
        for block, c in zip(self.blocks, conds, strict=True):
            h = block(h, c)
        return self.out(h)  # (B, 3, 32, 32)


class DBlock(nn.Module):
    """D's block: (ReLU,) 3x3 conv, ReLU, 3x3 conv, optional 2x2 average pool; a 1x1 conv on the skip."""

    def __init__(self, in_ch: int, out_ch: int, downsample: bool, preactivation: bool) -> None:
        super().__init__()
        self.conv1 = sn(nn.Conv2d(in_ch, out_ch, 3, padding=1))
        self.conv2 = sn(nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.skip = sn(nn.Conv2d(in_ch, out_ch, 1)) if (in_ch != out_ch or downsample) else None
        self.downsample, self.preactivation = downsample, preactivation

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(x) if self.preactivation else x
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.preactivation:  # BigGAN: conv then pool on preactivated blocks, pool then conv on the first
            s = self.skip(s) if self.skip is not None else s
            s = F.avg_pool2d(s, 2) if self.downsample else s
        else:
            s = F.avg_pool2d(s, 2) if self.downsample else s
            s = self.skip(s) if self.skip is not None else s
        return h + s


class Discriminator(nn.Module):
    """BigGAN's D at 32x32 with a projection head: D(x, y) = w . h(x) + embed(y) . h(x), h summed over space."""

    def __init__(self, n_classes: int = 10, ch: int = 64) -> None:
        super().__init__()
        width = 4 * ch
        self.n_classes, self.ch = n_classes, ch
        self.blocks = nn.Sequential(DBlock(3, width, True, False), DBlock(width, width, True, True),
                                    DBlock(width, width, False, True), DBlock(width, width, False, True))
        self.linear = sn(nn.Linear(width, 1))
        self.embed = sn(nn.Embedding(n_classes, width))
        ortho_init_(self)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"x must be (B, 3, H, W) images, got {tuple(x.shape)}.")
        _check_labels(y, len(x), self.n_classes)
        h = F.relu(self.blocks(x)).sum(dim=(2, 3))  # (B, 4ch)
        return self.linear(h).squeeze(1) + (self.embed(y) * h).sum(1)  # (B,)


# -- losses and regulariser ------------------------------------------------------------------------------------
def d_hinge_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """D's hinge loss: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()


def g_hinge_loss(d_fake: Tensor) -> Tensor:
    """G's hinge loss: -E[D(G(z))]."""
    return -d_fake.mean()


def ortho_reg(model: nn.Module, beta: float = 1e-4, skip: tuple[str, ...] = ("shared",)) -> Tensor:
    """The paper's R_beta = beta * sum_W ||W W^T * (1 - I)||_F^2 over weights (out, in...) flattened to (out, -1).

    Only off-diagonal terms count: filters are pushed to be orthogonal to each other, with no constraint on their
    norms. Vectors (biases, BN) and parameters whose name contains an entry of `skip` (the shared embedding, as in
    BigGAN-PyTorch) are left out. A DistributedDataParallel wrapper gives the same sum (its names only gain a prefix).
    """
    total = None
    for name, p in model.named_parameters():
        if p.dim() < 2 or any(s in name for s in skip):
            continue
        w = p.flatten(1)  # (out, fan_in)
        gram = w @ w.t()  # (out, out)
        off = gram - torch.diag(torch.diagonal(gram))
        term = off.square().sum()
        total = term if total is None else total + term
    if total is None:
        raise ValueError("ortho_reg found no weight matrices in this model.")
    return beta * total


# -- sampling --------------------------------------------------------------------------------------------------
def truncated_z(n: int, z_dim: int, threshold: float | None = None, generator: torch.Generator | None = None,
                device: torch.device | str = "cpu") -> Tensor:
    """z ~ N(0, I) with every entry above `threshold` in magnitude redrawn until none is (None: no truncation).

    Taught in notebook 13.
    """
    if threshold is not None and threshold <= 0:
        raise ValueError(f"The truncation threshold must be positive (or None for none), got {threshold}.")
    z = torch.randn(n, z_dim, generator=generator)
    if threshold is not None:
        bad = z.abs() > threshold
        while bad.any():
            z[bad] = torch.randn(int(bad.sum()), generator=generator)
            bad = z.abs() > threshold
    return z.to(device)  # (n, z_dim)


def make_ema(G: nn.Module) -> nn.Module:
    """A frozen copy of G (the plain module, not a DDP wrapper) whose weights `ema_update` moves towards G's."""
    G_ema = copy.deepcopy(G)
    for p in G_ema.parameters():
        p.requires_grad_(False)
    return G_ema


@torch.no_grad()
def ema_update(G_ema: nn.Module, G: nn.Module, decay: float) -> None:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta for parameters; buffers (BN, SN vectors) are copied.

    Copying buffers rather than averaging them is BigGAN-PyTorch's choice (`utils.ema`); `standing_stats` then
    re-estimates the BN statistics for the averaged weights before sampling. G may be wrapped in
    DistributedDataParallel, whose parameters and buffers are G's own.
    """
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"EMA decay must be in [0, 1], got {decay}.")
    for p_ema, p in zip(G_ema.parameters(), G.parameters(), strict=True):
        p_ema.lerp_(p, 1.0 - decay)
    for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
        b_ema.copy_(b)


@torch.no_grad()
def standing_stats(G: nn.Module, n_batches: int = 16, batch: int = 100, seed: int = 0,
                   threshold: float | None = None) -> nn.Module:
    """BigGAN's "standing statistics": BN running stats re-estimated as plain averages over fresh G(z, y) batches.

    `threshold` truncates the z of those batches (`truncated_z`): sample at a threshold with the statistics of that
    threshold, as BigGAN-PyTorch's `sample.py` re-accumulates them for each truncation setting. Statistics from
    untruncated z normalise the smaller activations of truncated z by too large a variance (washed-out samples).
    Leaves G (the plain module) in eval mode, so that sampling uses these statistics.
    """
    device = next(G.parameters()).device
    bns = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    gen = torch.Generator().manual_seed(seed)
    G.train()
    for _ in range(n_batches):
        z = truncated_z(batch, G.z_dim, threshold, generator=gen, device=device)
        G(z, torch.randint(0, G.n_classes, (batch,), generator=gen).to(device))
    for m, mom in zip(bns, momenta, strict=True):
        m.momentum = mom
    return G.eval()


# -- the training steps -----------------------------------------------------------------------------------------
def d_step(G: nn.Module, D: nn.Module, opt_D: torch.optim.Optimizer, x_real: Tensor, y_real: Tensor, z: Tensor,
           y_fake: Tensor) -> dict[str, float]:
    """One D update on the hinge loss; real and fake go through D in one forward pass (one DDP all-reduce)."""
    with torch.no_grad():
        x_fake = G(z, y_fake)  # (B, 3, 32, 32), G in train mode as in BigGAN
    d_out = D(torch.cat([x_real, x_fake]), torch.cat([y_real, y_fake]))  # (2B,)
    d_real, d_fake = d_out.split([len(x_real), len(x_fake)])
    loss = d_hinge_loss(d_real, d_fake)
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return {"loss_D": loss.item(), "D_real": d_real.mean().item(), "D_fake": d_fake.mean().item()}


def g_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, z: Tensor, y_fake: Tensor,
           ortho_beta: float = 0.0) -> dict[str, float]:
    """One G update on the hinge loss plus the orthogonal regulariser (beta = 0 leaves it out).

    Under DDP pass D's plain module, not its wrapper: D's gradients here are thrown away (D's next step zeroes
    them), so they need no all-reduce; G's gradients are averaged across processes by G's DDP wrapper.
    """
    loss_adv = g_hinge_loss(D(G(z, y_fake), y_fake))
    loss = loss_adv + ortho_reg(G, ortho_beta) if ortho_beta > 0 else loss_adv
    opt_G.zero_grad(set_to_none=True)
    loss.backward()
    opt_G.step()
    return {"loss_G": loss_adv.item(), **({"ortho": (loss - loss_adv).item()} if ortho_beta > 0 else {})}


def train_step(G: nn.Module, D: nn.Module, opt_G: torch.optim.Optimizer, opt_D: torch.optim.Optimizer,
               next_real: Callable[[], tuple[Tensor, Tensor]], next_noise: Callable[[int], tuple[Tensor, Tensor]],
               n_D: int = 2, ortho_beta: float = 0.0, G_ema: nn.Module | None = None,
               ema_decay: float = 0.999, D_for_G: nn.Module | None = None) -> dict[str, float]:
    """BigGAN's step: `n_D` D updates (a fresh real batch each), one G update, then the EMA of G's weights.

    `next_real()` gives (x_real, y_real) and `next_noise(B)` gives (z, y_fake); the notebook draws them from one
    process's data, the torchrun entry from this process's shard. Under DistributedDataParallel G and D are the
    wrappers and `D_for_G` is D's plain module, which the G step goes through (see `g_step`); by default D.

    Taught in notebook 13.
    """
    logs: dict[str, float] = {}
    for _ in range(n_D):
        x_real, y_real = next_real()
        logs = d_step(G, D, opt_D, x_real, y_real, *next_noise(len(x_real)))
    logs.update(g_step(G, D if D_for_G is None else D_for_G, opt_G, *next_noise(len(x_real)), ortho_beta=ortho_beta))
    if G_ema is not None:
        ema_update(G_ema, G, ema_decay)
    return logs
