# %% [markdown]
# # 01 · Vanilla GAN
#
# **Paper:** Ian J. Goodfellow, Jean Pouget-Abadie, Mehdi Mirza, Bing Xu, David Warde-Farley, Sherjil Ozair,
# Aaron Courville, Yoshua Bengio. *Generative Adversarial Nets.* NeurIPS 2014.
# [arXiv:1406.2661](https://arxiv.org/abs/1406.2661)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/01_vanilla_gan.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: tiny sizes, same code | ≈ 40 s (measured) | ≈ 25 s (H200, measured) |
# | `default` | real results: 8k MNIST steps, five 2D runs (one of 10k steps) | ≈ 4–6 min (measured: 3.3 min of MNIST training for these outputs; the whole notebook about 6 on a slower 2-core machine) | ≈ 1.5 min (estimate: 20k steps took 3 min on an H200) |
# | `full` | 100k MNIST steps at batch 100 | ≈ 1 h (estimate) | ≈ 10 min on a T4 (estimate, counted FLOPs) |
#
# The outputs you see were produced by a `default` run on the real MNIST test split (10,000 images).

# %% [markdown]
# ## What you will learn
#
# * the two-player **minimax game** between a generator $G$ and a discriminator $D$, and why the best
#   discriminator is $D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}$;
# * the **saturating** and the **non-saturating** generator loss, and why practice uses the second;
# * the training loop written by hand: `train_discriminator`, `train_generator`, and $k$ discriminator steps per
#   generator step;
# * a fully connected (MLP) GAN trained on MNIST, with a grid of samples at a fixed $z$ over training;
# * **mode collapse**, measured on a 2D mixture of 8 Gaussians, and its two faces: $G$ collapsing to a few modes,
#   and $D$ stuck, which lets $G$ "win" without learning the data.
#
# This is the first notebook; everything later builds on the pieces written here and promoted to `gan_utils`.

# %% [markdown]
# ## Setup
#
# The first cell installs the course package when it runs on Colab, and does nothing anywhere else
# (locally, `make lab` has already installed it). It never touches Colab's own torch.

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

# %% [markdown]
# Imports. Everything the course reuses comes from `gan_utils`; everything this paper introduces is written
# below, in this notebook.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import gan_utils
from gan_utils.data.mnist import load_mnist
from gan_utils.data.synthetic import ring8
from gan_utils.teaching import check, check_that, written_here
from gan_utils.metrics.mixtures import mode_stats
from gan_utils.train.trainer import Trainer
from gan_utils.display.viz import plot_losses, plot_snapshots, scatter_2d, show_grid

# %% [markdown]
# `setup()` reads the run mode from `GAN_MODE`, seeds Python, NumPy and torch, picks the device
# (CUDA, then Apple's MPS, then CPU), and finds the data. The sizes below are the only thing the modes change;
# the code path is the same in all three. Paper values are in the comments.

# %%
SIZES = {
    #           MNIST steps   batch (paper: 100)   2D-ring steps (runs A, C; B)   snapshot every
    "fast":    dict(steps=300, batch=64, ring_steps=300, collapse_steps=400, sample_every=100),
    "default": dict(steps=8_000, batch=64, ring_steps=2_500, collapse_steps=10_000, sample_every=1_000),
    "full":    dict(steps=100_000, batch=100, ring_steps=10_000, collapse_steps=25_000, sample_every=10_000),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="01_vanilla_gan")
device = cfg.device

# %% [markdown]
# ## The idea
#
# A generator $G$ maps noise $z \sim p_z$ to a sample $G(z)$. A discriminator $D$ outputs the probability that
# its input came from the data rather than from $G$. They play a two-player game with value function
#
# $$
# \min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}[\log D(x)]
#   + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))].
# $$
#
# $D$ wants $D(x) \to 1$ on data and $D(G(z)) \to 0$ on fakes; $G$ wants the opposite of the second term.
#
# **The optimal discriminator.** For a fixed $G$, write $p_g$ for the density of $G(z)$. The value is
# $\int p_\text{data}(x)\log D(x) + p_g(x)\log(1-D(x))\,dx$. For each $x$, the function
# $a\log y + b\log(1-y)$ peaks at $y = a/(a+b)$, so
#
# $$D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}.$$
#
# Plugging $D^*$ back in gives $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data}\,\|\,p_g)$: against a perfect
# discriminator, the generator minimises the Jensen–Shannon divergence, whose minimum $-\log 4$ is reached only
# at $p_g = p_\text{data}$, where $D^* = \tfrac12$ everywhere.
#
# Let us check the formula numerically. We fix two 1D densities, train a small $D$ on samples from each, and
# compare it with $D^*$.

# %%
p_data = torch.distributions.Normal(0.0, 1.0)
p_g = torch.distributions.Normal(1.5, 0.7)

def optimal_D(x: torch.Tensor) -> torch.Tensor:
    # D*(x) = p_data / (p_data + p_g), computed from log-densities for stability
    return torch.sigmoid(p_data.log_prob(x) - p_g.log_prob(x))

D_1d = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
opt = torch.optim.Adam(D_1d.parameters(), lr=1e-2)
for _ in range(600):
    x_real, x_fake = p_data.sample((512, 1)), p_g.sample((512, 1))
    loss = F.softplus(-D_1d(x_real)).mean() + F.softplus(D_1d(x_fake)).mean()  # -V(D, G)
    opt.zero_grad(); loss.backward(); opt.step()

# %% [markdown]
# The trained $D$ (blue) follows the formula (dashed) where there is data; far out in the tails, where neither
# density puts samples, it is unconstrained.

# %%
xs = torch.linspace(-4, 5, 400).unsqueeze(1)  # (400, 1)
with torch.no_grad():
    d_trained = torch.sigmoid(D_1d(xs))
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(xs, p_data.log_prob(xs).exp(), color="gray", label=r"$p_\mathrm{data}$")
ax.plot(xs, p_g.log_prob(xs).exp(), color="tab:orange", label=r"$p_g$")
ax.plot(xs, d_trained, color="tab:blue", label="trained D(x)")
ax.plot(xs, optimal_D(xs), "k--", label=r"$D^*(x)$")
ax.set_xlabel("x"); ax.legend(); ax.grid(alpha=0.3); plt.show()
inside = (xs.abs() < 2).squeeze()
print(f"max |D - D*| for |x| < 2: {(d_trained - optimal_D(xs))[inside].abs().max():.3f}")

