"""How MNIST-like are the synthetic digits? Train a LeNet on them alone and test it on real MNIST.

    python benchmarks/synthetic_digits_vs_mnist.py [--mnist-root ../shared/realdata] [--epochs 4]

Prints the time to generate the synthetic set and the classifier's accuracy on the 10k real MNIST test
images (read from <root>/MNIST/raw/t10k-*-ubyte.gz).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gan_utils.data.synthetic.digits import VERSION, synthetic_digits  # noqa: E402


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read an IDX file (gzip-compressed, as MNIST ships) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    found, ndim = int.from_bytes(data[0:4], "big"), data[3]
    if found != magic:
        raise ValueError(f"{path}: magic number {found}, expected {magic}; is this the right IDX file?")
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist_test(root: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The 10k real MNIST test images (10000, 1, 28, 28) uint8 and labels (10000,) int64."""
    raw = root / "MNIST" / "raw"
    x = read_idx(raw / "t10k-images-idx3-ubyte.gz", 2051)
    y = read_idx(raw / "t10k-labels-idx1-ubyte.gz", 2049)
    return torch.from_numpy(x.copy())[:, None], torch.from_numpy(y.astype(np.int64))


class LeNet(nn.Module):
    """Caffe's LeNet: two 5x5 conv + max-pool stages, then a 500-unit hidden layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(50 * 4 * 4, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (B, 20, 12, 12)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (B, 50, 4, 4)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))  # (B, 10)


def train(x: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, seed: int) -> LeNet:
    """Train a LeNet with Adam and a linearly decaying learning rate."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # nn.Module's default init draws from the global generator
    model = LeNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps = epochs * (len(x) // batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 - i / steps)
    model.train()
    for epoch in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        total, t0 = 0.0, time.perf_counter()
        for i in range(len(x) // batch_size):
            idx = perm[i * batch_size : (i + 1) * batch_size]
            loss = F.cross_entropy(model(x[idx].float() / 255), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        n_batches = len(x) // batch_size
        secs = time.perf_counter() - t0
        print(f"  epoch {epoch + 1}/{epochs}: loss {total / n_batches:.4f} ({secs:.1f} s)")
    return model


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Predicted classes (N,) for uint8 images (N, 1, 28, 28)."""
    model.eval()
    return torch.cat([model(x[i : i + 1000].float() / 255).argmax(1) for i in range(0, len(x), 1000)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist-root", type=Path, default=REPO.parent / "shared" / "realdata",
                    help="folder holding MNIST/raw/t10k-*-ubyte.gz (default: ../shared/realdata)")
    ap.add_argument("--n", type=int, default=60_000, help="synthetic training images")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic set")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--train-seed", type=int, default=0, help="seed of the classifier's init and batches")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1 is fastest on a busy 2-core CPU)")
    ap.add_argument("--cache-dir", type=Path, default=None, help="reuse/store the synthetic set here")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    x_test, y_test = load_mnist_test(args.mnist_root)
    print(f"synthetic digits v{VERSION}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)")

    t0 = time.perf_counter()
    x, y = synthetic_digits(args.n, seed=args.seed, cache_dir=args.cache_dir)
    gen_s = time.perf_counter() - t0
    cached = " (from cache)" if args.cache_dir is not None and gen_s < 5 else ""
    print(f"generated {len(x)} synthetic digits in {gen_s:.1f} s{cached}")

    t0 = time.perf_counter()
    model = train(x, y, args.epochs, args.batch_size, args.train_seed)
    print(f"trained LeNet on synthetic digits only: {args.epochs} epochs in {time.perf_counter() - t0:.0f} s")

    pred = predict(model, x_test)
    acc = (pred == y_test).float().mean().item()
    per_class = [(pred[y_test == c] == c).float().mean().item() for c in range(10)]
    conf = torch.zeros(10, 10, dtype=torch.long)
    conf.index_put_((y_test, pred), torch.ones_like(y_test), accumulate=True)
    conf.fill_diagonal_(0)
    top = sorted(((conf[i, j].item(), i, j) for i in range(10) for j in range(10)), reverse=True)[:6]
    print("per-class accuracy: " + " ".join(f"{c}:{a:.3f}" for c, a in enumerate(per_class)))
    print("most common confusions (true->pred: count): " + ", ".join(f"{i}->{j}: {k}" for k, i, j in top))
    print(f"real MNIST test accuracy: {acc:.2%} ({int((pred == y_test).sum())}/{len(y_test)})")


if __name__ == "__main__":
    main()
