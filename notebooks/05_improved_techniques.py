# %% [markdown]
# # 05 · Improved Techniques for Training GANs
#
# **Paper:** Tim Salimans, Ian Goodfellow, Wojciech Zaremba, Vicki Cheung, Alec Radford, Xi Chen. *Improved
# Techniques for Training GANs.* NeurIPS 2016. [arXiv:1606.03498](https://arxiv.org/abs/1606.03498)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/05_improved_techniques.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: tiny sizes, same code | ≈ 40 s (measured) | ≈ 30 s (estimate) |
# | `default` | 21 runs of 2k steps on the 2D ring (7 settings × 3 seeds), 6 Dirac-GAN runs; the Inception score of notebook 02's $G$; semi-supervised MNIST, 3 label draws × 4k steps (and 2k labels-only), checkpoints chosen on validation | ≈ 15 min (measured for these outputs; an earlier version took 17 min here and 27 on a slower 2-core machine) | ≈ 5 min (estimate) |
# | `full` | 10 seeds and 10k steps per 2D run; 5 label draws × 30k semi-supervised steps | hours | ≈ 1.6 h on a T4 (estimate, counted FLOPs) |
#
# The outputs you see come from a `default` run on the real MNIST test split (10,000 digits).

# %% [markdown]
# ## What you will learn
#
# Five techniques, each written as a small piece of code and then tested as a **switch** against the failure it
# is meant to fix: a base model that shows that failure, trained with and without the technique, over 3 seeds,
# judged by modes covered, the high-quality share and the reverse KL, with every run's samples plotted:
#
# * **feature matching**: $G$ matches the mean of an intermediate layer of $D$ instead of fooling $D$;
# * **minibatch discrimination**: $D$ sees how similar each sample is to the rest of its batch (the tensor $T$,
#   L1 distances, and the concatenation of $o(x_i)$);
# * **historical averaging**: a penalty for straying from the running average of past parameters;
# * **one-sided label smoothing**: real targets 0.9, fake targets still 0;
# * **virtual batch norm**: normalisation by a fixed reference batch.
#
# And two uses of a GAN beyond samples:
#
# * the **Inception score**, why it needs a classifier, and how we compute it with a domain classifier, on real
#   digits, one class, noise and a generator trained in notebook 02;
# * **semi-supervised learning**: the paper's $(K{+}1)$-class MLP $D$ trained with only 100 labels, its checkpoint
#   chosen on held-out validation digits, against the same network trained on the 100 labels alone, over 3 label
#   draws.

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
from gan_utils.data.synthetic import ring8
from gan_utils.teaching import check, check_that
from gan_utils.losses import d_loss_bce, g_loss_nonsaturating
from gan_utils.metrics.classifier import get_domain_classifier
from gan_utils.metrics.fid_is import classifier_log_probs, domain_inception_score
from gan_utils.metrics.mixtures import mode_stats
from gan_utils.display.viz import show_grid
from gan_utils.train.trainer import Trainer

# %%
SIZES = {
    #          2D runs: steps, seeds   Dirac-GAN steps   semi-supervised: GAN / labels-only steps, label draws,
    #                                                    test / validation digits, steps between validations;
    #          cgan: notebook 02's G, trained here only if notebook 02 has not been run in this mode
    "fast":    dict(toy_steps=150, seeds=3, dirac_steps=300, ssl_steps=30, sup_steps=30, label_draws=3,
                    ssl_test=400, ssl_val=200, ssl_eval=15, n_eval=500, clf_epochs=1, cgan_steps=150, cgan_batch=64),
    "default": dict(toy_steps=2_000, seeds=3, dirac_steps=3_000, ssl_steps=4_000, sup_steps=2_000, label_draws=3,
                    ssl_test=2_000, ssl_val=1_000, ssl_eval=250, n_eval=5_000, clf_epochs=6, cgan_steps=6_000,
                    cgan_batch=64),
    "full":    dict(toy_steps=10_000, seeds=10, dirac_steps=10_000, ssl_steps=30_000, sup_steps=5_000, label_draws=5,
                    ssl_test=2_000, ssl_val=1_000, ssl_eval=1_000, n_eval=10_000, clf_epochs=15, cgan_steps=60_000,
                    cgan_batch=100),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="05_improved_techniques")
device = cfg.device

# %% [markdown]
# ## The idea
#
# GAN training looks for a **Nash equilibrium** of a two-player game with gradient descent on each player's own
# cost. Nothing guarantees that this converges: each player's step can undo the other's, and the pair can orbit
# forever. Salimans et al. propose heuristics that make convergence more likely, mostly by giving the players
# information or penalties that damp these oscillations, or that make collapse visible to $D$.
#
# | technique | what it changes | equation |
# |---|---|---|
# | feature matching | $G$'s objective | $\lVert \mathbb E_x f(x) - \mathbb E_z f(G(z)) \rVert_2^2$ |
# | minibatch discrimination | $D$'s input to its last layer | $o(x_i)_b = \sum_j \exp(-\lVert M_{i,b} - M_{j,b} \rVert_{L_1})$ |
# | historical averaging | both costs | $+\,\lVert \theta - \tfrac1t \textstyle\sum_{i=1}^t \theta[i] \rVert^2$ |
# | one-sided label smoothing | $D$'s real target | $1 \to \alpha = 0.9$ |
# | virtual batch norm | $G$'s normalisation | statistics of a fixed reference batch |

# %% [markdown]
# ## Data
#
# Two data sets. The techniques are compared on the **ring of 8 Gaussians** from notebook 01: there a failure is
# a number (modes covered), a run takes seconds, and each comparison can use several seeds. The Inception score and
# the semi-supervised classifier use **MNIST**, as the paper's semi-supervised experiment does.

# %%
mix = ring8()
mnist = load_mnist(**cfg.data_kwargs)
show_grid(mnist.batch(32)[0], nrow=16, figsize=(10, 2.4)); plt.show()


# %% [markdown]
# ## Building blocks
#
# ### Feature matching
#
# Instead of maximising $D$'s output on fakes, $G$ matches the **statistics** of real data in one of $D$'s
# intermediate layers $f$ (here the last hidden layer of an MLP $D$: the toy $D$ below, and the semi-supervised $D$
# later): the squared distance between the batch means. $D$ trains as usual. The official code averages the
# squared differences over the feature dimensions; we do the same. The real features are only a **target** for $G$: this loss must not send gradients into the real branch.
#
# By hand, for two real feature vectors $(1, 2), (3, 4)$ and two fake ones $(0, 0), (2, 2)$: the means are $(2, 3)$
# and $(1, 1)$, so the loss is $((2 - 1)^2 + (3 - 1)^2) / 2 = 2.5$.
#
# **Exercise 1 (build).** Write `feature_matching(f_real, f_fake)`: the squared distance between the batch means of
# the real and the fake features (the equation in the table above), averaged over the feature dimensions, with the
# real features treated as a constant target. Training with `fm=True` below runs your function.

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def feature_matching(f_real, f_fake):
    # f_real: (N, F), f_fake: (M, F) -> a scalar
    ### BEGIN SOLUTION
    return (f_real.detach().mean(0) - f_fake.mean(0)).pow(2).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
f_r, f_f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[0.0, 0.0], [2.0, 2.0]])
loss = feature_matching(f_r, f_f)
check_that(loss.shape == (), "feature matching is a scalar", hint="Average over the batch, then over the features.")
check_that(abs(loss.item() - 2.5) < 1e-5, "the value worked out by hand above",
           hint="First the mean over the batch of each feature, then the squared difference, averaged over features.")
g_fm = torch.Generator().manual_seed(1)
f_real_t, f_fake_t = torch.randn(8, 5, generator=g_fm, requires_grad=True), torch.randn(6, 5, generator=g_fm, requires_grad=True)
feature_matching(f_real_t, f_fake_t).backward()
check_that(f_real_t.grad is None or not f_real_t.grad.any(), "no gradient into the real features",
           hint="The real statistics are a fixed target for G: cut them from the graph.")
check_that(f_fake_t.grad is not None and f_fake_t.grad.abs().sum() > 0, "a gradient into the fake features")
check_that(feature_matching(f_real_t, f_real_t[torch.randperm(8, generator=g_fm)]).abs() < 1e-6,
           "zero when the batches hold the same samples in another order", hint="Only the batch means matter.");
