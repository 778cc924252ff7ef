# %% [markdown]
# # 09 · pix2pix: image-to-image translation with conditional GANs
#
# **Paper:** Phillip Isola, Jun-Yan Zhu, Tinghui Zhou, Alexei A. Efros. *Image-to-Image Translation with
# Conditional Adversarial Networks.* CVPR 2017. [arXiv:1611.07004](https://arxiv.org/abs/1611.07004)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/09_pix2pix.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: 64 px, width 16, a few dozen steps, 2 seeds | ≈ 30 s (measured: 30 s in CI) | ≈ 20 s (estimate) |
# | `default` | 128 px, width 32: four runs of 1,000 steps (L1+cGAN, L1, cGAN, no skips), each from 2 seeds; a small segmenter | ≈ 18–27 min (measured: 27 min for these outputs on a slow machine, of which 23 min of training) | ≈ 6 min (estimate) |
# | `full` | 256 px, width 64 (the paper's size), batch 1, 20k steps per run | many hours | ≈ 1 h on a T4 (estimate, counted FLOPs) |
#
# The outputs you see come from a `default` run on **real Cityscapes** label maps and street photos (37 distinct
# frames, described below), at **128×128 px** instead of the paper's 256×256.

# %% [markdown]
# ## What you will learn
#
# * the pix2pix objective, a **conditional GAN loss plus $\lambda\cdot$L1** with $\lambda = 100$, and why L1 on
#   its own gives blurry images;
# * the **U-Net** generator: an encoder-decoder whose skip connections carry fine detail past the bottleneck,
#   built against the same network without them;
# * the **PatchGAN** discriminator, which judges overlapping 70×70 patches, with its receptive field computed in
#   code (and the 1×1 and 286×286 variants for comparison);
# * **dropout as the noise source**, and how little randomness it gives;
# * how the paper scores label → photo: a segmentation net trained on real photos reads the generated ones (the
#   "FCN-score"), here with a small net on our scale, beside L1 and SSIM to the target;
# * the paper's **ablation**, L1 only against cGAN only against both, side by side and beside the paper's Table 1.
#
# **What changes from notebook 02:** the condition $y$ was a class label; now it is a whole image (a label map),
# and the output is an image of the same size. $G$ gets no $z$ at all, $D$ judges (input, output) pairs patch by
# patch, and an L1 term ties the output to the one photo that goes with the map.

# %% [markdown]
# ## Setup
#
# The Colab cell installs the course package on Colab only.

# %%
import os
import subprocess
import sys

COURSE = "git+https://github.com/gan-course/gans-from-scratch.git@v0.2.0"  # the release this notebook belongs to
KEEP_ON_DRIVE = False  # True on Colab: checkpoints and data go to Google Drive (Colab wipes /content on a reset)

if "google.colab" in sys.modules:  # True only on Colab; never reinstalls Colab's torch, numpy or ipywidgets
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", COURSE], check=True)
    if KEEP_ON_DRIVE:
        from google.colab import drive
        drive.mount("/content/drive")
        os.environ["GAN_CKPT_DIR"] = "/content/drive/MyDrive/gan-course/checkpoints"
        os.environ["GAN_DATA_ROOT"] = "/content/drive/MyDrive/gan-course/data"

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import structural_similarity
from torch import nn

import gan_utils
from gan_utils.train.checkpoints import rng_state, set_rng_state
from gan_utils.data.cityscapes import load_cityscapes
from gan_utils.data.facades import load_facades
from gan_utils.teaching import check, check_that
from gan_utils.losses import d_loss_bce, l1_loss
from gan_utils.metrics.segmentation import fit_segmenter, pixel_accuracy, segment, segmentation_scores
from gan_utils.models import pix2pix
from gan_utils.models.pix2pix import UnetGenerator, unet_depth
from gan_utils.nn import PatchDiscriminator, patch_output_size, receptive_field, weights_init
from gan_utils.train.trainer import Trainer, assert_same_step
from gan_utils.display.viz import plot_losses, show_grid
from gan_utils.display.widgets import interact

# %% [markdown]
# Sizes per mode. `size` is the image side (the paper's 256 only in `full`); `width` is $G$'s `ngf` and $D$'s
# `ndf` (the paper's 64); `steps` is the number of training steps of **each** of the four runs below, and each
# run is trained from `n_seeds` seeds. The segmenter (`seg_*`) is the measuring instrument of the results
# section; it works at `size`, the size we generate.

# %%
SIZES = {  # paper: 256 px, ngf = ndf = 64, batch 1, 200 epochs
    "fast":    dict(size=64, width=16, batch=4, steps=60, ckpt_every=1_000, n_seeds=2, seg_width=8, seg_steps=30,
                    n_draws=2, n_synthetic=64),
    "default": dict(size=128, width=32, batch=4, steps=1_000, ckpt_every=500, n_seeds=2, seg_width=16,
                    seg_steps=400, n_draws=3, n_synthetic=400),
    "full":    dict(size=256, width=64, batch=1, steps=20_000, ckpt_every=2_000, n_seeds=1, seg_width=32,
                    seg_steps=3_000, n_draws=3, n_synthetic=400),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="09_pix2pix")
device = cfg.device

# %% [markdown]
# ## The idea
#
# A conditional GAN (notebook 02) learns $G : \{x, z\} \to y$ and lets $D$ judge pairs. pix2pix uses it for
# **image-to-image translation**: $x$ is an image (here a label map), $y$ the image it should become (the photo).
# The adversarial term is
#
# $$
# \mathcal L_\text{cGAN}(G, D) = \mathbb E_{x,y}\big[\log D(x, y)\big] + \mathbb E_{x,z}\big[\log\big(1 - D(x, G(x, z))\big)\big],
# $$
#
# and, because each $x$ comes with its own $y$, the paper adds a plain reconstruction term,
#
# $$
# \mathcal L_{L1}(G) = \mathbb E_{x,y,z}\big[\lVert y - G(x, z)\rVert_1\big], \qquad
# G^* = \arg\min_G \max_D \; \mathcal L_\text{cGAN}(G, D) + \lambda\, \mathcal L_{L1}(G), \quad \lambda = 100.
# $$
#
# The two terms do different jobs. L1 gets the **low frequencies** right: where the road is, how bright the sky
# is. The cGAN term, through a discriminator that only looks at local patches, asks for **high frequencies**:
# texture and sharp edges that look real. As in notebook 01, $G$ maximises $\log D(x, G(x,z))$ (the
# non-saturating form), and $D$'s loss is halved "which slows down the rate at which D learns relative to G" (§3.3).
#
# ```
#           label map x ─► U-Net G ─► G(x) ─┐
#                                            ├─ concat ─► PatchGAN D ─► one real/fake logit per patch
#           label map x ────────────────────┘     (and x with the real photo y for the "real" pairs)
# ```
#
# **Why L1 alone blurs.** Many photos fit one label map: a "building" region can have windows anywhere, a "road"
# any pattern of shadows. A per-pixel loss is minimised pixel by pixel: for L2 by the *mean* of the plausible
# values, for L1 by their *median*. Where the plausible photos disagree, say a texture whose phase is not fixed
# by the input, both are an almost flat average: the texture is gone. Below, 500 plausible targets are striped patches
# with a random phase; the best constant answer under L1 is their per-pixel median.

# %%
torch.manual_seed(0)
u = torch.linspace(0, 4 * math.pi, 32)                                   # (32,)
phase = 2 * math.pi * torch.rand(500, 1, 1)                             # one random phase per plausible target
targets = torch.sin(u[None, None, :] + 0.5 * u[None, :, None] + phase)  # (500, 32, 32) stripes in [-1, 1]
best_L1, best_L2 = targets.median(0).values, targets.mean(0)            # the per-pixel minimisers
print(f"contrast (std over pixels): one target {targets[0].std():.2f}, best under L1 {best_L1.std():.2f}, "
      f"best under L2 {best_L2.std():.2f}")
