"""The D step, the G step, and one Trainer with progress, live curves, samples, checkpoints and resume."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_utils.display.viz import plot_losses, show_grid
from gan_utils.losses import d_loss_bce, g_loss_nonsaturating
from gan_utils.train.checkpoints import (
    CHECKPOINT_FILE,
    CheckpointMismatchError,
    load_safe,
    save_atomic,
    set_rng_state,
    training_state,
)
from gan_utils.train.history import History

__all__ = ["CheckpointMismatchError", "History", "NonFiniteLossError", "Trainer", "assert_same_step",
           "train_discriminator", "train_generator"]

LossFn = Callable[..., torch.Tensor]


def train_discriminator(D: nn.Module, G: nn.Module, opt_D: torch.optim.Optimizer, x_real: torch.Tensor,
                        z: torch.Tensor, loss_fn: LossFn = d_loss_bce) -> float:
    """One D update: push D(x_real) up and D(G(z)) down; G is not updated."""
    with torch.no_grad():
        x_fake = G(z)
    loss = loss_fn(D(x_real), D(x_fake))
    opt_D.zero_grad(set_to_none=True)
    loss.backward()
    opt_D.step()
    return loss.item()


def train_generator(D: nn.Module, G: nn.Module, opt_G: torch.optim.Optimizer, z: torch.Tensor,
                    loss_fn: LossFn = g_loss_nonsaturating) -> float:
    """One G update through a fixed D (D's stray gradients are cleared by its own next step)."""
    loss = loss_fn(D(G(z)))
    opt_G.zero_grad(set_to_none=True)
    loss.backward()
    opt_G.step()
    return loss.item()


def assert_same_step(losses: dict[str, float], losses_lib: dict[str, float], models: Sequence[nn.Module],
                     models_lib: Sequence[nn.Module]) -> None:
    """Check that a notebook's step and the library's, run from the same weights on the same batch, agree.

    The promotion check of a training step: the same logged losses (same names, same values) and the same weights
    after the update, compared with torch.allclose. On the CPU the two runs must agree to rounding. A GPU may sum
    in another order from run to run, and Adam's first update turns a flipped sign of a near-zero gradient into a
    weight difference of 2 lr, so there the tolerance is 1e-3.
    """
    if losses.keys() != losses_lib.keys():
        raise AssertionError(f"the steps log different losses: {sorted(losses)} and {sorted(losses_lib)}.")
    params = [p for m in models for p in m.parameters()]
    on_cpu = all(p.device.type == "cpu" for p in params)
    rtol, atol = (1e-5, 1e-6) if on_cpu else (1e-3, 1e-3)
    a = torch.tensor([float(losses[k]) for k in losses])
    b = torch.tensor([float(losses_lib[k]) for k in losses])
    if not torch.allclose(a, b, rtol=rtol, atol=atol):
        raise AssertionError(f"the steps log different values: {dict(losses)} and {dict(losses_lib)}.")
    for i, (m, m_lib) in enumerate(zip(models, models_lib, strict=True)):
        for (name, p), p_lib in zip(m.named_parameters(), m_lib.parameters(), strict=True):
            if not torch.allclose(p, p_lib, rtol=rtol, atol=atol):
                raise AssertionError(f"after one step, parameter {name} of model {i} differs between the two steps.")


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or inf; training stopped before saving the broken weights."""


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class Trainer:
    """Runs `step_fn(step) -> {loss name: value}` for a number of steps, with the course's bookkeeping.

    It shows a tqdm bar with the losses, keeps a History, draws live loss curves and samples in notebooks,
    saves atomic checkpoints (models, optimizers, step, RNG states, history) every `ckpt_every` steps and on
    KeyboardInterrupt, resumes exactly with `fit(..., resume=True)`, and stops on NaN/inf losses.

    `stateful` holds other training state with `state_dict()` / `load_state_dict()` (e.g. a HistoricalAverage);
    `extra_state` holds plain values (numbers, lists, dicts) that hooks update; both go into the checkpoints.
    """

    def __init__(self, models: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                 step_fn: Callable[[int], dict[str, float]], *, ckpt_dir: str | Path | None = None,
                 ckpt_every: int = 1000, sample_fn: Callable[[], torch.Tensor] | None = None,
                 sample_every: int = 500, sample_nrow: int | None = None, plot_every: int | None = None,
                 live: bool | None = None, generators: dict[str, torch.Generator] | None = None,
                 extra_state: dict[str, Any] | None = None,
                 hooks: list[Callable[[Trainer, int, dict[str, float]], None]] | None = None,
                 stateful: dict[str, Any] | None = None) -> None:
        self.models, self.optimizers, self.step_fn = models, optimizers, step_fn
        self.ckpt_path = Path(ckpt_dir) / CHECKPOINT_FILE if ckpt_dir is not None else None
        self.ckpt_every, self.sample_fn, self.sample_every = ckpt_every, sample_fn, sample_every
        self.sample_nrow = sample_nrow
        self.plot_every = plot_every or sample_every
        self.live = _in_notebook() if live is None else live
        self.generators = generators or {}
        self.extra_state = extra_state if extra_state is not None else {}
        self.hooks = list(hooks or [])
        self.stateful = stateful or {}
        self.history = History()
        self.step = 0
        self.seconds = 0.0
        self._display = None

    # -- checkpoints -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The checkpoint dict: models, optimizers, step, time, RNG states, history, extra and stateful objects."""
        return training_state(self.step, self.seconds, self.models, self.optimizers, self.history,
                              self.extra_state, self.stateful, self.generators)

    def save(self) -> Path | None:
        """Write the checkpoint atomically (temp file, then os.replace)."""
        if self.ckpt_path is None:
            return None
        return save_atomic(self.state_dict(), self.ckpt_path)

    def load(self, path: str | Path | None = None) -> bool:
        """Restore models, optimizers, step, RNG states and history from a checkpoint; False if none."""
        path = Path(path) if path is not None else self.ckpt_path
        if path is None or not path.exists():
            return False
        state = load_safe(path)  # on the CPU; load_state_dict places weights and optimizer states on the device
        try:
            for k, m in self.models.items():
                m.load_state_dict(state["models"][k])
            for k, o in self.optimizers.items():
                o.load_state_dict(state["optimizers"][k])
            for k, obj in self.stateful.items():
                obj.load_state_dict(state["stateful"][k])
        except (KeyError, RuntimeError, ValueError) as e:
            raise CheckpointMismatchError(
                f"The checkpoint {path} does not fit these models or optimizers (it was probably saved by an older "
                f"version of the notebook or with other sizes). Delete it, or its folder, to start afresh, or call "
                f"fit(..., resume=False). Details: {str(e).splitlines()[0]}") from e
        set_rng_state(state["rng"], self.generators)
        self.history.load_state_dict(state["history"])
        self.extra_state.update(state.get("extra", {}))
        self.step = int(state["step"])
        self.seconds = float(state.get("seconds", 0.0))
        return True

    # -- the loop ----------------------------------------------------------------------------------
    def fit(self, steps: int, resume: bool = True, progress: bool = True) -> History:
        """Train until `steps` total steps; with resume=True continue from the latest checkpoint if any."""
        from tqdm.auto import tqdm

        if resume and self.load():
            print(f"Resumed from {self.ckpt_path} at step {self.step} "
                  f"({self.seconds / 60:.1f} min of training so far).")
        for m in self.models.values():
            m.train()
        if self.step >= steps:
            print(f"Already trained for {self.step} steps; nothing to do (delete {self.ckpt_path} to retrain).")
            self._draw(final=True)
            return self.history
        if self.sample_fn is not None and not self.history.snapshots:
            self._snapshot()
        bar = tqdm(total=steps, initial=self.step, disable=not progress, dynamic_ncols=True, mininterval=1.0)
        t0 = time.perf_counter()
        try:
            while self.step < steps:
                losses = self.step_fn(self.step)
                self._check_finite(losses)
                self.step += 1
                self.history.append(self.step, losses)
                for hook in self.hooks:
                    hook(self, self.step, losses)
                if self.sample_fn is not None and self.step % self.sample_every == 0:
                    self._snapshot()
                if self.live and self.step % self.plot_every == 0:
                    self._draw()
                if self.ckpt_path is not None and self.step % self.ckpt_every == 0:
                    self.seconds += time.perf_counter() - t0
                    t0 = time.perf_counter()
                    self.save()
                bar.update(1)
                if self.step % 10 == 0 or self.step == steps:
                    bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items()}, refresh=False)
        except KeyboardInterrupt:
            self.seconds += time.perf_counter() - t0
            path = self.save()
            where = f"; checkpoint saved to {path}. Run the cell again to resume" if path else ""
            print(f"Interrupted at step {self.step}{where}.")
            bar.close()
            return self.history
        bar.close()
        self.seconds += time.perf_counter() - t0
        if self.ckpt_path is not None:
            self.save()
        self._draw(final=True)
        return self.history

    def _check_finite(self, losses: dict[str, float]) -> None:
        bad = {k: v for k, v in losses.items() if not math.isfinite(float(v))}
        if bad:
            name, value = next(iter(bad.items()))
            kept = ""
            if self.ckpt_path is not None and self.ckpt_path.exists():
                kept = (f" The last good checkpoint is kept at {self.ckpt_path}; lower the learning rate and "
                        "resume from it, or delete it to start afresh.")
            raise NonFiniteLossError(
                f"Loss {name!r} became {value} at step {self.step + 1}; training stopped before saving the "
                f"broken weights.{kept}"
            )

    @torch.no_grad()
    def _snapshot(self) -> None:
        modes = {k: m.training for k, m in self.models.items()}
        for m in self.models.values():
            m.eval()
        x = self.sample_fn().detach().float().cpu()
        for k, m in self.models.items():
            m.train(modes[k])
        self.history.snapshots.append((self.step, x))

    def shown_samples(self) -> tuple[int, torch.Tensor, int | None]:
        """The latest snapshot as the live panel draws it: (step, images, images per row).

        With `sample_nrow` every image is shown, `sample_nrow` per row (so a grid of one class per row stays one
        class per row); without it, the first 64 in a square.
        """
        step, x = self.history.snapshots[-1]
        return step, (x if self.sample_nrow else x[:64]), self.sample_nrow

    def _draw(self, final: bool = False) -> None:
        if not self.live or not self.history.steps:
            return
        import matplotlib.pyplot as plt
        from IPython.display import display

        has_samples = bool(self.history.snapshots)
        fig, axes = plt.subplots(1, 2 if has_samples else 1, figsize=(11 if has_samples else 6, 3.6))
        axes = axes if has_samples else [axes]
        plot_losses(self.history, ax=axes[0])
        if has_samples:
            step, x, nrow = self.shown_samples()
            show_grid(x, nrow=nrow, ax=axes[1], title=f"samples at fixed z, step {step}")
        fig.tight_layout()
        if self._display is None:
            self._display = display(fig, display_id=True)
        else:
            self._display.update(fig)
        plt.close(fig)
