"""Images per second: gan_utils' in-memory MNIST batches vs a torchvision DataLoader with per-image PIL transforms."""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from gan_utils.data.mnist import load_mnist
from gan_utils.runtime import default_data_root


class PILMnist(Dataset):
    """What torchvision.datasets.MNIST does per item: uint8 array -> PIL image -> transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: transforms.Compose) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.transform(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


def bench(fn, n_batches: int, batch: int) -> float:
    fn(5)  # warm-up
    t = time.perf_counter()
    fn(n_batches)
    return n_batches * batch / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--batches", type=int, default=600)
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    data = load_mnist(default_data_root(), source="auto", verbose=True)
    images = data.images[:, 0].cpu().numpy()
    labels = data.labels.cpu().numpy()
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    loader = DataLoader(PILMnist(images, labels, tf), batch_size=args.batch, shuffle=True,
                        num_workers=args.workers, drop_last=True)

    def run_loader(n: int) -> None:
        done = 0
        while done < n:
            for x, _ in loader:
                x.sum()
                done += 1
                if done == n:
                    break

    def run_memory(n: int) -> None:
        for _ in range(n):
            x, _ = data.batch(args.batch)
            x.sum()

    results = {"in-memory (gan_utils)": [], f"DataLoader+PIL (workers={args.workers})": []}
    for _ in range(3):  # interleave to even out machine noise
        results["in-memory (gan_utils)"].append(bench(run_memory, args.batches, args.batch))
        results[f"DataLoader+PIL (workers={args.workers})"].append(bench(run_loader, args.batches, args.batch))
    med = {k: float(np.median(v)) for k, v in results.items()}
    for k, v in med.items():
        print(f"{k:32s} {v:12,.0f} img/s (median of 3)")
    a, b = med.values()
    print(f"speed-up: {a / b:.1f}x  (torch {torch.__version__}, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
