# %% [markdown]
# # 01 · Vanilla GAN
#
# **Paper:** Ian J. Goodfellow, Jean Pouget-Abadie, Mehdi Mirza, Bing Xu, David Warde-Farley, Sherjil Ozair,
# Aaron Courville, Yoshua Bengio. *Generative Adversarial Nets.* NeurIPS 2014.
# [arXiv:1406.2661](https://arxiv.org/abs/1406.2661)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/main/notebooks/01_vanilla_gan.ipynb)
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: tiny sizes, same code | ≈ 40 s (measured) | ≈ 25 s (H200, measured) |
# | `default` | real results: 8k MNIST steps, three 2D runs | ≈ 6 min (measured) | ≈ 1.5 min (estimate: 20k steps took 3 min on an H200) |
# | `full` | 100k MNIST steps at batch 100 | ≈ 1 h (estimate) | ≈ 15 min (estimate) |
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
import subprocess
import sys

if "google.colab" in sys.modules:  # True only on Colab
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "git+https://github.com/gan-course/gans-from-scratch.git"], check=True)

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
from gan_utils.exercises import check
from gan_utils.metrics.mixtures import mode_stats
from gan_utils.training import Trainer
from gan_utils.viz import plot_losses, plot_snapshots, scatter_2d, show_grid

# %% [markdown]
# `setup()` reads the run mode from `GAN_MODE`, seeds Python, NumPy and torch, picks the device
# (CUDA, then Apple's MPS, then CPU), and finds the data. The sizes below are the only thing the modes change;
# the code path is the same in all three. Paper values are in the comments.

