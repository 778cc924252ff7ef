"""gan_utils on a GPU, checked on a CPU-only machine: every helper the notebooks call runs on fake CUDA tensors.

torch's FakeTensorMode gives tensors a device and a shape but no data, so `device="cuda"` works without a GPU,
and an op that meets a CPU tensor and a fake CUDA one raises FakeTensorDeviceMismatchError, as CUDA would.
`fake_cuda()` adds what fake tensors lack, each with a stand-in that keeps the devices honest:
- `DeviceRules`, a dispatch mode that records every float64 tensor made on a non-CPU device (MPS has no float64,
  so the course keeps float64 on the CPU) and every random draw whose generator lives on another device than
  the tensor it fills (CUDA refuses that; fake tensors do not);
- answers to data-dependent questions: `.item()`/`int()`/`float()` give 1 (False for a bool, so that validation
  checks pass), every boolean mask selects everything, `unique` finds one value, `bincount` counts nothing;
- `.numpy()` raises for a tensor off the CPU (or one that needs grad), as torch does, and gives zeros otherwise;
- `.backward()` gives every leaf of the graph a zero gradient on the leaf's own device: fake CUDA autograd needs a
  CUDA context, so the backward pass itself is torch's business and not checked here; the optimiser steps are.
Three shims keep the fake mode itself working here: Module.to may swap fake parameters, deepcopy clones fake
tensors (torch's default copies their storage), and nothing is computed on a real GPU even if a backend is registered.
The numbers that come out are meaningless; what is checked is that each function runs to its end on the device,
so the float64 rule (MPS) and the device rules hold in every fake test below. The checkpoint tests run on real CPU
tensors, with "meta" standing in for the GPU a checkpoint might be mapped to.
What only a GPU run shows: kernels that exist on CPU but not on CUDA/MPS, speed, numerical agreement, CUDA graphs.
"""

from __future__ import annotations

import contextlib
import inspect
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensor, FakeTensorDeviceMismatchError, FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import gan_utils.train.checkpoints as ckpt  # noqa: E402
from gan_utils import losses  # noqa: E402
from gan_utils.data.base import ImageSet  # noqa: E402
from gan_utils.data.pairs import LabelledPairs, colorize, ids_from_colors  # noqa: E402
from gan_utils.data.sets import ClipSet, PairedSet, UnpairedSet, VoxelSet  # noqa: E402
from gan_utils.data.synthetic import ring8  # noqa: E402
from gan_utils.metrics import classifier as clf_mod  # noqa: E402
from gan_utils.metrics import (  # noqa: E402
    diversity,
    fid_is,
    matching,
    mixtures,
    probe,
    segmentation,
    stacked,
    strokes,
    temporal,
    voxels,
)
from gan_utils.models import (  # noqa: E402
    acgan,
    biggan,
    cgan,
    cyclegan,
    dcgan,
    gan3d,
    improved,
    infogan,
    pacgan,
    pix2pix,
    pix2pixhd,
    vanilla,
    vid2vid,
)
from gan_utils.nn import blocks3d, conditioning, minibatch, normalization, translation  # noqa: E402
from gan_utils.nn.init import weights_init  # noqa: E402
from gan_utils.nn.warp import warp  # noqa: E402
from gan_utils.train import distributed  # noqa: E402
from gan_utils.train.history import History  # noqa: E402
from gan_utils.train.seed_runs import StackedGAN, train_mixture_runs  # noqa: E402
from gan_utils.train.trainer import Trainer, train_discriminator, train_generator  # noqa: E402

aten = torch.ops.aten
CUDA = torch.device("cuda", 0)


# --------------------------------------------------------------------------- the fake-CUDA harness


def _first_only(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1)[:1].clone()


def _all_true_indices(mask: torch.Tensor) -> list[torch.Tensor]:
    """The index tensors an all-True boolean mask of this shape selects (one per mask dimension)."""
    grids = torch.meshgrid(*[torch.arange(n, device=mask.device) for n in mask.shape], indexing="ij")
    return [g.reshape(-1) for g in grids]


def _expand_bool_indices(indices: list[torch.Tensor | None]) -> list[torch.Tensor | None]:
    out: list[torch.Tensor | None] = []
    for idx in indices:
        if idx is not None and idx.dtype == torch.bool:
            out += _all_true_indices(idx)
        else:
            out.append(idx)
    return out


class DeviceRules(TorchDispatchMode):
    """Inside FakeTensorMode: records device faults and answers the questions only real data can answer."""

    def __init__(self) -> None:
        super().__init__()
        self.faults: list[str] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        stand_in = self._stand_in(func, args, kwargs)
        out = stand_in if stand_in is not None else func(*args, **kwargs)
        tensors = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        for t in tensors:
            if t.dtype == torch.float64 and t.device.type != "cpu":
                self.faults.append(f"float64 on {t.device} made by {func}")
        gen = kwargs.get("generator")
        if gen is not None:
            for t in tensors:
                if t.device.type != gen.device.type:
                    self.faults.append(f"a {gen.device.type} generator draws {func} on {t.device}")
        return out

    @staticmethod
    def _stand_in(func: Any, args: tuple, kwargs: dict) -> Any:
        if func is aten._local_scalar_dense.default:
            dtype = args[0].dtype
            return False if dtype == torch.bool else (1.0 if dtype.is_floating_point or dtype.is_complex else 1)
        if func is aten.nonzero.default:
            return torch.stack(_all_true_indices(args[0]), 1)
        if func is aten.index.Tensor:
            return func(args[0], _expand_bool_indices(list(args[1])))
        if func in (aten.index_put.default, aten.index_put_.default):
            return func(args[0], _expand_bool_indices(list(args[1])), *args[2:], **kwargs)
        if func is aten.masked_select.default:
            x, mask = torch.broadcast_tensors(args[0], args[1])
            return x.reshape(-1).clone()
        if func is aten.bincount.default:
            x = args[0]
            weights = args[1] if len(args) > 1 else kwargs.get("weights")
            n = max(int(args[2] if len(args) > 2 else kwargs.get("minlength", 0)), 1)
            return torch.zeros(n, dtype=weights.dtype if weights is not None else torch.long, device=x.device)
        if func in (aten._unique2.default, aten.unique_consecutive.default):
            x = args[0]
            return (_first_only(x), torch.zeros(x.shape, dtype=torch.long, device=x.device),
                    torch.full((1,), x.numel(), dtype=torch.long, device=x.device))
        if func is aten.unique_dim.default:
            x, dim = args[0], args[1]
            n = x.shape[dim]
            return (x.narrow(dim, 0, 1).clone(), torch.zeros(n, dtype=torch.long, device=x.device),
                    torch.full((1,), n, dtype=torch.long, device=x.device))
        return None

    def assert_clean(self) -> None:
        assert not self.faults, "device faults:\n" + "\n".join(dict.fromkeys(self.faults))


