import os
import stat
from pathlib import Path

import pytest
import torch
from torch import nn

from gan_utils.losses import d_loss_bce
from gan_utils.models.improved import HistoricalAverage
from gan_utils.train.checkpoints import has_checkpoint, load_module, load_safe, save_atomic
from gan_utils.train.trainer import (
    CheckpointMismatchError,
    NonFiniteLossError,
    Trainer,
    assert_same_step,
    train_discriminator,
    train_generator,
)


def tiny_gan(seed: int = 0) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
    D = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Dropout(0.2), nn.Linear(16, 1))
    return G, D, torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999)), torch.optim.Adam(D.parameters(), 1e-3)


def make_trainer(ckpt_dir: Path | None, seed: int = 0, ckpt_every: int = 5) -> Trainer:
    G, D, opt_G, opt_D = tiny_gan(seed)
    gen = torch.Generator().manual_seed(123)  # a named generator, as a notebook's data sampler would use

    def step(i: int) -> dict[str, float]:
        x_real = torch.randn(8, 2, generator=gen) + 3
        loss_D = train_discriminator(D, G, opt_D, x_real, torch.randn(8, 4))
        loss_G = train_generator(D, G, opt_G, torch.randn(8, 4))
        return {"loss_D": loss_D, "loss_G": loss_G}

    z_fixed = torch.randn(4, 4)
    return Trainer({"G": G, "D": D}, {"G": opt_G, "D": opt_D}, step, ckpt_dir=ckpt_dir, ckpt_every=ckpt_every,
                   sample_fn=lambda: G(z_fixed), sample_every=5, live=False, generators={"data": gen})


def test_steps_update_only_their_player() -> None:
    G, D, opt_G, opt_D = tiny_gan()
    g_before = [p.clone() for p in G.parameters()]
    d_before = [p.clone() for p in D.parameters()]
    train_discriminator(D, G, opt_D, torch.randn(8, 2), torch.randn(8, 4))
    assert all(torch.equal(a, b) for a, b in zip(g_before, G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, D.parameters(), strict=True))
    d_before = [p.clone() for p in D.parameters()]
    train_generator(D, G, opt_G, torch.randn(8, 4))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, G.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters(), strict=True))


def test_generator_gradient_flows_through_d() -> None:
    G, D, _, _ = tiny_gan()
    loss = nn.functional.softplus(-D(G(torch.randn(8, 4)))).mean()
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    t = make_trainer(tmp_path)
    t.fit(7, progress=False)
    state = load_safe(tmp_path / "latest.pt")
    assert state["step"] == 7
    t2 = make_trainer(None, seed=99)
    assert t2.load(tmp_path / "latest.pt")
    for k in ("G", "D"):
        for a, b in zip(t.models[k].state_dict().values(), t2.models[k].state_dict().values(), strict=True):
            assert torch.equal(a, b)
    assert t2.history.losses == t.history.losses and len(t2.history.snapshots) == len(t.history.snapshots)
    assert not list(tmp_path.glob("*.tmp"))


def test_resume_gives_the_same_losses_as_one_run(tmp_path: Path) -> None:
    straight = make_trainer(None)
    straight.fit(20, progress=False)
    first = make_trainer(tmp_path / "ck", ckpt_every=5)
    first.fit(10, progress=False)
    torch.manual_seed(999)  # disturb the global RNG: resume must restore it
    second = make_trainer(tmp_path / "ck", seed=5)
    second.fit(20, resume=True, progress=False)
    assert second.history.steps == list(range(1, 21))
    assert second.history.losses == straight.history.losses


