# %% [markdown]
# # 13 · BigGAN: large-scale class-conditional GANs, and training on many processes
#
# **Paper:** Andrew Brock, Jeff Donahue, Karen Simonyan. *Large Scale GAN Training for High Fidelity Natural Image
# Synthesis.* ICLR 2019. [arXiv:1809.11096](https://arxiv.org/abs/1809.11096)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/13_biggan.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: tiny networks, a few dozen steps, same code | ≈ 30 s (measured) | ≈ 30 s (estimate) |
# | `default` | BigGAN at width 8 (32 channels) on CIFAR-10, 2,400 $G$ steps at batch 32; truncation curve, EMA vs raw $G$, a batch/width sweep, a 2-process torchrun run | ≈ 12–19 min (measured: 11.3 and 12.3 min on one machine, 19 min on a slower one, of which 6.3–9.6 min of training)\* | ≈ 4 min (estimate) |
# | `full` | BigGAN-PyTorch's CIFAR width (`ch` 64, 256 channels), 50,000 steps at batch 64 | days | ≈ 14 h on a T4 (estimate, counted FLOPs; ≈ 2 h on an A100): more than one Colab session, see below; or `torchrun` on several GPUs (see the end) |
#
# `full` needs ≈ 2.5 GiB of GPU memory (counted by `benchmarks/full_mode_budget.py`), but on a T4 it takes
# longer than one Colab session (at most about 12 h, often less): set `KEEP_ON_DRIVE = True` so that the
# checkpoints outlive the runtime, and after a reset run the notebook again; every training cell resumes from its
# last checkpoint.
#
# \* Measured on the machine that made these outputs, while other jobs waited for the CPU; 2-core machines differ
# by up to 2.5×. The first run on a machine also trains the CIFAR domain classifier (about 20 s; then it is cached).
#
# The outputs you see come from a `default` run on real data: the CIFAR-10 test split as JPEGs (10,000 images,
# 1,000 per class), of which 8,000 train the GAN and 2,000 are held out for the measurements.

# %% [markdown]
# ## What you will learn
#
# * BigGAN's recipe, piece by piece: **spectral norm** in both networks, the **hinge loss**, **two $D$ steps per $G$
#   step**, **class-conditional batch norm** fed by one **shared class embedding**, **skip-z** (a chunk of $z$ into
#   every block), **orthogonal initialisation** and the **orthogonal regulariser**;
# * an **exponential moving average** (EMA) of $G$'s weights, measured against the raw $G$;
# * the **truncation trick**: sampling $z$ from a truncated normal trades variety for quality; curves of quality
#   (IS, class accuracy) and variety (within-class MS-SSIM) against the threshold show the trade, once batch
#   norm's statistics are estimated for each threshold;
# * what "scale" costs: a small **batch and width sweep** with its time per step measured;
# * how to leave one process behind: the same model, loss and step run under **`torchrun`** with
#   DistributedDataParallel, and this notebook loads the checkpoint that script writes.
#
# **What changes from notebook 06.** AC-GAN fed the class to $G$ as a one-hot input and asked $D$ to *classify*.
# BigGAN feeds the class to **every** layer of $G$ through the gains and biases of its batch norms, and $D$ takes the
# class as an input and *projects* it onto its features (the projection discriminator). The rest is a catalogue of
# stabilisers that let the model grow: the paper's point is that GANs get much better when made bigger, as long as
# training stays stable.

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
import shutil
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

import gan_utils
from gan_utils.train.checkpoints import load_module, rng_state, set_rng_state
from gan_utils.data.cifar import load_cifar10
from gan_utils.teaching import check, check_that
from gan_utils.metrics.classifier import get_domain_classifier
from gan_utils.metrics.diversity import mean_pairwise_ms_ssim
from gan_utils.metrics.fid_is import conditional_accuracy, domain_fid, domain_inception_score
from gan_utils.models import biggan as bg
from gan_utils.nn.normalization import ConditionalBatchNorm2d
from gan_utils.train.trainer import Trainer, assert_same_step
from gan_utils.display.viz import plot_losses, plot_snapshots, show_grid
from gan_utils.display.widgets import interact

# %% [markdown]
# Sizes per mode; only these change between `fast`, `default` and `full`. `ch` is the width (every block has
# $4 \cdot$ `ch` channels), `batch` the batch of every $D$ and $G$ step, `steps` the number of $G$ steps (each
# with `n_D` = 2 $D$ steps). `n_eval` samples enter every IS and FID; `sweep_steps` is the length of each run in
# the batch/width sweep, and `ddp_steps` of each run of the torchrun script. The paper's values are in the comment.

# %%
SIZES = {  # paper, ImageNet 128 px: batch 2048, ch 96, 2 D steps, EMA 0.9999, z 120; BigGAN-PyTorch CIFAR: ch 64
    "fast":    dict(steps=20, batch=16, ch=4, ema_decay=0.9, ema_start=5, sample_every=10, clf_epochs=1,
                    n_eval=200, sweep=[(2, 16), (4, 16)], sweep_steps=4, ddp_steps=3, std_batches=2),
    "default": dict(steps=2_400, batch=32, ch=8, ema_decay=0.995, ema_start=300, sample_every=600, clf_epochs=5,
                    n_eval=2_000, sweep=[(4, 32), (8, 32), (8, 64), (16, 32)], sweep_steps=100, ddp_steps=20,
                    std_batches=20),
    "full":    dict(steps=50_000, batch=64, ch=64, ema_decay=0.9999, ema_start=1_000, sample_every=2_500,
                    clf_epochs=15, n_eval=10_000, sweep=[(32, 64), (64, 64), (64, 128), (96, 64)],
                    sweep_steps=2_000, ddp_steps=200, std_batches=50),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="13_biggan")
device = cfg.device

# %% [markdown]
# ## The idea
#
# BigGAN does not change the GAN objective. It starts from SA-GAN (a ResNet GAN with spectral norm, the hinge loss,
# conditional BN in $G$ and a projection $D$) and asks what happens when the batch grows from 256 to 2048 and the
# width by half. The answer, on ImageNet at 128×128: an Inception score of 166.5 (with the truncation trick) where
# SA-GAN had 52.5. Three findings make that possible and are what this notebook builds.
#
# **1. The hinge loss, with spectral norm.** $D$ outputs an unbounded score, and the losses are
#
# $$
# L_D = \mathbb{E}_{x}\big[\max(0,\, 1 - D(x, y))\big] + \mathbb{E}_{z}\big[\max(0,\, 1 + D(G(z, y), y))\big],
# \qquad L_G = -\mathbb{E}_{z}\big[D(G(z, y), y)\big].
# $$
#
# $D$ stops pushing on a real image once its score is above 1, and on a fake once it is below −1: only the
# examples near the margin teach it. Spectral norm divides every weight matrix by its largest singular value, so
# every layer is 1-Lipschitz and $D$'s scores cannot explode.
#
# **2. Conditioning everywhere, cheaply.** Each batch norm in $G$ gets its gain and bias from the class:
# $\text{BN}(h) \cdot (1 + W_\gamma\, c) + W_\beta\, c$. One **shared embedding** $e(y)$ serves every layer, and
# with **skip-z** the vector $c$ of block $i$ is $[e(y), z_i]$, where $z_i$ is the $i$-th chunk of $z$. $D$ scores
# $D(x, y) = w^\top h(x) + e_D(y)^\top h(x)$ (the projection).
#
# **3. The truncation trick, made safe by an orthogonal regulariser.** Train with $z \sim \mathcal N(0, I)$, sample
# with a normal truncated at a threshold $\tau$. A small $\tau$ keeps $z$ near the mode, which the paper finds gives
# better images of less variety. For $G$ to behave well on truncated $z$, the paper adds
#
# $$
# R_\beta(W) = \beta \,\big\| W W^\top \odot (\mathbf 1 - I) \big\|_F^2, \qquad \beta = 10^{-4},
# $$
#
# which pushes the filters (rows of $W$) towards being orthogonal to each other, without fixing their norms.
#
# ```
#  z (128) ─ split into 4 chunks ─ z0 ─ SN-Linear ─ 4×4 ─ GBlock ─ 8×8 ─ GBlock ─ 16×16 ─ GBlock ─ 32×32 ─ BN, ReLU, conv ─ tanh
#  y ─ shared embedding e(y) ─┬─ [e(y), z1] ─────────────────┘           │                  │
#                             ├─ [e(y), z2] ─────────────────────────────┘                  │
#                             └─ [e(y), z3] ────────────────────────────────────────────────┘
#  (every GBlock: cBN, ReLU, upsample, conv 3×3, cBN, ReLU, conv 3×3, plus an upsampled 1×1-conv shortcut)
# ```
#
# | setting | paper (ImageNet 128 px) | this notebook (`default`) |
# |---|---|---|
# | $G$, $D$ | ResNet blocks, self-attention at 64 px, width `ch` 96 | BigGAN-PyTorch's 32-px layout, no attention, `ch` 8 |
# | batch | 2,048 | 32 |
# | $D$ steps per $G$ step | 2 | 2 |
# | learning rates ($G$ / $D$), Adam $\beta$ | 5e-5 / 2e-4, (0, 0.999) | 2e-4 / 2e-4 (BigGAN-PyTorch's CIFAR rates), (0, 0.999) |
# | EMA decay | 0.9999 | 0.995, from step 300 |
# | orthogonal regulariser $\beta$ | 1e-4 | 1e-4 |
# | $z$ | 120 (skip-z: 6 chunks of 20) | 128 (skip-z: 4 chunks of 32) |

