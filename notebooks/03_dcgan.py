# %% [markdown]
# # 03 · DCGAN: deep convolutional GANs
#
# **Paper:** Alec Radford, Luke Metz, Soumith Chintala. *Unsupervised Representation Learning with Deep
# Convolutional Generative Adversarial Networks.* ICLR 2016. [arXiv:1511.06434](https://arxiv.org/abs/1511.06434)
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-course/gans-from-scratch/blob/v0.2.0/notebooks/03_dcgan.ipynb)
#
# On Colab, pick the mode before Setup: run a cell `%env GAN_MODE=fast` (or `full`) above it; without one the
# notebook runs `default`. Set `KEEP_ON_DRIVE = True` in the first cell to keep checkpoints across Colab resets.
#
# | mode (`GAN_MODE`) | what it does | 2-core CPU | GPU (Colab T4) |
# |---|---|---|---|
# | `fast` | CI smoke test: tiny sizes, same code | ≈ 40 s (measured) | ≈ 30 s (estimate) |
# | `default` | MNIST with at most notebook 01's samples; one CIFAR class, varied then collapsed; all of CIFAR-10 | ≈ 15 min (measured)\* | ≈ 3 min (estimate) |
# | `full` | 30k MNIST and 50k CIFAR steps at batch 128 | hours | ≈ 35 min on a T4 (estimate, counted FLOPs) |
#
# \* Measured from a clean checkpoint folder: this notebook then trains notebook 01's MLP GAN itself (about 2 min) and
# the CIFAR-10 classifier (half a minute, cached for later runs). With notebook 01's checkpoint on disk it is about
# 2.5 minutes shorter.
#
# The outputs you see come from a `default` run on real data: the MNIST test split (10,000 digits) and the
# CIFAR-10 test split as JPEGs (10,000 images).

# %% [markdown]
# ## What you will learn
#
# * the architecture rules that made GANs train reliably on images, each one **visible in the code**;
# * the DCGAN initialisation $\mathcal N(0, 0.02)$ and the optimiser settings (Adam, lr $2\cdot10^{-4}$, $\beta_1 = 0.5$);
# * that convolutions learn MNIST from **fewer samples** than notebook 01's MLP: after the same 512,000 digits
#   the DCGAN has a lower domain FID, an IS at least as high and crisper digits, although each of its steps costs a
#   few MLP steps of CPU time; how wide it needs to be on a CPU (a short width sweep); and how to compare two generators
#   with several numbers (recognisability, class shares, domain FID, IS, total variation), each of which sees
#   something different;
# * what a DCGAN does on a **single** CIFAR-10 class: varied samples first, then, once $G$ is trained too much
#   against a stale $D$, a **collapse** to one repeating pattern, measured with **MS-SSIM**; then all of CIFAR-10;
# * latent-space **interpolation**: walking in $z$ gives smooth changes in the image.
#
# **What changes from notebook 01:** only the two networks. The losses, the training step and the `Trainer` are
# notebook 01's, imported. You build the convolutional blocks, the generator and the initialisation yourself
# (Exercises 1 to 3); every run below trains your code.

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
from gan_utils.train.checkpoints import has_checkpoint, load_module
from gan_utils.data.cifar import load_cifar10
from gan_utils.data.mnist import load_mnist
from gan_utils.teaching import check, check_that, written_here
from gan_utils.train.history import History
from gan_utils.metrics.classifier import get_domain_classifier
from gan_utils.metrics.diversity import mean_pairwise_ms_ssim
from gan_utils.metrics.fid_is import domain_fid
from gan_utils.models.vanilla import MLPGenerator
from gan_utils.train.trainer import Trainer, train_discriminator, train_generator
from gan_utils.display.viz import plot_losses, plot_snapshots, show_grid
from gan_utils.display.widgets import interact

# %% [markdown]
# Sizes per mode. `mnist_ngf` and `mnist_ndf` are the widths of the MNIST DCGAN (the paper's `ngf`/`ndf`: the
# channels of $G$'s last and $D$'s first hidden layer); the default ones come from the width sweep in "Training on
# MNIST". `width` is both for the CIFAR-10 runs, halved from the usual 64 on a CPU. `mnist_steps` x `batch` is
# the number of digits the MNIST DCGAN sees, at most what notebook 01's MLP saw (`mlp_steps` x `batch`); the
# DCGAN is scored every `score_every` steps on the way. The paper values are in the comment.

# %%
SIZES = {  # paper: batch 128, width (ngf = ndf) 128 at 64 px
    "fast":    dict(batch=64, mnist_ngf=32, mnist_ndf=16, mnist_steps=60, score_every=30, width=16,
                    one_class_steps=60, collapse_g_steps=40, k_G=20,
                    cifar_steps=60, sample_every=20, clf_epochs=1, n_fid=400, mlp_steps=300),
    "default": dict(batch=64, mnist_ngf=64, mnist_ndf=32, mnist_steps=8_000, score_every=1_000, width=32,
                    one_class_steps=2_000, collapse_g_steps=800, k_G=20,
                    cifar_steps=1_200, sample_every=200, clf_epochs=6, n_fid=4_000, mlp_steps=8_000),
    "full":    dict(batch=128, mnist_ngf=64, mnist_ndf=32, mnist_steps=30_000, score_every=5_000, width=64,
                    one_class_steps=20_000, collapse_g_steps=4_000, k_G=20,
                    cifar_steps=50_000, sample_every=2_500, clf_epochs=10, n_fid=10_000, mlp_steps=100_000),
}
cfg = gan_utils.setup(seed=0, sizes=SIZES, name="03_dcgan")
device = cfg.device

# %% [markdown]
# ## The idea
#
# The GAN game is unchanged from notebook 01. What DCGAN contributes is an **architecture recipe**. Before it,
# convolutional GANs were notoriously unstable; Radford et al. searched over designs and found a set of rules
# that trained reliably across data sets. Their box lists five; the usual summary has seven:
#
# | # | rule | where you see it below |
# |---|---|---|
# | 1 | replace pooling by **strided convolutions** in $D$ | `nn.Conv2d(..., stride=2)` in `d_block` |
# | 2 | use **transposed convolutions** in $G$ to upsample | `nn.ConvTranspose2d(..., stride=2)` in `g_block` |
# | 3 | **batch norm** in $G$ and $D$, but not on $G$'s output nor on $D$'s input | `use_bn` in both blocks |
# | 4 | **no fully connected hidden layers** | $G$'s only `Linear` projects $z$; $D$'s only `Linear` is the logit |
# | 5 | **ReLU** in $G$, **Tanh** on its output | `g_block`, `G.body[-1]` |
# | 6 | **LeakyReLU(0.2)** in $D$ | `d_block` |
# | 7 | $G$ **larger** than $D$ | the parameter counts printed below |
#
# Training details from the paper: weights from $\mathcal N(0, 0.02)$, Adam with lr $2\cdot10^{-4}$ ("0.001 was too
# high") and $\beta_1 = 0.5$ ("0.9 oscillated"), images scaled to $[-1, 1]$ for the Tanh, batch 128.
#
# ```
# G:  z(100) ─Linear─► 128×7×7 ─ConvT↑─► 64×14×14 ─ConvT↑─► 1×28×28 ─Tanh
# D:  1×28×28 ─Conv↓─► 64×14×14 ─Conv↓─► 128×7×7 ─flatten─Linear─► logit
# ```
#
# That is `ngf = ndf = 64`, the library's default. The MNIST run below keeps $G$ at `ngf = 64` and halves $D$ to
# `ndf = 32` (32 then 64 channels); the width sweep there says why.

# %% [markdown]
# ## Data
#
# MNIST as in notebooks 01–02, and CIFAR-10: 32×32 colour images in 10 classes, held in memory as one uint8
# tensor like MNIST. For the single-class experiment we keep only the horses.

# %%
mnist = load_mnist(**cfg.data_kwargs)
cifar = load_cifar10(**cfg.data_kwargs)
print("CIFAR classes:", ", ".join(cifar.classes))

