# %% [markdown]
# # 06 · AC-GAN: conditional GANs with an auxiliary classifier
#
# **Paper:** Augustus Odena, Christopher Olah, Jonathon Shlens. *Conditional Image Synthesis with Auxiliary
# Classifier GANs.* ICML 2017. [arXiv:1610.09585](https://arxiv.org/abs/1610.09585)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/06_acgan.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: tiny sizes, same code | ≈ 10 s (measured) | ≈ 15 s (estimate) |
# | `default` | 3k steps on CIFAR-10 (width 32) for AC-GAN and for the same networks without the auxiliary classifier, 2 seeds each; MS-SSIM per class, accuracies | ≈ 15 min (measured)\* | ≈ 4 min (estimate) |
# | `full` | 50k steps at batch 100 (the paper's schedule), width 64, 3 seeds each | ≈ 18 h (estimate) | ≈ 1.5 h on a T4 (estimate: six runs of about 15 min, counted FLOPs) |
#
# \* Measured on the machine that made these outputs: 15.7 min for this run, 14.9 of them training the four runs
# (3.5 to 3.9 min each, 69 ms per AC-GAN step). A machine of the same kind ran the same AC-GAN step at 42 ms in an
# earlier session, so the run takes about 10 min on a quiet 2-core machine; 2-core machines differ by up to 2.5×.
# The first run on a machine also trains the CIFAR domain classifier (about 21 s; then it is cached).
#
# **Steps.** Until the baseline was added, `default` trained one AC-GAN for 10,000 steps. Four runs of that length
# do not fit the 15-minute budget, so every run, AC-GAN's and the baseline's, now takes 3,000 steps: a fair
# comparison at fewer steps. The paper trains for 50,000 (`full`).
#
# The outputs you see come from a `default` run on real data: the CIFAR-10 test split as JPEGs (10,000 images,
# 1,000 per class), of which 8,000 train the GAN and 2,000 are held out.

# %% [markdown]
# ## What you will learn
#
# * the AC-GAN objective: two log-likelihoods, $L_S$ for the **source** (real or fake) and $L_C$ for the
#   **class**, and why $D$ maximises $L_S + L_C$ while $G$ maximises $L_C - L_S$;
# * a discriminator with **two heads** on one body: it does not see the label, it has to *predict* it;
# * a **class × noise grid**: one row per class, the same $z$ down each column;
# * **MS-SSIM** as a diversity measure (lower is more diverse), per class, for samples and for real images, and the
#   share of classes whose samples are at least as diverse as the real ones, beside the paper's 84.7%;
# * what the auxiliary classifier itself does to diversity, against a **baseline**: the same networks, optimiser and
#   steps without it (a conditional GAN whose $D$ receives the label, as in notebook 02), over several seeds;
# * how to find a **collapsed class** by its MS-SSIM, and how well the auxiliary classifier and an independent
#   classifier recognise the generated classes.
#
# **What changes from notebooks 02 and 03:** $G$ is notebook 03's DCGAN generator with the label joined to $z$, as
# in notebook 02. $D$ is notebook 03's DCGAN discriminator, but instead of *receiving* the label (notebook 02) it
# gets a second output that *classifies* the image. The training step is new.

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
import inspect
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

import gan_utils
from gan_utils.data.cifar import load_cifar10
from gan_utils.teaching import check, check_that
from gan_utils.metrics.classifier import get_domain_classifier
from gan_utils.metrics.diversity import mean_pairwise_ms_ssim
from gan_utils.metrics.fid_is import conditional_accuracy
from gan_utils.nn.init import weights_init
from gan_utils.train.trainer import Trainer
from gan_utils.display.viz import plot_losses, plot_snapshots, show_grid
from gan_utils.display.widgets import interact
from gan_utils.losses import d_loss_bce, g_loss_nonsaturating
from gan_utils.nn.conditioning import one_hot

# %% [markdown]
# Sizes per mode; only these change between `fast`, `default` and `full`. `width` is notebook 03's `ngf`/`ndf`.
# `seeds` is the number of training seeds for each of the two models compared (AC-GAN and the baseline without the
# auxiliary classifier), `n_per_class` how many samples per class the diversity and accuracy measurements use, and
# `n_pairs` how many random same-class pairs enter each mean MS-SSIM. The paper's values are in the comment.

# %%
SIZES = {  # paper (CIFAR-10, Appendix A): batch 100, 50,000 steps; 100 pairs per class for MS-SSIM (unverified)
    "fast":    dict(steps=60, seeds=2, batch=64, width=16, sample_every=20, clf_epochs=1, n_per_class=50,
                    n_pairs=100),
    "default": dict(steps=3_000, seeds=2, batch=64, width=32, sample_every=500, clf_epochs=5, n_per_class=500,
                    n_pairs=500),
    "full":    dict(steps=50_000, seeds=3, batch=100, width=64, sample_every=5_000, clf_epochs=15, n_per_class=1_000,
                    n_pairs=1_000),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="06_acgan")
device = cfg.device

# %% [markdown]
# ## The idea
#
# In notebook 02, $D$ was *given* the label $y$ and judged (image, label) pairs. AC-GAN gives $G$ the class $c$
# as before, but $D$ sees only the image and answers two questions: **is it real?** (the source $S$) and **which
# class is it?** (the class $C$). Its two outputs are $P(S \mid X)$ and $P(C \mid X)$, and the objective has two
# log-likelihoods of the correct answers:
#
# $$
# L_S = \mathbb{E}\left[\log P(S = \text{real} \mid X_\text{real})\right]
#     + \mathbb{E}\left[\log P(S = \text{fake} \mid X_\text{fake})\right],
# $$
# $$
# L_C = \mathbb{E}\left[\log P(C = c \mid X_\text{real})\right]
#     + \mathbb{E}\left[\log P(C = c \mid X_\text{fake})\right],
# $$
#
# with $X_\text{fake} = G(c, z)$. **$D$ maximises $L_S + L_C$**: it wants to tell real from fake *and* name the
# class of every image. **$G$ maximises $L_C - L_S$**: it wants its images to pass as real (a low $L_S$) *and* to
# be recognised as the class it was asked for (a high $L_C$). On the class, the two players cooperate; on the
# source, they compete.
#
# ```
#  z (100) ──┐                                                       ┌─► source logit  → P(S | x)
#            ├─ concat (110) ─ DCGAN G ─► x (3×32×32) ─ DCGAN D body ┤
#  c one-hot ┘                                                       └─► 10 class logits → P(C | x)
# ```
#
# Why should this help? Asking $D$ to classify makes it learn class features, and $G$ gets a gradient that points
# towards "more like class $c$", not only "more real". The paper found that this made training more stable and
# the samples more recognisable, and it studied the cost: does $G$ still produce **diverse** samples within a
# class? That is what MS-SSIM measures, at the end of this notebook.
#
# | setting | paper (CIFAR-10) | this notebook |
# |---|---|---|
# | $G$ | 110 inputs, Linear, 3 transposed convs 5×5 | notebook 03's $G$ with 110 inputs, transposed convs 4×4 |
# | $D$ | 6 conv layers 3×3, dropout 0.5, one Linear with 11 outputs | notebook 03's $D$ (3 convs 4×4), dropout 0.5 before one Linear with 11 outputs |
# | optimiser | Adam, lr 2e-4, $\beta_1 = 0.5$ | the same |
# | init | $\mathcal N(0, 0.02)$ | the same (`gan_utils.nn.init.weights_init`) |
# | batch, steps | 100, 50,000 | see `SIZES` above |

# %% [markdown]
# ## Data
#
# CIFAR-10 as in notebook 03: 32×32 colour images in 10 classes, held in memory. We hold out a fixed part that the
# GAN never trains on, so that the auxiliary classifier can be tested on unseen real images. It is the same part
# that the course's CIFAR domain classifier holds out (2,000 images, or a fifth of a small set), so both
# classifiers are tested on the same images.

