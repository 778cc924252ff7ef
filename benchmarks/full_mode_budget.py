"""What `GAN_MODE=full` costs on a GPU, counted rather than guessed: memory, FLOPs and hours per notebook.

Run from the repository root: `python benchmarks/full_mode_budget.py` (about 35 s on 2 CPU cores, no GPU, no data;
`--markdown` prints the tables of benchmarks/README.md, `--notebook 11` one notebook with its runs, `--set
height=512` tries other sizes for it).

How it counts. For every notebook it reads the `full` entry of the notebook's `SIZES` (from notebooks/NN_*.py, as
tests/test_notebook_sources.py does), builds the notebook's networks from `gan_utils` at those sizes on the
**meta device** (shapes and dtypes, no storage, no arithmetic), and runs each training run's step, a copy of the
notebook's step function (the same `gan_utils` networks, losses, step helpers and Adam), twice on meta tensors:

* **memory**: a TorchDispatchMode sees every tensor that every aten op allocates, and a weak reference on each
  storage sees it freed (storages keep their Python object while the C++ storage lives, so the callback fires
  when autograd drops a saved tensor). The running sum of live storages, each rounded up to the CUDA caching
  allocator's 512-byte block, is what `torch.cuda.memory_allocated()` would show; its maximum over the notebook
  is the estimated peak. It holds the weights, the gradients (including the stale ones a G step leaves on D), the
  Adam moments and the foreach temporaries of Adam's step (Adam is built with `foreach=True`, PyTorch's default on
  CUDA; 08's StackedGAN builds its own), every activation autograd saves, the transient outputs of the forward and
  the backward, and whatever the notebook keeps alive from earlier runs (earlier networks, their optimisers, the
  data it keeps on the device), which the spec functions below keep alive the same way. The second step is
  measured, so Adam's state and the gradients left by the first step exist, as in steady training.
* **FLOPs** per step: `torch.utils.flop_counter.FlopCounterMode` over the same step (matmuls and convolutions,
  forward and backward, 2 FLOPs per multiply-add).
* **time** per step, a simple roofline sum for one GPU: FLOPs / sustained FLOP rate + bytes moved by the other
  ops (elementwise, norms, pooling, Adam: inputs + outputs of every non-view op without a FLOP formula) / sustained
  memory bandwidth + kernels × host overhead per kernel (eager PyTorch dispatches and launches each op from
  Python; every step also syncs on `.item()`). The assumed rates are in `GPUS`: a Colab **T4** sustains about
  4.5 TFLOP/s of its 8.1 TFLOP/s fp32 peak in cuDNN convolutions, about 240 of its 320 GB/s, with about 20 µs of
  host time per kernel on Colab's CPU (a step of 01's ring MLPs at tiny sizes takes 8 µs per kernel on the
  course's 2-core CPU, and a CUDA launch adds about 5); an **A100** sustains about 14 TFLOP/s fp32 in matmuls and,
  since PyTorch lets cuDNN use TF32 by default, about 40 TFLOP/s in convolutions, 1.5 TB/s, 10 µs per kernel.
  Steps captured in a CUDA graph (notebook 08's stacked 2D runs) pay 2 µs per kernel. Hours = Σ over the
  notebook's training runs of steps × time per step.

What it leaves out: cuDNN workspaces (up to a few hundred MB, chosen per layer) and the caching allocator's
fragmentation (typically 5-15 % above the peak of live tensors), the CUDA context (about 0.3-0.5 GB of the card,
outside PyTorch's count); evaluation, sampling, plotting, checkpoint writes, metric passes and the domain
classifier's training (minutes in every notebook); notebook 05's Dirac-GAN (it runs on the CPU); data
augmentation (a resize-crop or flip per batch); the gated D step of 07 is counted as always taken (an upper
bound). Peak memory is exact for the tensors PyTorch allocates, given the model of what the notebook keeps alive;
times are estimates within perhaps ±40 %: cuDNN's efficiency varies by layer shape (3D convolutions and thin
layers run well below the assumed rate), and a T4 throttles when hot.
"""

from __future__ import annotations

import argparse
import ast
import copy
import math
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from gan_utils import losses
from gan_utils.metrics.segmentation import SegNet
from gan_utils.models import biggan as bg
from gan_utils.models import cyclegan, pix2pix, vid2vid
from gan_utils.models import pix2pixhd as p2phd
from gan_utils.models.acgan import ACGANDiscriminator, ACGANGenerator
from gan_utils.models.acgan import d_loss as acgan_d_loss
from gan_utils.models.acgan import g_loss as acgan_g_loss
from gan_utils.models.cgan import ConditionalDiscriminator, ConditionalGenerator
from gan_utils.models.cyclegan import ImagePool, linear_decay
from gan_utils.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_utils.models.gan3d import (
    ImageEncoder,
    VoxelDiscriminator,
    VoxelGenerator,
    d_step_gated,
    kl_loss,
    recon_loss,
    reparameterize,
)
from gan_utils.models.improved import (
    SSLDiscriminator,
    SSLGenerator,
    replace_bn_with_vbn,
    ssl_ema,
    ssl_step,
    supervised_step,
)
from gan_utils.models.infogan import InfoGANDiscriminator, InfoGANGenerator, QHead, latent_input, sample_latent
from gan_utils.models.pacgan import (
    PacDCGANDiscriminator,
    PacMLPDiscriminator,
    PacMLPGenerator,
    PacSmallDiscriminator,
    SmallStackedGenerator,
)
from gan_utils.models.pix2pix import UnetGenerator, unet_depth
from gan_utils.models.vanilla import MLPDiscriminator, MLPGenerator, mlp
from gan_utils.models.vid2vid import SequentialGenerator
from gan_utils.nn import minibatch, normalization
from gan_utils.nn.translation import PatchDiscriminator, ResnetGenerator
from gan_utils.train.seed_runs import StackedGAN
from gan_utils.train.trainer import train_discriminator, train_generator

ROOT = Path(__file__).resolve().parent.parent
META = torch.device("meta")
aten = torch.ops.aten
GiB = 2**30
ALLOC_BLOCK = 512  # the CUDA caching allocator's smallest block
BUDGET_GIB = 13.0  # a 16 GB Colab T4 shows 15.0 GiB; keep ~2 GiB for the CUDA context, cuDNN and fragmentation
COLAB_SESSION_H = 12.0  # a free Colab runtime is recycled after at most ~12 h (often sooner)