# %%
one_class = "horse"
horses = load_cifar10(**cfg.data_kwargs, classes=[one_class], verbose=False)
print(f"one-class subset: {len(horses)} {one_class} images of {len(cifar)}")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
show_grid(cifar.to_float(torch.arange(0, len(cifar), len(cifar) // 48)[:48]), nrow=12, ax=ax1, title="CIFAR-10")
show_grid(horses.to_float(torch.arange(48)), nrow=12, ax=ax2, title=f"only '{one_class}'"); plt.show()


# %% [markdown]
# ## Building blocks
#
# One block per network. Each is a (transposed) convolution with kernel 4 and stride 2, which doubles or halves the
# resolution, followed by optional batch norm and the activation the rules ask for. The convolution has no bias
# when batch norm follows, since BN's own shift makes it redundant.
#
# **Exercise 1 (build).** Write both blocks, each as a **list** of layers (the networks below add blocks up with
# `+`): kernel 4, stride 2 and padding 1, so that `g_block` doubles and `d_block` halves height and width (rules 1
# and 2); batch norm only when `use_bn`, with no convolution bias then (rule 3); then the activation that rules 5
# and 6 give each network.

# %% nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def g_block(c_in, c_out, use_bn=True):
    # (B, c_in, n, n) -> (B, c_out, 2n, 2n): a list of layers
    ### BEGIN SOLUTION
    layers = [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=not use_bn)]
    return layers + ([nn.BatchNorm2d(c_out)] if use_bn else []) + [nn.ReLU()]
    ### END SOLUTION

def d_block(c_in, c_out, use_bn=True):
    # (B, c_in, n, n) -> (B, c_out, n/2, n/2): a list of layers
    ### BEGIN SOLUTION
    layers = [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=not use_bn)]
    return layers + ([nn.BatchNorm2d(c_out)] if use_bn else []) + [nn.LeakyReLU(0.2)]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
x = torch.randn(2, 64, 8, 8)  # (2, 64, 8, 8)
print("g_block:", tuple(nn.Sequential(*g_block(64, 32))(x).shape), " d_block:", tuple(nn.Sequential(*d_block(64, 32))(x).shape))
check_that(nn.Sequential(*g_block(64, 32))(x).shape == (2, 32, 16, 16) and
           nn.Sequential(*d_block(64, 32))(x).shape == (2, 32, 4, 4), "g_block doubles, d_block halves the size",
           hint="Reread rules 1 and 2, and work out which padding makes kernel 4 with stride 2 exact.")
check_that(all(block(64, 32)[0].bias is None and block(64, 32, use_bn=False)[0].bias is not None
               and len(block(64, 32)) == 3 and len(block(64, 32, use_bn=False)) == 2 for block in (g_block, d_block)),
           "batch norm only when use_bn, and then no conv bias", hint="Reread the paragraph above the exercise.")
check_that(isinstance(g_block(4, 2)[-1], nn.ReLU) and isinstance(d_block(4, 2)[-1], nn.LeakyReLU)
           and d_block(4, 2)[-1].negative_slope == 0.2, "the activations of rules 5 and 6", hint="Reread the table.");
### BEGIN HIDDEN TESTS
def reference_block(conv, act, c_in, c_out, use_bn):
    return nn.Sequential(conv(c_in, c_out, 4, 2, 1, bias=not use_bn), *([nn.BatchNorm2d(c_out)] if use_bn else []), act)

x_ex = torch.randn(2, 6, 8, 8)  # (2, 6, 8, 8)
for use_bn in (True, False):
    for block, conv, act in ((g_block, nn.ConvTranspose2d, nn.ReLU()), (d_block, nn.Conv2d, nn.LeakyReLU(0.2))):
        mine, ref = nn.Sequential(*block(6, 3, use_bn)), reference_block(conv, act, 6, 3, use_bn)
        ref.load_state_dict(mine.state_dict())
        check(mine(x_ex), ref(x_ex), f"{block.__name__}(use_bn={use_bn}) on a fixed input",
              hint="Kernel 4, stride 2, padding 1; then batch norm if use_bn; then the activation.")
### END HIDDEN TESTS

# %% [markdown]
# **The generator.** $z$ is projected by the one allowed matrix multiply into a small stack of feature maps
# ($128 \times 7 \times 7$ for 28 px, $256\times4\times4$ for 32 px), then each `g_block` doubles the size. The last
# transposed conv has **no batch norm** (rule 3) and a **Tanh** (rule 5).
#
# **Exercise 2 (build).** Write the generator of the diagram in The idea. `self.project` is the projection: the one
# linear layer (no bias, since batch norm follows), reshaped to `width` maps of `base` × `base`, then batch norm
# and ReLU. `self.body` holds `stages - 1` of your `g_block`s, each halving the channels, then a last transposed
# convolution (same kernel, stride and padding) to `channels` maps, with a bias, and the Tanh. The hidden part of
# the check compares your network, with the same weights, with the course's reference on fixed inputs.

# %% nbgrader={"grade": false, "grade_id": "ex2", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Generator(nn.Module):
    def __init__(self, z_dim=100, channels=1, img_size=28, ngf=64):
        super().__init__()
        self.z_dim = z_dim
        base, stages = (7, 2) if img_size == 28 else (4, 3)       # 7->14->28 or 4->8->16->32
        width = ngf * 2 ** (stages - 1)                            # channels of the projection
        # self.project: (B, z_dim) -> (B, width, base, base); self.body: -> (B, channels, img_size, img_size)
        ### BEGIN SOLUTION
        self.project = nn.Sequential(nn.Linear(z_dim, width * base * base, bias=False),  # rule 4: the only Linear
                                     nn.Unflatten(1, (width, base, base)), nn.BatchNorm2d(width), nn.ReLU())
        layers = []
        for _ in range(stages - 1):
            layers += g_block(width, width // 2)
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]  # rule 3: no BN on the output
        self.body = nn.Sequential(*layers)
        ### END SOLUTION

    def forward(self, z):
        # z: (B, z_dim) -> (B, channels, img_size, img_size)
        ### BEGIN SOLUTION
        return self.body(self.project(z))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
torch.manual_seed(0)
z_ex = torch.randn(4, 100, device=device)  # (4, 100)
G28, G32 = Generator(ngf=8).to(device).eval(), Generator(channels=3, img_size=32, ngf=8).to(device).eval()
x28, x32 = G28(z_ex), G32(z_ex)
check_that(x28.shape == (4, 1, 28, 28) and x32.shape == (4, 3, 32, 32), "28 px grey and 32 px colour images",
           hint="Count the doublings from base to img_size: the body needs one transposed conv for each.")
check_that(x32.abs().max() <= 1 and not torch.allclose(x32[0], x32[1]), "images in [-1, 1] that depend on z",
           hint="Rule 5: Tanh on the output.")
check_that(sum(isinstance(m, nn.Linear) for m in G32.modules()) == 1 and isinstance(G32.body[-2], nn.ConvTranspose2d)
           and sum(isinstance(m, nn.BatchNorm2d) for m in G32.modules()) == 3, "rules 3 and 4 hold",
           hint="One Linear (the projection); batch norm after it and in every g_block, not on the output.");
### BEGIN HIDDEN TESTS
from gan_utils.models import dcgan

check_that(written_here(Generator, "dcgan", "DCGANGenerator"), "written here, not borrowed",
           hint="Write the generator yourself, from the diagram in The idea.")
for mine, size, ch in ((G28, 28, 1), (G32, 32, 3)):
    G_lib = dcgan.DCGANGenerator(channels=ch, img_size=size, ngf=8).to(device).eval()
    G_lib.load_state_dict(mine.state_dict())
    check(mine(z_ex), G_lib(z_ex), f"G at {size} px, same weights as gan_utils'",
          hint="Compare your layers, in order, with the description above the exercise.")
    assert torch.allclose(G_lib(z_ex), mine(z_ex), atol=1e-6)
### END HIDDEN TESTS

# %%
G = Generator().to(device)
z = torch.randn(8, 100, device=device)   # (8, 100)
print("28 px:", tuple(G(z).shape))        # (8, 1, 28, 28)
print("32 px:", tuple(Generator(channels=3, img_size=32).to(device)(z).shape))  # (8, 3, 32, 32)


# %% [markdown]
# **The discriminator** mirrors it: stride-2 convolutions halve the size, the first one **without** batch norm
# (rule 3: BN on the input would erase real/fake differences in brightness and contrast), and one linear layer
# maps the last feature maps to a logit. `features(x)` returns those last feature maps flattened; notebooks 04
# and 05 build on them.

# %%
class Discriminator(nn.Module):
    def __init__(self, channels=1, img_size=28, ndf=64):
        super().__init__()
        base, stages = (7, 2) if img_size == 28 else (4, 3)
        layers, width = d_block(channels, ndf, use_bn=False), ndf   # rule 3: no BN on D's input layer
        for _ in range(stages - 1):
            layers += d_block(width, width * 2)
            width *= 2
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width * base * base, 1)               # rule 4: the logit is the only Linear

    def features(self, x):
        return self.body(x).flatten(1)

    def forward(self, x):
        return self.head(self.features(x)).squeeze(1)