# %%
cifar = load_cifar10(**cfg.data_kwargs)
n_test = min(2_000, len(cifar) // 5)                # the domain classifier's hold-out rule
train_set, test_set = cifar.split(n_test, cfg.seed)
K = len(cifar.classes)
print(f"{K} classes: {', '.join(cifar.classes)}")
print(f"{len(train_set):,} training images, {len(test_set):,} held out")


# %% [markdown]
# One row per class, which is also how we will show the generated images:

# %%
def show_class_grid(x, nrow, class_names, ax=None, title=None, figsize=(7, 8)):
    ax = show_grid(x, nrow=nrow, ax=ax, title=title, figsize=figsize)
    side = x.shape[-1] + 2                                    # image plus make_grid's 2-px padding
    for i, name in enumerate(class_names):
        ax.text(-4, 2 + i * side + side / 2, name, ha="right", va="center", fontsize=9)
    return ax


rows = torch.stack([torch.nonzero(train_set.labels == k)[:10, 0] for k in range(K)])  # (K, 10)
show_class_grid(train_set.to_float(rows.flatten()), 10, cifar.classes, title=f"{cifar.source} data")
plt.show()
print("training images per class:", torch.bincount(train_set.labels, minlength=K).tolist())


# %% [markdown]
# ## Building blocks
#
# **The generator** is notebook 03's DCGAN generator, with the class joined to $z$ as a one-hot vector, as in
# notebook 02: 100 + 10 = 110 inputs, the number in the paper's CIFAR-10 table. The linear layer projects them
# to a $4\,\text{ngf} \times 4 \times 4$ stack, and three stride-2 transposed convolutions double it to 32×32.

# %%
class Generator(nn.Module):
    def __init__(self, z_dim=100, n_classes=10, ngf=32):
        super().__init__()
        self.z_dim, self.n_classes = z_dim, n_classes
        self.project = nn.Sequential(nn.Linear(z_dim + n_classes, 4 * ngf * 4 * 4, bias=False),
                                     nn.Unflatten(1, (4 * ngf, 4, 4)), nn.BatchNorm2d(4 * ngf), nn.ReLU())
        self.body = nn.Sequential(
            nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ngf), nn.ReLU(),  # 8x8
            nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(),  # 16x16
            nn.ConvTranspose2d(ngf, 3, 4, 2, 1), nn.Tanh())  # 32x32

    def forward(self, z, y):
        h = torch.cat([z, F.one_hot(y, self.n_classes).float()], dim=1)  # (B, 110)
        return self.body(self.project(h))                               # (B, 3, 32, 32)


# %%
G = Generator(ngf=cfg.width).to(device)
G.apply(weights_init)
z, y = torch.randn(K, 100, device=device), torch.arange(K, device=device)  # (10, 100), (10,)
x_fake = G(z, y)                                                          # (10, 3, 32, 32)
assert x_fake.shape == (K, 3, 32, 32)
print("G(z, c):", tuple(x_fake.shape))


# %% [markdown]
# **The discriminator** is notebook 03's DCGAN discriminator with one change at the top: its final linear layer
# has $1 + K$ outputs instead of one. Column 0 is the **source logit** ($P(S=\text{real} \mid x) = \sigma(\cdot)$),
# columns $1..K$ are the **class logits** ($P(C \mid x) = \text{softmax}(\cdot)$). Both heads share every conv
# layer. The paper uses dropout 0.5 in $D$; we apply it once, to the shared features before the heads. Note what
# is *not* there: $D$ takes no label.
#
# Both networks are promoted to `gan_utils.models.acgan`, which builds them on `gan_utils.models.dcgan` and adds
# clear errors for labels out of range; with the same weights they compute the same thing. The AC-GAN trained
# below uses your $D$.
#
# **Exercise 1 (build).** Give the discriminator its two heads: in `__init__`, `self.head` after the shared conv
# body (dropout 0.5 on the flattened $4\,\text{ndf} \times 4 \times 4$ features, then the single linear layer the
# paragraph above describes), and `forward`, which returns the source logit $(B,)$ and the class logits $(B, K)$ as
# in the diagram of "The idea".

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Discriminator(nn.Module):
    def __init__(self, n_classes=10, ndf=32, dropout=0.5):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2),  # 16x16, no BN on D's input layer
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.2),  # 8x8
            nn.Conv2d(2 * ndf, 4 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * ndf), nn.LeakyReLU(0.2))  # 4x4
        ### BEGIN SOLUTION
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * ndf * 4 * 4, 1 + n_classes))
        ### END SOLUTION

    def forward(self, x):                           # x: (B, 3, 32, 32)
        ### BEGIN SOLUTION
        out = self.head(self.body(x).flatten(1))  # (B, 1 + K)
        return out[:, 0], out[:, 1:]              # source logit (B,), class logits (B, K)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
from gan_utils.models import acgan

n_params = lambda m: sum(p.numel() for p in m.parameters())
D = Discriminator(ndf=cfg.width).to(device)
D.apply(weights_init)
s, c_logits = D(x_fake)                                    # (10,), (10, 10)
check_that(s.shape == (K,), "the source logit: one number per image (B,)", hint="Column 0 of the head's output.")
check_that(c_logits.shape == (K, K), "the class logits (B, K)", hint="The other K columns.")
check_that(list(inspect.signature(D.forward).parameters) == ["x"], "D takes the image only, no label")
check_that(n_params(D) - n_params(D.body) == (4 * cfg.width * 4 * 4 + 1) * (1 + K),
           "one linear layer from the shared features to 1 + K outputs", hint="Both heads share one Linear layer.")
with torch.no_grad():
    two = [D(x_fake)[0] for _ in range(2)]                 # training mode: dropout draws a new mask each call
check_that(not torch.equal(*two), "dropout on the shared features in training mode")
G_lib = acgan.ACGANGenerator(ngf=cfg.width).to(device)
G_lib.load_state_dict(G.state_dict())
G.eval(); G_lib.eval()
x_lib = G_lib(z, y)
assert torch.allclose(x_lib, G(z, y), atol=1e-6)            # G is the library's ACGANGenerator
### BEGIN HIDDEN TESTS
D_lib = acgan.ACGANDiscriminator(ndf=cfg.width).to(device)
D_lib.load_state_dict(dict(zip(D_lib.state_dict(), D.state_dict().values(), strict=True)))
D.eval(); D_lib.eval()
check(torch.cat([D(x_lib)[0][:, None], D(x_lib)[1]], 1), torch.cat([D_lib(x_lib)[0][:, None], D_lib(x_lib)[1]], 1),
      "D's two heads against the library's ACGANDiscriminator", hint="Column 0 is the source, columns 1..K the classes.")
assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(D_lib(x_lib), D(x_lib), strict=True))
### END HIDDEN TESTS

# %% [markdown]
# ## Losses
#
# Both log-likelihoods, written from logits. For the source, $\log \sigma(a) = -\text{softplus}(-a)$ and
# $\log(1 - \sigma(a)) = -\text{softplus}(a)$; for the class, $\log P(C = c \mid x)$ is minus the cross-entropy.
# The expectations are batch means.
#
# A check by hand. Take one real and one fake image, with $P(S=\text{real} \mid x_\text{real}) = 0.8$,
# $P(S=\text{real} \mid x_\text{fake}) = 0.3$, and two classes with class probabilities $(0.75, 0.25)$ for the real
# image (its class is 0) and $(0.4, 0.6)$ for the fake (asked for class 1). Then
# $L_S = \log 0.8 + \log 0.7 = -0.5798$ and $L_C = \log 0.75 + \log 0.6 = -0.7985$.
#
# **Exercise 2 (build).** Write the paper's two log-likelihoods from logits: `L_S(s_real, s_fake)` from the source
# logits $(B,)$ and `L_C(c_real, y_real, c_fake, y_fake)` from the class logits $(B, K)$ and the labels $(B,)$,
# each expectation a batch mean (the two equations of "The idea"). They must stay finite for logits of $\pm 200$.
# $D$'s and $G$'s losses below are built on them, and the AC-GAN trains with those.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
def L_S(s_real, s_fake):
    # s_real: (B,), s_fake: (B,) source logits -> a scalar, log P(real|x_real) + log P(fake|x_fake)
    ### BEGIN SOLUTION
    return -F.softplus(-s_real).mean() - F.softplus(s_fake).mean()
    ### END SOLUTION


