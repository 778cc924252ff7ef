# %% [markdown]
# # 07 · 3D-GAN and 3D-VAE-GAN: generating voxel shapes
#
# **Paper:** Jiajun Wu, Chengkai Zhang, Tianfan Xue, William T. Freeman, Joshua B. Tenenbaum. *Learning a
# Probabilistic Latent Space of Object Shapes via 3D Generative-Adversarial Modeling.* NeurIPS 2016.
# [arXiv:1610.07584](https://arxiv.org/abs/1610.07584)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/07_3dgan.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: width 4, a few dozen steps, same code | ≈ 15 s (measured) | ≈ 20 s (estimate) |
# | `default` | 32³ voxels, G and D at width 32 (paper: 64³, width 64): 3D-GAN for 1,000 steps, three 3D-VAE-GANs for 400 each | ≈ 14–21 min (measured: 21 min for these outputs on a slow machine, 7.4 + 4.2 + 3.7 + 3.9 min of training) | ≈ 2 min (estimate) |
# | `full` | the paper's networks at 64³, batch 100, 20,000 + 10,000 steps | days | ≈ 36 h on a T4 (estimate, counted FLOPs; ≈ 4 h on an A100): several Colab sessions, see below |
#
# `full` is sized for a 16 GB Colab T4: ≈ 9 GiB at its peak, counted by `benchmarks/full_mode_budget.py`.
# It takes longer than one Colab session (at most about 12 h, often less): set `KEEP_ON_DRIVE = True` so
# that the checkpoints outlive the runtime, and after a reset run the notebook again; every training cell
# resumes from its last checkpoint.
#
# The outputs you see come from a `default` run on real data: 889 ModelNet10 chairs (and 465 monitors for the
# classifier) voxelised at 32³.

# %% [markdown]
# ## What you will learn
#
# * how a GAN makes **3D shapes**: occupancy grids of voxels, built by **3D transposed convolutions** (4×4×4 kernels,
#   stride 2, no pooling) from a 200-d $z$;
# * the paper's trick for a balanced game: $D$'s learning rate below $G$'s, and $D$ **updated only when its accuracy
#   on the last batch is at most 80%**, with a plot of how often it was skipped;
# * how to tell whether the shapes are good and new: intersection over union (IoU) with the **nearest training
#   chair**, and between samples;
# * **latent interpolation** and **shape arithmetic** in 3D;
# * **$D$'s features as a shape descriptor**: a linear classifier on them, against the same classifier on raw voxels
#   and on an untrained $D$;
# * **3D-VAE-GAN**: an image encoder $E$, the KL and reconstruction losses, and a 3D shape from a single 2D view,
#   scored by IoU on held-out chairs.
#
# **What changes from notebook 03.** Nothing in the GAN objective: 3D-GAN is DCGAN's recipe with one more spatial
# dimension. A 32³ grid has 32,768 voxels, eight times a 64×64 image's pixels, and a 4×4×4 kernel has four times
# the weights of a 4×4 one; the cost grows accordingly, so the networks here are narrower than the paper's.

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
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import gan_utils
from gan_utils import losses
from gan_utils.data.synthetic.voxels import synthetic_furniture
from gan_utils.data.voxels import load_modelnet10, resample
from gan_utils.teaching import check, check_that
from gan_utils.metrics.probe import linear_probe, stratified_split
from gan_utils.metrics.voxels import largest_component, nearest_iou, pairwise_iou, voxel_iou
from gan_utils.models.gan3d import (ImageEncoder, VoxelDiscriminator, VoxelGenerator, d_accuracy, d_step_gated,
                                   kl_loss, pooled_features, recon_loss, reparameterize)
from gan_utils.train.trainer import Trainer
from gan_utils.display.viz import render_views, show_grid, show_voxels
from gan_utils.display.widgets import interact

# %% [markdown]
# Sizes per mode. The paper generates 64³ grids with $G$ and $D$ at width 64 (512 channels at 4³) and a batch of
# 100; we train at 32³ with width 32 and a batch of 32, which costs about 0.3 s a step on a 2-core CPU (width 64
# would cost 1 s). `n_synthetic` is the number of procedural chairs when the real ones are missing; `n_probe` the
# number of procedural shapes per class for the classifier; `image_size` the side of the 2D views that the
# 3D-VAE-GAN's encoder sees.

# %%
SIZES = {  # paper: 64^3, width 64, batch 100
    "fast":    dict(size=32, width=4, batch=8, steps=30, vae_steps=10, sample_every=15, n_synthetic=96,
                    n_probe=24, probe_splits=2, image_size=32, n_eval=16),
    "default": dict(size=32, width=32, batch=32, steps=1_000, vae_steps=400, sample_every=100, n_synthetic=1_000,
                    n_probe=200, probe_splits=5, image_size=64, n_eval=128),
    "full":    dict(size=64, width=64, batch=100, steps=20_000, vae_steps=10_000, sample_every=1_000,
                    n_synthetic=4_000, n_probe=500, probe_splits=5, image_size=64, n_eval=256),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="07_3dgan")
device = cfg.device

# %% [markdown]
# The paper's hyperparameters. Its learning rates are 0.0025 for $G$ and $10^{-5}$ for $D$, with Adam and
# $\beta_1 = 0.5$. At our budget of 1,000 steps, $D$ at $10^{-5}$ never learns: in a 600-step probe at width 16
# its accuracy fell from 0.41 to 0.00, and $G$ collapsed to near-identical blobs (mean IoU between samples 0.66, against
# 0.12 between real chairs). So we keep the paper's *ordering*, $D$ slower than $G$, at $10^{-3}$, and keep
# the 80% gate, which then does real work. Exercise 7 asks you to try the paper's value.

# %%
z_dim = 200             # paper: 200
lr_G, lr_D = 2.5e-3, 1e-3  # paper: 2.5e-3 and 1e-5 (see above)
beta1 = 0.5             # paper: Adam, beta = 0.5
acc_threshold = 0.8     # paper: update D only if its accuracy on the last batch is <= 80%
alpha_1, alpha_2 = 5.0, 1e-4  # 3D-VAE-GAN: weights of the KL and reconstruction losses (as commonly quoted)

# %% [markdown]
# ## The idea
#
# A shape is an **occupancy grid** $x \in \{0, 1\}^{n \times n \times n}$: 1 where the object is. $G$ maps a latent
# $z \in \mathbb R^{200}$ to a grid of occupancy probabilities $G(z) \in (0, 1)^{n^3}$ (a sigmoid output), and $D$ maps a
# grid to the probability that it is a real shape. The objective is the GAN's own:
#
# $$\mathcal L_\text{3D-GAN} = \log D(x) + \log\big(1 - D(G(z))\big),$$
#
# which $D$ maximises and $G$ minimises (in practice $G$ maximises $\log D(G(z))$, the non-saturating form of
# notebook 01). Voxels are easier for $D$ than images: a real chair is crisp and connected, a young $G$'s output
# is a grey fog. So $D$ wins early and its gradients vanish. The paper's remedy: **skip $D$'s update whenever it
# classified more than 80% of the last batch correctly**.
#
# **3D-VAE-GAN** adds an encoder $E$ that maps a 2D image $y$ of an object to a distribution $q(z \mid y) =
# \mathcal N(\mu, \sigma^2)$ over $G$'s latent space. $G(z)$ with $z \sim q(z \mid y)$ should then be the object's
# 3D shape $x$:
#
# $$\mathcal L = \mathcal L_\text{3D-GAN} + \alpha_1 \mathcal L_\text{KL} + \alpha_2 \mathcal L_\text{recon}, \qquad
# \mathcal L_\text{KL} = D_\text{KL}\big(q(z \mid y)\,\|\,\mathcal N(0, I)\big), \qquad
# \mathcal L_\text{recon} = \lVert G(E(y)) - x \rVert_2^2 .$$
#
# ```
#   z ~ N(0, I) ──► G ──► 32³ grid ──► D: real chair or G(z)?
#        ▲
#   y (2D view) ──► E ──► (mu, sigma) ──► z ~ q(z|y) ──► G ──► G(E(y)) ≈ x, the shape in the image
# ```

# %% [markdown]
# ## Data
#
# ModelNet10 has ten furniture classes of CAD models. The voxelised chairs and monitors come at 32³ (grids indexed
# $(x, y, z)$ with $z$ up); the loader drops an all-zero placeholder grid that the files hold and keeps occupancy as
# `uint8`. Without them (offline, or a fresh clone), the loader says so in a banner and generates procedural
# furniture: chairs, tables, sofas and lamps made of boxes and cones, with varied proportions. In `full` mode the
# grids are resampled to 64³.

# %%
shapes = load_modelnet10(**cfg.data_kwargs, classes=("chair", "monitor"))
if cfg.size != shapes.voxels.shape[-1]:
    shapes.voxels = resample(shapes.voxels, cfg.size).to(torch.uint8)  # nearest occupancy at the new size
chair_id = shapes.classes.index("chair")
chairs = shapes.voxels[shapes.labels == chair_id]                      # (N, 1, n, n, n) uint8
print(f"{len(chairs)} chairs at {cfg.size}^3, {100 * chairs.float().mean():.1f}% of voxels occupied; classes "
      f"{shapes.classes}")

# %% [markdown]
# We hold out 10% of the chairs. The GAN never sees them; they serve as "new real chairs" when we ask how close
# generated chairs come to the training set, and as the test set of the 3D-VAE-GAN.