# %%
D = Discriminator().to(device)
print("D 28 px:", tuple(D(G(z)).shape), " D 32 px:", tuple(Discriminator(3, 32).to(device)(torch.randn(8, 3, 32, 32, device=device)).shape))
n_params = lambda m: sum(p.numel() for p in m.parameters())
for size, ch, ngf, ndf in [(28, 1, cfg.mnist_ngf, cfg.mnist_ndf), (32, 3, cfg.width, cfg.width)]:  # the runs below
    g, d = n_params(Generator(channels=ch, img_size=size, ngf=ngf)), n_params(Discriminator(ch, size, ndf=ndf))
    print(f"{size} px, ngf {ngf}, ndf {ndf}: G {g / 1e6:.2f}M, D {d / 1e6:.2f}M parameters "
          f"-> G larger than D: {g > d}")  # rule 7


# %% [markdown]
# **Initialisation.** Every convolution and linear weight from $\mathcal N(0, 0.02)$, batch-norm gains from
# $\mathcal N(1, 0.02)$, biases 0. Applied with `model.apply`, which visits every submodule.
#
# **Exercise 3 (build).** Write `weights_init(m)` for one module `m`: the (transposed) convolutions and linear
# layers, and the 2-D batch norms, get the initialisation just described; other modules are left alone. Every
# network of this notebook is initialised with your function.

# %% nbgrader={"grade": false, "grade_id": "ex3", "locked": false, "schema_version": 3, "solution": true, "task": false}
def weights_init(m):
    # m: one module; changes its parameters in place, returns nothing
    ### BEGIN SOLUTION
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_check", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
import copy

torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(3, 64, 4), nn.BatchNorm2d(64), nn.ConvTranspose2d(64, 32, 4), nn.ReLU(),
                    nn.Linear(32, 200))  # PyTorch's default initialisation
net_default = copy.deepcopy(net)
net.apply(weights_init)
conv, bn, convT, _, lin = net
print(f"conv weight std: {conv.weight.std():.4f}  BN gain mean: {bn.weight.mean():.3f}")
check_that(all(abs(m.weight.std().item() - 0.02) < 0.002 and abs(m.weight.mean().item()) < 0.002
               for m in (conv, convT, lin)), "conv and linear weights ~ N(0, 0.02)", hint="Reread the paragraph.")
check_that(abs(bn.weight.mean().item() - 1) < 0.01 and 0.01 < bn.weight.std().item() < 0.03,
           "batch-norm gains ~ N(1, 0.02)", hint="The gain is the batch norm's weight.")
check_that(all((m.bias == 0).all() for m in (conv, bn, convT, lin)), "every bias is 0", hint="Reread the paragraph.");
### BEGIN HIDDEN TESTS
from gan_utils.nn.init import weights_init as weights_init_lib

check_that(written_here(weights_init, "weights_init", "gan_utils"), "written here, not borrowed",
           hint="Write the initialisation yourself, from the paragraph above.")
mine, ref = copy.deepcopy(net_default), copy.deepcopy(net_default)
torch.manual_seed(1); mine.apply(weights_init)
torch.manual_seed(1); ref.apply(weights_init_lib)
check(torch.cat([p.flatten() for p in mine.parameters()]), torch.cat([p.flatten() for p in ref.parameters()]),
      "the initialised parameters, from a fixed seed", hint="Weights N(0, 0.02), gains N(1, 0.02), biases 0.");
### END HIDDEN TESTS

# %% [markdown]
# The rules, checked on the modules themselves rather than trusted:

# %%
mods = lambda m, kind: [x for x in m.modules() if isinstance(x, kind)]
assert not mods(G, (nn.MaxPool2d, nn.AvgPool2d)) and not mods(D, (nn.MaxPool2d, nn.AvgPool2d))   # rule 1
assert all(c.stride == (2, 2) for c in mods(D, nn.Conv2d) + mods(G, nn.ConvTranspose2d))       # rules 1-2
assert isinstance(D.body[1], nn.LeakyReLU) and isinstance(G.body[-2], nn.ConvTranspose2d)     # rule 3
assert len(mods(G, nn.Linear)) == 1 and len(mods(D, nn.Linear)) == 1                         # rule 4
assert isinstance(G.body[-1], nn.Tanh) and not mods(G, nn.LeakyReLU) and not mods(D, nn.ReLU)   # rules 5-6
print("all seven rules hold")

# %% [markdown]
# These networks are promoted to `gan_utils.models.dcgan` (which adds one option: class conditioning; notebook
# 05 extends its $D$). With the same weights they compute the same thing:

# %%
from gan_utils.models import dcgan

G_lib, D_lib = dcgan.DCGANGenerator().to(device), dcgan.DCGANDiscriminator().to(device)
G_lib.load_state_dict(G.state_dict()); D_lib.load_state_dict(D.state_dict())
G.eval(); G_lib.eval(); D.eval(); D_lib.eval()
assert torch.allclose(G_lib(z), G(z)) and torch.allclose(D_lib(G(z)), D(G(z)))
print("gan_utils.models.dcgan matches")


# %% [markdown]
# ## Losses
#
# Unchanged: binary cross-entropy for $D$ and the non-saturating loss for $G$, inside notebook 01's
# `train_discriminator` / `train_generator`. One helper builds a fresh DCGAN pair and its Trainer, so the
# experiments below differ only in their data, their widths (`ngf`, `ndf`; `cfg.width` unless given) and, once, in
# `k_G`, the number of $G$ steps per $D$ step (notebook 01's $k$ counted $D$ steps; here it is the other way round,
# to break the game on purpose). `hooks` are called after every step (the MNIST run scores itself with one).