def L_C(c_real, y_real, c_fake, y_fake):
    # c_real, c_fake: (B, K) class logits; y_real, y_fake: (B,) labels -> a scalar, log P(c|x_real) + log P(c|x_fake)
    ### BEGIN SOLUTION
    return -F.cross_entropy(c_real, y_real) - F.cross_entropy(c_fake, y_fake)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
logit = lambda p: math.log(p / (1 - p))
s_real_ex, s_fake_ex = torch.tensor([logit(0.8)]), torch.tensor([logit(0.3)])          # (1,), (1,)
c_real_ex, c_fake_ex = torch.tensor([[0.75, 0.25]]).log(), torch.tensor([[0.4, 0.6]]).log()  # (1, 2) logits
y_real_ex, y_fake_ex = torch.tensor([0]), torch.tensor([1])
check_that(abs(L_S(s_real_ex, s_fake_ex).item() + 0.5798) < 1e-4, "L_S on the example worked out by hand",
           hint="Real images should be called real, fakes fake: log P(real | x_real) + log P(fake | x_fake).")
check_that(abs(L_C(c_real_ex, y_real_ex, c_fake_ex, y_fake_ex).item() + 0.7985) < 1e-4,
           "L_C on the example worked out by hand", hint="The log-probability of the right class, real and fake.")
big = torch.tensor([200.0, -200.0])
check_that(torch.isfinite(L_S(big, big)), "L_S finite at logits of +-200",
           hint="log sigmoid(a) = -softplus(-a) and log(1 - sigmoid(a)) = -softplus(a).")
check_that(torch.isfinite(L_C(torch.tensor([[200.0, -200.0]]), torch.tensor([1]), 200 * torch.eye(2), torch.arange(2))),
           "L_C finite at logits of +-200", hint="Work with log-softmax, not with the probabilities.")
check_that(L_S(torch.tensor([3.0]), s_fake_ex) > L_S(s_real_ex, s_fake_ex) > L_S(s_real_ex, torch.tensor([3.0])),
           "L_S rises when D is surer of the real image, falls when it takes a fake for real");
### BEGIN HIDDEN TESTS
g_ex = torch.Generator().manual_seed(6)
s_r, s_f = 3 * torch.randn(5, generator=g_ex), 3 * torch.randn(5, generator=g_ex)
c_r, c_f = 3 * torch.randn(5, 4, generator=g_ex), 3 * torch.randn(5, 4, generator=g_ex)
y_r, y_f = torch.tensor([0, 3, 1, 1, 2]), torch.tensor([2, 2, 0, 3, 1])
check(L_S(s_r, s_f), acgan.source_log_likelihood(s_r, s_f), "L_S on a random batch")
check(L_C(c_r, y_r, c_f, y_f), acgan.class_log_likelihood(c_r, y_r, c_f, y_f), "L_C on a random batch")
assert torch.allclose(acgan.source_log_likelihood(s_r, s_f), L_S(s_r, s_f))
assert torch.allclose(acgan.class_log_likelihood(c_r, y_r, c_f, y_f), L_C(c_r, y_r, c_f, y_f))
### END HIDDEN TESTS

# %% [markdown]
# **Who minimises what.** Optimisers minimise, so $D$'s loss is $-(L_S + L_C)$. For $G$, only the terms on
# $X_\text{fake}$ depend on its weights, so $-(L_C - L_S)$ reduces to
# $-\log P(C = c \mid X_\text{fake}) + \log P(S = \text{fake} \mid X_\text{fake})$. The second term is notebook 01's
# **saturating** loss: once $D$ is sure the fakes are fake it is nearly flat, and $G$ stops learning. As in
# notebook 01 we use the **non-saturating** form, $-\log P(S = \text{real} \mid X_\text{fake})$, which has the same
# fixed point. On the example, $D$'s loss is $0.5798 + 0.7985 = 1.3783$, and $G$'s is $-\log 0.6 - \log 0.3 = 1.7148$
# (non-saturating) or $-\log 0.6 + \log 0.7 = 0.1542$ (saturating, as in the paper).

# %%
def loss_D_fn(s_real, c_real, y_real, s_fake, c_fake, y_fake):
    return -(L_S(s_real, s_fake) + L_C(c_real, y_real, c_fake, y_fake))


def loss_G_fn(s_fake, c_fake, y_fake):
    return F.cross_entropy(c_fake, y_fake) + F.softplus(-s_fake).mean()  # -log P(c|x_fake) - log P(real|x_fake)


ex = (s_real_ex, c_real_ex, y_real_ex, s_fake_ex, c_fake_ex, y_fake_ex)
print(f"loss_D = {loss_D_fn(*ex):.4f}, loss_G = {loss_G_fn(s_fake_ex, c_fake_ex, y_fake_ex):.4f}, "
      f"saturating loss_G = {acgan.g_loss(s_fake_ex, c_fake_ex, y_fake_ex, saturating=True):.4f}")

# %% [markdown]
# The same functions live in `gan_utils.models.acgan` (`source_log_likelihood`, `class_log_likelihood`, `d_loss`,
# `g_loss`); $D$'s and $G$'s losses agree on the example and on a random batch:

# %%
rnd = (torch.randn(6), torch.randn(6, K), torch.randint(0, K, (6,)), torch.randn(6), torch.randn(6, K),
       torch.randint(0, K, (6,)))
for args in (ex, rnd):
    assert torch.allclose(acgan.d_loss(*args), loss_D_fn(*args))
    assert torch.allclose(acgan.g_loss(*args[3:]), loss_G_fn(*args[3:]))
print("gan_utils.models.acgan losses match")

# %% [markdown]
# The library version also says clearly what is wrong when a label is out of range, where `F.cross_entropy` alone
# fails with a bare index error:

# %%
try:
    acgan.d_loss(*rnd[:5], torch.full((6,), K))
except ValueError as e:
    print("ValueError:", e)


# %% [markdown]
# ## Training
#
# One step: a batch of real images with their labels; fakes for labels drawn uniformly. $D$ takes one step on
# $-(L_S + L_C)$ with the fakes detached, then $G$ one step on its loss through the updated $D$. Besides the two
# losses we log $D$'s class cross-entropy on the real and on the fake batch, the two halves of $-L_C$: they show
# how fast each kind of image becomes easy to classify.

# %%
def make_acgan_step(G, D, opt_G, opt_D):
    """The AC-GAN step for these networks and optimisers: step(i) -> the losses to log."""
    def acgan_step(step):
        x_real, y_real = train_set.batch(cfg.batch)
        z = torch.randn(cfg.batch, G.z_dim, device=device)
        y_fake = torch.randint(0, K, (cfg.batch,), device=device)
        x_fake = G(z, y_fake)                                                    # (B, 3, 32, 32)
        (s_real, c_real), (s_fake, c_fake) = D(x_real), D(x_fake.detach())
        loss_D = loss_D_fn(s_real, c_real, y_real, s_fake, c_fake, y_fake)     # -(L_S + L_C)
        opt_D.zero_grad(set_to_none=True); loss_D.backward(); opt_D.step()
        s_fake, c_fake = D(x_fake)
        loss_G = loss_G_fn(s_fake, c_fake, y_fake)                               # non-saturating -(L_C - L_S)
        opt_G.zero_grad(set_to_none=True); loss_G.backward(); opt_G.step()
        return {"loss_D": loss_D.item(), "loss_G": loss_G.item(),
                "CE_real": F.cross_entropy(c_real, y_real).item(), "CE_fake": F.cross_entropy(c_fake, y_fake).item()}
    return acgan_step