_real_numpy, _real_tolist, _real_backward = torch.Tensor.numpy, torch.Tensor.tolist, torch.Tensor.backward


def _numpy(self: torch.Tensor, *, force: bool = False) -> np.ndarray:
    if not isinstance(self, FakeTensor):
        return _real_numpy(self, force=force)
    if self.device.type != "cpu":
        raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy the "
                        "tensor to host memory first.")
    if self.requires_grad and not force:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    return np.zeros(tuple(self.shape), dtype=_NUMPY_DTYPES.get(self.dtype, np.float32))


_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16,
                 torch.uint8: np.uint8, torch.int8: np.int8, torch.int16: np.int16, torch.int32: np.int32,
                 torch.int64: np.int64, torch.bool: np.bool_}


def _tolist(self: torch.Tensor) -> Any:
    if not isinstance(self, FakeTensor):
        return _real_tolist(self)
    return np.zeros(tuple(self.shape), dtype=_NUMPY_DTYPES.get(self.dtype, np.float32)).tolist()


def _deepcopy(self: torch.Tensor, memo: dict[int, Any]) -> torch.Tensor:
    # Tensor.__deepcopy__ copies a fake tensor's storage into a real one, which corrupts memory; a clone is a copy.
    if id(self) not in memo:
        new = self.detach().clone().requires_grad_(self.requires_grad)
        if getattr(self, "_is_param", False):
            new._is_param = True  # a Parameter made from a fake tensor is marked, not subclassed
        memo[id(self)] = new
    return memo[id(self)]


def _graph_leaves(root: Any) -> list[torch.Tensor]:
    leaves, seen, todo = [], set(), [root]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, "variable"):
            leaves.append(node.variable)
        todo += [n for n, _ in node.next_functions]
    return leaves


def _backward(self: torch.Tensor, gradient: torch.Tensor | None = None, retain_graph: bool | None = None,
              create_graph: bool = False, inputs: Any = None) -> None:
    if not isinstance(self, FakeTensor):
        return _real_backward(self, gradient, retain_graph, create_graph, inputs)
    if gradient is None and self.numel() != 1:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    if self.grad_fn is None:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    for p in (list(inputs) if inputs is not None else _graph_leaves(self.grad_fn)):
        p.grad = torch.zeros_like(p) if p.grad is None else p.grad + 0
    return None


@contextlib.contextmanager
def fake_cuda() -> Iterator[DeviceRules]:
    """Run the body with fake tensors, where device="cuda" works without a GPU; fail on any device fault."""
    mode, rules = FakeTensorMode(allow_non_fake_inputs=True), DeviceRules()
    swap = torch.utils.swap_tensors

    def swap_tensors(t1: torch.Tensor, t2: torch.Tensor) -> None:
        # The fake mode's memo holds weak references to the tensors it made, which swap_tensors (Module.to on
        # fake parameters) refuses; dropping the memo entries only costs the mode its cache.
        memo = mode.fake_tensor_converter.tensor_memo
        for key in [k for k, v in list(memo.items()) if v is t1 or v is t2]:
            del memo[key]
        swap(t1, t2)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.utils, "swap_tensors", swap_tensors)
        # Without a GPU nothing may run on one: a registered private backend would otherwise make the fake mode
        # compute small constants on the real device.
        mp.setattr(FakeTensorMode, "avoid_device_init", property(lambda self: True))
        mp.setattr(torch.Tensor, "numpy", _numpy)
        mp.setattr(torch.Tensor, "tolist", _tolist)
        mp.setattr(torch.Tensor, "backward", _backward)
        mp.setattr(FakeTensor, "__deepcopy__", _deepcopy)
        with mode, rules:
            yield rules
    rules.assert_clean()


def cuda_labels(n: int, k: int) -> torch.Tensor:
    return torch.randint(0, k, (n,), device=CUDA)


def cpu_gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


# --------------------------------------------------------------------------- the harness itself


def test_a_cpu_tensor_meeting_a_cuda_one_raises() -> None:
    with pytest.raises(FakeTensorDeviceMismatchError), fake_cuda():
        G = vanilla.MLPGenerator(z_dim=8, hidden=(16,)).to(CUDA)
        G(torch.randn(4, 8))  # z left on the CPU


def test_the_rules_record_float64_and_generators_on_another_device() -> None:
    with pytest.raises(AssertionError, match="float64 on cuda:0") as err, fake_cuda():
        torch.ones(3, device=CUDA).double()
        torch.randn(3, generator=cpu_gen(), device=CUDA)
    assert "a cpu generator draws" in str(err.value)


def test_the_stand_ins_reach_the_end_of_data_dependent_code() -> None:
    with fake_cuda():
        x = torch.randn(5, 3, device=CUDA)
        assert x[x > 0].shape == (15,) and x.nonzero().shape == (15, 2)
        assert torch.bincount(torch.zeros(4, dtype=torch.long, device=CUDA), minlength=7).shape == (7,)
        assert float(x.sum()) == 1.0 and not bool((x > 0).any())
        assert x.detach().cpu().numpy().shape == (5, 3)
        with pytest.raises(TypeError, match="can't convert cuda"):
            x.numpy()


# --------------------------------------------------------------------------- checkpoints and resume


