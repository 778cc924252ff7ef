# %% [markdown]
# # 04 · InfoGAN: interpretable codes by maximising mutual information
#
# **Paper:** Xi Chen, Yan Duan, Rein Houthooft, John Schulman, Ilya Sutskever, Pieter Abbeel. *InfoGAN:
# Interpretable Representation Learning by Information Maximizing Generative Adversarial Nets.* NeurIPS 2016.
# [arXiv:1606.03657](https://arxiv.org/abs/1606.03657)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/04_infogan.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: tiny sizes, same code | ≈ 20 s (measured) | ≈ 20 s (estimate) |
# | `default` | 5k InfoGAN steps on MNIST, the paper's networks at half width, from 3 seeds | ≈ 12–16 min (measured: 15.5 min for these outputs, 5.0 min of training per seed) | ≈ 5 min (estimate) |
# | `full` | 10k steps at batch 128, the paper's full widths | ≈ 2 h (estimate) | ≈ 3 min on a T4 (estimate, counted FLOPs) |
#
# The outputs you see come from a `default` run on the real MNIST test split (10,000 digits).

# %% [markdown]
# ## What you will learn
#
# * **mutual information** $I(c; G(z, c))$, why maximising it makes a code $c$ meaningful, and its
#   **variational lower bound** $L_I$, which a network $Q$ can estimate;
# * the **Q head**, which shares all of $D$'s convolutional body and adds one small head;
# * a **categorical code** (10 values) and **continuous codes** $\sim U(-1, 1)$, weighted by $\lambda$;
# * **traversals** of the continuous codes, which turn out to control lean and stroke width, found without
#   any labels;
# * the categorical code used as an **unsupervised digit classifier**, scored after the best matching of codes to
#   labels.
#
# **What changes from notebook 03:** $G$'s input is split into noise $z$ and codes $c$, and $D$ gets a second head.
# The networks are the paper's own MNIST networks: notebook 03's strided (transposed) convolutions with batch norm
# and its $\mathcal N(0, 0.02)$ init, plus one wide fully connected layer in each network. You build the $Q$ head and
# the information loss yourself (Exercises 1 and 2); the training below runs your code.

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
import torch
import torch.nn.functional as F
from torch import nn

import gan_utils
from gan_utils.data.mnist import load_mnist
from gan_utils.teaching import check, check_that, written_here
from gan_utils.losses import d_loss_bce, g_loss_nonsaturating
from gan_utils.metrics.classifier import get_domain_classifier
from gan_utils.metrics import strokes
from gan_utils.metrics.matching import confusion, matched_accuracy
from gan_utils.nn.init import weights_init
from gan_utils.train.trainer import Trainer
from gan_utils.display.viz import plot_losses, plot_snapshots, show_grid
from gan_utils.display.widgets import interact

# %%
SIZES = {  # paper (Table 1 and the released MNIST script): fc 1024, width 64, batch 128, 50 epochs x 100 updates
    "fast":    dict(steps=60, batch=64, width=16, fc=128, sample_every=20, n_eval=500, clf_epochs=1),
    "default": dict(steps=5_000, batch=64, width=32, fc=512, sample_every=1_000, n_eval=10_000, clf_epochs=6),
    "full":    dict(steps=10_000, batch=128, width=64, fc=1024, sample_every=2_000, n_eval=10_000, clf_epochs=10),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="04_infogan")
device = cfg.device

# %% [markdown]
# ## The idea
#
# A GAN's $z$ is used by $G$ in whatever tangled way helps it fool $D$; no single coordinate of $z$ means "rotation"
# or "digit class". InfoGAN splits $G$'s input into incompressible noise $z$ and a **latent code** $c$, and asks
# that $c$ stay **recoverable** from the image: the mutual information $I(c; G(z, c))$ should be high.
#
# $$
# \min_{G, Q} \max_D \; V_\text{InfoGAN}(D, G, Q) = V(D, G) - \lambda\, L_I(G, Q).
# $$
#
# **Mutual information** $I(c; x) = H(c) - H(c \mid x)$ is how much seeing $x$ reduces our uncertainty about $c$.
# It is zero if $G$ ignores $c$, and maximal when $c$ can be read off the image exactly. $H(c \mid x)$ needs the
# posterior $P(c \mid x)$, which is intractable, so InfoGAN bounds it with an auxiliary distribution $Q(c \mid x)$:
#
# $$
# I(c; G(z,c)) \;\ge\; \mathbb{E}_{c \sim P(c),\, x \sim G(z,c)}[\log Q(c \mid x)] + H(c) \;=\; L_I(G, Q).
# $$
#
# The gap is $\mathbb E_x[\mathrm{KL}(P(\cdot\mid x)\,\|\,Q(\cdot\mid x))] \ge 0$, so the bound is tight when $Q$
# equals the true posterior. $H(c)$ is a constant (the code's distribution is fixed), so maximising $L_I$ means
# **training $Q$ to predict $c$ from $G(z, c)$**, and training $G$ to make that easy. In practice:
#
# * categorical code: $-\log Q(c\mid x)$ is a **cross-entropy**;
# * continuous code: a Gaussian $Q$ with mean $\mu(x)$ and fixed std 1, so $-\log Q$ is $\tfrac12(c - \mu(x))^2$
#   plus a constant.

# %% [markdown]
# ## Data
#
# MNIST, with labels kept aside: InfoGAN never sees them. We use them only at the end, to score the categorical code.

# %%
mnist = load_mnist(**cfg.data_kwargs)
show_grid(mnist.batch(48)[0], nrow=16, figsize=(10, 3)); plt.show()

# %% [markdown]
# ## Building blocks
#
# **The latent input.** As in the paper's MNIST experiment: 62 noise variables, one categorical code with 10
# values, and two continuous codes, all uniform on $[-1, 1]$ (the released code's choice). $G$'s input is the
# concatenation, 74 numbers.

# %%
z_dim, n_cat, n_cont = 62, 10, 2