@dataclass(frozen=True)
class GPU:
    """Sustained rates for the time model (see the module docstring)."""

    name: str
    conv_flops: float  # FLOP/s in convolutions (cuDNN; TF32 where PyTorch allows it by default)
    mm_flops: float  # FLOP/s in matmuls (fp32: PyTorch keeps TF32 off for matmuls by default)
    bandwidth: float  # bytes/s for memory-bound ops
    t_kernel: float  # host seconds per launched kernel in eager mode
    t_graph: float = 2e-6  # per kernel replayed from a CUDA graph


GPUS = {
    "T4": GPU("T4", conv_flops=4.5e12, mm_flops=4.5e12, bandwidth=240e9, t_kernel=20e-6),
    "A100": GPU("A100", conv_flops=40e12, mm_flops=14e12, bandwidth=1.5e12, t_kernel=10e-6),
}


# --------------------------------------------------------------------------- reading the notebooks' SIZES


def notebook_sources() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def read_sizes(source: Path, mode: str = "full") -> dict[str, Any]:
    """The notebook's SIZES[mode] as a dict, read from its py:percent source without running it."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "SIZES" for t in node.targets):
            for k, v in zip(node.value.keys, node.value.values, strict=True):
                if ast.literal_eval(k) == mode:
                    # dict(...) of literals, plus tuple(range(n)) in 08: evaluate with only those names
                    return eval(compile(ast.Expression(v), str(source), "eval"),  # noqa: S307
                                {"__builtins__": {}, "dict": dict, "tuple": tuple, "range": range})
    raise ValueError(f"{source.name} has no SIZES[{mode!r}]")


# --------------------------------------------------------------------------- counting on the meta device


class Tracker(TorchDispatchMode):
    """Live and peak bytes of meta storages, kernels launched and bytes moved by memory-bound ops."""

    def __init__(self) -> None:
        super().__init__()
        self.cur = self.peak = 0
        self._live: dict[int, tuple[weakref.ref, int]] = {}
        self.kernels = self.bytes_moved = 0

    def _track(self, t: torch.Tensor) -> None:
        st = t.untyped_storage()
        key = id(st)
        if key in self._live and self._live[key][0]() is st:
            return
        n = math.ceil(st.nbytes() / ALLOC_BLOCK) * ALLOC_BLOCK

        def freed(_ref: weakref.ref, key: int = key, n: int = n) -> None:
            self.cur -= n
            self._live.pop(key, None)

        self._live[key] = (weakref.ref(st, freed), n)
        self.cur += n
        self.peak = max(self.peak, self.cur)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        if func is aten._local_scalar_dense.default and args[0].device.type == "meta":
            # .item(), float(), int(), bool() on a meta tensor: a neutral value lets the notebook code run on
            # (a gated step is taken, a label check passes)
            return False if args[0].dtype == torch.bool else 0 if not args[0].is_floating_point() else 0.0
        if (func is aten._to_copy.default and args[0].device.type == "meta"
                and torch.device(kwargs.get("device") or "meta").type == "cpu"):
            # a copy to the host (CycleGAN's image pool keeps its history there): host memory, not the GPU's;
            # zeros stand in for the values
            return torch.zeros(args[0].shape, dtype=kwargs.get("dtype") or args[0].dtype)
        out = func(*args, **kwargs)
        outs = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor) and t.device.type == "meta"]
        for t in outs:
            self._track(t)
        if not func.is_view and func.overloadpacket not in NO_KERNEL:
            self.kernels += 1
            if func.overloadpacket not in flop_registry:
                ins = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
                self.bytes_moved += sum(t.numel() * t.element_size() for t in ins + outs)
        return out


NO_KERNEL = {aten.empty, aten.empty_strided, aten.empty_like, aten.detach, aten.lift_fresh, aten._unsafe_view,
             aten.alias, aten.set_, aten._local_scalar_dense, aten.resize_}


@dataclass
class Run:
    """One training run of a notebook: `steps` calls of `step` (a copy of the notebook's step on meta tensors)."""

    name: str
    steps: int
    step: Callable[[], Any]
    nets: tuple[nn.Module, ...] = ()
    graphed: bool = False  # the step is replayed from a CUDA graph on a GPU
    note: str = ""


@dataclass
class RunCost:
    name: str
    steps: int
    params: int
    base: int  # bytes live when the run starts: what the notebook keeps from before (networks, optimisers, data)
    peak: int  # bytes, live tensors of the whole notebook at this run's peak
    flops: float  # per step
    conv_flops: float
    kernels: int
    bytes_moved: int
    graphed: bool
    note: str = ""

    def seconds_per_step(self, gpu: GPU) -> float:
        mm = self.flops - self.conv_flops
        t_k = gpu.t_graph if self.graphed else gpu.t_kernel
        return (self.conv_flops / gpu.conv_flops + mm / gpu.mm_flops + self.bytes_moved / gpu.bandwidth
                + self.kernels * t_k)

    def hours(self, gpu: GPU) -> float:
        return self.steps * self.seconds_per_step(gpu) / 3600


@dataclass
class NotebookCost:
    name: str
    runs: list[RunCost] = field(default_factory=list)
    peak: int = 0
    note: str = ""

    @property
    def main(self) -> RunCost:
        """The run with the most FLOPs in all (the notebook's main training run)."""
        return max(self.runs, key=lambda r: r.steps * r.flops)

    def hours(self, gpu: GPU) -> float:
        return sum(r.hours(gpu) for r in self.runs)

    @property
    def steps(self) -> int:
        return sum(r.steps for r in self.runs)

    @property
    def total_flops(self) -> float:
        return sum(r.steps * r.flops for r in self.runs)


def n_params(nets: tuple[nn.Module, ...]) -> int:
    seen: set[int] = set()
    total = 0
    for net in nets:
        for p in net.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                total += p.numel()
    return total


@contextmanager
def meta_instance_pool() -> Iterator[None]:
    """pix2pixHD's instance pooling needs the ids' values (torch.unique); on meta tensors it keeps the shape only.

    It has no weights and its buffers (an index per pixel and a few (B, 3, H, W) maps) are small next to the
    activations around it, so leaving its values out changes neither the FLOPs nor the peak by much.
    """
    original = p2phd.instance_pool
    p2phd.instance_pool = lambda feats, inst: feats.clone()
    try:
        yield
    finally:
        p2phd.instance_pool = original


@contextmanager
def one_power_iteration_at_init() -> Iterator[None]:
    """spectral_norm runs 15 power iterations when it is built, to initialise u and v; cut them to 1.

    Training steps run 1 anyway, so nothing counted changes; on meta tensors those iterations were most of the time.
    """
    sn = torch.nn.utils.parametrizations._SpectralNorm
    original = sn._power_method
    sn._power_method = lambda self, weight_mat, n: original(self, weight_mat, min(n, 1))
    try:
        yield
    finally:
        sn._power_method = original


def measure(spec: Callable[[dict[str, Any]], Iterator[Run]], sizes: dict[str, Any], name: str,
            count_flops: bool = True) -> NotebookCost:
    """Run a notebook spec on the meta device: every run's step twice, the second one counted."""
    cost = NotebookCost(name)
    tracker = Tracker()
    with tracker, meta_instance_pool(), one_power_iteration_at_init():
        runs = spec(sizes)
        while True:
            with torch.device(META):  # networks built in the spec land on the meta device
                run = next(runs, None)
            if run is None:
                break
            base = tracker.peak = tracker.cur
            run.step()  # Adam creates its moments at the first step
            tracker.kernels = tracker.bytes_moved = 0
            if count_flops:
                with FlopCounterMode(display=False) as fc:
                    run.step()
                flops = fc.get_total_flops()
                conv = sum(v for op, v in fc.get_flop_counts()["Global"].items() if "convolution" in str(op))
            else:
                run.step()
                flops = conv = 0
            cost.runs.append(RunCost(run.name, run.steps, n_params(run.nets), base, tracker.peak, flops, conv,
                                     tracker.kernels, tracker.bytes_moved, run.graphed, run.note))
            cost.peak = max(cost.peak, tracker.peak)
    return cost


# --------------------------------------------------------------------------- helpers for the specs


def adam(params: Any, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999), **kw: Any) -> torch.optim.Adam:
    """Adam as the notebooks build it, with the foreach implementation that PyTorch picks on CUDA."""
    params = [p for p in (params.parameters() if isinstance(params, nn.Module) else params)]
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True, **kw)


