"""pix2pixHD's torchrun entry runs the module's step: a single process exactly as notebook 11 does, several with D's
passes joined (equal to rounding); a killed 2-process run resumes on 1, then on 2; the local phase keeps G1 fixed for
--steps-fix steps, then trains it.

pix2pixHD normalises per image (instance norm), so nothing couples the examples of a batch: the step with D's real
and fake passes joined is notebook 11's step, and under DDP two processes at batch B/2 would equal one at B.
Notebook 11's check cell shows that its inline step is `gan_utils.models.pix2pixhd.train_step`.
"""

import os
import re
import socket
import subprocess
import sys

import torch

import gan_utils.scripts.train_pix2pixhd as tp
from gan_utils.data.cityscapes import load_cityscapes
from gan_utils.models.pix2pixhd import GlobalGenerator, InstanceEncoder, MultiscaleDiscriminator, train_step
from gan_utils.nn.init import weights_init
from gan_utils.train.checkpoints import load_safe
from gan_utils.train.distributed import DistInfo, shard_batches

K = 4


def _models(seed=0, K=K, ngf=4, ndf=4, feat_ngf=4, num_D=2, n_layers=2, opt=None):
    if seed is not None:
        torch.manual_seed(seed)
    G = GlobalGenerator(K + 1 + 3, 3, ngf, n_downsample_global=2, n_blocks_global=1)
    D = MultiscaleDiscriminator(K + 1 + 3, ndf, n_layers=n_layers, num_D=num_D)
    E = InstanceEncoder(3, 3, feat_ngf, n_downsampling=2)
    for m in (G, D, E):
        m.apply(weights_init)
    # SGD, not the paper's Adam: Adam's first steps are close to lr * sign(g), which turns rounding-level
    # differences in near-zero gradients (summation order) into lr-sized ones
    opt = opt or (lambda params: torch.optim.SGD(params, lr=0.01))
    return G, D, E, opt([*G.parameters(), *E.parameters()]), opt(D.parameters())


def test_the_joined_step_equals_notebook_11s():
    gen = torch.Generator().manual_seed(0)
    a = torch.randint(0, K, (2, 1, 16, 32), generator=gen)
    k = a * 1000 + torch.randint(0, 2, (2, 1, 16, 32), generator=gen)
    y = torch.rand(2, 3, 16, 32, generator=gen) * 2 - 1
    G1, D1, E1, oG1, oD1 = _models()
    G2, D2, E2, oG2, oD2 = _models()
    for _ in range(2):
        logs = train_step(G1, D1, E1, [oG1], oD1, a, k, y, K, joint_D=True, D_for_G=D1)  # as under DDP
        train_step(G2, D2, E2, oG2, oD2, a, k, y, K)  # as in notebook 11
    assert set(logs) == {"loss_D", "loss_G_GAN", "loss_G_FM"}
    for m1, m2 in ((G1, G2), (D1, D2), (E1, E2)):
        for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
            assert torch.allclose(p1, p2, atol=1e-6)


class _Recording(torch.nn.Module):
    """Wraps D and records, at every forward, a fingerprint of D's weights: which D state each pass saw."""

    def __init__(self, D):
        super().__init__()
        self.D, self.seen = D, []

    def forward(self, x):
        self.seen.append(torch.cat([p.detach().flatten() for p in self.D.parameters()]).clone())
        return self.D(x)


def test_every_pass_of_a_step_sees_one_D_state():
    """Feature matching compares G's fake features with real ones from the same D (NVIDIA computes both, and D's
    scores, in one pass, then steps G, then D); D's update comes last, and it does change D."""
    gen = torch.Generator().manual_seed(1)
    a = torch.randint(0, K, (2, 1, 16, 32), generator=gen)
    k = a * 1000 + torch.randint(0, 2, (2, 1, 16, 32), generator=gen)
    y = torch.rand(2, 3, 16, 32, generator=gen) * 2 - 1
    for joint in (False, True):
        G, D, E, opt_G, opt_D = _models()
        rec = _Recording(D)
        train_step(G, rec, E, opt_G, opt_D, a, k, y, K, joint_D=joint, D_for_G=rec if joint else None)
        assert len(rec.seen) == 3 and all(torch.equal(rec.seen[0], w) for w in rec.seen)
        after = torch.cat([p.detach().flatten() for p in D.parameters()])
        assert not torch.equal(after, rec.seen[0])


def test_a_single_process_run_is_the_modules_step_on_the_same_batches(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))
    args = ["--height", "32", "--ngf", "8", "--ndf", "4", "--n-down", "2", "--n-blocks", "1", "--feat-ngf", "4",
            "--num-D", "2", "--batch", "2", "--data", "synthetic", "--n-synthetic", "24", "--steps", "2",
            "--log-every", "1", "--device", "cpu", "--seed", "3", "--ckpt-dir", str(tmp_path / "ckpt"),
            "--data-root", str(tmp_path)]
    assert tp.main(args) == 0
    saved = load_safe(tmp_path / "ckpt" / "latest.pt")["models"]
    # the same data, models, batches and flips, each step the module's step as notebook 11 calls it (Adam, as the
    # entry: the same operations in the same order give the same numbers)
    torch.manual_seed(3)
    pairs = load_cityscapes(tmp_path, source="synthetic", device="cpu", cache_dir=tmp_path / "cache",
                            n_synthetic=24, seed=3, size=(64, 32), verbose=False)
    train, _ = pairs.split(n_holdout_frames=6, n_holdout_stills=2, gap=2, seed=3)
    adam = lambda params: torch.optim.Adam(list(params), lr=2e-4, betas=(0.5, 0.999))  # noqa: E731
    G, D, E, opt_G, opt_D = _models(None, pairs.label_nc, ngf=8, ndf=4, feat_ngf=4, num_D=2, n_layers=3, opt=adam)
    shards = shard_batches(len(train), 2, DistInfo(0, 1, 0, torch.device("cpu"), False), seed=3)
    for step in range(2):
        gen = torch.Generator().manual_seed(3 * 1_000_003 + step * 1_009)
        a, y, inst = train.to_float(next(shards))
        a, k, y = tp.prepare_batch(a, inst, y, flip=bool(torch.rand((), generator=gen) < 0.5), half=True)
        train_step(G, D, E, opt_G, opt_D, a, k, y, pairs.label_nc)
    for name, m in (("G1", G), ("D", D), ("E", E)):
        for key, v in m.state_dict().items():
            assert torch.allclose(saved[name][key], v), f"{name}.{key}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_killed_run_resumes_on_one_then_two_processes(tmp_path):
    ckpt = tmp_path / "ckpt"
    common = ["-m", "gan_utils.scripts.train_pix2pixhd", "--height", "32", "--ngf", "8", "--ndf", "4", "--n-down", "2",
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
    args = ["-m", "gan_utils.scripts.train_pix2pixhd", "--height", "32", "--ngf", "8", "--ndf", "4", "--n-down", "2",
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