### BEGIN HIDDEN TESTS
from gan_utils.losses import feature_matching as fm_lib
check(feature_matching(f_real_t, f_fake_t), fm_lib(f_real_t, f_fake_t), "feature matching on random features")
assert torch.isclose(feature_matching(f_r, f_f), fm_lib(f_r, f_f))
### END HIDDEN TESTS

# %% [markdown]
# ### Minibatch discrimination
#
# A collapsed $G$ produces batches of near-identical samples, but a $D$ that looks at one sample at a time cannot
# see that. Minibatch discrimination gives $D$ a view across the batch. For features $f(x_i) \in \mathbb R^A$:
#
# 1. multiply by a learned tensor $T \in \mathbb R^{A \times B \times C}$ to get $M_i \in \mathbb R^{B \times C}$;
# 2. for each of the $B$ rows, the closeness of two samples is $c_b(x_i, x_j) = \exp(-\lVert M_{i,b} - M_{j,b}\rVert_{L_1})$;
# 3. $o(x_i)_b = \sum_{j \ne i} c_b(x_i, x_j)$, and $o(x_i) \in \mathbb R^B$ is **concatenated** to $f(x_i)$.
#
# (The paper's sum includes $j = i$, which adds the constant $e^0 = 1$; the official code removes it, as we do.)
#
# The layer is `gan_utils.nn.minibatch.MinibatchDiscrimination` in the library, with the same $T$ layout (so with
# the same $T$ it gives the same output). In `gan_utils.models.improved.ImprovedDiscriminator(minibatch_kernels=100)`,
# notebook 03's $D$ with this layer before the logit, it reads the channel-pooled last-conv features, as in the
# official CIFAR code, so $T$ stays small. The toy $D$ below uses the one you write here.
#
# **Exercise 2 (build).** Write the `forward` of the layer: steps 1 to 3 above, for a batch of features $f$ $(N, A)$
# and the learned $T$ $(A, B, C)$, without the $j = i$ term. A collapsed batch of $N$ identical samples should give
# $o(x_i)_b = N - 1$ for every $b$.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
class MinibatchDiscrimination(nn.Module):
    def __init__(self, A, B=100, C=5):
        super().__init__()
        self.T = nn.Parameter(torch.empty(A, B, C))              # (A, B, C)
        nn.init.normal_(self.T, 0.0, 1 / math.sqrt(A))           # keeps M near unit scale, so exp(-L1) is not 0

    def forward(self, f):                                         # f: (N, A) -> (N, A + B)
        ### BEGIN SOLUTION
        M = torch.einsum("na,abc->nbc", f, self.T)                # (N, B, C)
        l1 = (M.unsqueeze(1) - M.unsqueeze(0)).abs().sum(-1)      # (N, N, B)
        o = torch.exp(-l1).sum(1) - 1.0                           # (N, B), minus the j = i term
        return torch.cat([f, o], dim=1)                           # (N, A + B)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
from gan_utils.models import improved
from gan_utils.nn import minibatch, normalization

mbd = MinibatchDiscrimination(A=16)
f = torch.randn(8, 16)
out = mbd(f)
check_that(out.shape == (8, 16 + 100), "output shape (N, A + B)", hint="o(x_i) is concatenated to f(x_i).")
check_that(torch.equal(out[:, :16], f), "f(x_i) passes through unchanged", hint="Step 3: f first, then o.")
same = mbd(f[:1].repeat(8, 1))[:, 16:]                            # a collapsed batch of 8
check_that(torch.allclose(same, torch.full_like(same, 7.0)), "a collapsed batch gives o_b = N - 1",
           hint="Identical samples are at L1 distance 0; leave out the j = i term.")
g_mb = torch.Generator().manual_seed(2)
far = mbd(100 * torch.randn(8, 16, generator=g_mb))[:, 16:]       # samples far apart
check_that(far.abs().max() < 1e-3, "samples far apart give o close to 0", hint="c_b = exp(-L1 distance).")
perm = torch.randperm(8, generator=g_mb)
check_that(torch.allclose(mbd(f[perm]), out[perm], atol=1e-6), "shuffling the batch shuffles the output rows");
### BEGIN HIDDEN TESTS
mbd_lib = minibatch.MinibatchDiscrimination(16, 100, 5)
with torch.no_grad():
    mbd_lib.T.copy_(mbd.T.view_as(mbd_lib.T))
check(mbd(f), mbd_lib(f), "minibatch discrimination against the library's layer")
assert torch.allclose(mbd_lib(f), mbd(f), atol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Historical averaging
#
# Each player's cost gets $\lVert \theta - \tfrac1t\sum_{i=1}^t \theta[i] \rVert^2$: a pull towards the average of its
# own past parameters, which damps orbits around an equilibrium. The running average is kept outside autograd.
# The paper gives no weight for the penalty; we use `lambda_ha` below (our choice).

# %%
class HistoricalAverage:
    def __init__(self, module):
        self.module, self.count, self.avg = module, 0, {}

    def update(self):                       # after each optimiser step: fold theta[t] into the running mean
        self.count += 1
        with torch.no_grad():
            for name, p in self.module.named_parameters():
                old = self.avg.get(name, p.detach())
                self.avg[name] = old + (p.detach() - old) / self.count

    def penalty(self):                      # ||theta - mean_t theta[t]||^2, differentiable in theta
        params = dict(self.module.named_parameters())
        return sum((params[n] - a).square().sum() for n, a in self.avg.items())


# %% [markdown]
# A check by hand: three steps with $\theta = 1, 2, 4$ give the average $7/3$ and the penalty $(4 - 7/3)^2$. The
# promoted `gan_utils.models.improved.HistoricalAverage` (which the Trainer can also checkpoint) gives the same.

# %%
w = nn.Linear(1, 1, bias=False)
ha, ha_lib = HistoricalAverage(w), improved.HistoricalAverage(w)
for value in (1.0, 2.0, 4.0):          # three steps: theta = 1, 2, 4
    with torch.no_grad():
        w.weight.fill_(value)
    ha.update(); ha_lib.update()
print(f"(4 - 7/3)^2 = {(4 - 7 / 3) ** 2:.4f}; ours {ha.penalty().item():.4f}; library {ha_lib.penalty().item():.4f}")
assert torch.isclose(ha.penalty(), ha_lib.penalty())


# %% [markdown]
# ### One-sided label smoothing
#
# With targets $\alpha$ for real and $\beta$ for fake, the optimal discriminator becomes
# $D^*(x) = \frac{\alpha\, p_\text{data}(x) + \beta\, p_\text{model}(x)}{p_\text{data}(x) + p_\text{model}(x)}$. Where
# $p_\text{data}$ is tiny and $p_\text{model}$ large, a non-zero $\beta$ would *reward* $G$ for staying there, so only
# the real labels are smoothed: $\alpha = 0.9$, $\beta = 0$.
#
# $D$'s loss becomes a cross-entropy with target $\alpha$ on real images and 0 on fakes:
#
# $$ L_D = -\mathbb E_x\big[\alpha \log D(x) + (1 - \alpha) \log(1 - D(x))\big] - \mathbb E_z \log(1 - D(G(z))). $$
#
# By hand, for one real logit 2 ($D = \sigma(2) = 0.881$) and one fake logit $-1$ ($D = 0.269$):
# $-(0.9 \log 0.881 + 0.1 \log 0.119) - \log 0.731 = 0.114 + 0.213 + 0.313 = 0.640$. On real data the loss is
# smallest where $D(x) = \alpha$, that is at the logit $\log\frac{\alpha}{1 - \alpha} = \log 9 \approx 2.2$: $D$ gains
# nothing by growing more confident.
#
# **Exercise 3 (build).** Write `d_loss_smoothed(d_real, d_fake, alpha)`: $L_D$ above from $D$'s **logits**, each
# expectation a mean over its batch. It must stay finite for logits of $\pm 200$, where $\log(1 - \sigma(a))$
# computed literally is $-\infty$: write the logs in terms of the logits (notebook 01). The runs below train $D$
# with it.

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def d_loss_smoothed(d_real, d_fake, alpha=0.9):
    # d_real: (N,), d_fake: (M,) logits -> a scalar
    ### BEGIN SOLUTION
    # the same as alpha * softplus(-a) + (1 - alpha) * softplus(a) on reals, softplus(a) on fakes
    loss_real = F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, alpha))
    return loss_real + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