# %% [markdown]
# ## Data
#
# CIFAR-10 as in notebooks 03 and 06: 32×32 colour images in 10 classes, held in memory. The same 2,000 images that
# the course's CIFAR domain classifier holds out stay out of training, and serve as the real side of every FID.

# %%
cifar = load_cifar10(**cfg.data_kwargs)
n_test = min(2_000, len(cifar) // 5)                # the domain classifier's hold-out rule
train_set, test_set = cifar.split(n_test, cfg.seed)
K = len(cifar.classes)
print(f"{K} classes: {', '.join(cifar.classes)}; {len(train_set):,} training images, {len(test_set):,} held out")
rows = torch.stack([torch.nonzero(train_set.labels == k)[:10, 0] for k in range(K)])  # (K, 10)
show_grid(train_set.to_float(rows.flatten()), nrow=10, title=f"{cifar.source} data, one row per class",
          figsize=(4.5, 4.5))
plt.show()

# %% [markdown]
# ## Building blocks
#
# **Spectral norm.** PyTorch has it as a parametrization: the layer keeps an unnormalised weight $W$ and, at every
# forward pass in training mode, runs one step of power iteration to estimate $\sigma(W)$, its largest singular
# value, then uses $W / \sigma(W)$. A check: after a few forward passes the largest singular value of the weight
# the layer uses is 1, whatever the scale of $W$.

# %%
layer = spectral_norm(nn.Linear(16, 8))
with torch.no_grad():
    layer.parametrizations.weight.original.mul_(5.0)     # make W large
    for _ in range(20):                                 # each training forward refines the estimate of sigma(W)
        layer(torch.randn(4, 16))
print(f"sigma(W) = {torch.linalg.matrix_norm(layer.parametrizations.weight.original, 2):.2f}, "
      f"sigma(W / sigma) = {torch.linalg.matrix_norm(layer.weight, 2):.4f}")


# %% [markdown]
# **Class-conditional batch norm.** Batch norm without its own gain and bias, then a gain $1 + W_\gamma c$ and a bias
# $W_\beta c$ computed from the condition $c$ for each example. Written out:

# %%
class CondBN(nn.Module):
    def __init__(self, num_features, cond_dim):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gain = spectral_norm(nn.Linear(cond_dim, num_features, bias=False), eps=1e-6)
        self.bias = spectral_norm(nn.Linear(cond_dim, num_features, bias=False), eps=1e-6)

    def forward(self, x, c):                                   # x (B, C, H, W), c (B, cond_dim)
        gamma = 1 + self.gain(c)[:, :, None, None]             # (B, C, 1, 1)
        return self.bn(x) * gamma + self.bias(c)[:, :, None, None]


# %% [markdown]
# A shape check, and the promotion check: `gan_utils.nn.normalization.ConditionalBatchNorm2d` is the same layer
# (with clear errors for wrong shapes), and BigGAN's generator is built from it. Its statistics come from an inner
# `nn.BatchNorm2d`, so that `nn.SyncBatchNorm.convert_sync_batchnorm` turns it into BigGAN's cross-replica BN when
# training runs on several GPUs (the end of this notebook).

# %%
cbn, cbn_lib = CondBN(6, 10), ConditionalBatchNorm2d(6, 10)
cbn_lib.load_state_dict(cbn.state_dict())
h, c = torch.randn(4, 6, 8, 8), torch.randn(4, 10)          # (B, C, H, W), (B, cond_dim)
out = cbn(h, c)                                              # (4, 6, 8, 8)
assert out.shape == h.shape and torch.allclose(out, cbn_lib(h, c), atol=1e-6)
print("conditional BN:", tuple(out.shape), "| gan_utils.nn.normalization.ConditionalBatchNorm2d matches")

# %% [markdown]
# **The generator.** `bg.Generator` puts the pieces together as in the diagram above: the shared embedding
# `G.shared`, $z$ split into `G.n_chunks` chunks, one `GBlock` (two conditional BNs, two 3×3 convs, nearest-neighbour
# upsampling, a 1×1-conv shortcut) per doubling from 4×4 to 32×32, spectral norm on every conv and linear layer,
# and orthogonal initialisation. One block, to see the conditioning in place:

# %%
G = bg.Generator(ch=cfg.ch).to(device)
print("GBlock:", ", ".join(f"{n} {type(m).__name__}" for n, m in G.blocks[0].named_children()))
z, y = torch.randn(K, G.z_dim, device=device), torch.arange(K, device=device)   # (10, 128), (10,)
x_fake = G(z, y)                                                                 # (10, 3, 32, 32)
print(f"G(z, y): {tuple(x_fake.shape)}; z in {G.n_chunks} chunks of {G.chunk}; "
      f"cBN condition = shared embedding ({G.shared.embedding_dim}) + one chunk = {G.blocks[0].bn1.cond_dim}")

# %% [markdown]
# **The discriminator** mirrors it: four ResNet blocks (the first two halve the size), ReLU, a sum over positions to
# a feature vector $h(x)$, and the projection head $w^\top h + e_D(y)^\top h$. There is no batch norm in $D$, which
# will matter when we train on several processes.

# %%
D = bg.Discriminator(ch=cfg.ch).to(device)
d_out = D(x_fake, y)                                                             # (10,)
n_params = lambda m: sum(p.numel() for p in m.parameters())
print(f"D(x, y): {tuple(d_out.shape)}; G {n_params(G) / 1e6:.2f}M, D {n_params(D) / 1e6:.2f}M parameters")

# %% [markdown]
# **Orthogonal initialisation.** Every weight starts as a (semi-)orthogonal matrix: the rows of a conv weight,
# flattened to (out, in·3·3), are orthonormal. A check on one layer of $D$:

# %%
w = D.blocks[1].conv1.parametrizations.weight.original.flatten(1)          # (4ch, 4ch * 9)
print(f"max |W W^T - I| = {(w @ w.t() - torch.eye(len(w), device=device)).abs().max():.1e}")


# %% [markdown]
# ## Losses and the regulariser
#
# The hinge losses, and a hand check: with $D$ scores $(2, 0.5)$ on real images and $(-2, 0.5)$ on fakes,
# $L_D = \tfrac12(0 + 0.5) + \tfrac12(0 + 1.5) = 1.0$ and $L_G = -\tfrac12(-2 + 0.5) = 0.75$. The real image at 2 and
# the fake at −2 are beyond the margin and contribute nothing.
#
# **Exercise 1 (build).** Write the two hinge losses of "The idea" (finding 1) from $D$'s raw scores: `L_D` from
# the scores of a real and a fake batch, `L_G` from the scores of a fake batch, each expectation a batch mean. The
# training step below, and so the whole run, uses your functions.

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def L_D(d_real, d_fake):
    # d_real, d_fake: (B,) unbounded scores of D -> a scalar tensor
    ### BEGIN SOLUTION
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
    ### END SOLUTION


def L_G(d_fake):
    # d_fake: (B,) scores of D on G's samples -> a scalar tensor
    ### BEGIN SOLUTION
    return -d_fake.mean()
    ### END SOLUTION


# %% [markdown]
# The check: the hand example above, scores far beyond the margins (where $D$'s loss must stop changing), and the
# direction of each loss. The hidden tests compare with the course's reference.

# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
d_real_ex, d_fake_ex = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
check_that(abs(L_D(d_real_ex, d_fake_ex).item() - 1.0) < 1e-6 and abs(L_G(d_fake_ex).item() - 0.75) < 1e-6,
           "the hand example (L_D = 1.0, L_G = 0.75)", hint="Reread the hand check above: which terms are zero?")
far = torch.tensor([200.0, 50.0]), torch.tensor([-200.0, -50.0])            # real far above +1, fake far below -1
check_that(L_D(*far).item() == 0.0 and torch.isfinite(L_G(far[1])), "no push beyond the margins",
           hint="A real score above 1 and a fake score below -1 cost D nothing: max(0, ...).")
check_that(L_D(d_real_ex - 1, d_fake_ex) > L_D(d_real_ex, d_fake_ex) and L_G(d_fake_ex + 1) < L_G(d_fake_ex),
           "directions", hint="D's loss rises as real scores fall; G's falls as D scores its samples higher.");
### BEGIN HIDDEN TESTS
from gan_utils.teaching import written_here

check_that(written_here(L_D, "bg", "d_hinge_loss") and written_here(L_G, "bg", "g_hinge_loss"),
           "the hinge losses are written out", hint="Write the losses from the formulas, not from the library.")
gen_ex = torch.Generator().manual_seed(13)
s_r, s_f = 2 * torch.randn(7, generator=gen_ex), 2 * torch.randn(7, generator=gen_ex)
assert torch.isclose(L_D(d_real_ex, d_fake_ex), bg.d_hinge_loss(d_real_ex, d_fake_ex))
assert torch.isclose(L_G(d_fake_ex), bg.g_hinge_loss(d_fake_ex))
check(L_D(s_r, s_f), bg.d_hinge_loss(s_r, s_f), "L_D on random scores",
      hint="max(0, 1 - D(x)) on the real scores plus max(0, 1 + D(G(z))) on the fake ones, each a batch mean.")
check(L_G(s_f), bg.g_hinge_loss(s_f), "L_G on random scores", hint="G raises D's score on its samples.");
### END HIDDEN TESTS

# %% [markdown]
# **The orthogonal regulariser** on one matrix, checked by hand: for $W = \begin{pmatrix}1 & 1\\ 0 & 1\end{pmatrix}$,
# $W W^\top = \begin{pmatrix}2 & 1\\ 1 & 1\end{pmatrix}$; the off-diagonal entries square and sum to 2, so
# $R_\beta = 2\beta$. A conv weight is flattened to (out, in·k·k) first. `bg.ortho_reg(model, beta)` sums it over
# every weight of a model, leaving out biases and the shared embedding, as BigGAN-PyTorch does.
#
# **Exercise 2 (build).** Write $R_\beta(W)$ for one weight tensor, the formula of "The idea" (finding 3): flatten
# $W$ to one row per output filter, compare every pair of distinct rows, and leave the diagonal (each row with
# itself) out, as in the hand example. The training step sums your function over $G$'s weights.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def R_beta(W, beta=1e-4):
    # W: (out, in) or a conv weight (out, in, k, k) -> a scalar tensor
    ### BEGIN SOLUTION
    gram = W.flatten(1) @ W.flatten(1).t()                   # (out, out)
    return beta * (gram * (1 - torch.eye(len(gram), device=W.device))).square().sum()
    ### END SOLUTION


# %% [markdown]
# The check: the hand example, an orthogonal matrix (no penalty), the freedom of the row norms that the prose
# promises, and a conv weight. The hidden tests compare with the course's reference on single layers.

# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
W_ex = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
check_that(abs(R_beta(W_ex).item() - 2e-4) < 1e-9, "the hand example (2 beta)",
           hint="Reread the hand check: only the off-diagonal entries of W W^T count, squared and summed, times beta.")
rot = torch.tensor([[0.6, -0.8], [0.8, 0.6]])                                # orthonormal rows
check_that(R_beta(rot).item() < 1e-10 and R_beta(torch.diag(torch.tensor([3.0, 0.5]))).item() < 1e-10,
           "orthogonal rows cost nothing, whatever their norms", hint="The diagonal of W W^T must not count.")
W_c = torch.randn(4, 3, 3, 3, generator=torch.Generator().manual_seed(1))    # (out, in, k, k)
check_that(R_beta(W_c).dim() == 0 and R_beta(W_c, beta=2.0) > 0, "a conv weight gives one positive number",
           hint="Flatten a conv weight to (out, in*k*k) first.");
### BEGIN HIDDEN TESTS
from gan_utils.teaching import written_here

check_that(written_here(R_beta, "bg", "ortho_reg"), "R_beta is written out",
           hint="Write the regulariser from the formula, not from the library.")
lin = nn.Linear(2, 2, bias=False)
lin.weight.data.copy_(W_ex)
assert torch.isclose(R_beta(W_ex), bg.ortho_reg(lin, beta=1e-4))
conv = nn.Conv2d(3, 4, 3)
conv.weight.data.copy_(W_c)
check(R_beta(W_c, 0.1), bg.ortho_reg(conv, beta=0.1), "R_beta of a conv weight",
      hint="Flatten to (4, 27), take the Gram matrix W W^T, zero its diagonal, square, sum, times beta.");
### END HIDDEN TESTS

# %% [markdown]
# **Truncated sampling.** Draw $z \sim \mathcal N(0, I)$ and redraw every entry whose magnitude exceeds $\tau$ until
# none does. Entries already inside the threshold keep their values, so one seed gives related $z$ at different
# thresholds, which the figures below use.

# %%
def truncated(n, dim, tau, generator):
    z = torch.randn(n, dim, generator=generator)
    while (z.abs() > tau).any():
        bad = z.abs() > tau
        z[bad] = torch.randn(int(bad.sum()), generator=generator)
    return z


z_t = truncated(1000, 128, 0.5, torch.Generator().manual_seed(0))
assert torch.equal(z_t, bg.truncated_z(1000, 128, 0.5, generator=torch.Generator().manual_seed(0)))
print(f"tau = 0.5: max |z| = {z_t.abs().max():.3f}, sd {z_t.std():.3f} (untruncated: 1)")


# %% [markdown]
# **The EMA of $G$'s weights.** After every $G$ step, $\theta_\text{EMA} \leftarrow d\,\theta_\text{EMA} +
# (1 - d)\,\theta$ with decay $d$ (0.9999 in the paper). The averaged $G$ never trains; it is the one the paper
# samples from. `bg.ema_update` does this for the parameters and copies the buffers; before `ema_start` it just
# copies $G$. Because an average of weights needs its own batch-norm statistics, BigGAN re-estimates them before
# sampling ("standing statistics", `bg.standing_stats`): the running means and variances are recomputed as plain
# averages over a few batches of fresh samples.
#
# **Exercise 3 (build).** Write the EMA update: move every parameter of `G_ema` towards the matching parameter of
# `G` by the formula above, in place, and copy `G`'s buffers (the batch-norm statistics and spectral norm's
# vectors) into `G_ema` as they are. `G` must not change, and no gradient should be recorded. The training step
# calls your function after every $G$ step, so the EMA generator that the rest of the notebook samples from is
# yours.

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ema_update(G_ema, G, decay):
    # G_ema, G: two networks of the same architecture; decay: d in [0, 1]; updates G_ema in place
    ### BEGIN SOLUTION
    with torch.no_grad():
        for p_ema, p in zip(G_ema.parameters(), G.parameters(), strict=True):
            p_ema.lerp_(p, 1.0 - decay)
        for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
            b_ema.copy_(b)
    ### END SOLUTION


# %% [markdown]
# The check runs your update on two small networks with a batch norm: $d = 1$ must leave the average alone,
# $d = 0$ must copy $G$, and $d = 0.5$ must land halfway. The hidden tests compare with the course's reference.

# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def ema_pair(seed):
    torch.manual_seed(seed)
    net = lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    G_, G_ema_ = net(), net()
    G_(torch.randn(8, 3))                                              # G's BN statistics move away from G_ema's
    return G_ema_, G_


rng = rng_state()                                                      # the notebook's random state, kept
flat = lambda m: torch.cat([t.detach().flatten().float() for t in (*m.parameters(), *m.buffers())])
G_ema_t, G_t = ema_pair(0)
before, g_before = flat(G_ema_t), flat(G_t)
ema_update(G_ema_t, G_t, 1.0)
n_p = sum(p.numel() for p in G_t.parameters())
check_that(torch.equal(flat(G_ema_t)[:n_p], before[:n_p]) and torch.equal(flat(G_t), g_before),
           "d = 1 keeps the average",
           hint="With decay 1 the average keeps all of itself; and G is only read, never written.")
ema_update(G_ema_t, G_t, 0.0)
check_that(torch.allclose(flat(G_ema_t), g_before), "d = 0 copies G (parameters and buffers)",
           hint="With decay 0 the average takes all of the new weights; the buffers are copied every time.")
G_ema_t, G_t = ema_pair(1)
before = flat(G_ema_t)
ema_update(G_ema_t, G_t, 0.5)
halfway = (before[:n_p] + flat(G_t)[:n_p]) / 2
check_that(torch.allclose(flat(G_ema_t)[:n_p], halfway, atol=1e-6), "d = 0.5 lands halfway",
           hint="theta_EMA <- d theta_EMA + (1 - d) theta, for every parameter.")
### BEGIN HIDDEN TESTS
from gan_utils.teaching import written_here

check_that(written_here(ema_update, "bg", "biggan"), "the EMA update is written out",
           hint="Write the update from the formula, not from the library.")
(A, G_a), (B, G_b) = ema_pair(2), ema_pair(2)
ema_update(A, G_a, 0.9)
bg.ema_update(B, G_b, 0.9)
check(flat(A), flat(B), "ema_update against bg.ema_update at d = 0.9", atol=1e-6,
      hint="Parameters: the weighted average of the formula above; buffers: copied.")
### END HIDDEN TESTS
set_rng_state(rng)


# %% [markdown]
# ## Training
#
# One BigGAN step: two $D$ steps, each on a fresh real batch and fresh fakes (real and fake go through $D$ in one
# call), then one $G$ step on $L_G + R_\beta$, then the EMA update. `next_real()` gives a real batch and its
# labels, `next_noise(n)` a $z$ and fake labels. The regulariser is your $R_\beta$ summed over $G$'s weight
# matrices, leaving out the shared embedding, as `bg.ortho_reg` does.

# %%
def ortho_penalty(G, beta):
    return sum(R_beta(W, beta) for name, W in G.named_parameters() if W.dim() > 1 and "shared" not in name)


def biggan_train_step(G, D, opt_G, opt_D, next_real, next_noise, n_D=2, ortho_beta=1e-4, G_ema=None,
                      ema_decay=0.999):
    for _ in range(n_D):
        x_real, y_real = next_real()
        z, y_fake = next_noise(len(x_real))
        with torch.no_grad():
            x_fake = G(z, y_fake)                                       # G in train mode, as in BigGAN
        d_real, d_fake = D(torch.cat([x_real, x_fake]), torch.cat([y_real, y_fake])).split(len(x_real))
        loss_D = L_D(d_real, d_fake)
        opt_D.zero_grad(); loss_D.backward(); opt_D.step()
    z, y_fake = next_noise(len(x_real))
    loss_adv = L_G(D(G(z, y_fake), y_fake))
    loss_G = loss_adv + ortho_penalty(G, ortho_beta)
    opt_G.zero_grad(); loss_G.backward(); opt_G.step()
    if G_ema is not None:
        ema_update(G_ema, G, ema_decay)
    return {"loss_D": loss_D.item(), "D_real": d_real.mean().item(), "D_fake": d_fake.mean().item(),
            "loss_G": loss_adv.item(), "ortho": (loss_G - loss_adv).item()}


# %% [markdown]
# The promotion check: this is `bg.train_step`, the exact function the torchrun script calls, once per process
# (there, under DistributedDataParallel, $G$'s step goes through $D$'s plain module, `D_for_G`). Two fresh BigGANs
# take one step each on the same batches and noise, one through the step above and one through the library's;
# they must log the same losses and leave the same weights, EMA included. The check leaves the notebook's random
# state as it found it.

# %%
def check_step():
    rng, runs = rng_state(), []
    for step_fn in (biggan_train_step, bg.train_step):
        torch.manual_seed(cfg.seed)
        G_, D_ = bg.Generator(ch=cfg.ch).to(device), bg.Discriminator(ch=cfg.ch).to(device)
        G_ema_ = bg.make_ema(G_)
        opt_G_, opt_D_ = (torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.0, 0.999), eps=1e-6) for m in (G_, D_))
        noise_ = lambda n, G_=G_: (torch.randn(n, G_.z_dim, device=device), torch.randint(0, K, (n,), device=device))
        torch.manual_seed(1)                                            # the same batches and noise for both
        losses = step_fn(G_, D_, opt_G_, opt_D_, lambda: train_set.batch(cfg.batch), noise_, n_D=2, ortho_beta=1e-4,
                         G_ema=G_ema_, ema_decay=0.9)
        runs.append((losses, [G_, D_, G_ema_]))
    assert_same_step(runs[0][0], runs[1][0], runs[0][1], runs[1][1])
    set_rng_state(rng)