def sample_latent(batch):
    z = torch.rand(batch, z_dim, device=device) * 2 - 1        # (B, 62) ~ U(-1, 1)
    c_cat = torch.randint(n_cat, (batch,), device=device)      # (B,)   ~ Cat(10)
    c_cont = torch.rand(batch, n_cont, device=device) * 2 - 1  # (B, 2) ~ U(-1, 1)
    return z, c_cat, c_cont

def latent_input(z, c_cat, c_cont):
    return torch.cat([z, F.one_hot(c_cat, n_cat).float(), c_cont], dim=1)  # (B, 74)

print(tuple(latent_input(*sample_latent(4)).shape))


# %% [markdown]
# **G and D** follow the paper's Table 1 for MNIST. $G$: a fully connected layer of 1024 units, a second one to a
# $7\times7\times128$ map, then two stride-2 transposed convolutions (64 channels, then the image). $D$: two stride-2
# convolutions (64, 128 channels), then a fully connected layer of 1024 units; this **body** is what $D$ and $Q$ share.
# Batch norm everywhere except $G$'s output and $D$'s input, ReLU in $G$, LeakyReLU with slope 0.1 in $D$: notebook
# 03's principles, except for the hidden fully connected layers. On a CPU we halve the widths (`cfg.fc`, `cfg.width`);
# `full` mode uses the paper's.

# %%
class Generator(nn.Module):
    def __init__(self, z_dim=74, fc=1024, ngf=64):
        super().__init__()
        self.ngf = ngf
        self.fc = nn.Sequential(nn.Linear(z_dim, fc, bias=False), nn.BatchNorm1d(fc), nn.ReLU(True),
                                nn.Linear(fc, 2 * ngf * 7 * 7, bias=False), nn.BatchNorm1d(2 * ngf * 7 * 7), nn.ReLU(True))
        self.conv = nn.Sequential(nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
                                  nn.ConvTranspose2d(ngf, 1, 4, 2, 1), nn.Tanh())

    def forward(self, g_in):                                    # (B, 74)
        return self.conv(self.fc(g_in).view(-1, 2 * self.ngf, 7, 7))  # (B, 2 ngf, 7, 7) -> (B, 1, 28, 28)


# %%
class Discriminator(nn.Module):
    def __init__(self, ndf=64, fc=1024):
        super().__init__()
        self.feature_dim = fc
        self.body = nn.Sequential(nn.Conv2d(1, ndf, 4, 2, 1), nn.LeakyReLU(0.1),                       # 14x14
                                  nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(0.1),
                                  nn.Flatten(), nn.Linear(2 * ndf * 7 * 7, fc, bias=False), nn.BatchNorm1d(fc), nn.LeakyReLU(0.1))
        self.head = nn.Linear(fc, 1)

    def features(self, x):           # the body that D and Q share: (B, fc)
        return self.body(x)

    def from_features(self, f):      # D's real/fake logit: (B,)
        return self.head(f).squeeze(1)

    def forward(self, x):
        return self.from_features(self.features(x))


# %%
G = Generator(z_dim + n_cat + n_cont, fc=cfg.fc, ngf=cfg.width).to(device)
D = Discriminator(ndf=cfg.width, fc=cfg.fc).to(device)
x_fake = G(latent_input(*sample_latent(8)))   # (8, 1, 28, 28)
f = D.features(x_fake)                         # (8, fc): D's shared body
print("G:", tuple(x_fake.shape), " D.features:", tuple(f.shape), " D:", tuple(D.from_features(f).shape))


# %% [markdown]
# **Why not notebook 03's DCGAN?** We tried it first: with $G$ and $D$ from `gan_utils.models.dcgan` (no fully
# connected hidden layer, width 32), the categorical code reached only 48% accuracy (measured as in the Results
# section) after 4,000 steps. The paper's networks at half width do much better: 87.7% after 5,000 steps in the
# committed run (seed 0; the curve under Training climbs from 60% to 85% on its 2,000 watched digits), and
# 86.9 ± 4.6% over three seeds (Results). A plausible
# reason: the 1024-unit layer sees the whole digit at once, which is what $Q$ needs to name a class, while the
# convolutional features of a DCGAN body are local.

# %% [markdown]
# **The Q head** reads D's features: one hidden layer of 128 units (batch norm, LeakyReLU), then 10 logits for the
# categorical code and 2 means for the continuous codes. Sharing the body makes $Q$ almost free: one small extra
# layer per step.
#
# **Exercise 1 (build).** Write the head. `self.hidden` is the hidden layer: a linear layer with no bias (batch norm
# follows), batch norm and a LeakyReLU with $D$'s slope; `self.out` is **one** linear layer that gives all the code
# parameters at once, the categorical logits first. `forward` returns the pair (logits, means). The hidden part of
# the check compares your head, with the same weights, with the course's reference on fixed inputs.

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
class QHead(nn.Module):
    def __init__(self, in_features, n_categorical=10, n_continuous=2, hidden=128):
        super().__init__()
        self.n_categorical = n_categorical
        ### BEGIN SOLUTION
        self.hidden = nn.Sequential(nn.Linear(in_features, hidden, bias=False), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.1))
        self.out = nn.Linear(hidden, n_categorical + n_continuous)
        ### END SOLUTION

    def forward(self, f):
        # f: (B, in_features) D's shared features -> logits (B, n_categorical), means (B, n_continuous)
        ### BEGIN SOLUTION
        h = self.out(self.hidden(f))               # (B, 12)
        return h[:, :self.n_categorical], h[:, self.n_categorical:]   # logits (B, 10), means (B, 2)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
torch.manual_seed(0)
Q_ex = QHead(32, n_categorical=5, n_continuous=3, hidden=16).to(device).eval()
f_ex = torch.randn(6, 32, device=device)  # (6, 32)
logits_ex, means_ex = Q_ex(f_ex)
check_that(logits_ex.shape == (6, 5) and means_ex.shape == (6, 3), "logits (B, n_categorical), means (B, n_continuous)",
           hint="One output layer, then split its columns: the categorical logits first.")