torch.manual_seed(cfg.seed)
G, D = acgan.ACGANGenerator(ngf=cfg.width).to(device), Discriminator(ndf=cfg.width).apply(weights_init).to(device)
opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))

# %% [markdown]
# The fixed sample grid has one **row per class** and shares $z$ down each **column**. Run the cell again after an
# interruption to resume from the checkpoint.

# %%
n_cols = 10
z_grid = torch.randn(n_cols, G.z_dim, device=device).repeat(K, 1)   # (K * n_cols, 100): same z in each column
y_grid = torch.arange(K, device=device).repeat_interleave(n_cols)   # (K * n_cols,): one class per row
trainer = Trainer({"G": G, "D": D}, {"G": opt_G, "D": opt_D}, make_acgan_step(G, D, opt_G, opt_D),
                  ckpt_dir=cfg.ckpt_dir, ckpt_every=1_000, sample_fn=lambda: G(z_grid, y_grid),
                  sample_every=cfg.sample_every, sample_nrow=n_cols)            # live panel: one class per row
history = trainer.fit(cfg.steps, resume=True)
print(f"{trainer.step} steps, {trainer.seconds / 60:.1f} min of training "
      f"({1000 * trainer.seconds / max(1, len(history.steps)):.0f} ms per step)")

# %% [markdown]
# ## Results
#
# The class grid over training, rows in the class order above:

# %%
plot_snapshots(history, max_cols=6, n_images=K * n_cols, nrow=n_cols, size=2.6); plt.show()

# %% [markdown]
# The losses. `CE_fake` (D's class cross-entropy on the fakes) falls far below `CE_real`: $G$ and $D$ cooperate on
# $L_C$, so $G$ learns to draw whatever $D$'s class head finds easiest to recognise, while real images stay hard to
# classify.

# %%
ax = plot_losses(history); ax.set_ylim(bottom=0); plt.show()

# %% [markdown]
# ### The class × noise grid
#
# The final grid, with the networks in evaluation mode. Each **row** is one class $c$, each **column** one $z$.
# Read along a row first: at this budget the objects are blurry, but the rows differ in colour and setting the way
# the classes do: light blue sky behind the airplanes, blue water under the ships' dark hulls, brown and beige for
# deer, frogs and horses, darker pictures for cats. Then read down a column: in the committed run each column keeps
# one overall look in every row (one is a red blob on green and blue throughout, others keep a light blue or a
# dark, grey-brown picture), and the class changes the colours and the setting within it. That is the separation
# AC-GAN aims for, $c$ says *what* and $z$ says *how*; at 3,000 steps $z$ still decides most of the picture.

# %%
G.eval(); D.eval()
with torch.no_grad():
    x_grid = G(z_grid, y_grid)                                      # (K * n_cols, 3, 32, 32)
show_class_grid(x_grid, n_cols, cifar.classes, title="rows: class c; columns: shared z")
plt.show()

# %% [markdown]
# ### Do the samples carry their class?
#
# Two judges. The **auxiliary classifier** is $D$'s own class head; we test it on the held-out real images, which
# the GAN never saw, and on generated images of known requested class. An **independent** judge is the course's
# CIFAR-10 domain classifier (a small CNN trained on the same training part and cached; notebook 03 uses it for
# FID). The paper used an Inception network trained on ImageNet for the same purpose.

# %%
clf, clf_acc = get_domain_classifier(cifar, cfg.cache_dir, epochs=cfg.clf_epochs, seed=cfg.seed)


# %%
def sample_classes(G):
    """cfg.n_per_class samples of every class: images (K * n_per_class, 3, 32, 32) and their labels."""
    y = torch.arange(K, device=device).repeat_interleave(cfg.n_per_class)   # (K * n_per_class,) balanced
    with torch.no_grad():
        return torch.cat([G(torch.randn(len(yb), G.z_dim, device=device), yb) for yb in y.split(500)]), y


x_eval, y_eval = sample_classes(G)
with torch.no_grad():
    c_test = torch.cat([D(xb)[1] for xb in test_set.to_float().split(500)])  # (n_test, K)
    c_eval = torch.cat([D(xb)[1] for xb in x_eval.split(500)])               # (K * n_per_class, K)
acc = {"D's class head, held-out real": (c_test.argmax(1) == test_set.labels).float().mean().item(),
       "D's class head, generated": (c_eval.argmax(1) == y_eval).float().mean().item(),
       "domain classifier, held-out real": clf_acc,
       "domain classifier, generated": conditional_accuracy(x_eval, y_eval, clf)}
for k, v in acc.items():
    print(f"{k:34s} {100 * v:5.1f}%   (chance {100 / K:.0f}%)")
print("paper (ImageNet, 1000 classes, Inception-v3): 10.1% on 128-px samples, 78.8% on real images (chance 0.1%)")

# %% [markdown]
# Per class, by both judges:

# %%
with torch.no_grad():
    pred_clf = torch.cat([clf(xb).argmax(1) for xb in x_eval.split(500)])
per_class = {"D's class head": [(c_eval.argmax(1)[y_eval == k] == k).float().mean().item() for k in range(K)],
             "domain classifier": [(pred_clf[y_eval == k] == k).float().mean().item() for k in range(K)]}
plt.figure(figsize=(9, 2.8))
for i, (name, accs) in enumerate(per_class.items()):
    plt.bar(torch.arange(K) + 0.4 * (i - 0.5), [100 * a for a in accs], width=0.4, label=name)
plt.xticks(range(K), cifar.classes, rotation=30); plt.ylabel("% of samples of class c\nclassified as c")
plt.ylim(0, 125); plt.yticks(range(0, 101, 20)); plt.legend(ncol=2, loc="upper center"); plt.show()
print("domain classifier, per class:", ", ".join(f"{n} {100 * a:.0f}%" for n, a in
                                                 zip(cifar.classes, per_class["domain classifier"], strict=True)))


# %% [markdown]
# **What to read from this.** In the committed run, $D$'s class head names the requested class for 99.3% of the
# samples but only for 52.1% of the held-out real images; the domain classifier, which never took part in the
# game, recognises 70.7% of the samples against 51.6% of real images. (The second AC-GAN seed, trained below,
# gives the domain classifier's figure on samples for both seeds: 70.7% and 72.6%.) Two things are at work.
#
# * $G$ and $D$ cooperate on $L_C$: $G$ is rewarded for whatever makes $D$'s class head sure, so it draws
#   **exaggerated class cues**, such as the blue sky behind planes and the water under ships in the grid above.
#   An independent classifier most likely relies on the same cues, so it finds these samples *easier* than real
#   photos, in which the cues are mixed and the objects small. Read "generated accuracy above real accuracy" as a
#   sign of prototypical samples, not of samples better than the data.
# * Both classifiers are weak on real CIFAR-10 here (about 52% of the held-out images): small CNNs and 8,000
#   training images. The class head's cross-entropy on *training* batches (`CE_real` above) is still falling at
#   the end, to about 1: it was still learning the real classes when training stopped.
#
# The paper's Inception accuracies go the other way (10.1% on 128-px samples against 78.8% on real images),
# with 1000 ImageNet classes, a classifier trained on millions of real photos, and a task where a sample must
# carry fine detail to be recognised. The hardest generated classes for the domain classifier here are **frog**
# (45%) and cat (53%), then deer (54%); every other class is above 60%.
#

# %% [markdown]
# ## The baseline: the same networks without the auxiliary classifier
#
# Do the samples lack diversity because of the auxiliary classifier, or would any GAN of this size and budget
# draw as narrow classes? To tell, we train a run that differs **only** in the classifier: the same $G$ (label
# joined to $z$), the same $D$ body, dropout and width, the same optimiser, batch and number of steps. Without a
# class head, $D$ must be *given* the label, as in notebook 02: it enters as $K$ one-hot channels stacked on the
# image (notebook 03's conditional input, so the first conv sees label and pixels together), and the head has a
# single output, the source logit. This is a conditional GAN, trained with notebook 01's losses on (image,
# label) pairs: a real image with its own label, a fake with the label it was drawn for.

