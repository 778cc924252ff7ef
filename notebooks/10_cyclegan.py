# %% [markdown]
# # 10 · CycleGAN: unpaired image-to-image translation
#
# **Paper:** Jun-Yan Zhu, Taesung Park, Phillip Isola, Alexei A. Efros. *Unpaired Image-to-Image Translation using
# Cycle-Consistent Adversarial Networks.* ICCV 2017. [arXiv:1703.10593](https://arxiv.org/abs/1703.10593)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/10_cyclegan.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: 32 px, tiny networks, a few dozen steps, same code | ≈ 10 s (measured) | ≈ 30 s (estimate) |
# | `default` | 64 px, 6 residual blocks, width 16: CycleGAN for 4,000 steps, the same without the cycle loss for 2,000, then both again from a second seed for 2,000 | ≈ 14–19 min (measured: 19 min for these outputs on a slow machine, of which 6.8 + 3.5 + 2 × 3.6 min of training) | ≈ 8 min (estimate) |
# | `full` | the paper's networks: 256 px, 9 residual blocks, width 64, 20,000 steps | hours | ≈ 4 h on a T4 (estimate, counted FLOPs) |
#
# The outputs you see come from a `default` run on real data: 37 Cityscapes street scenes with their label maps
# (8 with ground-truth labels, 30 consecutive video frames with predicted labels, one frame in both).

# %% [markdown]
# ## What you will learn
#
# * how to translate between two image domains **without a single aligned pair**: two generators
#   $G: X \to Y$ and $F: Y \to X$, two discriminators $D_Y$ and $D_X$;
# * the **cycle-consistency loss** $\lVert F(G(x)) - x \rVert_1$ that ties the two together ($\lambda_\text{cyc} = 10$),
#   and the **identity loss**;
# * the least-squares GAN loss, the **image pool** of 50 past fakes, the **linear learning-rate decay**, and the
#   ResNet-block generator;
# * what goes wrong **without** the cycle loss, measured: reconstruction error and a segmentation score (the
#   paper's FCN-score) on held-out street scenes.
#
# **What changes from notebook 09.** pix2pix learns label map → photo from aligned pairs $(x, y)$ and can compare
# $G(x)$ with the true $y$ (its L1 term). CycleGAN never sees a pair: its label maps and its photos come from
# different street scenes. The L1 term against the target is gone; in its place, the translation must be undoable.

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
import matplotlib.pyplot as plt
import torch
from torch import nn

import gan_utils
from gan_utils import losses
from gan_utils.train.checkpoints import rng_state, set_rng_state
from gan_utils.data.cityscapes import load_cityscapes
from gan_utils.data.facades import load_facades
from gan_utils.data.pairs import ids_from_colors
from gan_utils.teaching import check, check_that
from gan_utils.metrics.segmentation import fit_segmenter, segment, segmentation_scores
from gan_utils.models import cyclegan
from gan_utils.models.cyclegan import ImagePool, linear_decay
from gan_utils.nn import weights_init
from gan_utils.nn.translation import PatchDiscriminator, ResnetBlock, ResnetGenerator, receptive_field
from gan_utils.train.trainer import Trainer, assert_same_step
from gan_utils.display.viz import plot_losses, show_grid
from gan_utils.display.widgets import interact

# %% [markdown]
# Sizes per mode. The paper trains at 256 px with 9 residual blocks and width `ngf = ndf = 64`; on a CPU we
# train at 64 px with 6 blocks (the paper's choice for 128 px) and width 16. `n_layers_D` sets the PatchGAN's
# receptive field: 3 layers see 70×70 pixels (the paper's D, about a quarter of a 256 px image), 2 layers see
# 34×34 (about half of our 64 px image). `steps` counts updates at batch 1; the learning rate is constant for the
# first half and decays linearly to 0 over the second. `steps_ablation` is the run without the cycle loss.

# %%
SIZES = {  # paper: 256 px, 9 blocks, ngf = ndf = 64, 70x70 PatchGAN, batch 1, 100 + 100 epochs
    "fast":    dict(size=32, ngf=8, n_blocks=2, n_layers_D=2, steps=40, steps_ablation=20, eval_every=10,
                    sample_every=20, seg_steps=30, n_synthetic=48, n_seeds=2),
    "default": dict(size=64, ngf=16, n_blocks=6, n_layers_D=2, steps=4_000, steps_ablation=2_000, eval_every=100,
                    sample_every=500, seg_steps=600, n_synthetic=400, n_seeds=2),
    "full":    dict(size=256, ngf=64, n_blocks=9, n_layers_D=3, steps=20_000, steps_ablation=10_000,
                    eval_every=500, sample_every=2_000, seg_steps=3_000, n_synthetic=400, n_seeds=1),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="10_cyclegan")
device = cfg.device

# %% [markdown]
# The paper's hyperparameters, under the names of its code:

# %%
lambda_cyc = 10.0     # paper: 10 (lambda_A = lambda_B)
lambda_idt = 0.5      # code default: identity weight 0.5 * lambda_cyc (the paper: 0.5 lambda, section 5.2)
lambda_identity = lambda_idt * lambda_cyc  # = 5: the identity term's weight itself, kept in the ablation below
pool_size = 50        # paper: 50 past fakes per discriminator
lr, beta1 = 2e-4, 0.5  # paper: Adam, lr 0.0002; code: beta1 0.5
batch = 1             # paper: 1

# %% [markdown]
# ## The idea
#
# Two domains, $X$ (here: colour-coded label maps) and $Y$ (street photos), and **no pairs**. A GAN alone can
# teach $G: X \to Y$ to produce photo-like images, but nothing in the adversarial loss says *which* photo: any
# map from $X$ onto the photo distribution fools $D_Y$ equally well, including one that ignores its input. CycleGAN adds
# the inverse map $F: Y \to X$ and asks that going there and back returns the start:
#
# $$x \to G(x) \to F(G(x)) \approx x, \qquad y \to F(y) \to G(F(y)) \approx y.$$
#
# **Adversarial losses**, in the least-squares form (LSGAN, Mao et al. 2017), which the paper uses because it
# trains more stably than the log loss. $D_Y$ outputs a score per patch, with no sigmoid:
#
# $$\mathcal L_\text{GAN}(G, D_Y) : \quad D_Y \text{ minimises } \mathbb E_y[(D_Y(y) - 1)^2] + \mathbb E_x[D_Y(G(x))^2],
# \qquad G \text{ minimises } \mathbb E_x[(D_Y(G(x)) - 1)^2],$$
#
# and the same for $F$ and $D_X$. **Cycle-consistency loss**, an L1 distance in both directions:
#
# $$\mathcal L_\text{cyc}(G, F) = \mathbb E_x \lVert F(G(x)) - x \rVert_1 + \mathbb E_y \lVert G(F(y)) - y \rVert_1.$$
#
# **Identity loss** (§5.2): a generator fed an image that is already in its output domain should leave it alone,
# $\mathcal L_\text{identity} = \mathbb E_y \lVert G(y) - y \rVert_1 + \mathbb E_x \lVert F(x) - x \rVert_1$. The
# paper introduced it to keep the colours of paintings translated to photos; the reference code uses it by
# default with weight $0.5\lambda$, and so do we. The **full objective**:
#
# $$\mathcal L = \mathcal L_\text{GAN}(G, D_Y) + \mathcal L_\text{GAN}(F, D_X) + \lambda\, \mathcal L_\text{cyc}(G, F)
# + 0.5\lambda\, \mathcal L_\text{identity}, \qquad \lambda = 10.$$
#
# ```
#            G                F                                    F                G
#  x (map) ─────► G(x) ─────► F(G(x)) ≈ x          y (photo) ─────► F(y) ─────► G(F(y)) ≈ y
#                  │                                                  │
#                 D_Y: real photo or G(x)?                          D_X: real map or F(y)?
# ```

# %% [markdown]
# ## Data
#
# The real Cityscapes pairs (label map, photo), resized to the mode's size: photos bicubic, label maps
# nearest-neighbour. The 34 Cityscapes labels are collapsed to 9 classes, drawn in the official colours. We hold
# out a test block and never train on it, then take CycleGAN's **unpaired view** of the training pairs: the label
# maps of one half of them form domain $X$, the photos of the **other** half form domain $Y$. No training photo
# has its own label map in $X$.
#
# Online, `DATA = "facades"` trains on the CMP facades of notebook 09 instead (400 training and 106 test pairs);
# the course has not run that here (its machines are offline), so the prose describes the Cityscapes outputs only.