def ha_trainer(ckpt_dir: Path | None, seed: int = 0) -> tuple[Trainer, HistoricalAverage]:
    G, D, opt_G, opt_D = tiny_gan(seed)
    ha_D = HistoricalAverage(D)
    gen = torch.Generator().manual_seed(7)

    def step(i: int) -> dict[str, float]:
        x_real = torch.randn(8, 2, generator=gen) + 3
        x_fake = G(torch.randn(8, 4, generator=gen)).detach()
        loss_D = d_loss_bce(D(x_real), D(x_fake)) + 0.1 * ha_D.penalty()
        opt_D.zero_grad()
        loss_D.backward()
        opt_D.step()
        ha_D.update()
        return {"loss_D": loss_D.item()}

    return Trainer({"G": G, "D": D}, {"G": opt_G, "D": opt_D}, step, ckpt_dir=ckpt_dir, ckpt_every=4, live=False,
                   generators={"data": gen}, stateful={"ha_D": ha_D}), ha_D


def test_stateful_objects_resume_with_the_run(tmp_path: Path) -> None:
    straight, ha_straight = ha_trainer(None)
    straight.fit(12, progress=False)
    first, _ = ha_trainer(tmp_path)
    first.fit(8, progress=False)
    second, ha_second = ha_trainer(tmp_path, seed=3)
    second.fit(12, resume=True, progress=False)
    assert ha_second.count == ha_straight.count == 12
    assert all(torch.allclose(ha_second.avg[k], ha_straight.avg[k]) for k in ha_straight.avg)
    assert second.history.losses["loss_D"] == pytest.approx(straight.history.losses["loss_D"], abs=1e-6)


def test_resume_when_done_skips_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_trainer(tmp_path).fit(5, progress=False)
    t = make_trainer(tmp_path)
    t.fit(5, progress=False)
    assert "nothing to do" in capsys.readouterr().out and t.step == 5


def test_nan_guard_names_step_and_keeps_last_good_checkpoint(tmp_path: Path) -> None:
    t = make_trainer(tmp_path, ckpt_every=5)
    inner = t.step_fn

    def poisoned(i: int) -> dict[str, float]:
        losses = inner(i)
        if i == 7:
            losses["loss_D"] = float("nan")
        return losses

    t.step_fn = poisoned
    with pytest.raises(NonFiniteLossError, match=r"'loss_D' became nan at step 8.*latest.pt"):
        t.fit(20, progress=False)
    assert load_safe(tmp_path / "latest.pt")["step"] == 5


def test_keyboard_interrupt_saves_a_checkpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = make_trainer(tmp_path, ckpt_every=100)
    inner = t.step_fn

    def interrupted(i: int) -> dict[str, float]:
        if i == 6:
            raise KeyboardInterrupt
        return inner(i)

    t.step_fn = interrupted
    t.fit(20, progress=False)
    assert load_safe(tmp_path / "latest.pt")["step"] == 6
    assert "Interrupted at step 6" in capsys.readouterr().out


def test_atomic_save_leaves_old_file_on_failure(tmp_path: Path) -> None:
    path = save_atomic({"a": torch.ones(2)}, tmp_path / "c.pt")

    class Boom:
        def __reduce__(self):  # noqa: ANN204
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_atomic({"a": Boom()}, path)
    assert torch.equal(load_safe(path)["a"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_checkpoint_from_other_models_is_a_clear_error(tmp_path: Path) -> None:
    make_trainer(tmp_path).fit(5, progress=False)
    G = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 2))  # another architecture, same names
    D = nn.Sequential(nn.Linear(2, 1))
    other = Trainer({"G": G, "D": D}, {"G": torch.optim.Adam(G.parameters()), "D": torch.optim.Adam(D.parameters())},
                    lambda i: {}, ckpt_dir=tmp_path, live=False)
    with pytest.raises(CheckpointMismatchError, match="resume=False") as err:
        other.fit(10, progress=False)
    assert str(tmp_path / "latest.pt") in str(err.value)
    assert load_safe(tmp_path / "latest.pt")["step"] == 5  # the old checkpoint is left untouched


def test_corrupt_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "latest.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="Delete it to start afresh"):
        load_safe(bad)
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        load_safe(tmp_path / "missing.pt")


