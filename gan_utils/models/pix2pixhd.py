"""Wang et al. 2018, pix2pixHD: coarse-to-fine G, multi-scale D, feature matching, instance maps and features.

Extends pix2pix (notebook 09) and CycleGAN's ResNet G (notebook 10): the global generator G1 is
`gan_utils.nn.translation.ResnetGenerator` with pix2pixHD's four down steps, and each of the three discriminators is
09's `PatchDiscriminator`, read block by block so that its intermediate features feed the feature-matching loss.
`train_step` is notebook 11's step; the torchrun entry `gan_utils.scripts.train_pix2pixhd` runs it under
DistributedDataParallel.
Names and defaults follow NVIDIA/pix2pixHD (`models/networks.py`, `models/pix2pixHD_model.py`): `ngf`, `ndf`,
`n_layers`, `num_D`, `n_downsample_global`, `n_blocks_global`, `n_blocks_local`, `feat_num`, `lambda_feat`.
Differences from that code, both small: the VGG loss normalises its input as the ImageNet weights expect; one
local enhancer (the paper's 2048x1024 setting). As there, D's 4x4 convs pad by 2 (pix2pix pads by 1).
"""

from __future__ import annotations

import os
import urllib.error
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.network import network_available
from gan_utils.nn.translation import PatchDiscriminator, ResnetBlock, ResnetGenerator, norm_layer

__all__ = [
    "GlobalGenerator", "InstanceEncoder", "LocalEnhancer", "MultiscaleDiscriminator", "VGGLoss",
    "cluster_instance_features", "downsample", "gan_feat_loss", "generator_input", "instance_boundary",
    "instance_means", "instance_pool", "load_vgg_loss", "multiscale_gan_loss", "train_step",
]  # fmt: skip


# --------------------------------------------------------------------------- instance maps


def instance_boundary(inst: torch.Tensor) -> torch.Tensor:
    """The instance boundary map (B, 1, H, W) float: 1 where a pixel's id differs from any of its 4 neighbours.

    pix2pixHD's `get_edges`: both pixels of every differing horizontal or vertical pair are marked, so two cars
    of one class that touch get a 2-pixel line between them, which the label map alone cannot show.

    Taught in notebook 11.
    """
    if inst.dim() != 4 or inst.shape[1] != 1:
        raise ValueError(f"instance map must be (B, 1, H, W), got {tuple(inst.shape)}.")
    if inst.is_floating_point():
        raise ValueError("instance map must hold integer ids (e.g. Cityscapes' instanceIds); got floats. Pass "
                         "the map as read, not normalised.")
    edge = torch.zeros(inst.shape, dtype=torch.bool, device=inst.device)
    dx = inst[..., :, 1:] != inst[..., :, :-1]  # (B, 1, H, W-1)
    dy = inst[..., 1:, :] != inst[..., :-1, :]  # (B, 1, H-1, W)
    edge[..., :, 1:] |= dx
    edge[..., :, :-1] |= dx
    edge[..., 1:, :] |= dy
    edge[..., :-1, :] |= dy
    return edge.float()