# %%
perm = torch.randperm(len(chairs), generator=torch.Generator().manual_seed(cfg.seed))
n_test = max(4, len(chairs) // 10)
x_train = chairs[perm[n_test:]].float().cpu()  # (N_train, 1, n, n, n) in {0, 1}; batches go to the device
x_test = chairs[perm[:n_test]].float().cpu()    # kept on the CPU, beside the samples we compare them with
print(f"train: {len(x_train)} chairs, held out: {len(x_test)}")


# %% [markdown]
# Eight training chairs, drawn as surfaces (`show_voxels` runs `skimage.measure.marching_cubes` on the grid and
# shades the faces; `method="voxels"` draws the cubes instead).

# %%
def show_shapes(grids, titles=None, ncols=8, size=1.9, azim=-60, suptitle=None):
    n = len(grids); nrows = (n + ncols - 1) // ncols
    fig = plt.figure(figsize=(size * min(n, ncols), size * nrows))
    for i, g in enumerate(grids):
        ax = fig.add_subplot(nrows, min(n, ncols), i + 1, projection="3d")
        show_voxels(g[0] if g.ndim == 4 else g, ax=ax, azim=azim, title=None if titles is None else titles[i])
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout(); plt.show()

show_shapes(x_train[:8], suptitle=f"training shapes ({shapes.source} data)")


# %% [markdown]
# ## Building blocks
#
# **G** starts from $z$ as a 1×1×1 volume with 200 channels. A first transposed convolution with a 4×4×4 kernel and
# no stride turns it into a 4³ volume; every following one (4×4×4, stride 2, padding 1) doubles each side and halves
# the channels, with batch norm and ReLU in between, as in DCGAN. At 32³: 4³×128 → 8³×64 → 16³×32 → 32³×1 at
# width 32 (the paper's 64³ $G$ has one more stage: 4³×512 → … → 64³×1). The output is a sigmoid: occupancy
# probabilities. The layers followed by batch norm need no bias (batch norm removes it).
#
# **Exercise 1 (build).** Write $G$'s volumetric stack: in `__init__`, the list `layers` of the paragraph above
# (the first transposed convolution to 4³ with `ch[0]` channels, one stride-2 stage per pair of widths in `ch`, and
# the last one to a single channel with the sigmoid), and `forward`, which feeds $z$ $(B, 200)$ in as a 1×1×1
# volume. It must work at 32³ and 64³. The shape checks below and the comparison with `gan_utils` run your $G$.

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
class G3D(nn.Module):
    def __init__(self, z_dim=200, size=32, ngf=32):
        super().__init__()
        stages = int(np.log2(size // 4))                      # 32 -> 3, 64 -> 4
        ch = [ngf * 2 ** i for i in reversed(range(stages))]  # 32^3, ngf 32: [128, 64, 32]
        ### BEGIN SOLUTION
        layers = [nn.ConvTranspose3d(z_dim, ch[0], 4, 1, 0, bias=False), nn.BatchNorm3d(ch[0]), nn.ReLU(True)]
        for a, b in zip(ch[:-1], ch[1:]):
            layers += [nn.ConvTranspose3d(a, b, 4, 2, 1, bias=False), nn.BatchNorm3d(b), nn.ReLU(True)]
        layers += [nn.ConvTranspose3d(ch[-1], 1, 4, 2, 1), nn.Sigmoid()]
        ### END SOLUTION
        self.net = nn.Sequential(*layers)

    def forward(self, z):                                     # z: (B, z_dim) -> (B, 1, size, size, size)
        ### BEGIN SOLUTION
        return self.net(z.view(len(z), -1, 1, 1, 1))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
with torch.random.fork_rng(devices=[]):                                 # the checks leave the global random state as it was
    torch.manual_seed(0)
    G_chk, stages_seen = G3D(z_dim, 32, 32), []               # (channels, side) after each transposed conv
    for m in G_chk.modules():
        if isinstance(m, nn.ConvTranspose3d):
            m.register_forward_hook(lambda m, i, o: stages_seen.append((o.shape[1], o.shape[-1])))
    x_chk = G_chk(torch.randn(2, z_dim))
    check_that(x_chk.shape == (2, 1, 32, 32, 32), "G(z) at 32^3 is (B, 1, 32, 32, 32)",
               hint="z enters as a (B, 200, 1, 1, 1) volume.")
    check_that(stages_seen == [(128, 4), (64, 8), (32, 16), (1, 32)], "the stages 4^3x128 -> 8^3x64 -> 16^3x32 -> "
               "32^3x1 at width 32", hint="A 4x4x4 kernel without stride first, then stride 2 and padding 1.")
    check_that(((x_chk > 0) & (x_chk < 1)).all(), "occupancy probabilities in (0, 1)")
    check_that(sum(isinstance(m, nn.BatchNorm3d) for m in G_chk.modules()) == 3,
               "batch norm after every transposed conv but the last")
    check_that(G3D(z_dim, 64, 4)(torch.randn(2, z_dim)).shape == (2, 1, 64, 64, 64), "G(z) at 64^3",
               hint="One more stride-2 stage: build the stages from the list ch.");
### BEGIN HIDDEN TESTS
with torch.random.fork_rng(devices=[]):
    torch.manual_seed(1)
    for n, w in [(32, 8), (64, 4)]:
        G_o, G_l = G3D(z_dim, n, w).eval(), VoxelGenerator(z_dim, n, ngf=w).eval()
        G_l.load_state_dict(dict(zip(G_l.state_dict(), G_o.state_dict().values(), strict=True)))
        z_h = torch.randn(3, z_dim)
        check(G_o(z_h), G_l(z_h), f"G3D against gan_utils' VoxelGenerator at {n}^3")
    assert torch.allclose(G_o(z_h), G_l(z_h), atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# **D** mirrors $G$: 4×4×4 convolutions with stride 2 (no pooling anywhere), batch norm except on the input layer,
# LeakyReLU(0.2), and a final 4×4×4 convolution from the 4³ volume to one logit. It returns the logit; the sigmoid
# lives in the loss.

# %%
class D3D(nn.Module):
    def __init__(self, size=32, ndf=32):
        super().__init__()
        stages = int(np.log2(size // 4))
        ch = [ndf * 2 ** i for i in range(stages)]            # 32^3, ndf 32: [32, 64, 128]
        layers = [nn.Conv3d(1, ch[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for a, b in zip(ch[:-1], ch[1:]):
            layers += [nn.Conv3d(a, b, 4, 2, 1, bias=False), nn.BatchNorm3d(b), nn.LeakyReLU(0.2, True)]
        layers += [nn.Conv3d(ch[-1], 1, 4, 1, 0)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).flatten()                          # (B,)


# %% [markdown]
# Shape checks on a dummy batch, at 32³ and at the paper's 64³ (at a small width, to keep the check quick):

# %%
for n, w in [(32, 8), (64, 4)]:
    z = torch.randn(2, z_dim)
    x_fake = G3D(z_dim, n, w)(z)
    print(f"{n}^3: z {tuple(z.shape)} -> G {tuple(x_fake.shape)} in ({x_fake.min():.2f}, {x_fake.max():.2f})"
          f" -> D {tuple(D3D(n, w)(x_fake).shape)}")

# %% [markdown]
# The same networks live in `gan_utils.models.gan3d` as `VoxelGenerator` and `VoxelDiscriminator` (which also
# expose $D$'s intermediate features, used later); the check of Exercise 1 compared $G$. Loaded with our weights,
# the library's $D$ computes the same function as ours:

# %%
G_ours = G3D(z_dim, 32, 8).eval()
D_ours, D_lib = D3D(32, 8).eval(), VoxelDiscriminator(32, ndf=8).eval()
D_lib.load_state_dict(dict(zip(D_lib.state_dict(), D_ours.state_dict().values())))
z = torch.randn(3, z_dim)
d_equal = torch.allclose(D_ours(G_ours(z)), D_lib(G_ours(z)), atol=1e-5)
assert d_equal, "D3D above and gan_utils' VoxelDiscriminator compute different things"
print("D equal:", d_equal)


# %% [markdown]
# ## Losses, and the gated update of D
#
# The losses are notebook 01's: $D$ minimises the binary cross-entropy of its logits (real → 1, fake → 0), and $G$
# minimises $-\log D(G(z))$. What is new is the **gate**. $D$'s accuracy on a batch is the share of real grids it
# calls real (logit > 0) and fake grids it calls fake. By hand: real logits (2, −1) give one right, fake logits
# (−3, −0.5) give two right, so the accuracy is 3/4.

# %%
def accuracy(d_real, d_fake):
    return ((d_real > 0).float().sum() + (d_fake <= 0).float().sum()).item() / (len(d_real) + len(d_fake))

d_real, d_fake = torch.tensor([2.0, -1.0]), torch.tensor([-3.0, -0.5])
print(accuracy(d_real, d_fake), "==", 3 / 4, "| gan_utils:", d_accuracy(d_real, d_fake))


# %% [markdown]
# The gated step computes $D$'s loss and accuracy on the batch, and applies the gradient step only if the accuracy
# is at most 80%. It returns what it did, so that training can count the skipped updates.
#
# **Exercise 2 (build).** Write the paper's gated step `d_step`: $D$'s loss on the batch (notebook 01's loss from
# logits, real → 1, fake → 0, with no gradient into $G$), its accuracy with `accuracy` above, and the optimiser step
# only if the accuracy is at most `threshold`. Return `(loss as a float, accuracy, whether D was updated)`. Both
# the 3D-GAN and the 3D-VAE-GAN below train $D$ with it.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def d_step(D, opt_D, x_real, x_fake, threshold=acc_threshold):
    # x_real, x_fake: (B, 1, n, n, n) -> (float, float, bool)
    ### BEGIN SOLUTION
    d_real, d_fake = D(x_real), D(x_fake.detach())
    loss = losses.d_loss_bce(d_real, d_fake)
    acc = accuracy(d_real.detach(), d_fake.detach())
    opt_D.zero_grad(set_to_none=True)
    if acc <= threshold:
        loss.backward(); opt_D.step()
    return loss.item(), acc, acc <= threshold
    ### END SOLUTION


# %% [markdown]
# A check with a toy $D$ whose logit is $w \cdot (\text{mean occupancy} - 0.5)$, on full grids (real) against
# empty ones (fake). With $w = 10$ it is sure and right (accuracy 1.0): the step must be **skipped** and $w$ must not
# move. With $w = -10$ it is sure and wrong (accuracy 0.0): the step is taken.

# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
class OccupancyD(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return self.w * (x.flatten(1).mean(1) - 0.5)  # (B,)

def gated(w, x_real, x_fake, threshold=acc_threshold, step=d_step):  # (loss, accuracy, updated, w after)
    D_a = OccupancyD(w)
    loss, acc, updated = step(D_a, torch.optim.SGD(D_a.parameters(), lr=0.1), x_real, x_fake, threshold)
    return loss, acc, updated, D_a.w.item()

x_real, x_fake = torch.ones(4, 1, 8, 8, 8), torch.zeros(4, 1, 8, 8, 8)
right, wrong = gated(10.0, x_real, x_fake), gated(-10.0, x_real, x_fake)
check_that(right[1] == 1.0 and wrong[1] == 0.0, "D's accuracy: 1 when sure and right, 0 when sure and wrong",
           hint="Use accuracy() above on the real and the fake logits.")
check_that(not right[2] and right[3] == 10.0, "a D above 80% is not updated and w does not move",
           hint="The optimiser steps only when the accuracy is at most the threshold.")
check_that(wrong[2] and wrong[3] > -10.0, "a D at or below 80% takes its step, towards the right answer")
check_that(isinstance(right[0], float) and right[0] > 0, "the loss comes back as a positive float")
check_that(gated(10.0, x_real, x_fake, threshold=1.0)[3] != 10.0, "the threshold argument is the gate");
### BEGIN HIDDEN TESTS
x_mixed = torch.cat([torch.ones(3, 1, 8, 8, 8), torch.zeros(1, 1, 8, 8, 8)])   # accuracy 7/8 with w > 0
def lib_step(D, opt, xr, xf, threshold):
    r = d_step_gated(D, opt, xr, xf, threshold)
    return r.loss, r.accuracy, r.updated
for w, xr, thr in [(10.0, x_real, 0.8), (-10.0, x_real, 0.8), (2.0, x_mixed, 0.8), (2.0, x_mixed, 0.9),
                   (0.5, x_real, 0.8)]:
    ours_h, lib_h = gated(w, xr, x_fake, thr), gated(w, xr, x_fake, thr, step=lib_step)
    check([ours_h[0], ours_h[1], float(ours_h[2]), ours_h[3]], [lib_h[0], lib_h[1], float(lib_h[2]), lib_h[3]],
          f"d_step against gan_utils' d_step_gated (w {w}, threshold {thr})")
### END HIDDEN TESTS

# %% [markdown]
# ## Training the 3D-GAN
#
# One step: a batch of real chairs and a batch of $G(z)$, $z \sim \mathcal N(0, I)$; the gated $D$ step; then $G$'s
# step on the same fakes. $D$'s accuracy and whether it was updated go into the trainer's `extra_state`, which its
# checkpoints keep. The live figure shows the losses and depth renderings of $G(z)$ at 8 fixed $z$ (a small
# orthographic renderer, `render_views`, from an oblique angle: brighter is nearer).

# %%
def depth_images(grids, image_size=64, angle=(30.0, 20.0)):
    imgs = [render_views(g[0].detach().cpu(), angles=(angle,), mode="depth", image_size=image_size) for g in grids]
    return torch.from_numpy(np.stack(imgs)).float()  # (B, 1, S, S) in [0, 1]

torch.manual_seed(cfg.seed)
G = VoxelGenerator(z_dim, cfg.size, ngf=cfg.width).to(device)
D = VoxelDiscriminator(cfg.size, ndf=cfg.width).to(device)
opt_G = torch.optim.Adam(G.parameters(), lr=lr_G, betas=(beta1, 0.999))
opt_D = torch.optim.Adam(D.parameters(), lr=lr_D, betas=(beta1, 0.999))
z_show = torch.randn(8, z_dim, generator=torch.Generator().manual_seed(1)).to(device)
g_data = torch.Generator().manual_seed(cfg.seed)
print(f"G: {sum(p.numel() for p in G.parameters()):,} parameters, D: {sum(p.numel() for p in D.parameters()):,}")


# %%
def step(i):
    idx = torch.randint(len(x_train), (cfg.batch,), generator=g_data)
    x_real = x_train[idx].to(device)                          # (B, 1, n, n, n)
    x_fake = G(torch.randn(cfg.batch, z_dim, device=device))  # (B, 1, n, n, n)
    loss_D, acc, updated = d_step(D, opt_D, x_real, x_fake)
    loss_G = losses.g_loss_nonsaturating(D(x_fake))
    opt_G.zero_grad(set_to_none=True); loss_G.backward(); opt_G.step()
    trainer.extra_state["acc"].append(acc); trainer.extra_state["updated"].append(updated)
    return {"D": loss_D, "G": loss_G.item()}

trainer = Trainer({"G": G, "D": D}, {"G": opt_G, "D": opt_D}, step, ckpt_dir=cfg.ckpt_dir / "3dgan",
                  ckpt_every=250, generators={"data": g_data}, extra_state={"acc": [], "updated": []},
                  sample_fn=lambda: depth_images(G(z_show)) * 2 - 1, sample_every=cfg.sample_every)

# %% [markdown]
# Train. Run the cell again after an interruption and it resumes from the last checkpoint.

# %%
hist = trainer.fit(cfg.steps, resume=True)
print(f"3D-GAN: {trainer.step} steps in {trainer.seconds / 60:.1f} min; D updated in "
      f"{sum(trainer.extra_state['updated'])} of {len(trainer.extra_state['updated'])} steps")

# %% [markdown]
# **How often was $D$ skipped?** The left panel is $D$'s accuracy per batch, with the 80% line; the right one is the
# share of skipped $D$ updates in windows of 50 steps.

# %%
acc_log = np.array(trainer.extra_state["acc"]); upd_log = np.array(trainer.extra_state["updated"], dtype=float)
win = max(1, min(50, len(acc_log) // 5))
fig, ax = plt.subplots(1, 2, figsize=(11, 3))
ax[0].plot(acc_log, lw=0.5, alpha=0.5, label="per batch")
ax[0].plot(np.arange(win - 1, len(acc_log)), np.convolve(acc_log, np.ones(win) / win, "valid"), label=f"mean of {win}")
ax[0].axhline(acc_threshold, color="k", ls="--", label="gate (80%)"); ax[0].set_title("D's accuracy on the batch")
ax[0].set_xlabel("step"); ax[0].legend(fontsize=8)
skipped = 1 - upd_log[: len(upd_log) // win * win].reshape(-1, win).mean(1)
ax[1].bar(np.arange(len(skipped)) * win + win / 2, skipped, width=win * 0.9)
ax[1].set_ylim(0, 1); ax[1].set_title("share of D updates skipped"); ax[1].set_xlabel("step")
plt.tight_layout(); plt.show()
print(f"skipped: {100 * (1 - upd_log.mean()):.0f}% of D updates overall, {100 * skipped[0]:.0f}% in the first "
      f"window, {100 * skipped[-1]:.0f}% in the last")

# %% [markdown]
# The gate does real work throughout: $D$'s accuracy hovers at the 80% line, and about half of its updates are
# skipped (50% over the run shown here; 56% in the first window and 56% in the last). Without the gate, $D$ would
# take every one of those steps and pull further ahead of $G$.

# %% [markdown]
# The snapshots at fixed $z$ over training, as depth images:

# %%
snaps = hist.snapshots[:: max(1, len(hist.snapshots) // 5)][-6:]
fig, axes = plt.subplots(len(snaps), 1, figsize=(10, 1.5 * len(snaps)))
for a, (s, x) in zip(np.atleast_1d(axes), snaps):
    show_grid(x, nrow=8, ax=a); a.set_title(f"step {s}", fontsize=9)
plt.tight_layout(); plt.show()

# %% [markdown]
# ## Results
#
# Samples at fixed $z$, thresholded at 0.5 (occupancy probability), drawn as surfaces:

# %%
G.eval()
with torch.no_grad():
    x_gen = G(torch.randn(cfg.n_eval, z_dim, generator=torch.Generator().manual_seed(2)).to(device)).cpu()
show_shapes(x_gen[:16], suptitle=f"3D-GAN samples after {trainer.step} steps")

# %% [markdown]
# **Are they good, and are they new?** For each sample, the IoU with the **nearest training chair** (intersection
# over union of the occupied voxels: 1 for the same shape). A held-out real chair sets the scale: it is a new chair
# by construction, so its nearest-training IoU is what "a plausible new chair" scores. A sample with a much higher
# IoU would be a copy. Below each sample, its nearest training chair.

# %%
nn_gen, idx_gen = nearest_iou(x_gen, x_train)
nn_test, _ = nearest_iou(x_test, x_train)
order = nn_gen.argsort(descending=True)[[0, len(nn_gen) // 4, len(nn_gen) // 2, 3 * len(nn_gen) // 4, -1]]
show_shapes(torch.cat([x_gen[order], x_train[idx_gen[order]]]), ncols=5,
            titles=[f"sample, IoU {nn_gen[i]:.2f}" for i in order] + ["nearest training chair"] * 5,
            suptitle="samples from best to worst match (top), their nearest training chairs (bottom)")


# %% [markdown]
# The numbers. **Diversity**: the mean IoU between pairs of samples (lower is more varied; a collapsed $G$ scores
# near 1), against the same for pairs of held-out real chairs. **Occupancy**: the share of occupied voxels.

# %%
def off_diag_mean(m):
    return m[~torch.eye(len(m), dtype=torch.bool)].mean().item()

print(f"{'':24s}{'nearest-train IoU':>20s}{'pairwise IoU':>14s}{'occupied':>10s}")
print(f"{'3D-GAN samples':24s}{nn_gen.mean():>14.2f} ± {nn_gen.std():.2f}"
      f"{off_diag_mean(pairwise_iou(x_gen, x_gen)):>14.2f}{100 * (x_gen > 0.5).float().mean():>9.1f}%")
print(f"{'held-out real chairs':24s}{nn_test.mean():>14.2f} ± {nn_test.std():.2f}"
      f"{off_diag_mean(pairwise_iou(x_test, x_test)):>14.2f}{100 * x_test.mean():>9.1f}%")

# %% [markdown]
# Speckle lowers every IoU with a clean training chair, so a noisy sample can look "new" only because it is noisy.
# To separate the two, we keep each grid's **largest connected part** (26-neighbourhood; `largest_component`), for
# the samples, the held-out chairs and the training chairs alike, and score again. The share of occupied voxels that
# this removes says how much of a grid is loose specks.

# %%
x_gen_c, x_test_c, x_train_c = (largest_component(v) for v in (x_gen, x_test, x_train))
nn_gen_c, _ = nearest_iou(x_gen_c, x_train_c)
nn_test_c, _ = nearest_iou(x_test_c, x_train_c)
removed = lambda raw, clean: 100 * (1 - clean.sum() / (raw > 0.5).float().sum()).item()
print(f"{'largest part only':24s}{'nearest-train IoU':>20s}{'voxels removed':>16s}")
print(f"{'3D-GAN samples':24s}{nn_gen_c.mean():>14.2f} ± {nn_gen_c.std():.2f}{removed(x_gen, x_gen_c):>15.1f}%")
print(f"{'held-out real chairs':24s}{nn_test_c.mean():>14.2f} ± {nn_test_c.std():.2f}{removed(x_test, x_test_c):>15.1f}%")
print(f"samples above the held-out chairs' median ({nn_test_c.median():.2f}): "
      f"{100 * (nn_gen_c > nn_test_c.median()).float().mean():.0f}%")

# %% [markdown]
# What the two tables show (exact values move a little from run to run):
#
# * The samples are **recognisably chairs**: four legs, a seat, a back, sometimes arms, at about the real share of
#   occupied voxels (5.8% against 5.9%). They are **speckled**: keeping the largest part removes 8.7% of a sample's
#   voxels, against 0.7% of a real chair's. 1,000 steps at width 32 is a small fraction of the paper's training.
# * They are **not copies**: their nearest-train IoU (0.30 ± 0.05) is far below that of held-out real chairs
#   (0.51 ± 0.24), no sample reaches the real chairs' median (0.43), and removing the specks barely moves it
#   (0.31 ± 0.06): the gap is not the noise. It is not all novelty either: a coarse, blobby chair matches no
#   training chair well, so a low nearest-train IoU means "new *or* coarse", and the renderings above show both.
# * They are **slightly less varied than real chairs** (pairwise IoU 0.16 against 0.12), with no collapse: a
#   collapsed $G$ would score near 1.
#
# ### Latent interpolation
#
# A straight line between two latent vectors, decoded at 8 points. If $G$ has learned a smooth space of chairs, the
# shapes change gradually and the intermediates stay chair-like. Two numbers check it: the IoU between neighbouring
# steps, and each step's nearest-train IoU (largest part only) beside that of random samples.

# %%
gz = torch.Generator().manual_seed(5)
z0, z1 = torch.randn(2, z_dim, generator=gz).to(device)
ts = torch.linspace(0, 1, 8, device=device)
with torch.no_grad():
    x_interp = G(torch.stack([(1 - t) * z0 + t * z1 for t in ts])).cpu()
show_shapes(x_interp, titles=[f"t = {t:.2f}" for t in ts.tolist()], suptitle="interpolation z0 -> z1")
step_iou = voxel_iou(x_interp[1:], x_interp[:-1])
nn_interp, _ = nearest_iou(largest_component(x_interp), x_train_c)
print("IoU between neighbouring steps:", [round(v, 2) for v in step_iou.tolist()])
print("nearest-train IoU of each step (largest part):", [round(v, 2) for v in nn_interp.tolist()],
      f"| samples: {nn_gen_c.mean():.2f}")


# %% [markdown]
# The shape changes **gradually**: neighbouring steps overlap with an IoU of 0.62 to 0.82, with no jump, which is
# what the paper means by a smooth latent space. Not every step is an equally good chair, though: the start (a back
# on thin, scattered legs) matches the training chairs less well (nearest-train IoU 0.20) than a random sample does
# (0.31), the end better (0.40); in between, the legs thin out before the seat of $z_1$ forms.

# %% [markdown]
# ### Shape arithmetic
#
# The paper adds and subtracts latent vectors, as DCGAN did with faces. We need an attribute we can measure, so we
# take the **height** of a chair: the layer below which 95% of its occupied voxels lie (a tall back reaches high; the
# 95% ignores a stray voxel). Among 512 samples, the mean $z$ of the tallest 10% minus the mean $z$ of the lowest 10%
# gives an attribute vector $v$. Adding it to a low chair's $z$ should raise its back while keeping the rest; the
# arithmetic $z_\text{tall} - z_\text{low} + z_C$ is the same idea with single samples.

# %%
def height(x, q=0.95):  # per grid: the z layer below which a share q of the occupied voxels lie; z is the last axis
    per_layer = (x[:, 0] > 0.5).float().sum((1, 2))            # (B, n) occupied voxels per z layer
    cum = per_layer.cumsum(1) / per_layer.sum(1, keepdim=True).clamp(min=1)
    return (cum < q).sum(1)                                    # (B,) first layer where the share reaches q

with torch.no_grad():
    z_pool = torch.randn(512, z_dim, generator=torch.Generator().manual_seed(6)).to(device)
    h = torch.cat([height(G(zb).cpu()) for zb in z_pool.split(128)])
hi, lo = h.argsort(descending=True)[:51], h.argsort()[:51]
v = z_pool[hi].mean(0) - z_pool[lo].mean(0)
print(f"heights of the 512 samples: {h.min()}..{h.max()} voxels (mean {h.float().mean():.1f}); "
      f"tallest 10% {h[hi].float().mean():.1f}, lowest 10% {h[lo].float().mean():.1f}; real chairs "
      f"{height(x_train).float().mean():.1f}")

# %% [markdown]
# Four low chairs, each moved along $v$: $G(z + s\,v)$ for $s = 0, 0.5, 1$. The printout measures each result's height.

# %%
z_low = z_pool[lo[:4]]
steps_v = [0.0, 0.5, 1.0]
with torch.no_grad():
    x_arith = torch.stack([G(z_low + s * v).cpu() for s in steps_v], 1).flatten(0, 1)  # (4 * 3, 1, n, n, n)
h_arith = height(x_arith).view(4, 3)
show_shapes(x_arith, ncols=6, titles=[f"s = {s}, h {int(hh)}" for hh, s in zip(h_arith.flatten(), steps_v * 4)],
            suptitle="z + s v: a low chair made taller")
print("height change per chair (s = 0 -> 1):", (h_arith[:, -1] - h_arith[:, 0]).tolist(), "voxels")

# %% [markdown]
# All four low chairs grow by a few voxels along $v$ (3 to 5 in this run, from 24-25 to 28-29), their backs rising.
# They change more than their height: in this run the speckled low chairs also become cleaner ones with straight
# legs. An attribute vector carries whatever else tells the two groups of samples apart (here, it seems, how clean
# they are), which is one reason to measure the attribute rather than trust the picture.

# %% [markdown]
# And with single samples, the paper's form: a tall chair minus a low chair plus another low chair.

# %%
zA, zB, zC = z_pool[hi[0]], z_pool[lo[0]], z_pool[lo[1]]
with torch.no_grad():
    x_abc = G(torch.stack([zA, zB, zC, zA - zB + zC])).cpu()
hs = height(x_abc).tolist()
show_shapes(x_abc, ncols=4, titles=[f"A (tall), h {hs[0]}", f"B (low), h {hs[1]}", f"C (low), h {hs[2]}",
                                    f"A − B + C, h {hs[3]}"], size=2.4)


# %% [markdown]
# $A - B + C$ is about as tall as $A$ and taller than $C$ (29 voxels against 30 and 25 here): the height
# difference between $A$ and $B$ carried over to $C$. A single pair is noisier than the averaged vector $v$, so
# the other details of $A - B + C$ are a mix rather than "C, taller".

# %% [markdown]
# ### Explore: rotate a shape, scrub an interpolation
#
# The slider `t` moves along the interpolation above, `azim` and `elev` turn the camera. In a live notebook each
# change redraws one shape (a marching-cubes surface takes about a second at 32³).

# %%
def view(t=0.5, azim=-60, elev=20):
    with torch.no_grad():
        x = G(((1 - t) * z0 + t * z1)[None]).cpu()
    fig = plt.figure(figsize=(4, 4)); ax = fig.add_subplot(projection="3d")
    show_voxels(x[0, 0], ax=ax, azim=azim, elev=elev, title=f"t = {t:.2f}"); plt.show()

interact(view, t=(0.0, 1.0, 0.05), azim=(-180, 180, 15), elev=(-10, 80, 10))

# %%
view(t=0.5, azim=30, elev=25)  # static fallback

# %% [markdown]
# ## D's features as a shape classifier
#
# The paper's unsupervised-learning claim: a $D$ trained only to tell real chairs from fakes has learned features
# that describe shapes in general. It takes the outputs of $D$'s last three convolution layers, max-pools each to
# 2×2×2, concatenates them and trains a **linear** classifier on top (a linear SVM in the paper; a logistic
# regression here, fitted by L-BFGS). Two controls tell us what the training of $D$ adds: the **same classifier on
# the raw voxels** (32,768 numbers per shape), and on the features of an **untrained $D$** with the same
# architecture (random weights, from three seeds).
#
# Two tasks: real ModelNet10 chairs against monitors (the classes at hand), and the four procedural furniture
# classes, which this $D$ never saw (as in the paper, where $D$ is trained on ShapeNet and tested on ModelNet).
# Each accuracy is the mean ± sd over `probe_splits` random stratified 70/30 splits. Telling a chair from a monitor
# is easy with any features once hundreds of labelled shapes are at hand, so we also train the classifier on only
# **2, 5 or 20 labelled shapes per class** (drawn from the 70%) and test on the same 30%: good features need fewer
# labels.

# %%
furn_x, furn_y = synthetic_furniture(4 * cfg.n_probe, cfg.size, seed=cfg.seed + 1)
tasks = {"procedural furniture (4 classes)": (furn_x.float(), furn_y)}
if shapes.is_real and len(shapes.classes) > 1:
    tasks = {"ModelNet10 chair vs monitor": (shapes.voxels.float(), shapes.labels), **tasks}
D_random = {}                                     # three untrained D's: random weights from three seeds
for k in range(3):
    torch.manual_seed(cfg.seed + 100 + k)
    D_random[k] = VoxelDiscriminator(cfg.size, ndf=cfg.width).to(device).eval()
D.eval()

@torch.no_grad()
def features(net, x):
    if net is None:
        return x.flatten(1)
    return torch.cat([pooled_features(net, xb.to(device)).cpu() for xb in x.split(64)])

def first_per_class(idx, y, n, seed):  # n random indices per class from idx (all of them if n is None)
    g = torch.Generator().manual_seed(seed)
    return torch.cat([idx[y[idx] == c][torch.randperm(int((y[idx] == c).sum()), generator=g)[:n]]
                      for c in y.unique()])


# %% [markdown]
# The probe. Each cell of the table is one feature set and one number of labels per class; "all" is the full 70%.

# %%
def probe_accs(f, y, n):  # test accuracy (%) on each split, with n labelled shapes per class (None: all)
    out = []
    for s in range(cfg.probe_splits):
        tr, te = stratified_split(y, 0.3, seed=s)
        tr = first_per_class(tr, y, n, seed=s)
        out.append(100 * linear_probe(f[tr], y[tr], f[te], y[te]))
    return np.array(out)

label_counts = [2, 5, 20, None]
probe, gap = {}, {}
for task, (x, y) in tasks.items():
    feats = {"trained D": [features(D, x)], "untrained D": [features(net, x) for net in D_random.values()],
             "raw voxels": [x.flatten(1)]}
    for n in label_counts:
        accs = {name: np.stack([probe_accs(f, y, n) for f in fs]) for name, fs in feats.items()}   # (nets, splits)
        for name, a in accs.items():
            probe[task, name, n] = (a.mean(), a.std(), feats[name][0].shape[1])
        gap[task, n] = accs["trained D"][0] - accs["untrained D"]             # paired by split: (3, splits)
for task in tasks:
    print(f"{task}: test accuracy (%) by labelled shapes per class")
    print(f"  {'features':20s}{'dim':>7s}" + "".join(f"{'all' if n is None else n:>14}" for n in label_counts))
    for name in ("trained D", "untrained D", "raw voxels"):
        cells = [probe[task, name, n] for n in label_counts]
        label = name + (" (x3)" if name == "untrained D" else "")
        print(f"  {label:20s}{cells[0][2]:7d}" + "".join(f"{m:>8.1f} ± {sd:3.1f}" for m, sd, _ in cells))
    print(f"  {'trained - untrained':20s}{'':7s}" + "".join(f"{gap[task, n].mean():>+8.1f} ± {gap[task, n].std():3.1f}"
                                                         for n in label_counts))
print(f"(mean ± sd over {cfg.probe_splits} splits; the untrained D over 3 random initialisations x those splits, and the"
      " gap over the same pairs)")
print("paper (Table 1): 91.0% on ModelNet10 (10 classes, all labels), D trained on ShapeNet at 64^3, linear SVM")

# %% [markdown]
# What the table shows:
#
# * With **all labels** every feature set is near 100%: chairs and monitors, and the four procedural classes, are
#   linearly separable even in raw voxels. The task is far easier than the paper's ten ModelNet10 classes, so our
#   numbers are not comparable with its 91.0%.
# * With **few labels**, $D$'s features need far fewer examples than raw voxels: with 2 chairs and 2 monitors the
#   classifier reaches 87.1 ± 10.0% on trained-$D$ features against 62.0 ± 6.3% on raw voxels.
# * Most of that gain comes from the **architecture**, not from training: three untrained $D$'s (random weights, the
#   same strided convolutions and max-pooling) already reach 86.2 ± 3.2%. What training adds is the last row of each
#   table, paired by split: **+2.8 ± 2.8 and +3.1 ± 1.6 points with 5 labels per class** (chairs against monitors,
#   and the furniture that $D$ never saw), +0.7 ± 0.9 and +2.0 ± 1.1 with 20, and nothing measurable with 2 labels
#   (+0.9 ± 9.3: there the draw of the two shapes decides) or with all of them.
#
# So at this scale "D learns useful features" holds as a small gain of a few points over random 3D convolutions,
# on both tasks, from one trained $D$ against three untrained ones. Random convolutions are a strong baseline that
# the paper's Table 1 does not include.

# %% [markdown]
# ## 3D-VAE-GAN: a 3D shape from one image
#
# The data are pairs $(y, x)$: a 2D view of a chair and its grid. The paper rendered ShapeNet models; we render our
# own grids with `render_views`, a small orthographic renderer, as depth images from one oblique camera (azimuth
# 30°, elevation 20°), so that real and procedural shapes both get images.

# %%
y_train = depth_images(x_train, cfg.image_size)             # (N_train, 1, S, S) in [0, 1]
y_test = depth_images(x_test, cfg.image_size)
show_grid(y_train[:16] * 2 - 1, nrow=16, figsize=(12, 1.2), title="inputs y: depth views of training chairs")
plt.show()

# %% [markdown]
# **The encoder** $E$ is a small 2D convolutional network (stride-2 4×4 convolutions with batch norm and LeakyReLU,
# down to 4×4) with a linear head that outputs $\mu$ and $\log\sigma^2$, 200 numbers each. A sample
# $z = \mu + \sigma \odot \varepsilon$, $\varepsilon \sim \mathcal N(0, I)$ (the reparameterisation trick) lets the
# gradient reach $E$. (Here it is `gan_utils`' `reparameterize`; you write your own below.)

# %%
E = ImageEncoder(z_dim, cfg.image_size, nef=cfg.width).to(device)
mu, logvar = E(y_train[:4].to(device))
z = reparameterize(mu, logvar)
print(f"y {tuple(y_train[:4].shape)} -> mu {tuple(mu.shape)}, logvar {tuple(logvar.shape)} -> z {tuple(z.shape)}"
      f" -> G(z) {tuple(G(z).shape)}; E has {sum(p.numel() for p in E.parameters()):,} parameters")


# %% [markdown]
# **The two new losses.** For a diagonal Gaussian against the standard normal,
# $D_\text{KL} = \tfrac12 \sum_j (\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2)$, summed over the 200 dimensions and
# averaged over the batch. The reconstruction loss is the squared error summed over the voxels of each shape,
# averaged over the batch. By hand: $\mu = (1, 0)$, $\log\sigma^2 = (0, \log 4)$ gives
# $\tfrac12[(1 + 1 - 1 - 0) + (0 + 4 - 1 - \log 4)] = 1.307$; a grid that predicts 0.5 everywhere for a 2×2×2 target
# with 3 occupied voxels misses by 0.5 everywhere: $8 \times 0.25 = 2$.
#
# **Exercise 3 (build).** Write the two pieces of the VAE half: `reparameterize(mu, logvar)`, one sample
# $z = \mu + \sigma \odot \varepsilon$ per row (note that the network outputs $\log \sigma^2$, not $\sigma$), and
# `kl(mu, logvar)`, the KL term above. `recon` is given. The 3D-VAE-GAN runs below train with your two functions.

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reparameterize(mu, logvar):
    # mu, logvar: (B, z_dim) -> z: (B, z_dim), differentiable in mu and logvar
    ### BEGIN SOLUTION
    eps = torch.randn_like(mu)                                # (B, z_dim) ~ N(0, I)
    return mu + torch.exp(0.5 * logvar) * eps
    ### END SOLUTION


def kl(mu, logvar):
    # mu, logvar: (B, z_dim) -> a scalar: KL(q || N(0, I)) summed over z, mean over the batch
    ### BEGIN SOLUTION
    return (0.5 * (mu ** 2 + logvar.exp() - 1 - logvar)).sum(1).mean()
    ### END SOLUTION


def recon(x_rec, x):
    return ((x_rec - x) ** 2).flatten(1).sum(1).mean()


# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 8, "schema_version": 3, "solution": false, "task": false}
mu_h, lv_h = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, np.log(4.0)]])
x_h = torch.zeros(1, 1, 2, 2, 2); x_h.view(-1)[:3] = 1
assert recon(torch.full_like(x_h, 0.5), x_h).item() == 2.0 == recon_loss(torch.full_like(x_h, 0.5), x_h).item()
check_that(abs(kl(mu_h, lv_h).item() - 1.307) < 1e-3, "KL on the example worked out by hand",
           hint="0.5 (mu^2 + sigma^2 - 1 - log sigma^2) per dimension, summed over the dimensions.")
check_that(kl(torch.zeros(3, 5), torch.zeros(3, 5)).abs() < 1e-6, "KL is 0 when q is the prior")
check_that(torch.isclose(kl(mu_h.repeat(4, 1), lv_h.repeat(4, 1)), kl(mu_h, lv_h)), "KL is a mean over the batch")
with torch.random.fork_rng(devices=[]):                                 # the checks leave the global random state as it was
    torch.manual_seed(0)
    mu_r, lv_r = torch.full((20_000, 2), 2.0), torch.full((20_000, 2), np.log(4.0))   # mean 2, sigma 2
    z_r = reparameterize(mu_r, lv_r)
    check_that(z_r.shape == (20_000, 2), "one sample z per row (B, z_dim)")
    check_that((z_r.mean(0) - 2).abs().max() < 0.1 and (z_r.std(0) - 2).abs().max() < 0.1,
               "z has mean mu and standard deviation sigma", hint="sigma = exp(logvar / 2).")
    mu_g, lv_g = torch.zeros(4, 3, requires_grad=True), torch.zeros(4, 3, requires_grad=True)
    reparameterize(mu_g, lv_g).square().sum().backward()
    check_that(mu_g.grad is not None and lv_g.grad is not None and lv_g.grad.abs().sum() > 0,
               "the gradient reaches mu and logvar", hint="Draw the noise separately; z is built from mu and sigma.");
### BEGIN HIDDEN TESTS
g_k = torch.Generator().manual_seed(3)
mu_e, lv_e = torch.randn(4, 200, generator=g_k), torch.randn(4, 200, generator=g_k)
check(kl(mu_e, lv_e), kl_loss(mu_e, lv_e), "KL on a random batch")
with torch.random.fork_rng(devices=[]):
    torch.manual_seed(5); eps_h = reparameterize(torch.zeros(4, 200), torch.zeros(4, 200))   # the noise alone
    torch.manual_seed(5); z_h = reparameterize(mu_e, lv_e)
check(z_h, mu_e + torch.exp(0.5 * lv_e) * eps_h, "z = mu + sigma * eps")
assert torch.isclose(kl(mu_e, lv_e), kl_loss(mu_e, lv_e))
### END HIDDEN TESTS

# %% [markdown]
# **Training.** The paper trains $E$, $G$ and $D$ together from scratch. We start $G$ and $D$ from the trained
# 3D-GAN (copies; the 3D-GAN above stays as it is), start $E$ at the prior ($q(z \mid y) = \mathcal N(0, I)$ for
# every $y$), and train the three together with the full objective at a learning rate `lr_vae`: $D$'s
# gated step on real chairs against $G(z)$, $z$ from the prior; then one step of $E$ and $G$ on
# $\mathcal L_\text{GAN} + \alpha_1 \mathcal L_\text{KL} + \alpha_2 \mathcal L_\text{recon}$.
#
# **Two settings of the weights.** How large $\alpha_2$ must be depends on how the reconstruction loss is
# normalised, which the paper's text does not pin down: our $\mathcal L_\text{recon}$ is a sum over 32,768 voxels
# (about 2,000 for a bad guess), our $\mathcal L_\text{KL}$ a sum over 200 dimensions. With the quoted weights
# ($\alpha_1 = 5$, $\alpha_2 = 10^{-4}$) one nat of information about the image costs 5, while a perfect reconstruction
# would save at most 0.2: $E$ has no reason to encode anything. We train with those weights, and once more with
# $\alpha_2$ raised to `alpha_2_heavy`, and let the held-out IoU decide.
#
# **Keeping the GAN half alive.** The reconstruction loss also trains $G$, and at $\alpha_2 = 1$ it outweighs
# $G$'s GAN loss by a factor of hundreds. $G$ then serves the reconstructions, its samples from random $z$ get
# worse, $D$ tells them apart every time, and the 80% gate skips every $D$ step: the GAN half stops. A third run
# keeps $\alpha_2 = 1$ for $E$ but lets the reconstruction reach $G$ only at the weight `alpha_2_G` (0.01), so that
# $G$'s own objective is mostly the GAN loss. (With $\alpha_{2,G} = \alpha_2$ the two gradients are exactly those
# of the paper's joint loss: the GAN term does not depend on $E$, the KL term not on $G$.) We log $D$'s accuracy
# and its gate in every run.

# %%
lr_vae = 1e-3          # E and G; D at lr_vae * lr_D / lr_G
alpha_2_heavy = 1.0    # a reconstruction-heavy alternative to alpha_2 = 1e-4
alpha_2_G = 0.01       # the third run: the reconstruction's weight in G's own objective

def make_vae(name, a1, a2, a2_G=None):
    """E minimises a1 KL + a2 recon; G its GAN loss + a2_G recon (a2_G=None: a2, the paper's joint loss)."""
    a2_G = a2 if a2_G is None else a2_G
    torch.manual_seed(cfg.seed)
    E = ImageEncoder(z_dim, cfg.image_size, nef=cfg.width).to(device)
    G_v, D_v = copy.deepcopy(G).train(), copy.deepcopy(D).train()
    params_E, params_G = list(E.parameters()), list(G_v.parameters())
    opt_EG = torch.optim.Adam(params_E + params_G, lr=lr_vae, betas=(beta1, 0.999))
    opt_Dv = torch.optim.Adam(D_v.parameters(), lr=lr_vae * lr_D / lr_G, betas=(beta1, 0.999))
    g_vae = torch.Generator().manual_seed(cfg.seed + 1)

    def vae_step(i):
        idx = torch.randint(len(x_train), (cfg.batch,), generator=g_vae)
        x, y = x_train[idx].to(device), y_train[idx].to(device)  # a shape and its view
        x_fake = G_v(torch.randn(cfg.batch, z_dim, device=device))
        loss_D, acc, updated = d_step(D_v, opt_Dv, x, x_fake)
        mu, logvar = E(y)
        x_rec = G_v(reparameterize(mu, logvar))                  # G(E(y))
        l_gan, l_kl, l_rec = losses.g_loss_nonsaturating(D_v(x_fake)), kl(mu, logvar), recon(x_rec, x)
        grads = (torch.autograd.grad(a1 * l_kl + a2 * l_rec, params_E, retain_graph=True)   # E's objective
                 + torch.autograd.grad(l_gan + a2_G * l_rec, params_G))                      # G's objective
        for p, g_ in zip(params_E + params_G, grads, strict=True):
            p.grad = g_
        opt_EG.step()
        trainer.extra_state["acc"].append(acc); trainer.extra_state["updated"].append(updated)
        return {"D": loss_D, "G_gan": l_gan.item(), "KL": l_kl.item(), "recon/1000": l_rec.item() / 1000}

    trainer = Trainer({"E": E, "G": G_v, "D": D_v}, {"EG": opt_EG, "D": opt_Dv}, vae_step,
                      ckpt_dir=cfg.ckpt_dir / name, ckpt_every=200, generators={"data": g_vae},
                      extra_state={"acc": [], "updated": []})
    return E, G_v, trainer


# %% [markdown]
# Train the three (each resumes from its checkpoint if interrupted):

# %%
vae, vae_gate = {}, {}
runs_vae = [("paper weights", alpha_2, None), (f"alpha_2 = {alpha_2_heavy:g}", alpha_2_heavy, None),
            (f"alpha_2 = {alpha_2_heavy:g}, G's {alpha_2_G:g}", alpha_2_heavy, alpha_2_G)]
for name, a2, a2_G in runs_vae:
    E, G_v, vae_trainer = make_vae(f"3dvaegan_{a2}" + ("" if a2_G is None else f"_G{a2_G}"), alpha_1, a2, a2_G)
    vae_hist = vae_trainer.fit(cfg.vae_steps, resume=True)
    vae[name] = (E.eval(), G_v.eval(), vae_hist)
    vae_gate[name] = np.array(vae_trainer.extra_state["acc"]), np.array(vae_trainer.extra_state["updated"], float)
    print(f"3D-VAE-GAN, {name}: {vae_trainer.step} steps in {vae_trainer.seconds / 60:.1f} min; last KL "
          f"{vae_hist.losses['KL'][-1]:.2f}, recon {1000 * vae_hist.losses['recon/1000'][-1]:.0f}; D updated in "
          f"{int(vae_gate[name][1].sum())} of {len(vae_gate[name][1])} steps")

# %% [markdown]
# **Does $D$ keep training?** $D$'s accuracy on each batch (real chairs against $G(z)$ from the prior) and the
# share of $D$ steps the gate let through, in windows of 50 steps, for each run:

# %%
fig, ax = plt.subplots(1, 2, figsize=(12, 3.2))
for name, (acc_v, upd_v) in vae_gate.items():
    w_ = max(1, min(50, len(acc_v) // 5))
    ax[0].plot(np.arange(w_ - 1, len(acc_v)), np.convolve(acc_v, np.ones(w_) / w_, "valid"), label=name)
    share = upd_v[: len(upd_v) // w_ * w_].reshape(-1, w_).mean(1)
    ax[1].plot(np.arange(len(share)) * w_ + w_ / 2, share, marker="o", label=name)
ax[0].axhline(acc_threshold, color="k", ls="--", lw=0.8); ax[0].set(title="D's accuracy (running mean)", xlabel="step")
ax[1].set(title="share of D steps taken", xlabel="step", ylim=(0, 1)); ax[1].legend(fontsize=8)
plt.tight_layout(); plt.show()
for name, (acc_v, upd_v) in vae_gate.items():
    print(f"{name:30s} D steps taken: {100 * upd_v[:50].mean():3.0f}% of the first 50, {100 * upd_v[-100:].mean():3.0f}% "
          f"of the last 100; accuracy over the last 100 {acc_v[-100:].mean():.2f}")

# %% [markdown]
# With the quoted weights $D$ keeps its gated game: about a quarter of its steps are taken from start to end (24%
# of the first 50, 23% of the last 100), at an accuracy near 0.87. With $\alpha_2 = 1$ in the joint loss, $D$ takes
# 3 steps in the first 50 and none after: its accuracy reaches 1.00 and stays there, because $G$'s samples from the
# prior get worse (below) and $D$ tells them apart every time. The gate only skips steps; what stops $D$ here is a
# $G$ that no longer plays the game. Weighting the reconstruction at 0.01 in $G$'s objective keeps the game going:
# $D$ takes 14% of its steps at the start and at the end, at an accuracy of 0.88.
#
# **Single image → 3D shape on held-out chairs.** $E$ never saw these views. We decode the mean $\mu$ of $q(z \mid y)$
# and score the IoU with the true grid. Two baselines say what the number means: the **mean training chair** (the
# voxel-wise average, thresholded at the level that fits the training chairs best; the same prediction for every
# image), and **retrieval**: the training chair whose view is nearest to the input view in pixels.

# %%
x_mean = x_train.mean(0, keepdim=True)
levels = torch.linspace(0.05, 0.6, 12)
level = levels[torch.stack([voxel_iou((x_mean > t).float().expand_as(x_train), x_train).mean() for t in levels]).argmax()]
pred = {"mean training chair": (x_mean > level).float().expand_as(x_test),
        "retrieval by nearest view": x_train[torch.cdist(y_test.flatten(1), y_train.flatten(1)).argmin(1)]}
with torch.no_grad():
    for name, (E, G_v, _) in vae.items():
        pred[f"3D-VAE-GAN, {name}"] = torch.cat([G_v(E(yb.to(device))[0]).cpu() for yb in y_test.split(64)])
iou = {name: voxel_iou(p, x_test) for name, p in pred.items()}
for name, v_ in iou.items():
    print(f"{name:48s} IoU {v_.mean():.3f} ± {v_.std():.3f} over {len(v_)} held-out chairs")
print(f"(mean chair thresholded at {level:.2f})")

# %% [markdown]
# What the run above shows:
#
# * **With the quoted weights, $E$ learns nothing useful.** After one early spike (to about 1,900 near step 90 in
#   this run's loss panel, when $E$ briefly sends large codes) the KL term falls back to about 1 nat for all 200
#   dimensions, so $\mu \approx 0$ for every image. And $G(0)$ is *empty*: a 200-d standard normal $z$ has a length
#   of about $\sqrt{200} \approx 14$, so $G$ has never seen a $z$ near the origin. The IoU is 0.000.
# * **With $\alpha_2 = 1$**, $E$ uses about 21 nats and the predictions follow the input: IoU 0.35 ± 0.13, above the
#   mean chair (0.23) but below **retrieval** (0.45), which simply copies the training chair with the most similar
#   view.
# * **With the reconstruction reaching $G$ at 0.01**, $E$ carries more (29 nats) but $G$ follows its codes less:
#   IoU 0.24 ± 0.13, hardly above the mean chair.
#
# No setting beats retrieval here. After 400 steps of an encoder trained from scratch, a lookup in 800 training
# chairs is the better predictor, and the setting that reconstructs best is the one whose GAN half stopped. The
# paper trains far longer; closing that gap with $D$ still training is the first thing to measure when you scale
# up.
#
# **$G$'s own samples after the 3D-VAE-GAN training.** A 3D-VAE-GAN is still a generator: $G(z)$ with $z$ from the
# prior should stay a chair. The same 128 random $z$ as the 3D-GAN's samples above, through each run's $G$, scored
# as before (largest part only):

# %%
z_eval = torch.randn(cfg.n_eval, z_dim, generator=torch.Generator().manual_seed(2)).to(device)
gen_after = {"3D-GAN (before)": x_gen}
with torch.no_grad():
    for name, (_, G_v, _) in vae.items():
        gen_after[f"3D-VAE-GAN, {name}"] = G_v(z_eval).cpu()
print(f"{'G(z), z from the prior':48s}{'nearest-train IoU':>20s}{'pairwise IoU':>14s}{'occupied':>10s}")
for name, xg in gen_after.items():
    xg_c = largest_component(xg)
    nn_, _ = nearest_iou(xg_c, x_train_c)
    print(f"{name:48s}{nn_.mean():>14.2f} ± {nn_.std():.2f}{off_diag_mean(pairwise_iou(xg, xg)):>14.2f}"
          f"{100 * (xg > 0.5).float().mean():>9.1f}%")
print(f"{'held-out real chairs':48s}{nn_test_c.mean():>14.2f} ± {nn_test_c.std():.2f}"
      f"{off_diag_mean(pairwise_iou(x_test, x_test)):>14.2f}{100 * x_test.mean():>9.1f}%")

# %%
show_shapes(torch.cat([gen_after[k][:6] for k in list(gen_after)[1:]]), ncols=6,
            titles=[f"{k.split(', ', 1)[1]}" if j == 0 else "" for k in list(gen_after)[1:] for j in range(6)],
            suptitle="G(z) after the 3D-VAE-GAN training, one row per run (same z in each column)")

# %% [markdown]
# The joint $\alpha_2 = 1$ run pays for its reconstructions with its samples: $G(z)$ now fills 2.5% of the grid
# (real chairs 5.9%, the 3D-GAN 5.8%), thin or partial chairs (middle row). With the quoted weights $G(z)$ stays the
# 3D-GAN's (5.8%), and with the reconstruction reaching $G$ at 0.01 it lies in between (3.1%), chairs with seats
# and backs. The nearest-train IoU cannot rank these rows (0.30 to 0.34): a thin partial chair can overlap a
# training chair as well as a full coarse one does. The occupancy and $D$'s accuracy above tell the story.

# %% [markdown]
# Input view, the predictions of the two runs with $\alpha_2 = 1$ (the quoted weights predict empty grids) and the
# truth for six held-out chairs, sorted by the IoU of the joint run:

# %%
names = list(vae)[1:]
key = f"3D-VAE-GAN, {names[0]}"
pick = iou[key].argsort(descending=True)[torch.linspace(0, len(x_test) - 1, 6).long()]
fig = plt.figure(figsize=(13, 8))
for j, i in enumerate(pick.tolist()):
    ax = fig.add_subplot(4, 6, j + 1); ax.imshow(y_test[i, 0], cmap="gray"); ax.set_axis_off()
    ax.set_title("input view y", fontsize=9)
    for r, name in enumerate(names):
        show_voxels(pred[f"3D-VAE-GAN, {name}"][i, 0], ax=fig.add_subplot(4, 6, 7 + 6 * r + j, projection="3d"),
                    title=f"{name}: {iou[f'3D-VAE-GAN, {name}'][i]:.2f}")
    show_voxels(x_test[i, 0], ax=fig.add_subplot(4, 6, 19 + j, projection="3d"), title="true shape", color="tab:green")
plt.tight_layout(); plt.show()


# %% [markdown]
# ## Summary
#
# * 3D-GAN is DCGAN in three dimensions: 4×4×4 (transposed) convolutions with stride 2, no pooling, batch norm, a
#   200-d $z$ and a sigmoid occupancy output.
# * $D$ learns voxels faster than $G$; the paper slows it with a lower learning rate and an 80% accuracy gate.
# * IoU with the nearest training shape and between samples tells good-and-new samples from copies and collapse.
# * $D$'s pooled features feed a linear shape classifier that needs few labels; an untrained $D$ is a strong
#   baseline for them, and training $D$ adds a few points with 5 to 20 labels.
# * 3D-VAE-GAN ties an image encoder to $G$ with a KL and a reconstruction loss; their balance decides whether $E$
#   encodes anything and whether $G$ still plays the GAN game (watch $D$'s gate), and a retrieval baseline says
#   whether $E$ encodes enough (here no setting does).
#
# ## Exercises
#
# Exercises 1 to 3 ($G$'s volumetric stack, the gated $D$ step, the reparameterisation and the KL term) are built in
# place above. The rest are here.

# %% [markdown]
# **Exercise 4.** Intersection over union of two occupancy grids (values in [0, 1], occupied above 0.5), one number
# per pair in the batch: the number of voxels occupied in both, divided by the number occupied in either (two
# empty grids: 0, not NaN).

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
def my_iou(pred, target):
    # pred, target: (B, 1, n, n, n) -> (B,)
    ### BEGIN SOLUTION
    p, t = pred.flatten(1) > 0.5, target.flatten(1) > 0.5
    return (p & t).sum(1).float() / (p | t).sum(1).clamp(min=1).float()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
g = torch.Generator().manual_seed(0)
a, b = torch.rand(3, 1, 8, 8, 8, generator=g), torch.rand(3, 1, 8, 8, 8, generator=g)
iou_ab = my_iou(a, b)
check_that(iou_ab.shape == (3,), "one IoU per pair (B,)", hint="Flatten each grid, keep the batch axis.")
check_that(((iou_ab >= 0) & (iou_ab <= 1)).all() and torch.allclose(iou_ab, my_iou(b, a)),
           "between 0 and 1, and symmetric")
check_that(torch.allclose(my_iou(a, a), torch.ones(3)), "a grid against itself: 1")
check_that(torch.allclose(my_iou(a, 1 - a), torch.zeros(3)), "a grid against its complement: 0",
           hint="A voxel is occupied above 0.5.")
check_that(torch.isfinite(my_iou(torch.zeros(2, 1, 4, 4, 4), torch.zeros(2, 1, 4, 4, 4))).all(),
           "two empty grids give a number, not NaN", hint="Guard the union against 0.");
### BEGIN HIDDEN TESTS
check(my_iou(a, b), voxel_iou(a, b), "voxel IoU",
      hint="Threshold both at 0.5, then the voxels in both over the voxels in either, per grid.")
check(my_iou(torch.zeros(2, 1, 4, 4, 4), torch.zeros(2, 1, 4, 4, 4)), torch.zeros(2), "IoU of empty grids");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5.** The side of a grid after a stack of 3D transposed convolutions: a layer with kernel $k$, stride
# $s$ and padding $p$ maps a side $n$ to $(n - 1)s - 2p + k$. Write it for a list of `(k, s, p)` layers; the
# check uses $G$'s layers at 32³ and 64³ (starting from the 1×1×1 $z$), among others.

# %% nbgrader={"grade": false, "grade_id": "ex5", "locked": false, "schema_version": 3, "solution": true, "task": false}
def out_side(n, layers):
    # n: an int, layers: a list of (k, s, p) -> an int
    ### BEGIN SOLUTION
    for k, s, p in layers:
        n = (n - 1) * s - 2 * p + k
    return n
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
check_that(out_side(1, [(4, 1, 0)]) == 4, "G's first layer turns 1x1x1 into 4^3", hint="(n - 1) s - 2 p + k.")
check_that(all(out_side(n, [(4, 2, 1)]) == 2 * n for n in (4, 8, 16)), "a 4x4x4 layer of stride 2, padding 1 "
           "doubles the side")
check_that(out_side(7, []) == 7, "no layers: the side is unchanged");
### BEGIN HIDDEN TESTS
layers_of = lambda net: [(m.kernel_size[0], m.stride[0], m.padding[0]) for m in net.modules()
                         if isinstance(m, nn.ConvTranspose3d)]
check([out_side(1, layers_of(VoxelGenerator(z_dim, n, 4))) for n in (32, 64)], [32, 64], "transposed conv sides",
      hint="Apply the formula above once per (k, s, p) layer, in order, starting from n = 1.")
check(out_side(3, [(3, 2, 1), (5, 3, 2), (4, 1, 0)]), ((3 - 1) * 2 - 2 + 3 - 1) * 3 - 4 + 5 - 1 + 4, "a mixed stack");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 6 (extend).** The reconstruction loss above is a squared error per voxel, so a $G$ that predicts
# "empty" everywhere already scores well on grids that are 94% empty. A loss that looks at the shape instead is
# $1 - \text{IoU}$, but IoU counts thresholded voxels and has no gradient. Its **soft** version uses the
# probabilities themselves: for each pair, $\text{sIoU} = \sum_v p_v t_v \,/\, \sum_v (p_v + t_v - p_v t_v)$ over the
# voxels $v$. Write `soft_iou_loss(pred, target)`: $1 - \text{sIoU}$ per pair, averaged over the batch (add
# $10^{-6}$ to the denominator so that two empty grids do not give NaN).

# %% nbgrader={"grade": false, "grade_id": "ex6", "locked": false, "schema_version": 3, "solution": true, "task": false}
def soft_iou_loss(pred, target, eps=1e-6):
    # pred, target: (B, 1, n, n, n) with values in [0, 1] -> a scalar
    ### BEGIN SOLUTION
    p, t = pred.flatten(1), target.flatten(1)                 # (B, V)
    inter = (p * t).sum(1)                                    # (B,)
    union = (p + t - p * t).sum(1)                            # (B,)
    return (1 - inter / (union + eps)).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex6_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
g_s = torch.Generator().manual_seed(1)
t_s = (torch.rand(3, 1, 8, 8, 8, generator=g_s) > 0.7).float()          # binary targets
p_b = (torch.rand(3, 1, 8, 8, 8, generator=g_s) > 0.5).float()          # binary predictions
loss_b = soft_iou_loss(p_b, t_s)
check_that(loss_b.shape == (), "a scalar", hint="One value per pair, then the mean over the batch.")
check_that(abs(loss_b.item() - (1 - voxel_iou(p_b, t_s)).mean().item()) < 1e-4,
           "on 0/1 grids it is 1 - IoU", hint="For 0/1 values, p t is 'both' and p + t - p t is 'either'.")
check_that(soft_iou_loss(t_s, t_s).abs() < 1e-4, "0 for a perfect prediction")
p_soft = torch.rand(3, 1, 8, 8, 8, generator=g_s).requires_grad_()
soft_iou_loss(p_soft, t_s).backward()
check_that(p_soft.grad is not None and p_soft.grad.abs().sum() > 0, "a gradient for G's probabilities")
check_that(torch.isfinite(soft_iou_loss(torch.zeros(2, 1, 4, 4, 4), torch.zeros(2, 1, 4, 4, 4))),
           "two empty grids give a number, not NaN");
### BEGIN HIDDEN TESTS
p_h, t_h = torch.rand(4, 1, 6, 6, 6, generator=g_s), torch.rand(4, 1, 6, 6, 6, generator=g_s)
pf, tf = p_h.flatten(1), t_h.flatten(1)
expected_s = (1 - (pf * tf).sum(1) / ((pf + tf - pf * tf).sum(1) + 1e-6)).mean()
check(soft_iou_loss(p_h, t_h), expected_s, "soft IoU loss on fixed soft grids");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 7 (open).** Train with the paper's $D$ learning rate, `lr_D = 1e-5`, and then without the gate
# (`acc_threshold = 1.0`). Plot $D$'s accuracy for each and compare the nearest-train and pairwise IoU of the
# samples with the run above. Which change hurts more at this budget?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer retrains the 3D-GAN twice at this notebook's budget (1,000 steps, width 32),
# changing one setting each time, and reports beside this run: the share of skipped $D$ updates (about half here),
# the nearest-train IoU (0.30 ± 0.05) and the pairwise IoU (0.16, real chairs 0.12). Expected: at `lr_D = 1e-5`
# $D$'s accuracy falls towards 0 and $G$ collapses to similar blobs (the 600-step probe in the header: pairwise IoU
# 0.66); without the gate $D$ stays near 100% and $G$'s samples get worse or less varied. A good answer names the
# worse change from the numbers, not from one picture. Points: a prediction written first (1), equal steps and the
# same seed (2), the numbers and plots for both runs (2).

# %% [markdown]
# **Exercise 8 (open).** The reconstruction weight $\alpha_2 = 10^{-4}$ multiplies a sum over 32,768 voxels, while
# $\alpha_1 = 5$ multiplies a sum over 200 latent dimensions. Log both terms during training: which one dominates?
# Retrain the 3D-VAE-GAN with $\alpha_2 = 0.1$ and $\alpha_2 = 10$ and compare the held-out IoU with the two baselines.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex8_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer logs $\alpha_1 \mathcal L_\text{KL}$ and $\alpha_2 \mathcal L_\text{recon}$
# separately (the runs above print the raw KL and reconstruction terms) and shows that at the paper's weights the KL
# term dominates by orders of magnitude (a bad reconstruction of about 2,000 costs 0.2), so $E$ encodes next to
# nothing. At $\alpha_2 = 0.1$ and $10$ it reports the held-out IoU of $G(E(y))$ beside the two baselines of the
# 3D-VAE-GAN section, watches $D$'s gate (a large $\alpha_2$ can stop the GAN half) and says whether any weight
# beats the retrieval baseline. Points: a prediction (1), the two terms' sizes with numbers (2), the IoU table
# against the baselines (2).

# %% [markdown]
#
# ## References
#
# * Wu, Zhang, Xue, Freeman, Tenenbaum. *Learning a Probabilistic Latent Space of Object Shapes via 3D
#   Generative-Adversarial Modeling.* NeurIPS 2016.
# * Wu et al. *3D ShapeNets: A Deep Representation for Volumetric Shapes.* CVPR 2015 (ModelNet).
# * Larsen et al. *Autoencoding beyond pixels using a learned similarity metric.* ICML 2016 (VAE-GAN).
