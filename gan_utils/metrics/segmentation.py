"""The FCN-score on our scale: segment generated photos with a net trained on real ones, and score the labels.

pix2pix (Table 1) and CycleGAN (Table 2) run FCN-8s, trained on Cityscapes, on label -> photo outputs and
report per-pixel accuracy, per-class accuracy and class IoU against the input labels; the same net on the real
photos gives the ceiling. Here the segmenter is a small U-Net trained on the few real training photos at hand,
over the collapsed classes, so the numbers are comparable within the course, not with the papers'.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.functional.classification import multiclass_accuracy, multiclass_jaccard_index

__all__ = ["SegNet", "class_accuracy", "degrade", "fit_segmenter", "mean_iou", "pixel_accuracy", "segment",
           "segmentation_scores", "train_segmenter"]


def _flat(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if pred.dim() == target.dim() + 1 and pred.is_floating_point():
        pred = pred.argmax(1)  # logits (B, K, H, W) -> ids (B, H, W)
    if pred.shape != target.shape:
        raise ValueError(f"predicted ids {tuple(pred.shape)} and target ids {tuple(target.shape)} differ in shape; "
                         "give ids of one shape, or logits (B, K, H, W) for targets (B, H, W).")
    # Scores are counted on the CPU, so predictions (`segment` returns CPU ids) and targets on the device can meet.
    return pred.reshape(-1).long().cpu(), target.reshape(-1).long().cpu()


def pixel_accuracy(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                   ignore_index: int | None = None) -> float:
    """The fraction of pixels whose class is right (pixels of ignore_index, e.g. void, are not counted)."""
    p, t = _flat(pred, target)
    return float(multiclass_accuracy(p, t, num_classes, average="micro", ignore_index=ignore_index))


def class_accuracy(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                   ignore_index: int | None = None) -> float:
    """Per-class accuracy (recall), averaged over the classes present in the target."""
    p, t = _flat(pred, target)
    recall = multiclass_accuracy(p, t, num_classes, average="none", ignore_index=ignore_index)
    present = torch.bincount(t[t != ignore_index] if ignore_index is not None else t, minlength=num_classes) > 0
    if ignore_index is not None and 0 <= ignore_index < num_classes:
        present[ignore_index] = False
    return float(recall[present].mean()) if present.any() else float("nan")


def mean_iou(pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int | None = None) -> float:
    """Intersection over union per class, averaged over the classes that occur in the prediction or the target.

    torchmetrics' MulticlassJaccardIndex (macro), which leaves out classes absent from both.
    """
    p, t = _flat(pred, target)
    return float(multiclass_jaccard_index(p, t, num_classes, average="macro", ignore_index=ignore_index))


def segmentation_scores(pred: torch.Tensor, target: torch.Tensor, num_classes: int,
                        ignore_index: int | None = None) -> dict[str, float]:
    """The three columns of pix2pix's Table 1: per-pixel accuracy, per-class accuracy, class IoU."""
    return {"pixel_acc": pixel_accuracy(pred, target, num_classes, ignore_index),
            "class_acc": class_accuracy(pred, target, num_classes, ignore_index),
            "mean_iou": mean_iou(pred, target, num_classes, ignore_index)}


class SegNet(nn.Module):
    """A small U-Net segmenter: photo (B, 3, H, W) in [-1, 1] -> class logits (B, n_classes, H, W).

    `depth` 3x3 conv blocks down (max pooling) and up (bilinear upsampling, with skips); sizes divisible by
    2^depth. Small on purpose: it is a measuring instrument trained on a few dozen photos.
    """

    def __init__(self, n_classes: int, in_channels: int = 3, width: int = 16, depth: int = 3) -> None:
        super().__init__()
        self.depth = depth

        def block(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                                 nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())

        ch = [width * 2 ** i for i in range(depth + 1)]
        self.downs = nn.ModuleList([block(in_channels, ch[0])] + [block(ch[i], ch[i + 1]) for i in range(depth)])
        self.ups = nn.ModuleList([block(ch[i + 1] + ch[i], ch[i]) for i in range(depth)])
        self.head = nn.Conv2d(ch[0], n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 2 ** self.depth or x.shape[-2] % 2 ** self.depth:
            raise ValueError(f"input {x.shape[-1]}x{x.shape[-2]} is not divisible by 2^depth = {2 ** self.depth}.")
        feats = []
        for i, down in enumerate(self.downs):
            x = down(x if i == 0 else F.max_pool2d(x, 2))
            feats.append(x)
        for i in reversed(range(self.depth)):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = self.ups[i](torch.cat([x, feats[i]], 1))
        return self.head(x)  # (B, n_classes, H, W)


def degrade(x: torch.Tensor, generator: torch.Generator | None = None, max_sigma: float = 1.5,
            max_noise: float = 0.1) -> torch.Tensor:
    """Each image (B, 3, H, W) in [-1, 1] blurred by a Gaussian of random sd in [0, max_sigma] px, plus pixel noise
    of random sd in [0, max_noise]: the softness and grain of generated photos, shown to a segmenter in training.

    A segmenter trained on sharp real photos alone reads a blurred photo badly, and then scores a generator's blur
    rather than its layout. Draws from `generator` on the CPU, so a seeded run repeats on any device.
    """
    b = len(x)
    sigma = torch.rand(b, generator=generator) * max_sigma                         # (B,)
    noise_sd = torch.rand(b, generator=generator) * max_noise                      # (B,)
    eps = torch.randn(x.shape, generator=generator).to(x.device)
    r = int(max(1, round(3 * max_sigma)))
    t = torch.arange(-r, r + 1, dtype=x.dtype)                                    # (2r + 1,)
    k = torch.exp(-0.5 * t[None] ** 2 / sigma.clamp_min(1e-3)[:, None] ** 2)       # (B, 2r + 1)
    k = (k / k.sum(1, keepdim=True)).to(x.device)
    c = x.shape[1]
    # a separable blur, one kernel per image: fold the batch into the channels of a grouped convolution
    y = x.reshape(1, b * c, *x.shape[-2:])
    kx = k.repeat_interleave(c, 0)[:, None, None, :]                               # (B C, 1, 1, 2r + 1)
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="reflect"), kx, groups=b * c)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), kx.transpose(-1, -2), groups=b * c)
    y = y.reshape(x.shape) + noise_sd.to(x.device)[:, None, None, None] * eps
    return y.clamp(-1, 1)