# %%
class LabelInputDiscriminator(nn.Module):
    def __init__(self, n_classes=10, ndf=32, dropout=0.5):
        super().__init__()
        self.n_classes = n_classes
        self.body = nn.Sequential(
            nn.Conv2d(3 + n_classes, ndf, 4, 2, 1), nn.LeakyReLU(0.2),  # image + K label maps -> 16x16
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.2),  # 8x8
            nn.Conv2d(2 * ndf, 4 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(4 * ndf), nn.LeakyReLU(0.2))  # 4x4
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(4 * ndf * 4 * 4, 1))  # the source logit only

    def forward(self, x, y):
        maps = one_hot(y, self.n_classes)[:, :, None, None].expand(-1, -1, *x.shape[2:])  # (B, K, 32, 32)
        return self.head(self.body(torch.cat([x, maps], dim=1)).flatten(1)).squeeze(1)     # (B,)


# %% [markdown]
# It is promoted as `gan_utils.models.acgan.LabelInputDiscriminator`, which builds it on notebook 03's
# `DCGANDiscriminator` (whose optional label input is exactly these one-hot channels). The same weights give the
# same logits:

# %%
D_base = LabelInputDiscriminator(ndf=cfg.width).to(device).eval()
D_base_lib = acgan.LabelInputDiscriminator(ndf=cfg.width).to(device).eval()
D_base.load_state_dict(D_base_lib.state_dict())
with torch.no_grad():
    d_pairs = D_base(x_grid, y_grid)                                  # (K * n_cols,): one logit per (image, label)
    assert d_pairs.shape == (K * n_cols,) and torch.allclose(D_base_lib(x_grid, y_grid), d_pairs, atol=1e-6)
print(f"gan_utils.models.acgan.LabelInputDiscriminator matches; {n_params(D_base) / 1e6:.2f}M parameters "
      f"(AC-GAN's D: {n_params(D) / 1e6:.2f}M)")


# %% [markdown]
# The baseline's step is AC-GAN's with the class terms gone: $D$ minimises $-L_S$ on (image, label) pairs, and
# $G$ the non-saturating $-\log P(S = \text{real} \mid x_\text{fake}, c)$.

# %%
def make_baseline_step(G, D, opt_G, opt_D):
    """The conditional GAN's step for these networks and optimisers: step(i) -> the losses to log."""
    def baseline_step(step):
        x_real, y_real = train_set.batch(cfg.batch)
        z = torch.randn(cfg.batch, G.z_dim, device=device)
        y_fake = torch.randint(0, K, (cfg.batch,), device=device)
        x_fake = G(z, y_fake)                                                    # (B, 3, 32, 32)
        loss_D = d_loss_bce(D(x_real, y_real), D(x_fake.detach(), y_fake))      # -L_S, D sees the labels
        opt_D.zero_grad(set_to_none=True); loss_D.backward(); opt_D.step()
        loss_G = g_loss_nonsaturating(D(x_fake, y_fake))                         # -log P(real | x_fake, c)
        opt_G.zero_grad(set_to_none=True); loss_G.backward(); opt_G.step()
        return {"loss_D": loss_D.item(), "loss_G": loss_G.item()}
    return baseline_step


# %% [markdown]
# One function trains a run of either model from a seed, each in its own checkpoint folder. The AC-GAN run above
# is seed 0; the cell below trains the other `cfg.seeds - 1` AC-GAN seeds and `cfg.seeds` baseline seeds, all with
# the same `cfg.steps`. Run it again after an interruption to resume.

# %%
def train_run(model, seed):
    """Train `model` ("AC-GAN" or "baseline") from `seed`; returns G in evaluation mode and the run's Trainer."""
    torch.manual_seed(seed)
    G_ = acgan.ACGANGenerator(ngf=cfg.width).to(device)
    D_ = Discriminator(ndf=cfg.width).apply(weights_init) if model == "AC-GAN" else \
        acgan.LabelInputDiscriminator(ndf=cfg.width)                # the library's init includes weights_init
    D_ = D_.to(device)
    opt_G_, opt_D_ = (torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (G_, D_))
    make_step = make_acgan_step if model == "AC-GAN" else make_baseline_step
    run = Trainer({"G": G_, "D": D_}, {"G": opt_G_, "D": opt_D_}, make_step(G_, D_, opt_G_, opt_D_),
                  ckpt_dir=cfg.ckpt_dir / f"{model.lower()}_seed{seed}", ckpt_every=1_000, live=False,
                  sample_fn=lambda: G_(z_grid, y_grid), sample_every=cfg.sample_every)
    run.fit(cfg.steps, resume=True)
    return G_.eval(), run


# %%
SEEDS = range(cfg.seed, cfg.seed + cfg.seeds)                    # cfg.seed: 0, or GAN_SEED if set
gens, runs = {("AC-GAN", cfg.seed): G}, {("AC-GAN", cfg.seed): trainer}  # keyed by (model, seed); the first AC-GAN is above
for model in ("AC-GAN", "baseline"):
    for seed in SEEDS:
        if (model, seed) not in gens:
            gens[model, seed], runs[model, seed] = train_run(model, seed)
            print(f"{model}, seed {seed}: {runs[model, seed].step} steps, "
                  f"{runs[model, seed].seconds / 60:.1f} min of training")

# %% [markdown]
# The baseline's class grid, with the same $z$ as AC-GAN's above (seed 0 of each):

# %%
with torch.no_grad():
    x_grid_base = gens["baseline", cfg.seed](z_grid, y_grid)              # (K * n_cols, 3, 32, 32)
show_class_grid(x_grid_base, n_cols, cifar.classes, title="baseline (no auxiliary classifier): rows c, columns z")
plt.show()

# %% [markdown]
# The baseline's rows hardly differ: each column keeps its colours and layout (green, orange, blue sky, a dark
# frame) down all ten classes, and the requested class changes little in it. Its $D$ receives the label but, at
# this budget, $G$ has learned mainly to pass as real, not to draw the class it was asked for. The domain
# classifier will say how often the class still comes through (in the table below).
#
# ### Diversity: MS-SSIM per class
#
# A GAN can make every sample recognisable by drawing the same few images; accuracy alone would not notice. The
# paper measures diversity within a class with **MS-SSIM** (multi-scale structural similarity): for two images it
# compares local means, contrasts and correlations at several scales, and is 1 for identical images. The mean over
# random pairs of images **of one class** is then high when the class's images look alike (low diversity) and low
# when they vary. The paper computes it on real images and on samples, class by class.
#
# The convention matters for the numbers, and the paper does not state its settings. Ours is
# `gan_utils.metrics.diversity`'s (its docstring gives every detail): Wang et al.'s MS-SSIM with **3 scales**
# (each a 2×2 average pool of the last), a Gaussian window with **σ = 0.8** (7 taps), each SSIM map averaged over
# its **valid region** only (no padded border, as TF's `ssim_multiscale` and skimage do), images in $[0, 1]$, the
# first three of Wang et al.'s five scale weights renormalised, computed per colour channel and averaged. At
# 32 px the coarsest scale is 8×8. The defaults the notebook uses:

# %%
print("mean_pairwise_ms_ssim" + str(inspect.signature(mean_pairwise_ms_ssim)))


# %% [markdown]
# For each class: the mean MS-SSIM of `n_pairs` random pairs of images of that class, averaged over three
# independent draws of pairs, for the real images (all of the class, training and held-out) and for the samples of
# every run; the spread between the draws tells how much of a difference is just the choice of pairs.

# %%
def class_ms_ssim(x, n_draws=3):
    vals = torch.tensor([mean_pairwise_ms_ssim(x, n_pairs=cfg.n_pairs, seed=s) for s in range(n_draws)])
    return vals.mean().item(), vals.std().item()