# %%
def make_dcgan(data, name, k_G=1, ngf=None, ndf=None, hooks=None):
    torch.manual_seed(cfg.seed)
    c, s = data.shape[0], data.shape[1]
    ngf, ndf = ngf or cfg.width, ndf or cfg.width
    G_, D_ = Generator(channels=c, img_size=s, ngf=ngf).to(device), Discriminator(c, s, ndf=ndf).to(device)
    G_.apply(weights_init); D_.apply(weights_init)
    opt_G_ = torch.optim.Adam(G_.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D_ = torch.optim.Adam(D_.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(i):
        x_real, _ = data.batch(cfg.batch)
        loss_D = train_discriminator(D_, G_, opt_D_, x_real, torch.randn(cfg.batch, 100, device=device))
        for _ in range(k_G):     # k_G > 1 only in the collapse experiment below
            loss_G = train_generator(D_, G_, opt_G_, torch.randn(cfg.batch, 100, device=device))
        return {"loss_D": loss_D, "loss_G": loss_G}

    z_fixed = torch.randn(64, 100, device=device)
    trainer = Trainer({"G": G_, "D": D_}, {"G": opt_G_, "D": opt_D_}, step, ckpt_dir=cfg.ckpt_dir / name,
                      ckpt_every=1_000, sample_fn=lambda: G_(z_fixed), sample_every=cfg.sample_every, hooks=hooks)
    return G_, D_, trainer


# %% [markdown]
# ## Training on MNIST
#
# Notebook 01's MLP GAN saw `mlp_steps` × `batch` digits (8,000 steps of 64: 512,000 samples). We compare the
# DCGAN with it **at equal samples seen**: the DCGAN sees at most as many digits, and we score it on the way, so
# that each of its scores can be set against the MLP's at no more samples. Steps are not equally expensive, so the
# two wall times differ; both are printed.
#
# **How wide?** The paper's widths (128 at 64 px) are GPU sizes. A short sweep on this notebook's CPU trained three
# sizes and the MLP with the same step, one seed each, scored like the table further down (4,000 samples, the
# same cached classifier):
#
# ```bash
# GAN_DATA_ROOT=/path/to/data python benchmarks/dcgan_width_sweep.py --configs w32 w64 textbook mlp --eval-at 1000 1500
# GAN_DATA_ROOT=/path/to/data python benchmarks/dcgan_width_sweep.py --configs g64d32 --eval-at 5000 8000
# ```
#
# | widths (`ngf`, `ndf`) | $G$ / $D$ parameters | ms per step | domain FID after 64,000 samples | after 96,000 | IS after 96,000 |
# |---|---|---:|---:|---:|---:|
# | `w32` (32, 32), this notebook's former width | 0.35M / 0.04M | 29 | 137.7 | 137.5 | 4.15 |
# | `w64` (64, 64) | 0.76M / 0.14M | 71 | 135.1 | 104.6 | 4.84 |
# | `textbook` (128, 64): $z \to 256\times7\times7 \to 128 \to$ image | 1.78M / 0.14M | 127 | 126.4 | 109.5 | 4.92 |
# | `g64d32` (64, 32): $G$ twice as wide as $D$ | 0.76M / 0.04M | 48–58 | | | |
# | notebook 01's MLP GAN | 1.49M / 0.53M | 18 | 354.6 | 329.8 | 3.44 |
#
# At the same number of samples every DCGAN is far ahead of the MLP, whose FID is still in the hundreds there. Among
# the DCGANs, width 32 falls behind by 96,000 samples; width 64 and the textbook layout ($G$ twice as wide) are
# close, and on this one seed their order flips between the two points, so the sweep does not separate them.
# Width 64 costs a little over half as much per step as the textbook layout, and most of a step is $D$ (it runs
# three times per step, on real, fake and again for $G$'s loss). Halving $D$ alone (`g64d32`, which keeps the rule
# that $G$ is the larger network) cuts the step further, so that the DCGAN can see **all** of the MLP's 512,000
# digits within this notebook's budget. Trained on its own to the MLP's length, `g64d32` scored a domain FID of 68.7
# after 320,000 samples and 59.2 after 512,000 (IS 5.64 and 5.81). The MNIST run below uses it for `mnist_steps` =
# 8,000 steps of 64. These are short runs of one seed each, enough to rank sizes, not to settle small differences.

# %% [markdown]
# The yardstick comes first, so that the DCGAN can be scored while it trains: the MNIST domain classifier that
# notebook 02 uses (explained under "How to compare them" below), 4,000 real digits as the reference, and one fixed
# set of `n_fid` latent vectors. A hook scores $G$ every `score_every` steps; the hook's seconds are kept apart from
# the training time.

# %%
import time

from gan_utils.metrics.fid_is import classifier_log_probs, domain_inception_score

clf_mnist, acc_mnist = get_domain_classifier(mnist, cfg.cache_dir, epochs=cfg.clf_epochs, seed=cfg.seed)
x_ref = mnist.to_float(torch.randperm(len(mnist), device=device)[:cfg.n_fid])
x_ref2 = mnist.to_float(torch.randperm(len(mnist), device=device)[:cfg.n_fid])
z_eval = torch.randn(cfg.n_fid, 100, device=device)

def score_on_the_way(trainer, step, losses):     # a Trainer hook: (trainer, step, losses), after every step
    if step % cfg.score_every:
        return
    t0 = time.perf_counter()
    G_ = trainer.models["G"]
    G_.eval()                                    # batch norm on its running statistics, as for the final samples
    with torch.no_grad():
        x = G_(z_eval)
    G_.train()
    trainer.extra_state.setdefault("scores", []).append(
        [step, float(domain_fid(x_ref, x, clf_mnist)), float(domain_inception_score(x, clf_mnist)[0])])
    trainer.extra_state["scoring_s"] = trainer.extra_state.get("scoring_s", 0.0) + time.perf_counter() - t0


# %%
G_mnist, D_mnist, trainer_mnist = make_dcgan(mnist, "mnist", ngf=cfg.mnist_ngf, ndf=cfg.mnist_ndf,
                                             hooks=[score_on_the_way])
hist_mnist = trainer_mnist.fit(cfg.mnist_steps, resume=True)
dcgan_minutes = (trainer_mnist.seconds - trainer_mnist.extra_state.get("scoring_s", 0.0)) / 60
print(f"DCGAN (ngf {cfg.mnist_ngf}, ndf {cfg.mnist_ndf}): {trainer_mnist.step:,} steps x {cfg.batch} = "
      f"{trainer_mnist.step * cfg.batch:,} samples in {dcgan_minutes:.1f} min "
      f"(+ {trainer_mnist.extra_state.get('scoring_s', 0.0):.0f} s of scoring)")

# %% [markdown]
# Notebook 01's generator: if you ran notebook 01 in this mode, we read its trained $G$ from notebook 01's
# checkpoint folder (`load_module` only reads it). Otherwise we train the same MLP GAN here, with notebook 01's
# settings, into this notebook's own folder.

# %%
G_mlp = MLPGenerator().to(device)
ckpt_01 = cfg.ckpt_dir_of("01_vanilla_gan") / "mnist"
if has_checkpoint(ckpt_01):
    mlp_steps, mlp_seconds = load_module(ckpt_01, "G", G_mlp)
    mlp_minutes = mlp_seconds / 60
else:
    from gan_utils.models.vanilla import MLPDiscriminator
    D_mlp = MLPDiscriminator().to(device)
    opt_g = torch.optim.Adam(G_mlp.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D_mlp.parameters(), 2e-4, betas=(0.5, 0.999))

    def mlp_step(i):
        x_real, _ = mnist.batch(cfg.batch)
        return {"loss_D": train_discriminator(D_mlp, G_mlp, opt_d, x_real, torch.randn(cfg.batch, 100, device=device)),
                "loss_G": train_generator(D_mlp, G_mlp, opt_g, torch.randn(cfg.batch, 100, device=device))}

    t = Trainer({"G": G_mlp, "D": D_mlp}, {"G": opt_g, "D": opt_d}, mlp_step, ckpt_dir=cfg.ckpt_dir / "mlp_01",
                live=False)
    t.fit(cfg.mlp_steps)
    mlp_steps, mlp_minutes = t.step, t.seconds / 60
print(f"MLP GAN (notebook 01): {mlp_steps:,} steps x {cfg.batch} = {mlp_steps * cfg.batch:,} samples in "
      f"{mlp_minutes:.1f} min; a DCGAN step costs {(dcgan_minutes / trainer_mnist.step) / (mlp_minutes / mlp_steps):.1f}x "
      f"an MLP step")
assert trainer_mnist.step <= mlp_steps, "the DCGAN must see at most the MLP's samples"

# %% [markdown]
# **How to compare them.** One number never tells the whole story of a generative model, so we use several,
# each computed for real digits too, as the reference:
#
# * **confident**: the share of samples that the MNIST classifier (the same cached classifier as notebook 02)
#   labels with probability above 0.9, a proxy for "recognisable digit";
# * **class shares**: how often each digit is drawn; real MNIST has about 10% of each;
# * **domain FID**: the Fréchet distance between Gaussians fitted to the classifier's 128-d penultimate features
#   of real and generated images. The standard FID uses an ImageNet Inception network; ours is a *domain* FID:
#   lower is better and 0 is a perfect match, but it is not comparable with papers' FIDs. FID is biased upwards
#   for small samples, so we compute it at two sample sizes;
# * **IS**: the Inception score on the same classifier (notebook 05 explains it; 10 is the maximum);
# * **total variation** (torchmetrics): the summed absolute difference between neighbouring pixels, per image.
#   Speckle raises it; clean strokes on a black background keep it near the real digits' value.
#
# Both generators get the same latent vectors `z_eval`, those the hook used.

# %%
from torchmetrics.functional.image import total_variation

with torch.no_grad():
    G_mnist.eval(); G_mlp.eval()
    x_dcgan, x_mlp = G_mnist(z_eval), G_mlp(z_eval)

def measures(x):
    p = classifier_log_probs(x, clf_mnist).exp()                            # (N, 10) class probabilities
    share = torch.bincount(p.argmax(1), minlength=10).float() / len(x)
    n_small = len(x) // 4
    return [f"{(p.amax(1) > 0.9).float().mean():.1%}",
            f"{share.min():.1%} ({share.argmin()}s) - {share.max():.1%} ({share.argmax()}s)",
            f"{domain_fid(x_ref, x, clf_mnist):.1f}", f"{domain_fid(x_ref[:n_small], x[:n_small], clf_mnist):.1f}",
            f"{domain_inception_score(x, clf_mnist)[0]:.2f}",
            f"{total_variation((x + 1) / 2, reduction='mean'):.0f}"]

rows = {"real (other digits)": measures(x_ref2),
        f"MLP GAN, {mlp_steps * cfg.batch // 1000}k samples": measures(x_mlp),
        f"DCGAN, {trainer_mnist.step * cfg.batch // 1000}k samples": measures(x_dcgan)}
head = ["confident", "class shares (min - max)", f"FID ({cfg.n_fid})", f"FID ({cfg.n_fid // 4})", "IS", "TV"]
print(f"{'':24s}" + "".join(f"{h:>{w}s}" for h, w in zip(head, [10, 30, 12, 12, 7, 6])))
for name, r in rows.items():
    print(f"{name:24s}" + "".join(f"{v:>{w}s}" for v, w in zip(r, [10, 30, 12, 12, 7, 6])))

# %% [markdown]
# **At equal samples seen.** The hook's scores against the MLP's, both on the same `z_eval` and reference digits.
# The MLP is scored once, after all its samples; every DCGAN point to its left has seen fewer.

# %%
fid_mlp, is_mlp = domain_fid(x_ref, x_mlp, clf_mnist), domain_inception_score(x_mlp, clf_mnist)[0]
scores = trainer_mnist.extra_state.get("scores", [])
for step, fid, is_ in scores:
    print(f"DCGAN after {step * cfg.batch:>9,} samples: domain FID {fid:6.1f}, IS {is_:.2f}")
print(f"MLP   after {mlp_steps * cfg.batch:>9,} samples: domain FID {fid_mlp:6.1f}, IS {is_mlp:.2f}")
beats = [s for s, f, i in scores if f < fid_mlp and i >= is_mlp]
print("DCGAN scores with a lower FID and an IS no lower than the MLP's: "
      + (f"{len(beats)} of {len(scores)}, from {beats[0] * cfg.batch:,} samples on" if beats else "none"))
plt.figure(figsize=(7, 3.2))
plt.plot([s * cfg.batch for s, _, _ in scores], [f for _, f, _ in scores], marker="o", label="DCGAN")
plt.plot([mlp_steps * cfg.batch], [fid_mlp], marker="s", ls="", color="C3", label="MLP GAN (notebook 01), end")
plt.axhline(fid_mlp, color="C3", lw=0.8, ls="--")
plt.xlabel("samples seen"); plt.ylabel(f"domain FID ({cfg.n_fid} samples)"); plt.legend(); plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# The FID depends on *which* digits are drawn as much as on how well each is drawn. To see how much of a FID the
# class shares alone explain, we score **real** digits drawn in the DCGAN's class proportions (as the classifier
# counts them):

# %%
counts = torch.bincount(classifier_log_probs(x_dcgan, clf_mnist).argmax(1), minlength=10).cpu()
g = torch.Generator().manual_seed(cfg.seed)
pools = [(mnist.labels.cpu() == k).nonzero().squeeze(1) for k in range(10)]     # indices of each real class
idx = torch.cat([p[torch.randint(len(p), (int(n),), generator=g)] for p, n in zip(pools, counts)])
idx = idx[torch.randperm(len(idx), generator=g)]                                # classes mixed, not sorted
r = measures(mnist.to_float(idx.to(device)))
print(f"{'real, DCGAN class mix':24s}" + "".join(f"{v:>{w}s}" for v, w in zip(r, [10, 30, 12, 12, 7, 6])))

# %% [markdown]
# Side by side:

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 5.3))
show_grid(x_ref[:64], ax=axes[0], title="real MNIST" if mnist.source == "real" else "stand-in digits (offline)")
show_grid(x_mlp[:64], ax=axes[1], title=f"notebook 01 MLP GAN, {mlp_steps * cfg.batch:,} samples")
show_grid(x_dcgan[:64], ax=axes[2], title=f"DCGAN, {trainer_mnist.step * cfg.batch:,} samples")
plt.show()