d_r, d_f = torch.tensor([2.0]), torch.tensor([-1.0])
loss = d_loss_smoothed(d_r, d_f)
check_that(loss.shape == (), "the loss is a scalar", hint="A mean over each batch, then the sum of the two terms.")
check_that(abs(loss.item() - 0.6402) < 1e-3, "the value worked out by hand above",
           hint="The real target is alpha, the fake target 0.")
extreme = d_loss_smoothed(torch.tensor([200.0, -200.0]), torch.tensor([200.0, -200.0]))
check_that(torch.isfinite(extreme), "finite at logits of +-200",
           hint="From logits, log D = -softplus(-a) and log(1 - D) = -softplus(a).")
fake0 = torch.zeros(1)
near = [d_loss_smoothed(torch.tensor([math.log(9) + t]), fake0) for t in (-0.5, 0.0, 0.5)]
check_that(near[1] < near[0] and near[1] < near[2], "on real data the loss is smallest at the logit log 9",
           hint="Only the real target moves, to alpha = 0.9.")
check_that(d_loss_smoothed(d_r, torch.tensor([-3.0])) < loss, "a lower fake logit lowers the loss",
           hint="The fake target stays 0 (one-sided).");
### BEGIN HIDDEN TESTS
d_real_ex, d_fake_ex = torch.tensor([2.0, -1.0, 0.5, 40.0]), torch.tensor([-1.0, 0.3, -40.0, 3.0])
for alpha_ex in (0.9, 0.75, 1.0):
    check(d_loss_smoothed(d_real_ex, d_fake_ex, alpha_ex), d_loss_bce(d_real_ex, d_fake_ex, real_label=alpha_ex),
          f"smoothed D loss, alpha {alpha_ex}")
### END HIDDEN TESTS

# %% [markdown]
# ### Virtual batch norm
#
# Batch norm makes each sample depend on the other samples in its batch, which for $G$ means that fakes in one
# batch are correlated. **Virtual batch norm** normalises every example with the statistics of a **reference
# batch** chosen once at the start, combined with the example itself; the reference batch uses its own statistics.
# It costs a second forward pass per step (the reference batch), so the paper uses it in $G$ only. We turn every
# batch norm layer in $G$ into a virtual one. In the paper's version an example $x$ is normalised with the mean and
# mean square of the reference batch (size $N$) pooled with its own, weighted $\tfrac{N}{N+1}$ and $\tfrac{1}{N+1}$.
# Here it is for features $(B, C)$, as in an MLP.

# %%
class VirtualBatchNorm1d(nn.Module):
    def __init__(self, C, eps=1e-5):
        super().__init__()
        self.weight, self.bias, self.eps = nn.Parameter(torch.ones(C)), nn.Parameter(torch.zeros(C)), eps

    def forward(self, x, reference=False):                        # x: (B, C)
        if reference:                                            # the reference batch: its own statistics
            self.ref_mean, self.ref_sq, self.N = x.mean(0), x.square().mean(0), len(x)
            mean, sq = self.ref_mean, self.ref_sq                # (C,)
        else:                                                    # each example: reference pooled with itself
            w = 1 / (self.N + 1)
            mean, sq = w * x + (1 - w) * self.ref_mean, w * x.square() + (1 - w) * self.ref_sq   # (B, C)
        return (x - mean) / torch.sqrt(sq - mean.square() + self.eps) * self.weight + self.bias


# %% [markdown]
# It equals the promoted `gan_utils.nn.normalization.VirtualBatchNorm` (which also handles images $(B, C, H, W)$),
# and an example's output no longer depends on the other examples in its batch.

# %%
vbn, vbn_lib = VirtualBatchNorm1d(16), normalization.VirtualBatchNorm(16)
x_ref, x = torch.randn(64, 16), torch.randn(8, 16)
vbn(x_ref, reference=True); vbn_lib.set_reference(); vbn_lib(x_ref)
assert torch.allclose(vbn(x), vbn_lib(x), atol=1e-5)
x_other = torch.cat([x[:1], torch.randn(7, 16)])                 # same first example, new batch-mates
print("gan_utils.nn.normalization.VirtualBatchNorm matches; first example unchanged by its batch-mates:",
      torch.allclose(vbn(x)[0], vbn(x_other)[0]))

# %% [markdown]
# ## Each technique against the failure it targets
#
# A technique can only show its worth on a model that has the problem it fixes: a healthy base model gives every
# switch a flat row. So each technique gets a base that shows **its** failure. The bases are small GANs on the ring
# of 8 Gaussians (notebook 01), where a run takes seconds, and every run is judged by the three numbers of the
# PacGAN paper (notebook 08) on 2,560 samples, drawn in batches of 64 as in training:
#
# * **modes covered** (of 8): modes with at least one high-quality sample;
# * **high quality**: the share of samples within 3 standard deviations of a mode's centre;
# * **reverse KL** between the high-quality samples' histogram over the modes and the uniform one: 0 when every mode
#   gets its eighth, $\log 8 = 2.08$ when all sit on one mode.
#
# Two techniques target something these numbers do not see, so their rows get one more number each:
#
# | technique | failure it targets | base that shows the failure | its own number (better) |
# |---|---|---|---|
# | minibatch discrimination | $G$ collapses | notebook 01's collapsing run B, batch 64 | – |
# | feature matching | $D$ wins too easily | the same, with 5 $D$ steps per $G$ step | – |
# | one-sided label smoothing | an over-confident $D$ | 5 $D$ steps per $G$ step | the gradient $G$'s samples receive (lower) |
# | virtual batch norm | samples depend on their batch-mates | run B with batch norm in $G$ | within-batch correlation (near 0) |
# | historical averaging | the players orbit the equilibrium | the Dirac-GAN (below) | distance to the equilibrium (lower) |
#
# Every comparison uses `cfg.seeds` seeds (3 by default) and reports the mean ± standard deviation, with and
# without the technique, all else equal.

# %% [markdown]
# The toy networks: an MLP $G$ (with batch norm as an option) and an MLP $D$ whose last hidden layer is its
# feature layer $f$, with minibatch discrimination as an option after it.

# %%
Z_DIM, WIDTH, BATCH = 256, 128, 64

def toy_G(bn=False, vbn=False):
    norm = (lambda: nn.BatchNorm1d(WIDTH)) if bn else nn.Identity
    G = nn.Sequential(nn.Linear(Z_DIM, WIDTH), norm(), nn.ReLU(), nn.Linear(WIDTH, WIDTH), norm(), nn.ReLU(),
                      nn.Linear(WIDTH, 2))
    return improved.replace_bn_with_vbn(G) if vbn else G

class ToyD(nn.Module):
    def __init__(self, n_kernels=0):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH), nn.ReLU())
        self.mbd = MinibatchDiscrimination(WIDTH, n_kernels, 4) if n_kernels else nn.Identity()
        self.head = nn.Linear(WIDTH + n_kernels, 1)

    def features(self, x):                                       # f(x): (B, WIDTH)
        return self.body(x)

    def forward(self, x):                                        # logit: (B,)
        return self.head(self.mbd(self.body(x))).squeeze(1)


# %% [markdown]
# One training function with the switches as arguments. `k` is the number of $D$ steps per $G$ step; `real_label`
# 0.9 is one-sided label smoothing; `fm` swaps $G$'s loss for feature matching. With virtual batch norm, the
# reference batch goes through $G$ before every use. At each $G$ step it records how strongly $G$'s loss pushes its
# samples: the mean over the batch of $\lVert \partial L_G / \partial x_i \rVert$ per sample (times the batch size,
# since $L_G$ is a mean). At the end it measures everything the table needs.