check_step()

# %% [markdown]
# The training run calls the step above, `biggan_train_step`, so it trains with your losses, regulariser and EMA;
# the check just showed that it takes the same steps as `bg.train_step`, which the torchrun script and the sweep
# below call. Adam with $\beta_1 = 0$, as in the paper.

# %%
torch.manual_seed(cfg.seed)
G, D = bg.Generator(ch=cfg.ch).to(device), bg.Discriminator(ch=cfg.ch).to(device)
G_ema = bg.make_ema(G)
opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.0, 0.999), eps=1e-6)
opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.0, 0.999), eps=1e-6)


def noise(n):
    return torch.randn(n, G.z_dim, device=device), torch.randint(0, K, (n,), device=device)   # z, y_fake


def biggan_step(step):
    decay = cfg.ema_decay if step >= cfg.ema_start else 0.0    # copy G until the EMA starts
    return biggan_train_step(G, D, opt_G, opt_D, lambda: train_set.batch(cfg.batch), noise, n_D=2, ortho_beta=1e-4,
                             G_ema=G_ema, ema_decay=decay)


# %% [markdown]
# The fixed sample grid shows the EMA generator, one **row per class**, with the same $z$ down each column. Run the
# cell again after an interruption to resume from the checkpoint.

# %%
n_cols = 10
z_grid = torch.randn(n_cols, G.z_dim, device=device).repeat(K, 1)   # (K * n_cols, 128): same z in each column
y_grid = torch.arange(K, device=device).repeat_interleave(n_cols)   # (K * n_cols,): one class per row
trainer = Trainer({"G": G, "D": D, "G_ema": G_ema}, {"G": opt_G, "D": opt_D}, biggan_step, ckpt_dir=cfg.ckpt_dir,
                  ckpt_every=500, sample_fn=lambda: G_ema(z_grid, y_grid), sample_every=cfg.sample_every,
                  sample_nrow=n_cols)                                   # live panel: one class per row
