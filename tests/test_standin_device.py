"""The stand-in device that tests/test_notebooks_device.py runs every notebook on: GPU rules, CPU numbers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from tests import standin_device as sd


def _train(device: torch.device, steps: int = 3) -> list[float]:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2), nn.Flatten(),
                        nn.Linear(4 * 8 * 8, 1)).to(device)
    opt = torch.optim.Adam(net.parameters(), 2e-4, betas=(0.5, 0.999))
    g = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):
        x = torch.randn(16, 1, 8, 8, generator=g).to(device)     # drawn on the CPU, moved on purpose
        y = torch.ones(16, 1, device=device)
        loss = nn.functional.binary_cross_entropy_with_logits(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_training_on_the_stand_in_gives_the_cpu_numbers() -> None:
    cpu = _train(torch.device("cpu"))
    with sd.active() as device:
        dev = _train(device)
    assert dev == pytest.approx(cpu, rel=1e-6, abs=1e-7)


def test_a_cpu_tensor_meeting_a_device_tensor_raises_as_on_cuda() -> None:
    with sd.active() as device:
        x = torch.randn(4, 3, device=device)
        with pytest.raises(sd.DeviceMixError, match="same device"):
            x + torch.ones(4, 3)
        with pytest.raises(sd.DeviceMixError):
            nn.Linear(3, 2)(x)                                  # a module left on the CPU
        assert (x * torch.tensor(2.0)).device == device         # 0-dim CPU scalars are allowed, as on CUDA
        assert x[torch.tensor([0, 2])].shape == (2, 3)          # so are CPU indices into a device tensor
        assert x[[0, 2]].shape == (2, 3)
        torch.zeros(4, 3).copy_(x)                              # and copies between devices


def test_numpy_and_plots_of_device_tensors_raise_until_moved() -> None:
    with sd.active() as device:
        x = torch.rand(8, 8, device=device)
        with pytest.raises(sd.DeviceMixError, match="cpu"):
            x.numpy()
        with pytest.raises(sd.DeviceMixError):
            plt.imshow(x)
        plt.imshow(x.cpu())
        plt.close("all")
        assert f"{x.sum():.2f}" and isinstance(x.tolist(), list)  # these copy to the host on CUDA too


def test_generators_must_live_where_they_draw() -> None:
    with sd.active() as device:
        cpu_gen = torch.Generator().manual_seed(0)
        with pytest.raises(sd.DeviceMixError, match="generator"):
            torch.randint(10, (4,), device=device, generator=cpu_gen)
        with pytest.raises(sd.DeviceMixError, match="generator"):
            torch.empty(4, device=device).normal_(generator=cpu_gen)
        dev_gen = torch.Generator(device=device).manual_seed(0)
        assert dev_gen.device == device
        assert torch.randint(10, (4,), device=device, generator=dev_gen).device == device
        with pytest.raises(sd.DeviceMixError, match="generator"):
            torch.randn(4, generator=dev_gen)
    assert torch.Generator is sd._CPUGenerator                 # restored after the block


def test_float64_never_reaches_the_device() -> None:
    with sd.active() as device:
        with pytest.raises(sd.DeviceMixError, match="float64"):
            torch.zeros(3, dtype=torch.float64).to(device)
        with pytest.raises(sd.DeviceMixError, match="float64"):
            torch.zeros(3, device=device).double()
        assert torch.zeros(3, device=device).cpu().double().dtype == torch.float64


def test_checkpoints_of_device_models_load_on_the_cpu(tmp_path) -> None:  # noqa: ANN001
    with sd.active() as device:
        net = nn.Linear(3, 2).to(device)
        torch.save(net.state_dict(), tmp_path / "w.pt")
        state = torch.load(tmp_path / "w.pt", map_location="cpu", weights_only=True)
        assert state["weight"].device.type == "cpu"
        other = nn.Linear(3, 2).to(device)
        other.load_state_dict(state)                           # load_state_dict places the weights
        assert torch.equal(other.weight.cpu(), net.weight.cpu())
        with pytest.raises(Exception):                         # noqa: B017  (as RNG states mapped to a GPU fail)
            torch.load(tmp_path / "w.pt", map_location=device, weights_only=True)