def t(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A batch on the meta device (data, noise or labels: only the shape and dtype matter)."""
    return torch.empty(*shape, device=META, dtype=dtype)


def labels(n: int, k: int = 10) -> torch.Tensor:
    return torch.randint(0, k, (n,), device=META)


def gan_step(G: nn.Module, D: nn.Module, opt_G: Any, opt_D: Any, x_shape: tuple[int, ...], z_dim: int = 100,
             k_G: int = 1) -> Callable[[], None]:
    """training.train_discriminator then k_G x train_generator, as notebooks 01, 03 and 08 step."""
    B = x_shape[0]

    def step() -> None:
        train_discriminator(D, G, opt_D, t(*x_shape), t(B, z_dim))
        for _ in range(k_G):
            train_generator(D, G, opt_G, t(B, z_dim))
    return step


def segmenter_run(K: int, width: int, hw: tuple[int, int], steps: int, batch: int = 8) -> Run:
    """metrics.segmentation.train_segmenter's step: SegNet, random flips, cross-entropy, Adam, cosine LR."""
    seg = SegNet(K, width=width)
    opt = adam(seg, lr=1e-2, betas=(0.9, 0.999))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(steps, 1))

    def step() -> None:
        x, y = t(batch, 3, *hw), t(batch, *hw, dtype=torch.long)
        mirror = torch.rand(batch, device=META) < 0.5
        x = torch.where(mirror[:, None, None, None], x.flip(-1), x)
        y = torch.where(mirror[:, None, None], y.flip(-1), y)
        loss = F.cross_entropy(seg(x), y, ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return Run(f"segmenter (SegNet width {width}, {hw[1]}x{hw[0]}, batch {batch})", steps, step, (seg,))


# --------------------------------------------------------------------------- one spec per notebook
# Each is a generator: it builds what the notebook builds, in the notebook's order, and yields one Run per training
# run. What the notebook keeps alive (globals) stays alive in the generator's locals, so the tracker sees it.


def nb01(S: dict[str, Any]) -> Iterator[Run]:
    G, D = MLPGenerator(), MLPDiscriminator()
    opt_G, opt_D = adam(G), adam(D)
    yield Run("MNIST MLP GAN", S["steps"], gan_step(G, D, opt_G, opt_D, (S["batch"], 1, 28, 28)), (G, D))
    for name, z_dim, act, batch, steps in [("2D ring A", 64, nn.Tanh, 256, S["ring_steps"]),
                                           ("2D ring B (collapse)", 256, nn.ReLU, 512, S["collapse_steps"]),
                                           ("2D ring C", 64, nn.Tanh, 256, S["ring_steps"])]:
        G2, D2 = mlp((z_dim, 128, 128, 2), act), mlp((2, 128, 128, 1), act)
        oG2, oD2 = adam(G2, 1e-3), adam(D2, 1e-3)
        D2_logit = lambda x, D2=D2: D2(x).squeeze(1)
        yield Run(name, steps, gan_step(G2, D2_logit, oG2, oD2, (batch, 2), z_dim), (G2, D2))


def nb02(S: dict[str, Any]) -> Iterator[Run]:
    G, D = ConditionalGenerator(), ConditionalDiscriminator()
    opt_G, opt_D = adam(G), adam(D)
    B = S["batch"]

    def step() -> None:
        x_real, y_real, z, y_fake = t(B, 1, 28, 28), labels(B), t(B, 100), labels(B)
        with torch.no_grad():
            x_fake = G(z, y_fake)
        loss_D = losses.d_loss_bce(D(x_real, y_real), D(x_fake, y_fake))
        opt_D.zero_grad(set_to_none=True); loss_D.backward(); opt_D.step()  # noqa: E702
        loss_G = losses.g_loss_nonsaturating(D(G(z, y_fake), y_fake))
        opt_G.zero_grad(set_to_none=True); loss_G.backward(); opt_G.step()  # noqa: E702
    yield Run("conditional MLP GAN", S["steps"], step, (G, D))


def nb03(S: dict[str, Any]) -> Iterator[Run]:
    B, w = S["batch"], S["width"]

    def dcgan(c: int, s: int, ngf: int = w, ndf: int = w) -> tuple[nn.Module, nn.Module, Any, Any]:
        G, D = DCGANGenerator(channels=c, img_size=s, ngf=ngf), DCGANDiscriminator(c, s, ndf=ndf)
        return G, D, adam(G), adam(D)

    G_m, D_m, oG, oD = dcgan(1, 28, S["mnist_ngf"], S["mnist_ndf"])  # the MNIST run has its own widths
    yield Run("MNIST DCGAN", S["mnist_steps"], gan_step(G_m, D_m, oG, oD, (B, 1, 28, 28)), (G_m, D_m))
    G_mlp, D_mlp = MLPGenerator(), MLPDiscriminator()
    o1, o2 = adam(G_mlp), adam(D_mlp)
    yield Run("01's MLP GAN", S["mlp_steps"], gan_step(G_mlp, D_mlp, o1, o2, (B, 1, 28, 28)), (G_mlp, D_mlp),
              note="only when notebook 01's full-mode checkpoint is absent")
    G_1, D_1, oG1, oD1 = dcgan(3, 32)
    yield Run("one CIFAR class, phase 1", S["one_class_steps"], gan_step(G_1, D_1, oG1, oD1, (B, 3, 32, 32)),
              (G_1, D_1))
    G_r, D_r, oGr, oDr = dcgan(3, 32)
    yield Run("phase 2, recipe (k_G 1)", S["collapse_g_steps"], gan_step(G_r, D_r, oGr, oDr, (B, 3, 32, 32)),
              (G_r, D_r))
    k = S["k_G"]
    G_o, D_o, oGo, oDo = dcgan(3, 32)
    yield Run(f"phase 2, G over-trained (k_G {k})", S["collapse_g_steps"] // k,
              gan_step(G_o, D_o, oGo, oDo, (B, 3, 32, 32), k_G=k), (G_o, D_o))
    G_c, D_c, oGc, oDc = dcgan(3, 32)
    yield Run("CIFAR-10 DCGAN", S["cifar_steps"], gan_step(G_c, D_c, oGc, oDc, (B, 3, 32, 32)), (G_c, D_c))


def nb04(S: dict[str, Any]) -> Iterator[Run]:
    B = S["batch"]
    G = InfoGANGenerator(62 + 10 + 2, fc=S["fc"], ngf=S["width"])
    D = InfoGANDiscriminator(ndf=S["width"], fc=S["fc"])
    Q = QHead(D.feature_dim)
    opt_DQ, opt_G = adam([*D.parameters(), *Q.parameters()]), adam(G, 1e-3)

    def step() -> None:
        x_real = t(B, 1, 28, 28)
        z, c_cat, c_cont = sample_latent(B, device=META)
        x_fake = G(latent_input(z, c_cat, c_cont))
        f_fake = D.features(x_fake.detach())
        loss_D = losses.d_loss_bce(D(x_real), D.from_features(f_fake))
        cat_logits, cont_mean, _ = Q(f_fake)
        loss_Q = losses.info_loss(cat_logits, c_cat, cont_mean, c_cont)
        opt_DQ.zero_grad(set_to_none=True); (loss_D + loss_Q).backward(); opt_DQ.step()  # noqa: E702
        f_fake = D.features(x_fake)
        cat_logits, cont_mean, _ = Q(f_fake)
        loss_info = losses.info_loss(cat_logits, c_cat, cont_mean, c_cont)
        loss_G = losses.g_loss_nonsaturating(D.from_features(f_fake))
        opt_G.zero_grad(set_to_none=True); (loss_G + loss_info).backward(); opt_G.step()  # noqa: E702
    yield Run("InfoGAN on MNIST", S["steps"], step, (G, D, Q))


def nb05(S: dict[str, Any]) -> Iterator[Run]:
    Z, W, B = 256, 128, 64  # the notebook's toy sizes (not in SIZES)

    class ToyD(nn.Module):
        def __init__(self, n_kernels: int = 0) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, W), nn.ReLU(), nn.Linear(W, W), nn.ReLU())
            self.mbd = minibatch.MinibatchDiscrimination(W, n_kernels, 4) if n_kernels else nn.Identity()
            self.head = nn.Linear(W + n_kernels, 1)

        def features(self, x: torch.Tensor) -> torch.Tensor:
            return self.body(x)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.mbd(self.body(x))).squeeze(1)

    def toy(k: int = 1, fm: bool = False, n_kernels: int = 0, real_label: float = 1.0, bn: bool = False,
            vbn: bool = False) -> tuple[Callable[[], None], tuple[nn.Module, ...]]:
        norm = (lambda: nn.BatchNorm1d(W)) if bn else nn.Identity
        G = nn.Sequential(nn.Linear(Z, W), norm(), nn.ReLU(), nn.Linear(W, W), norm(), nn.ReLU(), nn.Linear(W, 2))
        G = replace_bn_with_vbn(G) if vbn else G
        D = ToyD(n_kernels)
        opt_G, opt_D = adam(G, 1e-4), adam(D, 1e-4)
        z_ref = t(B, Z)

        def generate(z: torch.Tensor) -> torch.Tensor:
            if vbn:
                normalization.vbn_reference_pass(G, z_ref)
            return G(z)

        def step() -> None:
            for _ in range(k):
                with torch.no_grad():
                    x_fake = generate(t(B, Z))
                loss_D = losses.d_loss_bce(D(t(B, 2)), D(x_fake), real_label=real_label)
                opt_D.zero_grad(); loss_D.backward(); opt_D.step()  # noqa: E702
            x_fake = generate(t(B, Z))
            loss_G = (losses.feature_matching(D.features(t(B, 2)), D.features(x_fake)) if fm
                      else losses.g_loss_nonsaturating(D(x_fake)))
            opt_G.zero_grad(); loss_G.backward(); opt_G.step()  # noqa: E702
        return step, (G, D)

    rows = [("minibatch discrimination", {}, {"n_kernels": 16}),
            ("feature matching", {"k": 5}, {"k": 5, "fm": True}),
            ("label smoothing", {"k": 5}, {"k": 5, "real_label": 0.9}),
            ("virtual batch norm", {"bn": True}, {"bn": True, "vbn": True})]
    for name, base, on in rows:
        for label, kw in (("without", base), ("with", on)):
            step, nets = toy(**kw)
            yield Run(f"2D: {name}, {label} ({S['seeds']} seeds)", S["toy_steps"] * S["seeds"], step, nets)
    x_lab, y_lab = t(100, 784), labels(100)
    D, G = SSLDiscriminator(), SSLGenerator()
    opt_D = adam([p for p in D.parameters() if p.requires_grad], 3e-3)
    opt_G = adam([p for p in G.parameters() if p.requires_grad], 3e-3)
    D_ema = ssl_ema(D)
    yield Run(f"semi-supervised GAN ({S['label_draws']} label draws)", S["ssl_steps"] * S["label_draws"],
              lambda: ssl_step(D, G, opt_D, opt_G, x_lab, y_lab, t(100, 784), t(100, 784), D_ema), (D, G))
    D_sup = SSLDiscriminator()
    opt_S, D_sup_ema = adam([p for p in D_sup.parameters() if p.requires_grad], 3e-3), ssl_ema(D_sup)
    yield Run(f"labels only ({S['label_draws']} label draws)", S["sup_steps"] * S["label_draws"],
              lambda: supervised_step(D_sup, opt_S, x_lab, y_lab, D_sup_ema), (D_sup,))