ms_real = [class_ms_ssim(cifar.to_float(torch.nonzero(cifar.labels == k)[:, 0])) for k in range(K)]
r = [m for m, _ in ms_real]                                       # real MS-SSIM per class
print("real, per class:", ", ".join(f"{n} {m:.3f}" for n, m in zip(cifar.classes, r, strict=True)))


# %% [markdown]
# **A control: blur.** MS-SSIM compares structure, and smooth images share more of it than sharp ones. Our samples
# are blurrier than the photos, so part of a gap could be blur rather than a lack of variety. To see how much, we
# blur the real images (2× average pooling, then bilinear upsampling back to 32 px) and measure them again:

# %%
def blur(x):
    return F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="bilinear", align_corners=False)  # (B, 3, 32, 32)


ms_blur = [mean_pairwise_ms_ssim(blur(cifar.to_float(torch.nonzero(cifar.labels == k)[:, 0])), n_pairs=cfg.n_pairs)
           for k in range(K)]
mean = lambda v: sum(v) / len(v)
print(f"mean over classes: real {mean(r):.3f}, real blurred {mean(ms_blur):.3f}")

# %% [markdown]
# Now every run: fresh samples of every class (those of AC-GAN seed 0 are the ones judged above), their MS-SSIM
# per class, and the domain classifier's accuracy on them.

# %%
ms_run, acc_run, draw_sd = {}, {}, []                             # keyed by (model, seed)
for key, G_ in gens.items():
    x_, y_ = (x_eval, y_eval) if key == ("AC-GAN", cfg.seed) else sample_classes(G_)
    ms = [class_ms_ssim(x_[y_ == k]) for k in range(K)]
    ms_run[key], acc_run[key] = [m for m, _ in ms], conditional_accuracy(x_, y_, clf)
    draw_sd += [sd for _, sd in ms]
    if key == ("baseline", cfg.seed):
        x_base, y_base = x_, y_                                   # kept for the collapsed class below
models = ("AC-GAN", "baseline")
g = {m: torch.tensor([ms_run[m, s] for s in SEEDS]) for m in models}  # (seeds, K) per model
print(f"largest spread between 3 draws of pairs, over all classes and runs: {max(draw_sd):.3f} (sd)")

# %% [markdown]
# The table: per class, the real images, the blurred real images, and each model as the mean ± sd over its seeds.

# %%
print(f"{'class':11s} {'real':>6s} {'blurred':>8s} {'AC-GAN':>15s} {'baseline':>15s}")
for k in range(K):
    print(f"{cifar.classes[k]:11s} {r[k]:6.3f} {ms_blur[k]:8.3f}",
          *(f"{g[m][:, k].mean():8.3f} ± {g[m][:, k].std():.3f}" for m in models))
print(f"{'mean':11s} {mean(r):6.3f} {mean(ms_blur):8.3f}",
      *(f"{g[m].mean(1).mean():8.3f} ± {g[m].mean(1).std():.3f}" for m in models))
for m in models:
    a = torch.tensor([acc_run[m, s] for s in SEEDS])
    print(f"{m}: domain classifier on samples {100 * a.mean():.1f} ± {100 * a.std():.1f}% "
          f"(per seed: {', '.join(f'{100 * v:.1f}%' for v in a)})")
print(f"generated: mean ± sd over {cfg.seeds} training seeds of {cfg.steps:,} steps each")


# %% [markdown]
# The paper's figure 5 in small, with the baseline added: one point per class and model, generated against real
# MS-SSIM (mean over seeds, bars one sd). A thin line joins the two models' points of a class. Points **below the
# diagonal** are classes whose samples are more diverse than the real images; points above it are less diverse.
# The dotted line is the paper's threshold, the highest MS-SSIM of any real class; the grey crosses are the blurred
# real images of each class.

# %%
def spread_labels(ys, gap):
    """Label heights near ys, in the same order, at least `gap` apart (pushed up from the lowest)."""
    order, out, last = sorted(range(len(ys)), key=lambda i: ys[i]), [0.0] * len(ys), -math.inf
    for i in order:
        out[i] = last = max(ys[i], last + gap)
    return out


# %%
g_mean = {m: g[m].mean(0).tolist() for m in models}
top = max(g[m].mean(0).add(g[m].std(0)).max().item() for m in models) * 1.1   # whiskers included
fig, ax = plt.subplots(figsize=(6.4, 5.4))
for m, color in zip(models, ("tab:blue", "tab:orange"), strict=True):
    ax.errorbar(r, g_mean[m], yerr=g[m].std(0).tolist(), fmt="o", capsize=2, color=color, label=m)
ax.vlines(r, [min(a, b) for a, b in zip(*g_mean.values())], [max(a, b) for a, b in zip(*g_mean.values())],
          color="gray", lw=0.5)
ax.scatter(r, ms_blur, marker="x", color="gray", label="real, blurred")
ax.plot((0, top), (0, top), color="gray", lw=1, label="generated = real")
ax.axhline(max(r), color="gray", ls=":", label="highest real class")
x_text = max(r) + 0.012                                           # labels in a column right of all points
for k, y_text in enumerate(spread_labels([max(g_mean[m][k] for m in models) for k in range(K)], 0.035 * top)):
    ax.annotate(cifar.classes[k], (r[k], max(g_mean[m][k] for m in models)), xytext=(x_text, y_text), fontsize=8,
                va="center", arrowprops=dict(arrowstyle="-", color="lightgray", lw=0.5))
ax.set(xlim=(min(r) - 0.02, max(r) + 0.05), ylim=(0, top), xlabel="real MS-SSIM", ylabel="generated MS-SSIM",
       title="per class: lower is more diverse")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8); plt.show()

# %% [markdown]
# **Over training.** The paper tracks MS-SSIM during training to catch a collapse as it happens. The fixed grids
# saved by each run's `Trainer` allow the same at no cost: for every snapshot, the within-class MS-SSIM of its 10
# samples per class (few images, so a rough curve), averaged over the classes, against the real classes' average.

# %%
plt.figure(figsize=(6.5, 3))
curves = {}
for (m, seed), run in runs.items():
    curves[m, seed] = [(step, mean([mean_pairwise_ms_ssim(x[k * n_cols:(k + 1) * n_cols], n_pairs=100)
                                    for k in range(K)])) for step, x in run.history.snapshots if step > 0]
    plt.plot(*zip(*curves[m, seed]), marker="o", ls="-" if seed == cfg.seed else "--",
             color="tab:blue" if m == "AC-GAN" else "tab:orange", label=f"{m}, seed {seed}")
plt.axhline(mean(r), color="gray", ls=":", label="real (mean over classes)")
plt.xlabel("step"); plt.ylabel("mean within-class MS-SSIM"); plt.ylim(bottom=0); plt.grid(alpha=0.3)
plt.legend(fontsize=8, ncol=2); plt.show()
for key, c in curves.items():
    print(f"{key[0]:8s} seed {key[1]}:", ", ".join(f"{v:.3f} at {s}" for s, v in c))


# %% [markdown]
# Now the paper's headline number. Odena et al. trained 100 AC-GANs on ImageNet at 128×128, 10 classes each, and
# found that **847 of the 1000 classes (84.7%)** had a mean sample MS-SSIM below the **highest** MS-SSIM of any real
# class (0.25 on ImageNet). The stricter comparison is class by class: are a class's samples at least as diverse as
# that class's real images (generated ≤ real)? We count both for every run, and, as the blur control, the classes
# at least as diverse as their *blurred* real images. Then the question the baseline answers: is AC-GAN less diverse
# than the same networks without the auxiliary classifier, by more than the spread between seeds?

# %%
def n_at_most(m, ref):
    """Per seed of model m, how many classes have a generated MS-SSIM <= ref[k] (as diverse as ref, or more)."""
    return [sum(v <= ref_k for v, ref_k in zip(ms_run[m, s], ref, strict=True)) for s in SEEDS]


