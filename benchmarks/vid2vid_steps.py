"""Sizing notebook 12 on a CPU: one vid2vid step (t_gen frames in a row, D_I and D_V) against one frame-by-frame
step on as many frames, at a few frame sizes and widths, plus TV-L1 flow on real-sized frames.

Run from the repository root, alone on the machine: `python benchmarks/vid2vid_steps.py`. Random tensors stand
in for the data: the cost does not depend on the pixel values.

Measured on the course's 2-core CPU (2 threads, alone under the lock), December 2026, with the vid2vid step of
`gan_utils.models.vid2vid.train_step` (notebook 12's; this file timed a rougher copy before, and both columns ran
about 1.4 times faster in November 2026, so compare the ratios):
    64x32 ngf=ndf=8: vid2vid 0.093 s/step, frame-by-frame 0.034 s/step (ratio 2.7)
    128x64 ngf=ndf=32: vid2vid 0.577 s/step, frame-by-frame 0.314 s/step (ratio 1.8)
    128x64 ngf=ndf=24: vid2vid 0.443 s/step, frame-by-frame 0.225 s/step (ratio 2.0)
    256x128 ngf=ndf=16: vid2vid 0.874 s/step, frame-by-frame 0.435 s/step (ratio 2.0)
    TV-L1 flow at 128x64: 0.05 s per frame pair
Notebook 12's default mode (128x64, width 32) therefore gives the baseline twice vid2vid's steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from gan_utils.data.synthetic.moving_shapes import moving_shapes
from gan_utils.metrics.temporal import tvl1_flows
from gan_utils.models.pix2pixhd import MultiscaleDiscriminator, gan_feat_loss, multiscale_gan_loss
from gan_utils.models.vid2vid import SequentialGenerator, train_step


def timed(fn: Callable[[], None], reps: int = 4) -> float:
    fn()  # warm-up
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def steps(w: int, h: int, ngf: int, batch: int = 2, t_gen: int = 3, k: int = 10, L: int = 2) -> tuple[float, float]:
    """Seconds per vid2vid step and per frame-by-frame step (batch * t_gen frames each)."""
    torch.manual_seed(0)
    G, G0 = SequentialGenerator(k, L, ngf, 2, 3), SequentialGenerator(k, 0, ngf, 2, 3)
    D_I, D_V = MultiscaleDiscriminator(k + 3, ngf, 3, 2), MultiscaleDiscriminator(3 * 3 + 2 * 2, ngf, 3, 2)
    opts = [torch.optim.Adam(m.parameters(), 2e-4) for m in (G, D_I, D_V)]
    opt = torch.optim.Adam([*G0.parameters(), *D_I.parameters()], 2e-4)
    maps, real = torch.randn(batch, t_gen + L, k, h, w), torch.randn(batch, t_gen + L, 3, h, w)
    flow = torch.randn(batch, t_gen + L - 1, 2, h, w)
    fg, conf = torch.zeros(batch, t_gen + L, 1, h, w), torch.ones(batch, t_gen + L - 1, 1, h, w)

    def vid2vid() -> None:  # notebook 12's step
        train_step(G, D_I, D_V, *opts, maps, real, fg, flow, conf, n_past=L)

    def frame() -> None:
        s, x = maps[:, L:].flatten(0, 1), real[:, L:].flatten(0, 1)
        fake = G0(s)["image"]
        loss = multiscale_gan_loss(D_I(torch.cat([s, fake.detach()], 1)), False) + multiscale_gan_loss(
            D_I(torch.cat([s, x], 1)), True)
        opt.zero_grad(); loss.backward(); opt.step()  # noqa: E702
        f_fake, f_real = D_I(torch.cat([s, fake], 1)), D_I(torch.cat([s, x], 1))
        loss = multiscale_gan_loss(f_fake, True) + gan_feat_loss(f_fake, f_real)
        opt.zero_grad(); loss.backward(); opt.step()  # noqa: E702

    return timed(vid2vid), timed(frame)


if __name__ == "__main__":
    print(f"torch threads: {torch.get_num_threads()}")
    for w, h, ngf in [(64, 32, 8), (128, 64, 32), (128, 64, 24), (256, 128, 16)]:
        v, f = steps(w, h, ngf)
        print(f"{w}x{h} ngf=ndf={ngf}: vid2vid {v:.3f} s/step, frame-by-frame {f:.3f} s/step (ratio {v / f:.1f})")
    clip = moving_shapes(10, (128, 64), seed=0)
    t = time.perf_counter()
    tvl1_flows(clip.frames)
    print(f"TV-L1 flow at 128x64: {(time.perf_counter() - t) / 9:.2f} s per frame pair")