class _OnDevice:
    """A tensor held on a GPU, as a checkpoint mapped to the model's device returns it: .cpu() gives the data."""

    def __init__(self, t: torch.Tensor) -> None:
        self.t, self.device = t, CUDA

    def cpu(self) -> torch.Tensor:
        return self.t

    def numpy(self) -> np.ndarray:
        raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() first.")


def _on_device(state: Any) -> Any:
    if isinstance(state, torch.Tensor):
        return _OnDevice(state)
    if isinstance(state, dict):
        return {k: _on_device(v) for k, v in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(_on_device(v) for v in state)
    return state


def test_set_rng_state_restores_states_that_sit_on_a_device() -> None:
    gen = cpu_gen(3)
    saved = ckpt.rng_state({"data": gen})
    expected = (random.random(), np.random.rand(), torch.rand(2), torch.rand(2, generator=gen))
    ckpt.set_rng_state(_on_device(saved), {"data": gen})
    again = (random.random(), np.random.rand(), torch.rand(2), torch.rand(2, generator=gen))
    assert expected[:2] == again[:2] and torch.equal(expected[2], again[2]) and torch.equal(expected[3], again[3])


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every map_location torch.load is called with; a non-CPU one lands on "meta", as a GPU's would land there."""
    seen: list[Any] = []
    real_load = torch.load

    def load(f: Any, map_location: Any = None, **kwargs: Any) -> Any:
        seen.append(map_location)
        if map_location is None or torch.device(map_location).type == "cpu":
            return real_load(f, map_location=map_location, **kwargs)
        state = real_load(f, map_location="cpu", **kwargs)
        return tree_map(lambda t: t.to("meta") if isinstance(t, torch.Tensor) else t, state)

    monkeypatch.setattr(torch, "load", load)
    return seen


def _tiny_models(device: str | torch.device = "cpu") -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)).to(device)
    D = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).to(device)
    return G, D


def _resumable(ckpt_dir: Path | None, seed: int = 0) -> tuple[Trainer, improved.HistoricalAverage]:
    """A run with a named generator, a historical average and an image pool, all of which must resume exactly."""
    G, D = _tiny_models()
    torch.manual_seed(seed)
    opt_G, opt_D = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    ha, pool, gen = improved.HistoricalAverage(D), cyclegan.ImagePool(4, seed=1), cpu_gen(7)

    def step(i: int) -> dict[str, float]:
        x_real = torch.randn(8, 2, generator=gen) + 3
        x_fake = pool.query(G(torch.randn(8, 4)).unsqueeze(-1).unsqueeze(-1)).flatten(1)
        loss_D = losses.d_loss_bce(D(x_real), D(x_fake)) + 0.1 * ha.penalty()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        ha.update()
        return {"loss_D": loss_D.item(), "loss_G": train_generator(D, G, opt_G, torch.randn(8, 4))}

    trainer = Trainer({"G": G, "D": D}, {"G": opt_G, "D": opt_D}, step, ckpt_dir=ckpt_dir, ckpt_every=3,
                      live=False, generators={"data": gen}, stateful={"ha": ha, "pool": pool})
    return trainer, ha


def test_a_resumed_trainer_loads_to_the_cpu_and_gives_the_same_losses(tmp_path: Path, loads: list[Any]) -> None:
    straight, _ = _resumable(None)
    straight.fit(8, progress=False)
    _resumable(tmp_path)[0].fit(5, progress=False)
    torch.manual_seed(123)
    np.random.seed(5)  # resume must restore every RNG, whatever ran in between
    resumed, _ = _resumable(tmp_path, seed=9)
    resumed.fit(8, progress=False)
    assert loads and all(torch.device(m).type == "cpu" for m in loads)
    assert resumed.history.losses == straight.history.losses


@pytest.mark.filterwarnings("ignore:.*to a meta parameter")
def test_a_trainer_on_a_device_restores_the_rng_states(tmp_path: Path, loads: list[Any]) -> None:
    G, D = _tiny_models()
    opt = torch.optim.Adam(G.parameters(), 1e-3)
    gen = cpu_gen(1)
    writer = Trainer({"G": G, "D": D}, {"G": opt}, lambda i: {"loss": 0.0}, ckpt_dir=tmp_path, live=False,
                     generators={"data": gen})
    writer.save()
    expected = (random.random(), np.random.rand(), torch.rand(3), torch.rand(3, generator=gen))
    G_dev, D_dev = _tiny_models("meta")  # a model on a device other than the CPU: meta stands in for CUDA here
    reader = Trainer({"G": G_dev, "D": D_dev}, {"G": torch.optim.Adam(G_dev.parameters(), 1e-3)},
                     lambda i: {"loss": 0.0}, ckpt_dir=tmp_path, live=False, generators={"data": gen})
    torch.manual_seed(77)
    assert reader.load()
    again = (random.random(), np.random.rand(), torch.rand(3), torch.rand(3, generator=gen))
    assert expected[:2] == again[:2] and torch.equal(expected[2], again[2]) and torch.equal(expected[3], again[3])
    assert next(G_dev.parameters()).device.type == "meta"  # load_state_dict placed the weights
    assert all(torch.device(m).type == "cpu" for m in loads)


@pytest.mark.filterwarnings("ignore:.*to a meta parameter")
def test_every_checkpoint_reader_loads_to_the_cpu(tmp_path: Path, loads: list[Any]) -> None:
    import gan_utils.scripts.train_biggan as tb
    import gan_utils.scripts.train_pix2pixhd as tp

    G, _ = _tiny_models()
    Trainer({"G": G}, {}, lambda i: {}, ckpt_dir=tmp_path / "run", live=False).save()
    torch.save({"extra": {"arch": {"a": 1}}}, tmp_path / "p2p.pt")
    data = ImageSet(torch.zeros(10, 1, 28, 28, dtype=torch.uint8), torch.arange(10) % 2, "tiny", "synthetic", "",
                    ("a", "b"))
    model = clf_mod.DomainClassifier(1, 2, 28)
    torch.save({"model": model.state_dict(), "config": model.config, "accuracy": 0.5, "n_holdout": 2},
               clf_mod.classifier_cache_path(data, tmp_path, epochs=1))
    readers: dict[str, Any] = {  # each on a model that sits on a device ("meta" here)
        "load_module": lambda: ckpt.load_module(tmp_path / "run", "G", _tiny_models("meta")[0]),
        "get_domain_classifier": lambda: clf_mod.get_domain_classifier(data, tmp_path, epochs=1, device="meta"),
        "train_biggan": lambda: tb._load_checkpoint(tmp_path / "run" / "latest.pt", {}),
        "train_pix2pixhd": lambda: tp._load_checkpoint(tmp_path / "p2p.pt", {"a": 1}),
    }
    for name, read in readers.items():
        loads.clear()
        read()
        assert len(loads) == 1 and torch.device(loads[0]).type == "cpu", f"{name} loads to {loads}"


