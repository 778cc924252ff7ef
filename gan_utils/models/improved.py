"""Salimans et al. 2016, "Improved Techniques for Training GANs": what the paper adds to notebook 03's DCGAN.

The paper's techniques are switches on a DCGAN, so this module extends `gan_utils.models.dcgan`. Its reusable
layers live in `nn/` (`nn.minibatch.MinibatchDiscrimination`, `nn.normalization.VirtualBatchNorm`), and its losses
in `losses.py` (`feature_matching`, `semi_supervised_d_loss`). Here: the D with a minibatch-discrimination head and
K class logits, historical averaging, and the surgery that gives a network virtual batch norm.

The paper's own semi-supervised MNIST networks (official `train_mnist_feature_matching.py`) are at the end:
`SSLDiscriminator`, `SSLGenerator`, the EMA of D used for testing (`ssl_ema`), and the training steps
(`ssl_step`, `supervised_step`). Unlike the rest of the course they work on images in [0, 1], as that code does.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gan_utils.losses import feature_matching, semi_supervised_d_loss
from gan_utils.models.dcgan import DCGANDiscriminator
from gan_utils.nn.minibatch import MinibatchDiscrimination
from gan_utils.nn.normalization import VirtualBatchNorm

__all__ = ["ImprovedDiscriminator", "HistoricalAverage", "replace_bn_with_vbn", "GaussianNoise", "SSLDiscriminator",
           "SSLGenerator", "ssl_ema", "ssl_step", "supervised_step", "ssl_accuracy"]


class ImprovedDiscriminator(DCGANDiscriminator):
    """DCGAN's D with minibatch discrimination before the logit and/or K class logits for semi-supervised learning.

    With `minibatch_kernels > 0`, minibatch discrimination reads the globally pooled last-conv features (as in the
    official CIFAR code) and its o(x) joins the features before the logit. With `n_outputs = K > 1`, D returns
    (B, K) logits, the K real classes of the (K+1)-class D (`losses.semi_supervised_d_loss`). `features(x)` is
    unchanged, for feature matching.
    """

    def __init__(self, channels: int = 1, img_size: int = 28, ndf: int = 64, minibatch_kernels: int = 0,
                 minibatch_dim: int = 5, n_outputs: int = 1) -> None:
        # Set before DCGANDiscriminator.__init__, whose call to build_head() reads them.
        self.minibatch_kernels, self.minibatch_dim, self.n_outputs = minibatch_kernels, minibatch_dim, n_outputs
        super().__init__(channels, img_size, ndf)

    def build_head(self) -> nn.Module:
        """Minibatch discrimination (if any) on the pooled features, then a Linear to n_outputs logits."""
        # Pooling first keeps T small: on all 6272 features T would be far larger than D itself.
        self.mbd = (MinibatchDiscrimination(self.last_channels, self.minibatch_kernels, self.minibatch_dim)
                    if self.minibatch_kernels else None)
        return nn.Linear(self.feature_dim + self.minibatch_kernels, self.n_outputs)

    def from_features(self, f: torch.Tensor) -> torch.Tensor:
        """The logits from `features(x)`: (B,), or (B, n_outputs) when n_outputs > 1."""
        if self.mbd is not None:
            pooled = f.reshape(f.shape[0], self.last_channels, -1).mean(2)  # (B, C_last)
            f = torch.cat([f, self.mbd.closeness(pooled)], dim=1)  # (B, feature_dim + n_kernels)
        logits = self.head(f)  # (B, n_outputs)
        return logits.squeeze(1) if self.n_outputs == 1 else logits


class HistoricalAverage:
    """Keeps the running mean of a module's parameters over time and gives the penalty ||theta - mean_t theta_t||^2.

    Call `update()` after each optimiser step and add `lambda * penalty()` to the player's loss. The average
    includes the current parameters once they are recorded, as in the paper's (1/t) sum_{i=1}^t theta[i].
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.count = 0
        self.avg: dict[str, torch.Tensor] = {}

    def update(self) -> None:
        """Record the current parameters into the average."""
        self.count += 1
        with torch.no_grad():
            for name, p in self.module.named_parameters():
                if name not in self.avg:
                    self.avg[name] = p.detach().clone()
                else:
                    self.avg[name] += (p.detach() - self.avg[name]) / self.count

    def penalty(self) -> torch.Tensor:
        """Sum over parameters of ||theta - historical mean||^2 (zero before the first update)."""
        params = dict(self.module.named_parameters())
        first = next(iter(params.values()))
        total = torch.zeros((), device=first.device, dtype=first.dtype)
        for name, avg in self.avg.items():
            total = total + (params[name] - avg).square().sum()
        return total

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "avg": {k: v.clone() for k, v in self.avg.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        # A checkpoint loads to the CPU; the average lives where the module's parameters do.
        params = dict(self.module.named_parameters())
        self.count = int(state["count"])
        self.avg = {k: v.to(params[k].device, copy=True) for k, v in state["avg"].items()}


def replace_bn_with_vbn(model: nn.Module) -> nn.Module:
    """Swap every BatchNorm1d/2d in `model` for a VirtualBatchNorm with the same affine parameters (in place)."""
    for name, child in model.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            vbn = VirtualBatchNorm(child.num_features, child.eps).to(child.weight.device)
            with torch.no_grad():
                vbn.weight.copy_(child.weight)
                vbn.bias.copy_(child.bias)
            setattr(model, name, vbn)
        else:
            replace_bn_with_vbn(child)
    return model


# -- the paper's semi-supervised MNIST networks (official train_mnist_feature_matching.py) -------------------

class GaussianNoise(nn.Module):
    """Adds N(0, sigma^2) noise in training mode only; at test time it is the identity."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.sigma == 0:
            return x
        return x + self.sigma * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}"


def _wn_linear(in_features: int, out_features: int, train_scale: bool) -> nn.Linear:
    """A Linear with weight norm w = g v/||v|| (one g per output unit), initialised as the official nn.DenseLayer."""
    layer = nn.Linear(in_features, out_features)
    nn.init.normal_(layer.weight, 0.0, 0.1)  # the official theta ~ N(0, 0.1); its size sets Adam's relative step
    nn.init.zeros_(layer.bias)
    layer = weight_norm(layer, dim=0)
    g = layer.parametrizations.weight.original0  # (out, 1)
    with torch.no_grad():
        g.fill_(1.0)
    # The official hidden layers keep g where the data-dependent init puts it (train_scale=False).
    g.requires_grad_(train_scale)
    return layer


class SSLDiscriminator(nn.Module):
    """The paper's MNIST D: x (B, 784) or (B, 1, 28, 28) in [0, 1] -> K class logits (B, K); l_{K+1} = 0 is implicit.

    784 -> 1000 -> 500 -> 250 -> 250 -> 250 -> K, weight-normed Linear layers with ReLU, Gaussian noise of std 0.3
    on the input and 0.5 on each hidden layer's output (training mode only). No batch norm, so fake batches never
    touch any statistic used at test time. `features(x)` is the last hidden layer (before its noise), the layer
    that G's feature matching reads. Call `data_init(x)` once on real images before training.
    """

    def __init__(self, in_features: int = 784, hidden: tuple[int, ...] = (1000, 500, 250, 250, 250),
                 n_classes: int = 10, input_noise: float = 0.3, hidden_noise: float = 0.5) -> None:
        super().__init__()
        self.in_features, self.n_classes = in_features, n_classes
        layers: list[nn.Module] = [GaussianNoise(input_noise)]
        for i, (a, b) in enumerate(zip((in_features, *hidden[:-1]), hidden, strict=True)):
            layers += ([GaussianNoise(hidden_noise)] if i > 0 else []) + [_wn_linear(a, b, False), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.out_noise = GaussianNoise(hidden_noise)
        self.head = _wn_linear(hidden[-1], n_classes, True)  # the official output layer trains its scale

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim < 2 or math.prod(x.shape[1:]) != self.in_features:
            raise ValueError(f"D expects images of {self.in_features} pixels, (B, {self.in_features}) or "
                             f"(B, 1, 28, 28), in [0, 1]; got {tuple(x.shape)}. Pass MNIST-sized digits, or build "
                             "D with in_features set to your image size.")
        return x.flatten(1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's output (B, 250): f(x) for feature matching."""
        return self.body(self._flat(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.out_noise(self.features(x)))  # (B, K)

    @torch.no_grad()
    def data_init(self, x: torch.Tensor) -> None:
        """Data-dependent init (Salimans & Kingma 2016): each layer's pre-activations get mean 0, std 1 on `x`."""
        # As in the official init pass, the noise is on (training mode) while the statistics are taken.
        was_training = self.training
        self.train()
        h = self._flat(x)
        for module in [*self.body, self.out_noise, self.head]:
            if isinstance(module, nn.Linear):
                a = F.linear(h, module.weight)  # (N, out), without the bias
                m, s = a.mean(0), a.var(0, unbiased=False).sqrt()
                module.parametrizations.weight.original0.div_(s[:, None])
                module.bias.copy_(-m / s)
            h = module(h)
        self.train(was_training)


class SSLGenerator(nn.Module):
    """The paper's MNIST G: z (B, 100) ~ U(0, 1) -> digit (B, 1, 28, 28) in [0, 1] (softplus MLP, sigmoid output).

    100 -> 500 -> 500 -> 784: Linear, batch norm with a shift but no scale (the official `batch_norm(g=None)`),
    softplus; then a weight-normed Linear with a sigmoid. G is always used in training mode in the official code.
    """

    def __init__(self, z_dim: int = 100, hidden: tuple[int, ...] = (500, 500),
                 img_shape: tuple[int, ...] = (1, 28, 28)) -> None:
        super().__init__()
        self.z_dim, self.img_shape = z_dim, img_shape
        layers: list[nn.Module] = []
        for a, b in zip((z_dim, *hidden[:-1]), hidden, strict=True):
            linear = nn.Linear(a, b, bias=False)  # BN's shift replaces the bias
            nn.init.xavier_uniform_(linear.weight)  # Lasagne's default (Glorot uniform)
            bn = nn.BatchNorm1d(b)
            bn.weight.requires_grad_(False)  # stays 1: the official BN has no scale
            layers += [linear, bn, nn.Softplus()]
        out = nn.Linear(hidden[-1], math.prod(img_shape))
        nn.init.xavier_uniform_(out.weight)
        nn.init.zeros_(out.bias)
        out = weight_norm(out, dim=0)
        with torch.no_grad():
            out.parametrizations.weight.original0.fill_(1.0)  # the official l2normalize starts its scale at 1
        self.net = nn.Sequential(*layers, out, nn.Sigmoid())

    def sample_z(self, n: int, device: torch.device | str | None = None) -> torch.Tensor:
        """n latent codes z ~ U(0, 1)^z_dim, the official code's noise."""
        device = device if device is not None else self.net[0].weight.device
        return torch.rand(n, self.z_dim, device=device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"G expects z of shape (B, {self.z_dim}), got {tuple(z.shape)}; use G.sample_z(B).")
        return self.net(z).view(z.shape[0], *self.img_shape)  # (B, 1, 28, 28)


def draw_labels(y: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Indices of `per_class` labelled examples of each class in `y`, drawn with `seed`: one label draw."""
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in range(int(y.max()) + 1):
        idx = (y == c).nonzero().squeeze(1).cpu()
        if len(idx) < per_class:
            raise ValueError(f"class {c} has {len(idx)} examples, fewer than per_class={per_class}.")
        picks.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return torch.cat(picks).to(y.device)


def ssl_ema(D: nn.Module, decay: float = 0.999) -> AveragedModel:
    """The exponential moving average of D's parameters that is tested (call `.update_parameters(D)` per D step).

    The official code averages with a <- a + 0.0001 (p - a), i.e. decay 0.9999 over 180,000 steps (300 epochs).
    The default 0.999 averages over about the last 1,000 steps, which suits runs of a few thousand steps.
    """
    ema = AveragedModel(D, multi_avg_fn=get_ema_multi_avg_fn(decay))
    ema.update_parameters(D)  # the first update copies D, so the average is usable at once
    return ema


def ssl_step(D: SSLDiscriminator, G: SSLGenerator, opt_D: torch.optim.Optimizer, opt_G: torch.optim.Optimizer,
             x_lab: torch.Tensor, y: torch.Tensor, x_unl: torch.Tensor, x_unl_G: torch.Tensor | None = None,
             D_ema: AveragedModel | None = None, unlabeled_weight: float = 1.0) -> dict[str, float]:
    """One step of the paper's semi-supervised GAN: D on labelled, unlabelled and generated digits, then G.

    As in the official loop: D's update (loss `losses.semi_supervised_d_loss`) on a fresh fake batch, the EMA
    update, then G's feature-matching update against `x_unl_G` (a second unlabelled batch; `x_unl` if None).
    """
    D.train()
    G.train()
    B = x_unl.shape[0]
    with torch.no_grad():
        x_fake = G(G.sample_z(B, x_unl.device))  # (B, 1, 28, 28)
    # One pass over the concatenated batch equals three passes: D has no batch norm, and its noise is per example.
    logits = D(torch.cat([x_lab.flatten(1), x_unl.flatten(1), x_fake.flatten(1)]))  # (B_lab + 2B, K)
    logits_lab, logits_unl, logits_fake = logits.split([x_lab.shape[0], B, B])
    loss_D = semi_supervised_d_loss(logits_lab, y, logits_unl, logits_fake, unlabeled_weight)
    opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    opt_D.step()
    if D_ema is not None:
        D_ema.update_parameters(D)

    x_real = x_unl if x_unl_G is None else x_unl_G
    f = D.features(torch.cat([x_real.flatten(1), G(G.sample_z(B, x_unl.device)).flatten(1)]))  # (2B, 250)
    loss_G = feature_matching(f[:x_real.shape[0]], f[x_real.shape[0]:])
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward(inputs=[p for p in G.parameters() if p.requires_grad])  # D's gradients are not needed
    opt_G.step()
    return {"loss_D": loss_D.item(), "loss_G": loss_G.item(),
            "acc_lab": (logits_lab.argmax(1) == y).float().mean().item()}


def supervised_step(D: nn.Module, opt_D: torch.optim.Optimizer, x_lab: torch.Tensor, y: torch.Tensor,
                    D_ema: AveragedModel | None = None) -> dict[str, float]:
    """One D update on the labelled digits alone: the supervised-only baseline with the same D and optimiser."""
    D.train()
    logits = D(x_lab)  # (B, K)
    loss = F.cross_entropy(logits, y)
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    if D_ema is not None:
        D_ema.update_parameters(D)
    return {"loss_D": loss.item(), "acc_lab": (logits.argmax(1) == y).float().mean().item()}


@torch.no_grad()
def ssl_accuracy(D: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    """Test accuracy of D (or its EMA) as a K-class classifier, in eval mode (no noise); D's mode is restored."""
    was_training = D.training
    D.eval()
    correct = sum(int((D(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch))
    D.train(was_training)
    return correct / len(x)