history = trainer.fit(cfg.steps, resume=True)
ms_step = 1000 * trainer.seconds / max(1, len(history.steps))
print(f"{trainer.step} G steps ({2 * trainer.step} D steps), {trainer.seconds / 60:.1f} min of training "
      f"({ms_step:.0f} ms per G step)")

# %% [markdown]
# ## Results
#
# The EMA generator's class grid over training (rows in the class order above), and the losses:

# %%
plot_snapshots(history, max_cols=3, n_images=K * n_cols, nrow=n_cols, size=4.2); plt.show()

# %%
ax = plot_losses(history); ax.axhline(0, color="gray", lw=0.5); plt.show()
tail = lambda k: sum(history.losses[k][-100:]) / len(history.losses[k][-100:])
print(f"last 100 steps: loss_D {tail('loss_D'):.2f}, D(real) {tail('D_real'):+.2f}, D(fake) {tail('D_fake'):+.2f}, "
      f"loss_G {tail('loss_G'):+.2f}, R_beta {tail('ortho'):.2e}")

# %% [markdown]
# The hinge losses settle early: over the last 100 steps of the committed run $D$ scores real images at about
# +0.2 and fakes at about −0.4 (+0.3 and −0.4 in a second run with other seeds), well inside the margins at ±1, so
# neither network wins outright, and $L_D$ stays near 1.6 (2 would be a $D$ that cannot tell them apart at all). The regulariser $R_\beta$ is about 0.02, small
# beside the adversarial terms: it nudges, it does not dominate. The grids show colour and layout first (sky,
# grass, water), then blobby objects; at this budget $z$ (the columns) shapes an image more than the class (the
# rows) does. The step-0 panel is the untrained $G$ in evaluation mode, with batch-norm statistics that have not
# been estimated yet.
#
# ### EMA against the raw generator
#
# The course's CIFAR-10 domain classifier (a small CNN trained on the same 8,000 training images and cached; see
# notebook 03) gives the yardsticks: **domain FID** against the 2,000 held-out images (lower is better) and the
# **domain IS** (higher is better, at most 10), and the share of samples that it assigns to the class they were
# drawn for. These are not Inception numbers and are never comparable with the paper's; the real held-out images
# score the ceiling. Nor do they compare with notebook 03's CIFAR-10 domain FID: 03 trains its classifier for 6
# epochs and scores 4,000 samples, we train ours for 5 and score 2,000, and a Fréchet distance changes with both the
# feature extractor and the sample size.