def test_resumed_stateful_objects_follow_their_models_device() -> None:
    with fake_cuda():
        D = dcgan.DCGANDiscriminator(ndf=8).to(CUDA)
        ha = improved.HistoricalAverage(D)
        ha.update()
        state = {"count": 1, "avg": {k: v.cpu() for k, v in ha.state_dict()["avg"].items()}}  # as loaded from disk
        ha.load_state_dict(state)
        ha.penalty()
        ha.update()
        pool = cyclegan.ImagePool(4)
        pool.load_state_dict({"pool_size": 4, "images": torch.zeros(2, 3, 8, 8), "generator": cpu_gen().get_state()})
        pool.query(torch.randn(3, 3, 8, 8, device=CUDA))
        assert pool.state_dict()["images"].device.type == "cpu"


# --------------------------------------------------------------------------- stacked runs (notebook 08)


def test_cuda_graphs_are_off_by_default() -> None:
    assert inspect.signature(StackedGAN).parameters["cuda_graph"].default is False
    assert inspect.signature(train_mixture_runs).parameters["cuda_graph"].default is False


def test_stacked_gan_steps_and_samples_on_cuda() -> None:
    with fake_cuda():
        Gs = [pacgan.PacMLPGenerator(2, 2, 16, 2).to(CUDA) for _ in range(3)]
        Ds = [pacgan.PacMLPDiscriminator(2, 2, 16, 2, 3).to(CUDA) for _ in range(3)]
        gan = StackedGAN(Gs, Ds)
        loss_D, loss_G = gan.step(torch.randn(3, 8, 2, device=CUDA), torch.randn(3, 8, 2, device=CUDA),
                                  torch.randn(3, 8, 2, device=CUDA))
        assert loss_D.device == CUDA and loss_G.shape == (3,)
        gan.set_lr(1e-5)
        x = gan.sample(10, generator=cpu_gen())
        assert x.device == CUDA
        ring = ring8()
        stats = [mixtures.mode_stats(s, ring.centers, ring.std) for s in gan.sample(10).cpu()]
        gan.G.export(0, Gs[0])
        assert len(stats) == 3


# --------------------------------------------------------------------------- metrics


def _classifier(channels: int = 1, size: int = 28) -> clf_mod.DomainClassifier:
    return clf_mod.DomainClassifier(channels, 10, size).to(CUDA)


def test_fid_and_inception_score_keep_float64_on_the_cpu() -> None:
    with fake_cuda():
        clf = _classifier()
        real, fake = torch.randn(12, 1, 28, 28, device=CUDA), torch.randint(0, 256, (12, 1, 28, 28), device=CUDA,
                                                                              dtype=torch.uint8)
        fid_is.domain_fid(real, fake, clf, batch=5)
        fid_is.domain_inception_score(fake, clf, splits=2, batch=5)
        log_p = fid_is.classifier_log_probs(real, clf)
        assert log_p.device.type == "cpu" and log_p.dtype == torch.float64
        fid_is.fid_from_features(torch.randn(6, 4, device=CUDA), torch.randn(6, 4, device=CUDA))
        fid_is.inception_score_from_log_probs(torch.randn(6, 10, device=CUDA).log_softmax(1), splits=2)
        fid_is.conditional_accuracy(real, torch.arange(12) % 10, clf)
        fid_is.confident_fraction(real, clf)


def test_standard_fid_runs_inception_on_the_device_and_sums_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    class StandIn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 2048)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.dtype == torch.uint8 and x.shape[1] == 3
            return self.fc(x.float().mean((2, 3)))

    monkeypatch.setattr(fid_is, "_standard_fid_problem", lambda: None)
    with fake_cuda():
        monkeypatch.setattr(fid_is, "_inception_network", StandIn)
        fid_is.standard_fid(torch.rand(6, 1, 32, 32, device=CUDA) * 2 - 1, torch.rand(6, 3, 32, 32, device=CUDA),
                            batch=4)


def test_diversity_on_cuda() -> None:
    with fake_cuda():
        x = torch.rand(8, 3, 32, 32, device=CUDA) * 2 - 1
        assert diversity.ms_ssim(x, x.flip(0)).device == CUDA
        diversity.mean_pairwise_ms_ssim(x, n_pairs=10)


def test_domain_classifier_trains_and_scores_on_cuda() -> None:
    with fake_cuda():
        images = torch.randint(0, 256, (20, 1, 28, 28), dtype=torch.uint8, device=CUDA)
        data = ImageSet(images, cuda_labels(20, 10), "tiny", "synthetic", "", tuple("0123456789"))
        assert clf_mod.random_shift(data.to_float(), 2, cpu_gen()).device == CUDA
        model, _ = clf_mod.train_classifier(data, data, epochs=1, batch=8, progress=False)
        clf_mod.accuracy(model, data, batch=7)


def test_segmentation_scores_on_cuda() -> None:
    with fake_cuda():
        net = segmentation.SegNet(4, width=4, depth=2).to(CUDA)
        photos, ids = torch.rand(6, 3, 16, 16, device=CUDA), torch.randint(0, 4, (6, 1, 16, 16), device=CUDA)
        segmentation.train_segmenter(net, photos, ids, steps=2, batch_size=2, ignore_index=0, generator=cpu_gen())
        pred = segmentation.segment(net, photos, batch_size=4)  # ids on the CPU
        segmentation.segmentation_scores(pred, ids[:, 0], 4, ignore_index=0)  # against ids on the device
        segmentation.segmentation_scores(ids[:, 0], ids[:, 0], 4)
        segmentation.class_accuracy(net(photos), ids[:, 0], 4)