# %% [markdown]
# **What the numbers say** (one seed; in brackets, the same notebook rerun on other seeds with `GAN_SEED=10`,
# `make rerun NB=03_dcgan SEED=10`, which trains new networks and a new classifier):
#
# * **Samples seen.** After the same 512,000 samples, the DCGAN's domain FID on 4,000 samples is lower than the
#   MLP's (64.4 against 69.4 [50.1 against 75.5]) and its IS a little higher (5.79 against 5.63 [6.12 against
#   5.54]; real digits 9.01). How large the margin is depends on the seed: here the DCGAN passes the MLP only at
#   448,000 samples, and on 1,000 samples the two FIDs are level (69.3 against 68.6; two sets of real digits differ
#   by 5.7 there) [it passes at 256,000 samples, and on 1,000 samples it leads, 56.0 against 74.2]. Trained on its own in the sweep, the same network scored 59.2
#   after 512,000 samples. Earlier in training the gap is large: in the sweep the MLP is still above 300 at 96,000
#   samples, where the DCGANs are near 100 to 140.
# * **Wall time.** The DCGAN trained for 6.4 min, the MLP for 2.1 min: here a DCGAN step costs 3.0 MLP steps. Per
#   sample the DCGAN learns more; per minute of this CPU the MLP gets further (after 192,000 samples, about the
#   MLP's whole training time, the DCGAN's FID is still 92.5).
# * **Crispness.** The DCGAN's total variation matches the real digits' (100 and 100 [100 and 100]); the MLP's is
#   16% to 22% higher (122 [116]). That is the speckle you see in its grid. A transposed convolution paints each output pixel from a
#   small neighbourhood of features, so neighbouring pixels are correlated by construction; the MLP has to learn
#   every pixel's relation to every other one.
# * **Recognisability.** Both make about half of their samples into digits that the classifier names with
#   confidence (DCGAN 55.0% [53.9%], MLP 49.2% [47.0%], real digits 92.2%). Their failures differ: the DCGAN's are clean strokes
#   that form no digit, the MLP's are speckled digits, which the classifier often still recognises.
# * **Class shares.** Neither draws an even mix. Here the DCGAN draws too many 9s (24.0%) and too few 4s (4.9%):
#   a partial collapse between two digits that share most of their strokes, while the MLP's mix is closer to even
#   (9s at 18.9%). The rerun is the other way round: the DCGAN's classes span 6.8-16.8% (9s again the most), the
#   MLP's 6.0-18.4% (3s). So which one balances its classes better is a matter of seed. Real digits drawn in the
#   DCGAN's class mix already score a domain FID of 35.8 [14.2] instead of 1.2 (and an IS of 8.00 instead of 9.01),
#   so between over a quarter and over half of the DCGAN's FID comes from *which* digits it draws, not from how it draws them.
#
# So at equal samples the DCGAN beats the MLP on FID and IS by a modest margin, wins clearly on crispness and is a
# little ahead on recognisability, and its class mix is what holds its FID back. More samples (the `full` mode) are
# what it needs.
#
# ## One CIFAR-10 class: varied first, then collapse
#
# Now 1,000 horse images at 32×32. Mode collapse is the failure where $G$ maps many different $z$ to nearly the
# same image. The seed article trains a DCGAN on one CIFAR-10 class and describes three phases: noise, then "a
# fair representation", then "boom": every sample becomes the same repeating square pattern.
#
# In our runs the plain recipe stays varied for as long as a CPU can train it (exercise 4 lets you chase it
# further on a GPU). So we pull a **documented trigger** instead. Goodfellow et al. (2014, §4) warn that
# "$G$ must not be trained too much without updating $D$", or it falls into the "Helvetica scenario" and collapses
# many $z$ to the same $x$. The experiment:
#
# 1. **Phase 1:** the DCGAN recipe for `one_class_steps` steps. Its samples become varied horse-coloured scenes.
# 2. **Phase 2:** from that same checkpoint, two continuations, each with `collapse_g_steps` more $G$ updates:
#    * **recipe**: one $G$ step per $D$ step, as before;
#    * **$G$ over-trained**: `k_G` $G$ steps per $D$ step, so $D$ is updated `k_G` times less often. Nothing else
#      changes.
#
# `make_dcgan` takes the number of $G$ steps per $D$ step as `k_G`:

# %%
G_one, D_one, trainer_one = make_dcgan(horses, "one_class")
hist_one = trainer_one.fit(cfg.one_class_steps, resume=True)

# %% [markdown]
# Phase 1's fixed-$z$ grids: from grey noise to varied horse-coloured scenes.

# %%
plot_snapshots(hist_one, max_cols=7, n_images=36, size=2.2); plt.show()


# %% [markdown]
# Phase 2. Each continuation is a fresh pair whose Trainer first loads phase 1's checkpoint (weights, optimiser
# states and history), so both start from exactly the same point.

# %%
def continue_phase_1(name, k_G):
    G_, D_, trainer = make_dcgan(horses, name, k_G=k_G)
    trainer.load(trainer_one.ckpt_path)     # phase 1's end; a later run of this cell resumes its own checkpoint
    trainer.sample_every = max(1, cfg.sample_every // (2 * k_G))     # a snapshot every sample_every/2 G updates
    trainer.fit(cfg.one_class_steps + cfg.collapse_g_steps // k_G, resume=True)   # Trainer steps = D updates
    return G_, trainer.history

G_rec, hist_rec = continue_phase_1("one_class_recipe", k_G=1)
G_over, hist_over = continue_phase_1("one_class_over", k_G=cfg.k_G)

# %% [markdown]
# The over-trained run's grids over phase 2. **The grid titles count $D$ steps** (the Trainer's steps): phase 2
# starts at step `one_class_steps`, and each $D$ step of this run is followed by `k_G` $G$ updates, so "step
# 2005" is 100 $G$ updates into phase 2. **The MS-SSIM and loss plots below count $G$ updates** instead, so that
# both continuations share one axis.

# %%
phase_2 = History(snapshots=[(s, x) for s, x in hist_over.snapshots if s >= cfg.one_class_steps])
plot_snapshots(phase_2, max_cols=6, n_images=36, size=2.2); plt.show()

# %% [markdown]
# **Measuring collapse with MS-SSIM.** The structural similarity (SSIM) of two images compares their local means,
# contrasts and correlations, window by window, and is 1 for identical images. MS-SSIM combines SSIM at several
# scales (the image, then 2× and 4× downsampled). The **mean MS-SSIM over random pairs of samples** is a diversity
# score (Odena et al. 2017 use it for exactly this): a collapsed $G$ scores much higher than real images of the same
# class. `gan_utils.metrics.diversity` computes it in the papers' convention: only windows that lie fully inside
# the image count (as in skimage and TensorFlow), with 3 scales and a 7-tap Gaussian window (σ 0.8) so that
# 32-pixel images fit; its docstring gives the details. We score the 64 fixed-$z$ samples of every snapshot.

# %%
real_ms = mean_pairwise_ms_ssim(horses.to_float(torch.arange(min(200, len(horses)), device=device)))
def g_updates(step, k_G):   # Trainer steps count D updates; phase 2 of the over-trained run has k_G G updates each
    return step if step <= cfg.one_class_steps else cfg.one_class_steps + (step - cfg.one_class_steps) * k_G

curves = {name: [(g_updates(s, k), mean_pairwise_ms_ssim(x)) for s, x in h.snapshots if s > 0]
          for name, h, k in [("recipe", hist_rec, 1), (f"G over-trained (k_G = {cfg.k_G})", hist_over, cfg.k_G)]}
plt.figure(figsize=(8, 3.2))
for name, curve in curves.items():
    plt.plot(*zip(*curve), marker="o", label=name)
plt.axhline(real_ms, color="gray", ls="--", label="real horses")
plt.axvline(cfg.one_class_steps, color="k", lw=0.8, ls=":")
plt.text(cfg.one_class_steps, plt.ylim()[1], " phase 2", va="top")
plt.xlabel("G updates"); plt.ylabel("mean pairwise MS-SSIM"); plt.legend(); plt.grid(alpha=0.3); plt.show()

# %%
(rec, over) = curves.values()
phase_1_low = min(v for s, v in rec if s <= cfg.one_class_steps)
print(f"real horses: {real_ms:.3f}")
print(f"phase 1, first snapshot (step {rec[0][0]}): {rec[0][1]:.3f}; lowest snapshot: {phase_1_low:.3f} "
      f"({phase_1_low / real_ms:.1f}x real)")
jump = next(((u, v) for u, v in over if u > cfg.one_class_steps and v > 2 * real_ms), None)
if jump:
    d_step = cfg.one_class_steps + (jump[0] - cfg.one_class_steps) // cfg.k_G
    print(f"G over-trained: first snapshot above twice the real level after {jump[0] - cfg.one_class_steps} G updates "
          f"of phase 2 (grid title 'step {d_step}'): {jump[1]:.3f}")
print(f"end of phase 2: recipe {rec[-1][1]:.3f} ({rec[-1][1] / real_ms:.1f}x real), "
      f"G over-trained {over[-1][1]:.3f} ({over[-1][1] / real_ms:.1f}x real); "
      f"highest over-trained snapshot {max((v for u, v in over if u > cfg.one_class_steps), default=over[-1][1]):.3f}")

# %% [markdown]
# The losses tell the same story from the players' side:

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3), sharey=True)
for ax, (name, h, k) in zip(axes, [("recipe", hist_rec, 1), (f"G over-trained (k_G = {cfg.k_G})", hist_over, cfg.k_G)]):
    x = [g_updates(s, k) for s in h.steps]
    for key, values in h.losses.items():
        ax.plot(x, values, lw=0.7, label=key)
    ax.axvline(cfg.one_class_steps, color="k", lw=0.8, ls=":")
    ax.set_title(name); ax.set_xlabel("G updates"); ax.legend(); ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# **What this run shows.** In phase 1 the recipe does what the article describes: from one grey blur (the first