# %%
clf, clf_acc = get_domain_classifier(cifar, cfg.cache_dir, epochs=cfg.clf_epochs, seed=cfg.seed)
y_eval = torch.arange(K, device=device).repeat_interleave(cfg.n_eval // K)   # balanced classes


@torch.no_grad()
def samples(gen_net, tau=None, seed=0):
    z = bg.truncated_z(len(y_eval), gen_net.z_dim, tau, torch.Generator().manual_seed(seed), device)
    return torch.cat([gen_net(zb, yb) for zb, yb in zip(z.split(500), y_eval.split(500), strict=True)])


def scores(x):
    is_mean, _ = domain_inception_score(x, clf, splits=5)
    return {"FID": domain_fid(test_set.to_float(), x, clf), "IS": is_mean,
            "class acc": conditional_accuracy(x, y_eval, clf)}


# %% [markdown]
# Both generators get standing statistics first, so that the comparison is about the weights alone. Three draws of
# samples each (different $z$) give the spread that sampling alone causes.

# %%
G_raw = bg.standing_stats(bg.make_ema(G), n_batches=cfg.std_batches)   # a copy of the raw G
bg.standing_stats(G_ema, n_batches=cfg.std_batches)
x_train = train_set.to_float(torch.arange(len(y_eval)))             # real training images against the held-out
real = {"FID": domain_fid(test_set.to_float(), x_train, clf), "IS": domain_inception_score(x_train, clf, splits=5)[0],
        "class acc": conditional_accuracy(x_train, train_set.labels[: len(y_eval)], clf)}
print(f"{'':14s} {'domain FID':>14s} {'domain IS':>12s} {'class acc':>11s}")
print(f"{'real (ceiling)':14s} {real['FID']:14.1f} {real['IS']:12.2f} {100 * real['class acc']:10.1f}%")
ema_vs_raw = {}
for name, net in (("raw G", G_raw), ("EMA G", G_ema)):
    runs = [scores(samples(net, seed=s)) for s in range(3)]
    ema_vs_raw[name] = {k: torch.tensor([r[k] for r in runs]) for k in runs[0]}
    m = ema_vs_raw[name]
    print(f"{name:14s} {m['FID'].mean():8.1f} ± {m['FID'].std():3.1f} {m['IS'].mean():7.2f} ± {m['IS'].std():.2f}"
          f" {100 * m['class acc'].mean():9.1f}%")

# %% [markdown]
# The real row scores `n_eval` training images the same way: the floor for FID at this sample size, and the
# ceiling for IS and class accuracy.
#
# **EMA against raw.** In the committed run the EMA generator has a clearly lower domain FID than the raw one
# (2.2 ± 0.1 against 3.3 ± 0.2 over three draws of samples; in a second run with other seeds, 4.6 ± 0.3 against
# 8.5 ± 0.1), a slightly higher IS (2.36 against 2.26) and a class accuracy within two points (40.2% against
# 38.7%). The spread between draws is much smaller than the gap, and the gap held in both training runs, so the
# gain is not sampling noise. Averaging the last few hundred
# weight vectors smooths the step-to-step wobble that an adversarial game leaves in $G$. In the grids below, the
# two generators draw the same layouts, the EMA's slightly smoother. Both are far from the real images (FID 0.6 at
# this sample size, class accuracy 58%: the domain classifier is weak on CIFAR-10).

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4.7))
for ax, (name, net) in zip(axes, (("raw G", G_raw), ("EMA G", G_ema)), strict=True):
    with torch.no_grad():
        show_grid(net(z_grid, y_grid), nrow=n_cols, ax=ax, title=f"{name}, same z and classes")
plt.show()

# %% [markdown]
# ### The truncation trick
#
# The same EMA generator, sampled with $z$ truncated at $\tau$ from 0.25 to 2 and without truncation. One detail
# decides the result: the **standing statistics**. Batch norm in evaluation mode normalises with the means and
# variances it stored, and a truncated $z$ makes smaller activations than the untruncated $z$ they were estimated
# on. BigGAN-PyTorch's sampling script therefore re-accumulates the standing statistics **for each threshold**, with
# that threshold's $z$ (`bg.standing_stats(..., threshold=tau)`). We draw the curve both ways once, because the
# difference is itself worth seeing.
#
# Quality alone cannot show a trade-off, so beside domain FID, domain IS and class accuracy we measure **variety**:
# the mean MS-SSIM between random pairs of samples of the same class (notebook 06's measure; higher means the
# samples of a class look more alike, less variety). Each number is the mean over three draws of samples.

# %%
x_real_eval = test_set.to_float(torch.arange(len(y_eval)))
y_real_eval = test_set.labels[: len(y_eval)]


def within_class_ms_ssim(x, y, n_pairs=200, seed=0):
    """Mean pairwise MS-SSIM of the images of each class, averaged over classes (higher = less variety)."""
    return sum(mean_pairwise_ms_ssim(x[y.cpu() == c], n_pairs, seed=seed) for c in range(K)) / K