# %% [markdown]
# ## Data
#
# `load_mnist` reads MNIST's IDX files (the format it ships in) into **one uint8 tensor on the device**; a batch
# is drawn by index and scaled to $[-1, 1]$, the range of $G$'s Tanh output. There are no per-image PIL
# transforms, which makes it several times faster than a `DataLoader` (see `benchmarks/`).
#
# With `GAN_DATA=auto` (the default) it uses the real data if it is on disk or can be downloaded; otherwise it
# falls back to synthetic digits rendered from fonts, and the banner says so in capitals.

# %%
mnist = load_mnist(**cfg.data_kwargs)
x_real, y = mnist.batch(64)  # (64, 1, 28, 28) in [-1, 1]
print(x_real.shape, f"range [{x_real.min():.0f}, {x_real.max():.0f}]")
show_grid(x_real, nrow=16, title=f"{mnist.source} MNIST", figsize=(10, 4)); plt.show()


# %% [markdown]
# ## Building blocks
#
# The paper's $G$ and $D$ are multilayer perceptrons. We keep that, with today's usual choices
# (the paper's own, in `goodfeli/adversarial`, used maxout units and SGD with momentum):
#
# * $G$: $z \in \mathbb{R}^{100}$, $z \sim \mathcal N(0, I)$ → 256 → 512 → 1024 → 784, each hidden layer
#   Linear, batch norm, ReLU; then Tanh, reshaped to $1\times28\times28$;
# * $D$: 784 → 512 → 256 → 1 with LeakyReLU(0.2) and dropout 0.5 (the paper's rate).
#
# Batch norm in $G$ is borrowed from DCGAN (notebook 03). We tried without it: on the 10,000-image subset, $D$ won
# outright within a few thousand steps ($\mathcal L_D \to 0$, $\mathcal L_G \approx 20$) and $G$ ended up drawing one
# speckled blob for every $z$, a third way for the game to fail. Batch norm and the stronger dropout kept the two
# players balanced.
#
# $D$ returns a **logit** $a$; the probability is $D(x) = \sigma(a)$. Working with logits keeps the losses
# numerically stable.