check_that(sum(isinstance(m, nn.Linear) for m in Q_ex.modules()) == 2 and Q_ex.hidden[0].bias is None
           and isinstance(Q_ex.hidden[1], nn.BatchNorm1d), "one hidden layer (no bias, batch norm), one output layer",
           hint="Reread the paragraph above the exercise.")
check_that(torch.allclose(Q_ex(f_ex[:2])[0], logits_ex[:2]) and not torch.allclose(logits_ex[0], logits_ex[1]),
           "each sample's codes read from its own features", hint="Q maps features (B, in_features) row by row.");
### BEGIN HIDDEN TESTS
from gan_utils.models import infogan

check_that(written_here(QHead, "infogan"), "written here, not borrowed",
           hint="Write the head yourself, from the paragraph above.")
Q_lib = infogan.QHead(32, n_categorical=5, n_continuous=3, hidden=16).to(device).eval()
Q_lib.load_state_dict(Q_ex.state_dict())
check(torch.cat([logits_ex, means_ex], 1), torch.cat([Q_lib(f_ex).cat_logits, Q_lib(f_ex).cont_mean], 1),
      "Q's codes on fixed features", hint="Linear (no bias), batch norm, LeakyReLU(0.1); then one linear layer.")
assert torch.allclose(Q_lib(f_ex).cat_logits, logits_ex) and torch.allclose(Q_lib(f_ex).cont_mean, means_ex)
### END HIDDEN TESTS

# %%
Q = QHead(D.feature_dim).to(device)
cat_logits, cont_mean = Q(f)
print("Q:", tuple(cat_logits.shape), tuple(cont_mean.shape))

# %% [markdown]
# The promoted `gan_utils.models.infogan` has the same three networks (`QHead` also has an option to learn the std); with
# the same weights they give the same outputs:

# %%
from gan_utils.models import infogan

G_lib = infogan.InfoGANGenerator(z_dim + n_cat + n_cont, fc=cfg.fc, ngf=cfg.width).to(device)
D_lib, Q_lib = infogan.InfoGANDiscriminator(ndf=cfg.width, fc=cfg.fc).to(device), infogan.QHead(D.feature_dim).to(device)
for mine, lib in [(G, G_lib), (D, D_lib), (Q, Q_lib)]:
    lib.load_state_dict(mine.state_dict()); lib.eval(); mine.eval()
g_in = latent_input(*sample_latent(8))
with torch.no_grad():
    assert torch.allclose(G_lib(g_in), G(g_in)) and torch.allclose(D_lib(x_fake), D(x_fake))
    assert torch.allclose(Q_lib(f).cat_logits, Q(f)[0]) and torch.allclose(Q_lib(f).cont_mean, Q(f)[1])
for m in (G, D, Q):
    m.train()
print("gan_utils.models.infogan matches: InfoGANGenerator, InfoGANDiscriminator, QHead")

# %% [markdown]
# ## Losses
#
# The information loss is $-L_I$ without the constant $H(c)$: cross-entropy for the categorical code plus the
# Gaussian negative log-likelihood (std 1) for the continuous ones, with weights $\lambda_\text{cat}$ and
# $\lambda_\text{cont}$. The paper uses $\lambda = 1$ for discrete codes and suggests a smaller one for continuous
# codes; the released MNIST script uses 1 for both, as we do.
#
# A hand check. If $Q$ knows nothing (uniform logits, means 0), the categorical part is $\log 10 = 2.3026$, which is
# exactly $H(c)$, so $L_I = 0$: no information. If $Q$ is certain and right, the categorical part goes to 0 and
# $L_I \to H(c) = \log 10$, the most a 10-valued code can carry.
#
# **Exercise 2 (build).** Write `info_loss`, the two bullets at the end of The idea as one number: the categorical
# part (from logits, stable for large ones) weighted by `lambda_cat`, plus `lambda_cont` times the Gaussian
# negative log-likelihood of the continuous codes with std 1, **including** its constant, summed over the codes.
# Both parts are averaged over the batch. The check starts from the hand check above; the training below
# minimises your loss.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
lambda_cat, lambda_cont = 1.0, 1.0

def info_loss(cat_logits, c_cat, cont_mean, c_cont):
    # cat_logits (B, 10), c_cat (B,), cont_mean (B, 2), c_cont (B, 2) -> a scalar tensor, -L_I + H(c)
    ### BEGIN SOLUTION
    nll_cont = 0.5 * math.log(2 * math.pi) + 0.5 * (c_cont - cont_mean) ** 2  # -log N(c; mu, 1)
    return lambda_cat * F.cross_entropy(cat_logits, c_cat) + lambda_cont * nll_cont.sum(1).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
c_cat, c_cont = torch.tensor([3, 7]), torch.tensor([[0.5, -0.5], [0.0, 1.0]])  # (2,), (2, 2)
know_nothing = info_loss(torch.zeros(2, 10), c_cat, torch.zeros(2, 2), c_cont)
print(f"know nothing: {know_nothing:.4f}")
check_that(abs(info_loss(torch.zeros(2, 10), c_cat, c_cont, c_cont).item() - math.log(10) - math.log(2 * math.pi))
           < 1e-4, "uniform logits, exact means: log 10 plus the constant of two codes",
           hint="Reread the hand check; the Gaussian NLL with std 1 has the constant 0.5 log(2 pi) per code.")
sure = torch.full((2, 10), -200.0).scatter(1, c_cat[:, None], 200.0)  # certain and right: logits of +-200
check_that(torch.isfinite(info_loss(sure, c_cat, c_cont, c_cont)) and info_loss(sure, c_cat, c_cont, c_cont)
           < know_nothing, "finite for huge logits, and lower when Q is right",
           hint="Work from logits, not from probabilities.")
check_that(info_loss(sure, c_cat, c_cont + 1, c_cont) > info_loss(sure, c_cat, c_cont + 0.5, c_cont)
           > info_loss(sure, c_cat, c_cont, c_cont), "higher the further the means are from the codes",
           hint="The Gaussian NLL grows with the squared distance between c and the mean.");
