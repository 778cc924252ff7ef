"""A small CNN trained on the data set itself, whose features and class probabilities the domain metrics use.

FID and IS were defined on an ImageNet Inception network. For 28×28 digits and 32×32 objects the course trains
this classifier instead (seconds to a minute on a CPU) and caches it, so that every notebook measures its
samples with the same yardstick: `get_domain_classifier(data, cache_dir, epochs)`.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.data.base import ImageSet
from gan_utils.paths import shown_path
from gan_utils.train.checkpoints import load_safe, save_atomic

FEATURE_DIM = 128


class DomainClassifier(nn.Module):
    """Conv layers, then a 128-d penultimate layer (the FID features), then the class logits (the IS logits)."""

    feature_dim: int = FEATURE_DIM

    def __init__(self, in_channels: int = 1, n_classes: int = 10, size: int = 28, n_conv: int | None = None) -> None:
        super().__init__()
        # colour images get a third conv layer: grey digits do not need it, and it costs CPU time
        n_conv = n_conv if n_conv is not None else (2 if in_channels == 1 else 3)
        if not 1 <= n_conv <= 3 or size // 2**n_conv < 1:
            raise ValueError(f"n_conv={n_conv} does not fit {size}×{size} images; use 1 to 3.")
        self.config = {"in_channels": in_channels, "n_classes": n_classes, "size": size, "n_conv": n_conv}
        layers: list[nn.Module] = []
        c = in_channels
        for w in (32, 64, 128)[:n_conv]:
            layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c = w
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.fc = nn.Linear(c * (size // 2**n_conv) ** 2, FEATURE_DIM)
        self.head = nn.Linear(FEATURE_DIM, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (B, 128) of images in [-1, 1]: the space the domain FID is measured in."""
        c, s = self.config["in_channels"], self.config["size"]
        if tuple(x.shape[1:]) != (c, s, s):
            raise ValueError(f"This classifier takes (B, {c}, {s}, {s}) images, got {tuple(x.shape)}. "
                             "Train one for this data set with get_domain_classifier(data, ...).")
        return F.relu(self.fc(self.body(x)))  # (B, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (B, n_classes)."""
        return self.head(self.features(x))


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by its own random offset of up to `max_shift` pixels, repeating the border."""
    B, _, H, W = x.shape
    padded = F.pad(x, (max_shift,) * 4, mode="replicate").permute(0, 2, 3, 1)  # (B, H+2m, W+2m, C)
    d = torch.randint(0, 2 * max_shift + 1, (2, B, 1), generator=generator).to(x.device)
    rows = torch.arange(H, device=x.device) + d[0]  # (B, H)
    cols = torch.arange(W, device=x.device) + d[1]  # (B, W)
    b = torch.arange(B, device=x.device)[:, None, None]
    return padded[b, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2).contiguous()  # (B, C, H, W)


@torch.no_grad()
def accuracy(model: nn.Module, data: ImageSet, batch: int = 500) -> float:
    """Fraction of `data` that `model` classifies correctly (model left in eval mode)."""
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(data), batch):
        idx = torch.arange(i, min(i + batch, len(data)), device=data.images.device)
        pred = model(data.to_float(idx).to(device)).argmax(1)
        correct += int((pred == data.labels[idx].to(device)).sum())
    return correct / len(data)


def _n_classes(data: ImageSet) -> int:
    return max(len(data.classes), int(data.labels.max()) + 1)


def _config_for(data: ImageSet) -> dict[str, int]:
    c, h, w = data.shape
    if h != w:
        raise ValueError(f"The domain classifier takes square images; {data.name} has {h}×{w}.")
    return {"in_channels": c, "n_classes": _n_classes(data), "size": h}


def train_classifier(train: ImageSet, test: ImageSet, epochs: int, batch: int = 128, lr: float = 1e-3,
                     seed: int = 0, progress: bool = True) -> tuple[DomainClassifier, float]:
    """Train a DomainClassifier on `train` (±2 px random shifts); return it in eval mode and its `test` accuracy."""
    from tqdm.auto import tqdm

    device = train.images.device
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's global RNG
        torch.manual_seed(seed)
        model = DomainClassifier(**_config_for(train)).to(device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = max(1, len(train) // batch)  # the last partial batch of each shuffle is dropped
    bar = tqdm(total=epochs * steps_per_epoch, disable=not progress, desc=f"classifier on {train.name}",
               dynamic_ncols=True, mininterval=1.0)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(train), generator=gen).to(device)
        for s in range(steps_per_epoch):
            idx = perm[s * batch:(s + 1) * batch]
            x = random_shift(train.to_float(idx), 2, gen)  # (B, C, H, W)
            loss = F.cross_entropy(model(x), train.labels[idx].long())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            bar.update(1)
            if s % 10 == 0:
                bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    return model.eval(), accuracy(model, test)


def classifier_cache_path(data: ImageSet, cache_dir: str | Path, epochs: int, seed: int = 0) -> Path:
    """Where get_domain_classifier keeps the weights for this data set (real and synthetic never share a file)."""
    return Path(cache_dir) / f"classifier_{data.name}_{data.source}_{len(data)}_{epochs}e_s{seed}.pt"


def get_domain_classifier(data: ImageSet, cache_dir: str | Path, epochs: int, n_holdout: int = 2000, seed: int = 0,
                          device: str | torch.device | None = None) -> tuple[DomainClassifier, float]:
    """The cached domain classifier for `data` and its accuracy on a fixed held-out part, training it if needed."""
    device = torch.device(device) if device is not None else data.images.device
    # Small sets (fast mode's stand-ins) keep at least 80% for training.
    n_holdout = min(n_holdout, len(data) // 5)
    path = classifier_cache_path(data, cache_dir, epochs, seed)
    config = _config_for(data)
    who = f"Domain classifier for {data.name} ({data.source})"
    if path.exists():
        state = load_safe(path)  # on the CPU; load_state_dict copies the weights to `device`
        saved = {k: state["config"][k] for k in config}
        if saved == config and state["n_holdout"] == n_holdout:
            model = DomainClassifier(**state["config"]).to(device)
            model.load_state_dict(state["model"])
            acc = float(state["accuracy"])
            print(f"{who}: loaded from {shown_path(path)}; accuracy {acc:.1%} on {n_holdout:,} held-out images.")
            return model.eval(), acc
        print(f"{who}: {shown_path(path)} was made with other settings ({saved}, "
              f"n_holdout={state['n_holdout']}); retraining.")
    train, test = data.split(n_holdout, seed)
    if train.images.device != device:
        train = dataclasses.replace(train, images=train.images.to(device), labels=train.labels.to(device))
    t0 = time.perf_counter()
    model, acc = train_classifier(train, test, epochs, seed=seed)
    save_atomic({"model": model.state_dict(), "config": model.config, "accuracy": acc, "n_holdout": n_holdout,
                 "epochs": epochs, "seed": seed, "data": f"{data.name} ({data.source}), {len(data)} images"}, path)
    print(f"{who}: trained for {epochs} epoch{'s' * (epochs != 1)} in {time.perf_counter() - t0:.0f} s; "
          f"accuracy {acc:.1%} on {n_holdout:,} held-out images; saved to {shown_path(path)}.")
    return model, acc