def test_matching_mixtures_and_stacked_modes_on_cuda() -> None:
    with fake_cuda():
        codes, labels = cuda_labels(30, 10), cuda_labels(30, 10)
        matching.matched_accuracy(codes, labels, 10, 10)
        matching.confusion(codes, labels, 10, 10)
        ring = ring8()
        mixtures.mode_stats(torch.randn(50, 2, device=CUDA), ring.centers, ring.std)
        mixtures.mode_stats(torch.randn(50, 2), ring.centers.to(CUDA), ring.std)
        stacked.stacked_modes(torch.rand(9, 3, 28, 28, device=CUDA), _classifier(), batch=4)


def test_stroke_lean_on_cuda() -> None:
    with fake_cuda():
        lean, ink = strokes.lean_and_ink(torch.rand(4, 1, 28, 28, device=CUDA) * 2 - 1)
        assert lean.device.type == "cuda" and ink.shape == (4,)


def test_temporal_and_voxel_metrics_on_cuda() -> None:
    with fake_cuda():
        frames = torch.randint(0, 256, (3, 3, 16, 16), dtype=torch.uint8, device=CUDA)
        flow, valid = torch.randn(2, 2, 16, 16, device=CUDA), torch.ones(2, 1, 16, 16, device=CUDA)
        temporal.warp_errors(frames, flow, valid)
        temporal.warp_error(frames, flow)
        conf = temporal.flow_confidence(frames, flow)
        temporal.endpoint_error(flow, flow.flip(0), conf)
        assert temporal.tvl1_flows(frames, None, num_iter=1, num_warp=1).device == CUDA
        a, b = torch.rand(5, 1, 8, 8, 8, device=CUDA), torch.rand(7, 1, 8, 8, 8, device=CUDA)
        voxels.voxel_iou(a, a.flip(0))
        voxels.pairwise_iou(a, b)
        voxels.nearest_iou(a, b, chunk=2)


def test_linear_probe_on_cuda_features() -> None:
    with fake_cuda():
        y = cuda_labels(30, 3)
        train, test = probe.stratified_split(y)
        f = torch.randn(30, 2, 4, device=CUDA)
        probe.linear_probe(f[train], y[train], f[test], y[test], max_iter=3)


# --------------------------------------------------------------------------- each paper's models, losses and steps


def _gan_step(G: nn.Module, D: nn.Module, x_real: torch.Tensor, z: torch.Tensor) -> None:
    opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    train_discriminator(D, G, opt_D, x_real, z)
    train_generator(D, G, opt_G, z)


def test_vanilla_cgan_and_dcgan_on_cuda() -> None:
    with fake_cuda():
        G, D = vanilla.MLPGenerator(16, hidden=(32,)).to(CUDA), vanilla.MLPDiscriminator(hidden=(32,)).to(CUDA)
        _gan_step(G, D, torch.rand(4, 1, 28, 28, device=CUDA), torch.randn(4, 16, device=CUDA))
        vanilla.mlp((2, 8, 1)).to(CUDA)(torch.randn(3, 2, device=CUDA))
        y = cuda_labels(4, 10)
        Gc, Dc = cgan.ConditionalGenerator(16, hidden=(32,)).to(CUDA), cgan.ConditionalDiscriminator().to(CUDA)
        losses.d_loss_bce(Dc(Gc(torch.randn(4, 16, device=CUDA), y), y), Dc(torch.rand(4, 1, 28, 28, device=CUDA), y),
                          real_label=0.9)
        Dp = cgan.ProjectionDiscriminator(hidden=(32, 16)).to(CUDA)
        losses.d_loss_bce(Dp(torch.rand(4, 1, 28, 28, device=CUDA), y), Dp(Gc(torch.randn(4, 16, device=CUDA), y), y))
        for size, ch in ((28, 1), (32, 3)):
            Gd = dcgan.DCGANGenerator(16, ch, size, ngf=8, n_classes=10, embed_dim=4).to(CUDA)
            Dd = dcgan.DCGANDiscriminator(ch, size, ndf=8, n_classes=10).to(CUDA)
            x = Gd(torch.randn(4, 16, device=CUDA), y)
            losses.g_loss_saturating(Dd(x, y)) + losses.g_loss_nonsaturating(Dd(x, y))


def test_infogan_on_cuda() -> None:
    with fake_cuda():
        G = infogan.InfoGANGenerator(16 + 10 + 2, fc=32, ngf=8).to(CUDA)
        D = infogan.InfoGANDiscriminator(ndf=8, fc=32).to(CUDA)
        Q = infogan.QHead(32, learn_std=True).to(CUDA)
        for gen in (None, cpu_gen()):
            z, c, cc = infogan.sample_latent(4, 16, generator=gen, device=CUDA)
            assert z.device == c.device == cc.device == CUDA
        f = D.features(G(infogan.latent_input(z, c, cc)))
        q = Q(f)
        losses.info_loss(q.cat_logits, c, q.cont_mean, cc, cont_log_std=q.cont_log_std) + D.from_features(f).mean()