### BEGIN HIDDEN TESTS
from gan_utils.losses import info_loss as info_loss_lib

check_that(written_here(info_loss, "losses", "info_loss_lib", "info_loss"), "written here, not borrowed",
           hint="Write the loss yourself, from the two bullets at the end of The idea.")
expected = math.log(10) + 2 * 0.5 * math.log(2 * math.pi) + 0.5 * (0.25 + 0.25 + 0 + 1) / 2
check(know_nothing, expected, "the hand check: Q knows nothing", hint="Reread the two bullets at the end of The idea.")
assert math.isclose(know_nothing.item(), expected, rel_tol=1e-6)
g_ex = torch.Generator().manual_seed(2)
args_ex = (3 * torch.randn(5, 10, generator=g_ex), torch.randint(10, (5,), generator=g_ex),
           torch.randn(5, 2, generator=g_ex), torch.rand(5, 2, generator=g_ex) * 2 - 1)
check(info_loss(*args_ex), info_loss_lib(*args_ex), "info_loss on random inputs",
      hint="Cross-entropy averaged over the batch, plus the Gaussian NLL summed over codes, averaged over the batch.")
assert torch.allclose(know_nothing, info_loss_lib(torch.zeros(2, 10), c_cat, torch.zeros(2, 2), c_cont))
### END HIDDEN TESTS

# %% [markdown]
# ## Training
#
# As in the released code, the information term enters **both** updates: $D$'s body and $Q$ learn to read $c$
# (with $D$'s optimiser), and $G$ learns to write it (with $G$'s optimiser). Learning rates are the paper's:
# $2\cdot10^{-4}$ for $D$ and $Q$, $10^{-3}$ for $G$, Adam $\beta_1 = 0.5$.

# %%
torch.manual_seed(cfg.seed)
G = Generator(z_dim + n_cat + n_cont, fc=cfg.fc, ngf=cfg.width).to(device)
D = Discriminator(ndf=cfg.width, fc=cfg.fc).to(device)
Q = QHead(D.feature_dim).to(device)
G.apply(weights_init); D.apply(weights_init)   # notebook 03's N(0, 0.02) init (Q keeps PyTorch's default)
opt_DQ = torch.optim.Adam([*D.parameters(), *Q.parameters()], lr=2e-4, betas=(0.5, 0.999))
opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))


# %%
def make_infogan_step(G, D, Q, opt_G, opt_DQ):
    def infogan_step(step):
        x_real, _ = mnist.batch(cfg.batch)
        z, c_cat, c_cont = sample_latent(cfg.batch)
        x_fake = G(latent_input(z, c_cat, c_cont))
        # D and Q: tell real from fake, and read the codes back from the (detached) fakes
        f_fake = D.features(x_fake.detach())
        loss_D = d_loss_bce(D(x_real), D.from_features(f_fake))
        cat_logits, cont_mean = Q(f_fake)
        loss_Q = info_loss(cat_logits, c_cat, cont_mean, c_cont)
        opt_DQ.zero_grad(set_to_none=True); (loss_D + loss_Q).backward(); opt_DQ.step()
        # G: fool D, and make the codes easy to read
        f_fake = D.features(x_fake)
        cat_logits, cont_mean = Q(f_fake)
        loss_info = info_loss(cat_logits, c_cat, cont_mean, c_cont)
        loss_G = g_loss_nonsaturating(D.from_features(f_fake))
        opt_G.zero_grad(set_to_none=True); (loss_G + loss_info).backward(); opt_G.step()
        return {"loss_D": loss_D.item(), "loss_G": loss_G.item(), "info": loss_info.item()}
    return infogan_step

infogan_step = make_infogan_step(G, D, Q, opt_G, opt_DQ)


# %% [markdown]
# Since MNIST's labels are at hand, we can watch the categorical code turn into a digit classifier while $G$ trains.
# A hook runs every `sample_every` steps: it feeds 2,000 real digits to $D$'s body and $Q$, takes the most likely
# code, and scores it against the labels after the best matching of codes to digits (explained under Results). The
# labels are used only for this score; InfoGAN never trains on them.

# %%
def code_predictions(idx, D, Q):
    D.eval(); Q.eval()
    with torch.no_grad():
        codes = torch.cat([Q(D.features(mnist.to_float(i)))[0].argmax(1) for i in idx.split(500)])
    D.train(); Q.train()
    return codes                                        # (len(idx),) the most likely categorical code

watch_idx = torch.arange(min(2_000, cfg.n_eval), device=device)

def watch_codes(trainer, step, losses):
    if step % cfg.sample_every == 0:
        acc, _ = matched_accuracy(code_predictions(watch_idx, D, Q), mnist.labels[watch_idx], 10, 10)
        trainer.extra_state["code_acc"][step] = acc      # kept in the checkpoints


# %% [markdown]
# The fixed sample grid: **row $k$ uses categorical code $k$**, and each column shares $z$ and $c_\text{cont}$. If
# the categorical code learns the digit class, each row becomes one digit.

# %%
g = torch.Generator(device="cpu").manual_seed(1)
z_fix = (torch.rand(8, z_dim, generator=g) * 2 - 1).repeat(10, 1).to(device)         # (80, 62)
c_fix = torch.arange(10).repeat_interleave(8).to(device)                               # (80,)
cc_fix = (torch.rand(8, n_cont, generator=g) * 2 - 1).repeat(10, 1).to(device)         # (80, 2)
trainer = Trainer({"G": G, "D": D, "Q": Q}, {"G": opt_G, "DQ": opt_DQ}, infogan_step, ckpt_dir=cfg.ckpt_dir,
                  ckpt_every=1_000, sample_fn=lambda: G(latent_input(z_fix, c_fix, cc_fix)),
                  sample_every=cfg.sample_every, extra_state={"code_acc": {}}, hooks=[watch_codes])
history = trainer.fit(cfg.steps, resume=True)
print(f"{trainer.step} steps, {trainer.seconds / 60:.1f} min of training")

