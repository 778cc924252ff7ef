"""pix2pixHD's torchrun entry: its step equals notebook 11's; a killed 2-process run resumes on 1, then on 2; the
local phase keeps G1 fixed for --steps-fix steps, then trains it.

pix2pixHD normalises per image (instance norm), so nothing couples the examples of a batch: the step with D's real
and fake passes joined is notebook 11's step, and under DDP two processes at batch B/2 would equal one at B.
"""

import os
import re
import socket
import subprocess
import sys

import torch

from gan_utils.checkpoints import load_safe
from gan_utils.models.pix2pixhd import (
    GlobalGenerator,
    InstanceEncoder,
    MultiscaleDiscriminator,
    feature_matching_loss,
    generator_input,
    multiscale_gan_loss,
)
from gan_utils.nn.init import weights_init
from gan_utils.train_pix2pixhd import train_step

K = 4


def _models(seed=0):
    torch.manual_seed(seed)
    G = GlobalGenerator(K + 1 + 3, 3, ngf=4, n_downsample_global=2, n_blocks_global=1)
    D = MultiscaleDiscriminator(K + 1 + 3, ndf=4, n_layers=2, num_D=2)
    E = InstanceEncoder(3, 3, ngf=4, n_downsampling=2)
    for m in (G, D, E):
        m.apply(weights_init)
    # SGD, not the paper's Adam: Adam's first steps are close to lr * sign(g), which turns rounding-level
    # differences in near-zero gradients (summation order) into lr-sized ones
    opt_G = torch.optim.SGD([*G.parameters(), *E.parameters()], lr=0.01)
    opt_D = torch.optim.SGD(D.parameters(), lr=0.01)
    return G, D, E, opt_G, opt_D


def _notebook_step(G, D, E, opt_G, opt_D, a, k, y):
    """Notebook 11's make_step body (no VGG): separate real and fake passes through D."""
    x = generator_input(a, K, k)
    y_fake = G(torch.cat([x, E(y, k)], 1))
    pred_real, pred_fake = D(torch.cat([x, y], 1)), D(torch.cat([x, y_fake.detach()], 1))
    loss_D = 0.5 * (multiscale_gan_loss(pred_real, True) + multiscale_gan_loss(pred_fake, False))
    opt_D.zero_grad()
    loss_D.backward()
    opt_D.step()
    pred_fake = D(torch.cat([x, y_fake], 1))
    loss = multiscale_gan_loss(pred_fake, True) + feature_matching_loss(pred_fake, pred_real)
    opt_G.zero_grad()
    loss.backward()
    opt_G.step()


def test_step_equals_notebook_11s():
    gen = torch.Generator().manual_seed(0)
    a = torch.randint(0, K, (2, 1, 16, 32), generator=gen)
    k = a * 1000 + torch.randint(0, 2, (2, 1, 16, 32), generator=gen)
    y = torch.rand(2, 3, 16, 32, generator=gen) * 2 - 1
    G1, D1, E1, oG1, oD1 = _models()
    G2, D2, E2, oG2, oD2 = _models()
    for _ in range(2):
        logs = train_step(G1, D1, E1, [oG1], oD1, a, k, y, K)
        _notebook_step(G2, D2, E2, oG2, oD2, a, k, y)
    assert set(logs) == {"loss_D", "loss_G_GAN", "loss_G_FM"}
    for m1, m2 in ((G1, G2), (D1, D2), (E1, E2)):
        for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
            assert torch.allclose(p1, p2, atol=1e-6)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_killed_run_resumes_on_one_then_two_processes(tmp_path):
    ckpt = tmp_path / "ckpt"
    common = ["-m", "gan_utils.train_pix2pixhd", "--height", "32", "--ngf", "8", "--ndf", "4", "--n-down", "2",
              "--n-blocks", "1", "--feat-ngf", "4", "--num-D", "2", "--batch", "2", "--data", "synthetic",
              "--n-synthetic", "24", "--ckpt-dir", str(ckpt), "--ckpt-every", "2", "--log-every", "1",
              "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GAN_CACHE_DIR": str(tmp_path / "cache")}
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    killed = subprocess.run([*torchrun, f"--master_port={_free_port()}", *common, "--steps", "4", "--crash-at", "2"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert killed.returncode != 0, killed.stdout + killed.stderr
    assert load_safe(ckpt / "latest.pt")["step"] == 2
    one = subprocess.run([sys.executable, *common, "--steps", "3"], capture_output=True, text=True, env=env,
                         timeout=300)
    assert one.returncode == 0, one.stdout + one.stderr
    assert "at step 2, written by 2 process(es); now 1" in one.stdout
    two = subprocess.run([*torchrun, f"--master_port={_free_port()}", *common, "--steps", "4"], capture_output=True,
                         text=True, env=env, timeout=300)
    assert two.returncode == 0, two.stdout + two.stderr
    assert "at step 3, written by 1 process(es); now 2" in two.stdout
    assert re.search(r"largest weight difference between processes 0\.0e\+00", two.stdout)
    state = load_safe(ckpt / "latest.pt")
    assert state["step"] == 4 and state["extra"]["batches_seen"] == 4 and set(state["models"]) == {"G1", "D", "E"}


def test_local_phase_fixes_then_trains_G1(tmp_path):
    args = ["-m", "gan_utils.train_pix2pixhd", "--height", "32", "--ngf", "8", "--ndf", "4", "--n-down", "2",
            "--n-blocks", "1", "--feat-ngf", "4", "--num-D", "2", "--batch", "2", "--data", "synthetic",
            "--n-synthetic", "24", "--log-every", "1", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GAN_CACHE_DIR": str(tmp_path / "cache")}
    glob, local = tmp_path / "global", tmp_path / "local"
    run = lambda *extra, launcher=(): subprocess.run([*launcher, *args, *extra], capture_output=True, text=True,
                                                     env=env, timeout=300)
    res = run("--steps", "1", "--ckpt-dir", str(glob), launcher=(sys.executable,))
    assert res.returncode == 0, res.stdout + res.stderr
    g1 = load_safe(glob / "latest.pt")["models"]["G1"]
    local_args = ("--phase", "local", "--steps-fix", "1", "--global-ckpt", str(glob), "--ckpt-dir", str(local))
    res = run("--steps", "1", *local_args, launcher=(sys.executable, "-m", "torch.distributed.run",
                                                     "--nproc_per_node=2", f"--master_port={_free_port()}"))
    assert res.returncode == 0, res.stdout + res.stderr  # G1's unused output layers need find_unused_parameters
    assert "largest weight difference between processes 0.0e+00" in res.stdout
    fixed = load_safe(local / "latest.pt")["models"]["G"]
    assert all(torch.equal(v, fixed[f"G1.{k}"]) for k, v in g1.items())
    res = run("--steps", "2", *local_args, launcher=(sys.executable,))
    assert res.returncode == 0, res.stdout + res.stderr
    joint = load_safe(local / "latest.pt")["models"]["G"]
    assert not torch.equal(joint["G1.model.1.weight"], g1["model.1.weight"])