# %%
class Generator(nn.Module):
    def __init__(self, z_dim=100, img_shape=(1, 28, 28), hidden=(256, 512, 1024)):
        super().__init__()
        self.z_dim, self.img_shape = z_dim, img_shape
        layers, width = [], z_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU()]
            width = h
        layers += [nn.Linear(width, math.prod(img_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(z).view(z.shape[0], *self.img_shape)


# %% [markdown]
# A shape check on a dummy batch:

# %%
G = Generator().to(device)
z = torch.randn(8, G.z_dim, device=device)  # (8, 100)
x_fake = G(z)                                # (8, 1, 28, 28)
assert x_fake.shape == (8, 1, 28, 28) and x_fake.abs().max() <= 1
print("G:", tuple(x_fake.shape), f"{sum(p.numel() for p in G.parameters()) / 1e6:.2f}M parameters")


# %% [markdown]
# The discriminator flattens the image and returns one logit per image.

# %%
class Discriminator(nn.Module):
    def __init__(self, img_shape=(1, 28, 28), hidden=(512, 256), dropout=0.5):
        super().__init__()
        layers, width = [nn.Flatten()], math.prod(img_shape)
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = h
        layers += [nn.Linear(width, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).squeeze(1)  # (B,) logits


# %%
D = Discriminator().to(device)
d_fake = D(x_fake)  # (8,)
assert d_fake.shape == (8,)
print("D:", tuple(d_fake.shape), f"{sum(p.numel() for p in D.parameters()) / 1e6:.2f}M parameters")

# %% [markdown]
# From now on these two classes live in `gan_utils.models.vanilla` as `MLPGenerator` and `MLPDiscriminator`,
# and later notebooks import them. This check shows that the promoted versions compute exactly the same thing.

# %%
from gan_utils.models.vanilla import MLPDiscriminator, MLPGenerator

G_lib, D_lib = MLPGenerator().to(device), MLPDiscriminator().to(device)
G_lib.load_state_dict(G.state_dict()); D_lib.load_state_dict(D.state_dict())
for m in (G, D, G_lib, D_lib):
    m.eval()  # fixed BN statistics and no dropout, so both compute deterministic outputs
assert torch.equal(G_lib(z), G(z)) and torch.equal(D_lib(x_fake), D(x_fake))
G.train(); D.train(); print("gan_utils.models.vanilla matches the classes above")


# %% [markdown]
# ## Losses
#
# With logits $a$ and $D = \sigma(a)$, the log-probabilities are $\log\sigma(a) = -\mathrm{softplus}(-a)$ and
# $\log(1-\sigma(a)) = -\mathrm{softplus}(a)$. So:
#
# * **D's loss** is $-V$: $\;\mathcal L_D = -\mathbb E[\log D(x)] - \mathbb E[\log(1 - D(G(z)))]$, the binary
#   cross-entropy with label 1 on real and 0 on fake;
# * **the saturating G loss** is the minimax one, $\;\mathcal L_G^{\text{sat}} = \mathbb E[\log(1 - D(G(z)))]$, which
#   $G$ minimises;
# * **the non-saturating G loss**, $\;\mathcal L_G^{\text{ns}} = -\mathbb E[\log D(G(z))]$, has the same fixed
#   point but, as the paper notes, much stronger gradients early in training.
#
# **Exercise 1 (build).** Write the three losses from **logits** (`d_real`, `d_fake`: $D$'s outputs before the
# sigmoid, one per sample), each averaged over the batch. Use the two identities above rather than forming
# $\sigma(a)$: the check feeds logits as large as $\pm 200$, where $\log\sigma(a)$ computed directly is
# $-\infty$. The rest of the notebook trains with your functions.

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def d_loss(d_real, d_fake):
    # d_real, d_fake: (B, 1) logits of D on real and on fake samples -> a scalar tensor
    ### BEGIN SOLUTION
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    ### END SOLUTION

def g_loss_saturating(d_fake):
    ### BEGIN SOLUTION
    return -F.softplus(d_fake).mean()
    ### END SOLUTION

def g_loss_nonsaturating(d_fake):
    ### BEGIN SOLUTION
    return F.softplus(-d_fake).mean()
    ### END SOLUTION


# %% [markdown]
# A hand-computed check: with $D(x) = 0.8$ on a real image and $D(G(z)) = 0.3$ on a fake one,
# $\mathcal L_D = -\log 0.8 - \log 0.7 = 0.5798$, $\mathcal L_G^\text{sat} = \log 0.7 = -0.3567$ and
# $\mathcal L_G^\text{ns} = -\log 0.3 = 1.2040$; compare with what your functions print. The cell also checks
# that the losses stay finite for huge logits and move the right way when $D$ gets more confident. The same
# functions, promoted, are in `gan_utils.losses`.

# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
from gan_utils import losses

logit = lambda p: torch.tensor([math.log(p / (1 - p))])
a_real, a_fake = logit(0.8), logit(0.3)
print(f"L_D = {d_loss(a_real, a_fake):.4f}, L_G sat = {g_loss_saturating(a_fake):.4f}, "
      f"L_G ns = {g_loss_nonsaturating(a_fake):.4f}")
huge = torch.tensor([[-200.0], [0.0], [200.0]])
check_that(all(torch.isfinite(fn(huge)).all() for fn in (g_loss_saturating, g_loss_nonsaturating))
           and torch.isfinite(d_loss(huge, huge)), "finite for logits of +-200",
           hint="Reread the two identities for log sigma(a) and log(1 - sigma(a)) above the exercise.")
check_that(d_loss(logit(0.9), a_fake) < d_loss(a_real, a_fake) < d_loss(a_real, logit(0.6))
           and g_loss_nonsaturating(logit(0.6)) < g_loss_nonsaturating(a_fake), "directions",
           hint="D's loss falls as D(x) rises and as D(G(z)) falls; G's falls as D(G(z)) rises.");
### BEGIN HIDDEN TESTS
check(d_loss(a_real, a_fake), -math.log(0.8) - math.log(0.7), "L_D at D(x) = 0.8, D(G(z)) = 0.3")
check([g_loss_saturating(a_fake).item(), g_loss_nonsaturating(a_fake).item()], [math.log(0.7), -math.log(0.3)],
      "L_G, both forms")
x_many = torch.linspace(-200, 200, 9).reshape(9, 1)
check_that(all(written_here(fn, "losses", "d_loss_bce")
               for fn in (d_loss, g_loss_saturating, g_loss_nonsaturating)), "written here, not borrowed",
           hint="Write the three losses yourself, from the identities above.")
assert torch.allclose(d_loss(a_real, a_fake), losses.d_loss_bce(a_real, a_fake))
assert torch.allclose(g_loss_nonsaturating(x_many), losses.g_loss_nonsaturating(x_many))
assert torch.allclose(g_loss_saturating(x_many), losses.g_loss_saturating(x_many))
### END HIDDEN TESTS

# %% [markdown]
# **Why the non-saturating loss?** Early in training $G$ is bad, so $D(G(z)) \approx 0$. Plot both losses, and the
# size of their gradients with respect to $D$'s logit, against $D(G(z))$: the minimax loss is flat exactly where
# $G$ needs to learn most.

# %%
p = torch.linspace(0.001, 0.999, 500)
a = torch.log(p / (1 - p)).requires_grad_()
grads = {}
for name, fn in [("saturating: log(1 - D(G(z)))", g_loss_saturating),
                 ("non-saturating: -log D(G(z))", g_loss_nonsaturating)]:
    per_sample = fn(a) * len(a)  # undo the mean so each point is one sample's loss
    grads[name] = torch.autograd.grad(per_sample, a)[0].abs()
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
ax1.plot(p, torch.log(1 - p), label="saturating: log(1 - D(G(z)))")
ax1.plot(p, -torch.log(p), label="non-saturating: -log D(G(z))")
for name, g in grads.items():
    ax2.plot(p, g, label=name)
ax1.set(xlabel="D(G(z))", ylabel="G's loss"); ax2.set(xlabel="D(G(z))", ylabel="|dL/d logit|")
for ax in (ax1, ax2):
    ax.legend(); ax.grid(alpha=0.3)
plt.show()


# %% [markdown]
# The gradient of the saturating loss is $D(G(z))$ itself, which is about 0 when $D$ easily spots the fakes; the
# non-saturating one has gradient $1 - D(G(z))$, about 1 in the same place. We use the non-saturating loss from
# here on.
#
# ## Training
#
# Algorithm 1 of the paper alternates $k$ steps on $D$ with one step on $G$ ("we used $k = 1$, the least expensive
# option"). Each step is an ordinary optimiser update on one player's loss, with the other player held fixed.
#
# **Exercise 2 (build).** Write both steps. `train_discriminator` makes fakes from `z`, with $G$ fixed (no graph
# through $G$ is needed), and takes one step of `opt_D` on $\mathcal L_D$; `train_generator` takes one step of
# `opt_G` on the non-saturating loss of $D$'s logits on $G(z)$, so the gradient flows *through* $D$ into $G$.
# Use your losses from Exercise 1. Each returns the loss as a Python float. Remember that PyTorch accumulates
# gradients until you clear them.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_discriminator(D, G, opt_D, x_real, z):
    # x_real: (B, 1, 28, 28) images, z: (B, 100) noise -> L_D as a float
    ### BEGIN SOLUTION
    with torch.no_grad():
        x_fake = G(z)                      # G is fixed during D's step
    loss = d_loss(D(x_real), D(x_fake))
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.item()
    ### END SOLUTION


def train_generator(D, G, opt_G, z):
    # z: (B, 100) noise -> L_G (non-saturating) as a float
    ### BEGIN SOLUTION
    loss = g_loss_nonsaturating(D(G(z)))   # gradients flow through D into G
    opt_G.zero_grad(set_to_none=True)
    loss.backward()                        # D's parameters get gradients too; its own next step clears them
    opt_G.step()
    return loss.item()
    ### END SOLUTION


# %% [markdown]
# The check runs one step of each from fresh networks and looks at which player moved. The two functions are
# promoted to `gan_utils.train.trainer`; the hidden part of the check compares with it from the same weights and
# the same batch.

# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
def one_step(step_fn, *args):
    torch.manual_seed(1)
    G_, D_ = Generator().to(device), Discriminator().to(device)
    opt_ = torch.optim.Adam(D_.parameters() if "discriminator" in step_fn.__name__ else G_.parameters())
    before = [p.detach().clone() for p in (*G_.parameters(), *D_.parameters())]
    torch.manual_seed(2)
    loss = step_fn(D_, G_, opt_, *args)
    moved = [not torch.equal(b, p) for b, p in zip(before, (*G_.parameters(), *D_.parameters()))]
    n_G = len(list(G_.parameters()))
    return loss, all(moved[n_G:]) and not any(moved[:n_G]), all(moved[:n_G]) and not any(moved[n_G:])

z8 = torch.randn(8, 100, device=device)
loss_D, only_D, _ = one_step(train_discriminator, x_real[:8], z8)
loss_G, _, only_G = one_step(train_generator, z8)
check_that(isinstance(loss_D, float) and isinstance(loss_G, float), "both steps return a float",
           hint="Return the loss as a plain Python number, not a tensor.")
check_that(only_D and only_G, "each step moves its own player only",
           hint="Which optimiser steps, and which network's output needs a graph? Reread Algorithm 1.");
### BEGIN HIDDEN TESTS
from gan_utils.train import trainer as library

check_that(written_here(train_discriminator, "library", "trainer") and written_here(train_generator, "library",
           "trainer"), "written here, not borrowed", hint="Write both steps yourself.")

# equal up to float rounding (the library computes the same loss with BCE-with-logits)
assert math.isclose(loss_D, one_step(library.train_discriminator, x_real[:8], z8)[0], rel_tol=1e-5)
assert math.isclose(loss_G, one_step(library.train_generator, z8)[0], rel_tol=1e-5)
check([loss_D, loss_G], [one_step(library.train_discriminator, x_real[:8], z8)[0],
                         one_step(library.train_generator, z8)[0]], "losses of one step each");
### END HIDDEN TESTS

# %% [markdown]
# Now one **training step** of Algorithm 1: $k$ discriminator updates, each on a fresh real batch and fresh noise,
# then one generator update. The hyperparameters follow common modern practice for this MLP (Adam with
# lr $2\cdot10^{-4}$, $\beta_1 = 0.5$); the paper used SGD with momentum, lr 0.1 decaying, batch 100.
#
# | setting | paper | this notebook |
# |---|---|---|
# | $k$ | 1 | 1 |
# | batch | 100 | `cfg.batch` |
# | optimiser | SGD + momentum 0.5→0.7, lr 0.1 | Adam, lr 2e-4, $\beta_1 = 0.5$ |
# | $z$ | 100-d | 100-d, $\mathcal N(0, I)$ |

# %%
k = 1
torch.manual_seed(cfg.seed)
G, D = Generator().to(device), Discriminator().to(device)
opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))

def gan_step(step):
    for _ in range(k):
        x_real, _ = mnist.batch(cfg.batch)
        loss_D = train_discriminator(D, G, opt_D, x_real, torch.randn(cfg.batch, G.z_dim, device=device))
    loss_G = train_generator(D, G, opt_G, torch.randn(cfg.batch, G.z_dim, device=device))
    return {"loss_D": loss_D, "loss_G": loss_G}


# %% [markdown]
# The `Trainer` from `gan_utils` runs that step and does the bookkeeping: a progress bar, a live plot of the
# losses and of samples at a **fixed** $z$ (so you watch the same 64 "people" grow up), checkpoints written
# atomically, and a guard that stops on NaN losses. Interrupt the cell and run it again: it resumes from the
# last checkpoint. If a finished checkpoint exists, it simply loads it.

# %%
z_fixed = torch.randn(64, G.z_dim, device=device)
trainer = Trainer({"G": G, "D": D}, {"G": opt_G, "D": opt_D}, gan_step, ckpt_dir=cfg.ckpt_dir / "mnist",
                  ckpt_every=2_000, sample_fn=lambda: G(z_fixed), sample_every=cfg.sample_every)
history = trainer.fit(cfg.steps, resume=True)
print(f"{trainer.step} steps, {trainer.seconds / 60:.1f} min of training")

# %% [markdown]
# ## Results
#
# **Samples at the same $z$ over training.** Early grids are noise; the strokes then sharpen into digits. An
# MLP has no notion of neighbouring pixels, so digits stay somewhat speckled; notebook 03 (DCGAN) fixes that
# with convolutions.

# %%
plot_snapshots(history, max_cols=6, n_images=36); plt.show()

# %% [markdown]
# The final samples beside real ones:

# %%
G.eval()
with torch.no_grad():
    x_fake = G(z_fixed)  # (64, 1, 28, 28)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 5.5))
show_grid(mnist.batch(64)[0], ax=ax1, title="real MNIST" if mnist.is_real else "MNIST offline stand-in (synthetic)")
show_grid(x_fake, ax=ax2, title=f"G after {trainer.step} steps")
plt.show()

# %% [markdown]
# **Loss curves.** Unlike a classifier's loss, neither curve has to go down: the two players push against each
# other. At the game's equilibrium $D(x) = \tfrac12$ everywhere, where $\mathcal L_D = 2\log 2 \approx 1.39$ and
# $\mathcal L_G = \log 2 \approx 0.69$ (dotted lines).

# %%
ax = plot_losses(history)
ax.axhline(2 * math.log(2), ls=":", color="tab:blue"); ax.axhline(math.log(2), ls=":", color="tab:orange")
plt.show()

# %% [markdown]
# **Which digits does $G$ draw?** A GAN has no labels, so nothing forces it to draw every class. Here is a quick,
# crude look: each generated image is matched to its nearest real image (in pixel space), whose label we know.
# A healthy $G$ gives a roughly flat histogram; a collapsing one piles up on a few digits. (Notebook 02 replaces
# this crude check with a trained classifier.)

# %%
with torch.no_grad():
    samples = G(torch.randn(1000, G.z_dim, device=device)).flatten(1)  # (1000, 784)
    ref_idx = torch.randperm(len(mnist), device=device)[:5000]
    ref = mnist.to_float(ref_idx).flatten(1)                              # (5000, 784)
    nearest = torch.cdist(samples, ref).argmin(dim=1)
    counts = torch.bincount(mnist.labels[ref_idx][nearest], minlength=10).cpu()
plt.figure(figsize=(6, 2.6)); plt.bar(range(10), counts); plt.xticks(range(10))
plt.xlabel("label of nearest real image"); plt.ylabel("samples of 1000"); plt.show()
G.train();


# %% [markdown]
# ### Against the paper: a Parzen-window log-likelihood
#
# The paper's one number for MNIST (its Table 1) is a log-likelihood estimate. Put a Gaussian kernel of width
# $\sigma$ on each of $n$ samples $G(z_i)$, and evaluate that density on real images $x$ with pixels in $[0, 1]$:
#
# $$\log \hat p(x) = \log \frac1n \sum_{i=1}^n \mathcal N\big(x;\, G(z_i),\, \sigma^2 I\big)
#   = \log \frac1n \sum_{i=1}^n \exp\Big(-\frac{\lVert x - G(z_i)\rVert^2}{2\sigma^2}\Big)
#   - d\,\log\big(\sigma\sqrt{2\pi}\big),$$
#
# with $d = 784$ pixels: a log-mean-exp of the kernels, minus their normalisation. The function works on 250 images
# at a time, so only a $250 \times n$ distance matrix is ever in memory, and `logsumexp` keeps the tiny kernel values
# from underflowing.

# %%
def parzen_log_likelihood(samples, x_eval, sigma, batch=250):
    n, d = samples.shape                                                   # samples (n, d), x_eval (N, d)
    log_norm = math.log(n) + d * math.log(sigma * math.sqrt(2 * math.pi))
    out = []
    for x in x_eval.split(batch):                                          # (b, d)
        sq = torch.cdist(x, samples).square()                              # (b, n) squared distances
        out.append(torch.logsumexp(-sq / (2 * sigma ** 2), dim=1) - log_norm)
    return torch.cat(out)                                                  # (N,) log p(x) in nats

mu_, x_ = torch.tensor([[0.0, 1.0], [2.0, -1.0]]), torch.tensor([[0.5, 0.5], [3.0, 0.0]])  # a check on 2 kernels
by_lib = torch.distributions.Normal(mu_, 0.5).log_prob(x_[:, None]).sum(-1).logsumexp(1) - math.log(2)
assert torch.allclose(parzen_log_likelihood(mu_, x_, 0.5), by_lib, atol=1e-5)

# %% [markdown]
# **The protocol.** The official script (`parzen_ll.py` in `goodfeli/adversarial`) draws 10,000 samples from $G$,
# picks $\sigma$ from 10 values between 0.1 and 1 by the mean log-likelihood of 1,000 validation images, and reports
# the mean over the 10,000 test images, which $G$ never saw, ± its standard error. We do the same with two
# disjoint sets of 1,000 real images, one to pick $\sigma$ and one to report. One difference matters: in the
# committed run our real images are the 10,000 of the MNIST **test split** (the course's copy of MNIST has no train
# images; the banner under Data says which split you have), and $G$ was trained on all of them, so the estimate below
# is measured on $G$'s own training images.

# %%
g = torch.Generator().manual_seed(0)      # a private generator, so the cells after this one see the same RNG
G.eval()
with torch.no_grad():
    z_parzen = torch.randn(10_000, G.z_dim, generator=g).to(device)                           # (10000, 100)
    x_parzen = torch.cat([G(z_) for z_ in z_parzen.split(1_000)]).flatten(1) / 2 + 0.5          # (10000, 784) in [0, 1]
G.train()
perm, n_eval = torch.randperm(len(mnist), generator=g).to(device), min(1_000, len(mnist) // 4)
x_val, x_test = (mnist.to_float(perm[i * n_eval:(i + 1) * n_eval]).flatten(1) / 2 + 0.5 for i in (0, 1))
sigmas = torch.logspace(-1, 0, 10).tolist()                                                   # the official grid
val_ll = [parzen_log_likelihood(x_parzen, x_val, s).mean().item() for s in sigmas]
sigma = sigmas[max(range(len(sigmas)), key=val_ll.__getitem__)]
print("mean log p(x_val) per sigma:", {f"{s:.2f}": round(v) for s, v in zip(sigmas, val_ll)}, f"-> sigma = {sigma:.2f}")

# %% [markdown]
# Now the estimate on the other 1,000 images, beside the paper's. As a yardstick we also run the same estimate with
# real images in place of $G$'s samples: up to 10,000 of the images left over (8,000 in the committed run), with
# their own $\sigma$.

# %%
ll = parzen_log_likelihood(x_parzen, x_test, sigma)                                          # (n_eval,)
real_kernels = mnist.to_float(perm[2 * n_eval:][:10_000]).flatten(1) / 2 + 0.5              # (<= 10000, 784)
sigma_real = max(sigmas, key=lambda s: parzen_log_likelihood(real_kernels, x_val, s).mean().item())
ll_real = parzen_log_likelihood(real_kernels, x_test, sigma_real)
se = lambda v: v.std().item() / math.sqrt(len(v))                                            # standard error
print(f"Parzen log-likelihood of {len(x_test)} images, nats (higher is better):")
for name, v in [(f"our G: {len(x_parzen)} samples, sigma {sigma:.2f}", ll),
                (f"{len(real_kernels)} real images, sigma {sigma_real:.2f}", ll_real)]:
    print(f"  {name:44s} {v.mean():5.0f} ± {se(v):.0f}")
print(f"  {'paper: GAN, Goodfellow et al. 2014, Table 1':44s}   225 ± 2   (10,000 test images G never saw)")

# %% [markdown]
# **How far apart the two numbers are.** Same estimator, same pixel scale, same $\sigma$ grid and number of
# samples; but a different $G$, 1,000 evaluation images instead of 10,000 (so our ± is wider: 4 against 2), and,
# above all, images that our $G$ was trained on where the paper's were unseen, which favours a $G$ that memorises.
# Treat the comparison as a rough one. The estimator itself is a poor yardstick: in 784 dimensions 10,000 kernels
# cover the space so sparsely that the value depends mostly on $\sigma$ and on the few nearest samples. Theis, van den
# Oord & Bethge (2016) showed that even on 6×6 image patches it needs an enormous number of samples to come near
# the true log-likelihood, and that the k-means centres of a training set score higher than the training images
# themselves. The real-image row makes the same point: real digits used as kernels, a perfect "generator", score
# about as much as the paper's GAN (about 250 nats on real MNIST, against the paper's 225), so the estimate can
# hardly tell a good $G$ from the data. Our MLP $G$ scores far lower (about 100 nats in the committed run): its
# samples are recognisable but speckled, and a Gaussian kernel punishes every stray pixel. Later papers dropped it for sample-based measures such as the FID (notebook 03).

# %% [markdown]
# ## Mode collapse on a 2D mixture
#
# Images are hard to inspect for collapse. A 2D mixture of 8 Gaussians on a ring (radius 1, std 0.01, the
# setting of the PacGAN paper, notebook 08) makes it visible and countable. We measure it as PacGAN does: a
# sample is **high quality** if it lies within 3 standard deviations of its nearest mode; a mode is **covered**
# if it has at least one high-quality sample; and the **reverse KL** compares the histogram of high-quality
# samples over modes with the uniform one (0 is perfect, $\log 8 = 2.08$ means all on one mode).

# %%
mix = ring8()
x_ring = mix.sample(2000)  # (2000, 2)
print(mode_stats(x_ring, mix.centers, mix.std))
scatter_2d(x_ring, mix.centers, title="real: ring of 8"); plt.show()

# %% [markdown]
# A small helper trains a pair of MLPs on the ring and records the three numbers every few steps. The settings
# are arguments so that we can provoke each kind of failure.

# %%
from gan_utils.models.vanilla import mlp

def train_ring(z_dim, act, lr_G, lr_D, batch, steps, every, seed=0):
    torch.manual_seed(seed)
    G2, D2 = mlp((z_dim, 128, 128, 2), act).to(device), mlp((2, 128, 128, 1), act).to(device)
    opt_G2 = torch.optim.Adam(G2.parameters(), lr=lr_G, betas=(0.5, 0.999))
    opt_D2 = torch.optim.Adam(D2.parameters(), lr=lr_D, betas=(0.5, 0.999))
    log, snaps = [], []
    for step in range(1, steps + 1):
        loss_D = train_discriminator(lambda x: D2(x).squeeze(1), G2, opt_D2, mix.sample(batch).to(device),
                                     torch.randn(batch, z_dim, device=device))
        loss_G = train_generator(lambda x: D2(x).squeeze(1), G2, opt_G2, torch.randn(batch, z_dim, device=device))
        if step % every == 0:
            with torch.no_grad():
                s = G2(torch.randn(2500, z_dim, device=device)).cpu()
            log.append((step, mode_stats(s, mix.centers, mix.std), loss_D, loss_G))
            snaps.append((step, s))
    return log, snaps


# %% [markdown]
# **Run A, a healthy baseline:** 64-d noise, Tanh layers, Adam at $10^{-3}$, batch 256.
#
# **Run B, collapse:** the setting of Metz et al. (2017, Fig. 1), scaled to our ring: 256-d noise, ReLU layers,
# Adam at $10^{-4}$ for both players, batch 512, and many more steps. Same loss, same algorithm, same helper.

# %%
every = max(cfg.ring_steps // 20, 1)
log_A, snaps_A = train_ring(64, nn.Tanh, 1e-3, 1e-3, 256, cfg.ring_steps, every)
every_B = max(cfg.collapse_steps // 20, 1)
log_B, snaps_B = train_ring(256, nn.ReLU, 1e-4, 1e-4, 512, cfg.collapse_steps, every_B)
for name, log in [("A healthy", log_A), ("B collapse", log_B)]:
    print(name, "final:", log[-1][1].as_row())


# %% [markdown]
# The high-quality test (within 3 standard deviations, 0.03 here) is strict, and a collapsing $G$ rarely lands
# that precisely: it puts a tight blob *near* a mode. To see where $G$'s mass sits at each check, we assign each
# sample to its nearest mode if it lies within 0.25 of it (a third of the gap between neighbouring modes), and
# call a mode **occupied** if it holds at least 10% of the samples. The modes **visited so far** are those
# occupied at any check up to now.

# %%
def occupied_modes(samples, centers, radius=0.25, min_fraction=0.1):
    d = torch.cdist(samples, centers)  # (N, 8) distances to the modes
    near = d.min(1).values < radius
    counts = torch.bincount(d.argmin(1)[near], minlength=len(centers))
    return {int(k) for k in torch.nonzero(counts >= min_fraction * len(samples)).flatten()}

occ_B = [occupied_modes(s, mix.centers) for _, s in snaps_B]
visited_B = [len(set().union(*occ_B[:i + 1])) for i in range(len(occ_B))]
print("B, modes occupied at each check:", ["".join(map(str, sorted(o))) or "-" for o in occ_B])
print("B, modes visited so far:        ", visited_B)
print(f"B, checks with no mode occupied: {sum(not o for o in occ_B)} of {len(occ_B)}")


# %% [markdown]
# Samples over training (blue) against the 8 modes (red crosses). Run A spreads over all eight modes early and
# sharpens them. Run B is the classic picture of mode collapse: at each check all its samples form one tight blob
# on or next to a single mode, and from check to check the blob **moves from mode to mode**. Whenever $D$ learns
# to reject the current spot, $G$ jumps to another one that $D$ currently accepts; it never spreads out.

# %%
def show_runs(runs, n=6, lim=1.6):
    fig, axes = plt.subplots(len(runs), n, figsize=(2.3 * n, 2.4 * len(runs)), squeeze=False)
    for row, (name, snaps) in zip(axes, runs):
        for ax, i in zip(row, np.linspace(0, len(snaps) - 1, n).round().astype(int)):
            step, s = snaps[i]
            scatter_2d(s, mix.centers, ax=ax, title=f"{name}, step {step}", lim=lim)
            ax.set_xticks([]); ax.set_yticks([])
    fig.tight_layout(); plt.show()

show_runs([("A", snaps_A), ("B", snaps_B)])

# %% [markdown]
# The same in numbers. Left: at each check, the modes B occupies next to the modes it has visited so far. In the
# committed run B never occupies more than one mode, and 7 of the 8 are visited in turn; at 7 of the 20 checks
# the blob sits just off a mode or between two, so none is occupied. Right: A against B on the strict PacGAN
# measure, modes covered by high-quality samples: A covers all 8 from early on, B at most 1.

# %%
steps_B = [s for s, *_ in log_B]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.2))
ax1.step(steps_B, [len(o) for o in occ_B], where="mid", marker="o", label="modes occupied at this check")
ax1.plot(steps_B, visited_B, marker="s", label="modes visited so far")
ax1.set(xlabel="step", ylabel="modes (of 8)", ylim=(-0.3, 8.3), title="run B: collapse that moves")
for name, log in [("A healthy", log_A), ("B collapse", log_B)]:
    ax2.plot([s for s, *_ in log], [st.modes_covered for _, st, *_ in log], marker="o", label=name)
ax2.set(xlabel="step", ylabel="modes covered (of 8)", ylim=(-0.3, 8.3), title="high-quality coverage")
for ax in (ax1, ax2):
    ax.legend(fontsize=8); ax.grid(alpha=0.3)
plt.show()
most = max(len(o) for o in occ_B)
print(f"B: at most {most} mode{'s' * (most != 1)} occupied at any check; {visited_B[-1]} of 8 visited by the end")

# %% [markdown]
# ### The second face: a discriminator that is stuck
#
# Collapse is usually told from $G$'s side. The article describes the other side too: a $D$ stuck in a poor
# local minimum, against which "it's too easy for the generator" to win. A learner meets it with one typo: run A's
# settings with $D$'s learning rate typed as `1e-6` instead of `1e-3`. Adam moves each weight by about the
# learning rate per step, so over the whole run $D$'s weights move by a few thousandths and $D$ stays close to
# its random initial function. $G$, at full speed, climbs towards wherever that almost fixed $D$ happens to score
# highest. Run C does this from 3 seeds, with the same measures as A and B, plus where $G$'s samples end up.

# %%
lr_D_typo = 1e-6  # meant 1e-3, as in run A
runs_C = [train_ring(64, nn.Tanh, 1e-3, lr_D_typo, 256, cfg.ring_steps, every, seed=s) for s in range(3)]
log_C, snaps_C = runs_C[0]
for s, (log, snaps) in enumerate(runs_C):
    last = snaps[-1][1]
    print(f"C seed {s}: {log[-1][1].as_row()}; G's loss {log[-1][3]:.2f} (log 2 = 0.69); samples' centre "
          f"{last.mean(0).norm():.1f} from the ring's, spread {last.std(0).max():.2f} (ring radius 1)")

# %% [markdown]
# In none of the three seeds does $G$ find the data: at most one mode is covered and at most 0.12% of the samples
# are high quality (run A: all 8 modes, 69%). Where $G$ goes depends only on the random $D$ it faces: a thin streak
# about 7 units from the ring (seed 0), a single point at the ring's centre, equally far from all eight modes
# (seed 1), a single point about 100 units away (seed 2). The snapshots of seed 0 need a larger window: the ring
# (red crosses) is the small circle at the centre, and the blue marks are all of $G$'s samples.
#
# Below them, $G$'s loss in each run. It does **not** give the failure away: C's losses stay in the same band as
# the healthy run A, around $\log 2$ (below it for most of seeds 0 and 1, above it at the end of seed 2). A $G$ can
# look as if it plays a fair game against a $D$ that has stopped learning; only a look at the samples, or a
# measure on them, shows it.

# %%
far = float(max(s.abs().max() for _, s in snaps_C)) * 1.15
show_runs([("C seed 0", snaps_C)], n=4, lim=far)
fig, ax = plt.subplots(figsize=(7, 3))
for name, log in [("A healthy", log_A)] + [(f"C seed {k}", log) for k, (log, _) in enumerate(runs_C)]:
    ax.plot([s for s, *_ in log], [lg for *_, lg in log], marker="o", ms=3, label=f"{name}: G's loss")
ax.axhline(math.log(2), ls=":", color="gray", label="log 2 (D(G(z)) = 1/2)")
ax.set(xlabel="step", ylabel="G's loss"); ax.legend(); ax.grid(alpha=0.3); plt.show()

# %% [markdown]
# | run | what goes wrong | symptom in the numbers |
# |---|---|---|
# | A | nothing | all 8 modes covered, high quality rising |
# | B | $G$ collapses and hops between modes | at most one mode occupied at a time, more and more modes visited |
# | C | $D$ barely learns (learning rate 1000 times too small), so $G$ wins too easily | no sample near the data, while $G$'s loss looks ordinary |
#
# Remedies come later in the course: minibatch discrimination and feature matching (05), packing (08), and
# many others. Your exact figures depend on the seed; the pattern does not.
#
# ## Summary
#
# * A GAN is a game: $D$ maximises $V$, $G$ minimises it; against the best $D^*$, $G$ minimises the JSD.
# * In practice $G$ maximises $\log D(G(z))$ (non-saturating) because the minimax loss has no gradient early on.
# * Training alternates $k$ D steps with one G step; the losses oscillate rather than converge.
# * An MLP GAN learns MNIST digits, speckled but recognisable.
# * Collapse shows up as few modes covered; a stuck $D$ shows in the samples, not in $G$'s loss.
#
# ## Exercises
#
# Exercises 1 and 2 are above, where the losses and the training steps are taught: the notebook trains with your
# code. Each coded exercise has a cell to fill in and a check cell that tells you whether you got it right; it
# never shows the answer. Your teacher may hand out the student copy in `student/`, whose checks also hold
# hidden tests that only the grader runs.
#
# **Exercise 3.** At a point $x$ where $p_\text{data}(x) = 0.3$ and $p_g(x) = 0.1$, what is $D^*(x)$? And what is
# $D^*$ everywhere when $p_g = p_\text{data}$? Fill in both numbers.

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
d_star_at_x = None        # your answer: D*(x) when p_data = 0.3, p_g = 0.1
d_star_when_equal = None  # your answer: D* when p_g = p_data
### BEGIN SOLUTION
d_star_at_x = 0.3 / (0.3 + 0.1)
d_star_when_equal = 0.5
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_that(None if d_star_at_x is None else 0 < d_star_at_x < 1, "D*(x) is a probability",
           hint="Reread 'The optimal discriminator' in The idea.");
### BEGIN HIDDEN TESTS
check(d_star_at_x, 0.75, "D*(x)", hint="Reread 'The optimal discriminator' in The idea.")
check(d_star_when_equal, 0.5, "D* at equilibrium", hint="Put p_g = p_data into the same formula.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 4.** Write the optimal discriminator for two 1D Gaussians, $p_\text{data} = \mathcal N(\mu_d, s_d^2)$
# and $p_g = \mathcal N(\mu_g, s_g^2)$, as a function of $x$, **without** `torch.distributions`: write the Gaussian
# density $\mathcal N(x; \mu, s^2) = e^{-(x - \mu)^2 / 2s^2} / (s\sqrt{2\pi})$ yourself. The check feeds points as
# far out as $x = 15$, where both densities are smaller than the smallest float.

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
def my_optimal_D(x, mu_d, s_d, mu_g, s_g):
    # x: a tensor of points -> D*(x), a tensor shaped like x
    ### BEGIN SOLUTION
    log_normal = lambda x, mu, s: -0.5 * ((x - mu) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
    return torch.sigmoid(log_normal(x, mu_d, s_d) - log_normal(x, mu_g, s_g))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
xs_ex = torch.tensor([-2.0, 0.0, 0.75, 2.0, 15.0])
got = my_optimal_D(xs_ex, 0.0, 1.0, 1.5, 0.7)
check_that(got.shape == xs_ex.shape and torch.isfinite(got).all() and ((got >= 0) & (got <= 1)).all(),
           "finite probabilities, one per point", hint="Far in the tails both densities underflow to 0: what "
           "happens to a ratio of two zeros? Work with something that does not underflow.")
check_that(torch.allclose(my_optimal_D(xs_ex, 0.3, 1.0, 0.3, 1.0), torch.full((5,), 0.5)), "equal densities",
           hint="Reread what D* is when p_g = p_data.");
### BEGIN HIDDEN TESTS
check(got, optimal_D(xs_ex), "D* of two Gaussians")
check(my_optimal_D(xs_ex, 1.0, 2.0, -1.0, 0.5), torch.sigmoid(torch.distributions.Normal(1.0, 2.0).log_prob(xs_ex)
      - torch.distributions.Normal(-1.0, 0.5).log_prob(xs_ex)), "D* of two other Gaussians");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5 (extend).** The least-squares GAN (Mao et al., 2017) replaces the log-loss with squared errors on
# $D$'s raw output $a$ (no sigmoid): $D$ pulls $a$ towards 1 on real samples and 0 on fakes,
# $\mathcal L_D = \tfrac12\mathbb E[(a_\text{real} - 1)^2] + \tfrac12\mathbb E[a_\text{fake}^2]$, and $G$ pulls
# $D$'s output on its fakes towards 1, $\mathcal L_G = \tfrac12\mathbb E[(a_\text{fake} - 1)^2]$. Write both.
# Then think about the saturation plot above: what is the gradient of $\mathcal L_G$ when $D$ rejects a fake with
# a very negative output, compared with the saturating loss's?

# %% nbgrader={"grade": false, "grade_id": "ex5", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ls_d_loss(d_real, d_fake):
    # d_real, d_fake: (B, 1) raw outputs of D -> a scalar tensor
    ### BEGIN SOLUTION
    return 0.5 * ((d_real - 1) ** 2).mean() + 0.5 * (d_fake ** 2).mean()
    ### END SOLUTION


def ls_g_loss(d_fake):
    ### BEGIN SOLUTION
    return 0.5 * ((d_fake - 1) ** 2).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
ones, zeros = torch.ones(4, 1), torch.zeros(4, 1)
check_that(ls_d_loss(ones, zeros) == 0 and ls_g_loss(ones) == 0 and ls_d_loss(zeros, ones) > 0,
           "zero exactly at the targets", hint="Reread the targets: 1 for real, 0 for fake in D's loss, 1 in G's.")
a_ls = torch.tensor([[-10.0]], requires_grad=True)
grad_ls = torch.autograd.grad(ls_g_loss(a_ls), a_ls)[0].abs().item()
check_that(grad_ls > 1, "G keeps a strong gradient on rejected fakes",
           hint="Differentiate (a - 1)^2 / 2: its gradient grows with the distance from the target.");
### BEGIN HIDDEN TESTS
r, f = torch.tensor([[0.5], [2.0], [-1.0]]), torch.tensor([[0.2], [-3.0], [1.5]])
check(ls_d_loss(r, f), 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean(), "LSGAN L_D")
check(ls_g_loss(f), 0.5 * ((f - 1) ** 2).mean(), "LSGAN L_G");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 6.** Count the modes covered by the samples of run B at its last check, by hand: assign every sample
# to its nearest centre, keep those within 3 standard deviations of it, and count the modes that got at least
# one sample.

# %% nbgrader={"grade": false, "grade_id": "ex6", "locked": false, "schema_version": 3, "solution": true, "task": false}
def my_modes_covered(samples, centers, std):
    # samples: (N, 2), centers: (8, 2), std: the modes' standard deviation -> an int
    ### BEGIN SOLUTION
    dist, idx = torch.cdist(samples, centers).min(dim=1)
    return len(torch.unique(idx[dist <= 3 * std]))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex6_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
last_B = snaps_B[-1][1]
n_B = my_modes_covered(last_B, mix.centers, mix.std)
check_that(isinstance(n_B, int) and 0 <= n_B <= len(mix.centers), "an int between 0 and 8",
           hint="Count modes, not samples.")
check_that(my_modes_covered(mix.centers, mix.centers, mix.std) == len(mix.centers), "every centre covers itself",
           hint="A sample exactly on a centre is at distance 0 from it.");
### BEGIN HIDDEN TESTS
g = torch.Generator().manual_seed(5)
three = mix.centers[[0, 3, 5]].repeat_interleave(20, 0) + 0.5 * mix.std * torch.randn(60, 2, generator=g)
far = torch.full((10, 2), 5.0)
check([n_B, my_modes_covered(three, mix.centers, mix.std), my_modes_covered(far, mix.centers, mix.std),
       my_modes_covered(torch.cat([three, far]), mix.centers, mix.std)],
      [mode_stats(s, mix.centers, mix.std).modes_covered for s in (last_B, three, far, torch.cat([three, far]))],
      "modes covered on four sample sets", hint="Reread the rule: nearest centre, within 3 standard deviations.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 7 (open).** Rerun run B with $k = 5$ discriminator steps per generator step (add a `k` argument to
# `train_ring`). Does a stronger $D$ cure the hopping, or only slow it? And what happens to run A with the
# *saturating* loss? Write down what you expect before you run it.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** *For the grader.* Full marks need: a prediction written before the runs (1 point); the
# $k = 5$ run at the same number of generator steps as run B, with the modes occupied at each check and the modes
# visited, as printed above for B (2 points): the usual outcome is that the blob still hops, at most a little
# more slowly, since a stronger $D$ rejects the current spot faster; the saturating run A measured the same way
# (modes covered, high-quality share), where $G$ learns far more slowly or not at all because its gradient
# vanishes when $D$ rejects its samples (the saturation plot) (2 points). Claims with one seed are worth less than
# claims over 3 seeds.

# %% [markdown]
# ## References
#
# * I. Goodfellow et al. *Generative Adversarial Nets.* NeurIPS 2014. Official code: `goodfeli/adversarial`.
# * L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein. *Unrolled Generative Adversarial Networks.* ICLR 2017 (the
#   ring-of-Gaussians collapse experiment).
# * Z. Lin, A. Khetan, G. Fanti, S. Oh. *PacGAN: The power of two samples in GANs.* NeurIPS 2018 (the mode
#   metrics used here).