# %%
def train_toy(seed, k=1, fm=False, n_kernels=0, real_label=1.0, bn=False, vbn=False):
    torch.manual_seed(seed)
    G, D = toy_G(bn, vbn).to(device), ToyD(n_kernels).to(device)
    opt_G = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    z_ref, push = torch.randn(BATCH, Z_DIM, device=device), []

    def generate(z):
        if vbn:
            normalization.vbn_reference_pass(G, z_ref)
        return G(z)
    for _ in range(cfg.toy_steps):
        for _ in range(k):
            with torch.no_grad():
                x_fake = generate(torch.randn(BATCH, Z_DIM, device=device))
            loss_D = d_loss_smoothed(D(mix.sample(BATCH).to(device)), D(x_fake), alpha=real_label)
            opt_D.zero_grad(); loss_D.backward(); opt_D.step()
        x_fake = generate(torch.randn(BATCH, Z_DIM, device=device))                      # (BATCH, 2)
        x_fake.retain_grad()                                                            # to read dL_G/dx
        loss_G = feature_matching(D.features(mix.sample(BATCH).to(device)), D.features(x_fake)) if fm \
            else g_loss_nonsaturating(D(x_fake))
        opt_G.zero_grad(); loss_G.backward(); opt_G.step()
        push.append(BATCH * x_fake.grad.norm(dim=1).mean())                            # stays on the device
    return toy_scores(G, D, generate, torch.stack(push[len(push) // 2:]).mean().item())


# %% [markdown]
# The measurements, on 40 batches of 64 samples drawn as in training (batch norm, where there is one, uses the
# batch's statistics). **Within-batch correlation**: if the 64 samples of a batch were independent draws, the
# variance of a batch's mean would be the samples' variance divided by 64; a correlation $\rho$ between
# batch-mates multiplies it by $1 + 63\rho$. So $\rho = \big(64 \cdot \mathrm{Var}(\text{batch means}) /
# \mathrm{Var}(\text{samples}) - 1\big) / 63$, averaged over the two coordinates: 0 for independent samples,
# negative when the batch-mates push each other apart (at least $-1/63$, when every batch has the same mean).
# The gradient $G$'s samples receive is averaged over the second half of training. $D$'s mean logit on real points
# is taken on batches of 64 too: with minibatch discrimination, $D$'s output depends on the batch it sees.

# %%
@torch.no_grad()
def toy_scores(G, D, generate, push):
    G.train()
    x = torch.stack([generate(torch.randn(BATCH, Z_DIM, device=device)) for _ in range(40)]).cpu()  # (40, B, 2)
    samples = x.flatten(0, 1)                                                                     # (2560, 2)
    ratio = (BATCH * x.mean(1).var(0) / samples.var(0)).mean().item()                             # 1 + 63 rho
    d_real = torch.stack([D(mix.sample(BATCH).to(device)) for _ in range(16)]).mean().item()   # batches as trained
    return {**mode_stats(samples, mix.centers, mix.std).as_row(), "D real logit": d_real,
            "G's gradient": push, "batch correlation": (ratio - 1) / (BATCH - 1), "samples": samples}


# %% [markdown]
# ### The Dirac-GAN, for historical averaging
#
# The simplest GAN that oscillates (Mescheder et al. 2018): the data is a single point at 0, $G$ outputs one number
# $\theta$, and $D(x) = \sigma(\psi x)$ has one weight $\psi$. The equilibrium is $\theta = \psi = 0$, but
# gradient steps **orbit** it: when $\theta > 0$, $D$ learns $\psi < 0$, which pushes $\theta$ back past 0, and so
# on. We train it with the course's losses, Adam as everywhere, and the historical-averaging penalty as an option.

# %%
def train_dirac(seed, lambda_ha=0.0, lr=0.01):
    torch.manual_seed(seed)
    G, D = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)   # theta = G.weight, psi = D.weight
    with torch.no_grad():
        G.weight.uniform_(0.5, 1.5); D.weight.uniform_(-0.5, 0.5)
    opt_G, opt_D = (torch.optim.Adam(m.parameters(), lr=lr, betas=(0.5, 0.999)) for m in (G, D))
    ha_G, ha_D = HistoricalAverage(G), HistoricalAverage(D)
    one, x_real, path = torch.ones(1, 1), torch.zeros(1, 1), []
    for _ in range(cfg.dirac_steps):
        loss_D = d_loss_bce(D(x_real)[0], D(G(one))[0]) + lambda_ha * ha_D.penalty()
        opt_D.zero_grad(); loss_D.backward(); opt_D.step(); ha_D.update()
        loss_G = g_loss_nonsaturating(D(G(one))[0]) + lambda_ha * ha_G.penalty()
        opt_G.zero_grad(); loss_G.backward(); opt_G.step(); ha_G.update()
        path.append((G.weight.item(), D.weight.item()))
    return torch.tensor(path)                                    # (steps, 2): theta, psi


# %% [markdown]
# With $\lambda_{HA} = 0.1$ (the paper gives no value; 1.0 pulls too hard towards early, bad parameters):

# %%
lambda_ha = 0.1
paths = {lam: train_dirac(cfg.seed, lam) for lam in (0.0, lambda_ha)}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for lam, path in paths.items():
    label = "plain" if lam == 0 else f"historical averaging, lambda {lam}"
    axes[0].plot(path[:, 0], path[:, 1], lw=0.8, label=label)
    axes[1].plot(path.norm(dim=1), lw=0.8, label=label)
axes[0].plot(0, 0, "k*", ms=10); axes[0].set(xlabel="theta (G)", ylabel="psi (D)", title="the two players' path")
axes[1].set(xlabel="step", ylabel="distance to the equilibrium", yscale="log")
for ax in axes:
    ax.legend(fontsize=8); ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ### The table
#
# All runs, `cfg.seeds` seeds each; a base shared by two rows (5 $D$ steps) is trained once. The 2D runs take a
# few seconds each; minibatch discrimination costs more, since it compares every pair in the batch.

# %%
ROWS = [  # (technique, failure, its own number, base settings, settings with the technique)
    ("minibatch discrimination", "G collapses", None, {}, {"n_kernels": 16}),
    ("feature matching", "D wins too easily", None, {"k": 5}, {"k": 5, "fm": True}),
    ("label smoothing", "over-confident D", "G's gradient", {"k": 5}, {"k": 5, "real_label": 0.9}),
    ("virtual batch norm", "batch-mates matter", "batch correlation", {"bn": True}, {"bn": True, "vbn": True}),
]
seeds = range(cfg.seed, cfg.seed + cfg.seeds)                     # cfg.seed: 0, or GAN_SEED if set
trained = {}                                                      # settings -> one result per seed

def results(settings):
    key = tuple(sorted(settings.items()))
    if key not in trained:
        trained[key] = [train_toy(s, **settings) for s in seeds]
    return trained[key]

runs = {name: (results(base), results(on)) for name, _, _, base, on in ROWS}
dirac = {lam: [(paths[lam] if s == cfg.seed else train_dirac(s, lam))[-1].norm().item() for s in seeds]
         for lam in (0.0, lambda_ha)}


# %%
def mean_sd(values):
    v = torch.tensor(values, dtype=torch.float64)
    if not v.isfinite().all():                                    # reverse KL: no high-quality sample at all
        return f"inf in {int((~v.isfinite()).sum())} of {len(v)}".rjust(15)
    d = 4 if v.abs().max() < 0.1 else 2                           # small numbers (the correlation) get 4 decimals
    return f"{v.mean():7.{d}f} ± {v.std():5.{d}f}" if len(v) > 1 else f"{v.mean():7.{d}f}"

COLUMNS = ["modes", "high quality %", "reverse KL", "D real logit", "G's gradient", "batch correlation"]
print(f"{'technique':26s} {'':8s}" + "".join(f"{c:>18s}" for c in COLUMNS))
for name, *_ in ROWS:
    for label, rs in zip(("without", "with"), runs[name]):
        print(f"{name:26s} {label:8s}" + "".join(f"{mean_sd([r[c] for r in rs]):>18s}" for c in COLUMNS))
print(f"{'historical averaging':26s} distance to (0, 0) after {cfg.dirac_steps:,} steps: "
      f"without {mean_sd(dirac[0.0]).strip()}, with {mean_sd(dirac[lambda_ha]).strip()}")

# %% [markdown]
# The samples at the end of every run (grey), over the ring's 8 centres (red), one row per technique: the three
# seeds without it on the left, with it on the right. Each title gives the modes covered and the high-quality share.

# %%
fig, axes = plt.subplots(len(ROWS), 2 * len(seeds), figsize=(2 * len(seeds) * 2.1, len(ROWS) * 2.3),
                         squeeze=False)
for i, (name, *_) in enumerate(ROWS):
    for j, r in enumerate([*runs[name][0], *runs[name][1]]):
        ax = axes[i, j]
        ax.scatter(*r["samples"][:1000].T, s=2, c="0.3", alpha=0.4)
        ax.scatter(*mix.centers.cpu().T, s=25, c="tab:red", marker="x")
        ax.set(xlim=(-1.7, 1.7), ylim=(-1.7, 1.7), xticks=[], yticks=[], aspect="equal")
        side, seed = ("without", "with")[j // len(seeds)], seeds[j % len(seeds)]
        ax.set_title(f"{side}, seed {seed}\n{r['modes']} modes, {r['high quality %']:.1f}% HQ", fontsize=8)
    axes[i, 0].set_ylabel(name, fontsize=9)
plt.tight_layout(); plt.show()

# %% [markdown]
# **What the table and the plots show** (3 seeds each of 2,000 steps; a rerun moves single values, so read the
# means, the spreads and the direction of each change rather than its size). A mode counts as covered when a
# single sample lands within 0.03 of its centre, so the count alone can reward a generator that sprays samples
# everywhere; the high-quality share and the plots tell the two apart.
#
# * **Feature matching** raises the count, 3.3 ± 0.6 modes to 4.7 ± 0.6 against a $D$ that takes 5 steps per
#   $G$ step, and lowers the reverse KL (1.12 to 0.76). The plots show how: without it $G$ follows an arc of the
#   ring; with it $G$ stops chasing $D$'s boundary and spreads a cloud over the whole square, so a few of its
#   samples fall near more centres. The high-quality share falls from 2.1% to 0.4%. On the ring, feature matching
#   trades sample quality for spread, which is the paper's own remark (worse samples, a better semi-supervised
#   classifier, as below).
# * **Minibatch discrimination** goes from 0.7 ± 0.6 modes to 3.0 ± 2.6, and the spread is the story: seed 0's
#   6 modes come from a diffuse cloud, while seeds 1 and 2 still sit on one or two modes, stretched along the ring.
#   The high-quality share falls (1.3% to 0.4%). It also makes $D$ far more confident (mean real logit 0.2 to 6.7)
#   and $G$'s push 46 times stronger (0.39 to 17.9). Within 2,000 steps it does not teach $G$ the ring.
# * **One-sided label smoothing** does what it promises for $D$: the mean real logit falls from 5.5 ± 1.0 to
#   1.57 ± 0.13, below the smoothed optimum $\log 9 \approx 2.2$. The benefit for $G$ is **absent** here: the push
#   its samples receive is the same (14.5 ± 1.5 and 15.5 ± 2.6), as are the modes (3.3 and 3.7), the high-quality
#   share (2.1% and 2.8 ± 1.1%) and the reverse KL (1.12 and 1.35), all within the spread, and the samples trace
#   the same arcs. That fits the mechanism: smoothing changes $D$'s target on real points only, while $G$'s
#   gradient comes from $D$'s slope at the fakes, whose target is still 0. (Exercise 7 puts it on top of
#   minibatch discrimination, whose $D$ is the most confident here.)
# * **Virtual batch norm** removes the coupling it targets. With batch norm in $G$, the within-batch correlation is
#   −0.0156 ± 0.0001, at its floor of $-1/63 = -0.0159$: every batch of 64 has almost the same mean, so where a
#   sample lands depends on where its batch-mates fall, and the plots show each run spread over a wide patch. With
#   VBN the correlation is 0.0027 ± 0.0023, as for independent samples. Better samples do **not** follow: modes
#   4.3 ± 0.6 and 3.0 ± 1.7, high quality 0.6% and 1.0 ± 0.8%, reverse KL 0.82 and 1.17 ± 0.78, all within the
#   spread, and the seeds part ways: seed 1 puts four tight clusters on modes, seed 2 collapses onto one. Batch norm's
#   forced spread was also what kept a batch from collapsing.
# * **Historical averaging** stops the Dirac-GAN's orbit: the distance to the equilibrium after 3,000 steps falls
#   from 0.47 to 0.011, in every seed (the figure above shows the spiral closing in).
#
# So on this toy and this budget, historical averaging fixes its failure outright; label smoothing and VBN remove
# exactly the symptom they target without better samples; feature matching and minibatch discrimination raise the
# mode count by spreading samples rather than by placing them on more modes. The paper's gains are on images,
# with all techniques together and far longer runs; here each one is isolated, and what it does shows.

# %% [markdown]
# ## The Inception score, with a domain classifier
#
# The Inception score rewards samples that a classifier finds **confident** (a peaked $p(y\mid x)$: the sample looks
# like *something*) and **diverse** (a flat marginal $p(y) = \mathbb E_x\, p(y\mid x)$: all classes appear):
#
# $$ \mathrm{IS} = \exp\big(\mathbb E_x\, \mathrm{KL}(p(y\mid x)\,\|\,p(y))\big), $$
#
# between 1 (all samples alike or all uncertain) and the number of classes $K$ (confident and uniform). It **needs
# a classifier** because it judges images through class predictions; the paper uses an ImageNet Inception network.
# On MNIST we use a small CNN trained on the data set itself (cached, the one of notebooks 02–04), so our scores
# are **domain IS** values, bounded by 10, and not comparable with the paper's Inception numbers. Four sets show
# what it rewards: real digits, real digits of a single class (perfect quality, total collapse), noise, and the
# samples of a generator trained in notebook 02.

# %%
clf, clf_acc = get_domain_classifier(mnist, cfg.cache_dir, epochs=cfg.clf_epochs, seed=cfg.seed)
x_all = mnist.to_float(torch.randperm(len(mnist), device=device)[:cfg.n_eval])
ones = mnist.to_float(torch.nonzero(mnist.labels == 1)[:, 0][:cfg.n_eval])
noise = torch.rand_like(x_all) * 2 - 1
print(f"domain classifier accuracy {100 * clf_acc:.1f}% on held-out digits")

# %% [markdown]
# The fourth set comes from a trained generator: notebook 02's conditional $G$ (the paper's concatenated $D$), asked
# for each digit equally often. If you ran notebook 02 in this mode, we read its $G$ from notebook 02's checkpoint
# folder (`load_module` only reads it). Otherwise we train the same model here, with notebook 02's settings and the
# library's copies of its networks, into this notebook's own folder (a few minutes in `default` on a CPU).

# %%
from gan_utils.models.cgan import ConditionalDiscriminator, ConditionalGenerator
from gan_utils.train.checkpoints import has_checkpoint, load_module

G_02 = ConditionalGenerator().to(device)
ckpt_02 = cfg.ckpt_dir_of("02_conditional_gan")
if has_checkpoint(ckpt_02):
    steps_02 = load_module(ckpt_02, "G", G_02).step
else:
    torch.manual_seed(cfg.seed)
    D_02 = ConditionalDiscriminator().to(device)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (G_02, D_02))

    def cgan_step(i):                                            # notebook 02's conditional step
        x_real, y_real = mnist.batch(cfg.cgan_batch)
        z = torch.randn(cfg.cgan_batch, G_02.z_dim, device=device)
        y_fake = torch.randint(0, 10, (cfg.cgan_batch,), device=device)
        loss_D = d_loss_bce(D_02(x_real, y_real), D_02(G_02(z, y_fake).detach(), y_fake))
        opt_d.zero_grad(); loss_D.backward(); opt_d.step()
        loss_G = g_loss_nonsaturating(D_02(G_02(z, y_fake), y_fake))
        opt_g.zero_grad(); loss_G.backward(); opt_g.step()
        return {"loss_D": loss_D.item(), "loss_G": loss_G.item()}
    trainer_02 = Trainer({"G": G_02, "D": D_02}, {"G": opt_g, "D": opt_d}, cgan_step, live=False,
                         ckpt_dir=cfg.ckpt_dir / "cgan_02")
    trainer_02.fit(cfg.cgan_steps)
    steps_02 = trainer_02.step
G_02.eval()
with torch.no_grad():
    x_02 = G_02(torch.randn(cfg.n_eval, G_02.z_dim, device=device),
                torch.arange(cfg.n_eval, device=device) % 10)       # (n_eval, 1, 28, 28)

# %% [markdown]
# The four sets. Beside the score, its two ingredients: the mean top-class probability (how confident the
# classifier is on each sample) and the number of classes in use, $\exp H(p(y))$ (10 when every class appears
# equally often, 1 when one class takes all).

# %%
sets = [("real digits", x_all), (f"notebook 02's G ({steps_02:,} steps)", x_02),
        ("real digits, all 1s (collapsed)", ones), ("uniform noise", noise)]
print(f"{'':34s} {'domain IS':>9s} {'mean top p':>11s} {'classes in use':>15s}")
for name, x in sets:
    p_y_x = classifier_log_probs(x, clf).exp()                    # (N, 10), float64 on the CPU
    in_use = torch.special.entr(p_y_x.mean(0)).sum().exp()          # exp of the marginal's entropy
    print(f"{name:34s} {domain_inception_score(x, clf)[0]:9.2f} {p_y_x.amax(1).mean():11.2f} {in_use:15.2f}")


# %% [markdown]
# The trained generator scores 6.15, between one class of real digits (1.08) and all of them (9.05). Its samples
# use nearly every class (9.65 in use, against 9.98 for real digits, since notebook 02 asks for each digit equally
# often), so what holds its score back is confidence: the classifier's top probability averages 0.84 on them and
# 0.97 on real digits. Noise scores 1.00 for the opposite reason: the classifier is *sure* about noise (a mean top
# probability of 1.00 to two decimals) but puts all of it in one class. The score never compares samples with real images, so a
# classifier fooled by noise is not caught; the FID of notebook 03 does compare.

# %% [markdown]
# ## Semi-supervised learning with 100 labels
#
# $D$ becomes a classifier with $K + 1$ outputs: the $K$ classes and "fake". Fixing the fake logit to 0 leaves $K$
# logits $l_k$, and $D(x) = \frac{Z(x)}{Z(x) + 1}$ with $Z(x) = \sum_k \exp l_k(x)$. The loss has two parts:
#
# $$
# L = \underbrace{-\mathbb E_{x,y \sim \text{labelled}} \log p(y \mid x, y < K{+}1)}_{\text{cross-entropy on 100 labels}}
# \;\underbrace{-\;\mathbb E_{x \sim \text{unlabelled}} \log D(x) - \mathbb E_{z} \log(1 - D(G(z)))}_{\text{the GAN game on all images}}.
# $$
#
# The unlabelled images teach $D$ what real digits look like, which shapes the features the classifier uses. $G$ is
# trained with feature matching, which the paper found works best for this purpose.

# %% [markdown]
# The loss, written with `logsumexp` for stability: $\log Z(x) = \mathrm{lse}(l(x))$ is the GAN logit, so
# $-\log D(x) = \mathrm{softplus}(-\mathrm{lse})$ and $-\log(1 - D) = \mathrm{softplus}(\mathrm{lse})$. (The official code
# weighs the two GAN terms by ½; so does `gan_utils.losses.semi_supervised_d_loss`.)

# %%
def semi_supervised_loss(logits_lab, y, logits_unl, logits_fake):
    loss_sup = F.cross_entropy(logits_lab, y)
    lse_unl, lse_fake = torch.logsumexp(logits_unl, 1), torch.logsumexp(logits_fake, 1)
    loss_unsup = 0.5 * F.softplus(-lse_unl).mean() + 0.5 * F.softplus(lse_fake).mean()
    return loss_sup + loss_unsup

from gan_utils.losses import semi_supervised_d_loss
l_a, l_b, l_c = torch.randn(4, 10), torch.randn(6, 10), torch.randn(6, 10)
assert torch.allclose(semi_supervised_loss(l_a, torch.arange(4), l_b, l_c), semi_supervised_d_loss(l_a, torch.arange(4), l_b, l_c))

# %% [markdown]
# **The paper's networks**, from its official MNIST code (`gan_utils.models.improved`):
#
# | | paper (official MNIST code) | here |
# |---|---|---|
# | $D$ | MLP 784-1000-500-250-250-250-10, Gaussian noise (std 0.3 on the input, 0.5 after each hidden layer), weight norm, ReLU | the same (`SSLDiscriminator`) |
# | $G$ | $z \sim U(0,1)^{100}$, MLP 500-500 with batch norm and softplus, sigmoid output with weight norm | the same (`SSLGenerator`) |
# | $G$'s loss | feature matching on $D$'s last hidden layer | the same |
# | optimiser | Adam, lr 0.003, $\beta_1$ 0.5, batch 100 labelled + 100 unlabelled | the same; lr held for 2/3 of the run, then decayed linearly to 0 (the official CIFAR-10 schedule) |
# | unlabelled images | 60,000 (the MNIST training set) | 7,000 (the 10k test split, minus the 3,000 below) |
# | training | 300 epochs (180,000 steps) | `cfg.ssl_steps` steps |
# | checkpoint | the last one | the one with the best accuracy on 1,000 labelled **validation** digits |
# | test on | the 10,000 test images, with an average of $D$'s weights | 2,000 test digits, never trained on nor used to choose, with an average (EMA) of $D$'s weights |
#
# Images are in $[0, 1]$ here, as in the official code. Three disjoint parts of the 10,000 digits: 2,000 **test**
# digits, split off first; 1,000 labelled **validation** digits, used only to choose each run's checkpoint; and the
# 7,000 **training** digits. Each **label draw** takes 10 labelled digits per class from the training digits, and
# all 7,000 serve as unlabelled data. The validation set holds more labels (1,000) than training does (100): this
# is how the paper's own model selection worked too (its hyperparameters were chosen on held-out labels), but it
# means the "100 labels" result leans on 1,000 more for choosing when to stop. Exercise 7 asks how much that matters.

# %%
from gan_utils.models.improved import (SSLDiscriminator, SSLGenerator, draw_labels, ssl_accuracy, ssl_ema, ssl_step,
                                      supervised_step)
from gan_utils.train.checkpoints import load_safe, save_atomic

train_set, test_set = mnist.split(cfg.ssl_test, seed=cfg.seed)        # the test digits: split off first
pool_set, val_set = train_set.split(cfg.ssl_val, seed=cfg.seed + 1)   # the validation digits: choose checkpoints

def pixels(part):
    return part.images.flatten(1).float() / 255, part.labels          # (N, 784) in [0, 1], (N,)

(x_pool, y_pool), (x_val, y_val), (x_test, y_test) = pixels(pool_set), pixels(val_set), pixels(test_set)
print(f"{len(x_pool):,} training digits (all unlabelled), {len(x_val):,} labelled validation digits, "
      f"{len(x_test):,} test digits")

# %% [markdown]
# The pieces of one run: Adam as in the official code, $D$ with its data-dependent initialisation, the 100 labels
# of a draw, and the learning-rate schedule.
#
# * **Adam's $\epsilon$.** The official Adam divides by $\sqrt{\hat v + 10^{-8}}$, PyTorch's by $\sqrt{\hat v} + \epsilon$.
#   The official form never scales a gradient smaller than about $10^{-4}$ up to a full step; PyTorch's default
#   $\epsilon = 10^{-8}$ does, and many of $G$'s gradients are that small. $\epsilon = 10^{-4}$ gives nearly the
#   official update.
# * **The schedule.** The official MNIST script keeps lr 0.003 for all its 300 epochs; its CIFAR-10 and SVHN
#   scripts hold it for the first two thirds of the run and then decay it linearly to 0. We use the latter, so that
#   a short run ends on small steps. It is a function of the step alone, so a resumed run continues it exactly.

# %%
LR = 3e-3

def adam(m):                                                      # eps: the official update, see above
    return torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=LR, betas=(0.5, 0.999), eps=1e-4)

def fresh_D(seed):
    torch.manual_seed(seed)                                        # the GAN's D and the baseline's start equal
    D = SSLDiscriminator().to(device)
    D.data_init(x_pool[torch.randperm(len(x_pool), device=device)[:500]])   # the official data-dependent init
    return D

def label_draw(seed):
    lab = draw_labels(y_pool, per_class=10, seed=seed)             # 10 labelled digits per class
    return x_pool[lab], y_pool[lab]                                # (100, 784), (100,)

def decay_lr(optimizers, step, steps):
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = LR * min(1.0, 3 * (1 - step / steps))    # LR for 2/3 of the run, then linear to 0


# %% [markdown]
# **Checkpoint selection on validation.** A GAN's classifier can get worse late in a run (if $G$ breaks down, $D$
# can lose what it learnt). So every `cfg.ssl_eval` steps a Trainer hook scores the EMA of $D$ on the validation digits, and
# whenever that is the best so far it saves those weights atomically to `best.pt` beside the run's checkpoint. The
# test accuracy is recorded at the same points, but only to draw the curves: it never chooses anything. The hook
# also records $G$'s mean feature-matching loss since the last point.

# %%
def select_on_val(D_ema, folder, steps):
    def hook(trainer, step, losses):
        if step % cfg.ssl_eval and step != steps:
            return
        val, test = ssl_accuracy(D_ema, x_val, y_val), ssl_accuracy(D_ema, x_test, y_test)
        curve = trainer.extra_state.setdefault("curve", [])       # (step, validation acc, test acc, loss_G)
        if val > max((c[1] for c in curve), default=-1.0):        # a tie keeps the earlier checkpoint
            save_atomic({"step": step, "val": val, "D": D_ema.module.state_dict()}, folder / "best.pt")
        loss_G = trainer.history.losses.get("loss_G", [math.nan])[-cfg.ssl_eval:]
        curve.append((step, val, test, sum(loss_G) / len(loss_G)))
    return hook

def chosen(folder):                                               # (step, validation acc, test acc) of best.pt
    best, D = load_safe(folder / "best.pt"), SSLDiscriminator().to(device)
    D.load_state_dict(best["D"])
    return best["step"], best["val"], ssl_accuracy(D, x_test, y_test)


# %% [markdown]
# One label draw: the 100 labels, then the GAN run with the Trainer (progress bar, checkpoints, resume), scored at
# its chosen checkpoint.

# %%
def run_draw(seed):
    x_lab, y_lab = label_draw(seed)
    D, G = fresh_D(seed), SSLGenerator().to(device)
    opt_D, opt_G, D_ema = adam(D), adam(G), ssl_ema(D)
    folder = cfg.ckpt_dir / f"ssl_draw{seed}"

    def gan_step(i):
        decay_lr([opt_D, opt_G], i, cfg.ssl_steps)
        x_unl, x_unl_G = (x_pool[torch.randint(len(x_pool), (100,), device=device)] for _ in range(2))
        return ssl_step(D, G, opt_D, opt_G, x_lab, y_lab, x_unl, x_unl_G, D_ema)
    trainer = Trainer({"D": D, "G": G, "D_ema": D_ema}, {"D": opt_D, "G": opt_G}, gan_step, live=False,
                      hooks=[select_on_val(D_ema, folder, cfg.ssl_steps)], ckpt_dir=folder, ckpt_every=cfg.ssl_eval)
    trainer.fit(cfg.ssl_steps)
    ms = 1000 * trainer.seconds / cfg.ssl_steps                   # wall time of a GAN step, from the checkpoint
    return chosen(folder), trainer.extra_state["curve"], labels_only(seed, x_lab, y_lab), G, ms


# %% [markdown]
# The baseline for the same draw: the same $D$ (same initial weights, noise, optimiser, schedule and checkpoint
# selection) on the 100 labels alone, for `cfg.sup_steps` steps (2,000 in `default`, half the GAN's 4,000: each
# step is a pass over all 100 labels). The printout gives the step that validation chose, to show whether the
# baseline was still improving when it stopped.

# %%
def labels_only(seed, x_lab, y_lab):
    D_sup = fresh_D(seed)
    opt_S, D_sup_ema = adam(D_sup), ssl_ema(D_sup)
    folder = cfg.ckpt_dir / f"labels_only_draw{seed}"

    def sup_step(i):
        decay_lr([opt_S], i, cfg.sup_steps)
        return supervised_step(D_sup, opt_S, x_lab, y_lab, D_sup_ema)
    Trainer({"D": D_sup, "D_ema": D_sup_ema}, {"D": opt_S}, sup_step, live=False, ckpt_dir=folder,
            ckpt_every=cfg.ssl_eval, hooks=[select_on_val(D_sup_ema, folder, cfg.sup_steps)]).fit(cfg.sup_steps,
                                                                                                 progress=False)
    return chosen(folder)                                          # (step, validation acc, test acc)


# %%
ssl = {seed: run_draw(seed) for seed in range(cfg.seed, cfg.seed + cfg.label_draws)}
for seed, ((step, val, test), curve, (step_sup, _, acc_sup), _, ms) in ssl.items():
    print(f"label draw {seed}: GAN {100 * test:.1f}% at step {step:,} (chosen on validation, {100 * val:.1f}%; "
          f"best test on the curve {100 * max(c[2] for c in curve):.1f}%, last {100 * curve[-1][2]:.1f}%) | "
          f"same D, 100 labels only {100 * acc_sup:.1f}% at step {step_sup:,} of {cfg.sup_steps:,} | "
          f"{ms:.0f} ms a GAN step")
acc_gan, acc_only = [100 * r[0][2] for r in ssl.values()], [100 * r[2][2] for r in ssl.values()]
print(f"test accuracy, mean ± sd over {len(ssl)} label draws: GAN {mean_sd(acc_gan).strip()}%  |  labels only "
      f"{mean_sd(acc_only).strip()}%  |  paper (official code, 300 epochs, 10 draws): 99.07 ± 0.07% "
      f"(93 ± 6.5 errors of 10,000)")

# %% [markdown]
# The accuracy during training (validation solid, test dashed, the chosen checkpoint starred), $G$'s
# feature-matching loss, and $G$'s samples at the end (feature matching aims at a good classifier, not at good
# samples, and it shows):

# %%
fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 3.4), gridspec_kw={"width_ratios": [1.4, 1, 0.9]})
for seed, ((step, _val, test), curve, (_, _, acc_sup), _, _) in ssl.items():
    t, v, te, lg = zip(*curve)
    line, = ax1.plot(t, [100 * a for a in v], label=f"draw {seed}")
    ax1.plot(t, [100 * a for a in te], ls="--", color=line.get_color())
    ax1.plot(step, 100 * test, "*", ms=12, color=line.get_color())
    ax1.axhline(100 * acc_sup, ls=":", color=line.get_color())
    ax2.plot(t, lg, color=line.get_color(), label=f"draw {seed}")
