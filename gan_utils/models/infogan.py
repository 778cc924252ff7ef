"""Chen et al. 2016, InfoGAN: the latent codes c, the paper's MNIST G and D, and the Q head on D's body.

The mutual-information term that G and Q minimise is `gan_utils.losses.info_loss`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from gan_utils.nn.conditioning import one_hot

__all__ = ["QOutput", "QHead", "InfoGANGenerator", "InfoGANDiscriminator", "sample_latent", "latent_input"]


class QOutput(NamedTuple):
    """Q(c|x): logits of the categorical code, and mean (and optionally log-std) of the continuous codes."""

    cat_logits: torch.Tensor  # (B, n_categorical)
    cont_mean: torch.Tensor  # (B, n_continuous)
    cont_log_std: torch.Tensor | None  # (B, n_continuous), or None for the fixed std 1 of the released code


class QHead(nn.Module):
    """The InfoGAN Q network: a small head on D's shared features that predicts the codes c from x.

    Taught in notebook 04.
    """

    def __init__(self, in_features: int, n_categorical: int = 10, n_continuous: int = 2, hidden: int = 128,
                 learn_std: bool = False, leak: float = 0.1) -> None:
        super().__init__()
        self.n_categorical, self.n_continuous, self.learn_std = n_categorical, n_continuous, learn_std
        # FC 128, BN, lReLU, then FC to the code parameters, as in openai/InfoGAN's MNIST model.
        self.hidden = nn.Sequential(nn.Linear(in_features, hidden, bias=False), nn.BatchNorm1d(hidden),
                                    nn.LeakyReLU(leak))
        n_out = n_categorical + n_continuous * (2 if learn_std else 1)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, f: torch.Tensor) -> QOutput:
        h = self.out(self.hidden(f.flatten(1)))  # (B, n_cat + n_cont [* 2])
        cat_logits = h[:, :self.n_categorical]  # (B, n_cat)
        cont_mean = h[:, self.n_categorical:self.n_categorical + self.n_continuous]  # (B, n_cont)
        cont_log_std = h[:, self.n_categorical + self.n_continuous:] if self.learn_std else None
        return QOutput(cat_logits, cont_mean, cont_log_std)


class InfoGANGenerator(nn.Module):
    """The paper's MNIST generator (Table 1): FC fc, FC 7x7x(2 ngf), upconv ngf, upconv 1; BN and ReLU between.

    With fc=1024, ngf=64 it is the paper's network; smaller widths keep the same layers for a CPU. The output is a
    (B, 1, 28, 28) image in [-1, 1] (Tanh; the released code uses a sigmoid on [0, 1] images).

    Taught in notebook 04.
    """

    def __init__(self, z_dim: int = 74, fc: int = 1024, ngf: int = 64) -> None:
        super().__init__()
        self.ngf = ngf
        self.fc = nn.Sequential(
            nn.Linear(z_dim, fc, bias=False), nn.BatchNorm1d(fc), nn.ReLU(True),
            nn.Linear(fc, 2 * ngf * 7 * 7, bias=False), nn.BatchNorm1d(2 * ngf * 7 * 7), nn.ReLU(True),
        )
        self.conv = nn.Sequential(
            nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),  # 14x14
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1), nn.Tanh(),  # 28x28
        )

    def forward(self, g_in: torch.Tensor) -> torch.Tensor:
        h = self.fc(g_in).view(-1, 2 * self.ngf, 7, 7)  # (B, 2 ngf, 7, 7)
        return self.conv(h)  # (B, 1, 28, 28)


class InfoGANDiscriminator(nn.Module):
    """The paper's MNIST discriminator body (Table 1): conv ndf, conv 2 ndf + BN, FC fc + BN; lReLU 0.1.

    `features(x)` is the body shared with Q, (B, fc); `from_features(f)` is D's real/fake logit, (B,).

    Taught in notebook 04.
    """

    def __init__(self, ndf: int = 64, fc: int = 1024, leak: float = 0.1) -> None:
        super().__init__()
        self.feature_dim = fc
        self.body = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1), nn.LeakyReLU(leak),  # 14x14, no BN on D's input layer
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(leak),  # 7x7
            nn.Flatten(), nn.Linear(2 * ndf * 7 * 7, fc, bias=False), nn.BatchNorm1d(fc), nn.LeakyReLU(leak),
        )
        self.head = nn.Linear(fc, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1:] != (1, 28, 28):
            raise ValueError(f"InfoGANDiscriminator expects (B, 1, 28, 28) MNIST-sized images, got {tuple(x.shape)}")
        return self.body(x)  # (B, fc)

    def from_features(self, f: torch.Tensor) -> torch.Tensor:
        return self.head(f).squeeze(1)  # (B,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.from_features(self.features(x))


def sample_latent(batch: int, z_dim: int = 62, n_cat: int = 10, n_cont: int = 2,
                  generator: torch.Generator | None = None,
                  device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw InfoGAN's inputs: noise z ~ U(-1, 1), a categorical code index ~ Cat(n_cat), c_cont ~ U(-1, 1)."""
    # A generator draws on its own device (CUDA refuses a CPU generator); the codes then move to `device`.
    src = generator.device if generator is not None else device
    # The released MNIST code draws the 62 noise dims and the continuous codes from U(-1, 1), not N(0, 1).
    z = torch.rand(batch, z_dim, generator=generator, device=src) * 2 - 1  # (B, z_dim)
    c_cat_idx = torch.randint(n_cat, (batch,), generator=generator, device=src)  # (B,)
    c_cont = torch.rand(batch, n_cont, generator=generator, device=src) * 2 - 1  # (B, n_cont)
    if device is None:
        return z, c_cat_idx, c_cont
    return z.to(device), c_cat_idx.to(device), c_cont.to(device)


def latent_input(z: torch.Tensor, c_cat_idx: torch.Tensor, c_cont: torch.Tensor, n_cat: int = 10) -> torch.Tensor:
    """Join noise and codes into G's input [z, one_hot(c_cat), c_cont] (B, z_dim + n_cat + n_cont)."""
    return torch.cat([z, one_hot(c_cat_idx, n_cat, dtype=z.dtype), c_cont.to(z.dtype)], dim=1)