# %% [markdown]
# The information loss falls towards its floor (the continuous codes' constant $\log 2\pi$ ≈ 1.84 for two codes,
# plus whatever uncertainty is left) while the GAN losses keep oscillating.

# %%
plot_losses(history); plt.show()

# %%
plot_snapshots(history, max_cols=5, n_images=80, nrow=8); plt.show()

# %% [markdown]
# The categorical code's accuracy over training, on the 2,000 watched digits:

# %%
steps_acc = sorted(trainer.extra_state["code_acc"].items())
plt.figure(figsize=(6, 3)); plt.plot([s for s, _ in steps_acc], [100 * a for _, a in steps_acc], marker="o")
plt.axhline(95, color="gray", ls="--", label="paper (about 5% error)"); plt.ylim(0, 100)
plt.xlabel("step"); plt.ylabel("matched accuracy (%)"); plt.legend(); plt.grid(alpha=0.3); plt.show()
print("matched accuracy on the watched digits:", ", ".join(f"step {s}: {100 * a:.1f}%" for s, a in steps_acc))

# %% [markdown]
# ## Results
#
# ### The categorical code as a digit classifier
#
# Feed **real** digits to $D$'s body and $Q$, take the most likely categorical code, and compare with the true
# labels. Since the codes are learned without labels, code 3 need not mean digit 3: we first find the one-to-one
# matching of codes to labels that maximises accuracy (the Hungarian algorithm, `scipy.optimize.linear_sum_assignment`).
# The paper reports about **5% error** (95% accuracy) on MNIST.

# %%
idx = torch.randperm(len(mnist), device=device)[:cfg.n_eval]
codes = code_predictions(idx, D, Q)
D.eval(); Q.eval(); G.eval()
acc, mapping = matched_accuracy(codes, mnist.labels[idx], 10, 10)
print(f"categorical code accuracy after matching: {100 * acc:.1f}%  (paper: about 95%, i.e. 5% error)")
print("code -> digit:", mapping)

# %% [markdown]
# The confusion matrix, rows re-ordered by the matching, shows which digits share a code (typically 4/9 and 3/5/8,
# the pairs that look alike).

# %%
conf = confusion(codes, mnist.labels[idx], 10, 10)
order = [c for c, _ in sorted(mapping.items(), key=lambda kv: kv[1])]
plt.figure(figsize=(4.5, 4)); plt.imshow(conf[order], cmap="Blues")
plt.yticks(range(10), [f"code {c}" for c in order]); plt.xticks(range(10)); plt.xlabel("true digit")
plt.colorbar(); plt.show()

# %% [markdown]
# **Against the paper.** The committed run reaches **87.7%** (printed above), against the paper's 95%; the three
# seeds below give 86.9 ± 4.6% (81.9% to 91.0%), so a single run can land anywhere in a range about ten points wide.
# The curve above was still rising at the end. The confusion matrix shows where the rest goes: most codes hold one
# digit cleanly, while digits that differ by a stroke share codes (here 7 and 9, split between two codes). Three
# things separate our runs from the paper's: half-width networks, 5,000 steps at batch 64 (the paper: 5,000 updates
# at batch 128), and the 10,000-image test split instead of the 60,000-image training set. InfoGAN's categorical
# code also depends on the seed (for some of the paper's other figures the authors picked codes from several
# runs). `full` mode (the paper's widths,
# 10,000 steps at batch 128) and Exercise 7 are the places to close the gap.
#
# The same question from the generator's side: draw samples with each categorical code, classify them with the
# MNIST domain classifier of notebook 02 (cached), and score the codes against the predicted digits after the
# same matching. This is the accuracy of **conditional samples**: does fixing the code fix the digit?

# %%
clf, clf_acc = get_domain_classifier(mnist, cfg.cache_dir, epochs=cfg.clf_epochs, seed=cfg.seed)
z, c_cat, c_cont = sample_latent(cfg.n_eval)
with torch.no_grad():
    x_gen = torch.cat([G(latent_input(*t)) for t in zip(z.split(500), c_cat.split(500), c_cont.split(500))])
    pred = torch.cat([clf(x).argmax(1) for x in x_gen.split(500)])
acc_gen, _ = matched_accuracy(c_cat, pred, 10, 10)
print(f"generated digits: code matches the classifier's digit in {100 * acc_gen:.1f}% of samples "
      f"(classifier: {100 * clf_acc:.1f}% on held-out real digits)")

# %% [markdown]
# ### Traversals of the continuous codes
#
# Hold $z$ and the categorical code fixed and sweep one continuous code from $-2$ to $2$ (beyond the training range
# $[-1, 1]$, as the paper does). Each row is one categorical value, re-ordered by the matching so rows go 0 to 9.

# %%
values = torch.linspace(-2, 2, 9)

def traversal(code_index, seed=3):
    gen = torch.Generator().manual_seed(seed)
    z = (torch.rand(1, z_dim, generator=gen) * 2 - 1).repeat(10 * len(values), 1).to(device)
    c_cat = torch.tensor(order).repeat_interleave(len(values)).to(device)          # one row per digit
    c_cont = torch.zeros(10 * len(values), n_cont)
    c_cont[:, code_index] = values.repeat(10)
    with torch.no_grad():
        return G(latent_input(z, c_cat, c_cont.to(device)))                       # (90, 1, 28, 28)

fig, axes = plt.subplots(1, 2, figsize=(12, 6.5))
for k, ax in enumerate(axes):
    show_grid(traversal(k), nrow=len(values), ax=ax, title=f"c{k + 2} (continuous code {k + 1}): -2 -> 2")
plt.show()


# %% [markdown]
# Which code is rotation and which is width? Rather than guessing by eye, we measure two properties of each
# generated digit: its **lean**, the angle of its principal axis (from the image's second moments) from the
# **vertical**, positive when the top leans right; and its **ink** (mean brightness, a proxy for stroke width). The
# angle is taken from the vertical because digits stand upright: from the horizontal, an upright stroke sits at
# $\pm 90°$, where a 3° lean one way reads $+87°$ and the other way $-87°$, and averages of such angles mean nothing.
# The measure is promoted to `gan_utils.metrics.strokes`, whose tests check it on strokes drawn at known angles.