ax1.set(xlabel="step", ylabel="accuracy %", title="100 labels: validation (—), test (--), labels only (··)")
ax1.legend(fontsize=7); ax1.grid(alpha=0.3)
ax2.set(xlabel="step", ylabel="feature-matching loss", yscale="log", title="G's loss"); ax2.grid(alpha=0.3)
G_last = ssl[cfg.seed][3].eval()                                # the first label draw's G
with torch.no_grad():
    show_grid(G_last(G_last.sample_z(32, device)).view(-1, 1, 28, 28), nrow=8, ax=ax3, value_range=(0, 1),
              title=f"G's samples (draw {cfg.seed})")
plt.show()

# %% [markdown]
# **Against the paper.** Over 3 label draws, the GAN's $D$, at the checkpoint chosen on the 1,000 validation
# digits, scores **84.7 ± 1.4%** on the 2,000 test digits, against 77.1 ± 1.6% for the same network trained on the
# 100 labels alone (same schedule, same selection, 2,000 steps; validation chose its steps 2,000, 750 and 1,000, so
# two of the three baselines had peaked well before their end): the unlabelled images are worth about 7 to 8 points, and every
# draw gains. The paper reports 99.07 ± 0.07% (93 ± 6.5 errors in 10,000, over 10 draws). The goal we set for
# the default budget, 95%, is **not reached**. The figure shows where it stops and why:
#
# * **The budget stops it, not a breakdown.** All three curves jump to between 70% and 80% within the first 750
#   steps, then climb slowly, by a few points over the remaining 3,000, and flatten once the learning rate decays
#   (the last third). Draw 0 dipped near step 1,500 and recovered; no run broke down late, so validation chose a
#   checkpoint near the end of each run (steps 3,500 to 4,000), and
#   its test accuracy is within a point of the best test point on each curve, chosen without looking at the test
#   digits. Validation and test curves track each other closely.
# * **$G$ is far from matching $D$'s features.** Its feature-matching loss falls from about 6 to between 2 and 4
#   and stays there; its samples (right) are digit-like strokes, not digits. The official code runs 180,000 steps,
#   45 times our 4,000, for $G$ and $D$ to keep improving each other.
# * **Less unlabelled data**: 7,000 digits (the course's real subset is the MNIST test split), not 60,000.
#
# **What 99% would take.** The paper's setting: the 60,000 MNIST training digits as unlabelled data (the loader
# uses the training split when it is on disk or can be downloaded), 180,000 steps per draw and 10 draws. At the
# printed 44 ms a GAN step on this CPU, that is about 2.2 hours per draw. `full` runs 5 draws of 30,000
# steps, a sixth of the paper's length, which fits a GPU session (about 16 minutes on a T4 by the FLOP count in
# `benchmarks/README.md`, an estimate); for the paper's length set `ssl_steps=180_000, label_draws=10`.