def test_conditional_models_shapes_and_label_use() -> None:
    from gan_utils.models.cgan import ConditionalDiscriminator, ConditionalGenerator

    torch.manual_seed(0)
    G, D = ConditionalGenerator(), ConditionalDiscriminator()
    z, y = torch.randn(6, 100), torch.arange(6)
    x = G(z, y)
    assert x.shape == (6, 1, 28, 28) and D(x, y).shape == (6,)
    # the label changes the output: same z, different y
    assert not torch.allclose(G(z, y), G(z, (y + 1) % 10))
    D.eval()
    assert not torch.allclose(D(x, y), D(x, (y + 1) % 10))


def test_checkpoint_files_get_the_normal_file_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = save_atomic({"a": torch.ones(1)}, tmp_path / "c.pt")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's private 0600


def test_load_module_reads_one_trained_model_from_another_run(tmp_path: Path) -> None:
    trainer = make_trainer(tmp_path / "01_vanilla_gan")
    trainer.fit(7, progress=False)
    assert has_checkpoint(tmp_path / "01_vanilla_gan") and not has_checkpoint(tmp_path / "other")
    G = make_trainer(None, seed=1).models["G"]
    trained = load_module(tmp_path / "01_vanilla_gan", "G", G)
    assert trained.step == 7 and trained.seconds > 0
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(),
                                                 trainer.models["G"].state_dict().values(), strict=True))
    with pytest.raises(KeyError, match=r"holds the models \['D', 'G'\], not 'Q'"):
        load_module(tmp_path / "01_vanilla_gan", "Q", G)
    with pytest.raises(CheckpointMismatchError, match="does not fit the module"):
        load_module(tmp_path / "01_vanilla_gan" / "latest.pt", "G", nn.Sequential(nn.Linear(3, 2)))
    with pytest.raises(FileNotFoundError, match="No checkpoint at"):
        load_module(tmp_path / "02_conditional_gan", "G", G)


def test_assert_same_step_compares_losses_and_weights() -> None:
    torch.manual_seed(0)
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    assert_same_step({"loss": 0.5}, {"loss": 0.5}, [a], [b])
    with pytest.raises(AssertionError, match="log different losses"):
        assert_same_step({"loss": 0.5}, {"loss_D": 0.5}, [a], [b])
    with pytest.raises(AssertionError, match="log different values"):
        assert_same_step({"loss": 0.5}, {"loss": 0.5001}, [a], [b])
    with torch.no_grad():
        b.bias[1] += 1e-4
    with pytest.raises(AssertionError, match="bias of model 0"):
        assert_same_step({"loss": 0.5}, {"loss": 0.5}, [a], [b])


def test_live_panel_keeps_class_rows_with_sample_nrow() -> None:
    """A 10 x 10 class grid (one class per row) is drawn whole, 10 per row; without sample_nrow, 64 in a square."""
    from gan_utils.display.viz import grid_image

    G = nn.Linear(4, 3 * 8 * 8)
    z = torch.randn(100, 4)

    def make(nrow: int | None) -> Trainer:
        return Trainer({"G": G}, {}, lambda i: {"loss": 0.0}, sample_fn=lambda: G(z).view(100, 3, 8, 8),
                       sample_every=2, sample_nrow=nrow, live=False)

    with_rows, square = make(10), make(None)
    for t in (with_rows, square):
        t.fit(2, progress=False)
    step, x, nrow = with_rows.shown_samples()
    assert (step, x.shape[0], nrow) == (2, 100, 10)
    assert torch.equal(x[10:20], with_rows.history.snapshots[-1][1][10:20])   # row 1 holds images 10..19
    assert grid_image(x, nrow).shape[:2] == (2 + 10 * 10, 2 + 10 * 10)       # 10 rows of 10 (8 px + 2 px padding)
    _, x_sq, nrow_sq = square.shown_samples()
    assert (x_sq.shape[0], nrow_sq) == (64, None)