# %%
def lean_and_ink(x):
    w = (x + 1) / 2                                                    # (B, 1, 28, 28) in [0, 1]
    ys, xs = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    xs, ys = xs.to(x), ys.to(x)
    m = w.sum((1, 2, 3)).clamp_min(1e-6)
    cx, cy = (w * xs).sum((1, 2, 3)) / m, (w * ys).sum((1, 2, 3)) / m
    dx, dy = xs - cx.view(-1, 1, 1, 1), ys - cy.view(-1, 1, 1, 1)
    mu20, mu02, mu11 = (w * dx * dx).sum((1, 2, 3)), (w * dy * dy).sum((1, 2, 3)), (w * dx * dy).sum((1, 2, 3))
    return torch.rad2deg(0.5 * torch.atan2(-2 * mu11, mu02 - mu20)), w.mean((1, 2, 3))   # lean (deg), ink

with torch.no_grad():
    x_lean = G(latent_input(*sample_latent(64)))                       # (64, 1, 28, 28)
assert all(torch.allclose(a, b, atol=1e-3) for a, b in zip(lean_and_ink(x_lean), strokes.lean_and_ink(x_lean)))
print(f"lean of 64 samples: median {lean_and_ink(x_lean)[0].median():+.1f} degrees from the vertical")


# %% [markdown]
# Now the sweep. For 500 random $z$ and categorical codes, we move one continuous code from $-1$ to $+1$ (the
# training range) and measure the mean change of lean and ink. A code that controls a style should also leave the
# digit alone, so we classify every image with the domain classifier and count the samples whose digit changes
# between the centre of the sweep (0) and its ends, within the training range ($\pm 1$) and beyond it ($\pm 2$).

# %%
def code_effects(G, n=500):
    out = {}
    for k in range(n_cont):
        z, c_cat, c_cont = sample_latent(n)
        imgs = {}
        for v in (-2.0, -1.0, 0.0, 1.0, 2.0):
            c = c_cont.clone()
            c[:, k] = v
            with torch.no_grad():
                imgs[v] = G(latent_input(z, c_cat, c))                 # (n, 1, 28, 28)
        with torch.no_grad():
            cls = {v: clf(x).argmax(1) for v, x in imgs.items()}      # (n,) digit at each value
        (lean_lo, ink_lo), (lean_hi, ink_hi) = lean_and_ink(imgs[-1.0]), lean_and_ink(imgs[1.0])
        changed = [100 * ((cls[-v] != cls[0.0]) | (cls[v] != cls[0.0])).float().mean().item() for v in (1.0, 2.0)]
        out[f"c{k + 2}"] = dict(lean=(lean_hi - lean_lo).mean().item(), changed_1=changed[0], changed_2=changed[1],
                                ink=(100 * (ink_hi - ink_lo) / ink_lo).mean().item())
    return out

def effects_row(effects):
    return "; ".join(f"{c}: lean {e['lean']:+5.1f} deg, ink {e['ink']:+5.1f}%, digit changes {e['changed_1']:4.1f}% "
                     f"(within +-1) / {e['changed_2']:4.1f}% (at +-2)" for c, e in effects.items())

effects = code_effects(G)
print(effects_row(effects))


# %% [markdown]
# ### Three seeds
#
# InfoGAN's codes depend on the seed: which continuous code takes which role, and how well the categorical code
# finds the digits. We train the same model from two more seeds (the same settings and steps; about twice the
# training time above; their loss curves appear below the cell) and measure each run as above.

# %%
def train_seed(seed):
    torch.manual_seed(seed)
    G_s = Generator(z_dim + n_cat + n_cont, fc=cfg.fc, ngf=cfg.width).to(device)
    D_s = Discriminator(ndf=cfg.width, fc=cfg.fc).to(device)
    Q_s = QHead(D_s.feature_dim).to(device)
    G_s.apply(weights_init); D_s.apply(weights_init)
    opt_DQ_s = torch.optim.Adam([*D_s.parameters(), *Q_s.parameters()], lr=2e-4, betas=(0.5, 0.999))
    opt_G_s = torch.optim.Adam(G_s.parameters(), lr=1e-3, betas=(0.5, 0.999))
    Trainer({"G": G_s, "D": D_s, "Q": Q_s}, {"G": opt_G_s, "DQ": opt_DQ_s},
            make_infogan_step(G_s, D_s, Q_s, opt_G_s, opt_DQ_s), ckpt_dir=cfg.ckpt_dir / f"seed{seed}",
            ckpt_every=1_000).fit(cfg.steps, resume=True)
    return G_s.eval(), D_s, Q_s

runs = {0: (G, D, Q), **{seed: train_seed(seed) for seed in (1, 2)}}

# %%
acc_seeds = {}
for seed, (G_s, D_s, Q_s) in runs.items():
    acc_seeds[seed] = matched_accuracy(code_predictions(idx, D_s, Q_s), mnist.labels[idx], 10, 10)[0]
    print(f"seed {seed}: categorical code {100 * acc_seeds[seed]:.1f}% | "
          + effects_row(effects if seed == 0 else code_effects(G_s)))
D.eval(); Q.eval()
accs = torch.tensor(list(acc_seeds.values())) * 100
print(f"categorical code accuracy over {len(accs)} seeds: {accs.mean():.1f} ± {accs.std():.1f}% "
      f"(min {accs.min():.1f}, max {accs.max():.1f}); paper: about 95%")