def nb06(S: dict[str, Any]) -> Iterator[Run]:
    B, K = S["batch"], 10
    G, D = ACGANGenerator(ngf=S["width"]), ACGANDiscriminator(ndf=S["width"])
    opt_G, opt_D = adam(G), adam(D)

    def step() -> None:
        x_real, y_real, z, y_fake = t(B, 3, 32, 32), labels(B, K), t(B, 100), labels(B, K)
        x_fake = G(z, y_fake)
        (s_real, c_real), (s_fake, c_fake) = D(x_real), D(x_fake.detach())
        loss_D = acgan_d_loss(s_real, c_real, y_real, s_fake, c_fake, y_fake)
        opt_D.zero_grad(set_to_none=True); loss_D.backward(); opt_D.step()  # noqa: E702
        s_fake, c_fake = D(x_fake)
        loss_G = acgan_g_loss(s_fake, c_fake, y_fake)
        opt_G.zero_grad(set_to_none=True); loss_G.backward(); opt_G.step()  # noqa: E702
    yield Run("AC-GAN on CIFAR-10", S["steps"], step, (G, D))


def nb07(S: dict[str, Any]) -> Iterator[Run]:
    B, n, z_dim = S["batch"], S["size"], 200
    G, D = VoxelGenerator(z_dim, n, ngf=S["width"]), VoxelDiscriminator(n, ndf=S["width"])
    opt_G, opt_D = adam(G, 0.0025), adam(D, 1e-5)

    def step() -> None:
        x_real = t(B, 1, n, n, n)
        x_fake = G(t(B, z_dim))
        d_step_gated(D, opt_D, x_real, x_fake)  # counted as taken every time
        loss_G = losses.g_loss_nonsaturating(D(x_fake))
        opt_G.zero_grad(set_to_none=True); loss_G.backward(); opt_G.step()  # noqa: E702
    yield Run(f"3D-GAN {n}^3", S["steps"], step, (G, D))
    kept = []  # the notebook's `vae` dict keeps each run's E and G
    for a2, a2_G in ((1e-4, 1e-4), (1.0, 1.0), (1.0, 0.01)):  # the third: the reconstruction reaches G at 0.01
        E = ImageEncoder(z_dim, S["image_size"], nef=S["width"])
        G_v, D_v = copy.deepcopy(G).train(), copy.deepcopy(D).train()
        opt_EG, opt_Dv = adam([*E.parameters(), *G_v.parameters()], 1e-3), adam(D_v, 1e-3 * 1e-5 / 0.0025)
        s = S["image_size"]

        def vae_step(E=E, G_v=G_v, D_v=D_v, opt_EG=opt_EG, opt_Dv=opt_Dv, a2=a2, a2_G=a2_G, s=s) -> None:
            x, y = t(B, 1, n, n, n), t(B, 1, s, s)
            x_fake = G_v(t(B, z_dim))
            d_step_gated(D_v, opt_Dv, x, x_fake)
            mu, logvar = E(y)
            x_rec = G_v(reparameterize(mu, logvar))
            l_gan, l_kl, l_rec = losses.g_loss_nonsaturating(D_v(x_fake)), kl_loss(mu, logvar), recon_loss(x_rec, x)
            params_E, params_G = list(E.parameters()), list(G_v.parameters())
            grads = (torch.autograd.grad(5.0 * l_kl + a2 * l_rec, params_E, retain_graph=True)
                     + torch.autograd.grad(l_gan + a2_G * l_rec, params_G))
            for p, g_ in zip(params_E + params_G, grads, strict=True):
                p.grad = g_
            opt_EG.step()
        yield Run(f"3D-VAE-GAN, alpha_2 {a2:g} (G: {a2_G:g})", S["vae_steps"], vae_step, (E, G_v, D_v))
        kept.append((E, G_v))
        del opt_EG, opt_Dv, D_v, vae_step