def _instance_index(inst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A compact index per (image, instance id) pair for every pixel, and the (image, id) of each index."""
    if inst.dim() != 4 or inst.shape[1] != 1 or inst.is_floating_point():
        raise ValueError(f"instance map must be (B, 1, H, W) integer ids, got {tuple(inst.shape)} {inst.dtype}.")
    b = torch.arange(inst.shape[0], device=inst.device).view(-1, 1, 1, 1).expand_as(inst)
    pairs = torch.stack([b.reshape(-1), inst.reshape(-1).long()], 1)  # (B*H*W, 2)
    keys, index = torch.unique(pairs, dim=0, return_inverse=True)  # keys (N, 2): image, id
    return index, keys


def instance_means(feats: torch.Tensor, inst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean feature of every instance: (N, C) means and (N, 2) keys (image index, instance id), sorted."""
    if feats.shape[0] != inst.shape[0] or feats.shape[-2:] != inst.shape[-2:]:
        raise ValueError(f"features {tuple(feats.shape)} and instance map {tuple(inst.shape)} must share "
                         "batch and spatial size.")
    index, keys = _instance_index(inst)
    c = feats.shape[1]
    flat = feats.permute(0, 2, 3, 1).reshape(-1, c)  # (B*H*W, C), pixel order as in index
    sums = flat.new_zeros(len(keys), c).index_add(0, index, flat)
    counts = torch.bincount(index, minlength=len(keys)).to(flat.dtype)
    return sums / counts[:, None], keys


def instance_pool(feats: torch.Tensor, inst: torch.Tensor) -> torch.Tensor:
    """Instance-wise average pooling: every pixel gets the mean of `feats` (B, C, H, W) over its instance.

    Taught in notebook 11.
    """
    index, _ = _instance_index(inst)
    means, _ = instance_means(feats, inst)
    b, c, h, w = feats.shape
    return means[index].view(b, h, w, c).permute(0, 3, 1, 2).contiguous()  # (B, C, H, W)


def generator_input(ids: torch.Tensor, num_classes: int, inst: torch.Tensor | None = None,
                    feat: torch.Tensor | None = None, boundary: bool = True) -> torch.Tensor:
    """G's input: the one-hot label map (B, K, H, W), then the instance boundary map, then encoder features."""
    if ids.dim() != 4 or ids.shape[1] != 1:
        raise ValueError(f"label ids must be (B, 1, H, W), got {tuple(ids.shape)}.")
    if ids.numel() and int(ids.max()) >= num_classes:
        raise ValueError(f"label id {int(ids.max())} >= num_classes={num_classes}; pass the set's label_nc.")
    parts = [F.one_hot(ids[:, 0].long(), num_classes).permute(0, 3, 1, 2).float()]
    if boundary:
        if inst is None:
            raise ValueError("boundary=True needs the instance map; pass inst, or boundary=False for label maps "
                             "without instances.")
        parts.append(instance_boundary(inst))
    if feat is not None:
        parts.append(feat.to(parts[0].dtype))
    return torch.cat(parts, 1)


# --------------------------------------------------------------------------- generators


class GlobalGenerator(ResnetGenerator):
    """G1: CycleGAN's ResNet G with pix2pixHD's defaults, 4 down steps and 9 residual blocks (`ngf` 64)."""

    def __init__(self, in_channels: int, out_channels: int = 3, ngf: int = 64, n_downsample_global: int = 4,
                 n_blocks_global: int = 9, norm: str = "instance") -> None:
        super().__init__(in_channels, out_channels, ngf, n_blocks_global, norm, n_down=n_downsample_global)
        self.ngf = ngf

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map before the output layer (B, ngf, H, W): what G2 adds its own features to."""
        step = 2 ** self.n_down
        if x.shape[-1] % step or x.shape[-2] % step:
            raise ValueError(f"input {x.shape[-1]}x{x.shape[-2]} is not divisible by {step}; resize the maps.")
        return self.model[:-3](x)


def downsample(x: torch.Tensor) -> torch.Tensor:
    """pix2pixHD's 2x downsampling of inputs and images: 3x3 average pooling, stride 2, padding not counted."""
    return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)