real_msssim = within_class_ms_ssim(x_real_eval, y_real_eval)
print(f"held-out real images: within-class MS-SSIM {real_msssim:.3f}")

taus = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, None]
curves = {"statistics per threshold": {}, "statistics of untruncated z": {}}
for kind, curve in curves.items():
    for tau in taus:
        bg.standing_stats(G_ema, n_batches=cfg.std_batches, threshold=tau if kind.endswith("threshold") else None)
        runs = []
        for s in range(3):
            x = samples(G_ema, tau, seed=s).cpu()
            runs.append({**scores(x), "MS-SSIM": within_class_ms_ssim(x, y_eval, seed=s)})
        curve[tau] = {k: torch.tensor([r[k] for r in runs]) for k in runs[0]}
    print(kind)
    for tau, c in curve.items():
        print(f"  tau {tau if tau else 'none':>4}: FID {c['FID'].mean():6.1f} ± {c['FID'].std():4.1f}, "
              f"IS {c['IS'].mean():4.2f} ± {c['IS'].std():.2f}, class acc {100 * c['class acc'].mean():4.1f}%, "
              f"within-class MS-SSIM {c['MS-SSIM'].mean():.3f} ± {c['MS-SSIM'].std():.3f}")
bg.standing_stats(G_ema, n_batches=cfg.std_batches)   # back to untruncated statistics for the cells below
curve = curves["statistics per threshold"]

# %% [markdown]
# The paper plots IS against FID as $\tau$ goes down (its Figure 4 and Table 2): at first both improve, then IS keeps
# rising while FID turns and grows, because the samples lose variety. Ours, left, with the IS of the real images
# as a line; right, the variety of each class against the threshold.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
for (kind, c_), style in zip(curves.items(), ("o-", "s--"), strict=True):
    xs = [c["FID"].mean().item() for c in c_.values()]
    ys = [c["IS"].mean().item() for c in c_.values()]
    axes[0].errorbar(xs, ys, xerr=[c["FID"].std().item() for c in c_.values()],
                     yerr=[c["IS"].std().item() for c in c_.values()], fmt=style, capsize=2, label=kind)
    for tau, x_, y_ in zip(taus, xs, ys, strict=True):
        axes[0].annotate(f"τ={tau}" if tau else "none", (x_, y_), fontsize=7, xytext=(4, -9),
                         textcoords="offset points")
    t_pos = list(range(len(taus)))
    axes[1].errorbar(t_pos, [c["MS-SSIM"].mean().item() for c in c_.values()],
                     yerr=[c["MS-SSIM"].std().item() for c in c_.values()], fmt=style, capsize=2, label=kind)
axes[0].axhline(real["IS"], color="gray", ls=":", label="real (training) images")
axes[0].set_xscale("log"); axes[0].set_xlabel("domain FID (lower is better, log scale)")
axes[0].set_ylabel("domain IS (higher is better)"); axes[0].set_title("quality: IS against FID as τ changes")
axes[1].axhline(real_msssim, color="gray", ls=":", label="held-out real images")
axes[1].set_xticks(t_pos, [str(t) if t else "none" for t in taus]); axes[1].set_xlabel("truncation threshold τ")
axes[1].set_ylabel("within-class MS-SSIM (higher = less variety)"); axes[1].set_title("variety")
for ax in axes:
    ax.grid(alpha=0.3); ax.legend(fontsize=8)
plt.tight_layout(); plt.show()


# %% [markdown]
# **What the curves show.** With the statistics of each threshold (blue), truncation trades variety for quality,
# as in the paper's Figure 4. From no truncation to $\tau = 0.5$, IS rises from 2.36 to 2.65, the level of the real
# images (2.64), and the share of samples that the classifier assigns to their class rises from 40.2% to 55.5%
# (61.2% at $\tau = 0.25$, as high as the real images' 58.1%: every sample of a class becomes a clear, typical member
# of it). Meanwhile FID grows from 2.2 to 17 and 24, and the variety measure says why: the within-class MS-SSIM
# climbs from 0.099, the real images' level (0.097), to 0.20 and 0.36, so the samples of a class come to look
# alike. A second run with other seeds (networks, classifier and samples) drew the same curve: IS 2.60 → 2.94 (real
# 2.85), class accuracy 38.7% → 52.0% (real 56.3%), MS-SSIM 0.107 → 0.334, FID 4.6 → 96. FID
# counts that lost variety against the model; IS and class accuracy reward the typical samples. Which $\tau$ is best
# depends on which you value, which is why the paper reports the whole curve.
#
# With the statistics of untruncated $z$ (orange, dashed), the same generator and the same $z$ give the opposite
# picture: IS *falls* to 1.40, class accuracy to 28.1% and FID rises to 124 at $\tau = 0.25$ (second run: 1.31, 10.2%,
# 243). Batch norm divides the
# smaller activations of truncated $z$ by the larger spread it measured on untruncated $z$, so every feature map
# shrinks towards its mean and the samples wash out to grey (the grid below, left). An earlier version of this
# notebook made that mistake and concluded that a small CPU-trained $G$ is "not amenable to truncation"; it was the
# statistics, not the model.
#
# What truncation does to the images: one class per column, the same seed in every row, the threshold falling
# from top to bottom; left with the statistics of untruncated $z$, right with each threshold's own.

# %%
@torch.no_grad()
def truncation_grid(gen_net, taus_shown, per_threshold, ax, seed=1):
    rows_ = []
    for t in taus_shown:
        bg.standing_stats(gen_net, n_batches=cfg.std_batches, threshold=t if per_threshold else None)
        rows_.append(gen_net(bg.truncated_z(K, gen_net.z_dim, t, torch.Generator().manual_seed(seed), device),
                             torch.arange(K, device=device)))
    bg.standing_stats(gen_net, n_batches=cfg.std_batches)
    kind = "statistics per τ" if per_threshold else "statistics of untruncated z"
    show_grid(torch.cat(rows_), nrow=K, ax=ax, title=f"{kind}\nrows: τ = " + ", ".join(str(t) for t in taus_shown))


fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
for ax, per_threshold in zip(axes, (False, True), strict=True):
    truncation_grid(G_ema, [2.0, 1.0, 0.5, 0.25, 0.05], per_threshold, ax)
plt.tight_layout(); plt.show()


# %% [markdown]
# On the right, each column converges as $\tau$ falls to one picture per class at full contrast, nearly the same
# in the last two rows: that is the lost variety the MS-SSIM measured. On the left, the same $z$ fade to grey
# blobs. The static figures under the widget below show it for one class: ten horses at $\tau = 2$ differ in pose,
# colour and ground; at $\tau = 0.3$ they are ten copies of one red-and-white shape.
#
# ### Batch and width: what scale costs
#
# BigGAN's Table 1 grows the batch from 256 to 2048 and then the width by 50%. A CPU cannot repeat that, but it
# can show the **cost** side honestly and the start of the quality side. Each configuration below trains a fresh
# BigGAN for only `sweep_steps` $G$ steps (a few minutes of CPU for all of them, so read the FIDs as where each run
# *starts*, not where it ends), with the same code and learning rates. We time the steps, and score the raw $G$
# (this early the EMA would only lag behind it) with standing statistics.

# %%
def sweep_run(ch, batch, steps, seed=0):
    torch.manual_seed(seed)
    G_s, D_s = bg.Generator(ch=ch).to(device), bg.Discriminator(ch=ch).to(device)
    oG = torch.optim.Adam(G_s.parameters(), lr=2e-4, betas=(0.0, 0.999), eps=1e-6)
    oD = torch.optim.Adam(D_s.parameters(), lr=2e-4, betas=(0.0, 0.999), eps=1e-6)
    nz = lambda n: (torch.randn(n, G_s.z_dim, device=device), torch.randint(0, K, (n,), device=device))
    t0 = time.perf_counter()
    for _ in range(steps):
        bg.train_step(G_s, D_s, oG, oD, lambda: train_set.batch(batch), nz, n_D=2, ortho_beta=1e-4)
    sec = (time.perf_counter() - t0) / steps
    fid = scores(samples(bg.standing_stats(G_s, n_batches=cfg.std_batches)))["FID"]
    return {"params G+D (M)": (n_params(G_s) + n_params(D_s)) / 1e6, "ms / G step": 1000 * sec,
            "real images / s": 2 * batch / sec, "domain FID": fid}