show_grid(torch.cat([targets[:4], best_L1[None], best_L2[None]])[:, None], nrow=6, figsize=(9, 1.9),
          title="four plausible targets | L1's best answer (median) | L2's best answer (mean)"); plt.show()

# %% [markdown]
# A sharp, plausible stripe pattern costs *more* L1 than the grey answer, because it is wrong wherever its phase
# differs from the target's. A discriminator, on the other hand, rejects the grey patch at once: no real patch
# looks like that. That is the case for adding $\mathcal L_\text{cGAN}$.

# %% [markdown]
# ## Data
#
# Real Cityscapes: street photos from German cities with a label per pixel. We load every layout found under the
# data root and collapse Cityscapes' 34 labels to 9 classes (void, road, sidewalk, building, pole/sign,
# vegetation, sky, person, vehicle), which a small segmenter can learn from a few dozen photos. Maps are resized
# with nearest-neighbour so that no class is invented between two others. Without the data the loader falls back
# to procedural facades (other classes), and says so in a banner; the code below reads the classes and colours
# from the set it gets.
#
# **pix2pix's best-known example** is the CMP facades (400 training and 106 test pairs, downloaded from the
# pix2pix site when you are online): set `DATA = "facades"`. The outputs below are from Cityscapes; the course has
# not run the facades in this notebook (its machines are offline), so the prose does not describe them.

# %%
DATA = "cityscapes"  # or "facades"
if DATA == "facades":
    pairs = train = load_facades(**cfg.data_kwargs, size=cfg.size)
    test = load_facades(**cfg.data_kwargs, size=cfg.size, split="test")
else:
    pairs = load_cityscapes(**cfg.data_kwargs, size=cfg.size)
    train, test = pairs.split(n_holdout_frames=6, n_holdout_stills=2, gap=8, seed=cfg.seed)
K = pairs.label_nc
ignore = pairs.classes.index("void") if "void" in pairs.classes else None  # void pixels are not scored
print(f"{len(pairs)} pairs, {K} classes: {', '.join(pairs.classes)}")
print(f"train: {len(train)} pairs | test: {len(test)} pairs ({sum(f >= 0 for f in test.frames)} frames of a "
      f"video sequence, {sum(f < 0 for f in test.frames)} stills)")
frames_train, frames_test = [f for f in train.frames if f >= 0], [f for f in test.frames if f >= 0]
if frames_test and frames_train:                                        # a video among the pairs: how far apart?
    gaps = [min(abs(t - f) for f in frames_train) for t in frames_test]
    clip = pairs.to_float(torch.tensor([i for i in sorted(range(len(pairs)), key=lambda i: pairs.frames[i])
                                        if pairs.frames[i] >= 0])).b       # (T, 3, H, W), in frame order
    still = pairs.to_float(torch.tensor([i for i in range(len(pairs)) if pairs.frames[i] < 0])).b
    differ = lambda k: (clip[k:] - clip[:-k]).abs().mean().item()       # noqa: E731  mean |photo t+k - photo t|
    print(f"held-out frames: the nearest training frame is {min(gaps)} to {max(gaps)} frames away")
    print(f"mean |difference| between photos (pixels in [-1, 1]): 1 frame apart {differ(1):.3f}, {min(gaps)} frames "
          f"apart {differ(min(gaps)):.3f}, two stills of other streets "
          f"{torch.stack([(a - b).abs().mean() for i, a in enumerate(still) for b in still[i + 1:]]).mean():.3f}")

# %% [markdown]
# **How much data this really is.** With the course's real data that is 37 distinct frames: 30 consecutive video
# frames (vid2vid's sample), whose labels were predicted by a segmentation network rather than drawn by hand, and
# 7 further stills with ground-truth labels (pix2pixHD's 8 samples, one of which is frame 19 of the video; it is
# kept once, in the video, with its ground-truth labels). The split never trains on a test pair. For the video it
# holds out the **last 6 frames as one block** and drops the **8 frames** before it, because neighbouring frames
# are near-duplicates; it holds out 2 of the 7 stills. That leaves 21 pairs to train on (16 frames, 5 stills) and
# 8 to test on.
# How far apart is that? The printout measures it: two photos 1 frame apart differ by 0.09 per pixel, two photos 9
# frames apart (the closest a test frame comes to a training frame) by 0.21, nearly as much as two stills of
# different streets (0.24). Still, the 6 held-out frames show the **same street** as the 16 training frames,
# moments later; only the 2 held-out stills are other places. The paper trained on the 2,975 images of
# Cityscapes' training set.
#
# Maps in the Cityscapes colours above, photos below; on the left eight training pairs (every third one), on the right
# all the test pairs (the 6 frames of the test block, then the 2 stills).