class LocalEnhancer(nn.Module):
    """G = {G1, G2}: G2's front end at full size, plus G1's last features at half size, then G2's back end.

    G2 front: c7s1-ngf, d(2 ngf). G1 runs on the input downsampled by 2 and has twice G2's width, so its
    features (2 ngf channels at half size) add to the front end's output; G2's back end (n_blocks_local residual
    blocks, u(ngf), c7s1-3) makes the full-size image. Pass a trained G1 as `global_G` (the paper trains G1
    first, then G2 alone with G1 fixed, then both); `freeze_global` switches G1's training on and off.

    Taught in notebook 11.
    """

    def __init__(self, in_channels: int, out_channels: int = 3, ngf: int = 32, n_downsample_global: int = 3,
                 n_blocks_global: int = 9, n_blocks_local: int = 3, norm: str = "instance",
                 global_G: GlobalGenerator | None = None) -> None:
        super().__init__()
        if global_G is None:
            global_G = GlobalGenerator(in_channels, out_channels, 2 * ngf, n_downsample_global, n_blocks_global,
                                       norm)
        elif global_G.ngf != 2 * ngf:
            raise ValueError(f"G1 has ngf={global_G.ngf}; G2 with ngf={ngf} needs G1 with ngf={2 * ngf} (G1 is "
                             "twice as wide). Build G1 with that width or pick ngf=G1.ngf // 2.")
        self.G1 = global_G
        c = 2 * ngf
        self.front = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), norm_layer(norm, ngf),
                                   nn.ReLU(), nn.Conv2d(ngf, c, 3, 2, 1), norm_layer(norm, c), nn.ReLU())
        self.back = nn.Sequential(*[ResnetBlock(c, norm) for _ in range(n_blocks_local)],
                                  nn.ConvTranspose2d(c, ngf, 3, 2, 1, output_padding=1), norm_layer(norm, ngf),
                                  nn.ReLU(), nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh())

    def freeze_global(self, frozen: bool = True) -> None:
        """Fix G1's weights (G2 trains alone) or release them (joint training)."""
        for p in self.G1.parameters():
            p.requires_grad_(not frozen)

    def local_parameters(self) -> list[nn.Parameter]:
        """G2's own parameters, without G1's."""
        return [*self.front.parameters(), *self.back.parameters()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        step = 2 ** (self.G1.n_down + 1)
        if x.shape[-1] % step or x.shape[-2] % step:
            raise ValueError(f"input {x.shape[-1]}x{x.shape[-2]} is not divisible by {step} (G1's steps on the "
                             "half-size input); resize the maps.")
        g1 = self.G1.features(downsample(x))  # (B, 2 ngf, H/2, W/2)
        return self.back(self.front(x) + g1)  # (B, out_channels, H, W) in [-1, 1]


class InstanceEncoder(nn.Module):
    """E: an encoder-decoder from the real photo to `feat_num` features, averaged within each instance.

    pix2pixHD's `Encoder`: c7s1-ngf, n_downsampling d-layers, as many u-layers, c7s1-feat_num, tanh; then
    `instance_pool`, so that each object gets one feature vector (its "style"), which G reads beside the map.
    """

    def __init__(self, in_channels: int = 3, feat_num: int = 3, ngf: int = 16, n_downsampling: int = 4,
                 norm: str = "instance") -> None:
        super().__init__()
        self.n_down = n_downsampling
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7), norm_layer(norm, ngf),
                                   nn.ReLU()]
        c = ngf
        for _ in range(n_downsampling):
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1), norm_layer(norm, 2 * c), nn.ReLU()]
            c *= 2
        for _ in range(n_downsampling):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1), norm_layer(norm, c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, feat_num, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, inst: torch.Tensor) -> torch.Tensor:
        step = 2 ** self.n_down
        if x.shape[-1] % step or x.shape[-2] % step:
            raise ValueError(f"input {x.shape[-1]}x{x.shape[-2]} is not divisible by {step}; resize the photos.")
        return instance_pool(self.model(x), inst)  # (B, feat_num, H, W), constant within each instance


# --------------------------------------------------------------------------- discriminators and losses