# snapshot's MS-SSIM is printed above) to varied horse scenes, with MS-SSIM down to close to the real horses'
# level. Continued as before, it stays near that level to the end of phase 2. With $G$ over-trained, within a few
# $D$ steps (see the grid titles) **the samples become near copies of one image with a repeating square pattern**: the
# article's "boom". MS-SSIM jumps above twice the real level after the number of $G$ updates printed above. The losses show the mechanism: $\mathcal L_G$ drops
# to about 0 because $G$ has found the one image that the stale $D$ likes most, and $\mathcal L_D$ shoots up because
# $D$ now misjudges everything $G$ makes. Then, each time $D$ is updated, it learns that this one image is fake,
# and its gradient pushes $G$'s single output to another colour scheme (the later grids): the collapsed $G$ moves
# around image space instead of spreading out again, and its MS-SSIM stays well above the recipe's to the end.
#
# A collapsed set does not score 1: the samples still differ in fine detail and noise, to which SSIM's structure
# term is sensitive. What matters is the comparison with real images of the same class.
#
# ## All of CIFAR-10
#
# The same code on all ten classes. At this budget the samples are blurry scenes with plausible colours and
# object-like blobs; the paper trained for many hours on a GPU (`full` mode goes further). The domain FID uses
# a CIFAR-10 classifier, trained and cached like the MNIST one.

# %%
clf_cifar, acc_cifar = get_domain_classifier(cifar, cfg.cache_dir, epochs=cfg.clf_epochs, seed=cfg.seed)
print(f"CIFAR domain classifier: {100 * acc_cifar:.1f}% on held-out {cifar.source} images")

# %%
G_cifar, D_cifar, trainer_cifar = make_dcgan(cifar, "cifar")
hist_cifar = trainer_cifar.fit(cfg.cifar_steps, resume=True)

# %%
G_cifar.eval()
with torch.no_grad():
    x_cifar = G_cifar(torch.randn(cfg.n_fid, 100, device=device))
x_cref = cifar.to_float(torch.randperm(len(cifar), device=device)[:cfg.n_fid])
x_cref2 = cifar.to_float(torch.randperm(len(cifar), device=device)[:cfg.n_fid])
print(f"domain FID on CIFAR: DCGAN {domain_fid(x_cref, x_cifar, clf_cifar):.1f}, "
      f"real vs real {domain_fid(x_cref, x_cref2, clf_cifar):.1f}")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 6))
show_grid(x_cref[:64], ax=ax1, title="real CIFAR-10" if cifar.is_real else "CIFAR-10 offline stand-in (shapes)")
show_grid(x_cifar[:64], ax=ax2, title=f"DCGAN after {trainer_cifar.step} steps"); plt.show()

# %%
plot_losses(hist_cifar); plt.show()

# %% [markdown]
# **The standard FID, optionally.** Papers report FID on ImageNet Inception-v3 features (torch-fidelity's weights).
# Where those weights are installed (`pip install torch-fidelity`; Colab can download them), the cell below
# computes it too, on the same images; otherwise it says why not. Inception FIDs need thousands of samples to be
# stable and are not comparable with the domain FIDs above.

# %%
from gan_utils.metrics.fid_is import StandardFIDUnavailable, standard_fid

try:
    print(f"standard Inception FID on CIFAR-10 ({cfg.n_fid} samples): {standard_fid(x_cref, x_cifar):.1f}")
except StandardFIDUnavailable as e:
    print(e)


# %% [markdown]
# ## Walking in latent space
#
# The paper shows that moving in a straight line between two $z$ vectors gives smooth transitions, with no sudden
# jumps; this suggests $G$ has learned a continuous map rather than memorising images. We interpolate between
# pairs of random $z$ for the MNIST and CIFAR generators.

# %%
def interpolate(G_, n_rows=4, n_steps=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    z0, z1 = torch.randn(n_rows, 100, generator=g), torch.randn(n_rows, 100, generator=g)
    t = torch.linspace(0, 1, n_steps).view(1, n_steps, 1)                     # (1, n_steps, 1)
    zs = ((1 - t) * z0[:, None] + t * z1[:, None]).reshape(-1, 100).to(device)  # (n_rows * n_steps, 100)
    with torch.no_grad():
        return G_(zs)

fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 8.5))
show_grid(interpolate(G_mnist), nrow=10, ax=ax1, title="MNIST: z0 -> z1 along each row")
show_grid(interpolate(G_cifar), nrow=10, ax=ax2, title="CIFAR-10: z0 -> z1 along each row"); plt.show()


# %% [markdown]
# ## Explore
#
# A slider walks along one interpolation row. The figure under it is the static fallback.

# %%
def walk(t=0.5, seed=3):
    g = torch.Generator().manual_seed(seed)
    z0, z1 = torch.randn(8, 100, generator=g), torch.randn(8, 100, generator=g)
    with torch.no_grad():
        x = G_mnist(((1 - t) * z0 + t * z1).to(device))
    show_grid(x, nrow=8, title=f"t = {t:.2f}", figsize=(8, 1.5)); plt.show()

interact(walk, t=(0.0, 1.0, 0.05), seed=(0, 50))

# %%
walk(t=0.5)  # static fallback

# %% [markdown]
# ## Summary
#
# * DCGAN is an architecture recipe: strided (transposed) convolutions, batch norm except at the ends, no hidden
#   fully connected layers, ReLU/Tanh in $G$ and LeakyReLU in $D$, $\mathcal N(0, 0.02)$ init, Adam(2e-4, 0.5).
# * With the MLP GAN's 512,000 training samples, the DCGAN (G twice as wide as D) ends with a lower domain FID and
#   a higher IS on MNIST (64.4 against 69.4, 5.79 against 5.63 in this run, a modest margin; 50.1 against 75.5 in a
#   rerun on other seeds) and draws visibly crisper digits (total variation at the real level), in an uneven class
#   mix (too many 9s); earlier in training, at equal samples, it is far ahead. Each of its steps
#   costs several MLP steps of CPU time. Read several measures, never one.
# * On a single CIFAR-10 class the recipe first gives varied samples (MS-SSIM at the real level). Training $G$ too
#   much against a stale $D$ collapses it within a few $D$ steps to one repeating pattern, which then wanders around
#   image space; the mean pairwise MS-SSIM of the samples measures it.
# * Its latent space is smooth enough to interpolate.
#
# **Against the paper.** The paper's headline numbers are representation-learning results that need ImageNet-scale
# training (82.8% on CIFAR-10 from $D$'s features with an L2-SVM; 22.48% SVHN error with 1,000 labels). They are
# out of reach on a CPU; Exercise 6 sketches the CIFAR-10 one at small scale.
#
# ## Exercises
#
# Exercises 1 to 3 are above, where the blocks, the generator and the initialisation are taught: the notebook
# trains your code. Each coded exercise has a check cell that never shows the answer; the grader also runs hidden
# tests.
#
# **Exercise 4.** A transposed convolution with kernel 4, stride 2 and padding 1 maps size $n$ to
# $(n-1)\cdot 2 - 2\cdot1 + 4$. Starting from a $4\times4$ projection, what spatial size do you get after three such
# layers?

# %% nbgrader={"grade": false, "grade_id": "ex4", "locked": false, "schema_version": 3, "solution": true, "task": false}
size_after_three = None  # your answer (an int)
### BEGIN SOLUTION
size_after_three = 32  # 4 -> 8 -> 16 -> 32
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex4_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
check_that(None if size_after_three is None else size_after_three > 4, "larger than the projection",
           hint="A transposed convolution with stride 2 upsamples.");