def train_segmenter(net: SegNet, photos: torch.Tensor, labels: torch.Tensor, steps: int = 500,
                    batch_size: int = 8, lr: float = 1e-2, flip: bool = True, ignore_index: int | None = None,
                    generator: torch.Generator | None = None, augment: bool = False) -> list[float]:
    """Train `net` on photos (N, 3, H, W) in [-1, 1] or uint8 and class ids (N, 1, H, W) or (N, H, W); losses.

    Adam with cross-entropy, random horizontal flips; batches drawn with replacement by `generator`. With
    `augment`, each training photo is also blurred and noised at random (`degrade`), so that the segmenter reads
    generated photos, softer than real ones, by their layout.
    """
    if photos.dtype == torch.uint8:
        photos = photos.float() / 127.5 - 1
    labels = labels[:, 0] if labels.dim() == 4 else labels
    if len(photos) != len(labels) or photos.shape[-2:] != labels.shape[-2:]:
        raise ValueError(f"{tuple(photos.shape)} photos and {tuple(labels.shape)} labels do not match.")
    device = next(net.parameters()).device
    photos, labels = photos.to(device), labels.to(device).long()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    net.train()
    losses = []
    for _ in range(steps):
        idx = torch.randint(len(photos), (batch_size,), generator=generator).to(device)
        x, y = photos[idx], labels[idx]
        if flip:
            mirror = (torch.rand(batch_size, generator=generator) < 0.5).to(device)
            x = torch.where(mirror[:, None, None, None], x.flip(-1), x)
            y = torch.where(mirror[:, None, None], y.flip(-1), y)
        if augment:
            x = degrade(x, generator)
        loss = F.cross_entropy(net(x), y, ignore_index=-100 if ignore_index is None else ignore_index)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    net.eval()
    return losses


def fit_segmenter(photos: torch.Tensor, labels: torch.Tensor, n_classes: int, path: str | Path | None = None, *,
                  width: int = 16, depth: int = 3, steps: int = 300, batch_size: int = 8,
                  ignore_index: int | None = None, seed: int = 0, augment: bool = True,
                  device: str | torch.device | None = None) -> tuple[SegNet, list[float]]:
    """The course's measuring instrument for notebooks 09-12: a `SegNet` trained on real photos, at their size.

    Trains on photos (N, 3, H, W) and class ids (N, 1, H, W) or (N, H, W) with flips and, by default, the
    `degrade` augmentation, so that it reads a generated photo by its layout rather than by its sharpness. Pass
    the photos at the size the generators make, so that nothing is resized before scoring. With `path`, the
    trained net and its losses are saved there atomically, and a later call with the same settings loads them
    instead of training; a file from other settings (or an older plain state dict) is retrained and replaced.
    Returns (net in eval mode, training losses).
    """
    from gan_utils.train.checkpoints import save_atomic

    labels = labels[:, 0] if labels.dim() == 4 else labels
    settings = {"n_classes": n_classes, "width": width, "depth": depth, "steps": steps, "batch_size": batch_size,
                "ignore_index": ignore_index, "seed": seed, "augment": augment, "n_photos": len(photos),
                "size": list(photos.shape[-2:])}
    device = photos.device if device is None else torch.device(device)
    with torch.random.fork_rng(devices=[]):  # the caller's random stream is left as it was
        torch.manual_seed(seed)  # the initial weights
        net = SegNet(n_classes, in_channels=photos.shape[1], width=width, depth=depth).to(device)
    path = Path(path) if path is not None else None
    if path is not None and path.exists():
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(saved, dict) and saved.get("settings") == settings:
            net.load_state_dict(saved["state_dict"])
            net.eval()
            return net, list(saved["losses"])
    losses = train_segmenter(net, photos, labels, steps=steps, batch_size=batch_size, ignore_index=ignore_index,
                             generator=torch.Generator().manual_seed(seed), augment=augment)
    if path is not None:
        save_atomic({"settings": settings, "state_dict": {k: v.cpu() for k, v in net.state_dict().items()},
                     "losses": losses}, path)
    return net, losses


@torch.no_grad()
def segment(net: nn.Module, photos: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """Class ids (N, H, W) for photos (N, 3, H, W) in [-1, 1] or uint8, in eval mode."""
    if photos.dtype == torch.uint8:
        photos = photos.float() / 127.5 - 1
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    out = torch.cat([net(photos[i:i + batch_size].to(device)).argmax(1).cpu()
                     for i in range(0, len(photos), batch_size)])
    net.train(was_training)
    return out