class MultiscaleDiscriminator(nn.Module):
    """num_D PatchGAN Ds on an image pyramid (full size, 1/2, 1/4, ...): coarse ones see the global layout.

    forward returns one list per scale, finest first; each holds the n_layers + 2 block outputs of that D, the
    last being its logit map. The intermediate ones feed `gan_feat_loss`.

    Taught in notebook 11.
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, num_D: int = 3,
                 norm: str = "instance") -> None:
        super().__init__()
        if num_D < 1 or n_layers < 1:
            raise ValueError(f"num_D={num_D}, n_layers={n_layers}; both must be at least 1 (the paper: 3 and 3).")
        self.num_D, self.n_layers = num_D, n_layers
        self.Ds = nn.ModuleList([PatchDiscriminator(in_channels, ndf, n_layers, norm) for _ in range(num_D)])
        for m in self.Ds.modules():
            if isinstance(m, nn.Conv2d):
                m.padding = (2, 2)  # pix2pixHD's ceil((4 - 1) / 2): the coarsest D still fits a 16 px high image

        # 09's PatchGAN cut into its blocks: C64-LeakyReLU, each C-norm-LeakyReLU, the output conv.
        self.cuts = (2, *range(5, 3 * n_layers + 3, 3), 3 * n_layers + 3)

    def scale_features(self, k: int, x: torch.Tensor) -> list[torch.Tensor]:
        """The block outputs of D_k on x (already at D_k's scale), the logit map last."""
        feats, h, start = [], x, 0
        layers = self.Ds[k].model
        for end in self.cuts:
            for layer in layers[start:end]:
                h = layer(h)
            feats.append(h)
            start = end
        return feats

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        outputs = []
        for k in range(self.num_D):
            if k:
                x = downsample(x)  # (B, C, H / 2^k, W / 2^k)
            outputs.append(self.scale_features(k, x))
        return outputs


def multiscale_gan_loss(outputs: Sequence[Sequence[torch.Tensor] | torch.Tensor],
                        target_is_real: bool) -> torch.Tensor:
    """pix2pixHD's LSGAN loss summed over the scales: sum_k E[(D_k - t)^2] with t = 1 (real) or 0 (fake)."""
    if not len(outputs):
        raise ValueError("no discriminator outputs; pass MultiscaleDiscriminator(...)(x).")
    target = 1.0 if target_is_real else 0.0
    loss = torch.zeros(())
    for out in outputs:
        logits = out if isinstance(out, torch.Tensor) else out[-1]
        loss = loss.to(logits.device) + (logits - target).square().mean()
    return loss


def gan_feat_loss(feats_fake: Sequence[Sequence[torch.Tensor]], feats_real: Sequence[Sequence[torch.Tensor]],
                          lambda_feat: float = 10.0) -> torch.Tensor:
    """lambda * sum_k sum_i w_i ||D_k^(i)(real) - D_k^(i)(fake)||_1 over every D's intermediate features.

    As NVIDIA's code: each layer's mean absolute difference weighted by 4 / (number of intermediate layers) and
    by 1 / num_D; the logits are left out; the real features are targets (detached).
    """
    if len(feats_fake) != len(feats_real) or not len(feats_fake):
        raise ValueError(f"{len(feats_fake)} fake and {len(feats_real)} real scales; pass both outputs of the "
                         "same MultiscaleDiscriminator.")
    loss = torch.zeros(())
    num_D = len(feats_fake)
    for fake, real in zip(feats_fake, feats_real, strict=True):
        if len(fake) != len(real) or len(fake) < 2:
            raise ValueError("each scale needs the same list of at least 2 feature maps for fake and real.")
        w = 4.0 / (len(fake) - 1)
        for f, r in zip(fake[:-1], real[:-1], strict=True):
            loss = loss.to(f.device) + (w / num_D) * (f - r.detach()).abs().mean()
    return lambda_feat * loss


# --------------------------------------------------------------------------- VGG perceptual loss


VGG_LAYERS = (2, 7, 12, 21, 30)  # torchvision vgg19.features cut after relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
VGG_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)