# %% [markdown]
# ## Summary
#
# * Feature matching, minibatch discrimination, historical averaging, one-sided label smoothing and virtual batch
#   norm are small changes to the losses or the networks. Each targets one failure, and only a base that shows the
#   failure can show the fix. On the ring, over 3 seeds: historical averaging stops the orbit (0.47 to 0.011);
#   label smoothing caps $D$'s confidence and VBN makes batch-mates independent, without better samples; feature
#   matching and minibatch discrimination raise the modes count by spreading samples (high quality 2.1% to 0.4%
#   and 1.3% to 0.4%). Count modes only beside a quality measure, and look at the samples.
# * The Inception score needs a classifier; with a domain classifier it becomes a usable, if local, yardstick: a
#   trained generator from notebook 02 scores 6.15, between one class of real digits (1.08) and all of them
#   (9.05), held back by less confident samples rather than missing classes.
# * A $(K{+}1)$-class discriminator turns a GAN into a semi-supervised classifier that learns from unlabelled images;
#   held-out labelled digits choose its checkpoint, never the test digits.

# %% [markdown]
# ## Exercises
#
# Exercises 1 to 3 (feature matching, minibatch discrimination, label smoothing) are built in place above. The
# rest are here.
#
# **Exercise 4.** With one-sided label smoothing $\alpha = 0.9$, $\beta = 0$, what is $D^*(x)$ at a point where
# $p_\text{data}(x) = p_\text{model}(x)$?

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
d_star_smoothed = None  # your answer
### BEGIN SOLUTION
d_star_smoothed = 0.9 * 0.5 / (0.5 + 0.5)  # alpha p / (2 p)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
check_that(None if d_star_smoothed is None else 0 < d_star_smoothed < 1, "D* is a probability",
           hint="D* = (alpha p_data + beta p_model) / (p_data + p_model), from the label-smoothing section.");
