"""Wu et al. 2016, 3D-GAN: the volumetric G and D, D's pooled features, and D's accuracy-gated update.

Paper: Jiajun Wu, Chengkai Zhang, Tianfan Xue, William T. Freeman, Joshua B. Tenenbaum. *Learning a Probabilistic
Latent Space of Object Shapes via 3D Generative-Adversarial Modeling.* NeurIPS 2016. arXiv:1610.07584.

- G: z (200-d) -> 4^3 -> ... -> size^3 by ConvTranspose3d 4x4x4 stride 2, BN + ReLU, a sigmoid on the output
  (occupancy probabilities). At 64^3 with width 64 it is the paper's 4^3x512 -> 8^3x256 -> 16^3x128 ->
  32^3x64 -> 64^3x1; at 32^3 one stage fewer (4^3x256 -> ... -> 32^3x1).
- D mirrors G: Conv3d 4x4x4 stride 2, BN + LeakyReLU(0.2), no pooling, and a 4^3 convolution to one logit.
  As in DCGAN, the input layer has no BN. D returns a logit (the paper's sigmoid lives in the loss,
  `losses.d_loss_bce`), so the accuracy below counts logit > 0 as "real".
- D is updated only when its accuracy on the last batch is at most 80% (`d_step_gated`), so that it does not
  outrun G, whose learning rate is far higher (2.5e-3 vs 1e-5 in the paper).
- 3D-VAE-GAN adds an image encoder E: a 2D view y -> (mu, log sigma^2) of q(z | y), and two losses on top of the
  3D-GAN's: `kl_loss` (q against N(0, I)) weighted alpha1 = 5 and `recon_loss` (||G(E(y)) - x||^2) weighted
  alpha2 = 1e-4 (the weights as commonly quoted for the paper; notebook 07 also tries a reconstruction-heavier
  alpha2).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.losses import d_loss_bce
from gan_utils.nn.blocks3d import down3d, up3d, volume_stages
from gan_utils.nn.init import weights_init

__all__ = ["GateResult", "ImageEncoder", "VoxelDiscriminator", "VoxelGenerator", "d_accuracy", "d_step_gated",
           "kl_loss", "pooled_features", "recon_loss", "reparameterize"]


class VoxelGenerator(nn.Module):
    """z (B, z_dim) -> occupancy probabilities (B, 1, size, size, size) in (0, 1).

    Taught in notebook 07.
    """

    def __init__(self, z_dim: int = 200, size: int = 64, ngf: int = 64) -> None:
        super().__init__()
        stages = volume_stages(size)
        self.z_dim, self.size = z_dim, size
        ch = [ngf * 2 ** i for i in reversed(range(stages))]  # 64^3, ngf=64: [512, 256, 128, 64]
        self.project = nn.Sequential(nn.ConvTranspose3d(z_dim, ch[0], 4, 1, 0, bias=False), nn.BatchNorm3d(ch[0]),
                                     nn.ReLU(inplace=True))  # (B, ch[0], 4, 4, 4)
        self.body = nn.Sequential(*(up3d(a, b) for a, b in zip(ch[:-1], ch[1:], strict=True)))
        self.out = nn.Sequential(nn.ConvTranspose3d(ch[-1], 1, 4, 2, 1), nn.Sigmoid())
        self.apply(weights_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z.view(z.shape[0], self.z_dim, 1, 1, 1))  # (B, C, 4, 4, 4)
        return self.out(self.body(h))  # (B, 1, size, size, size)


class VoxelDiscriminator(nn.Module):
    """Occupancy (B, 1, size, size, size) -> one logit per grid (B,); `features` gives every stage's output.

    Taught in notebook 07.
    """

    def __init__(self, size: int = 64, ndf: int = 64) -> None:
        super().__init__()
        stages = volume_stages(size)
        self.size = size
        ch = [ndf * 2 ** i for i in range(stages)]  # 64^3, ndf=64: [64, 128, 256, 512]
        self.stages = nn.ModuleList([down3d(1, ch[0], norm=False)]
                                    + [down3d(a, b) for a, b in zip(ch[:-1], ch[1:], strict=True)])
        self.logit = nn.Conv3d(ch[-1], 1, 4, 1, 0)  # 4^3 -> 1
        self.apply(weights_init)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each conv stage's output, from size/2 down to 4 voxels a side."""
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logit(self.features(x)[-1]).flatten()  # (B,)