# %% [markdown]
# In the paper, one code controls rotation and the other width, and the digit stays the same. Ours do less cleanly,
# in all three seeds:
#
# * **One code leans the digits strongly**: over the training range $[-1, 1]$ the lean changes by 50° (seed 0,
#   c2), 42° (seed 1, c2) and 53° (seed 2, c3), in one direction or the other. The other code leans them less
#   (1° to 21°).
# * **No code is a pure width code**: both change the ink, by 9% to 34% (in seed 0 one code adds ink and the other
#   removes it; in seed 1 both add, in seed 2 both remove). The leaning code changes the ink too.
# * **The continuous codes also change the digit.** Between the centre of a sweep and its ends, 13% to 38% of the
#   digits change class within the training range, and 43% to 67% at $\pm 2$: the traversal figure shows it, a 7
#   turning into a 9 in two rows, a 2 losing its base. In our runs the continuous codes carry part of the class,
#   which the paper's figures do not show.
#
# Which code does what moves from seed to seed, and the two codes together span lean and width as a rotated pair
# of axes rather than one factor each; longer training and the paper's wider networks are reported to align them.
# Nothing told $G$ about either factor: they come out because they are the most reliable ways to make $c$
# recoverable from the image.
#
# ## Explore
#
# Sliders for the categorical and both continuous codes. The figure under the widget is the static fallback.

# %%
def explore(digit_code=0, c2=0.0, c3=0.0, seed=0):
    gen = torch.Generator().manual_seed(seed)
    z = (torch.rand(8, z_dim, generator=gen) * 2 - 1).to(device)
    c_cont = torch.tensor([[c2, c3]]).repeat(8, 1).to(device)
    with torch.no_grad():
        x = G(latent_input(z, torch.full((8,), order[digit_code], device=device), c_cont))
    show_grid(x, nrow=8, title=f"row {digit_code}, c2 = {c2:+.1f}, c3 = {c3:+.1f}", figsize=(8, 1.6)); plt.show()

interact(explore, digit_code=(0, 9), c2=(-2.0, 2.0, 0.25), c3=(-2.0, 2.0, 0.25), seed=(0, 50))

# %%
explore(digit_code=2, c2=1.5, c3=-1.5)  # static fallback

# %% [markdown]
# ## Summary
#
# * InfoGAN adds a code $c$ to $G$'s input and rewards $G$ for keeping it recoverable, via the lower bound $L_I$
#   estimated by a head $Q$ that shares $D$'s body.
# * Without labels, the categorical code becomes a digit classifier (86.9 ± 4.6% over three seeds after matching, 95% in the
#   paper) and the continuous codes find lean and stroke width, mixed between the two codes and with the digit class
#   (13-38% of digits change class within the training range).
# * The cost over a GAN is one small extra layer and one cross-entropy.
#
# ## Exercises
#
# Exercises 1 and 2 are above, where the $Q$ head and the information loss are taught: the notebook trains your
# code. Each coded exercise has a check cell that never shows the answer; the grader also runs hidden tests.
#
# **Exercise 3.** A categorical code with $K$ equally likely values has entropy $H(c) = \log K$. What is the largest
# possible $L_I$, in nats, for the 10-valued code here? (Round to 4 decimals.)

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
max_L_I = None  # your answer
### BEGIN SOLUTION
max_L_I = math.log(10)  # 2.3026 nats
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
check_that(None if max_L_I is None else 0 < max_L_I < 10, "a positive number of nats",
           hint="L_I <= I(c; x) <= H(c); reread the hand check above Exercise 2.");