def nb08(S: dict[str, Any]) -> Iterator[Run]:
    R = len(S["seeds"])
    settings = [("ring", m, S["ring_steps"]) for m in (1, 2, 3, 4)] + [("grid", m, S["grid_steps"])
                                                                      for m in S["grid_packs"]]
    for mix, m, steps in settings:
        Gs = [PacMLPGenerator(2, 2, S["g_width"], 4) for _ in range(R)]
        Ds = [PacMLPDiscriminator(2, m, S["d_width"], 3, 5) for _ in range(R)]
        gan = StackedGAN(Gs, Ds, S["lr"], (0.8, 0.999))
        n = 100 * m
        step = lambda gan=gan, n=n: gan._eager_step(t(R, n, 2), t(R, n, 2), t(R, n, 2))
        yield Run(f"2D {mix}, PacGAN{m}, {R} runs stacked", steps, step, (gan.G, gan.D), graphed=True)
        del gan, Gs, Ds, step
    kept = []
    for m in (1, 2):
        G = DCGANGenerator(channels=3, ngf=S["sm_width"])
        D = PacDCGANDiscriminator(pack=m, ndf=S["sm_width"])
        opt_G, opt_D = adam(G), adam(D)
        yield Run(f"stacked MNIST, pack {m}", S["sm_steps"],
                  gan_step(G, D, opt_G, opt_D, (S["sm_batch"], 3, 28, 28)), (G, D))
        kept.append((G, D, opt_G, opt_D))  # G_1, trainer_1 stay alive
    for m in (1, 2):  # the Table 3 small-D runs, one per seed, each kept alive in `small`
        for seed in S["sd_seeds"]:
            G, D = SmallStackedGenerator(), PacSmallDiscriminator(pack=m, ndf=S["sd_ndf"])
            opt_G, opt_D = adam(G), adam(D)
            n = S["sd_batch"] * m
            yield Run(f"stacked MNIST, small D, pack {m}, seed {seed}", S["sd_steps"],
                      gan_step(G, D, opt_G, opt_D, (n, 3, 28, 28), z_dim=G.z_dim), (G, D))
            kept.append((G, D, opt_G, opt_D))


