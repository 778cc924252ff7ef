"""The papers' losses, one small pure function each. D returns logits; sigmoid(logit) = D(x)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def d_loss_bce(d_real: torch.Tensor, d_fake: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
    """D's loss -[log D(x) + log(1 - D(G(z)))], from logits; real_label < 1 gives one-sided smoothing.

    Taught in notebook 01.
    """
    loss_real = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_label))
    loss_fake = F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    return loss_real + loss_fake


def g_loss_saturating(d_fake: torch.Tensor) -> torch.Tensor:
    """G's minimax loss log(1 - D(G(z))), which G minimises; its gradient vanishes when D wins.

    Taught in notebook 01.
    """
    # log(1 - sigmoid(a)) = -softplus(a), computed without forming 1 - sigmoid(a).
    return -F.softplus(d_fake).mean()


def g_loss_nonsaturating(d_fake: torch.Tensor) -> torch.Tensor:
    """G's non-saturating loss -log D(G(z)) (Goodfellow et al. 2014, section 3).

    Taught in notebook 01.
    """
    return F.softplus(-d_fake).mean()


def feature_matching(f_real: torch.Tensor, f_fake: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """G's feature-matching loss ||E f(x) - E f(G(z))||^2 on an intermediate D layer (Salimans et al. 2016)."""
    if f_real.shape[1:] != f_fake.shape[1:]:
        raise ValueError(f"real and fake features differ in shape: {tuple(f_real.shape)} vs {tuple(f_fake.shape)}.")
    # The real features are a target for G only; D is not trained on this loss.
    diff = f_real.detach().flatten(1).mean(0) - f_fake.flatten(1).mean(0)  # (F,)
    if reduction == "mean":  # the official code: mean over the feature dimensions
        return diff.square().mean()
    if reduction == "sum":  # the paper's squared L2 norm
        return diff.square().sum()
    raise ValueError(f"reduction must be 'mean' (official code) or 'sum' (paper), got {reduction!r}.")


def semi_supervised_d_loss(logits_lab: torch.Tensor, y: torch.Tensor, logits_unl: torch.Tensor,
                           logits_fake: torch.Tensor, unlabeled_weight: float = 1.0) -> torch.Tensor:
    """The K+1-class D's loss: CE on labelled data plus the GAN loss on unlabelled and generated data.

    Taught in notebook 05.
    """
    # With l_{K+1} = 0, D(x) = Z/(Z+1) = sigmoid(logsumexp l), so logsumexp of the K logits is the GAN logit.
    lse_unl = torch.logsumexp(logits_unl, dim=1)  # (B,)
    lse_fake = torch.logsumexp(logits_fake, dim=1)  # (B,)
    loss_lab = F.cross_entropy(logits_lab, y)
    # -log D(x) = softplus(-lse) and -log(1 - D(G(z))) = softplus(lse); the 1/2 is the official code's.
    loss_unl = 0.5 * F.softplus(-lse_unl).mean() + 0.5 * F.softplus(lse_fake).mean()
    return loss_lab + unlabeled_weight * loss_unl


def info_loss(cat_logits: torch.Tensor, c_idx: torch.Tensor, cont_mean: torch.Tensor, c_cont: torch.Tensor,
              lambda_cat: float = 1.0, lambda_cont: float = 1.0,
              cont_log_std: torch.Tensor | None = None) -> torch.Tensor:
    """InfoGAN's mutual-information term that G and Q minimise: -E log Q(c|x), i.e. -L_I up to the constant H(c).

    Categorical code: cross-entropy. Continuous codes: Gaussian negative log-likelihood summed over the codes,
    with std 1 (the released code's fix_std=True) unless `cont_log_std` is given. Both are averaged over the
    batch. Since L_I = E log Q(c|x) + H(c), this loss equals -L_I + H(c) when both lambdas are 1.
    lambda_cont = 1 is the released MNIST script's value; the paper suggests a smaller one for continuous codes.

    Taught in notebook 04.
    """
    loss_cat = F.cross_entropy(cat_logits, c_idx)
    log_std = torch.zeros_like(cont_mean) if cont_log_std is None else cont_log_std
    # -log N(c; mu, sigma) = 0.5 log(2 pi) + log sigma + 0.5 ((c - mu) / sigma)^2, summed over the codes.
    nll = 0.5 * math.log(2 * math.pi) + log_std + 0.5 * ((c_cont - cont_mean) * torch.exp(-log_std)).square()
    loss_cont = nll.sum(1).mean()
    return lambda_cat * loss_cat + lambda_cont * loss_cont


# --------------------------------------------------------------------------- image-to-image translation


def d_loss_lsgan(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """D's least-squares loss E[(D(y) - 1)^2] + E[D(G(x))^2] (Mao et al., used by CycleGAN), on raw D outputs.

    Like d_loss_bce, not halved: CycleGAN's and pix2pix's code multiply D's loss by 0.5 in the step.

    Taught in notebook 10.
    """
    return (d_real - 1).square().mean() + d_fake.square().mean()


def g_loss_lsgan(d_fake: torch.Tensor) -> torch.Tensor:
    """G's least-squares loss E[(D(G(x)) - 1)^2]: G pulls D's output on its fakes towards the real target 1.

    Taught in notebook 10.
    """
    return (d_fake - 1).square().mean()


def l1_loss(y_fake: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """pix2pix's reconstruction term E||y - G(x)||_1, the mean absolute difference per pixel and channel."""
    if y_fake.shape != y.shape:
        raise ValueError(f"output {tuple(y_fake.shape)} and target {tuple(y.shape)} differ in shape.")
    return (y_fake - y).abs().mean()


def g_loss_pix2pix(d_fake: torch.Tensor, y_fake: torch.Tensor, y: torch.Tensor,
                   lambda_L1: float = 100.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """pix2pix's G objective L_cGAN + lambda L_L1: (total, cGAN term, L1 term), from D's patch logits on (x, G(x)).

    The cGAN term is the non-saturating -log D(x, G(x)), averaged over all patches (section 3.3).
    lambda_L1=0 is the cGAN-only ablation; an L1-only G skips D and uses l1_loss alone.
    """
    loss_gan = g_loss_nonsaturating(d_fake)
    loss_l1 = l1_loss(y_fake, y)
    return loss_gan + lambda_L1 * loss_l1, loss_gan, loss_l1


def cycle_loss(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """One half of CycleGAN's cycle loss, E||F(G(x)) - x||_1; the full L_cyc adds the y -> F(y) -> G(F(y)) half.

    Taught in notebook 10.
    """
    return l1_loss(x_rec, x)


def identity_loss(y: torch.Tensor, y_idt: torch.Tensor) -> torch.Tensor:
    """One half of CycleGAN's identity loss, E||G(y) - y||_1: G should leave an image already in its domain alone.

    Taught in notebook 10.
    """
    return l1_loss(y_idt, y)
