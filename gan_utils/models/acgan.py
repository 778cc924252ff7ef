"""Odena, Olah & Shlens 2017, AC-GAN: a class-conditional G, and a D with two heads, source and class.

AC-GAN extends DCGAN (the paper's networks are DCGAN-style), so both networks build on `models.dcgan`:
- G is DCGAN's generator with the class y joined to z as a one-hot code (110 inputs for z of 100 and 10 classes,
  as in the paper's CIFAR-10 table);
- D does **not** see y. Its last features feed one Linear with 1 + K outputs: the source logit (real or fake) and K
  class logits, the auxiliary classifier.

`LabelInputDiscriminator` is the baseline the paper's diversity claim needs: the same D without the auxiliary
classifier, which receives y instead (one-hot channels on the image, as in the DCGAN authors' conditional code) and
has one output, trained with the plain GAN losses of `gan_utils.losses` (a conditional GAN, as in notebook 02).

The two log-likelihoods of the paper, as batch means (the paper's expectations):
- L_S = E[log P(S=real | x_real)] + E[log P(S=fake | x_fake)]
- L_C = E[log P(C=c | x_real)] + E[log P(C=c | x_fake)]
D maximises L_S + L_C; G maximises L_C - L_S. `d_loss` and `g_loss` are the quantities to minimise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.models.dcgan import DCGANDiscriminator, DCGANGenerator

__all__ = ["ACGANGenerator", "ACGANDiscriminator", "LabelInputDiscriminator", "check_labels", "source_log_likelihood",
           "class_log_likelihood", "d_loss", "g_loss"]


def check_labels(y: torch.Tensor, n_classes: int, what: str = "labels y") -> None:
    """Raise a clear ValueError unless y is a 1-D integer tensor of class indices in [0, n_classes)."""
    if y.dim() != 1 or y.dtype.is_floating_point or y.dtype == torch.bool:
        raise ValueError(f"{what} must be a 1-D integer tensor of class indices (B,), got dtype {y.dtype} and "
                         f"shape {tuple(y.shape)}; pass indices such as torch.tensor([3, 1, 4]), not one-hots.")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(f"{what} must lie in [0, {n_classes - 1}] for {n_classes} classes, got values from "
                         f"{int(y.min())} to {int(y.max())}; check n_classes or the labels.")


class ACGANGenerator(DCGANGenerator):
    """(z, y) -> image: DCGAN's generator with one_hot(y) joined to z; y is required.

    Taught in notebook 06.
    """

    def __init__(self, z_dim: int = 100, n_classes: int = 10, channels: int = 3, img_size: int = 32,
                 ngf: int = 64) -> None:
        if n_classes < 2:
            raise ValueError(f"an AC-GAN needs at least 2 classes, got n_classes={n_classes}.")
        super().__init__(z_dim=z_dim, channels=channels, img_size=img_size, ngf=ngf, n_classes=n_classes)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            raise ValueError("an AC-GAN generator draws a requested class: call G(z, y) with labels y (B,).")
        check_labels(y, self.n_classes)
        if len(y) != len(z):
            raise ValueError(f"z and y disagree on the batch size: {len(z)} vs {len(y)}.")
        return super().forward(z, y)  # (B, channels, img_size, img_size)


class ACGANDiscriminator(DCGANDiscriminator):
    """image (B, C, H, W) -> (source logit (B,), class logits (B, K)); D never sees the label.

    Both heads share DCGAN's conv body and one Linear with 1 + K outputs, as the paper's single layer with a
    sigmoid and a softmax on top. Dropout on the shared features stands in for the paper's dropout in D.

    Taught in notebook 06.
    """

    def __init__(self, n_classes: int = 10, channels: int = 3, img_size: int = 32, ndf: int = 64,
                 dropout: float = 0.5) -> None:
        if n_classes < 2:
            raise ValueError(f"an AC-GAN needs at least 2 classes, got n_classes={n_classes}.")
        # Set before DCGANDiscriminator.__init__, whose call to build_head() reads them.
        self.n_aux, self.dropout = n_classes, dropout
        super().__init__(channels=channels, img_size=img_size, ndf=ndf)  # no label input: n_classes=0 there

    def build_head(self) -> nn.Module:
        """Dropout, then one Linear to 1 + K outputs: column 0 is the source logit, the rest the class logits."""
        return nn.Sequential(nn.Dropout(self.dropout), nn.Linear(self.feature_dim, 1 + self.n_aux))

    def from_features(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        """(source logit (B,), class logits (B, K)) from `features(x)`."""
        out = self.head(f)  # (B, 1 + K)
        return out[:, 0], out[:, 1:]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        return self.from_features(self.features(x))


class LabelInputDiscriminator(DCGANDiscriminator):
    """(image (B, C, H, W), labels y (B,)) -> source logit (B,): AC-GAN's D with y as input and no class head.

    The baseline without the auxiliary classifier: the same conv body, dropout and width as `ACGANDiscriminator`,
    but y enters as K one-hot channels on the image (DCGAN's conditional input), and the single Linear has one
    output, the source logit.

    Taught in notebook 06.
    """

    def __init__(self, n_classes: int = 10, channels: int = 3, img_size: int = 32, ndf: int = 64,
                 dropout: float = 0.5) -> None:
        if n_classes < 2:
            raise ValueError(f"a class-conditional D needs at least 2 classes, got n_classes={n_classes}.")
        self.dropout = dropout  # read by build_head() inside DCGANDiscriminator.__init__
        super().__init__(channels=channels, img_size=img_size, ndf=ndf, n_classes=n_classes)

    def build_head(self) -> nn.Module:
        """Dropout, then one Linear to the source logit: ACGANDiscriminator's head without its K class outputs."""
        return nn.Sequential(nn.Dropout(self.dropout), nn.Linear(self.feature_dim, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if y is None:
            raise ValueError("this D judges (image, label) pairs: call D(x, y) with labels y (B,).")
        check_labels(y, self.n_classes)
        return self.from_features(self.features(x, y))  # (B,)


def source_log_likelihood(s_real: torch.Tensor, s_fake: torch.Tensor) -> torch.Tensor:
    """L_S = mean log P(S=real | x_real) + mean log P(S=fake | x_fake), from source logits (B,).

    Taught in notebook 06.
    """
    # log sigmoid(a) = -softplus(-a) and log(1 - sigmoid(a)) = -softplus(a), without forming the probabilities.
    return -F.softplus(-s_real).mean() - F.softplus(s_fake).mean()


def class_log_likelihood(c_real: torch.Tensor, y_real: torch.Tensor, c_fake: torch.Tensor,
                         y_fake: torch.Tensor) -> torch.Tensor:
    """L_C = mean log P(C=y | x_real) + mean log P(C=y | x_fake), from class logits (B, K) and labels (B,).

    Taught in notebook 06.
    """
    for logits, y, what in ((c_real, y_real, "y_real"), (c_fake, y_fake, "y_fake")):
        if logits.dim() != 2 or logits.shape[0] != len(y):
            raise ValueError(f"class logits must be (B, K) with B = len({what}) = {len(y)}, got "
                             f"{tuple(logits.shape)}.")
        check_labels(y, logits.shape[1], what)
    return -F.cross_entropy(c_real, y_real) - F.cross_entropy(c_fake, y_fake)


def d_loss(s_real: torch.Tensor, c_real: torch.Tensor, y_real: torch.Tensor, s_fake: torch.Tensor,
           c_fake: torch.Tensor, y_fake: torch.Tensor) -> torch.Tensor:
    """What D minimises: -(L_S + L_C).

    Taught in notebook 06.
    """
    return -(source_log_likelihood(s_real, s_fake) + class_log_likelihood(c_real, y_real, c_fake, y_fake))


def g_loss(s_fake: torch.Tensor, c_fake: torch.Tensor, y_fake: torch.Tensor,
           saturating: bool = False) -> torch.Tensor:
    """What G minimises: the terms of -(L_C - L_S) that depend on G, i.e. those on x_fake.

    saturating=True is the paper's objective as written: -mean log P(C=y | x_fake) + mean log P(S=fake | x_fake).
    The default replaces the source term by the non-saturating -mean log P(S=real | x_fake) (Goodfellow et al.
    2014), which has the same fixed point and strong gradients while D wins.

    Taught in notebook 06.
    """
    check_labels(y_fake, c_fake.shape[1], "y_fake")
    class_term = F.cross_entropy(c_fake, y_fake)  # -mean log P(C=y | x_fake)
    source_term = -F.softplus(s_fake).mean() if saturating else F.softplus(-s_fake).mean()
    return class_term + source_term