# %%
show_idx = torch.arange(0, len(train), max(1, len(train) // 8))[:8]
fig, axes = plt.subplots(1, 2, figsize=(13, 3.6), gridspec_kw={"width_ratios": [len(show_idx), len(test)]})
panels = [(axes[0], train, show_idx, "training pairs"), (axes[1], test, torch.arange(len(test)), "test pairs")]
for ax, ds, idx, title in panels:
    maps = ds.colour_maps(idx.to(ds.A.device)).float() / 127.5 - 1        # (n, 3, H, W) in [-1, 1]
    show_grid(torch.cat([maps, ds.to_float(idx.to(ds.A.device)).b]), nrow=len(idx), ax=ax, title=title)
plt.show()
print("pixel share per class (test):", {c: f"{v:.1%}" for c, v in test.class_frequencies().items()})


# %% [markdown]
# **The input $x$.** The label map enters $G$ one-hot: one channel per class, 1 where the pixel has that class.
# (The paper fed the colour-coded map as an RGB image; one-hot, as in pix2pixHD, does not make the net untangle
# colours first.)

# %%
def one_hot(ids):
    """Label ids (B, 1, H, W) as a float one-hot map (B, K, H, W)."""
    return F.one_hot(ids[:, 0].long(), K).permute(0, 3, 1, 2).float()

a, b, _ = train.batch(2)                 # a: (2, 1, H, W) ids, b: (2, 3, H, W) photos in [-1, 1]
x = one_hot(a)
print("ids", tuple(a.shape), "-> one-hot", tuple(x.shape), "; each pixel has one class:", bool((x.sum(1) == 1).all()))


# %% [markdown]
# **Augmentation.** Twenty-seven pairs is very little. The paper's "random jitter" resizes 256 px images to 286
# and crops a random 256×256 window, and flips half of the pairs left-right. We do the same at our size (scale
# 1.125, e.g. 128 → 144 → a random 128 crop), with the **same** crop and flip for the map and the photo, so that
# they stay aligned. Every training batch goes through it.

# %%
def jitter(x, y, scale=1.125):
    """The same random resize-crop and flip for the maps x (B, K, H, W) and photos y (B, 3, H, W)."""
    s = x.shape[-1]
    big = round(s * scale)
    x = F.interpolate(x, size=(big, big), mode="nearest")                 # a map stays one-hot
    y = F.interpolate(y, size=(big, big), mode="bilinear", align_corners=False)
    i, j = torch.randint(0, big - s + 1, (2,)).tolist()
    x, y = x[..., i:i + s, j:j + s], y[..., i:i + s, j:j + s]
    if torch.rand(()) < 0.5:
        x, y = x.flip(-1), y.flip(-1)
    return x, y

xj, yj = jitter(x, b)
print("jittered:", tuple(xj.shape), tuple(yj.shape), "| still one-hot:", bool((xj.sum(1) == 1).all()))


# %% [markdown]
# ## Building blocks
#
# ### The generator: a U-Net
#
# An encoder halves the image at each step down to a 1×1 bottleneck; a decoder doubles it back. The paper's
# appendix: encoder C64-C128-C256-C512-C512-C512-C512-C512, where Ck is a 4×4 convolution with stride 2, batch
# norm and LeakyReLU(0.2), with no batch norm on the first layer; the decoder mirrors it with transposed
# convolutions and ReLU, **dropout 0.5 in its first three layers**, and ends in Tanh. Eight steps take 256 px to
# 1×1; at any size, `unet_depth(size)` = log₂(size) steps do.
#
# The **skip connections** are what make it a U-Net: decoder layer $i$ also receives the features of encoder
# layer $n - i$, concatenated along the channels. A label map and its photo share their whole layout (every edge
# of the map is an edge in the photo), and without skips all of it has to squeeze through the bottleneck. With
# `skips=False` the same code builds the plain encoder-decoder we compare against.
#
# **Exercise 1 (build).** The layers are built for you: `self.downs[i]` is encoder layer $i$ and `self.ups[i]` the
# decoder layer that mirrors it (its input is twice as wide wherever a skip arrives). Write `forward`: run the
# encoder, keeping every layer's output; then run the decoder from the bottleneck up, `ups[n_down - 1]` first and
# `ups[0]` last, and before each decoder layer except the innermost, concatenate the encoder features of the same
# resolution along the channels (the skip connections described above), only when `self.skips` is on.

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Unet(nn.Module):
    def __init__(self, in_channels, out_channels, n_down, ngf=64, skips=True, n_dropout=3):
        super().__init__()
        self.n_down, self.skips = n_down, skips
        ch = [ngf * min(2 ** i, 8) for i in range(n_down)]                   # C64-C128-C256-C512-C512-...
        self.downs = nn.ModuleList([nn.Conv2d(in_channels, ch[0], 4, 2, 1, bias=False)])  # no norm on C64
        for i in range(1, n_down):
            norm = nn.Identity() if i == n_down - 1 else nn.BatchNorm2d(ch[i])  # none at the 1x1 bottleneck
            self.downs.append(nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(ch[i - 1], ch[i], 4, 2, 1, bias=False), norm))
        self.ups = nn.ModuleList()
        for i in range(n_down):                                               # ups[i] mirrors downs[i]
            c_in = ch[i] * (2 if skips and i < n_down - 1 else 1)             # a skip doubles the channels
            if i == 0:
                self.ups.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh()))
                continue
            drop = [nn.Dropout(0.5)] if n_down - i <= n_dropout else []      # CD512: the noise of pix2pix
            self.ups.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, ch[i - 1], 4, 2, 1, bias=False),
                                          nn.BatchNorm2d(ch[i - 1]), *drop))

    def forward(self, x):
        # x: (B, in_channels, H, W); encoder feature i: (B, ch[i], H / 2^(i+1), W / 2^(i+1)); returns (B, out_channels, H, W)
        ### BEGIN SOLUTION
        feats = []
        for down in self.downs:
            x = down(x)
            feats.append(x)
        h = feats[-1]
        for i in reversed(range(self.n_down)):
            if self.skips and i < self.n_down - 1:
                h = torch.cat([h, feats[i]], 1)
            h = self.ups[i](h)
        return h
        ### END SOLUTION


# %% [markdown]
# The check runs your U-Net on small maps. The last test empties the bottleneck (a hook replaces its output with
# zeros): with skips the output must still follow the input, without them it cannot.

# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def bottleneck_zeroed(G_, x_):
    """G_(x_) in eval mode with the innermost encoder output replaced by zeros."""
    hook = G_.downs[-1].register_forward_hook(lambda mod, inp, out: torch.zeros_like(out))
    try:
        with torch.no_grad():
            return G_.eval()(x_)
    finally:
        hook.remove()

rng = torch.get_rng_state()                                                     # restored at the end
x_chk = torch.randn(2, 5, 32, 32, generator=torch.Generator().manual_seed(0))   # (2, 5, 32, 32)
torch.manual_seed(0)
G_chk, G_chk_plain = Unet(5, 3, 5, ngf=8), Unet(5, 3, 5, ngf=8, skips=False)
with torch.no_grad():
    y_chk = G_chk.eval()(x_chk)
check_that(tuple(y_chk.shape) == (2, 3, 32, 32) and tuple(G_chk_plain.eval()(x_chk).shape) == (2, 3, 32, 32),
           "Unet: output shape, with and without skips", hint="Every encoder step halves the size and every decoder step "
           "doubles it; go down through all of self.downs, then up through all of self.ups, innermost first.")
check_that(bool(y_chk.abs().max() <= 1), "Unet: output in [-1, 1]", hint="The outermost decoder layer, ups[0], ends in Tanh.")
z_skip, z_plain = bottleneck_zeroed(G_chk, x_chk), bottleneck_zeroed(G_chk_plain, x_chk)
check_that(not torch.allclose(z_skip[0], z_skip[1]) and torch.allclose(z_plain[0], z_plain[1]),
           "Unet: with an empty bottleneck, only the skips carry the input",
           hint="Concatenate feats[i] before ups[i] for every i below n_down - 1, and only if self.skips.");
### BEGIN HIDDEN TESTS
for skips in (True, False):
    G_ref = UnetGenerator(5, 3, 5, 8, skips=skips)
    G_ours = Unet(5, 3, 5, ngf=8, skips=skips)
    G_ours.load_state_dict(G_ref.state_dict())
    with torch.no_grad():
        check(G_ours.eval()(x_chk), G_ref.eval()(x_chk), f"Unet: the library's output with its weights, skips={skips}",
              hint="Compare your order of encoder outputs and concatenations with the description above.")
### END HIDDEN TESTS
torch.set_rng_state(rng)

# %% [markdown]
# Shape checks at this mode's size: the encoder's feature maps on the way down, and the output.

# %%
n_down = unet_depth(cfg.size)
G_inline = Unet(K, 3, n_down, ngf=cfg.width).to(device)
h, sizes_down = x.to(device), []
for down in G_inline.downs:
    h = down(h)
    sizes_down.append(f"{h.shape[1]}x{h.shape[2]}x{h.shape[3]}")
print(f"{n_down} down steps:", " -> ".join(sizes_down))
print("U-Net out:", tuple(G_inline(x.to(device)).shape), "| no skips out:",
      tuple(Unet(K, 3, n_down, ngf=cfg.width, skips=False).to(device)(x.to(device)).shape))

# %% [markdown]
# The skips cost parameters only in the decoder (its inputs are twice as wide):

# %%
n_params = lambda m: sum(p.numel() for p in m.parameters())
for name, skips in [("U-Net", True), ("encoder-decoder", False)]:
    print(f"{name:16s} at width {cfg.width}: {n_params(Unet(K, 3, n_down, cfg.width, skips=skips)) / 1e6:.2f}M "
          f"parameters (width 64, 256 px: {n_params(Unet(K, 3, 8, 64, skips=skips)) / 1e6:.1f}M)")

# %% [markdown]
# The promotion rule: this network lives in `gan_utils.models.pix2pix` as `UnetGenerator` (it adds instance
# norm as an option, for later notebooks). With the same weights, and dropout off, the two compute the same:

# %%
G_lib = UnetGenerator(K, 3, n_down, cfg.width).to(device)
G_lib.load_state_dict(G_inline.state_dict())
G_inline.eval(); G_lib.eval()
with torch.no_grad():
    assert torch.allclose(G_lib(x.to(device)), G_inline(x.to(device)), atol=1e-6)
print("gan_utils.models.pix2pix.UnetGenerator matches")