class VGGLoss(nn.Module):
    """pix2pixHD's perceptual loss: sum_i w_i ||F_i(x) - F_i(G(s))||_1 over slices of a frozen feature net.

    `features` is torchvision's vgg19().features (or any Sequential); `cuts` are the slice ends. Images in
    [-1, 1] are mapped to the ImageNet normalisation the weights were trained with.
    """

    def __init__(self, features: nn.Sequential, cuts: Sequence[int] = VGG_LAYERS,
                 weights: Sequence[float] = VGG_WEIGHTS) -> None:
        super().__init__()
        if len(cuts) != len(weights):
            raise ValueError(f"{len(cuts)} slices but {len(weights)} weights; give one weight per slice.")
        starts = (0, *cuts[:-1])
        self.slices = nn.ModuleList([nn.Sequential(*list(features)[a:b]) for a, b in zip(starts, cuts, strict=True)])
        self.weights = tuple(weights)
        self.requires_grad_(False)
        self.eval()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> VGGLoss:
        """Stays in eval mode: the feature net is a fixed measuring instrument."""
        return super().train(False)

    def forward(self, x_fake: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
        h_fake = ((x_fake + 1) / 2 - self.mean) / self.std
        h_real = ((x_real + 1) / 2 - self.mean) / self.std
        loss = x_fake.new_zeros(())
        for w, block in zip(self.weights, self.slices, strict=True):
            h_fake, h_real = block(h_fake), block(h_real)
            loss = loss + w * (h_fake - h_real.detach()).abs().mean()
        return loss


def _torchvision_vgg19() -> nn.Sequential:
    from torchvision.models import VGG19_Weights, vgg19

    return vgg19(weights=VGG19_Weights.IMAGENET1K_V1).features


def load_vgg_loss(device: str | torch.device = "cpu", builder: Callable[[], nn.Sequential] | None = None,
                  verbose: bool = True) -> VGGLoss | None:
    """The VGG loss with torchvision's ImageNet VGG19 (cached or downloaded), or None with a notice if unavailable."""
    cached = any(Path(torch.hub.get_dir(), "checkpoints").glob("vgg19-*.pth"))
    if builder is None:
        if not cached and (os.environ.get("GAN_OFFLINE") or not network_available("download.pytorch.org")):
            if verbose:
                print("Notice: the VGG loss is OFF: torchvision's VGG19 weights are not cached and "
                      "download.pytorch.org cannot be reached. Training goes on with the GAN and feature-matching "
                      "losses only; run once with a network to fetch the weights (548 MB).")
            return None
        builder = _torchvision_vgg19
    try:
        features = builder()
    except (OSError, RuntimeError, urllib.error.URLError) as err:
        if verbose:
            print(f"Notice: the VGG loss is OFF: the VGG19 weights could not be loaded ({type(err).__name__}: "
                  f"{err}). Training goes on with the GAN and feature-matching losses only.")
        return None
    return VGGLoss(features).to(device)


# --------------------------------------------------------------------------- styles by K-means


def cluster_instance_features(feats: np.ndarray | torch.Tensor, k: int = 10, seed: int = 0,
                              n_init: int = 5) -> np.ndarray:
    """K-means centres (k', C) of per-instance features (N, C), k' = min(k, N): the paper's styles per class.

    scipy's kmeans2 with '++' seeding, the best of n_init seeded runs by distortion; duplicates are dropped.
    """
    from scipy.cluster.vq import kmeans2

    x = torch.as_tensor(feats).detach().cpu().double().numpy() if isinstance(feats, torch.Tensor) else \
        np.asarray(feats, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"features must be (N, C) with N >= 1 instances, got shape {x.shape}.")
    k = min(k, len(np.unique(x, axis=0)))
    if k == 1:
        return x.mean(0, keepdims=True)
    best, best_err = x[:k], np.inf
    for r in range(n_init):
        with warnings.catch_warnings():  # an empty cluster keeps its centre; the best run rarely has one
            warnings.simplefilter("ignore", UserWarning)
            centres, labels = kmeans2(x, k, minit="++", seed=seed + r)
        err = float(((x - centres[labels]) ** 2).sum())
        if err < best_err:
            best, best_err = centres, err
    _, first = np.unique(best, axis=0, return_index=True)
    return best[np.sort(first)]


# --------------------------------------------------------------------------- the training step


def train_step(G: nn.Module, D: nn.Module, E: nn.Module | None,
               opt_G: torch.optim.Optimizer | Iterable[torch.optim.Optimizer], opt_D: torch.optim.Optimizer,
               a: torch.Tensor, k: torch.Tensor, y: torch.Tensor, label_nc: int,
               vgg: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None, use_boundary: bool = True,
               joint_D: bool = False, D_for_G: nn.Module | None = None) -> dict[str, float]:
    """One pix2pixHD step, in NVIDIA's order: G (and E) on GAN + feature matching (+ 10 VGG), then D on the halved
    LSGAN loss, with one D state for all of it.

    a: label ids (B, 1, H, W); k: instance keys (B, 1, H, W); y: photos (B, 3, H, W) in [-1, 1]. G reads the
    one-hot map, the instance boundary map (unless use_boundary=False) and E's pooled features (unless E is None);
    D judges (map and boundary, photo) pairs. The real features that G's fake features are matched against, and
    the scores of D's own loss, all come from D before its update (NVIDIA's `pix2pixHD_model.forward` computes
    them in one pass; `train.py` then steps G, then D). opt_G is one optimizer or several (all zeroed and stepped
    together). joint_D sends the real and the fake pairs through D in one call, as DistributedDataParallel needs
    (one forward per backward); every layer of D normalises per image, so only rounding changes. Under DDP, D_for_G
    is D's plain module: G's pass and the real features for it go through it, before D's own forward, so that
    D's gradients from G's loss (thrown away) never meet DDP's all-reduce.

    Taught in notebook 11.
    """
    x = generator_input(a, label_nc, k, boundary=use_boundary)  # (B, K + 1, H, W): one-hot map and boundary
    x_G = torch.cat([x, E(y, k)], 1) if E is not None else x  # + the instance features
    y_fake = G(x_G)  # (B, 3, H, W)
    D_G = D if D_for_G is None else D_for_G
    if joint_D:
        with torch.no_grad():
            pred_real = D_G(torch.cat([x, y], 1))  # the targets of feature matching only
    else:
        pred_real = D(torch.cat([x, y], 1))  # also D's real scores below
    pred_fake = D_G(torch.cat([x, y_fake], 1))
    loss_gan, loss_fm = multiscale_gan_loss(pred_fake, True), gan_feat_loss(pred_fake, pred_real)
    loss_vgg = 10.0 * vgg(y_fake, y) if vgg is not None else torch.zeros((), device=y.device)
    opts = [opt_G] if isinstance(opt_G, torch.optim.Optimizer) else list(opt_G)
    for opt in opts:
        opt.zero_grad(set_to_none=True)
    (loss_gan + loss_fm + loss_vgg).backward()
    for opt in opts:
        opt.step()
    opt_D.zero_grad(set_to_none=True)  # drops what G's loss left in D; D itself has not changed yet
    if joint_D:
        pred = D(torch.cat([torch.cat([x, y], 1), torch.cat([x, y_fake.detach()], 1)]))  # real then fake
        n = len(y)
        pred_real = [[f[:n] for f in scale] for scale in pred]
        pred_fake_D = [[f[n:] for f in scale] for scale in pred]
    else:
        pred_fake_D = D(torch.cat([x, y_fake.detach()], 1))
    loss_D = 0.5 * (multiscale_gan_loss(pred_real, True) + multiscale_gan_loss(pred_fake_D, False))
    loss_D.backward()
    opt_D.step()
    losses = {"loss_D": loss_D.item(), "loss_G_GAN": loss_gan.item(), "loss_G_FM": loss_fm.item()}
    return losses | ({"loss_G_VGG": loss_vgg.item()} if vgg is not None else {})