# %%
sweep = {(ch, b): sweep_run(ch, b, cfg.sweep_steps) for ch, b in cfg.sweep}
print(f"{'ch':>3s} {'batch':>5s} " + " ".join(f"{k:>15s}" for k in next(iter(sweep.values()))))
for (ch, b), r in sweep.items():
    print(f"{ch:3d} {b:5d} " + " ".join(f"{v:15.1f}" for v in r.values()))
print(f"(all after {cfg.sweep_steps} G steps; each G step takes 2 D steps on 2 real batches, and G makes 3 batches)")

# %% [markdown]
# **What the sweep shows: the costs.** Doubling the batch (ch 8, batch 32 → 64) doubles the time per step
# (236 → 467 ms in the committed run), so the real images seen per second stay about the same. Doubling the width
# (ch 8 → 16) costs 2.4× the time per step on this CPU (2.4–3.3× over earlier runs), for 3.5× the parameters. The
# times move with the machine (ch 4: 74 to 141 ms per step across runs), their ratios much less.
#
# **The FIDs say little.** In the committed run the batch-64 run ends lower than batch 32 (32.0 against 34.4) and
# the wider one higher (38.4). In a second run with other seeds the order changed: batch 64 47.5 against 45.7,
# and the wide network lowest at 43.6. After 100 steps, one seed per configuration, the differences are within
# what a seed changes, so they are no reproduction of the paper's Table 1, whose gains are measured at the end of
# training at ImageNet scale.
#
# **The paper's numbers beside ours.** The paper's headline (ImageNet, 128×128, Inception network) is the version
# published at ICLR 2019 (arXiv v2 onwards): **IS 166.5, FID 7.4** with truncation chosen for the best FID, against
# SA-GAN's IS 52.52 and FID 18.65. The first arXiv version (v1, September 2018) reported IS 166.3 and FID 9.6; we
# cite the ICLR version. Its Table 1 ablation, at 128 px without truncation (these values are from the course's
# notes and not yet checked against the PDF):

# %%
table1 = [("batch 256 (SA-GAN)", 18.65, 52.52), ("batch 512", 15.30, 58.77), ("batch 1024", 14.88, 63.03),
          ("batch 2048", 12.39, 76.85), ("+ width ch 96", 9.54, 92.98), ("+ shared embedding", 9.18, 94.94),
          ("+ skip-z", 8.73, 98.76)]
print(f"{'BigGAN Table 1 (ImageNet 128 px)':34s} {'FID':>6s} {'IS':>7s}")
for name, fid, is_ in table1:
    print(f"{name:34s} {fid:6.2f} {is_:7.2f}")
best = min(curve, key=lambda t: curve[t]["FID"].mean())
print(f"\nours (CIFAR-10 32 px, domain classifier, {trainer.step} steps at batch {cfg.batch}, ch {cfg.ch}):")
print(f"  no truncation: FID {curve[None]['FID'].mean():.1f}, IS {curve[None]['IS'].mean():.2f}; "
      f"best FID at tau={best}: {curve[best]['FID'].mean():.1f} (IS {curve[best]['IS'].mean():.2f}); "
      f"real images: IS {real['IS']:.2f}")


# %% [markdown]
# **How the settings differ.** The paper's numbers are Inception-network scores of ImageNet samples at 128×128, after
# training at batch 2,048 on TPUs. Ours are domain-classifier scores of CIFAR-10 samples at 32×32
# (IS at most 10, and 2.64 for real images) after 2,400 steps at batch 32, with networks hundreds of times
# smaller. The two scales share nothing but their direction. What carries over: the EMA helps, and the truncation
# trick trades variety for quality as the paper's Figure 4 shows, once the standing statistics follow the threshold.
# As in the paper, the best FID is at little or no truncation and the best IS at a tight threshold. The gains of a
# bigger batch and a wider network did not show in 100-step runs.
#
# ## Explore
#
# Pick a class and a threshold. The widget needs a live kernel; the static figure under it shows one class at a
# loose and a tight threshold.

# %%
def draw(c=0, tau=1.0, seed=0, n=10):
    bg.standing_stats(G_ema, n_batches=cfg.std_batches, threshold=tau)   # this threshold's statistics
    with torch.no_grad():
        z_ = bg.truncated_z(n, G_ema.z_dim, tau, torch.Generator().manual_seed(seed), device)
        x_ = G_ema(z_, torch.full((n,), c, device=device))
    bg.standing_stats(G_ema, n_batches=cfg.std_batches)                 # back to untruncated statistics
    show_grid(x_, nrow=n, title=f"class {c} ({cifar.classes[c]}), τ = {tau}, seed {seed}", figsize=(10, 1.6))
    plt.show()


interact(draw, c=(0, K - 1), tau=(0.05, 2.0, 0.05), seed=(0, 100), n=(4, 16))

# %%
for tau in (2.0, 0.3):
    draw(c=7, tau=tau, seed=3)  # static fallback


# %% [markdown]
# ## Leaving one process behind: `torchrun`
#
# Everything above ran in one process. BigGAN's batch of 2,048 at 128 px does not fit on one accelerator, so the
# paper spreads each batch over many devices and **synchronises batch norm across them** (cross-replica BN). PyTorch
# ships the whole machinery, and `gan_utils.scripts.train_biggan` uses it with the model, loss and step of this notebook:
#
# * **`torchrun --nproc_per_node=N`** starts N processes and tells each its rank;
# * **DistributedDataParallel** (DDP) starts every process from rank 0's weights and averages the gradients across
#   processes during `backward`, so the weights stay identical everywhere;
# * a **DistributedSampler** gives each process a disjoint shard of every batch: `--batch` is the global batch, and
#   each of N processes computes on `batch / N` of it;
# * **SyncBatchNorm** on CUDA: $G$'s batch norms pool their statistics over all processes (BigGAN's cross-replica
#   BN). It does not exist for the CPU, where each process normalises over its own shard;
# * **rank 0 alone** writes log lines and the checkpoint (atomically, in the same layout as this notebook's), and
#   a killed run **resumes with any number of processes**.
#
# `tests/test_distributed.py` checks, with two CPU processes, that the ranks' weights stay identical, that two
# processes at batch B/2 each equal one process at batch B where batch norm allows (no BN in $D$; $G$'s BN in eval
# mode), and that a run killed after a checkpoint resumes with another process count.
#
# Here the script takes over from this notebook: it resumes from the checkpoint that the `Trainer` wrote above
# (one process) and trains `ddp_steps` more steps, once as 1 process and once as 2 (on the CPU, with the gloo
# backend; also on a Mac, since DDP does not run on MPS), each from its own copy of the checkpoint. Both runs are
# timed.

# %%
def run_script(nproc, steps, out):
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(trainer.ckpt_path, out / "latest.pt")                 # start from this notebook's checkpoint
    launcher = ["-m", "torch.distributed.run", f"--nproc_per_node={nproc}"] if nproc > 1 else []
    cmd = [sys.executable, *launcher, "-m", "gan_utils.scripts.train_biggan", "--steps", str(steps),
           "--batch", str(cfg.batch), "--ch", str(cfg.ch), "--ckpt-dir", str(out), "--log-every", str(steps),
           "--data", cfg.data, "--data-root", str(cfg.data_root), "--n-synthetic", str(cfg.n_synthetic),
           "--ema-decay", str(cfg.ema_decay), "--ema-start", str(cfg.ema_start),
           "--device", "cuda" if device.type == "cuda" else "cpu"]   # DDP runs on CUDA or the CPU, not on MPS
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"the script failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    print("\n".join(line for line in res.stdout.splitlines() if not line.startswith("#")))
    return time.perf_counter() - t0