# %%
DATA = "cityscapes"  # or "facades"
if DATA == "facades":
    pairs = train_pairs = load_facades(**cfg.data_kwargs, size=cfg.size)
    test_pairs = load_facades(**cfg.data_kwargs, size=cfg.size, split="test")
else:
    pairs = load_cityscapes(**cfg.data_kwargs, size=cfg.size)
    train_pairs, test_pairs = pairs.split(n_holdout_frames=6, n_holdout_stills=2, gap=8)
data = train_pairs.unpaired(seed=cfg.seed)  # X: colour label maps, Y: photos, from disjoint pairs
print(f"{len(train_pairs)} training pairs, {len(test_pairs)} held out; classes: {', '.join(pairs.classes)}")
print(f"unpaired: {data.size_line()}")

# %% [markdown]
# The two training domains, and the held-out pairs we will translate and score:

# %%
x_train, y_train = data.to_float()  # (Nx, 3, S, S), (Ny, 3, S, S) in [-1, 1]
x_test = test_pairs.colour_maps().float() / 127.5 - 1  # (Nt, 3, S, S): label maps, coloured
y_test = test_pairs.B.float() / 127.5 - 1  # (Nt, 3, S, S): their photos
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
show_grid(x_train[:12], nrow=4, ax=axes[0], title=f"domain X: {len(x_train)} label maps")
show_grid(y_train[:12], nrow=4, ax=axes[1], title=f"domain Y: {len(y_train)} photos (other scenes)")
show_grid(torch.cat([x_test, y_test]), nrow=len(x_test), ax=axes[2], title="held out: maps over their photos")
plt.show()


# %% [markdown]
# **How much data this really is.** About ten images per domain. Most of them are consecutive frames of one
# 30-frame video snippet of one street, so neighbouring frames are near-duplicates: the maps in $X$ and the photos
# in $Y$ come from different frames, but a map from frame $t$ and a photo from frame $t+1$ show nearly the same
# scene. The unpaired setting is therefore easier here than in the paper (2,975 distinct scenes). Six of the 8
# held-out pairs are the last frames of the same snippet, with **8 frames dropped** before them: the nearest
# training frame is 9 to 14 frames away, and at 9 frames apart two photos of this clip differ by about 0.21 per
# pixel (in $[-1, 1]$ units), nearly as much as two photos of different streets (0.24; notebook 09 measures
# this). The other 2 held-out pairs are stills from other streets. Random horizontal flips are our only
# augmentation (the paper also crops 256 px from 286 px).

# %% [markdown]
# ## Building blocks
#
# **The residual block.** CycleGAN's generator follows Johnson et al. (2016): it encodes the image to a quarter of
# its size, transforms it with a stack of residual blocks, and decodes it back. Each block adds a correction to
# its input, $x + f(x)$, where $f$ is two 3×3 convolutions with instance norm, ReLU between them, and reflection
# padding (which avoids the dark borders of zero padding). The shape must not change, so that the sum is defined:

# %%
class ResBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels))

    def forward(self, x):
        return x + self.block(x)  # the skip: the block learns a correction to x


h = torch.randn(2, 64, 16, 16)  # (B, C, H, W)
print("ResBlock:", tuple(h.shape), "->", tuple(ResBlock(64)(h).shape))  # (2, 64, 16, 16)

# %% [markdown]
# The block is promoted to `gan_utils.nn.translation.ResnetBlock` (which adds a choice of norm and optional
# dropout). With the same weights, it computes the same thing:

# %%
block, block_lib = ResBlock(64), ResnetBlock(64, norm="instance")
block_lib.load_state_dict(block.state_dict())
assert torch.allclose(block(h), block_lib(h), atol=1e-6)
print("gan_utils.nn.translation.ResnetBlock matches")


# %% [markdown]
# **The generator**, `ResnetGenerator`, in the appendix's notation (for 256 px: `c7s1-64, d128, d256, R256 ×9,
# u128, u64, c7s1-3`): a 7×7 convolution, two stride-2 convolutions down, the residual blocks, two stride-2
# transposed convolutions up, a 7×7 convolution to 3 channels and a Tanh. Widths scale with `ngf`. The
# **discriminator** is notebook 09's PatchGAN, here with instance norm: one score per overlapping patch, so it
# judges texture and local structure, and works on any image size. Both use the $\mathcal N(0, 0.02)$
# initialisation. We need four networks:

# %%
def make_networks():
    G = ResnetGenerator(3, 3, ngf=cfg.ngf, n_blocks=cfg.n_blocks).to(device)  # X -> Y: map -> photo
    F = ResnetGenerator(3, 3, ngf=cfg.ngf, n_blocks=cfg.n_blocks).to(device)  # Y -> X: photo -> map
    D_Y = PatchDiscriminator(3, cfg.ngf, cfg.n_layers_D, norm="instance").to(device)  # real photo vs G(x)?
    D_X = PatchDiscriminator(3, cfg.ngf, cfg.n_layers_D, norm="instance").to(device)  # real map vs F(y)?
    for net in (G, F, D_Y, D_X):
        net.apply(weights_init)
    return G, F, D_Y, D_X


torch.manual_seed(cfg.seed)
G, F, D_Y, D_X = make_networks()
n_params = lambda m: sum(p.numel() for p in m.parameters())
print(f"G: {tuple(x_train[:1].shape)} -> {tuple(G(x_train[:1].to(device)).shape)}, {n_params(G) / 1e6:.2f}M parameters")
print(f"D_Y: {tuple(D_Y(y_train[:1].to(device)).shape)} patch scores, {n_params(D_Y) / 1e6:.2f}M parameters, "
      f"each patch sees {receptive_field(D_Y)}x{receptive_field(D_Y)} pixels")
print(f"residual blocks in G: {sum(isinstance(m, ResnetBlock) for m in G.modules())}")


# %% [markdown]
# ## Losses
#
# Each loss as a small function, checked on values you can compute by hand. LSGAN for $D$: real patches should
# score 1, fake ones 0; for $G$: fakes should score 1. (The reference code halves $D$'s loss, which slows $D$ down
# relative to $G$; we do that in the training step.)
#
# **Exercise 1 (build).** Write the two least-squares losses just described, on raw scores (no sigmoid):
# `d_loss_lsgan`, the mean squared distance of the real scores from 1 plus that of the fake scores from 0, not
# halved; and `g_loss_lsgan`, the mean squared distance of the fake scores from 1. Each mean runs over every patch
# score of every image. The training step below calls both.

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def d_loss_lsgan(d_real, d_fake):
    # d_real, d_fake: (B, 1, h, w) patch scores -> a scalar
    ### BEGIN SOLUTION
    return (d_real - 1).square().mean() + d_fake.square().mean()
    ### END SOLUTION

def g_loss_lsgan(d_fake):
    # d_fake: (B, 1, h, w) patch scores -> a scalar
    ### BEGIN SOLUTION
    return (d_fake - 1).square().mean()
    ### END SOLUTION


# %% [markdown]
# The values worked by hand, then more checks:

# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
d_real, d_fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 1.0])
print(f"D: {d_loss_lsgan(d_real, d_fake):.3f} (by hand: (0 + 0.25)/2 + (0 + 1)/2 = 0.625)")
print(f"G: {g_loss_lsgan(d_fake):.3f} (by hand: (1 + 0)/2 = 0.5)")
check_that(abs(d_loss_lsgan(d_real, d_fake).item() - 0.625) < 1e-6 and abs(g_loss_lsgan(d_fake).item() - 0.5) < 1e-6,
           "LSGAN: the values worked by hand", hint="Real scores are pulled to 1 and fake ones to 0 for D; fakes to 1 for G.")
ones, zeros = torch.ones(2, 1, 3, 3), torch.zeros(2, 1, 3, 3)
check_that(d_loss_lsgan(ones, zeros).item() == 0 and g_loss_lsgan(ones).item() == 0 and d_loss_lsgan(zeros, ones).item() == 2,
           "LSGAN: 0 at the targets, 2 for D when real and fake are swapped", hint="Two means of squares, one per term, summed.");