def pooled_features(D: VoxelDiscriminator, x: torch.Tensor, n_layers: int = 3, out: int = 2) -> torch.Tensor:
    """D's last `n_layers` stage outputs, each max-pooled to out^3 and concatenated: the paper's shape descriptor.

    At 64^3 the last three stages are 16^3, 8^3 and 4^3, pooled by 8, 4 and 2 as in the paper (to 2^3 each).
    """
    feats = D.features(x)[-n_layers:]
    return torch.cat([F.adaptive_max_pool3d(f, out).flatten(1) for f in feats], 1)  # (B, sum C * out^3)


def d_accuracy(d_real: torch.Tensor, d_fake: torch.Tensor) -> float:
    """D's accuracy on one batch from its logits: real called real (logit > 0) and fake called fake."""
    correct = (d_real > 0).float().sum() + (d_fake <= 0).float().sum()
    return float(correct / (d_real.numel() + d_fake.numel()))


class GateResult(NamedTuple):
    """What one gated D step did: D's loss, its accuracy on the batch, and whether it was updated."""

    loss: float
    accuracy: float
    updated: bool


def d_step_gated(D: nn.Module, opt_D: torch.optim.Optimizer, x_real: torch.Tensor, x_fake: torch.Tensor,
                 threshold: float = 0.8) -> GateResult:
    """One D step that is skipped when D's accuracy on this batch is above `threshold` (the paper's 80%)."""
    d_real, d_fake = D(x_real), D(x_fake.detach())
    loss = d_loss_bce(d_real, d_fake)
    acc = d_accuracy(d_real.detach(), d_fake.detach())
    updated = acc <= threshold
    opt_D.zero_grad(set_to_none=True)
    if updated:
        loss.backward()
        opt_D.step()
    return GateResult(float(loss.detach()), acc, updated)


class ImageEncoder(nn.Module):
    """3D-VAE-GAN's E: a 2D view (B, C, S, S) -> the mean and log-variance (B, z_dim) each of q(z | y)."""

    def __init__(self, z_dim: int = 200, size: int = 64, in_channels: int = 1, nef: int = 32) -> None:
        super().__init__()
        if size < 8 or size & (size - 1):
            raise ValueError(f"size={size} must be a power of two of at least 8 (e.g. 32 or 64).")
        layers: list[nn.Module] = []
        c_in, c_out, s = in_channels, nef, size
        while s > 4:  # stride-2 convs down to 4x4, BN + LeakyReLU as in D
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, True)]
            c_in, c_out, s = c_out, min(2 * c_out, 8 * nef), s // 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(c_in * 16, 2 * z_dim)
        self.z_dim = z_dim
        self.apply(weights_init)
        # q(z | y) starts as the prior N(0, I): a random head gives KL in the hundreds, whose gradient wrecks G.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.head(self.body(y).flatten(1))  # (B, 2 z_dim)
        return h[:, :self.z_dim], h[:, self.z_dim:]  # mu, logvar


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample of q(z | y) that gradients flow through."""
    # a generator draws on its own device (CUDA refuses a CPU one); the noise then moves to mu's
    src = generator.device if generator is not None else mu.device
    eps = torch.randn(mu.shape, generator=generator, device=src, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)), summed over the latent dimensions and averaged over the batch."""
    return (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)).sum(1).mean()


def recon_loss(x_rec: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """||G(E(y)) - x||^2: squared error summed over the voxels of each shape, averaged over the batch."""
    if x_rec.shape != x.shape:
        raise ValueError(f"reconstruction {tuple(x_rec.shape)} and target {tuple(x.shape)} differ in shape.")
    return (x_rec - x.to(x_rec.dtype)).pow(2).flatten(1).sum(1).mean()