# %%
script_dir = cfg.ckpt_dir / "torchrun"
n_procs = (1, 2) if device.type == "cpu" or torch.cuda.device_count() >= 2 else (1,)   # one GPU per process
wall = {n: run_script(n, trainer.step + cfg.ddp_steps, script_dir / f"{n}proc") for n in n_procs}
for n, s in wall.items():
    print(f"{n} process(es): {s:.1f} s wall for {cfg.ddp_steps} steps, start-up included")

# %% [markdown]
# **On two CPU cores, two processes buy nothing.** In the committed run they took 0.15 and 0.16 s per step (the
# script's own timer, start-up excluded; 0.16 for both in another run; `benchmarks/distributed.py` measures the
# same), and the 2-process run took longer
# in wall time because it starts two Python processes and a process group. The two processes have the same two
# cores that one process with two threads already used. Both runs report a largest weight difference of 0 between
# processes. The script resumed the notebook's one-process checkpoint with one and with two processes.
#
# The script's checkpoint is an ordinary course checkpoint, so the notebook reads its EMA generator with
# `load_module`:

# %%
G_script = bg.Generator(ch=cfg.ch).to(device)
trained = load_module(script_dir / f"{n_procs[-1]}proc", "G_ema", G_script)
bg.standing_stats(G_script, n_batches=cfg.std_batches)
with torch.no_grad():
    show_grid(G_script(z_grid[:K], torch.arange(K, device=device)), nrow=K, figsize=(8, 1.4),
              title=f"EMA G from the {n_procs[-1]}-process script, step {trained.step}")
plt.show()


# %% [markdown]
# **On a machine with GPUs**, the command for a full-size run (from the repository root; `--batch` is the global
# batch, split over the processes):
#
# ```
# torchrun --nproc_per_node=4 -m gan_utils.scripts.train_biggan --steps 50000 --batch 256 --ch 64 \
#     --ckpt-dir runs/biggan --data-root ../shared/realdata
# ```
#
# Interrupt it and start it again, with the same or another `--nproc_per_node`, and it resumes from
# `runs/biggan/latest.pt`. **When it is worth it:** when the model is big enough that one GPU is busy (here, `ch`
# 64 and up, batch 256 and up), several GPUs share the batch and finish each step sooner. Small models on one GPU
# are limited by kernel launches, not arithmetic, and gain nothing; on a CPU, processes only split the same cores.
#
# ## Summary
#
# * BigGAN keeps the GAN game and changes the scale: bigger batches and wider networks, made stable by spectral
#   norm, the hinge loss, two $D$ steps per $G$ step and an orthogonally regularised $G$.
# * The class enters every layer of $G$ through conditional BN, from one shared embedding; skip-z gives each block
#   its own chunk of $z$. $D$ projects the class embedding onto its features.
# * The EMA of $G$'s weights and the truncation trick are sampling-time choices. The truncation curve trades variety
#   (within-class MS-SSIM, and FID, which counts it) against per-sample quality (IS, class accuracy), provided batch
#   norm's standing statistics are re-estimated at each threshold.
# * Scale is paid for in compute, which is what distributed training buys: `torchrun` with DDP, sharded batches and
#   SyncBatchNorm runs the same step on many GPUs.
#
# ## Exercises
#
# Exercises 1 to 3 are above, where the hinge losses, the orthogonal regulariser and the EMA are taught: the
# notebook trained with your code. Each coded exercise has a check cell that never shows the answer; the student
# copy in `student/` also holds hidden tests that only the grader runs.
#
# **Exercise 4 (extend).** BigGAN's regulariser is a relaxation. The orthogonal regularisation it started from
# (Brock et al., 2017) is $R_\text{full}(W) = \beta\,\| W W^\top - I \|_F^2$, which also pins every row of $W$ to
# unit norm; the paper found it too limiting and dropped the diagonal. Write `R_full(W, beta)` for one weight tensor
# (flattened to one row per output filter, as in Exercise 2). Then ask yourself how it relates to your $R_\beta$:
# the check tests that relation.

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
def R_full(W, beta=1e-4):
    # W: (out, in) or (out, in, k, k) -> a scalar tensor
    ### BEGIN SOLUTION
    w = W.flatten(1)                                         # (out, fan_in)
    eye = torch.eye(len(w), device=W.device)
    return beta * (w @ w.t() - eye).square().sum()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
rot = torch.tensor([[0.6, -0.8], [0.8, 0.6]])
W_c = torch.randn(4, 3, 3, 3, generator=torch.Generator().manual_seed(2))   # (out, in, k, k)
check_that(R_full(rot).item() < 1e-10 and R_full(torch.eye(3)).item() < 1e-10, "orthonormal rows cost nothing",
           hint="W W^T of orthonormal rows is the identity.")
check_that(R_full(2 * rot).item() > 0 and R_full(W_c).dim() == 0, "row norms are constrained, unlike R_beta",
           hint="Compare W W^T with the identity everywhere, the diagonal included.")
check_that(R_full(W_c, 1.0) >= R_beta(W_c, 1.0), "R_full is at least R_beta",
           hint="Split ||W W^T - I||^2 into its off-diagonal and its diagonal entries.");
### BEGIN HIDDEN TESTS
def _r_full_reference(W, beta):
    w = W.flatten(1).double()
    return beta * ((w @ w.t() - torch.eye(len(w), dtype=torch.float64)) ** 2).sum()

for W_t, b_t in ((W_c, 0.1), (torch.tensor([[1.0, 1.0], [0.0, 1.0]]), 1.0), (torch.randn(6, 5, generator=torch.Generator().manual_seed(3)), 1e-2)):
    check(R_full(W_t, b_t), _r_full_reference(W_t, b_t), "R_full on fixed inputs", atol=1e-5,
          hint="beta times the squared Frobenius norm of W W^T minus the identity.")
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5 (open).** Train again without the orthogonal regulariser (`ortho_beta=0`), and once with
# `bg.Generator(hier=False)` (no skip-z), at the same number of steps, and draw the truncation curve of each beside
# the one above. Does the regulariser make $G$ more amenable to truncation at this scale, as the paper reports for
# ImageNet? How many seeds would you need before trusting a difference?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex5_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer trains the two variants with the same steps, batch and seeds as the committed
# run and draws each truncation curve with the standing statistics of each threshold (1 point: without them every
# curve washes out, as the orange curve above shows). It compares like with like: IS, class accuracy, FID and
# within-class MS-SSIM at the same $\tau$ (committed run: IS 2.36 → 2.65, FID 2.2 → 17, MS-SSIM 0.099 → 0.20 from
# no truncation to $\tau = 0.5$) (2 points). It weighs the noise: a second training run moved FID at no truncation
# from 2.2 to 4.6 and at $\tau = 0.25$ from 24 to 96, while three draws of samples move it by 0.1-0.3, so it
# asks for at least 3 training seeds per variant and calls a gap smaller than their spread inconclusive (2 points).

# %% [markdown]
# ## References
#
# * A. Brock, J. Donahue, K. Simonyan. *Large Scale GAN Training for High Fidelity Natural Image Synthesis.* ICLR
#   2019. Code by the first author: `ajbrock/BigGAN-PyTorch` (our layouts and flags follow it).
# * T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida. *Spectral Normalization for Generative Adversarial Networks.*
#   ICLR 2018. T. Miyato, M. Koyama. *cGANs with Projection Discriminator.* ICLR 2018.
# * H. Zhang, I. Goodfellow, D. Metaxas, A. Odena. *Self-Attention Generative Adversarial Networks.* ICML 2019.
# * PyTorch: *Getting Started with Distributed Data Parallel* and the `torchrun` documentation.
