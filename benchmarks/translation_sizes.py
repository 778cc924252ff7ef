"""Sizing notebooks 09/10 on a CPU: load the real Cityscapes pairs, and time pix2pix and CycleGAN steps.

Run from the repository root: `GAN_DATA_ROOT=../shared/realdata python benchmarks/translation_sizes.py`.
"""

from __future__ import annotations

import tempfile
import time

import torch

from gan_utils.data.cityscapes import load_cityscapes
from gan_utils.metrics.segmentation import SegNet, train_segmenter
from gan_utils.models import cyclegan, pix2pix
from gan_utils.models.pix2pix import UnetGenerator, unet_depth
from gan_utils.nn.translation import PatchDiscriminator, ResnetGenerator
from gan_utils.runtime import default_data_root


def timed(fn, reps: int = 5) -> float:  # noqa: ANN001
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def pix2pix_step(size: int, ngf: int, batch: int) -> float:
    G, D = UnetGenerator(3, 3, unet_depth(size), ngf), PatchDiscriminator(6, ngf, 3)
    opt_G, opt_D = torch.optim.Adam(G.parameters(), 2e-4), torch.optim.Adam(D.parameters(), 2e-4)
    x, y = torch.randn(batch, 3, size, size), torch.randn(batch, 3, size, size)

    def step() -> None:
        pix2pix.train_step(G, D, opt_G, opt_D, x, y)

    return timed(step)


def cyclegan_step(size: int, ngf: int, n_blocks: int, batch: int) -> float:
    G, F = ResnetGenerator(3, 3, ngf, n_blocks), ResnetGenerator(3, 3, ngf, n_blocks)
    D_X, D_Y = PatchDiscriminator(3, ngf, 3, "instance"), PatchDiscriminator(3, ngf, 3, "instance")
    opt_G = torch.optim.Adam([*G.parameters(), *F.parameters()], 2e-4)
    opt_D = torch.optim.Adam([*D_X.parameters(), *D_Y.parameters()], 2e-4)
    x, y = torch.randn(batch, 3, size, size), torch.randn(batch, 3, size, size)
    pool_X, pool_Y = cyclegan.ImagePool(0), cyclegan.ImagePool(0)  # no pool: its cost is a copy per image

    def step() -> None:
        cyclegan.train_step(G, F, D_Y, D_X, opt_G, opt_D, pool_X, pool_Y, x, y)

    return timed(step, reps=3)


def main() -> None:
    torch.manual_seed(0)
    print(f"threads: {torch.get_num_threads()}")
    root = default_data_root()
    with tempfile.TemporaryDirectory() as cache:
        for size in (64, 128):
            t = time.perf_counter()
            pairs = load_cityscapes(root, source="real", size=size, cache_dir=cache, verbose=False)
            first = time.perf_counter() - t
            t = time.perf_counter()
            load_cityscapes(root, source="real", size=size, cache_dir=cache, verbose=False)
            cached = time.perf_counter() - t
            print(f"cityscapes {size}px: {len(pairs)} pairs, read {first:.1f} s, cached {cached:.3f} s")
            print("  class frequencies:", {k: round(v, 3) for k, v in pairs.class_frequencies().items()})
            train, test = pairs.split()
            print(f"  split: {len(train)} train / {len(test)} test")
    for size in (64, 128):
        for ngf in (16, 32):
            one, four = pix2pix_step(size, ngf, 1), pix2pix_step(size, ngf, 4)
            print(f"pix2pix U-Net+PatchGAN {size}px ngf=ndf={ngf}: batch 1 {one * 1e3:.0f} ms/step, "
                  f"batch 4 {four * 1e3:.0f} ms/step")
    for size, n_blocks in ((64, 6), (128, 6)):
        for ngf in (16, 32):
            print(f"CycleGAN 2 ResNet G ({n_blocks} blocks) + 2 D {size}px ngf=ndf={ngf} batch 1: "
                  f"{cyclegan_step(size, ngf, n_blocks, 1) * 1e3:.0f} ms/step")
    net = SegNet(9, width=16, depth=3)
    photos, labels = torch.randn(27, 3, 128, 128), torch.randint(9, (27, 1, 128, 128))
    t = time.perf_counter()
    train_segmenter(net, photos, labels, steps=10, batch_size=8)
    print(f"SegNet(width=16) at 128px, batch 8: {(time.perf_counter() - t) / 10 * 1e3:.0f} ms/step")


if __name__ == "__main__":
    main()