# %%
SIZES = {
    #           MNIST steps   batch (paper: 100)   2D-ring steps   snapshot every
    "fast":    dict(steps=300, batch=64, ring_steps=300, sample_every=100),
    "default": dict(steps=8_000, batch=64, ring_steps=2_500, sample_every=1_000),
    "full":    dict(steps=100_000, batch=100, ring_steps=10_000, sample_every=10_000),
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

# %%
def d_loss(d_real, d_fake):
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()

def g_loss_saturating(d_fake):
    return -F.softplus(d_fake).mean()

def g_loss_nonsaturating(d_fake):
    return F.softplus(-d_fake).mean()


# %% [markdown]
# A hand-computed check: with $D(x) = 0.8$ on a real image and $D(G(z)) = 0.3$ on a fake one,
# $\mathcal L_D = -\log 0.8 - \log 0.7 = 0.5798$, $\mathcal L_G^\text{sat} = \log 0.7 = -0.3567$ and
# $\mathcal L_G^\text{ns} = -\log 0.3 = 1.2040$. The same functions, promoted, are in `gan_utils.losses`.

# %%
from gan_utils import losses

logit = lambda p: torch.tensor([math.log(p / (1 - p))])
a_real, a_fake = logit(0.8), logit(0.3)
print(f"L_D = {d_loss(a_real, a_fake):.4f}, L_G sat = {g_loss_saturating(a_fake):.4f}, "
      f"L_G ns = {g_loss_nonsaturating(a_fake):.4f}")
assert math.isclose(d_loss(a_real, a_fake).item(), -math.log(0.8) - math.log(0.7), rel_tol=1e-6)
assert torch.allclose(d_loss(a_real, a_fake), losses.d_loss_bce(a_real, a_fake))
assert torch.allclose(g_loss_nonsaturating(a_fake), losses.g_loss_nonsaturating(a_fake))

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
# option"). Here are both steps, written out.

# %%
def train_discriminator(D, G, opt_D, x_real, z):
    with torch.no_grad():
        x_fake = G(z)                      # G is fixed during D's step
    loss = d_loss(D(x_real), D(x_fake))
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.item()


# %%
def train_generator(D, G, opt_G, z):
    loss = g_loss_nonsaturating(D(G(z)))   # gradients flow through D into G
    opt_G.zero_grad(set_to_none=True)
    loss.backward()                        # D's parameters get gradients too; its own next step clears them
    opt_G.step()
    return loss.item()


# %% [markdown]
# These two functions are promoted to `gan_utils.training`. Run from the same weights and the same batch, both
# versions give the same loss:

# %%
from gan_utils import training

def one_step(step_fn, *args):
    torch.manual_seed(1)
    G_, D_ = Generator().to(device), Discriminator().to(device)
    opt_ = torch.optim.Adam(D_.parameters() if step_fn.__name__ == "train_discriminator" else G_.parameters())
    torch.manual_seed(2)
    return step_fn(D_, G_, opt_, *args)

z8 = torch.randn(8, 100, device=device)
# equal up to float rounding (the library computes the same loss with BCE-with-logits)
assert math.isclose(one_step(train_discriminator, x_real[:8], z8),
                    one_step(training.train_discriminator, x_real[:8], z8), rel_tol=1e-5)
assert math.isclose(one_step(train_generator, z8), one_step(training.train_generator, z8), rel_tol=1e-5)
print("gan_utils.training matches")

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
show_grid(mnist.batch(64)[0], ax=ax1, title=f"real ({mnist.source})")
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
# **Run B, collapse:** 2-d noise, ReLU layers, a higher learning rate ($2\cdot10^{-3}$) and batch 128. Same loss,
# same algorithm.

# %%
every = max(cfg.ring_steps // 20, 1)
log_A, snaps_A = train_ring(64, nn.Tanh, 1e-3, 1e-3, 256, cfg.ring_steps, every)
log_B, snaps_B = train_ring(2, nn.ReLU, 2e-3, 2e-3, 128, cfg.ring_steps, every, seed=1)
for name, log in [("A healthy", log_A), ("B collapse", log_B)]:
    print(name, "final:", log[-1][1].as_row())


# %% [markdown]
# Samples over training (blue) against the 8 modes (red crosses). For most of its run, B's generator squeezes
# its mass onto a narrow blob or curve that sits near **one mode at a time and hops between modes**: whenever $D$
# learns to reject the current spot, $G$ jumps to another one that $D$ currently accepts. Run A spreads over all
# eight modes early and sharpens them.

# %%
def show_runs(runs, n=5):
    fig, axes = plt.subplots(len(runs), n, figsize=(2.6 * n, 2.7 * len(runs)))
    for row, (name, snaps) in zip(axes, runs):
        for ax, i in zip(row, np.linspace(0, len(snaps) - 1, n).round().astype(int)):
            step, s = snaps[i]
            scatter_2d(s, mix.centers, ax=ax, title=f"{name}, step {step}", lim=1.6)
            ax.set_xticks([]); ax.set_yticks([])
    fig.tight_layout(); plt.show()

show_runs([("A", snaps_A), ("B", snaps_B)])

# %% [markdown]
# The numbers over training: modes covered (of 8), high-quality fraction, and which mode B's high-quality samples
# mostly sit on at each check ('-' when it has none). Collapse is often a *phase*: late in a run $G$ may escape it,
# as it does here near the end, still with far fewer samples on the modes than A.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.2))
for name, log in [("A healthy", log_A), ("B collapse", log_B)]:
    steps = [s for s, *_ in log]
    ax1.plot(steps, [st.modes_covered for _, st, *_ in log], marker="o", label=name)
    ax2.plot(steps, [100 * st.high_quality for _, st, *_ in log], marker="o", label=name)
ax1.set(xlabel="step", ylabel="modes covered (of 8)", ylim=(-0.3, 8.3)); ax2.set(xlabel="step", ylabel="high quality %")
for ax in (ax1, ax2):
    ax.legend(); ax.grid(alpha=0.3)
plt.show()
print("B's most-used mode at each check:", [int(np.argmax(st.counts)) if sum(st.counts) else "-" for _, st, *_ in log_B])

# %% [markdown]
# ### The second face: a discriminator that is stuck
#
# Collapse is usually told from $G$'s side. The other side is a $D$ that stops learning: it cannot tell real from
# fake, so $G$ meets no resistance and its loss looks excellent while its samples are wrong. We reproduce it by
# giving run A's $D$ a learning rate 1000 times smaller. $D$ then stays close to the random function it started as,
# and $G$ simply drifts towards wherever that frozen $D$ happens to score high. Its loss $-\log D(G(z))$ wanders and
# ends well below $\log 2$ ($D(G(z)) > \tfrac12$): $G$ "wins" without ever visiting the data.

# %%
log_C, snaps_C = train_ring(64, nn.Tanh, 1e-3, 1e-6, 256, cfg.ring_steps, every)
print("C stuck D, final:", log_C[-1][1].as_row())
show_runs([("A", snaps_A), ("C stuck D", snaps_C)], n=4)

# %%
fig, ax = plt.subplots(figsize=(7, 3))
for name, log in [("A healthy", log_A), ("C stuck D", log_C)]:
    ax.plot([s for s, *_ in log], [lg for *_, lg in log], marker="o", label=f"{name}: G's loss")
ax.axhline(math.log(2), ls=":", color="gray", label="log 2 (D(G(z)) = 1/2)")
ax.set(xlabel="step", ylabel="G's loss"); ax.legend(); ax.grid(alpha=0.3); plt.show()

# %% [markdown]
# | run | what goes wrong | symptom in the numbers |
# |---|---|---|
# | A | nothing | all 8 modes, high quality rising |
# | B | $G$ collapses and hops between modes | 0–1 modes covered for most of the run, the favourite mode changing |
# | C | $D$ stuck, so $G$ wins too easily | $G$'s loss low, few high-quality samples |
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
# * Collapse shows up as few modes covered; a stuck $D$ shows up as a suspiciously happy $G$.
#
# ## Exercises
#
# Each exercise has a cell to fill in and a check cell that tells you whether you got it right. Solutions are
# at the end, folded.
#
# **Exercise 1.** At a point $x$ where $p_\text{data}(x) = 0.3$ and $p_g(x) = 0.1$, what is $D^*(x)$? And what is
# $D^*$ everywhere when $p_g = p_\text{data}$? Fill in both numbers.

# %%
d_star_at_x = None        # your answer: D*(x) when p_data = 0.3, p_g = 0.1
d_star_when_equal = None  # your answer: D* when p_g = p_data

# %%
check(d_star_at_x, 0.75, "D*(x)", hint="Use D* = p_data / (p_data + p_g).")
check(d_star_when_equal, 0.5, "D* at equilibrium", hint="Set p_g = p_data in the same formula.");


# %% [markdown]
# **Exercise 2.** Write the saturating generator loss $\mathbb E[\log(1 - D(G(z)))]$ from **logits**, in a way
# that does not overflow for large logits (hint: $\log(1 - \sigma(a)) = -\mathrm{softplus}(a)$; do not compute
# $1 - \sigma(a)$). Then compute its gradient at $D(G(z)) = 0.01$.

# %%
def my_g_loss_saturating(d_fake_logits):
    return None  # your code here


def my_gradient_at(p=0.01):
    # return |d loss / d logit| for one sample with D(G(z)) = p, using my_g_loss_saturating
    return None  # your code here


# %%
extreme = torch.tensor([-50.0, 0.0, 50.0])
got = my_g_loss_saturating(extreme)
check(None if got is None else float(got), float(losses.g_loss_saturating(extreme)), "saturating loss",
      hint="Average -softplus(a) over the batch.")
check(my_gradient_at(), 0.01, "gradient at D(G(z)) = 0.01",
      hint="Make a logit tensor with requires_grad=True, call your loss, and take torch.autograd.grad.");


# %% [markdown]
# **Exercise 3.** Count the modes covered by the samples of run B at its last check, by hand: assign every sample
# to its nearest centre, keep those within 3 standard deviations, and count the modes that got at least one.

# %%
def my_modes_covered(samples, centers, std):
    return None  # your code here: an int


# %%
last_B = snaps_B[-1][1]
check(my_modes_covered(last_B, mix.centers, mix.std), mode_stats(last_B, mix.centers, mix.std).modes_covered,
      "modes covered", hint="torch.cdist(samples, centers).min(dim=1) gives distance and index of the nearest centre.");

# %% [markdown]
# **Exercise 4 (open).** Rerun run B with $k = 5$ discriminator steps per generator step (add a `k` argument to
# `train_ring`). Does a stronger $D$ cure the hopping, or only slow it? And what happens to run A with the
# *saturating* loss? Write down what you expect before you run it.
#
# <details><summary>Solutions</summary>
#
# ```python
# d_star_at_x = 0.3 / (0.3 + 0.1)   # 0.75
# d_star_when_equal = 0.5
#
# def my_g_loss_saturating(d_fake_logits):
#     return -F.softplus(d_fake_logits).mean()
#
# def my_gradient_at(p=0.01):
#     a = torch.tensor([math.log(p / (1 - p))], requires_grad=True)
#     return torch.autograd.grad(my_g_loss_saturating(a), a)[0].abs().item()
#
# def my_modes_covered(samples, centers, std):
#     dist, idx = torch.cdist(samples, centers).min(dim=1)
#     return len(torch.unique(idx[dist <= 3 * std]))
# ```
# </details>
#
# ## References
#
# * I. Goodfellow et al. *Generative Adversarial Nets.* NeurIPS 2014. Official code: `goodfeli/adversarial`.
# * L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein. *Unrolled Generative Adversarial Networks.* ICLR 2017 (the
#   ring-of-Gaussians collapse experiment).
# * Z. Lin, A. Khetan, G. Fanti, S. Oh. *PacGAN: The power of two samples in GANs.* NeurIPS 2018 (the mode
#   metrics used here).