def test_improved_techniques_on_cuda() -> None:
    with fake_cuda():
        D = improved.ImprovedDiscriminator(ndf=8, minibatch_kernels=5, n_outputs=10).to(CUDA)
        x = torch.rand(6, 1, 28, 28, device=CUDA)
        losses.semi_supervised_d_loss(D(x), cuda_labels(6, 10), D(x), D(x))
        losses.feature_matching(D.features(x), D.features(x.flip(0)), reduction="sum")
        G = dcgan.DCGANGenerator(16, ngf=8).to(CUDA)
        improved.replace_bn_with_vbn(G)
        normalization.vbn_reference_pass(G, torch.randn(4, 16, device=CUDA))
        G(torch.randn(3, 16, device=CUDA))
        D_ssl, G_ssl = improved.SSLDiscriminator(hidden=(32, 16)).to(CUDA), improved.SSLGenerator(16, (32,)).to(CUDA)
        D_ssl.data_init(torch.rand(8, 784, device=CUDA))
        opt_D, opt_G = torch.optim.Adam(D_ssl.parameters()), torch.optim.Adam(G_ssl.parameters())
        ema = improved.ssl_ema(D_ssl)
        y = cuda_labels(20, 10)
        lab = improved.draw_labels(y, 1, seed=0)
        x_lab = torch.rand(20, 1, 28, 28, device=CUDA)[lab]
        improved.ssl_step(D_ssl, G_ssl, opt_D, opt_G, x_lab, y[lab], torch.rand(4, 784, device=CUDA), D_ema=ema)
        improved.supervised_step(D_ssl, opt_D, x_lab, y[lab], D_ema=ema)
        improved.ssl_accuracy(ema, torch.rand(9, 784, device=CUDA), cuda_labels(9, 10), batch=4)


def test_acgan_on_cuda() -> None:
    with fake_cuda():
        G, D = acgan.ACGANGenerator(ngf=8).to(CUDA), acgan.ACGANDiscriminator(ndf=8).to(CUDA)
        y = cuda_labels(4, 10)
        s_real, c_real = D(torch.rand(4, 3, 32, 32, device=CUDA))
        s_fake, c_fake = D(G(torch.randn(4, 100, device=CUDA), y))
        acgan.d_loss(s_real, c_real, y, s_fake, c_fake, y) + acgan.g_loss(s_fake, c_fake, y, saturating=True)


def test_3dgan_and_its_vae_on_cuda() -> None:
    with fake_cuda():
        G, D = gan3d.VoxelGenerator(16, size=32, ngf=4).to(CUDA), gan3d.VoxelDiscriminator(32, ndf=4).to(CUDA)
        x_fake = G(torch.randn(3, 16, device=CUDA))
        gan3d.pooled_features(D, x_fake)
        opt_D = torch.optim.Adam(D.parameters())
        gan3d.d_step_gated(D, opt_D, torch.rand(3, 1, 32, 32, 32, device=CUDA), x_fake)
        E = gan3d.ImageEncoder(16, size=32, nef=4).to(CUDA)
        mu, logvar = E(torch.rand(3, 1, 32, 32, device=CUDA))
        for gen in (None, cpu_gen()):
            z = gan3d.reparameterize(mu, logvar, generator=gen)
        gan3d.kl_loss(mu, logvar) + gan3d.recon_loss(G(z), torch.rand(3, 1, 32, 32, 32, device=CUDA))
        blocks3d.up3d(4, 2, norm=False).to(CUDA)(torch.randn(1, 4, 4, 4, 4, device=CUDA))


def test_pacgan_on_cuda() -> None:
    with fake_cuda():
        G = pacgan.PacMLPGenerator(width=16, layers=2).to(CUDA)
        D = pacgan.PacMLPDiscriminator(pack=2, width=16).to(CUDA)
        pacgan.init_normal(G, generator=cpu_gen())
        _gan_step(G, D, torch.randn(8, 2, device=CUDA), torch.randn(8, 2, device=CUDA))
        Dp = pacgan.PacDCGANDiscriminator(pack=2, ndf=8).to(CUDA)
        Dp(dcgan.DCGANGenerator(16, channels=3, ngf=8).to(CUDA)(torch.randn(4, 16, device=CUDA)))


def test_pix2pix_on_cuda() -> None:
    with fake_cuda():
        G = pix2pix.UnetGenerator(3, 3, n_down=5, ngf=4).to(CUDA)
        D = translation.PatchDiscriminator(6, 4, n_layers=2).to(CUDA)
        x, y = torch.rand(2, 3, 32, 32, device=CUDA), torch.rand(2, 3, 32, 32, device=CUDA)
        y_fake = G(x)
        losses.g_loss_pix2pix(D(torch.cat([x, y_fake], 1)), y_fake, y)
        opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
        pix2pix.train_step(G, D, opt_G, opt_D, x, y)
        pix2pix.train_step(G, None, opt_G, None, x, y)


def test_cyclegan_on_cuda() -> None:
    with fake_cuda():
        x, y = torch.rand(1, 3, 32, 32, device=CUDA), torch.rand(1, 3, 32, 32, device=CUDA)
        R = translation.ResnetGenerator(3, 3, ngf=4, n_blocks=2).to(CUDA)
        F_ = translation.PatchDiscriminator(3, 4, n_layers=0, norm="instance").to(CUDA)
        pool = cyclegan.ImagePool(2)
        losses.d_loss_lsgan(F_(y), F_(pool.query(R(x)))) + losses.g_loss_lsgan(F_(R(x)))
        losses.cycle_loss(x, R(R(x))) + losses.identity_loss(y, R(y))
        pool.query(R(y))
        pool.load_state_dict(pool.state_dict())
        opt = torch.optim.Adam(R.parameters())
        sched = cyclegan.linear_decay(opt, 1, 2)
        opt.step()
        sched.step()
        G, F2 = (translation.ResnetGenerator(3, 3, ngf=4, n_blocks=1).to(CUDA) for _ in range(2))
        D_Y, D_X = (translation.PatchDiscriminator(3, 4, 2, "instance").to(CUDA) for _ in range(2))
        opt_G = torch.optim.Adam([*G.parameters(), *F2.parameters()])
        opt_D = torch.optim.Adam([*D_Y.parameters(), *D_X.parameters()])
        pools = cyclegan.ImagePool(2, seed=0), cyclegan.ImagePool(2, seed=1)
        cyclegan.train_step(G, F2, D_Y, D_X, opt_G, opt_D, *pools, x, y,
                            schedulers=(cyclegan.linear_decay(opt_G, 1, 2), cyclegan.linear_decay(opt_D, 1, 2)))