# %% [markdown]
# ### The discriminator: a PatchGAN
#
# Since L1 already takes care of the low frequencies, $D$ only has to judge **local** structure. The PatchGAN is
# a small fully convolutional net whose every output unit sees one patch of the input: C64-C128-C256-C512, then a
# convolution to one channel. Each output is the logit "this patch of (x, y) is real"; the loss averages them. The
# last C-layer and the output convolution keep stride 1. $D$ is conditional: it sees the map and the photo
# stacked, $K + 3$ channels.
#
# **Exercise 2 (build).** Write `patch_discriminator(in_channels, ndf, n_layers)` as one `nn.Sequential`: a first
# C-layer of `ndf` channels without batch norm, then `n_layers` C-layers that double the channels up to at most
# `8 * ndf`, and an output convolution to one channel. A C-layer here is a 4×4 convolution (padding 1; no bias
# before batch norm), batch norm and LeakyReLU(0.2); every C-layer has stride 2 except the last of the `n_layers`,
# which, like the output convolution, has stride 1 (the paragraph above). With `n_layers=3` this is
# C64-C128-C256-C512 at `ndf=64`.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def patch_discriminator(in_channels, ndf=64, n_layers=3):
    # (B, in_channels, H, W) -> (B, 1, h, w): one logit per patch
    ### BEGIN SOLUTION
    layers, c = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)], ndf
    for n in range(1, n_layers + 1):
        c_out = ndf * min(2 ** n, 8)
        stride = 2 if n < n_layers else 1
        layers += [nn.Conv2d(c, c_out, 4, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
        c = c_out
    return nn.Sequential(*layers, nn.Conv2d(c, 1, 4, 1, 1))
    ### END SOLUTION

D_inline = patch_discriminator(K + 3, cfg.width).to(device)
xy = torch.cat([x, b], 1).to(device)                                             # (2, K + 3, H, W)
print("D sees", tuple(xy.shape), "-> logits", tuple(D_inline(xy).shape))

# %% [markdown]
# The check: the size of the logit map, and locality: in eval mode, a pixel in the top-left corner must move
# the top-left verdicts and leave the bottom-right one alone, which lies beyond one patch's reach.

# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
rng = torch.get_rng_state()                                                     # restored at the end
torch.manual_seed(0)
D_chk = patch_discriminator(7, 8).eval()
xy_chk = torch.randn(2, 7, 128, 128, generator=torch.Generator().manual_seed(0))   # (2, 7, 128, 128)
xy_moved = xy_chk.clone()
xy_moved[:, :, 0, 0] += 10.0
with torch.no_grad():
    d, d_moved = D_chk(xy_chk), D_chk(xy_moved)                                      # (2, 1, 14, 14)
    shapes = [tuple(patch_discriminator(7, 8, n)(xy_chk[:, :, :64, :64]).shape) for n in (1, 2, 3)]
check_that(tuple(d.shape) == (2, 1, 14, 14) and shapes == [(2, 1, 30, 30), (2, 1, 14, 14), (2, 1, 6, 6)],
           "patch_discriminator: logit maps at 128 px and, for n_layers 1 to 3, at 64 px",
           hint="Stride 2 for the first C-layer and all but the last of the n_layers; 4x4 kernels with padding 1.")
check_that(not torch.equal(d[:, :, 0, 0], d_moved[:, :, 0, 0]) and torch.equal(d[:, :, -1, -1], d_moved[:, :, -1, -1]),
           "patch_discriminator: each logit sees its own patch only", hint="No layer may mix the whole image: "
           "convolutions only, and the output convolution keeps the map.");
### BEGIN HIDDEN TESTS
for n in (1, 3):
    D_ref = PatchDiscriminator(7, 8, n_layers=n).eval()
    D_ours = patch_discriminator(7, 8, n).eval()
    D_ref.model.load_state_dict(D_ours.state_dict())
    with torch.no_grad():
        check(D_ours(xy_chk), D_ref(xy_chk), f"patch_discriminator: the library's logits with its weights, n_layers={n}",
              hint="Compare the layer order with the description: conv, (batch norm), LeakyReLU; output conv last.")
### END HIDDEN TESTS
torch.set_rng_state(rng)


# %% [markdown]
# **Its receptive field, computed.** How many input pixels does one output logit see? Walk the layers backwards:
# one output pixel needs `kernel` pixels of the layer before it, and each further step back multiplies the
# distance between them by that layer's stride, so `rf = (rf - 1) * stride + kernel`.

# %%
def conv_layers(model):
    """(kernel, stride) of every convolution, in order."""
    return [(m.kernel_size[0], m.stride[0]) for m in model.modules() if isinstance(m, nn.Conv2d)]

def receptive_field_of(layers):
    rf = 1
    for kernel, stride in reversed(layers):
        rf = (rf - 1) * stride + kernel
    return rf

print("layers (kernel, stride):", conv_layers(D_inline))
print("receptive field:", receptive_field_of(conv_layers(D_inline)), "pixels per side")

# %% [markdown]
# That is the paper's **70×70 PatchGAN**. The paper compares other depths: a 1×1 "PixelGAN" (1×1 convolutions:
# it can only judge colours), a 16×16 one, and a 286×286 "ImageGAN" that sees a whole 256 px image per logit.
# The library's `PatchDiscriminator(in_channels, ndf, n_layers)` builds them all (n_layers 0, 1, 3, 5); its
# `receptive_field` agrees with ours, and `patch_output_size` gives the logit map per image size.

# %%
print(f"{'n_layers':>8s} {'receptive field':>16s} {'logits at 256 px':>17s} {f'at {cfg.size} px':>11s}")
for n_layers in (0, 1, 3, 5):
    D_n = PatchDiscriminator(K + 3, 64, n_layers)
    rf = receptive_field_of(conv_layers(D_n))
    assert rf == receptive_field(D_n)
    at = [patch_output_size(D_n, (s, s)) for s in (256, cfg.size)]
    at = [f"{h}x{w}" if h > 0 else "too small" for h, w in at]
    print(f"{n_layers:8d} {f'{rf}x{rf}':>16s} {at[0]:>17s} {at[1]:>11s}")

# %% [markdown]
# At 256 px the 70×70 D gives a 30×30 map of overlapping patch verdicts. At this notebook's smaller size the
# same D sees a larger share of the image per logit, and the 286×286 D would see the whole image (or, at 64 px,
# not fit at all). The paper found 70×70 best (Table 3); exercise 7 lets you rerun that comparison.
#
# The promotion check, with the same weights:

# %%
D_lib = PatchDiscriminator(K + 3, cfg.width, n_layers=3).to(device)
D_lib.model.load_state_dict(D_inline.state_dict())
D_lib.eval(); D_inline.eval()
with torch.no_grad():
    assert torch.allclose(D_lib(xy), D_inline(xy), atol=1e-6)
print("gan_utils.nn.PatchDiscriminator matches; receptive_field(D_lib) =", receptive_field(D_lib))


# %% [markdown]
# ## Losses
#
# $D$: binary cross-entropy on every patch logit, real pairs $(x, y)$ against fake pairs $(x, G(x))$, halved.
# $G$: the non-saturating $-\log D(x, G(x))$ averaged over patches, plus $\lambda$ times the mean absolute
# error. The check below starts from a tiny example worked by hand: two
# patch logits of 0 (so $D = 1/2$ and $-\log D = \log 2$), and an output that is off by 0.1 everywhere.
#
# **Exercise 3 (build).** Write `g_loss`, $G$'s side of the objective in "The idea": the non-saturating cGAN term
# $-\log \sigma(D(x, G(x)))$ averaged over every patch logit, the L1 term, the mean absolute difference between
# output and target, and the total cGAN $+\ \lambda \cdot$ L1. Return all three. Keep the cGAN term finite for any
# logit, however large. Every training run below calls it.

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def g_loss(d_fake, y_fake, y, lambda_L1=100.0):
    # d_fake: (B, 1, h, w) patch logits on (x, G(x)); y_fake, y: (B, 3, H, W)
    # returns (total, cGAN term, L1 term), three scalars
    ### BEGIN SOLUTION
    loss_gan = F.softplus(-d_fake).mean()
    loss_l1 = (y_fake - y).abs().mean()
    return loss_gan + lambda_L1 * loss_l1, loss_gan, loss_l1
    ### END SOLUTION


# %% [markdown]
# The example worked by hand, then more checks:

# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
d_fake, y = torch.zeros(1, 1, 1, 2), torch.zeros(1, 3, 2, 2)
y_fake = y + 0.1
total, loss_gan, loss_l1 = g_loss(d_fake, y_fake, y)
print(f"cGAN {loss_gan:.4f} (log 2 = {math.log(2):.4f}), L1 {loss_l1:.4f}, total {total:.4f} (= log 2 + 100 * 0.1)")
check_that(abs(total.item() - (math.log(2) + 10)) < 1e-4 and abs(loss_gan.item() - math.log(2)) < 1e-6,
           "g_loss: the example worked by hand", hint="A logit of 0 means D = 1/2; the L1 term is the mean of |0.1|.")
far = torch.full((1, 1, 2, 2), 200.0)                                           # D very sure, either way
check_that(bool(torch.isfinite(torch.stack(g_loss(-far, y_fake, y))).all()) and g_loss(far, y, y)[0].item() < 1e-6,
           "g_loss: finite at logits -200, and 0 when D is sure the perfect output is real",
           hint="-log sigma(d) overflows if you take the sigmoid first; write it in a form that stays finite.")
check_that(torch.equal(g_loss(d_fake, y_fake, y, 0.0)[0], loss_gan), "g_loss: lambda_L1 = 0 leaves the cGAN term alone");
### BEGIN HIDDEN TESTS
from gan_utils.losses import g_loss_pix2pix

g_ex = torch.Generator().manual_seed(0)
d_f, y_f = torch.randn(2, 1, 6, 6, generator=g_ex), torch.rand(2, 3, 8, 8, generator=g_ex)
y_t = torch.rand(2, 3, 8, 8, generator=g_ex)
for lam in (100.0, 0.0, 7.0):
    assert all(torch.isclose(p, q) for p, q in zip(g_loss(d_f, y_f, y_t, lam), g_loss_pix2pix(d_f, y_f, y_t, lam)))
check(torch.stack(g_loss(d_f, y_f, y_t, 10.0)), torch.stack(g_loss_pix2pix(d_f, y_f, y_t, 10.0)), "g_loss: fixed inputs",
      hint="Average the cGAN term over every patch of every image, and the L1 term over every pixel and channel.")
### END HIDDEN TESTS
print("D's loss on the same logits, halved:", f"{0.5 * d_loss_bce(d_fake, d_fake):.4f}", "(= log 2)")


# %% [markdown]
# ## Training
#
# One helper builds a fresh $G$ and $D$ and a Trainer for one variant of the objective, so that the ablation
# runs differ in nothing else: the same seed, data, augmentation, optimiser and number of steps. The settings
# are the paper's: Adam with lr $2\cdot10^{-4}$ and $\beta_1 = 0.5$, DCGAN's $\mathcal N(0, 0.02)$
# initialisation, batch norm. (The paper used batches of 1 to 10, and 1 by default, where batch norm becomes instance
# norm; we use batch 4 on the CPU.) `gan=False` is the L1-only run: $D$ is not even built. `lambda_L1=0` is cGAN only.
# Each step is one $D$ update, then one $G$ update.

# %%
def make_pix2pix(name, lambda_L1=100.0, gan=True, skips=True, seed=cfg.seed):
    torch.manual_seed(seed)
    G_ = UnetGenerator(K, 3, n_down, cfg.width, skips=skips).to(device)
    D_ = PatchDiscriminator(K + 3, cfg.width, n_layers=3).to(device)
    models = {"G": G_, "D": D_} if gan else {"G": G_}
    opts = {k: torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for k, m in models.items()}
    for m in models.values():
        m.apply(weights_init)

    def step(i):
        a, y, _ = train.batch(cfg.batch)
        x, y = jitter(one_hot(a), y)                                        # (B, K, H, W), (B, 3, H, W)
        y_fake = G_(x)
        if not gan:
            loss_l1 = l1_loss(y_fake, y)
            opts["G"].zero_grad(); loss_l1.backward(); opts["G"].step()
            return {"L1": loss_l1.item()}
        loss_D = 0.5 * d_loss_bce(D_(torch.cat([x, y], 1)), D_(torch.cat([x, y_fake.detach()], 1)))
        opts["D"].zero_grad(); loss_D.backward(); opts["D"].step()
        loss_G, loss_gan, loss_l1 = g_loss(D_(torch.cat([x, y_fake], 1)), y_fake, y, lambda_L1)
        opts["G"].zero_grad(); loss_G.backward(); opts["G"].step()
        return {"loss_D": loss_D.item(), "loss_G_cGAN": loss_gan.item(), "L1": loss_l1.item()}

    trainer = Trainer(models, opts, step, ckpt_dir=cfg.ckpt_dir / name, ckpt_every=cfg.ckpt_every)
    return G_, trainer


# %% [markdown]
# The promotion check of the step: it is `gan_utils.models.pix2pix.train_step(G, D, opt_G, opt_D, x, y, lambda_L1)`
# (`D=None` for L1 alone), which notebook 11 imports. Two fresh runs from `make_pix2pix`, one step each on the same
# batch, jitter and dropout draws, one through the step above and one through the library's, must log the same
# losses and leave the same weights. The check leaves the notebook's random state as it found it.

# %%
def check_step(lambda_L1=100.0, gan=True):
    rng = rng_state()
    (_, ours), (G_lib, lib) = (make_pix2pix("check", lambda_L1, gan) for _ in range(2))   # the same initial weights
    torch.manual_seed(1)
    losses = ours.step_fn(0)                                                # the step above draws its batch
    torch.manual_seed(1)
    a, y, _ = train.batch(cfg.batch)                                        # the same batch, jitter and dropout
    x, y = jitter(one_hot(a), y)
    losses_lib = pix2pix.train_step(G_lib, lib.models.get("D"), lib.optimizers["G"], lib.optimizers.get("D"), x, y,
                                    lambda_L1)
    assert_same_step(losses, losses_lib, list(ours.models.values()), list(lib.models.values()))
    set_rng_state(rng)

check_step()
check_step(gan=False)

# %% [markdown]
# The full objective first, L1 + cGAN with $\lambda = 100$. Run the cell again and it resumes from its
# checkpoint (or just loads the trained model).

# %%
G_full, trainer_full = make_pix2pix("l1_cgan")
hist_full = trainer_full.fit(cfg.steps, resume=True)
print(f"L1 + cGAN: {trainer_full.step} steps in {trainer_full.seconds / 60:.1f} min")

# %% [markdown]
# ## Results
#
# **Test time.** The paper runs $G$ at test time exactly as in training: dropout on, and batch norm with the
# statistics of the test batch. `translate` does that for all held-out maps at once, with a seed per draw so
# that the numbers below can be reproduced.

# %%
x_test, y_test = one_hot(test.to_float().a), test.to_float().b           # (N, K, H, W), (N, 3, H, W)
maps_test = test.colour_maps().float() / 127.5 - 1                      # (N, 3, H, W), for display

@torch.no_grad()
def translate(G_, draw=0):
    torch.manual_seed(1_000 + draw)
    G_.train()                                                          # dropout on, test-batch statistics
    return G_(x_test)                                                   # (N, 3, H, W) in [-1, 1]

y_full = translate(G_full)
fig, ax = plt.subplots(figsize=(2 * len(test), 6.5))
show_grid(torch.cat([maps_test, y_full, y_test]), nrow=len(test), ax=ax,
          title="held-out pairs: input label map (top), pix2pix output (middle), real photo (bottom)"); plt.show()

# %% [markdown]
# **What the full objective gives.** The outputs follow the maps closely: road, sidewalk, grass, building and
# sky sit where the map puts them, the building has rows of windows, and the parked cars appear as dark blobs.
# Two flaws are typical of a short pix2pix run on few images. The road carries **invented lane markings**, pale
# strokes in places where the real photo has none (the maps do not mark lanes, so $G$ guesses; on the last still
# they become a chequered patch), and the two stills on the right, scenes unlike the training street, borrow that
# street's building texture: with 21 training pairs from mostly one street, $G$ has partly memorised it.
#
# **Dropout as the noise.** pix2pix has no $z$: the paper found that $G$ learned to ignore an input noise
# vector, and kept dropout, at test time too, as the only source of randomness. It also notes that this gives
# only "minor stochasticity". Four draws for the same map, and the spread between them next to the error:

# %%
draws = torch.stack([translate(G_full, d) for d in range(4)])            # (4, N, 3, H, W)
spread = draws.std(0).mean().item()                                     # per-pixel std over draws, averaged
error = (draws[0] - y_test).abs().mean().item()
print(f"per-pixel std across 4 dropout draws: {spread:.3f}; mean |output - target|: {error:.3f} (both in [-1, 1] units)")
show_grid(torch.cat([draws[:, 0], (draws[0, 0] - draws[1, 0]).abs()[None] * 4 - 1]), nrow=5, figsize=(10, 2.3),
          title="one map, four dropout draws | |draw 1 - draw 2| x 4"); plt.show()

# %% [markdown]
# In this run the spread between draws is several times smaller than the error to the target (the two printed
# numbers), and the difference image is dark except at a few edges and the road markings. Dropout changes
# details, not the picture: pix2pix is close to deterministic, as the paper says.
#
# ### The ablation: L1 only, cGAN only, both, and no skips
#
# Three more runs with the same helper, the same seed and the same number of steps: the L1 loss alone (no $D$),
# the cGAN loss alone ($\lambda = 0$), and the full objective with the plain encoder-decoder $G$ (no skips).

# %%
variants = [("L1 + cGAN", "l1_cgan", {}), ("L1 only", "l1", dict(gan=False)), ("cGAN only", "cgan", dict(lambda_L1=0.0)),
            ("L1 + cGAN, no skips", "l1_cgan_noskip", dict(skips=False))]
runs = {"L1 + cGAN": (G_full, hist_full)}
for label, name, kwargs in variants[1:]:
    G_, trainer = make_pix2pix(name, **kwargs)
    trainer.live = False                                                # one progress bar, no plot per run
    runs[label] = (G_, trainer.fit(cfg.steps, resume=True))
    print(f"{label}: {trainer.step} steps in {trainer.seconds / 60:.1f} min")

# %% [markdown]
# The L1 of each run on its training batches (the L1 term is logged even where it is not optimised):

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.2))
for label, (_, h) in runs.items():
    steps_, l1 = np.array(h.steps), np.array(h.losses["L1"])
    w = max(1, len(l1) // 40)
    axes[0].plot(steps_[w - 1:], np.convolve(l1, np.ones(w) / w, "valid"), label=label)
axes[0].set(xlabel="step", ylabel="L1 on training batches", yscale="log"); axes[0].legend(); axes[0].grid(alpha=0.3)
plot_losses(hist_full, ax=axes[1]); axes[1].set_title("L1 + cGAN: all losses"); plt.show()

# %% [markdown]
# Side by side on the held-out maps, one row per objective (the same dropout draw for all):

# %%
outs = {label: translate(G_) for label, (G_, _) in runs.items()}
order = ["L1 only", "cGAN only", "L1 + cGAN", "L1 + cGAN, no skips"]
fig, ax = plt.subplots(figsize=(2 * len(test), 12))
show_grid(torch.cat([maps_test] + [outs[k] for k in order] + [y_test]), nrow=len(test), ax=ax,
          title="rows: label map | " + " | ".join(order) + " | real photo"); plt.show()

# %% [markdown]
# **What the rows show.** **L1 only** gets the layout and the colours right but is smooth and blurry: the facade
# is a soft grey band with faint stripes, as the striped example above predicts. **cGAN only** is sharper and
# textured, but covered with a fine grid of artefacts and speckled with off colours; nothing ties it to the
# one true photo, only to "looks real next to this map". **L1 + cGAN** keeps L1's layout and colours and adds
# crisper windows and edges (and the invented road markings). The **encoder-decoder without skips**, trained with
# the same full objective, loses most of the layout: cars, poles and trees vanish into a dark blur, because every
# detail of the map has to pass through the 1×1 bottleneck. The paper shows the same
# effect in its comparison of the two generators.
#
# ### Scoring the translations
#
# **The FCN-score, on our scale.** The paper runs an FCN-8s segmentation network, trained on real Cityscapes
# photos, on the generated photos, and compares its labels with the input maps: if the output looks enough like
# a street photo, the segmenter finds the road where the map put the road. The same network on the real photos
# gives the ceiling. We cannot train FCN-8s on 2,975 images here; instead a small U-Net segmenter (`SegNet`) is
# trained on our 21 real **training** photos, at the 128 px we generate. It never sees a generated photo or a
# test photo. Generated photos are softer than real ones, so `fit_segmenter` (the instrument of notebooks 09-12)
# blurs and noises each training photo at random: the segmenter should read a photo by its layout, not by its
# sharpness. It is saved in this notebook's checkpoint folder and loaded on a rerun.

# %%
tr = train.to_float()
seg, seg_losses = fit_segmenter(tr.b, tr.a, K, cfg.ckpt_dir / "segmenter.pt", width=cfg.seg_width,
                                steps=cfg.seg_steps, ignore_index=ignore, seed=cfg.seed, device=device)
print(f"segmenter: cross-entropy {np.mean(seg_losses[:10]):.2f} -> {np.mean(seg_losses[-10:]):.2f} "
      f"over {len(seg_losses)} steps at {cfg.size} px")
print(f"pixel accuracy on its own training photos: {pixel_accuracy(segment(seg, tr.b), tr.a[:, 0].cpu(), K, ignore):.2f}")

# %% [markdown]
# **A second seed for every run.** One training run per objective cannot tell a real difference from luck. The
# same four runs again from `n_seeds - 1` other seeds (other initial weights, batches, jitter and dropout; the
# same data and steps):

# %%
seeds = [cfg.seed + k for k in range(cfg.n_seeds)]
gens = {seeds[0]: {label: G_ for label, (G_, _) in runs.items()}}
for sd in seeds[1:]:
    gens[sd] = {}
    for label, name, kwargs in variants:
        G_, trainer = make_pix2pix(f"{name}_seed{sd}", seed=sd, **kwargs)
        trainer.live = False
        trainer.fit(cfg.steps, resume=True)
        gens[sd][label] = G_
        print(f"{label}, seed {sd}: {trainer.step} steps in {trainer.seconds / 60:.1f} min")

# %% [markdown]
# Then every run is scored the same way: the three columns of the paper's Table 1 (per-pixel accuracy, per-class
# accuracy, class IoU; void not scored), and two direct distances between output and target: the mean absolute
# error (in $[-1, 1]$ units, as the L1 loss) and SSIM, the structural similarity of notebook 03, per image with
# skimage on $[0, 1]$ images, averaged. Each generated row is the mean over the seeds of each seed's mean over
# `n_draws` dropout draws, ± the sd over the seeds: the training runs' own spread.

# %%
ids_test = test.to_float().a[:, 0].long().cpu()                         # (N, H, W), on the CPU like segment()'s ids

def ssim(y_fake, y):
    to_np = lambda t: ((t.clamp(-1, 1) + 1) / 2).cpu().numpy()          # (N, 3, H, W) in [0, 1]
    return float(np.mean([structural_similarity(p, q, data_range=1.0, channel_axis=0)
                          for p, q in zip(to_np(y_fake), to_np(y), strict=True)]))

def scores(y_fake):
    s = segmentation_scores(segment(seg, y_fake), ids_test, K, ignore)
    return [s["pixel_acc"], s["class_acc"], s["mean_iou"], (y_fake - y_test).abs().mean().item(), ssim(y_fake, y_test)]

table = {label: np.array([[scores(translate(gens[sd][label], d)) for d in range(cfg.n_draws)] for sd in seeds]).mean(1)
         for label in runs}                                             # (n_seeds, 5): each seed's mean over draws
table["real photos (ceiling)"] = np.array([scores(y_test)])

# %% [markdown]
# The table, beside the paper's Table 1 (FCN-scores for Cityscapes labels → photo at 256 px; in the course's
# notes these numbers come from a secondary source, since the table is an image in the paper's text). The
# paper's ceiling row ("ground truth") is FCN-8s on the real photos. The paper has no FCN-score for the
# encoder-decoder in Table 1.

# %%
paper = {"L1 only": (0.42, 0.15, 0.11), "cGAN only": (0.57, 0.22, 0.16), "L1 + cGAN": (0.66, 0.23, 0.17),
         "real photos (ceiling)": (0.80, 0.26, 0.21)}
cols = ["pixel acc", "class acc", "class IoU", "L1", "SSIM"]
print(f"{'':22s}" + "".join(f"{c:>13s}" for c in cols) + "   | paper: pixel / class / IoU")
for label in order + ["real photos (ceiling)"]:
    m, s = table[label].mean(0), table[label].std(0)
    cells = "".join(f"{f'{mi:.2f} ± {si:.2f}' if len(table[label]) > 1 else f'{mi:.2f}':>13s}" for mi, si in zip(m, s))
    ref = " / ".join(f"{v:.2f}" for v in paper[label]) if label in paper else "-"
    print(f"{label:22s}{cells}   | {ref}")
print("class IoU of each seed: " + " | ".join(f"{k} " + " / ".join(f"{v:.2f}" for v in table[k][:, 2]) for k in order))

# %% [markdown]
# **Reading the table.** The columns measure different things, and they disagree in an instructive way.
#
# * **Segmentation score.** It ranks the objectives in three tiers, the same in both seeds. **L1 + cGAN** and
#   **L1 only** score alike (class IoU 0.48 and 0.47 in each seed) and as high as the real photos (0.46): a
#   segmenter trained on 21 photos of mostly this street reads $G$'s tidy version of the street as easily as the
#   real one, so at this scale the score cannot rank anything above the ceiling. **cGAN only** is clearly lower
#   (0.39 in each seed): its textures and grid artefacts cost it. The **encoder-decoder without skips** is far below
#   all the others (0.12 and 0.21), the largest gap in the table. The paper's order of the first three (L1 +
#   cGAN 0.17 > cGAN 0.16 > L1 0.11 IoU) has L1 only last; ours puts it level with the full objective, likely
#   because our segmenter, trained on blurred photos as well (on purpose, so that it reads layout rather than
#   sharpness), forgives blur.
# * **L1 and SSIM to the target** favour **L1 only**, the run that optimises exactly that kind of pixel-wise
#   agreement: a blurry average is never far from the target. A sharp texture that is not pixel-aligned with the
#   real one costs twice, once where it has an edge and the target has none and once the other way round. So the
#   more realistic outputs score worse here, cGAN only worst of the U-Net runs. This is why the paper does not
#   rank its objectives by L1 or SSIM.
# * **Against the paper.** Our numbers are higher than the paper's across the board, ceiling included, and are not
#   comparable with them: 9 collapsed classes instead of Cityscapes' 19, a small segmenter trained on photos of
#   the same street, 128 px instead of 256, and test frames from the training street. What carries over is
#   the structure: the ceiling bounds what a translation can score, the full objective reaches it, and a $G$ that
#   cannot pass the map's layout through does badly. The paper's per-class accuracy and IoU are far below
#   its pixel accuracy, as ours are, because small classes (poles, people, signs) are hard even in real photos.
#
# Where the score comes from: the same segmenter's pixel accuracy on the held-out **video frames** (the training
# street, 9 to 14 frames on) and on the held-out **stills** (other scenes), for the full objective and for the
# real photos.

# %%
is_frame = torch.tensor([f >= 0 for f in test.frames])
for label, photos in [("L1 + cGAN", translate(G_full)), ("real photos", y_test)]:
    pred = segment(seg, photos)
    parts = [f"{name} {pixel_accuracy(pred[sel], ids_test[sel], K, ignore):.2f}"
             for name, sel in [("video frames", is_frame), ("stills", ~is_frame)] if sel.any()]
    print(f"{label:12s} pixel accuracy: " + ", ".join(parts))


# %% [markdown]
# The held-out video frames score higher than the two held-out stills, for the generated and the real photos
# alike, so part of the gap is the segmenter's, not the generator's. With only 2 stills this is a hint, not a
# measurement; the honest test of generalisation would be many frames from other streets, which the course's data
# does not hold.
#
# ## Explore
#
# Pick a held-out map and see what each objective makes of it. The figure under the slider is the static
# fallback.

# %%
def compare(i=0):
    row = torch.stack([maps_test[i]] + [outs[k][i] for k in order] + [y_test[i]])
    show_grid(row, nrow=len(row), figsize=(12, 2.3), title="map | " + " | ".join(order) + " | real"); plt.show()

interact(compare, i=(0, len(test) - 1))

# %%
compare(len(test) - 1)  # static fallback: the last held-out pair


# %% [markdown]
# ## Summary
#
# * pix2pix is a conditional GAN whose condition is an image: $G$ is a U-Net, $D$ a PatchGAN that judges (input,
#   output) pairs patch by patch, and the objective is $\mathcal L_\text{cGAN} + 100\,\mathcal L_{L1}$.
# * L1 alone is minimised by the per-pixel median of the plausible outputs, which washes out whatever the input
#   does not pin down; the adversarial term penalises exactly that.
# * The U-Net's skips pass the map's layout straight to the decoder; the 70×70 PatchGAN's receptive field follows
#   from its kernels and strides.
# * Dropout is pix2pix's only noise, and it gives little variety.
# * The segmentation score puts each objective on one scale, with the real photos as the ceiling. On 21 training
#   pairs at 128 px, over 2 seeds, it ranks no skips far below cGAN only, and cGAN only below L1 only and L1 +
#   cGAN, which both reach the real photos' score: a small-scale version of the paper's Table 1, not a
#   reproduction of it.
#
# ## Exercises
#
# Exercises 1 to 3 (build) are in the notebook above, where the U-Net, the PatchGAN and the loss are taught; the
# rest are here.
#
# **Exercise 4.** The size of $D$'s logit map. A convolution with kernel $k$, stride $s$ and padding $p$ maps a
# side of $n$ pixels to $\lfloor (n + 2p - k) / s \rfloor + 1$. Write a function that applies a list of
# `(kernel, stride, padding)` layers to a side `n`. The check runs it on the 70×70 D's layers at several sizes;
# 256 px must give the paper's 30×30 patches.

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
def logit_map_side(n, layers):
    # layers: [(kernel, stride, padding), ...] in order; returns an int
    ### BEGIN SOLUTION
    for k, s, p in layers:
        n = (n + 2 * p - k) // s + 1
    return n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
D70 = PatchDiscriminator(6, 64, n_layers=3)
layers70 = [(m.kernel_size[0], m.stride[0], m.padding[0]) for m in D70.modules() if isinstance(m, nn.Conv2d)]
side_256 = logit_map_side(256, layers70)
check_that(None if side_256 is None else side_256 == 30, "logit map side: 30 patches per side at 256 px",
           hint="Apply the formula above to n once per layer, in order, each time to the previous layer's output.")
check_that(logit_map_side(9, [(3, 1, 1)]) == 9 and logit_map_side(9, [(3, 2, 0)]) == 4,
           "logit map side: one layer", hint="Floor division, then + 1.");
### BEGIN HIDDEN TESTS
from gan_utils.teaching import check_function

check_function(logit_map_side, lambda n, layers: patch_output_size(D70, (n, n))[0],  # the real D's map, measured
               [(n, layers70) for n in (256, 128, 64, 100)], "logit map side",
               hint="Loop over the layers and apply the formula above to n once per layer, in order.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5.** Per-pixel accuracy, the first column of the table: the share of pixels whose predicted class
# equals the target's, **not counting** pixels whose target is `ignore_index` (void).

# %% nbgrader={"grade": false, "grade_id": "ex5", "locked": false, "schema_version": 3, "solution": true, "task": false}
def my_pixel_accuracy(pred, target, ignore_index):
    # pred, target: (N, H, W) class ids; returns a float
    ### BEGIN SOLUTION
    keep = target != ignore_index
    return (pred[keep] == target[keep]).float().mean().item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
g = torch.Generator().manual_seed(1)
p_ids, t_ids = torch.randint(0, 4, (3, 16, 16), generator=g), torch.randint(0, 4, (3, 16, 16), generator=g)
wrong = (t_ids + 1) % 4                                 # every pixel wrong ...
wrong[t_ids == 0] = 0                                   # ... except the void ones, which do not count
acc_right, acc_wrong = my_pixel_accuracy(t_ids, t_ids, 0), my_pixel_accuracy(wrong, t_ids, 0)
check_that(None if acc_right is None else abs(acc_right - 1) < 1e-6, "pixel accuracy: 1 for a perfect prediction")
check_that(None if acc_wrong is None else abs(acc_wrong) < 1e-6, "pixel accuracy: void pixels are not scored",
           hint="Leave out the pixels whose target is ignore_index before counting, from the numerator and the denominator.");
### BEGIN HIDDEN TESTS
p_ids[0] = t_ids[0]                                   # one image predicted perfectly
check(my_pixel_accuracy(p_ids, t_ids, 0), pixel_accuracy(p_ids, t_ids, 4, ignore_index=0), "pixel accuracy",
      hint="Keep the pixels whose target is not void, then the share of them predicted right.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 6 (extend).** The paper's smallest $D$ is the 1×1 **PixelGAN**, which judges every pixel on its own:
# it can check colours, not structure. Write `pixel_discriminator(in_channels, ndf)` as one `nn.Sequential`, the
# PatchGAN of Exercise 2 with every kernel 1×1 and stride 1 and only two hidden layers: a 1×1 convolution to `ndf`
# channels and LeakyReLU(0.2) (no norm), a 1×1 convolution to `2 * ndf` channels (no bias), batch norm and
# LeakyReLU(0.2), and a 1×1 convolution to one logit.

# %% nbgrader={"grade": false, "grade_id": "ex6", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pixel_discriminator(in_channels, ndf=64):
    # (B, in_channels, H, W) -> (B, 1, H, W): one logit per pixel
    ### BEGIN SOLUTION
    return nn.Sequential(nn.Conv2d(in_channels, ndf, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(ndf, 2 * ndf, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.2),
                         nn.Conv2d(2 * ndf, 1, 1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex6_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
torch.manual_seed(0)
D_px = pixel_discriminator(7, 8).eval()
xy_px = torch.randn(2, 7, 16, 16, generator=torch.Generator().manual_seed(3))    # (2, 7, 16, 16)
xy_px_moved = xy_px.clone()
xy_px_moved[:, :, 3, 5] += 10.0
with torch.no_grad():
    changed = (D_px(xy_px) != D_px(xy_px_moved))[:, 0]                           # (2, 16, 16)
check_that(tuple(D_px(xy_px).shape) == (2, 1, 16, 16), "pixel_discriminator: one logit per pixel",
           hint="1x1 kernels with stride 1 keep the size.")
check_that(bool(changed[:, 3, 5].all()) and int(changed.sum()) == 2 and receptive_field(D_px) == 1,
           "pixel_discriminator: a pixel moves only its own verdict (receptive field 1)");
### BEGIN HIDDEN TESTS
D_ref = PatchDiscriminator(7, 8, n_layers=0).eval()
D_ref.model.load_state_dict(D_px.state_dict())
with torch.no_grad():
    check(D_px(xy_px), D_ref(xy_px), "pixel_discriminator: the library's PixelGAN with its weights",
          hint="conv, LeakyReLU; conv, batch norm, LeakyReLU; conv to one channel.")
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 7 (open).** The paper's Table 3 compares the PatchGAN's size. Add an `n_layers` argument to
# `make_pix2pix`, and train the 1×1 PixelGAN (`n_layers=0`) and the 16×16 D (`n_layers=1`) against the 70×70 one
# at 64 px (`size=64` in SIZES, which also makes each run several times faster). Score them with the segmenter. Which
# looks sharper, and does the score agree?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer states a prediction, trains the three $D$s with everything else equal (same
# seeds, steps, data; 2 seeds at least) and reports the table's columns for each, with the seed spread. Reference
# points from this notebook: the 70×70 run (L1 + cGAN) reaches class IoU 0.48 in both seeds, level with the real
# photos' 0.46; cGAN only 0.39; no skips 0.12-0.21. Expected, as in the paper's Table 3: the PixelGAN adds colour
# but little sharpness (close to L1 only), the 16×16 D sharpens with tiling artefacts, and the segmentation score
# may not separate them when it already sits at the ceiling. Full marks need figures beside the numbers and a word
# on whether the differences exceed the seed spread.

# %% [markdown]
# **Exercise 8 (open).** Run `G_full` in eval mode (`G_full.eval()`: dropout off, running batch-norm statistics)
# instead of the paper's test mode, and compare the scores. Then try the other direction, photo → label map
# (`pairs.photo_to_label()`), which the paper also trains: there L1 alone does well. Why?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex8_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer reports the table's columns for both modes on the same held-out maps and
# seeds (this notebook's test mode gives L1 + cGAN class IoU 0.48 in both seeds), and relates the difference to
# the dropout spread printed above (several times smaller than the error): eval mode removes that spread and
# swaps the test batch's statistics for running ones learned on 21 pairs. Photo → labels: the label map is
# (almost) fixed by the photo, so the plausible outputs agree and their per-pixel median is the answer itself;
# L1 has nothing to blur, and the cGAN term has little to add (in the paper L1 alone even scores best there).
# 2 points for measured scores in both modes, 3 for the explanation.

# %% [markdown]
# ## References
#
# * P. Isola, J.-Y. Zhu, T. Zhou, A. A. Efros. *Image-to-Image Translation with Conditional Adversarial
#   Networks.* CVPR 2017. Official code: `phillipi/pix2pix` (Torch); the authors' PyTorch port
#   `junyanz/pytorch-CycleGAN-and-pix2pix` (`models/networks.py`: `UnetGenerator`, `NLayerDiscriminator`).
# * O. Ronneberger, P. Fischer, T. Brox. *U-Net: Convolutional Networks for Biomedical Image Segmentation.*
#   MICCAI 2015.
# * M. Cordts et al. *The Cityscapes Dataset for Semantic Urban Scene Understanding.* CVPR 2016.
# * J. Long, E. Shelhamer, T. Darrell. *Fully Convolutional Networks for Semantic Segmentation.* CVPR 2015
#   (FCN-8s, the paper's scoring network).
# * Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli. *Image Quality Assessment: From Error Visibility to
#   Structural Similarity.* IEEE TIP 2004 (SSIM).