### BEGIN HIDDEN TESTS
check(d_star_smoothed, 0.9 / 2, "D* with smoothing",
      hint="D* = (alpha p_data + beta p_model) / (p_data + p_model), from the label-smoothing section.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5.** Compute the Inception score by hand for a classifier whose predictions on 4 samples are
# $p(y|x) = (1, 0), (1, 0), (0, 1), (0, 1)$ (two classes).

# %% nbgrader={"grade": false, "grade_id": "ex5", "locked": false, "schema_version": 3, "solution": true, "task": false}
is_by_hand = None  # your answer
### BEGIN SOLUTION
is_by_hand = math.exp(math.log(2))  # every KL is log 2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex5_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
check_that(None if is_by_hand is None else 1 <= is_by_hand <= 2, "the score lies between 1 and the number of classes",
           hint="p(y) is the mean of p(y|x); IS = exp(mean over x of KL(p(y|x) || p(y))).");
### BEGIN HIDDEN TESTS
check(is_by_hand, 2.0, "Inception score",
      hint="p(y) is the mean of p(y|x); IS = exp(mean over x of KL(p(y|x) || p(y))).");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 6 (extend).** Minibatch discrimination learns a tensor $T$ to compare samples. Karras et al. (ProGAN,
# 2018) found a simpler statistic with no parameters, the **minibatch standard deviation**: for features $f$
# $(N, A)$, take the standard deviation of each feature over the batch (divide by $N$, and add $\epsilon = 10^{-8}$
# to the variance before the square root), average these $A$ numbers into one, and append that number to every
# sample as one more feature. A collapsed batch shows as a value near 0, which $D$ can learn to punish. Write
# `minibatch_stddev(f)`, returning $(N, A + 1)$.

# %% nbgrader={"grade": false, "grade_id": "ex6", "locked": false, "schema_version": 3, "solution": true, "task": false}
def minibatch_stddev(f, eps=1e-8):
    # f: (N, A) -> (N, A + 1)
    ### BEGIN SOLUTION
    std = (f.var(0, unbiased=False) + eps).sqrt()                # (A,): each feature over the batch
    return torch.cat([f, std.mean().expand(len(f), 1)], dim=1)   # (N, A + 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex6_check", "locked": true, "points": 7, "schema_version": 3, "solution": false, "task": false}
g_sd = torch.Generator().manual_seed(3)
f_sd = torch.randn(8, 6, generator=g_sd)
out_sd = minibatch_stddev(f_sd)
check_that(out_sd.shape == (8, 7), "output shape (N, A + 1)", hint="One number, appended to every sample.")
check_that(torch.equal(out_sd[:, :6], f_sd), "the features pass through unchanged")
check_that(torch.allclose(out_sd[:, 6], out_sd[:1, 6].expand(8)), "every sample gets the same statistic")
collapsed = minibatch_stddev(f_sd[:1].repeat(8, 1))[:, 6]
check_that(collapsed.abs().max() < 1e-3, "a collapsed batch gives a statistic near 0",
           hint="The spread of each feature over the batch, not over the features.")
check_that(torch.allclose(minibatch_stddev(3 * f_sd)[:, 6], 3 * out_sd[:, 6], rtol=1e-4),
           "three times the spread gives three times the statistic");
### BEGIN HIDDEN TESTS
def _stddev_ref(f, eps=1e-8):
    s = ((f - f.mean(0)).square().mean(0) + eps).sqrt().mean()
    return torch.cat([f, s * torch.ones(len(f), 1)], dim=1)

f_sd2 = torch.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, -2.0], [1.0, 4.0, 0.5], [-1.0, 0.0, 0.0]])
check(minibatch_stddev(f_sd2), _stddev_ref(f_sd2), "minibatch standard deviation on fixed features")
check(minibatch_stddev(f_sd), _stddev_ref(f_sd), "minibatch standard deviation on random features");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 7 (open).** Combine minibatch discrimination with label smoothing (the paper uses both) in
# `train_toy` and compare the modes covered and $D$'s logit with each alone. Then rerun the semi-supervised
# experiment with 20 labels (2 per class): how do the two accuracies move? And with a validation set of 100
# digits (`ssl_val`) instead of 1,000: how often does it choose a different checkpoint, and at what cost?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer runs `train_toy(s, n_kernels=16, real_label=0.9)` over the same 3 seeds
# and puts modes, the high-quality share and $D$'s real logit (mean ± sd) beside the table's rows: minibatch
# discrimination alone took 0.7 ± 0.6 modes to 3.0 ± 2.6 with a real logit of 6.7 ± 0.9; smoothing alone held
# the logit at 1.57 ± 0.13 (below log 9). In the course's own check the combination covered 1.3 ± 2.3 modes
# (0, 4 and 0) with 0.4% high quality, no better than minibatch discrimination alone; an answer should judge any
# change against the spread, and say whether the logit comes back near log 9. With 20 labels it reports both accuracies against 84.7 ± 1.4% (GAN) and 77.1 ± 1.6% (labels only) and
# says whether the gap grows; with 100 validation digits, how many draws chose another step and the test accuracy
# that cost. Points: a prediction written first (1), equal steps and seeds (2), every number with its spread (2).

# %% [markdown]
# ## References
#
# * T. Salimans et al. *Improved Techniques for Training GANs.* NeurIPS 2016. Official code: `openai/improved-gan`.
# * C. Szegedy et al. *Rethinking the Inception Architecture for Computer Vision.* CVPR 2016 (the Inception network).