### BEGIN HIDDEN TESTS
g_ex = torch.Generator().manual_seed(1)
d_r, d_f = torch.randn(2, 1, 6, 6, generator=g_ex), torch.randn(2, 1, 6, 6, generator=g_ex)
check(torch.stack([d_loss_lsgan(d_r, d_f), g_loss_lsgan(d_f)]),
      torch.stack([(d_r - 1).pow(2).mean() + d_f.pow(2).mean(), (d_f - 1).pow(2).mean()]), "LSGAN: fixed scores",
      hint="Means over every patch score, not sums; D's loss is not halved here.");
### END HIDDEN TESTS

# %% [markdown]
# The cycle loss is an L1 distance between an image and its reconstruction; the identity loss is the same
# distance between an image and what the generator makes of it. Both are mean absolute differences per pixel.
#
# **Exercise 2 (build).** Write `cycle_loss(x, x_rec)`, one half of $\mathcal L_\text{cyc}$ in "The idea" (an
# image against its reconstruction), and `identity_loss(y, y_idt)`, one half of the identity term (an image against
# what its own domain's generator makes of it). The training step and the evaluation below call both.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cycle_loss(x, x_rec):
    # x, x_rec: (B, 3, H, W) -> a scalar
    ### BEGIN SOLUTION
    return (x_rec - x).abs().mean()
    ### END SOLUTION

def identity_loss(y, y_idt):
    # y, y_idt: (B, 3, H, W) -> a scalar
    ### BEGIN SOLUTION
    return (y_idt - y).abs().mean()
    ### END SOLUTION


# %% [markdown]
# The value worked by hand, then more checks. These two and the LSGAN losses are promoted to the course's library;
# the hidden tests compare yours with its versions on fixed inputs.

# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
x_, x_rec_ = torch.tensor([[0.0, 1.0], [-1.0, 0.5]]), torch.tensor([[0.5, 1.0], [-1.0, -0.5]])
print(f"cycle: {cycle_loss(x_, x_rec_):.3f} (by hand: (0.5 + 0 + 0 + 1)/4 = 0.375)")
check_that(abs(cycle_loss(x_, x_rec_).item() - 0.375) < 1e-6, "cycle loss: the value worked by hand",
           hint="The mean of the absolute differences, over every entry.")
g_ex = torch.Generator().manual_seed(2)
a, b = torch.randn(4, 3, 6, 6, generator=g_ex), torch.randn(4, 3, 6, 6, generator=g_ex)   # (4, 3, 6, 6)
check_that(cycle_loss(a, a).item() == 0 and torch.isclose(identity_loss(a, b), identity_loss(b, a))
           and torch.isclose(identity_loss(a, a + 0.2), torch.tensor(0.2)) and torch.isclose(cycle_loss(a, a - 0.2), torch.tensor(0.2)),
           "cycle and identity loss: 0 for a perfect copy, symmetric, 0.2 for a copy off by 0.2",
           hint="An L1 distance per entry: absolute value, not square; mean, not sum.");
### BEGIN HIDDEN TESTS
assert torch.allclose(d_loss_lsgan(a, b), losses.d_loss_lsgan(a, b))
assert torch.allclose(g_loss_lsgan(a), losses.g_loss_lsgan(a))
assert torch.allclose(cycle_loss(a, b), losses.cycle_loss(a, b))
assert torch.allclose(identity_loss(a, b), losses.identity_loss(a, b))
check(torch.stack([cycle_loss(a, b), identity_loss(b, a)]), torch.stack([(a - b).abs().mean(), (a - b).abs().mean()]),
      "cycle and identity loss: fixed images", hint="Mean absolute difference over every pixel and channel.");
### END HIDDEN TESTS

# %% [markdown]
# ## The image pool
#
# $D$ is trained not only on the newest fakes but on a **history** of 50 past fakes (Shrivastava et al. 2017), so
# that it does not forget what $G$ produced a few hundred steps ago and $G$ cannot escape by oscillating between
# modes. The query rule, per image: while the pool has room, store the new fake and return it. Once it is full,
# with probability ½ return the new fake; otherwise return a random stored fake and put the new one in its place.
# `ImagePool` keeps its own seeded random generator and a `state_dict`, so a resumed run draws the same. A
# demonstration with "images" that are just their step numbers:

# %%
pool = ImagePool(pool_size=5, seed=0)
returned = [int(pool.query(torch.full((1, 1), float(t)))) for t in range(200)]  # one "fake" per step
old = sum(r != t for t, r in enumerate(returned))
print("first 12 returned:", returned[:12])
print(f"after the pool filled, {old} of {200 - 5} queries returned an older fake ({old / 195:.0%}; expected 50%)")

# %% [markdown]
# ## The learning-rate schedule
#
# The paper keeps the learning rate at 0.0002 for 100 epochs and then decays it linearly to 0 over the next 100.
# `linear_decay` builds that schedule as a `LambdaLR`; we step it once per training step instead of once per
# epoch, over our `steps`:

# %%
opt_demo = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=lr)
sched_demo = linear_decay(opt_demo, n_constant=cfg.steps // 2, n_decay=cfg.steps - cfg.steps // 2)
lrs = []
for _ in range(cfg.steps):
    lrs.append(opt_demo.param_groups[0]["lr"])
    opt_demo.step(); sched_demo.step()
plt.figure(figsize=(6, 2.5)); plt.plot(range(1, cfg.steps + 1), lrs)
plt.xlabel("step"); plt.ylabel("learning rate"); plt.title("constant, then linear decay to 0"); plt.grid(alpha=0.3)
plt.show()


# %% [markdown]
# ## Training
#
# The article's training scheme, per step (batch 1, as in the paper):
#
# 1. Draw one label map $x$ from $X$ and one photo $y$ from $Y$, independently (flip each at random).
# 2. Translate both ways: $G(x)$ (a fake photo) and $F(y)$ (a fake map).
# 3. **Update $G$ and $F$ together**, with one Adam optimiser, on
#    $\mathcal L_\text{GAN}(G, D_Y) + \mathcal L_\text{GAN}(F, D_X) + \lambda\,\mathcal L_\text{cyc} + 0.5\lambda\,\mathcal L_\text{identity}$:
#    fool both discriminators, reconstruct $x$ from $G(x)$ and $y$ from $F(y)$, and leave in-domain images alone.
# 4. Put $G(x)$ into $D_Y$'s pool and $F(y)$ into $D_X$'s pool; each returns a fake, new or old.
# 5. **Update $D_Y$ and $D_X$** on real images against the pooled fakes, each loss halved.
# 6. Step both learning-rate schedules.
#
# Setting `lambda_cyc = 0` switches off the cycle loss; the identity term keeps its own weight `lambda_identity`
# ($0.5\lambda = 5$), so that the ablation below differs from CycleGAN by the cycle term alone. (The reference
# code scales the identity weight by $\lambda$, so its "GAN alone" also loses the identity term.)
# `make_cyclegan` builds everything one run needs; the
# pools and schedules go to the `Trainer` as `stateful`, so that its checkpoints hold them and a resumed run
# continues with the same pool contents and learning rate.

# %%
def make_cyclegan(name, lambda_cyc, seed=cfg.seed):
    torch.manual_seed(seed)
    G, F, D_Y, D_X = make_networks()
    opt_G = torch.optim.Adam([*G.parameters(), *F.parameters()], lr=lr, betas=(beta1, 0.999))
    opt_D = torch.optim.Adam([*D_Y.parameters(), *D_X.parameters()], lr=lr, betas=(beta1, 0.999))
    n_constant = cfg.steps // 2  # both runs share the main run's schedule, so they agree step for step
    sched_G = linear_decay(opt_G, n_constant, cfg.steps - n_constant)
    sched_D = linear_decay(opt_D, n_constant, cfg.steps - n_constant)
    pool_X, pool_Y = ImagePool(pool_size, seed=seed), ImagePool(pool_size, seed=seed + 1)
    g_data = torch.Generator().manual_seed(seed)
    step = make_step(G, F, D_Y, D_X, opt_G, opt_D, sched_G, sched_D, pool_X, pool_Y, g_data, lambda_cyc)
    trainer = Trainer({"G": G, "F": F, "D_Y": D_Y, "D_X": D_X}, {"G": opt_G, "D": opt_D}, step,
                      ckpt_dir=cfg.ckpt_dir / name, ckpt_every=1_000, generators={"data": g_data},
                      stateful={"pool_X": pool_X, "pool_Y": pool_Y, "sched_G": sched_G, "sched_D": sched_D},
                      sample_fn=lambda: torch.cat([G(x_show), F(y_show)]), sample_every=cfg.sample_every,
                      extra_state={"eval": []}, hooks=[evaluate_every(G, F)])
    return G, F, trainer


# %% [markdown]
# **Exercise 3 (build).** Write `generator_losses`, steps 2 and 3 of the scheme above: the two translations
# `y_fake` $= G(x)$ and `x_fake` $= F(y)$, then, with your functions from Exercises 1 and 2, `loss_gan` (both
# generators against their discriminators), `loss_cyc` (both cycles, $x \to G \to F$ and $y \to F \to G$),
# `loss_idt` ($G$ on a photo, $F$ on a map) and their weighted sum `loss_G`, with the weights `lambda_cyc` and
# `lambda_identity` of step 3. The training step below calls it; the updates, the pools and $D$'s loss are written
# there.

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def generator_losses(G, F, D_Y, D_X, x, y, lambda_cyc, lambda_identity):
    # x: (B, 3, S, S) label maps, y: (B, 3, S, S) photos, unpaired
    # returns y_fake (B, 3, S, S), x_fake (B, 3, S, S), then loss_G, loss_gan, loss_cyc, loss_idt (scalars)
    ### BEGIN SOLUTION
    y_fake, x_fake = G(x), F(y)
    loss_gan = g_loss_lsgan(D_Y(y_fake)) + g_loss_lsgan(D_X(x_fake))
    loss_cyc = cycle_loss(x, F(y_fake)) + cycle_loss(y, G(x_fake))
    loss_idt = identity_loss(y, G(y)) + identity_loss(x, F(x))
    loss_G = loss_gan + lambda_cyc * loss_cyc + lambda_identity * loss_idt
    ### END SOLUTION
    return y_fake, x_fake, loss_G, loss_gan, loss_cyc, loss_idt


# %% [markdown]
# The check uses toy "networks", plain functions whose losses you can work out: a $D$ that scores every patch 1
# (so both GAN terms are 0), and a $G$ and $F$ that shift every pixel by $+0.5$ and $-0.5$, so that each undoes
# the other.

# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
x_toy, y_toy = torch.linspace(-1, 1, 12).view(1, 3, 2, 2), torch.linspace(1, -1, 12).view(1, 3, 2, 2)
D_one = lambda t: torch.ones(len(t), 1, 1, 1)                            # noqa: E731  "real" for every input
G_up, F_down = (lambda t: t + 0.5), (lambda t: t - 0.5)                  # noqa: E731  inverse shifts
out_toy = generator_losses(G_up, F_down, D_one, D_one, x_toy, y_toy, 10.0, 5.0)
y_f, x_f, l_G, l_gan, l_cyc, l_idt = (None,) * 6 if out_toy is None else out_toy
check_that(None if out_toy is None else torch.allclose(y_f, x_toy + 0.5) and torch.allclose(x_f, y_toy - 0.5),
           "generator_losses: y_fake = G(x), x_fake = F(y)")
check_that(None if out_toy is None else l_gan.item() == 0 and abs(l_cyc.item()) < 1e-6 and abs(l_idt.item() - 1) < 1e-6
           and abs(l_G.item() - 5) < 1e-5, "generator_losses: inverse generators and a fooled D",
           hint="Each cycle returns to its input here; each identity term is off by 0.5 per pixel, in two directions.");
### BEGIN HIDDEN TESTS
rng = rng_state()
torch.manual_seed(0)
nets_ex = [ResnetGenerator(3, 3, ngf=4, n_blocks=1), ResnetGenerator(3, 3, ngf=4, n_blocks=1),
           PatchDiscriminator(3, 4, 2, norm="instance"), PatchDiscriminator(3, 4, 2, norm="instance")]
G_ex, F_ex, DY_ex, DX_ex = nets_ex
x_ex, y_ex = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
ref_gan = losses.g_loss_lsgan(DY_ex(G_ex(x_ex))) + losses.g_loss_lsgan(DX_ex(F_ex(y_ex)))
ref_cyc = losses.cycle_loss(x_ex, F_ex(G_ex(x_ex))) + losses.cycle_loss(y_ex, G_ex(F_ex(y_ex)))
ref_idt = losses.identity_loss(y_ex, G_ex(y_ex)) + losses.identity_loss(x_ex, F_ex(x_ex))
for lc, li in ((10.0, 5.0), (0.0, 5.0), (3.0, 0.0)):
    got_ex = generator_losses(G_ex, F_ex, DY_ex, DX_ex, x_ex, y_ex, lc, li)
    check(torch.stack([v.detach() for v in got_ex[2:]]),
          torch.stack([ref_gan + lc * ref_cyc + li * ref_idt, ref_gan, ref_cyc, ref_idt]).detach(),
          f"generator_losses: small networks, lambda_cyc {lc}, lambda_identity {li}",
          hint="Step 3: both GAN terms, both cycles, both identity terms, each pair weighted by its lambda.")
set_rng_state(rng)
### END HIDDEN TESTS

# %% [markdown]
# The step itself, steps 1 to 6 above, with your `generator_losses` for steps 2 and 3. It returns the losses that
# the Trainer plots; `cycle` is logged even when its weight is 0, so both runs show how well they reconstruct their
# training images.

# %%
def flip(img, g):
    return img.flip(-1) if torch.rand((), generator=g) < 0.5 else img

def make_step(G, F, D_Y, D_X, opt_G, opt_D, sched_G, sched_D, pool_X, pool_Y, g_data, lambda_cyc,
              lambda_identity=lambda_identity):
    def step(i):
        x, y = data.batch(batch, generator=g_data)                       # 1. (1, 3, S, S) each, unpaired
        x, y = flip(x, g_data), flip(y, g_data)
        y_fake, x_fake, loss_G, loss_gan, loss_cyc, loss_idt = generator_losses(  # 2. and 3.
            G, F, D_Y, D_X, x, y, lambda_cyc, lambda_identity)
        opt_G.zero_grad(set_to_none=True); loss_G.backward(); opt_G.step()
        y_old, x_old = pool_Y.query(y_fake), pool_X.query(x_fake)         # 4. new or past fakes, detached
        loss_D = 0.5 * (d_loss_lsgan(D_Y(y), D_Y(y_old)) + d_loss_lsgan(D_X(x), D_X(x_old)))  # 5.
        opt_D.zero_grad(set_to_none=True); loss_D.backward(); opt_D.step()  # (also clears D's grads from 3.)
        sched_G.step(); sched_D.step()                                    # 6.
        return {"G_gan": loss_gan.item(), "cycle": loss_cyc.item(), "identity": loss_idt.item(), "D": loss_D.item()}
    return step


# %% [markdown]
# The promotion check of the step: it is `gan_utils.models.cyclegan.train_step` (networks, optimisers, pools, the
# batch $x, y$, then $\lambda$, the identity weight and the schedules). Two identical set-ups take one step each on
# the same batch and flips, one through `make_step` and one through the library's; they must log the same losses
# and leave the same weights. The check leaves the notebook's random state as it found it.

# %%
def check_setup():
    torch.manual_seed(cfg.seed)
    nets = make_networks()                                                # G, F, D_Y, D_X
    opts = [torch.optim.Adam([*a.parameters(), *b.parameters()], lr=lr, betas=(beta1, 0.999))
            for a, b in (nets[:2], nets[2:])]                            # opt_G, opt_D
    scheds = [linear_decay(o, 1, 1) for o in opts]
    pools = [ImagePool(pool_size, seed=cfg.seed), ImagePool(pool_size, seed=cfg.seed + 1)]  # pool_X, pool_Y
    return nets, opts, scheds, pools, torch.Generator().manual_seed(cfg.seed)

def check_step():
    rng = rng_state()
    (nets, opts, scheds, pools, g), (nets_lib, opts_lib, scheds_lib, pools_lib, g_lib) = check_setup(), check_setup()
    losses_ = make_step(*nets, *opts, *scheds, *pools, g, lambda_cyc)(0)  # the step above draws its batch
    x, y = data.batch(batch, generator=g_lib)                             # the same batch and flips
    x, y = flip(x, g_lib), flip(y, g_lib)
    losses_lib = cyclegan.train_step(*nets_lib, *opts_lib, *pools_lib, x, y, lambda_cyc, lambda_idt,
                                     schedulers=scheds_lib)
    assert_same_step(losses_, losses_lib, nets, nets_lib)
    set_rng_state(rng)

check_step()

# %% [markdown]
# **Watching the cycle on held-out scenes.** Every `eval_every` steps a hook translates the held-out maps and
# photos and records two numbers per direction: the **reconstruction error**, the mean L1 distance between
# $F(G(x))$ and $x$ (and between $G(F(y))$ and $y$), in the $[-1, 1]$ pixel range, and the **FCN-score** of the
# translations (next section). The records go into the Trainer's `extra_state`, which its checkpoints keep.

# %%
x_show, y_show = x_test[:4].to(device), y_test[:4].to(device)  # the fixed images of the live snapshots

def evaluate_every(G, F):
    @torch.no_grad()
    def hook(trainer, step, _losses):
        if step % cfg.eval_every == 0 or step == 1:
            trainer.extra_state["eval"].append({"step": step, **evaluate(G, F)})
    return hook


# %% [markdown]
# ## A score for translations: the FCN-score
#
# How good is a generated street photo? The paper (Table 2) borrows pix2pix's answer: run a segmentation network
# trained on **real** photos on the generated ones, and compare its labels with the label map the photo was
# generated from. If $G(x)$ shows a road where $x$ says road and a car where $x$ says car, the segmenter finds
# them. The same network on the real test photos gives the **ceiling**. The paper used FCN-8s trained on all of
# Cityscapes; we train `SegNet`, a small U-Net, on the 21 real training photos and their maps, at the 64 px we
# generate (void pixels are not scored). Generated photos are softer than real ones, so `fit_segmenter` (the
# instrument of notebooks 09-12) blurs and noises each training photo at random: the segmenter should read a photo
# by its layout, not by its sharpness. It is saved in the checkpoint folder and loaded on a rerun. This segmenter
# is a measuring instrument and sees the pairs, while the CycleGAN never does.
#
# For the other direction, photo → label map, $F(y)$ is a colour image; we read each pixel as the class of the
# nearest palette colour and score it against the true map, as the paper's Table 3 does.

# %%
K, void = pairs.label_nc, (pairs.classes.index("void") if "void" in pairs.classes else None)
segnet, seg_losses = fit_segmenter(train_pairs.B, train_pairs.A, K, cfg.ckpt_dir / "segmenter.pt", width=16,
                                   depth=3, steps=cfg.seg_steps, ignore_index=void, seed=cfg.seed, device=device)
labels_test = test_pairs.A[:, 0].cpu()  # (Nt, S, S) class ids

def fcn_score(photos):  # photos (N, 3, S, S) in [-1, 1] -> per-pixel acc, per-class acc, mean IoU
    return segmentation_scores(segment(segnet, photos), labels_test, K, ignore_index=void)

def map_score(maps):  # colour maps (N, 3, S, S) in [-1, 1] -> the same three scores
    ids, _ = ids_from_colors(((maps + 1) * 127.5).round().clamp(0, 255).to(torch.uint8), pairs.palette)
    return segmentation_scores(ids[:, 0].cpu(), labels_test, K, ignore_index=void)

ceiling = fcn_score(y_test)
print(f"SegNet loss {seg_losses[0]:.2f} -> {seg_losses[-1]:.2f} over {cfg.seg_steps} steps")
print("ceiling, real held-out photos: " + ", ".join(f"{k} {v:.2f}" for k, v in ceiling.items()))


# %% [markdown]
# `evaluate` computes what the hook records:

# %%
@torch.no_grad()
def evaluate(G, F):
    modes = G.training, F.training
    G.eval(); F.eval()                 # as at test time (instance norm without running statistics: no change here)
    x, y = x_test.to(device), y_test.to(device)
    y_fake, x_fake = G(x), F(y)  # label map -> photo, photo -> label map
    rec_x, rec_y = cycle_loss(x, F(y_fake)).item(), cycle_loss(y, G(x_fake)).item()
    G.train(modes[0]); F.train(modes[1])
    fcn = fcn_score(y_fake)
    return {"rec_x": rec_x, "rec_y": rec_y, "fcn_pixel": fcn["pixel_acc"], "fcn_iou": fcn["mean_iou"],
            "map_pixel": map_score(x_fake)["pixel_acc"]}


# %% [markdown]
# ### Train CycleGAN
#
# Run the cell again after an interruption and it resumes from the last checkpoint, pools and schedules included.
# The live figure's right panel ("samples") shows $G(x)$ for the first four held-out maps, then $F(y)$ for their
# four photos.

# %%
G, F, trainer = make_cyclegan("cyclegan", lambda_cyc=lambda_cyc)
hist = trainer.fit(cfg.steps, resume=True)
G.eval(); F.eval()                     # translate in eval mode from here on
print(f"CycleGAN: {trainer.step} steps in {trainer.seconds / 60:.1f} min, "
      f"final lr {trainer.optimizers['G'].param_groups[0]['lr']:.1e}, pools hold "
      f"{len(trainer.stateful['pool_X'])} and {len(trainer.stateful['pool_Y'])} fakes")

# %%
plot_losses(hist); plt.yscale("log"); plt.title("CycleGAN losses (training images)"); plt.show()


# %% [markdown]
# ## The cycle reconstruction
#
# The heart of the method, on the **held-out** scenes. Top: a label map $x$, the photo $G(x)$ that $G$ invents for
# it, and the map $F(G(x))$ that $F$ recovers from that photo. Bottom: a real photo $y$, the label map $F(y)$ that
# $F$ reads from it, and the photo $G(F(y))$ rebuilt from that map. Each column is one test scene.

# %%
@torch.no_grad()
def cycle_grid(G, F, title, n=8):
    x, y = x_test[:n].to(device), y_test[:n].to(device)
    rows = [x, G(x), F(G(x)), y, F(y), G(F(y))]
    names = ["x (map)", "G(x)", "F(G(x))", "y (photo)", "F(y)", "G(F(y))"]
    fig, axes = plt.subplots(6, 1, figsize=(1.3 * n, 8.6))
    for ax, r, name in zip(axes, rows, names):
        show_grid(r, nrow=n, ax=ax); ax.text(-0.01, 0.5, name, ha="right", va="center", transform=ax.transAxes)
    fig.suptitle(title); plt.show()

cycle_grid(G, F, f"CycleGAN, step {trainer.step}: held-out scenes")


# %% [markdown]
# **What the grid shows.** At 64 px and this budget, $G(x)$ is a dark, blurry street: road in the lower half where
# the map has road, darker masses of buildings and trees above, small objects (poles, cars) barely visible. Yet
# $F(G(x))$ brings the map back far more faithfully than $G(x)$ seems to contain it: the road's edges, the trees
# and the cars return in place. The other cycle does the same: $F(y)$ is a noisy map (in the committed run it paints
# much of the building as vegetation), and still $G(F(y))$ rebuilds the building's rows of windows. The cycle loss
# asks only that the information survive the round trip, not that it be visible: $G$ and $F$ can pass it through
# faint patterns that a person does not notice and $D$ does not penalise. Chu et al. (2017) showed that CycleGAN
# does exactly this; exercise 5 tests it here. The two stills from other streets (the last two columns) come back
# worse than the six frames of the training street.
#
# The reconstruction error on the held-out scenes over training, for both cycles:

# %%
def eval_curves(trainer):
    ev = trainer.extra_state["eval"]
    return {k: ([e["step"] for e in ev], [e[k] for e in ev]) for k in ev[0] if k != "step"}

curves = eval_curves(trainer)
plt.figure(figsize=(7, 3))
plt.plot(*curves["rec_x"], label="map:   |F(G(x)) - x|")
plt.plot(*curves["rec_y"], label="photo: |G(F(y)) - y|")
plt.xlabel("step"); plt.ylabel("mean L1 (pixels in [-1, 1])"); plt.yscale("log"); plt.grid(alpha=0.3)
plt.legend(); plt.title("reconstruction error, held-out scenes"); plt.show()

# %% [markdown]
# On the held-out scenes the reconstruction error falls steeply in the first few hundred steps and then stays
# roughly flat (in the committed run, about 0.16 for maps and 0.13 for photos at the end), while the cycle loss on
# the training images keeps falling (the loss plot above; it is the sum of both directions, so about half of it per
# direction at the end). From there on the networks get better at the training scenes, not at the held-out ones.
#
# ## Ablation: the same networks without the cycle loss
#
# Now `lambda_cyc = 0`: two GANs, $G$ with $D_Y$ and $F$ with $D_X$, each trained to produce images that its
# discriminator accepts, and each still asked by the identity term (weight `lambda_identity` = 5, as before) to
# leave an image of its own output domain unchanged. Only the cycle term differs. Everything else is unchanged:
# seeds, networks, pools, and the learning-rate schedule, which we run for `steps_ablation` steps, so that the
# comparison below is at the **same step** of the same schedule.

# %%
G_gan, F_gan, trainer_gan = make_cyclegan("gan_alone", lambda_cyc=0.0)
hist_gan = trainer_gan.fit(cfg.steps_ablation, resume=True)
G_gan.eval(); F_gan.eval()
print(f"GAN alone: {trainer_gan.step} steps in {trainer_gan.seconds / 60:.1f} min")

# %%
cycle_grid(G_gan, F_gan, f"GAN alone (no cycle loss), step {trainer_gan.step}: held-out scenes")

# %% [markdown]
# **What goes wrong.** Without the cycle loss, nothing asks that $x$ can be recovered from $G(x)$. In the
# committed run $G$ draws much the same dark street for every map, and $F(G(x))$ is a generic street map (road
# below, a band of trees and cars above) rather than $x$: compare the cars and the sidewalk of the two stills on the
# right with their maps in the top row. $F$ likewise draws much the same map for every photo. Each output looks
# like its domain to its discriminator, which is all that the GAN loss asks for.
#
# Measured, on the held-out scenes, over training: the two reconstruction errors and the two segmentation scores
# (label map → photo scored by the SegNet, photo → label map scored against the true maps).

# %%
curves_gan = eval_curves(trainer_gan)
titles = {"rec_x": "map cycle |F(G(x)) - x|", "rec_y": "photo cycle |G(F(y)) - y|",
          "fcn_pixel": "map -> photo: FCN pixel acc.", "map_pixel": "photo -> map: pixel acc."}
fig, axes = plt.subplots(1, 4, figsize=(17, 3.2))
for ax, (k, title) in zip(axes, titles.items()):
    ax.plot(*curves[k], label="CycleGAN"); ax.plot(*curves_gan[k], label="GAN alone")
    ax.set_title(title); ax.set_xlabel("step"); ax.grid(alpha=0.3)
axes[2].axhline(ceiling["pixel_acc"], color="gray", ls="--", label="real photos")
axes[0].legend(); axes[2].legend(); plt.tight_layout(); plt.show()


# %% [markdown]
# The numbers at the ablation's last step, where both runs have had the same steps, and at the end of the CycleGAN
# run:

# %%
def at_step(curves_, s):
    return {k: v[list(steps_).index(s)] for k, (steps_, v) in curves_.items()}

s_ab = trainer_gan.step
rows = [(f"CycleGAN, step {s_ab}", at_step(curves, s_ab)), (f"GAN alone, step {s_ab}", at_step(curves_gan, s_ab)),
        (f"CycleGAN, step {trainer.step}", at_step(curves, trainer.step))]
print(f"{'held-out scenes':<24}{'rec map':>9}{'rec photo':>11}{'map->photo FCN':>16}{'photo->map':>12}")
for name, r in rows:
    print(f"{name:<24}{r['rec_x']:>9.3f}{r['rec_y']:>11.3f}{r['fcn_pixel']:>16.2f}{r['map_pixel']:>12.2f}")

# %% [markdown]
# **Is the gap larger than the spread between seeds?** One run of each says little on its own. Both runs again from
# `n_seeds - 1` other seeds (other initial weights, pools and image order; the same data), each for `steps_ablation`
# steps, and the same numbers at that step, now with the mean IoU of the FCN-score beside its pixel accuracy:

# %%
at_ab = {"CycleGAN": [at_step(curves, s_ab)], "GAN alone": [at_step(curves_gan, s_ab)]}
for k in range(1, cfg.n_seeds):
    for label, lam in [("CycleGAN", lambda_cyc), ("GAN alone", 0.0)]:
        name = "cyclegan" if lam else "gan_alone"
        G_s, F_s, tr_s = make_cyclegan(f"{name}_seed{cfg.seed + k}", lambda_cyc=lam, seed=cfg.seed + k)
        tr_s.live = False
        tr_s.fit(cfg.steps_ablation, resume=True)
        at_ab[label].append(at_step(eval_curves(tr_s), s_ab))
        print(f"{label}, seed {cfg.seed + k}: {tr_s.step} steps in {tr_s.seconds / 60:.1f} min")
cols_ab = {"rec_x": "rec map", "rec_y": "rec photo", "fcn_pixel": "FCN pixel", "fcn_iou": "FCN mIoU",
           "map_pixel": "photo->map"}
print(f"\n{f'held-out scenes, step {s_ab}':<26}" + "".join(f"{c:>11}" for c in cols_ab.values()))
for label, rs in at_ab.items():
    for k, r in enumerate(rs):
        print(f"{f'{label}, seed {cfg.seed + k}':<26}" + "".join(f"{r[c]:>11.3f}" for c in cols_ab))
    print(f"{f'{label}, mean':<26}" + "".join(f"{sum(r[c] for r in rs) / len(rs):>11.3f}" for c in cols_ab))


# %% [markdown]
# ## Results beside the paper
#
# **The ablation in numbers.** At the same step (2,000), over 2 seeds, the run without the cycle loss reconstructs
# clearly worse in both directions: 0.27 against 0.15 for the maps and 0.21 against 0.12 for the photos (the
# printout; every seed of one run is on its side of the gap). The segmentation scores do **not** separate the
# runs: FCN pixel accuracy 0.66 without the cycle against 0.64 with it, mean IoU 0.28 against 0.30, photo → map
# 0.57 against 0.57, and the two seeds of one run differ by as much as the runs do. Both FCN curves also jump by
# about ±0.1 from one evaluation to the next up to step 2,000. So at this scale the cycle's measurable effect is
# on the reconstruction, which is what it optimises, not on how well a segmenter reads $G(x)$. A likely reason:
# the identity term, kept here, already ties $G$'s output to its input (it trains $G$ to copy a photo, so the
# map's regions come through $G$ as regions of similar shape); the reference code's "GAN alone" drops the identity
# term together with the cycle. Exercise 6 measures the identity term's own effect.
#
# The full FCN-score (per-pixel accuracy, per-class accuracy, mean IoU) of both first-seed runs at their last step
# (CycleGAN has trained twice as long by then, its learning rate decayed to 0), with the
# real photos as the ceiling, next to the paper's Table 2 (labels → photo; the paper's Table 1 is its perceptual
# study). The paper's numbers are quoted from secondary notes and have not been checked against its text.
# pix2pix is the paired method that CycleGAN is measured against.

# %%
@torch.no_grad()
def full_scores(G, F):
    G_x, F_y = G(x_test.to(device)), F(y_test.to(device))
    return fcn_score(G_x), map_score(F_y)

(cyc_photo, cyc_map), (gan_photo, gan_map) = full_scores(G, F), full_scores(G_gan, F_gan)
seg_map = map_score(test_pairs.colour_maps().float() / 127.5 - 1)  # sanity: the true maps score 1
print(f"{'label map -> photo':<42}{'pixel acc':>10}{'class acc':>10}{'mean IoU':>10}")
for name, s in [(f"ours: CycleGAN ({trainer.step} steps)", cyc_photo),
                (f"ours: GAN alone ({trainer_gan.step} steps)", gan_photo), ("ours: real photos (ceiling)", ceiling)]:
    print(f"{name:<42}{s['pixel_acc']:>10.2f}{s['class_acc']:>10.2f}{s['mean_iou']:>10.2f}")
for name, s in [("paper: CycleGAN", (0.52, 0.17, 0.11)), ("paper: pix2pix (paired)", (0.71, 0.25, 0.18))]:
    print(f"{name:<42}{s[0]:>10.2f}{s[1]:>10.2f}{s[2]:>10.2f}")
print(f"\n{'photo -> label map':<42}{'pixel acc':>10}{'class acc':>10}{'mean IoU':>10}")
for name, s in [("ours: CycleGAN", cyc_map), ("ours: GAN alone", gan_map),
                ("ours: SegNet, trained on pairs", fcn_score(y_test))]:
    print(f"{name:<42}{s['pixel_acc']:>10.2f}{s['class_acc']:>10.2f}{s['mean_iou']:>10.2f}")
print(f"(check: the true colour maps read back as {seg_map['pixel_acc']:.2f} pixel accuracy)")

# %% [markdown]
# **L1 and SSIM against the true photos.** The held-out scenes have their real photos, so we can also compare each
# translation $G(x)$ pixel by pixel with the photo of the same scene: the mean absolute error (in $[-1, 1]$ units) and
# skimage's SSIM (7×7 windows, colour channels averaged; 1 means identical). An unpaired method never saw a pixel
# target, so this is a stricter test than the FCN-score: $G$ may draw a plausible street with other cars and other
# textures and still be right by the segmenter.

# %%
from skimage.metrics import structural_similarity


@torch.no_grad()
def l1_and_ssim(G_):
    out, y_ref = G_(x_test.to(device)).cpu(), y_test.cpu()                # (Nt, 3, S, S) in [-1, 1], on the CPU
    to_hwc = lambda t: ((t + 1) / 2).clamp(0, 1).permute(1, 2, 0).numpy()  # noqa: E731  (S, S, 3) in [0, 1]
    ssim = [structural_similarity(to_hwc(a), to_hwc(b), channel_axis=2, data_range=1.0) for a, b in zip(out, y_ref)]
    return (out - y_ref).abs().mean().item(), sum(ssim) / len(ssim)

print(f"{'label map -> photo, held-out scenes':<42}{'L1':>8}{'SSIM':>8}")
for name, G_ in [("ours: CycleGAN", G), ("ours: GAN alone", G_gan)]:
    l1, ssim = l1_and_ssim(G_)
    print(f"{name:<42}{l1:>8.3f}{ssim:>8.3f}")

# %% [markdown]
# In the committed run the two are level in L1 (0.171 against 0.175 without the cycle loss), and CycleGAN is
# ahead in SSIM (0.316 against 0.229), the structural measure. Both are far from a good pixel match: CycleGAN
# draws its own cars, shadows and textures where the real photo has others, and every one of them costs L1 and
# SSIM. Paired pix2pix (notebook 09, at 128 px) reaches L1 0.15 and SSIM 0.45: a pixel target is what these
# measures reward. This is why both papers score translations with a segmenter rather than pixel by pixel.

# %% [markdown]
# **Reading the table.** Pixel accuracy rewards the layout that every scene here shares (road below, buildings and
# trees above). CycleGAN after 4,000 steps (0.74 / 0.43 / 0.32 in the committed run) is ahead of the GAN alone
# after 2,000 (0.65 / 0.35 / 0.27), but the seeds table above shows that at equal steps the two are level on this
# score: the gap here is the extra training, with the decaying learning rate, not the cycle.
#
# **Against the paper.** Our CycleGAN's FCN-score is above the paper's CycleGAN row. That does not mean it beats
# the paper: the numbers are not comparable. Our segmenter is a small U-Net trained on 21 photos and tested on
# 8, over 9 collapsed classes, at 64 px; the paper's FCN-8s was trained on Cityscapes' 2,975 training scenes and
# scored on its validation scenes. And 6 of our 8 test scenes come from the street that the training
# frames show. Relative to the real photos, our CycleGAN reaches about 90% of their pixel accuracy (0.74 against
# 0.82), the paper's about 65% (0.52 against 0.80, pix2pix's Table 1 figure for real photos with the same FCN
# evaluation); the easy layout of one street explains much of the difference.
#
# **Against notebook 09 (paired).** pix2pix, trained on the same 21 training pairs at 128 px and scored with the
# same recipe of segmenter (at 128 px), reaches 0.86 / 0.57 / 0.48 (mean of 2 seeds) against its ceiling of
# 0.85: at that size and on this street, its segmenter reads pix2pix's photos as easily as real ones. The unpaired
# CycleGAN, at 64 px, stays below its own ceiling (0.74 against 0.82). The paper finds pix2pix ahead too (0.71
# against CycleGAN's 0.52): aligned pairs are worth a lot, and CycleGAN is what you use when you do not have them.
#
# ## Resuming restores the pools and the schedule
#
# A fresh set of networks, pools and schedules, loaded from the CycleGAN checkpoint: the pools hold the same
# images and the learning rate is where the run left it. Without `stateful`, a resumed run would restart with
# empty pools and the full learning rate, and would not continue the run it claims to continue.

# %%
_, _, fresh = make_cyclegan("cyclegan", lambda_cyc=lambda_cyc)
pool_empty, lr_before = len(fresh.stateful["pool_Y"]), fresh.optimizers["G"].param_groups[0]["lr"]
fresh.load()
same_pool = all(torch.equal(a, b) for a, b in zip(fresh.stateful["pool_Y"].images, trainer.stateful["pool_Y"].images))
print(f"before loading: pool_Y holds {pool_empty} fakes, lr {lr_before:.1e}")
print(f"after loading:  pool_Y holds {len(fresh.stateful['pool_Y'])} fakes (identical: {same_pool}), "
      f"lr {fresh.optimizers['G'].param_groups[0]['lr']:.1e}, scheduler count {fresh.stateful['sched_G'].last_epoch}")


# %% [markdown]
# ## Explore
#
# Pick a held-out scene and a run; the figure under the slider is the static fallback.

# %%
@torch.no_grad()
def explore(scene=0, cycle_loss_on=True):
    G_, F_ = (G, F) if cycle_loss_on else (G_gan, F_gan)
    x, y = x_test[scene:scene + 1].to(device), y_test[scene:scene + 1].to(device)
    imgs = torch.cat([x, G_(x), F_(G_(x)), y, F_(y), G_(F_(y))])
    show_grid(imgs, nrow=6, figsize=(9, 1.8),
              title="x, G(x), F(G(x)),  y, F(y), G(F(y))" + ("" if cycle_loss_on else "  (GAN alone)"))
    plt.show()

interact(explore, scene=(0, len(x_test) - 1), cycle_loss_on=True)

# %%
explore(scene=len(x_test) - 1)  # static fallback: a still from another street


# %% [markdown]
# ## Summary
#
# * CycleGAN learns $G: X \to Y$ and $F: Y \to X$ from two unpaired sets, with two LSGAN games and the
#   cycle-consistency loss $\lambda \lVert F(G(x)) - x \rVert_1 + \lambda \lVert G(F(y)) - y \rVert_1$, $\lambda = 10$,
#   plus an identity loss with weight $0.5\lambda$.
# * Its recipe: ResNet-block generators with instance norm and reflection padding, PatchGAN discriminators, an
#   image pool of 50 past fakes for each $D$, batch 1, Adam(2e-4, 0.5), a learning rate that is constant for half
#   the run and then decays linearly to 0. The pools and schedules are training state, and the checkpoints keep
#   them.
# * On 64 px Cityscapes label maps and photos from disjoint scenes, the cycle reconstructs held-out maps and photos
#   closely, closer than the blurry intermediate photos suggest: information can hide in faint details.
# * Without the cycle loss nothing asks that the input can be recovered from the output, and the reconstruction
#   error on held-out scenes is about 1.7 times as high (2 seeds). The segmentation score does not separate the
#   two at equal steps here; the identity term, which the ablation keeps, is a likely reason.
# * Scored like the paper (a segmenter trained on real photos), the unpaired CycleGAN stays below the real photos
#   (mean IoU 0.32 against 0.44), while notebook 09's paired pix2pix reaches its ceiling: the paper's order.
#
# ## Exercises
#
# Exercises 1 to 3 (build) are in the notebook above, where the losses and the training step are taught; the rest
# are here.
#
# **Exercise 4.** The image pool's query rule for **one** fake, with the randomness passed in: `images` is the
# pool (a list), `u` a uniform number in $[0, 1)$, `i` a random slot. Return the image to show $D$, and update
# `images` in place. While `len(images) < pool_size`: store the fake, return it. Otherwise, if `u < 0.5`: return
# `images[i]` and put the fake in slot `i`; else return the fake and leave the pool alone.

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pool_query(images, fake, pool_size, u, i):
    # returns a tensor; update `images` in place
    ### BEGIN SOLUTION
    if len(images) < pool_size:
        images.append(fake)
        return fake
    if u < 0.5:
        old, images[i] = images[i], fake
        return old
    return fake
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
imgs, out = [], []
for t, (u, i) in enumerate([(0.9, 0), (0.1, 1), (0.3, 0), (0.7, 1), (0.2, 1), (0.4, 0)]):
    r = pool_query(imgs, torch.tensor(float(t)), 2, u, i)
    out.append(None if r is None else float(r))
check_that(None if None in out else out[:2] == [0, 1] and len(imgs) == 2,
           "pool: the first fakes fill it and come back; it never grows past pool_size",
           hint="While the pool has room, store the fake and return it.")
keep = [torch.tensor(1.0), torch.tensor(2.0)]
got = pool_query(keep, torch.tensor(9.0), 2, 0.8, 0)
check_that(None if got is None else float(got) == 9 and [float(v) for v in keep] == [1, 2],
           "pool: with u >= 0.5 the new fake comes back and the pool stays as it was");
### BEGIN HIDDEN TESTS
check(out + [float(v) for v in imgs], [0, 1, 0, 3, 1, 2, 5.0, 4.0], "pool: returned, then pool",
      hint="Steps 0 and 1 fill the pool; with u < 0.5 the stored image in slot i comes back and the new fake takes its place.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5 (extend).** CycleGAN's least-squares losses code "real" as 1 and "fake" as 0. The LSGAN paper
# (Mao et al. 2017) writes them with three targets: $D$ pulls real scores to $b$ and fake ones to $a$, and $G$
# pulls its fakes' scores to $c$,
# $\;L_D = \tfrac12\,\mathbb E\big[(D(y) - b)^2\big] + \tfrac12\,\mathbb E\big[(D(G(x)) - a)^2\big]$,
# $\;L_G = \tfrac12\,\mathbb E\big[(D(G(x)) - c)^2\big]$,
# and proposes $a = -1$, $b = 1$, $c = 0$ as well as the 0-1 coding with $c = 1$. Write both, with the halves, as
# written here.

# %% nbgrader={"grade": false, "grade_id": "ex5", "locked": false, "schema_version": 3, "solution": true, "task": false}
def d_loss_lsgan_abc(d_real, d_fake, a=-1.0, b=1.0):
    # d_real, d_fake: (B, 1, h, w) scores -> a scalar
    ### BEGIN SOLUTION
    return 0.5 * (d_real - b).square().mean() + 0.5 * (d_fake - a).square().mean()
    ### END SOLUTION

def g_loss_lsgan_c(d_fake, c=0.0):
    # d_fake: (B, 1, h, w) scores -> a scalar
    ### BEGIN SOLUTION
    return 0.5 * (d_fake - c).square().mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
g_ex = torch.Generator().manual_seed(4)
s_r, s_f = torch.randn(2, 1, 5, 5, generator=g_ex), torch.randn(2, 1, 5, 5, generator=g_ex)
ld01, lg01 = d_loss_lsgan_abc(s_r, s_f, a=0.0, b=1.0), g_loss_lsgan_c(s_f, c=1.0)
check_that(None if ld01 is None or lg01 is None else
           torch.isclose(ld01, 0.5 * d_loss_lsgan(s_r, s_f)) and torch.isclose(lg01, 0.5 * g_loss_lsgan(s_f)),
           "LSGAN a-b-c: a = 0, b = c = 1 is half of Exercise 1's losses",
           hint="Each term is one half of a mean of squared distances to its target.")
at_targets = d_loss_lsgan_abc(torch.ones(3), -torch.ones(3)), g_loss_lsgan_c(torch.zeros(3))
check_that(None if None in at_targets else all(v.item() == 0 for v in at_targets),
           "LSGAN a-b-c: 0 when every score sits on its target (a = -1, b = 1, c = 0)");
### BEGIN HIDDEN TESTS
for a_, b_, c_ in ((-1.0, 1.0, 0.0), (0.0, 1.0, 1.0), (-0.5, 2.0, 0.7)):
    check(torch.stack([d_loss_lsgan_abc(s_r, s_f, a_, b_), g_loss_lsgan_c(s_f, c_)]),
          torch.stack([0.5 * ((s_r - b_) ** 2).mean() + 0.5 * ((s_f - a_) ** 2).mean(), 0.5 * ((s_f - c_) ** 2).mean()]),
          f"LSGAN a-b-c: targets {a_}, {b_}, {c_}", hint="The formulas above, with the halves.")
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 6 (open).** Two switches the paper discusses: train with `pool_size = 0` (no history), and with
# `lambda_identity = 0` (no identity loss), with and without the cycle loss. Which one changes the reconstruction
# curves or the FCN-score more, and is the difference larger than the spread over 3 seeds (`cfg.seed`)?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer compares runs at equal steps over 3 seeds and gives mean ± sd of the
# reconstruction error (both directions) and the FCN-score for each switch. Reference from this notebook: with the
# cycle loss the held-out reconstruction error at step 2,000 is 0.15 (maps) and 0.12 (photos), mean of two
# seeds, against 0.27 and 0.21 without it, about 1.7 times higher, while the segmentation score does not separate
# the two (FCN pixel accuracy 0.66 without the cycle against 0.64 with it, mean IoU 0.28 against 0.30), with the
# identity term, kept in both runs, as the likely reason. Full marks need a prediction,
# each number beside its spread, and a plain statement when a difference is within seed noise.

# %% [markdown]
# **Exercise 7 (open).** The cycle loss can be satisfied by hiding information: $G$ may encode the label map in
# faint patterns of its photo that $F$ reads back (Chu et al. 2017). Test it: add a little Gaussian noise to
# $G(x)$ before $F$ and measure how fast the map reconstruction error grows with the noise level, compared with
# the same noise on a real photo fed to $F$.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer sweeps several noise levels (e.g. std 0, 0.01, 0.03, 0.1, 0.3 in $[-1, 1]$
# units) on the held-out maps, plots the reconstruction error of $F(G(x) + \text{noise})$ against $x$ beside the
# error of $F(y + \text{noise})$ against the true map, and starts from this notebook's reference (held-out map
# reconstruction about 0.15 with the cycle loss, clearer than the blurry $G(x)$ suggests). Steganography shows as
# a reconstruction that degrades sharply at noise levels that barely change the real-photo case. 2 points for the
# measurement, 2 for the comparison with real photos, 1 for the interpretation.

# %% [markdown]
# ## References
#
# * J.-Y. Zhu, T. Park, P. Isola, A. A. Efros. *Unpaired Image-to-Image Translation using Cycle-Consistent
#   Adversarial Networks.* ICCV 2017. Code: `junyanz/CycleGAN` (Lua) and `junyanz/pytorch-CycleGAN-and-pix2pix`
#   (`models/cycle_gan_model.py`, `models/networks.py`, `util/image_pool.py`).
# * X. Mao et al. *Least Squares Generative Adversarial Networks.* ICCV 2017.
# * J. Johnson, A. Alahi, L. Fei-Fei. *Perceptual Losses for Real-Time Style Transfer and Super-Resolution.* ECCV
#   2016 (the ResNet generator).
# * A. Shrivastava et al. *Learning from Simulated and Unsupervised Images through Adversarial Training.* CVPR
#   2017 (the image history).
# * P. Isola et al. *Image-to-Image Translation with Conditional Adversarial Networks.* CVPR 2017 (pix2pix, the
#   FCN-score; notebook 09).
# * C. Chu, A. Zhmoginov, M. Sandler. *CycleGAN, a Master of Steganography.* NIPS 2017 workshop.
# * M. Cordts et al. *The Cityscapes Dataset for Semantic Urban Scene Understanding.* CVPR 2016.