def test_pix2pixhd_on_cuda() -> None:
    from gan_utils.scripts.train_pix2pixhd import prepare_batch

    with fake_cuda():
        K, H, W = 5, 32, 64
        ids = torch.randint(0, K, (2, 1, H, W), device=CUDA)
        inst = torch.randint(0, 3000, (2, 1, H, W), device=CUDA, dtype=torch.int32)
        pix2pixhd.instance_means(torch.randn(2, 3, H, W, device=CUDA), inst)
        E = pix2pixhd.InstanceEncoder(3, 3, ngf=4, n_downsampling=2).to(CUDA)
        y = torch.rand(2, 3, H, W, device=CUDA)
        feat = E(y, inst)
        pix2pixhd.cluster_instance_features(pix2pixhd.instance_means(feat, inst)[0], k=2, n_init=1)
        x = pix2pixhd.generator_input(ids, K, inst, feat)
        G = pix2pixhd.LocalEnhancer(K + 4, 3, ngf=4, n_downsample_global=2, n_blocks_global=1,
                                    n_blocks_local=1).to(CUDA)
        D = pix2pixhd.MultiscaleDiscriminator(K + 4 + 3, ndf=4, n_layers=2, num_D=2).to(CUDA)
        vgg = pix2pixhd.VGGLoss(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1)),
                                cuts=(2, 3), weights=(0.5, 1.0)).to(CUDA)
        y_fake = G(x)
        real, fake = D(torch.cat([x, y], 1)), D(torch.cat([x, y_fake], 1))
        pix2pixhd.multiscale_gan_loss(fake, True) + pix2pixhd.gan_feat_loss(fake, real) + vgg(y_fake, y)
        G1 = pix2pixhd.GlobalGenerator(K + 1, 3, ngf=4, n_downsample_global=2, n_blocks_global=1).to(CUDA)
        D1 = pix2pixhd.MultiscaleDiscriminator(K + 1 + 3, ndf=4, n_layers=2, num_D=2).to(CUDA)
        a, k, y2 = prepare_batch(ids, inst, y, flip=True, half=True)
        opt_G, opt_D = torch.optim.Adam(G1.parameters()), torch.optim.Adam(D1.parameters())
        pix2pixhd.train_step(G1, D1, None, [opt_G], opt_D, a, k, y2, K, joint_D=True, D_for_G=D1)
        pix2pixhd.train_step(G1, D1, None, opt_G, opt_D, a, k, y2, K, vgg=vgg)


def test_vid2vid_on_cuda() -> None:
    with fake_cuda():
        G = vid2vid.SequentialGenerator(4, n_past=2, ngf=4, n_down=2, n_blocks=1).to(CUDA)
        maps, prev = torch.rand(2, 12, 16, 16, device=CUDA), torch.rand(2, 6, 16, 16, device=CUDA)
        out = G(maps, prev, fg_mask=torch.ones(2, 1, 16, 16, device=CUDA))
        frames = torch.rand(2, 3, 3, 16, 16, device=CUDA)
        flows = torch.randn(2, 2, 2, 16, 16, device=CUDA)
        D = pix2pixhd.MultiscaleDiscriminator(3 * 3 + 2 * 2, ndf=4, n_layers=1, num_D=1).to(CUDA)
        D(vid2vid.video_d_input(frames, flows))
        conf = torch.ones(2, 1, 16, 16, device=CUDA)
        vid2vid.flow_loss(out["flow"], flows[:, 0], conf) + vid2vid.warp_loss(prev[:, 3:], out["image"], out["flow"])
        vid2vid.mask_loss(out["mask"], conf)
        vid2vid.SequentialGenerator(4, n_past=0, ngf=4, n_down=2, n_blocks=1).to(CUDA)(maps[:, :4])
        D_I = pix2pixhd.MultiscaleDiscriminator(4 + 3, ndf=4, n_layers=1, num_D=1).to(CUDA)
        s, x = torch.rand(2, 5, 4, 16, 16, device=CUDA), torch.rand(2, 5, 3, 16, 16, device=CUDA)
        fg = torch.zeros(2, 5, 1, 16, 16, device=CUDA)
        flow, conf5 = torch.randn(2, 4, 2, 16, 16, device=CUDA), torch.ones(2, 4, 1, 16, 16, device=CUDA)
        opts = [torch.optim.Adam(m.parameters()) for m in (G, D_I, D)]
        vid2vid.train_step(G, D_I, D, *opts, s, x, fg, flow, conf5)


def test_biggan_on_cuda() -> None:
    with fake_cuda():
        G, D = biggan.Generator(z_dim=20, ch=4, shared_dim=8).to(CUDA), biggan.Discriminator(ch=4).to(CUDA)
        G_ema = biggan.make_ema(G)
        opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())

        def next_real() -> tuple[torch.Tensor, torch.Tensor]:
            return torch.rand(4, 3, 32, 32, device=CUDA), cuda_labels(4, 10)

        def next_noise(n: int) -> tuple[torch.Tensor, torch.Tensor]:
            return biggan.truncated_z(n, 20, 1.0, generator=cpu_gen(), device=CUDA), cuda_labels(n, 10)

        biggan.train_step(G, D, opt_G, opt_D, next_real, next_noise, ortho_beta=1e-4, G_ema=G_ema)
        biggan.standing_stats(G_ema, n_batches=2, batch=4)
        G_ema(biggan.truncated_z(3, 20, device=CUDA), cuda_labels(3, 10))


def test_shared_layers_on_cuda() -> None:
    with fake_cuda():
        y = cuda_labels(4, 10)
        conditioning.concat_condition(torch.rand(4, 3, 8, 8, device=CUDA), conditioning.one_hot(y, 10))
        conditioning.LabelEmbedding(10, 4).to(CUDA)(y)
        minibatch.MinibatchDiscrimination(8, 5, 3, include_self=True).to(CUDA)(torch.randn(4, 8, device=CUDA))
        cbn = normalization.ConditionalBatchNorm2d(3, 6).to(CUDA)
        cbn(torch.rand(4, 3, 8, 8, device=CUDA), torch.randn(4, 6, device=CUDA))
        vbn = normalization.VirtualBatchNorm(8).to(CUDA)
        vbn(torch.randn(4, 8, device=CUDA))
        vbn(torch.randn(2, 8, device=CUDA))
        nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)).to(CUDA).apply(weights_init)
        blocks3d.down3d(1, 2).to(CUDA)(torch.rand(1, 1, 8, 8, 8, device=CUDA))
        warp(torch.rand(2, 3, 8, 8, device=CUDA), torch.randn(2, 2, 8, 8, device=CUDA))