for m in models:
    below = [sum(v < max(r) for v in ms_run[m, s]) for s in SEEDS]
    print(f"{m:8s} classes (of {K}, per seed) as diverse as real: {n_at_most(m, r)}, as blurred real: "
          f"{n_at_most(m, ms_blur)}, below the highest real class ({max(r):.3f}): {below}")
print("paper (ImageNet 128 px, 100 AC-GANs): 84.7% of classes below the highest real class")
diff = g["AC-GAN"].mean(0) - g["baseline"].mean(0)                 # (K,) AC-GAN minus baseline, mean over seeds
noise = (g["AC-GAN"].var(0) + g["baseline"].var(0)).sqrt()         # (K,) the seed spread of that difference
print(f"AC-GAN minus baseline: {diff.mean():+.3f} on average over classes; AC-GAN less diverse in "
      f"{int((diff > 0).sum())} of {K} classes, by more than the seed spread in {int((diff > noise).sum())}; "
      f"more diverse by more than it in {int((-diff > noise).sum())}")

# %% [markdown]
# **What this run shows** (2 training seeds per model, since one run costs more than 2 minutes here). In
# brackets, a rerun of the whole notebook on other seeds (`GAN_SEED=10`, `make rerun NB=06_acgan SEED=10`: seeds
# 10 and 11, a new split and a new classifier).
#
# * **Against real images**, no class of either model is as diverse as its real images, in either seed (0 of 10
#   each), and none lies below the highest real class (0.118), where the paper counts 84.7% of its ImageNet
#   classes [2 classes of one baseline seed do]. Every point of the scatter lies above the diagonal.
# * **Against the baseline**, the auxiliary classifier narrows the classes: AC-GAN's mean MS-SSIM is 0.239 ± 0.009
#   against 0.135 ± 0.004 for the same networks without it [0.219 ± 0.021 against 0.145 ± 0.018]. AC-GAN is the
#   less diverse model in all 10 classes [all 10], and in every one by more than the spread between seeds [in 8];
#   the spread between draws of pairs is 0.013 at most [0.020].
# * **The blur control** separates blur from narrowness. Blurring lifts the real classes from 0.095 to 0.127 on
#   average; the baseline's 0.135 is close to that, and some of its classes are as diverse as their blurred real
#   images (4 and 1 of 10 in its two seeds [5 and 0]). So most of the baseline's gap to the real images can be blur. AC-GAN
#   is above the blurred real images in every class of both seeds: its gap is a narrower range of images.
# * **The price of diversity.** The baseline's samples are diverse partly because they ignore their label: the
#   domain classifier recognises 39.7 ± 3.3% of them against 71.5 ± 1.6% of AC-GAN's (51.6% on real images)
#   [38.0 ± 0.8% against 72.7 ± 0.5%]. A
#   sample that does not carry its class is drawn from all classes, and its "class" looks as varied as the whole
#   data set. The paper's trade-off in one table: the auxiliary classifier buys recognisable classes and pays in
#   diversity within them.
# * **Over training**, AC-GAN's curves lie above the baseline's at every snapshot of both seeds. Neither curve
#   shows a collapse late in training: AC-GAN's MS-SSIM falls overall (0.580 and 0.430 at step 500, 0.243 and
#   0.265 at 3,000), with a bump at 1,500 (0.387, 0.375) [at 2,000 in one seed, 0.360], and it is still falling
#   at the end [in both seeds], while the
#   baseline's levels off earlier (0.131 and 0.124 at 3,000). A longer run may narrow the gap; this comparison is
#   at an equal budget of 3,000 steps, not at convergence.
#
# **How the settings differ.** The paper's 84.7% is over 1000 ImageNet classes at 128×128, from 100 models each
# trained on 10 classes for 50,000 steps at batch 100, with an MS-SSIM whose settings it does not state. Ours is
# over 10 CIFAR-10 classes at 32×32, from two seeds per model at 3,000 steps, with the 3-scale MS-SSIM printed
# earlier. With 10 classes, one class moves a share by 10 points, and a rerun on another machine trains slightly
# different networks: read the shares as coarse, and the comparison of the two models from the means and spreads
# above.
#
# ### A collapsed class
#
# The least diverse class of AC-GAN's seed 0 is the one with the highest generated MS-SSIM. Beside its samples,
# the baseline's (seed 0) of the same class, and real images of that class:

# %%
worst = max(range(K), key=lambda k: ms_run["AC-GAN", cfg.seed][k])
real_worst = cifar.to_float(torch.nonzero(cifar.labels == worst)[:32, 0])    # (32, 3, 32, 32)
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
name = cifar.classes[worst]
show_grid(x_eval[y_eval == worst][:32], nrow=8, ax=axes[0],
          title=f"AC-GAN '{name}', MS-SSIM {ms_run['AC-GAN', cfg.seed][worst]:.3f}")
show_grid(x_base[y_base == worst][:32], nrow=8, ax=axes[1],
          title=f"baseline '{name}', MS-SSIM {ms_run['baseline', cfg.seed][worst]:.3f}")
show_grid(real_worst, nrow=8, ax=axes[2], title=f"real '{name}', MS-SSIM {r[worst]:.3f}")
plt.show()


# %% [markdown]
# In the committed run the least diverse class of AC-GAN's seed 0 is **ship** (0.270, against 0.134 for the
# baseline's ships and 0.118 for real ones). The top few classes are close: an earlier run of the same generator,
# scored on another draw of samples, put automobile first (0.263). Which class is worst also depends on the
# training seed: averaged over both seeds it is cat (0.290 ± 0.053 in the table). It is not a collapse to one
# image: no two samples are the same. It is a collapse of *style*: most of AC-GAN's ships are a pale hull across
# the middle of a blue-green or grey scene of sea and sky, while the baseline's vary more in colour and layout but
# look less like ships (blurred white, blue and dark shapes), and the real ships vary in colour, angle, size and
# background. The domain classifier recognises 94% of AC-GAN's ships, above its 70.7% over all classes: a narrow,
# exaggerated version of a class is easy to recognise. This is the trade-off the paper studies with its MS-SSIM and accuracy scatter.
#
# ## Explore
#
# Pick a class and a noise seed. The widget needs a live kernel; the static figure under it shows the collapsed
# class and, for the same seed, the other class that the domain classifier recognises best in the samples.

# %%
def draw(c=0, seed=0, n=10):
    gen = torch.Generator().manual_seed(seed)
    z_ = torch.randn(n, G.z_dim, generator=gen).to(device)
    with torch.no_grad():
        x_ = G(z_, torch.full((n,), c, device=device))
    show_grid(x_, nrow=n, title=f"c = {c} ({cifar.classes[c]}), seed {seed}", figsize=(10, 1.6)); plt.show()

interact(draw, c=(0, K - 1), seed=(0, 100), n=(4, 16))

# %%
best = max((k for k in range(K) if k != worst), key=lambda k: per_class["domain classifier"][k])
for c in (worst, best):
    draw(c=c, seed=1)  # static fallback


# %% [markdown]
# ## Summary
#
# * AC-GAN's $D$ has two heads on one body: a source logit and $K$ class logits. It never sees the label.
# * $D$ maximises $L_S + L_C$, $G$ maximises $L_C - L_S$: they compete on the source and cooperate on the class.
# * Because they cooperate on the class, $D$'s class head recognises generated images far more easily than real
#   ones; an independent classifier is the fairer judge.
# * MS-SSIM over same-class pairs measures diversity per class; plotted against the real data's, it shows which
#   classes are as diverse as the data and which have collapsed. It also rises with blur, so compare with a
#   blurred real baseline before blaming collapse.
# * At a CPU budget on CIFAR-10 (3,000 steps, 2 seeds), our samples are recognisable by class but less diverse
#   than the real images in every class (the paper: 84.7% of ImageNet classes as diverse as the least diverse real
#   class, with a far larger budget); the least diverse class has collapsed to one style.
# * The baseline with the same networks and budget but no auxiliary classifier is more diverse in every class and
#   far less recognisable: the auxiliary classifier trades diversity within a class for samples that carry it.

