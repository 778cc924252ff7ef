"""Two CPU processes with the gloo backend: what DDP keeps identical, what equals one process, and resume.

What holds, and why:
- The ranks' weights stay identical: DDP starts every rank from rank 0's weights and averages the gradients in
  backward, the optimizers are identical, and spectral norm's power iteration does not depend on the data.
- Two processes at batch B/2 each equal one process at batch B (to float rounding) when no layer couples the
  examples of a batch. D has no batch norm, so D's half always qualifies; G qualifies with its BN in eval mode
  (fixed statistics). With G's BN in train mode each rank normalises over its own B/2 examples, so the results
  differ (checked below); SyncBatchNorm, which pools the statistics over the ranks, exists only on CUDA.
- A run killed (SIGKILL) right after a checkpoint resumes from it with another number of processes.
"""

import gc
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from PIL import Image

from gan_utils.data.cifar import CIFAR10_CLASSES
from gan_utils.models import biggan as bg
from gan_utils.train.checkpoints import load_safe
from gan_utils.train.distributed import DistInfo, max_param_spread, shard_batches, unwrap, wrap_ddp

B, Z = 8, 16  # global batch, z size
STEPS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _models(seed: int = 0) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(seed)
    return bg.Generator(z_dim=Z, ch=2, shared_dim=8), bg.Discriminator(ch=2)


def _global_batches() -> list[tuple[torch.Tensor, ...]]:
    """Per step and D step: (x_real, y_real, z, y_fake) for the global batch; the G step reuses the last z."""
    gen = torch.Generator().manual_seed(1)
    return [(torch.rand(B, 3, 32, 32, generator=gen) * 2 - 1, torch.randint(0, 10, (B,), generator=gen),
             torch.randn(B, Z, generator=gen), torch.randint(0, 10, (B,), generator=gen)) for _ in range(2 * STEPS)]


def _train(G, D, batches, part: slice, g_eval: bool) -> None:
    opt_G = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.0, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.0, 0.999))
    if g_eval:
        G.eval()
    it = iter(batches)
    for _ in range(STEPS):
        cur: list = []

        def next_real(cur=cur):
            cur[:] = [t[part] for t in next(it)]
            return cur[0], cur[1]

        bg.train_step(G, D, opt_G, opt_D, next_real, lambda n, cur=cur: (cur[2], cur[3]), n_D=2, ortho_beta=1e-4,
                      D_for_G=unwrap(D))


def _flat(*models) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for m in models for p in unwrap(m).parameters()])


def _worker(rank: int, world: int, port: int, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    torch.set_num_threads(1)
    info = DistInfo(rank, world, rank, torch.device("cpu"), True)
    part = slice(rank * B // world, (rank + 1) * B // world)
    result = {}
    for g_eval in (False, True):
        G, D = _models(seed=rank)  # different seeds per rank: DDP must broadcast rank 0's weights
        G, D = wrap_ddp(G, info), wrap_ddp(D, info)
        _train(G, D, _global_batches(), part, g_eval)
        result[g_eval] = _flat(G, D)
        result[f"spread{g_eval}"] = max_param_spread(G, info) + max_param_spread(D, info)
    torch.save(result, Path(out) / f"rank{rank}.pt")
    del G, D  # DDP's reducers go before the process group, or gloo may abort at exit
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True)
    return [torch.load(out / f"rank{r}.pt") for r in range(2)]


def test_ranks_stay_identical(two_ranks):
    r0, r1 = two_ranks
    for g_eval in (False, True):
        assert torch.equal(r0[g_eval], r1[g_eval])
        assert r0[f"spread{g_eval}"] == 0.0


def test_two_processes_equal_one_at_the_same_global_batch(two_ranks):
    single = {}
    for g_eval in (False, True):
        G, D = _models(seed=0)
        _train(G, D, _global_batches(), slice(None), g_eval)
        single[g_eval] = _flat(G, D)
    assert torch.allclose(two_ranks[0][True], single[True], atol=1e-5)  # no batch coupling: equal
    assert not torch.allclose(two_ranks[0][False], single[False], atol=1e-4)  # per-rank BN statistics: not equal


def test_shards_are_disjoint_and_cover_the_batch():
    infos = [DistInfo(r, 2, r, torch.device("cpu"), True) for r in range(2)]
    a, b = (next(shard_batches(20, 8, i, seed=3)) for i in infos)
    assert len(a) == len(b) == 4 and not set(a.tolist()) & set(b.tolist())
    one = DistInfo(0, 1, 0, torch.device("cpu"), False)
    seq = shard_batches(20, 8, one)
    later = [next(seq) for _ in range(5)][-1]
    assert torch.equal(next(shard_batches(20, 8, one, start=4)), later)  # `start` skips batches already seen
    with pytest.raises(ValueError, match="split evenly"):
        next(shard_batches(20, 7, infos[0]))


def _write_cifar_jpegs(root: Path) -> None:
    rng = np.random.default_rng(0)
    for c in CIFAR10_CLASSES:
        (root / "cifar10" / "test" / c).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / "cifar10" / "test" / c
                                                                                    / f"{i:04d}.jpg")


def test_killed_run_resumes_with_another_process_count(tmp_path):
    _write_cifar_jpegs(tmp_path / "data")
    ckpt = tmp_path / "ckpt"
    common = ["-m", "gan_utils.scripts.train_biggan", "--steps", "4", "--batch", "4", "--ch", "2", "--z-dim", "16",
              "--shared-dim", "8", "--data", "real", "--data-root", str(tmp_path / "data"), "--ckpt-dir", str(ckpt),
              "--ckpt-every", "2", "--log-every", "1", "--ema-start", "1", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GAN_CACHE_DIR": str(tmp_path / "cache")}
    killed = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                             f"--master_port={_free_port()}", *common, "--crash-at", "2"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert killed.returncode != 0, killed.stdout + killed.stderr
    state = load_safe(ckpt / "latest.pt")
    assert state["step"] == 2 and state["extra"]["world_size"] == 2 and state["extra"]["batches_seen"] == 4
    resumed = subprocess.run([sys.executable, *common], capture_output=True, text=True, env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "at step 2, written by 2 process(es); now 1" in resumed.stdout
    final = load_safe(ckpt / "latest.pt")
    assert final["step"] == 4 and final["extra"]["world_size"] == 1 and final["extra"]["batches_seen"] == 8
    assert final["history"]["steps"][:2] == [1, 2]  # the history of the killed run is kept
    assert set(final["models"]) == {"G", "D", "G_ema"}
