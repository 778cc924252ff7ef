"""Chen et al. 2016, InfoGAN: the latent codes c, the Q head on D's body, and the mutual-information loss."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.nn.conditioning import one_hot


class QOutput(NamedTuple):
    """Q(c|x): logits of the categorical code, and mean (and optionally log-std) of the continuous codes."""

    cat_logits: torch.Tensor  # (B, n_categorical)
    cont_mean: torch.Tensor  # (B, n_continuous)
    cont_log_std: torch.Tensor | None  # (B, n_continuous), or None for the fixed std 1 of the released code


class QHead(nn.Module):
    """The InfoGAN Q network: a small head on D's shared features that predicts the codes c from x."""

    def __init__(self, in_features: int, n_categorical: int = 10, n_continuous: int = 2, hidden: int = 128,
                 learn_std: bool = False, leak: float = 0.2) -> None:
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


def sample_latent(batch: int, z_dim: int = 62, n_cat: int = 10, n_cont: int = 2,
                  generator: torch.Generator | None = None,
                  device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw InfoGAN's inputs: noise z ~ U(-1, 1), a categorical code index ~ Cat(n_cat), c_cont ~ U(-1, 1)."""
    # The released MNIST code draws the 62 noise dims and the continuous codes from U(-1, 1), not N(0, 1).
    z = torch.rand(batch, z_dim, generator=generator, device=device) * 2 - 1  # (B, z_dim)
    c_cat_idx = torch.randint(n_cat, (batch,), generator=generator, device=device)  # (B,)
    c_cont = torch.rand(batch, n_cont, generator=generator, device=device) * 2 - 1  # (B, n_cont)
    return z, c_cat_idx, c_cont


def latent_input(z: torch.Tensor, c_cat_idx: torch.Tensor, c_cont: torch.Tensor, n_cat: int = 10) -> torch.Tensor:
    """Join noise and codes into G's input [z, one_hot(c_cat), c_cont] (B, z_dim + n_cat + n_cont)."""
    return torch.cat([z, one_hot(c_cat_idx, n_cat, dtype=z.dtype), c_cont.to(z.dtype)], dim=1)


def info_loss(cat_logits: torch.Tensor, c_idx: torch.Tensor, cont_mean: torch.Tensor, c_cont: torch.Tensor,
              lambda_cat: float = 1.0, lambda_cont: float = 1.0,
              cont_log_std: torch.Tensor | None = None) -> torch.Tensor:
    """The mutual-information term that G and Q minimise: -E log Q(c|x), i.e. -L_I up to the constant H(c).

    Categorical code: cross-entropy. Continuous codes: Gaussian negative log-likelihood summed over the codes,
    with std 1 (the released code's fix_std=True) unless `cont_log_std` is given. Both are averaged over the
    batch. Since L_I = E log Q(c|x) + H(c), this loss equals -L_I + H(c) when both lambdas are 1.
    lambda_cont = 1 is the released MNIST script's value; the paper suggests a smaller one for continuous codes.
    """
    loss_cat = F.cross_entropy(cat_logits, c_idx)
    log_std = torch.zeros_like(cont_mean) if cont_log_std is None else cont_log_std
    # -log N(c; mu, sigma) = 0.5 log(2 pi) + log sigma + 0.5 ((c - mu) / sigma)^2, summed over the codes.
    nll = 0.5 * math.log(2 * math.pi) + log_std + 0.5 * ((c_cont - cont_mean) * torch.exp(-log_std)).square()
    loss_cont = nll.sum(1).mean()
    return lambda_cat * loss_cat + lambda_cont * loss_cont