### BEGIN HIDDEN TESTS
check(max_L_I, math.log(10), "max L_I", hint="L_I <= I(c; x) <= H(c); for a uniform code H(c) = log K.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 4 (extend).** Write the bound itself, $L_I = \mathbb E[\log Q(c \mid x)] + H(c)$, for one categorical and
# two continuous codes, with a $Q$ that also outputs a log standard deviation $\log s_k$ per continuous code (the
# paper's factored Gaussian, where ours fixes $s = 1$): $\log Q(c \mid x) = \log\mathrm{softmax}(\ell)_{c_\text{cat}} +
# \sum_k \log \mathcal N(c_k;\, \mu_k, s_k^2)$, averaged over the batch. $H(c)$ is the entropy of the prior: $\log 10$
# for the 10 values, plus $\log 2$ for each $U(-1, 1)$ code (a differential entropy).

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
def my_L_I(cat_logits, c_cat, cont_mean, cont_log_std, c_cont):
    # cat_logits (B, 10), c_cat (B,), cont_mean, cont_log_std, c_cont (B, 2) -> a scalar, in nats
    ### BEGIN SOLUTION
    log_q_cat = F.log_softmax(cat_logits, dim=1).gather(1, c_cat[:, None]).squeeze(1)  # (B,)
    z = (c_cont - cont_mean) * torch.exp(-cont_log_std)
    log_q_cont = (-0.5 * math.log(2 * math.pi) - cont_log_std - 0.5 * z ** 2).sum(1)  # (B,)
    return (log_q_cat + log_q_cont).mean() + math.log(10) + 2 * math.log(2)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
g_ex = torch.Generator().manual_seed(0)
logits_ex, mean_ex, log_std_ex = (torch.randn(4, 10, generator=g_ex), torch.randn(4, 2, generator=g_ex),
                                  0.3 * torch.randn(4, 2, generator=g_ex))
c_cat_ex, c_cont_ex = torch.tensor([3, 7, 0, 9]), torch.rand(4, 2, generator=g_ex) * 2 - 1
got = my_L_I(logits_ex, c_cat_ex, mean_ex, log_std_ex, c_cont_ex)
sure = torch.full((4, 10), -200.0).scatter(1, c_cat_ex[:, None], 200.0)  # certain and right
check_that(math.isfinite(float(my_L_I(sure, c_cat_ex, mean_ex, log_std_ex, c_cont_ex))) and
           float(my_L_I(sure, c_cat_ex, mean_ex, log_std_ex, c_cont_ex)) > float(got), "finite, and higher when Q is right",
           hint="Take the log-softmax of the logits rather than the log of a softmax.")
exact = lambda log_s: float(my_L_I(sure, c_cat_ex, c_cont_ex, torch.full((4, 2), log_s), c_cont_ex))
check_that(exact(-2.0) > exact(-1.0) > exact(0.0), "exact means: a smaller s is a tighter bound",
           hint="log N(c; mu, s^2) at c = mu is -0.5 log(2 pi) - log s.");
### BEGIN HIDDEN TESTS
from gan_utils.losses import info_loss as info_loss_lib

check_that(written_here(my_L_I, "losses", "info_loss_lib"), "written here, not borrowed",
           hint="Write the bound yourself, from the formula above.")
H_c = math.log(10) + 2 * math.log(2)
check(got, H_c - info_loss_lib(logits_ex, c_cat_ex, mean_ex, c_cont_ex, cont_log_std=log_std_ex), "L_I",
      hint="log N(c; mu, s) = -0.5 log(2 pi) - log s - 0.5 ((c - mu) / s)^2, summed over the codes. Then add H(c).")
check(exact(0.0), H_c - math.log(2 * math.pi), "L_I of a Q that is certain and right, with s = 1",
      hint="Categorical part 0; each continuous code gives -0.5 log(2 pi).");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5.** Write `matched_accuracy_bruteforce(codes, labels)` for 3 codes and 3 labels by trying every
# permutation (`itertools.permutations`). The check compares it with the Hungarian version on the example below.

# %% nbgrader={"grade": false, "grade_id": "ex5", "locked": false, "schema_version": 3, "solution": true, "task": false}
def matched_accuracy_bruteforce(codes, labels):
    # codes, labels: (N,) in 0..2 -> the best accuracy over all permutations, a float
    ### BEGIN SOLUTION
    import itertools

    return max((torch.tensor(p)[codes] == labels).float().mean().item()
               for p in itertools.permutations(range(3)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
codes_ex, labels_ex = torch.tensor([0, 0, 1, 1, 2, 2, 2]), torch.tensor([2, 2, 0, 1, 1, 1, 0])
got = matched_accuracy_bruteforce(codes_ex, labels_ex)
check_that(0 <= got <= 1 and got >= (codes_ex == labels_ex).float().mean().item(),
           "a fraction, at least the accuracy of the identity matching", hint="The identity is one of the permutations.")
check_that(matched_accuracy_bruteforce(codes_ex, (codes_ex + 1) % 3) == 1, "a relabelled copy scores 1",
           hint="Take the best permutation, not the first.");
### BEGIN HIDDEN TESTS
check_that(written_here(matched_accuracy_bruteforce, "matched_accuracy", "matching"), "written here, not borrowed",
           hint="Try the permutations yourself.")
check(got, matched_accuracy(codes_ex, labels_ex)[0], "brute-force matching",
      hint="For each permutation p, count how often p[code] == label; keep the best.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 6.** With 10 codes, brute force would try $10! \approx 3.6$ million permutations. Write the Hungarian
# version: count `counts[i, j]`, the samples with code $i$ and label $j$; let `scipy.optimize.linear_sum_assignment`
# find the one-to-one matching of codes to labels with the largest total count (it minimises a cost, so give it
# `-counts`); return the matched count over the number of samples.

# %% nbgrader={"grade": false, "grade_id": "ex6", "locked": false, "schema_version": 3, "solution": true, "task": false}
def my_matched_accuracy(codes, labels, n=10):
    # codes, labels: (N,) in 0..n-1 -> a float
    ### BEGIN SOLUTION
    from scipy.optimize import linear_sum_assignment

    counts = torch.zeros(n, n)
    counts.index_put_((codes, labels), torch.ones(len(codes)), accumulate=True)  # counts[code, label]
    rows, cols = linear_sum_assignment(-counts.numpy())
    return counts.numpy()[rows, cols].sum() / len(codes)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex6_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
g_ex = torch.Generator().manual_seed(1)
codes_10 = torch.randint(10, (300,), generator=g_ex)                        # (300,)
labels_10 = torch.randperm(10, generator=g_ex)[codes_10]                     # a hidden relabelling of the codes
check_that(math.isclose(my_matched_accuracy(codes_10, labels_10), 1.0), "a relabelled copy scores 1",
           hint="Each code is matched to the label it co-occurs with most, one to one.")
noisy = torch.rand(300, generator=g_ex) < 0.3
labels_10[noisy] = torch.randint(10, (int(noisy.sum()),), generator=g_ex)    # then 30% of the labels random
got = my_matched_accuracy(codes_10, labels_10)
check_that(0.5 < got < 1, "noisy labels: a fraction below 1", hint="Divide the matched count by the number of samples.");
### BEGIN HIDDEN TESTS
check_that(written_here(my_matched_accuracy, "matched_accuracy", "matching"), "written here, not borrowed",
           hint="Count the pairs and call the assignment solver yourself.")
check(got, matched_accuracy(codes_10, labels_10, 10, 10)[0], "Hungarian matching",
      hint="The best one-to-one matching maximises the total count; divide it by the number of samples.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 7 (open).** Train with $\lambda_\text{cont} = 0.1$ and with $\lambda_\text{cat} = 0$. Which property does
# each code lose? What happens to the categorical accuracy? Compare each change with the seed-to-seed spread of the
# three runs above: which changes are larger than luck?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer retrains at the same steps and seed for each setting and reports the matched
# categorical accuracy beside this notebook's 86.9 ± 4.6% over three seeds (paper about 95%), and the lean, ink and
# class-change effects of c2 and c3 (`code_effects`; here one code leans the digits by 42-53 degrees). With
# $\lambda_\text{cat} = 0$ the categorical code carries no information and its accuracy falls towards chance after
# matching (10-20%); with $\lambda_\text{cont} = 0.1$ the continuous codes change the digits less (smaller lean and
# ink effects). A change counts only if it is larger than the spread of the three seeds. Points: both ablations
# measured (2), each compared with the seed spread (2), a conclusion that separates luck from settings (1).

# %% [markdown]
# ## References
#
# * X. Chen et al. *InfoGAN.* NeurIPS 2016. Official code: `openai/InfoGAN`.
# * D. Barber, F. Agakov. *The IM Algorithm: A Variational Approach to Information Maximization.* NeurIPS 2003
#   (the variational bound).