def nb09(S: dict[str, Any]) -> Iterator[Run]:
    K, s, B, w = 9, S["size"], S["batch"], S["width"]
    n_down = unet_depth(s)
    kept = []
    for name, lambda_L1, gan, skips in [("L1 + cGAN", 100.0, True, True), ("L1 only", 100.0, False, True),
                                        ("cGAN only", 0.0, True, True), ("L1 + cGAN, no skips", 100.0, True, False)]:
        G = UnetGenerator(K, 3, n_down, w, skips=skips)
        D = PatchDiscriminator(K + 3, w, n_layers=3)
        opt_G, opt_D = adam(G), adam(D) if gan else None

        def step(G=G, D=D, opt_G=opt_G, opt_D=opt_D, gan=gan, lambda_L1=lambda_L1) -> None:
            x, y = t(B, K, s, s), t(B, 3, s, s)
            pix2pix.train_step(G, D if gan else None, opt_G, opt_D, x, y, lambda_L1)
        yield Run(f"pix2pix {s} px, {name}", S["steps"], step, (G, D) if gan else (G,))
        kept.append((G, opt_G, opt_D) if not kept else (G,))  # G_full and trainer_full stay, then each G_
    yield segmenter_run(K, S["seg_width"], (s, s), S["seg_steps"])  # fit_segmenter, at the generation size