# --------------------------------------------------------------------------- data, training loop, viz


def test_sets_draw_batches_on_their_device() -> None:
    with fake_cuda():
        u8 = lambda *s: torch.randint(0, 256, s, dtype=torch.uint8, device=CUDA)  # noqa: E731
        paired = PairedSet(u8(5, 3, 8, 8), u8(5, 3, 8, 8), "p", "synthetic", "")
        unpaired = UnpairedSet(u8(4, 3, 8, 8), u8(6, 3, 8, 8), "u", "synthetic", "")
        vox = VoxelSet(torch.randint(0, 2, (5, 1, 8, 8, 8), dtype=torch.uint8, device=CUDA), cuda_labels(5, 2), "v",
                       "synthetic", "", ("a", "b"))
        clips = ClipSet(u8(3, 4, 3, 8, 8), torch.randint(0, 3, (3, 4, 1, 8, 8), dtype=torch.uint8, device=CUDA), "c",
                        "synthetic", "", label_nc=3, flow=torch.randn(3, 3, 2, 8, 8, device=CUDA))
        for gen in (None, cpu_gen()):
            for batch in (paired.batch(2, gen), unpaired.batch(2, gen), vox.batch(2, gen),
                          clips.batch(2, gen, n_frames=2), clips.batch(2, gen)):
                assert all(t.device == CUDA for t in batch if t is not None)


def test_image_set_batches_with_a_cpu_generator() -> None:
    with fake_cuda():
        data = ImageSet(torch.zeros(6, 1, 8, 8, dtype=torch.uint8, device=CUDA), cuda_labels(6, 2), "i", "synthetic",
                        "", ("a", "b"))
        x, y = data.batch(3, generator=cpu_gen())
        assert x.device == y.device == CUDA


def test_labelled_pairs_on_cuda() -> None:
    with fake_cuda():
        palette = torch.tensor([[0, 0, 0], [255, 0, 0], [0, 255, 0]], dtype=torch.uint8)
        A = torch.randint(0, 3, (6, 1, 8, 8), dtype=torch.uint8, device=CUDA)
        pairs = LabelledPairs(A, torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8, device=CUDA), "lp",
                              "synthetic", "", label_nc=3, classes=("void", "red", "green"), palette=palette,
                              groups=("s",) * 6, frames=tuple(range(6)))
        rgb = colorize(A, palette)
        assert rgb.device == CUDA
        ids, _ = ids_from_colors(rgb, palette)
        assert ids.device == CUDA
        pairs.class_frequencies()
        train, test = pairs.split(n_holdout_frames=2, gap=1)
        train.concat(test).photo_to_label().batch(2)
        pairs.unpaired().batch(2)


def test_trainer_fits_on_cuda_with_snapshots_and_plots() -> None:
    from gan_utils.display import animation, viz

    with fake_cuda():
        G, D = vanilla.MLPGenerator(8, hidden=(16,)).to(CUDA), vanilla.MLPDiscriminator(hidden=(16,)).to(CUDA)
        opt_G, opt_D = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
        z_fixed = torch.randn(4, 8, device=CUDA)

        def step(i: int) -> dict[str, float]:
            x_real = torch.rand(4, 1, 28, 28, device=CUDA)
            return {"loss_D": train_discriminator(D, G, opt_D, x_real, torch.randn(4, 8, device=CUDA)),
                    "loss_G": train_generator(D, G, opt_G, torch.randn(4, 8, device=CUDA))}

        trainer = Trainer({"G": G, "D": D}, {"G": opt_G, "D": opt_D}, step, sample_fn=lambda: G(z_fixed),
                          sample_every=2, live=False)
        history = trainer.fit(4, progress=False)
        assert all(x.device.type == "cpu" for _, x in history.snapshots)
        viz.plot_snapshots(history)
        viz.plot_losses(History(steps=[1, 2], losses={"a": [1.0, 2.0]}))
        viz.show_grid(G(z_fixed))
        viz.scatter_2d(torch.randn(10, 2, device=CUDA), torch.randn(8, 2, device=CUDA))
        grid = torch.rand(1, 8, 8, 8, device=CUDA)
        viz.show_voxels(grid)
        viz.render_views(grid)
        frames = torch.rand(3, 3, 8, 8, device=CUDA) * 2 - 1
        animation.clip_player_html({"a": frames, "b": frames})
        animation.filmstrip({"a": frames}, n=2)


def test_distributed_helpers_keep_float64_off_the_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.distributed, "all_reduce", lambda t, op=None: None)
    with fake_cuda():
        model = nn.Linear(3, 2).to(CUDA)
        single = distributed.DistInfo(0, 1, 0, CUDA, False)
        many = distributed.DistInfo(0, 2, 0, CUDA, True)
        distributed.max_param_spread(model, single)
        distributed.max_param_spread(model, many)
        distributed.all_mean({"loss": 1.5, "acc": 0.25}, many)


def test_every_model_and_metric_module_has_a_device_test() -> None:
    """A new module in models/ or metrics/ gets a test above, on fake CUDA tensors, before it joins this list."""
    covered = {"acgan", "biggan", "cgan", "cyclegan", "dcgan", "gan3d", "improved", "infogan", "pacgan", "pix2pix",
               "pix2pixhd", "vanilla", "vid2vid", "classifier", "diversity", "fid_is", "matching", "mixtures", "probe",
               "segmentation", "stacked", "strokes", "temporal", "voxels"}
    from gan_utils import metrics, models

    for package in (models, metrics):
        found = {p.stem for p in Path(package.__file__).parent.glob("*.py") if p.stem != "__init__"}
        assert found <= covered, f"untested on a device: {sorted(found - covered)}"

