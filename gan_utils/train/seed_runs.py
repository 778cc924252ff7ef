"""R independent GAN runs trained as one set of batched weights: seeds side by side at the cost of one bigger step.

Each run's weights get a leading run axis R, every Linear becomes one `torch.baddbmm`, and BatchNorm takes its
statistics over each run's own batch, so run r computes exactly what its own `nn.Module` would. The loss is the
sum of the runs' losses, whose gradient with respect to run r's weights is run r's own gradient; Adam is
element-wise, so one Adam over the stacked tensors equals R separate Adams (`tests/test_stacked_runs.py`).

On a GPU small MLPs are launch-bound, so stacking R runs costs about as much as one; on a CPU it gains little.
`cuda_graph=True` on CUDA captures the whole D+G step once in a CUDA graph and replays it. It is OFF by default
everywhere: the path follows PyTorch's whole-network capture recipe but has not yet run on a GPU, and stays off
until a GPU run shows that it gives the eager step's losses and weights.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.data.synthetic.mixtures import Mixture2D
from gan_utils.metrics.mixtures import ModeStats, mode_stats
from gan_utils.models.pacgan import Maxout, PacMLPDiscriminator, PacMLPGenerator, init_normal

__all__ = ["MixtureRuns", "StackedGAN", "StackedMLP", "train_mixture_runs"]


class _Linear(nn.Module):
    def __init__(self, mods: Sequence[nn.Linear]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.stack([m.weight.detach().t() for m in mods]).contiguous())  # (R, in, out)
        self.bias = (nn.Parameter(torch.stack([m.bias.detach() for m in mods]).unsqueeze(1).contiguous())
                     if mods[0].bias is not None else None)  # (R, 1, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return torch.bmm(x, self.weight)  # (R, B, out)
        return torch.baddbmm(self.bias, x, self.weight)  # (R, B, out)

    def export(self, r: int, m: nn.Linear) -> None:
        m.weight.copy_(self.weight[r].t())
        if self.bias is not None:
            m.bias.copy_(self.bias[r, 0])


class _Maxout(nn.Module):
    def __init__(self, mods: Sequence[Maxout]) -> None:
        super().__init__()
        self.out_features, self.pieces = mods[0].out_features, mods[0].pieces
        self.linear = _Linear([m.linear for m in mods])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.linear(x)  # (R, B, out·pieces)
        return h.view(*h.shape[:-1], self.out_features, self.pieces).amax(-1)  # (R, B, out)

    def export(self, r: int, m: Maxout) -> None:
        self.linear.export(r, m.linear)


class _BatchNorm(nn.Module):
    """BatchNorm1d per run: statistics over each run's own batch (dim 1), never across runs."""

    def __init__(self, mods: Sequence[nn.BatchNorm1d]) -> None:
        super().__init__()
        self.eps, self.momentum = mods[0].eps, mods[0].momentum
        if self.momentum is None:
            raise ValueError("Stacked BatchNorm needs a momentum; momentum=None (cumulative average) is not supported.")
        self.weight = nn.Parameter(torch.stack([m.weight.detach() for m in mods]).unsqueeze(1).contiguous())
        self.bias = nn.Parameter(torch.stack([m.bias.detach() for m in mods]).unsqueeze(1).contiguous())
        self.register_buffer("running_mean", torch.stack([m.running_mean for m in mods]).unsqueeze(1).clone())
        self.register_buffer("running_var", torch.stack([m.running_var for m in mods]).unsqueeze(1).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            mean = x.mean(1, keepdim=True)  # (R, 1, F)
            var = x.var(1, unbiased=False, keepdim=True)  # (R, 1, F)
            with torch.no_grad():  # as nn.BatchNorm1d: the running variance is the unbiased one
                n = x.shape[1]
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * (n / max(n - 1, 1)), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias

    def export(self, r: int, m: nn.BatchNorm1d) -> None:
        m.weight.copy_(self.weight[r, 0])
        m.bias.copy_(self.bias[r, 0])
        m.running_mean.copy_(self.running_mean[r, 0])
        m.running_var.copy_(self.running_var[r, 0])


class StackedMLP(nn.Module):
    """R copies of one MLP (Linear, Maxout, BatchNorm1d, ReLU layers) as batched weights: (R, N, in) -> (R, N', out).

    Built from R `nn.Sequential`s of the same shape (or modules with a `.net` Sequential); `pack` > 1 packs the input
    as `gan_utils.models.pacgan.pack` does, per run.
    """

    def __init__(self, modules: Sequence[nn.Module], pack: int = 1) -> None:
        super().__init__()
        if not modules:
            raise ValueError("StackedMLP needs at least one module.")
        nets = [m.net if hasattr(m, "net") else m for m in modules]
        kinds = [tuple(type(layer) for layer in net) for net in nets]
        if any(k != kinds[0] for k in kinds):
            raise ValueError("StackedMLP: the modules differ in their layers; stack only copies of one architecture.")
        shapes = [tuple(p.shape for p in net.parameters()) for net in nets]
        if any(s != shapes[0] for s in shapes):
            raise ValueError("StackedMLP: the modules differ in their layer sizes; stack copies of one architecture.")
        layers: list[nn.Module] = []
        for i, layer in enumerate(nets[0]):
            same = [net[i] for net in nets]
            if isinstance(layer, nn.Linear):
                layers.append(_Linear(same))
            elif isinstance(layer, nn.BatchNorm1d):
                layers.append(_BatchNorm(same))
            elif isinstance(layer, Maxout):
                layers.append(_Maxout(same))
            elif isinstance(layer, (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Identity)):
                layers.append(layer)
            else:
                raise ValueError(f"StackedMLP cannot stack a {type(layer).__name__} layer; it knows Linear, Maxout, "
                                 "BatchNorm1d, ReLU, LeakyReLU, Tanh.")
        self.layers = nn.ModuleList(layers)
        self.runs, self.pack = len(modules), pack
        first = nets[0][0]
        self.in_features = (first.in_features if isinstance(first, nn.Linear) else first.linear.in_features) // pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[0] != self.runs or x.shape[2] != self.in_features:
            raise ValueError(f"expected (R={self.runs}, N, {self.in_features}) inputs, one batch per run; "
                             f"got {tuple(x.shape)}.")
        if x.shape[1] % self.pack != 0:
            raise ValueError(f"{x.shape[1]} samples per run do not split into packs of m={self.pack}; "
                             "pass B·m samples per run.")
        h = x.reshape(self.runs, x.shape[1] // self.pack, self.pack * self.in_features)  # (R, B, m·in)
        for layer in self.layers:
            h = layer(h)
        return h

    @torch.no_grad()
    def export(self, r: int, module: nn.Module) -> nn.Module:
        """Copy run r's weights (and BN statistics) into `module`, a copy of the stacked architecture."""
        net = module.net if hasattr(module, "net") else module
        for mine, theirs in zip(self.layers, net, strict=True):
            if hasattr(mine, "export"):
                mine.export(r, theirs)
        return module


class StackedGAN:
    """R independent GANs (G and D stacked) with the non-saturating loss and one Adam per network for all runs.

    `step(x_real, z_D, z_G)` is one D update then one G update for every run, as `training.train_discriminator`
    and `training.train_generator` do for one run; it returns the runs' losses as two (R,) tensors.
    `cuda_graph=True` replays the step as a CUDA graph on CUDA; off by default until a GPU run shows that it
    matches the eager step (see the module docstring).
    """

    def __init__(self, Gs: Sequence[nn.Module], Ds: Sequence[nn.Module], lr: float = 1e-4,
                 betas: tuple[float, float] = (0.8, 0.999), eps: float = 1e-8, cuda_graph: bool = False) -> None:
        if len(Gs) != len(Ds):
            raise ValueError(f"got {len(Gs)} generators and {len(Ds)} discriminators; pass one of each per run.")
        self.G = StackedMLP(Gs)
        self.D = StackedMLP(Ds, pack=getattr(Ds[0], "pack", 1))
        self.runs, self.pack = self.G.runs, self.D.pack
        self.z_dim, self.x_dim = self.G.in_features, self.D.in_features
        device = next(self.G.parameters()).device
        self.use_graph = cuda_graph and device.type == "cuda"
        # capturable=True keeps Adam's step count on the GPU, which a CUDA graph needs; a tensor lr lets
        # set_lr change the rate of a captured step.
        lr_arg = torch.tensor(lr, device=device) if self.use_graph else lr
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr_arg, betas, eps=eps, capturable=self.use_graph)
        lr_arg = torch.tensor(lr, device=device) if self.use_graph else lr
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr_arg, betas, eps=eps, capturable=self.use_graph)
        self._graph: torch.cuda.CUDAGraph | None = None
        self._static: list[torch.Tensor] = []
        self._out: tuple[torch.Tensor, torch.Tensor] | None = None

    def set_lr(self, lr: float) -> None:
        """Set both optimisers' learning rate (e.g. for a linear decay), also inside a captured CUDA graph."""
        for opt in (self.opt_G, self.opt_D):
            for group in opt.param_groups:
                if torch.is_tensor(group["lr"]):
                    group["lr"].fill_(lr)
                else:
                    group["lr"] = lr

    def _check(self, x_real: torch.Tensor, z_D: torch.Tensor, z_G: torch.Tensor) -> None:
        R, m = self.runs, self.pack
        for name, t, f in (("x_real", x_real, self.x_dim), ("z_D", z_D, self.z_dim), ("z_G", z_G, self.z_dim)):
            if t.ndim != 3 or t.shape[0] != R or t.shape[2] != f or t.shape[1] % m != 0:
                raise ValueError(f"{name} must be (R={R}, B·m, {f}) with m={m}, one batch per run; "
                                 f"got {tuple(t.shape)}.")
        if z_D.shape[1] != x_real.shape[1]:
            raise ValueError(f"z_D gives {z_D.shape[1]} fakes per run but x_real has {x_real.shape[1]} reals; "
                             "D sees as many of each.")

    def _eager_step(self, x_real: torch.Tensor, z_D: torch.Tensor,
                    z_G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            x_fake = self.G(z_D)  # (R, B·m, x_dim)
        d_real, d_fake = self.D(x_real).squeeze(-1), self.D(x_fake).squeeze(-1)  # (R, B) each
        # = BCE(d_real, 1) + BCE(d_fake, 0), the PacGAN code's softplus(-D(x)) + softplus(D(G(z))), per run
        loss_D = F.softplus(-d_real).mean(1) + F.softplus(d_fake).mean(1)  # (R,)
        self.opt_D.zero_grad(set_to_none=True)
        loss_D.sum().backward()
        self.opt_D.step()
        self.D.requires_grad_(False)  # the G step needs no gradient for D's weights
        loss_G = F.softplus(-self.D(self.G(z_G)).squeeze(-1)).mean(1)  # (R,) non-saturating -log D(G(z))
        self.opt_G.zero_grad(set_to_none=True)
        loss_G.sum().backward()
        self.opt_G.step()
        self.D.requires_grad_(True)
        return loss_D.detach(), loss_G.detach()

    def step(self, x_real: torch.Tensor, z_D: torch.Tensor, z_G: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One D step and one G step for all R runs; returns (loss_D, loss_G), each (R,)."""
        self._check(x_real, z_D, z_G)
        self.G.train()
        self.D.train()
        if not self.use_graph:
            return self._eager_step(x_real, z_D, z_G)
        if self._graph is None or [t.shape for t in self._static] != [x_real.shape, z_D.shape, z_G.shape]:
            self._capture(x_real, z_D, z_G)
        for buf, t in zip(self._static, (x_real, z_D, z_G), strict=True):
            buf.copy_(t)
        self._graph.replay()
        return self._out[0].clone(), self._out[1].clone()

    def _capture(self, x_real: torch.Tensor, z_D: torch.Tensor, z_G: torch.Tensor) -> None:
        """Warm up on a side stream, restore the weights and Adam state, then record one step as a CUDA graph."""
        self._static = [x_real.clone(), z_D.clone(), z_G.clone()]
        modules = (self.G, self.D)
        saved = [t.detach().clone() for mod in modules for t in (*mod.parameters(), *mod.buffers())]
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):  # Adam creates its state lazily; cuBLAS picks its kernels
                self._eager_step(*self._static)
        torch.cuda.current_stream().wait_stream(stream)
        with torch.no_grad():  # the warm-up steps must not count: back to the state before them
            live = [t for mod in modules for t in (*mod.parameters(), *mod.buffers())]
            for t, s in zip(live, saved, strict=True):
                t.copy_(s)
            for opt in (self.opt_G, self.opt_D):
                for state in opt.state.values():
                    for v in state.values():
                        if torch.is_tensor(v):
                            v.zero_()
        self._graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self._graph):
            self._out = self._eager_step(*self._static)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, train_bn: bool = False) -> torch.Tensor:
        """n points per run from G, (R, n, x_dim); BN uses the running (population) statistics unless train_bn."""
        device = next(self.G.parameters()).device
        src = generator.device if generator is not None else device  # CUDA refuses a CPU generator
        z = torch.randn(self.runs, n, self.z_dim, generator=generator, device=src).to(device)
        self.G.train(train_bn)
        x = self.G(z)
        self.G.train()
        return x


@dataclass
class MixtureRuns:
    """What `train_mixture_runs` returns: per-run samples and mode stats, the loss curves and the trainer."""

    stats: list[ModeStats]
    samples: torch.Tensor  # (R, n_eval, 2) on the CPU
    losses: dict[str, list[list[float]]] = field(default_factory=dict)  # name -> per logged step, R values
    seconds: float = 0.0
    gan: StackedGAN | None = None
    history: list[tuple[int, list[ModeStats]]] = field(default_factory=list)  # (step, per-run stats) if eval_every

    def summary(self) -> dict[str, tuple[float, float]]:
        """Mean and sd over runs of modes, high-quality % and reverse KL."""
        rows = [s.as_row() for s in self.stats]
        out = {}
        for k in rows[0]:
            v = torch.tensor([r[k] for r in rows], dtype=torch.float64)
            out[k] = (float(v.mean()), float(v.std()) if len(v) > 1 else 0.0)
        return out


def train_mixture_runs(mixture: Mixture2D, pack: int = 1, seeds: Sequence[int] = (0, 1, 2), steps: int = 4000,
                       batch: int = 100, lr: float = 1e-4, betas: tuple[float, float] = (0.8, 0.999),
                       z_dim: int = 2, g_width: int = 400, g_layers: int = 4, d_width: int = 200, d_layers: int = 3,
                       pieces: int = 5, n_eval: int = 2500, device: torch.device | str = "cpu",
                       decay_from: float | None = None, cuda_graph: bool = False, log_every: int = 50,
                       eval_every: int = 0, progress: bool = True) -> MixtureRuns:
    """Train one PacGAN-m (pack=1: plain GAN) run per seed on a 2D mixture, all stacked; score 2500 samples each.

    `batch` is D's batch of packed samples, so each step draws batch·m real and batch·m generated points per run.
    A seed fixes its run's initial weights whatever the other seeds; the data and noise of all runs come from one
    generator seeded by the first seed, so a run's batches depend on the whole list. `decay_from` (e.g. 0.5) decays
    the learning rate linearly to 0 from that fraction of the steps on (the paper keeps it constant). Scores follow
    the paper: `n_eval` samples (2,500), high quality within 3 std of the nearest mode; `eval_every` > 0 also scores
    the runs every so many steps (into `history`), off the clock. `cuda_graph` is StackedGAN's, off by default.
    """
    from tqdm.auto import tqdm

    device = torch.device(device)
    Gs, Ds = [], []
    for s in seeds:
        gen = torch.Generator().manual_seed(int(s))
        G = PacMLPGenerator(z_dim, 2, g_width, g_layers)
        D = PacMLPDiscriminator(2, pack, d_width, d_layers, pieces)
        init_normal(G, generator=gen)
        init_normal(D, generator=gen)
        Gs.append(G.to(device))
        Ds.append(D.to(device))
    gan = StackedGAN(Gs, Ds, lr, betas, cuda_graph=cuda_graph)
    R, n = len(seeds), batch * pack
    gen = torch.Generator(device=device).manual_seed(int(seeds[0]))
    eval_gen = torch.Generator(device=device).manual_seed(int(seeds[0]) + 1)  # scoring leaves the data stream alone
    centers = mixture.centers.to(device)
    losses: dict[str, list[list[float]]] = {"loss_D": [], "loss_G": []}
    history: list[tuple[int, list[ModeStats]]] = []

    def score() -> tuple[torch.Tensor, list[ModeStats]]:
        samples = gan.sample(n_eval, generator=eval_gen).cpu()  # (R, n_eval, 2)
        return samples, [mode_stats(x, mixture.centers, mixture.std) for x in samples]

    def draw() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        k = torch.randint(len(centers), (R, n), generator=gen, device=device)  # (R, B·m)
        x_real = centers[k] + mixture.std * torch.randn(R, n, 2, generator=gen, device=device)  # (R, B·m, 2)
        z = torch.randn(2, R, n, z_dim, generator=gen, device=device)  # (2, R, B·m, z_dim)
        return x_real, z[0], z[1]

    bar = tqdm(range(steps), disable=not progress, dynamic_ncols=True, mininterval=1.0,
               desc=f"{mixture.name} m={pack} x{R} runs")
    seconds, t0 = 0.0, time.perf_counter()
    start_decay = steps if decay_from is None else int(decay_from * steps)
    for i in bar:
        if i >= start_decay:
            gan.set_lr(lr * (steps - i) / (steps - start_decay))
        loss_D, loss_G = gan.step(*draw())
        if eval_every > 0 and (i + 1) % eval_every == 0 and i + 1 < steps:
            seconds += time.perf_counter() - t0
            history.append((i + 1, score()[1]))
            t0 = time.perf_counter()
        if (i + 1) % log_every == 0 or i + 1 == steps:
            losses["loss_D"].append(loss_D.tolist())
            losses["loss_G"].append(loss_G.tolist())
            bar.set_postfix(loss_D=f"{sum(losses['loss_D'][-1]) / R:.3f}",
                            loss_G=f"{sum(losses['loss_G'][-1]) / R:.3f}", refresh=False)
    seconds += time.perf_counter() - t0
    samples, stats = score()
    if eval_every > 0:
        history.append((steps, stats))
    return MixtureRuns(stats, samples, losses, seconds, gan, history)