# %% [markdown]
# ## Exercises
#
# Exercises 1 and 2 (the two-head discriminator, the two log-likelihoods) are built in place above. The rest are
# here.
#
# **Exercise 3.** $G$ maximises $L_C - L_S$. Write the loss $G$ minimises in the paper's **saturating** form,
# `my_G_loss_saturating(s_fake, c_fake, y_fake)`: keep only the terms that depend on $G$ ("Who minimises what"
# above). Then answer: for one fake image with $P(S=\text{real} \mid x) = 0.01$ (D is sure it is fake), what is the
# derivative of the saturating source term $\log(1 - \sigma(a))$ with respect to the logit $a$? Compare with the
# non-saturating $-\log \sigma(a)$, whose derivative there is $-(1 - 0.01) = -0.99$.

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def my_G_loss_saturating(s_fake, c_fake, y_fake):
    # s_fake: (B,), c_fake: (B, K), y_fake: (B,) -> a scalar
    ### BEGIN SOLUTION
    return F.cross_entropy(c_fake, y_fake) - F.softplus(s_fake).mean()
    ### END SOLUTION


d_saturating = None  # your answer (a float): d/da log(1 - sigmoid(a)) where sigmoid(a) = 0.01
### BEGIN SOLUTION
d_saturating = -0.01  # = -sigmoid(a): almost no gradient when D is sure
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
loss_sat = my_G_loss_saturating(s_fake_ex, c_fake_ex, y_fake_ex)
check_that(abs(loss_sat.item() - 0.1542) < 1e-3, "the saturating loss on the example worked out by hand",
           hint="-(L_C - L_S) without the real terms: -log P(c | x_fake) + log P(fake | x_fake).")
check_that(torch.isfinite(my_G_loss_saturating(torch.tensor([200.0, -200.0]), 200 * torch.eye(2), torch.arange(2))),
           "finite at logits of +-200", hint="log(1 - sigmoid(a)) = -softplus(a).")
check_that(my_G_loss_saturating(torch.tensor([1.0]), c_fake_ex, y_fake_ex) < loss_sat,
           "the loss falls as D takes the fake for real", hint="G wants a high source logit on its fakes.")
check_that(None if d_saturating is None else -0.99 < d_saturating < 0, "the saturating gradient is negative and "
           "weaker than the non-saturating one", hint="d/da log(1 - sigmoid(a)), with sigmoid' = sigmoid (1 - sigmoid).");
### BEGIN HIDDEN TESTS
g_sat = torch.Generator().manual_seed(7)
s_f, c_f, y_f = 3 * torch.randn(5, generator=g_sat), 3 * torch.randn(5, 4, generator=g_sat), torch.tensor([2, 2, 0, 3, 1])
check(my_G_loss_saturating(s_f, c_f, y_f), acgan.g_loss(s_f, c_f, y_f, saturating=True), "saturating G loss",
      hint="-(L_C - L_S) without the real terms: the fake class cross-entropy plus mean log(1 - sigmoid(s_fake)).")
check(d_saturating, -0.01, "saturating gradient",
      hint="Differentiate log(1 - sigmoid(a)) with sigmoid'(a) = sigmoid(a) (1 - sigmoid(a)).");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 4 (extend).** AC-GAN's $D$ *predicts* the class; notebook 02's concatenated $D$ and the baseline above
# *receive* it as an input. Notebook 02's projection $D$ (Miyato & Koyama, *cGANs with Projection Discriminator*,
# 2018) receives it at the **top**, on an MLP: a learned embedding $e_y \in \mathbb R^F$ per class, and the source
# logit $\psi(f) + \langle e_y, f \rangle$, where $f$ $(B, F)$ are $D$'s shared features and $\psi$ a linear layer
# to one output. Write that head for any $D$'s features, here the convolutional $D$ of this notebook: the `forward`
# of `ProjectionHead`, returning the logits $(B,)$, without looking back at notebook 02.

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
class ProjectionHead(nn.Module):
    def __init__(self, n_features, n_classes=10):
        super().__init__()
        self.psi = nn.Linear(n_features, 1)                     # the unconditional logit
        self.embed = nn.Embedding(n_classes, n_features)        # e_y, one row per class

    def forward(self, f, y):                                    # f: (B, F), y: (B,) -> (B,)
        ### BEGIN SOLUTION
        return self.psi(f).squeeze(1) + (self.embed(y) * f).sum(1)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
g_pj = torch.Generator().manual_seed(4)
head = ProjectionHead(8, n_classes=3)
f_pj, y_pj = torch.randn(5, 8, generator=g_pj), torch.tensor([0, 1, 2, 1, 0])
out_pj = head(f_pj, y_pj)
check_that(out_pj.shape == (5,), "one logit per image (B,)", hint="psi gives (B, 1): drop the last axis.")
with torch.no_grad():
    head.embed.weight.zero_()
check_that(torch.allclose(head(f_pj, y_pj), head.psi(f_pj).squeeze(1)), "with all e_y = 0 it is psi(f) alone")
with torch.no_grad():
    head.embed.weight.copy_(torch.eye(3, 8))                    # e_y picks feature y
check_that(torch.allclose(head(f_pj, y_pj) - head.psi(f_pj).squeeze(1), f_pj[torch.arange(5), y_pj]),
           "with e_y the y-th unit vector, the class term is feature y", hint="An inner product per image.")
check_that(not torch.allclose(head(f_pj, y_pj), head(f_pj, (y_pj + 1) % 3)), "the logit depends on the label");
### BEGIN HIDDEN TESTS
with torch.no_grad():
    head.embed.weight.copy_(torch.randn(3, 8, generator=g_pj))
    head.psi.weight.copy_(torch.randn(1, 8, generator=g_pj)); head.psi.bias.fill_(0.3)
expected_pj = f_pj @ head.psi.weight[0] + 0.3 + (head.embed.weight[y_pj] * f_pj).sum(1)
check(head(f_pj, y_pj), expected_pj, "the projection logits on fixed inputs");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5 (open).** Train again with $G$'s saturating loss (`acgan.g_loss(..., saturating=True)`) and compare
# the class grid, the accuracies and the diversity share at the same number of steps. Then remove the fake half of
# $L_C$ from $D$'s loss (so $D$'s class head learns only from real images): does the gap between the class head's
# accuracy on real and on generated images shrink, and does the domain classifier's accuracy on samples change?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex5_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer trains each variant with `train_run`'s settings (same steps, 2 seeds) and
# reports, beside this run's numbers, the class head's accuracy on held-out real and on generated images (here
# 52.1% and 99.3%), the domain classifier's accuracy on samples (71.5 ± 1.6% over seeds), and the mean
# within-class MS-SSIM (0.239 ± 0.009). Expected: the saturating loss learns more slowly at the start (D wins, the
# gradient is weak), so at equal steps the grid is poorer. Without the fake half of $L_C$, the class head no longer
# cooperates with $G$: its accuracy on samples should fall towards its real accuracy. Points: a prediction written
# first (1), equal steps and seeds (2), every number with its spread (2).

# %% [markdown]
#
# ## References
#
# * A. Odena, C. Olah, J. Shlens. *Conditional Image Synthesis with Auxiliary Classifier GANs.* ICML 2017.
# * Z. Wang, E. P. Simoncelli, A. C. Bovik. *Multiscale structural similarity for image quality assessment.*
#   Asilomar Conference on Signals, Systems and Computers, 2003 (MS-SSIM).
# * A. Radford, L. Metz, S. Chintala. *Unsupervised Representation Learning with Deep Convolutional GANs.* ICLR
#   2016 (the networks, notebook 03).
# * M. Mirza, S. Osindero. *Conditional Generative Adversarial Nets.* 2014 (conditioning $G$, notebook 02).