def nb10(S: dict[str, Any]) -> Iterator[Run]:
    s, B = S["size"], 1
    lambda_cyc, lambda_idt = 10.0, 0.5

    def make_networks() -> tuple[nn.Module, ...]:
        return (ResnetGenerator(3, 3, ngf=S["ngf"], n_blocks=S["n_blocks"]),
                ResnetGenerator(3, 3, ngf=S["ngf"], n_blocks=S["n_blocks"]),
                PatchDiscriminator(3, S["ngf"], S["n_layers_D"], norm="instance"),
                PatchDiscriminator(3, S["ngf"], S["n_layers_D"], norm="instance"))

    demo = make_networks()  # the notebook's first G, F, D_Y, D_X (D_Y and D_X stay alive)
    seg = segmenter_run(9, 16, (s, s), S["seg_steps"])
    yield seg
    del seg
    kept = [demo]
    for name, lam, steps in [("CycleGAN", lambda_cyc, S["steps"]), ("GAN alone (no cycle loss)", 0.0,
                                                                    S["steps_ablation"])]:
        G, Fn, D_Y, D_X = make_networks()
        opt_G, opt_D = adam([*G.parameters(), *Fn.parameters()]), adam([*D_Y.parameters(), *D_X.parameters()])
        sched_G = linear_decay(opt_G, S["steps"] // 2, S["steps"] - S["steps"] // 2)
        sched_D = linear_decay(opt_D, S["steps"] // 2, S["steps"] - S["steps"] // 2)
        pool_X, pool_Y = ImagePool(50, seed=0), ImagePool(50, seed=1)

        def step(G=G, Fn=Fn, D_Y=D_Y, D_X=D_X, opt_G=opt_G, opt_D=opt_D, sched_G=sched_G, sched_D=sched_D,
                 pool_X=pool_X, pool_Y=pool_Y, lam=lam) -> None:
            x, y = t(B, 3, s, s), t(B, 3, s, s)
            cyclegan.train_step(G, Fn, D_Y, D_X, opt_G, opt_D, pool_X, pool_Y, x, y, lam, lambda_idt,
                                schedulers=(sched_G, sched_D))
        yield Run(f"{name}, {s} px", steps, step, (G, Fn, D_Y, D_X))
        kept.append((G, Fn, D_Y, D_X, opt_G, opt_D, pool_X, pool_Y))  # G, F, trainer; then G_gan, F_gan, trainer_gan


def nb11(S: dict[str, Any]) -> Iterator[Run]:
    K, n_feat, H = 9, 3, S["height"]
    in_G = K + 1 + n_feat
    hw1, hw2 = (H, 2 * H), (2 * H, 4 * H)  # (height, width) of G1's and G2's images
    # On the device: the 37 real pairs (label ids, photo, instance ids), their train/test split (copies), the 15
    # test label maps. The offline stand-in (GAN_DATA=synthetic, or no data and no network) holds n_synthetic pairs.
    n_pairs = S["n_synthetic"] if S.get("standin") else 37
    data = [t(2 * n_pairs, 1, *hw2, dtype=torch.uint8), t(2 * n_pairs, 3, *hw2, dtype=torch.uint8),
            t(2 * n_pairs, 1, *hw2, dtype=torch.int32), t(15, 1, *hw2, dtype=torch.uint8),
            t(15, 1, *hw2, dtype=torch.int32)]
    vgg = None
    if S["use_vgg"]:
        from torchvision.models import vgg19
        vgg = p2phd.VGGLoss(vgg19(weights=None).features)

    def batch(n: int, hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return t(n, 1, *hw, dtype=torch.uint8), t(n, 1, *hw, dtype=torch.int32), t(n, 3, *hw)

    def make_step(G: nn.Module, D: nn.Module, E: nn.Module | None, opt_G: Any, opt_D: Any, hw: tuple[int, int],
                  use_boundary: bool = True) -> Callable[[], None]:
        def step() -> None:  # notebook 11's make_step
            a, k, y = batch(S["batch"], hw)
            p2phd.train_step(G, D, E, opt_G, opt_D, a, k, y, K, vgg, use_boundary=use_boundary)
        return step

    def make_global(use_boundary: bool = True, features: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        c_in = K + 1 if use_boundary else K
        G1 = p2phd.GlobalGenerator(c_in + (n_feat if features else 0), 3, S["ngf"], S["n_down"], S["n_blocks"])
        D = p2phd.MultiscaleDiscriminator(c_in + 3, S["ndf"], n_layers=3, num_D=3)
        E = p2phd.InstanceEncoder(3, n_feat, S["feat_ngf"], n_downsampling=S["n_down"]) if features else None
        opts = {"G": adam([*G1.parameters(), *(E.parameters() if E is not None else [])]), "D": adam(D)}
        return {"G1": G1, "D": D, "E": E}, opts

    hd, opts_1 = make_global()
    yield Run(f"phase 1: G1 + E + D at {hw1[1]}x{hw1[0]}", S["steps_global"],
              make_step(hd["G1"], hd["D"], hd["E"], opts_1["G"], opts_1["D"], hw1), (hd["G1"], hd["D"], hd["E"]))
    G = p2phd.LocalEnhancer(in_G, 3, S["ngf"] // 2, global_G=hd["G1"])
    opts_2 = {"G": adam([*G.parameters(), *hd["E"].parameters()]), "D": adam(hd["D"])}
    step_2 = make_step(G, hd["D"], hd["E"], opts_2["G"], opts_2["D"], hw2)

    def fixed() -> None:
        G.freeze_global(True)
        step_2()
    yield Run(f"phase 2: G2 at {hw2[1]}x{hw2[0]}, G1 fixed", S["steps_fix"], fixed, (G, hd["D"], hd["E"]))

    def joint() -> None:
        G.freeze_global(False)
        step_2()
    yield Run(f"phase 3: G1 + G2 + E + D at {hw2[1]}x{hw2[0]}", S["steps_joint"], joint, (G, hd["D"], hd["E"]))
    G_p2p = UnetGenerator(K, 3, unet_depth((hw2[1], hw2[0])), S["ngf"])
    D_p2p = PatchDiscriminator(K + 3, S["ngf"], n_layers=3)
    opts_p2p = {"G": adam(G_p2p), "D": adam(D_p2p)}

    def p2p_step() -> None:
        a, _, y = batch(S["batch_p2p"], hw2)
        x = p2phd.generator_input(a, K, boundary=False)
        pix2pix.train_step(G_p2p, D_p2p, opts_p2p["G"], opts_p2p["D"], x, y, 100.0)
    yield Run(f"pix2pix at {hw2[1]}x{hw2[0]}", S["steps_p2p"], p2p_step, (G_p2p, D_p2p))
    g1, opts_g1 = make_global()  # G1 alone, trained on from phase 1 instead of phases 2 and 3
    yield Run(f"G1 alone at {hw1[1]}x{hw1[0]}", S["steps_g1_more"],
              make_step(g1["G1"], g1["D"], g1["E"], opts_g1["G"], opts_g1["D"], hw1), (g1["G1"], g1["D"], g1["E"]))
    del opts_g1, g1["D"]  # the notebook keeps only G1 alone's G1 and E
    yield segmenter_run(K, S["seg_width"], hw2, S["seg_steps"], S["seg_batch"])  # fit_segmenter, at G's full size
    ablation = {}
    for use_boundary in (True, False):
        models, opts = make_global(use_boundary, features=False)
        yield Run(f"boundary ablation at {hw1[1]}x{hw1[0]}, boundary {use_boundary}", S["steps_ablation"],
                  make_step(models["G1"], models["D"], None, opts["G"], opts["D"], hw1, use_boundary),
                  (models["G1"], models["D"]))
        ablation[use_boundary] = models["G1"]
    del data


def nb12(S: dict[str, Any]) -> Iterator[Run]:
    K, L, K_D, T = 9, 2, 3, S["n_frames"]
    C_map, (w, h), B, t_gen = K + 1, S["size"], S["batch"], S["t_gen"]
    n_train = T - S["n_holdout"] - S["gap"]
    s_all, x_all, fg_all = t(T, C_map, h, w), t(T, 3, h, w), t(T, 1, h, w)  # on the device for the whole run
    flow_all, conf_all = t(T - 1, 2, h, w), t(T - 1, 1, h, w)
    nets = dict(ngf=S["ngf"], n_down=S["n_down"], n_blocks=S["n_blocks"])
    demo = {"G": SequentialGenerator(C_map, n_past=L, **nets), "G_frame": SequentialGenerator(C_map, n_past=0, **nets),
            "D_V": p2phd.MultiscaleDiscriminator(3 * K_D + 2 * (K_D - 1), S["ndf"], n_layers=3, num_D=S["num_D"])}

    def msd(c: int) -> nn.Module:
        return p2phd.MultiscaleDiscriminator(c, S["ndf"], n_layers=3, num_D=S["num_D"])

    G_f, D_f = SequentialGenerator(C_map, n_past=0, **nets), msd(C_map + 3)
    opts_f = {"G": adam(G_f), "D_I": adam(D_f)}

    def frame_step() -> None:
        idx = torch.randint(0, n_train, (B * t_gen,))
        s, real = s_all[idx], x_all[idx]
        flip = (torch.rand(len(idx), device=META) < 0.5).view(-1, 1, 1, 1)
        s, real = torch.where(flip, s.flip(-1), s), torch.where(flip, real.flip(-1), real)
        fake = G_f(s)["image"]
        d_real, d_fake = D_f(torch.cat([s, real], 1)), D_f(torch.cat([s, fake.detach()], 1))
        loss_D = 0.5 * (p2phd.multiscale_gan_loss(d_real, True) + p2phd.multiscale_gan_loss(d_fake, False))
        opts_f["D_I"].zero_grad(); loss_D.backward(); opts_f["D_I"].step()  # noqa: E702
        f_fake, f_real = D_f(torch.cat([s, fake], 1)), D_f(torch.cat([s, real], 1))
        loss = (p2phd.multiscale_gan_loss(f_fake, True) + p2phd.gan_feat_loss(f_fake, f_real, 10.0)
                + 10.0 * (fake - real).abs().mean())
        opts_f["G"].zero_grad(); loss.backward(); opts_f["G"].step()  # noqa: E702
    yield Run(f"frame-by-frame at {w}x{h}, {B * t_gen} frames a step", S["steps_frame"], frame_step, (G_f, D_f))
    del demo["G_frame"]  # the notebook rebinds G_frame to the trained one
    G_v, D_I, D_V = SequentialGenerator(C_map, n_past=L, **nets), msd(C_map + 3), msd(3 * K_D + 2 * (K_D - 1))
    opts = {"G": adam(G_v), "D_I": adam(D_I), "D_V": adam(D_V)}

    def v2v_step() -> None:  # notebook 12's window, then its step
        W_len = L + t_gen
        idx = torch.randint(0, n_train - W_len + 1, (B,))[:, None] + torch.arange(W_len)
        s, x, fg = s_all[idx], x_all[idx], fg_all[idx]
        flow, conf = flow_all[idx[:, :-1]], conf_all[idx[:, :-1]]
        vid2vid.train_step(G_v, D_I, D_V, opts["G"], opts["D_I"], opts["D_V"], s, x, fg, flow, conf, L, K_D)
    yield Run(f"vid2vid at {w}x{h}, {t_gen} frames generated a step", S["steps"], v2v_step, (G_v, D_I, D_V))
    del demo["G"]  # ... and G to vid2vid's
    yield segmenter_run(K, S["seg_width"], (h, w), S["seg_steps"])


def nb13(S: dict[str, Any]) -> Iterator[Run]:
    K = 10

    def biggan(ch: int, B: int, ema: bool, decay: float = 0.0) -> tuple[Callable[[], None], tuple[nn.Module, ...]]:
        G, D = bg.Generator(ch=ch), bg.Discriminator(ch=ch)
        G_ema = bg.make_ema(G) if ema else None
        opt_G = adam(G, 2e-4, (0.0, 0.999), eps=1e-6)
        opt_D = adam(D, 2e-4, (0.0, 0.999), eps=1e-6)
        noise = lambda n: (t(n, G.z_dim), labels(n, K))
        real = lambda: (t(B, 3, 32, 32), labels(B, K))

        def step() -> None:
            bg.train_step(G, D, opt_G, opt_D, real, noise, n_D=2, ortho_beta=1e-4, G_ema=G_ema, ema_decay=decay)
        return step, (G, D) + ((G_ema,) if G_ema is not None else ())

    step, nets = biggan(S["ch"], S["batch"], ema=True, decay=S["ema_decay"])
    yield Run(f"BigGAN ch {S['ch']}, batch {S['batch']}", S["steps"], step, nets[:2])
    for ch, b in S["sweep"]:
        sweep_step, sweep_nets = biggan(ch, b, ema=False)
        yield Run(f"sweep: ch {ch}, batch {b}", S["sweep_steps"], sweep_step, sweep_nets)
        del sweep_step, sweep_nets
    yield Run(f"torchrun script, 1 process ({S['ddp_steps']} steps)", S["ddp_steps"], step, nets[:2],
              note="a second process: its memory adds to the notebook's on one GPU")


SPECS: dict[str, Callable[[dict[str, Any]], Iterator[Run]]] = {
    "01": nb01, "02": nb02, "03": nb03, "04": nb04, "05": nb05, "06": nb06, "07": nb07, "08": nb08, "09": nb09,
    "10": nb10, "11": nb11, "12": nb12, "13": nb13,
}


def budget(number: str, sizes: dict[str, Any] | None = None, count_flops: bool = True) -> NotebookCost:
    """The full-mode cost of notebook `number` ("07"), at its SIZES["full"] unless `sizes` replaces some of them."""
    source = next(p for p in notebook_sources() if p.name.startswith(number + "_"))
    full = read_sizes(source) | (sizes or {})
    return measure(SPECS[number], full, source.stem, count_flops)


# --------------------------------------------------------------------------- reporting


def fmt_h(h: float) -> str:
    return f"{h * 60:.0f} min" if h < 1 else f"{h:.1f} h" if h < 10 else f"{h:.0f} h"


def summary_table(costs: list[NotebookCost]) -> str:
    t4, a100 = GPUS["T4"], GPUS["A100"]
    rows = ["| notebook | main run | params (M) | est. peak (GiB) | GFLOP / step | steps, all runs | PFLOP, all runs "
            "| T4 | A100 |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in costs:
        m = c.main
        rows.append(f"| {c.name} | {m.name} | {m.params / 1e6:.1f} | {c.peak / GiB:.2f} | {m.flops / 1e9:,.1f} | "
                    f"{c.steps:,} | {c.total_flops / 1e15:,.1f} | {fmt_h(c.hours(t4))} | {fmt_h(c.hours(a100))} |")
    return "\n".join(rows)


def runs_table(costs: list[NotebookCost]) -> str:
    t4 = GPUS["T4"]
    rows = ["| notebook | run | steps | params (M) | kept from before (GiB) | peak (GiB) | GFLOP / step "
            "| kernels / step | GB moved / step | T4 s / step | T4 |", "|---|---|" + "---:|" * 9]
    for c in costs:
        for r in c.runs:
            note = f" ({r.note})" if r.note else ""
            rows.append(f"| {c.name[:2]} | {r.name}{note} | {r.steps:,} | {r.params / 1e6:.1f} | {r.base / GiB:.2f} "
                        f"| {r.peak / GiB:.2f} "
                        f"| {r.flops / 1e9:,.1f} | {r.kernels:,} | {r.bytes_moved / 1e9:.2f} "
                        f"| {r.seconds_per_step(t4):.3f} | {fmt_h(r.hours(t4))} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", action="append", help="only these notebooks, e.g. --notebook 11")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a full-mode size of the chosen notebook, e.g. --set height=256")
    parser.add_argument("--standin", action="store_true", help="11 on the offline stand-in (n_synthetic pairs)")
    parser.add_argument("--markdown", action="store_true", help="print the README's tables, with per-run detail")
    args = parser.parse_args()
    numbers = args.notebook or list(SPECS)
    overrides = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}
    overrides |= {"standin": True} if args.standin else {}
    t0 = time.perf_counter()
    costs = [budget(n, overrides if overrides else None) for n in numbers]
    print(summary_table(costs))
    over = [c.name for c in costs if c.peak / GiB > BUDGET_GIB]
    print(f"\nbudget {BUDGET_GIB:g} GiB (a 16 GB T4): {'over: ' + ', '.join(over) if over else 'all fit'}; "
          f"longer than a {COLAB_SESSION_H:g} h Colab session on a T4: "
          f"{', '.join(c.name for c in costs if c.hours(GPUS['T4']) > COLAB_SESSION_H) or 'none'}")
    if args.markdown or args.notebook:
        print("\n" + runs_table(costs))
    print(f"\n({time.perf_counter() - t0:.0f} s; T4: {GPUS['T4']}; A100: {GPUS['A100']})")


if __name__ == "__main__":
    main()