### BEGIN HIDDEN TESTS
check(size_after_three, 32, "output size", hint="Apply the formula three times, starting from 4.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 5.** Count the parameters of `d_block(64, 128)` (a 4×4 convolution without bias, then batch norm).

# %% nbgrader={"grade": false, "grade_id": "ex5", "locked": false, "schema_version": 3, "solution": true, "task": false}
d_block_params = None  # your answer (an int)
### BEGIN SOLUTION
d_block_params = 64 * 128 * 4 * 4 + 2 * 128
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex5_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
check_that(None if d_block_params is None else d_block_params > 64 * 128, "more than one weight per channel pair",
           hint="Each pair of input and output channels has a whole 4x4 kernel.");
### BEGIN HIDDEN TESTS
check(d_block_params, 64 * 128 * 4 * 4 + 2 * 128, "d_block parameters",
      hint="A conv has c_in * c_out * k * k weights; BN has 2 learnable numbers per channel.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 6 (open).** Break one rule at a time, for instance put batch norm on $G$'s output, or replace
# LeakyReLU in $D$ by ReLU, and retrain on MNIST for the same steps. Which rule matters most for the domain FID?
# Then, as a small version of the paper's CIFAR-10 experiment, fit a logistic regression on `D_cifar.features` of
# labelled CIFAR images and compare with the same on random features.

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer changes one rule per run and keeps everything else (`make_dcgan`, seed,
# widths, `mnist_steps`), scoring each run like the table above (domain FID on the same `z_eval`; this run's DCGAN:
# 64.4 at 512,000 samples, the MLP 69.4). It names the rule with the largest FID change and says whether the
# differences exceed the seed-to-seed spread (50.1 vs 64.4 for the recipe on other seeds: differences of 10-15 are
# noise unless repeated). For the probe it reports held-out accuracy of a logistic regression on `D_cifar.features`
# against the same on a randomly initialised $D$ (chance is 10%). Points: one-rule ablations at equal steps (2),
# the probe with both accuracies (1), numbers with a word on noise (2).

# %% [markdown]
# **Exercise 7 (open).** Chase the recipe's own collapse, the one the seed article saw: train
# `make_dcgan(horses, ...)` for 10,000 steps or more (`full` mode, or a GPU) and follow its MS-SSIM curve. Does it
# ever rise well above the real horses' level, and what do the grids look like then? Then break rule 3 instead of
# the step ratio: replace every `nn.BatchNorm2d` in $G$ by `nn.Identity()` (the paper credits batch norm with
# preventing "the generator from collapsing all samples to a single point") and rerun phase 1. Which trigger
# collapses $G$ faster?

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_answer", "locked": false, "points": 5, "schema_version": 3, "solution": true, "task": false}
# **Answer (5 points).** A good answer plots mean pairwise MS-SSIM against $G$ updates for the long recipe run,
# beside the real horses' level (0.094 here) and this run's curves (recipe about 1.2x real at the end of phase 2;
# over-trained $G$ above twice real within about 100 $G$ updates, up to 0.35), and shows grids where it rises. For
# the BN ablation it reports the number of updates until MS-SSIM passes twice the real level (or that it never
# does) and compares it with the $k_G$ trigger. Points: the long curve with grids (2), the ablation measured the same
# way (2), a conclusion hedged by the single seed (1).

# %% [markdown]
# **Exercise 8.** Exercise 4's formula, in general: a `ConvTranspose2d` (dilation 1) maps size `n` to
# `(n - 1) * stride - 2 * padding + kernel + output_padding`. Write it as a function; the check compares it with
# the sizes that real layers produce. Then: the paper's own code uses **5×5** kernels with stride 2. Which `padding`
# and `output_padding` (smaller than the stride) make such a layer double every size `n`?

# %% nbgrader={"grade": false, "grade_id": "ex8", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv_transpose_out(n, kernel, stride, padding, output_padding=0):
    # returns an int
    ### BEGIN SOLUTION
    return (n - 1) * stride - 2 * padding + kernel + output_padding
    ### END SOLUTION


pad_5x5, out_pad_5x5 = None, None  # your answers: padding and output_padding for kernel 5, stride 2
### BEGIN SOLUTION
pad_5x5, out_pad_5x5 = 2, 1  # (n - 1) * 2 - 4 + 5 + 1 = 2 n
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex8_check", "locked": true, "points": 4, "schema_version": 3, "solution": false, "task": false}
check_that(conv_transpose_out(7, 4, 2, 1) == 14, "kernel 4, stride 2, padding 1 doubles 7",
           hint="Each term of the formula above, in order; padding counts twice.")
check_that(None if pad_5x5 is None else 0 <= out_pad_5x5 < 2 and pad_5x5 >= 0, "output_padding below the stride",
           hint="Set (n - 1) * 2 - 2 p + 5 + op = 2 n and solve for p and op, with 0 <= op < 2.");
### BEGIN HIDDEN TESTS
cases = [(7, 4, 2, 1, 0), (4, 4, 1, 0, 0), (5, 3, 2, 1, 1), (3, 5, 3, 0, 2)]  # (n, kernel, stride, padding, out_pad)
real = [nn.ConvTranspose2d(1, 1, k, s, p, op)(torch.zeros(1, 1, n, n)).shape[-1] for n, k, s, p, op in cases]
check([conv_transpose_out(*c) for c in cases], real, "ConvTranspose2d output size",
      hint="Each term of the formula above, in order; padding counts twice.")
check([pad_5x5, out_pad_5x5], [2, 1], "5x5 padding",
      hint="Set (n - 1) * 2 - 2 p + 5 + op = 2 n and solve for p and op, with 0 <= op < 2.");
### END HIDDEN TESTS

# %% [markdown]
# **Exercise 9 (extend).** Build the $G$ block of the paper's code, which this notebook does not use: a 5×5
# transposed convolution with stride 2 and your padding from Exercise 8 (no bias when batch norm follows), then
# batch norm and ReLU, as an `nn.Sequential` that doubles the size: $(B, c_\text{in}, 7, 7) \to
# (B, c_\text{out}, 14, 14)$.

# %% nbgrader={"grade": false, "grade_id": "ex9", "locked": false, "schema_version": 3, "solution": true, "task": false}
def g_block_5x5(c_in, c_out, use_bn=True):
    # (B, c_in, n, n) -> (B, c_out, 2n, 2n): an nn.Sequential
    ### BEGIN SOLUTION
    layers = [nn.ConvTranspose2d(c_in, c_out, 5, stride=2, padding=2, output_padding=1, bias=not use_bn)]
    return nn.Sequential(*layers, *([nn.BatchNorm2d(c_out)] if use_bn else []), nn.ReLU())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex9_check", "locked": true, "points": 6, "schema_version": 3, "solution": false, "task": false}
blk = g_block_5x5(16, 8)
check_that(blk(torch.randn(2, 16, 7, 7)).shape == (2, 8, 14, 14) and blk(torch.randn(1, 16, 4, 4)).shape[-1] == 8,
           "5x5 block doubles every size", hint="Use the padding and output_padding of Exercise 8.")
check_that(isinstance(blk[0], nn.ConvTranspose2d) and blk[0].kernel_size == (5, 5) and blk[0].bias is None,
           "a 5x5 transposed conv without bias first", hint="No conv bias when batch norm follows.");
### BEGIN HIDDEN TESTS
check(sum(p.numel() for p in blk.parameters()), 16 * 8 * 5 * 5 + 2 * 8, "5x5 block: parameters",
      hint="No conv bias when batch norm follows; batch norm learns 2 numbers per channel.")
check([type(m).__name__ for m in blk], ["ConvTranspose2d", "BatchNorm2d", "ReLU"], "5x5 block: layers",
      hint="Transposed conv, then batch norm, then ReLU, like g_block.")
ref = nn.Sequential(nn.ConvTranspose2d(16, 8, 5, 2, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
ref.load_state_dict(blk.state_dict())
x_ex = torch.randn(2, 16, 5, 5)  # (2, 16, 5, 5)
check(blk(x_ex), ref(x_ex), "5x5 block on a fixed input", hint="Kernel 5, stride 2, your padding; BN; ReLU.")
no_bn = g_block_5x5(16, 8, use_bn=False)
check([type(m).__name__ for m in no_bn] + [no_bn[0].bias is not None], ["ConvTranspose2d", "ReLU", True],
      "5x5 block without batch norm", hint="Without batch norm the conv keeps its bias.");
### END HIDDEN TESTS

# %% [markdown]
# ## References
#
# * A. Radford, L. Metz, S. Chintala. *Unsupervised Representation Learning with Deep Convolutional GANs.* ICLR
#   2016. Official code: `Newmu/dcgan_code`.
# * M. Heusel et al. *GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium.*
#   NeurIPS 2017 (FID).
# * A. Odena, V. Dumoulin, C. Olah. *Deconvolution and Checkerboard Artifacts.* Distill 2016 (why kernel 4 with
#   stride 2).
