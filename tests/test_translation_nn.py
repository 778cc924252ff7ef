"""pix2pix/CycleGAN blocks (models.pix2pix, models.cyclegan, nn.translation): shapes at 64/128/256, PatchGAN field
and output size, image pool, LR decay, losses; the two papers' training steps."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_utils.losses import (
    cycle_loss,
    d_loss_bce,
    d_loss_lsgan,
    g_loss_lsgan,
    g_loss_pix2pix,
    identity_loss,
    l1_loss,
)
from gan_utils.models import cyclegan, pix2pix
from gan_utils.models.cyclegan import ImagePool, linear_decay
from gan_utils.models.pix2pix import UnetGenerator, unet_depth
from gan_utils.nn.translation import PatchDiscriminator, ResnetGenerator, patch_output_size, receptive_field
from tests.conftest import assert_gradients_reach


@pytest.mark.parametrize("size", [64, 128, 256])
def test_unet_shapes_and_bottleneck(size: int) -> None:
    G = UnetGenerator(3, 3, n_down=unet_depth(size), ngf=4)
    x = torch.randn(2, 3, size, size)
    y = G(x)  # (2, 3, size, size)
    assert y.shape == x.shape and y.abs().max() <= 1
    feats = x
    for down in G.downs:
        feats = down(feats)
    assert feats.shape[-2:] == (1, 1)  # the 1x1 bottleneck of unet_256 at every size


def test_unet_paper_channels_and_dropout() -> None:
    G = UnetGenerator(3, 3, n_down=8, ngf=64)
    outs = [m.out_channels for m in G.modules() if isinstance(m, nn.Conv2d)]
    assert outs == [64, 128, 256, 512, 512, 512, 512, 512]
    ins = [m.in_channels for m in G.modules() if isinstance(m, nn.ConvTranspose2d)][::-1]  # decoder order
    assert ins == [512, 1024, 1024, 1024, 1024, 512, 256, 128]  # the paper's decoder, skips included
    n_dropout = sum(isinstance(m, nn.Dropout) for m in G.modules())
    assert n_dropout == 3
    assert sum(p.numel() for p in G.parameters()) == 54_413_955  # the reference code's unet_256


def test_unet_without_skips_and_dropout_as_noise() -> None:
    torch.manual_seed(0)
    G = UnetGenerator(3, 3, n_down=6, ngf=4, skips=False)
    assert [m.in_channels for m in G.modules() if isinstance(m, nn.ConvTranspose2d)] == [4, 8, 16, 32, 32, 32]
    x = torch.randn(2, 3, 64, 64)
    G.train()
    assert not torch.allclose(G(x), G(x))  # dropout at sampling time is pix2pix's only noise
    G.eval()
    assert torch.allclose(G(x), G(x))


def test_unet_gradients_and_errors() -> None:
    G = UnetGenerator(3, 3, n_down=6, ngf=4)
    G(torch.randn(2, 3, 64, 64)).mean().backward()
    assert_gradients_reach(G)
    with pytest.raises(ValueError, match="not divisible by 2\\^n_down = 256"):
        UnetGenerator(3, 3, n_down=8, ngf=4)(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match="power of two"):
        unet_depth(96)
    assert unet_depth((128, 64)) == 6


@pytest.mark.parametrize("n_layers, field, out256", [(0, 1, 256), (1, 16, 126), (3, 70, 30), (5, 286, 6)])
def test_patchgan_receptive_field_and_output(n_layers: int, field: int, out256: int) -> None:
    D = PatchDiscriminator(6, ndf=4, n_layers=n_layers)
    assert receptive_field(D) == field
    assert patch_output_size(D, (256, 256)) == (out256, out256)
    assert D(torch.randn(1, 6, 256, 256)).shape == (1, 1, out256, out256)


def test_patchgan_paper_layers_and_small_inputs() -> None:
    assert receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]) == 70
    D = PatchDiscriminator(6, ndf=64, n_layers=3)
    assert [m.out_channels for m in D.modules() if isinstance(m, nn.Conv2d)] == [64, 128, 256, 512, 1]
    assert D(torch.randn(2, 6, 64, 64)).shape == (2, 1, 6, 6)
    with pytest.raises(ValueError, match="too small for n_layers=5"):
        PatchDiscriminator(6, ndf=4, n_layers=5)(torch.randn(1, 6, 32, 32))
    with pytest.raises(ValueError, match="not transposed"):
        receptive_field(UnetGenerator(3, 3, 6, ngf=4))


@pytest.mark.parametrize("size", [64, 128, 256])
def test_resnet_generator_shapes(size: int) -> None:
    G = ResnetGenerator(3, 3, ngf=4, n_blocks=2)
    y = G(torch.randn(1, 3, size, size))
    assert y.shape == (1, 3, size, size) and y.abs().max() <= 1


def test_resnet_generator_paper_layout() -> None:
    G = ResnetGenerator(3, 3, ngf=64, n_blocks=9)
    assert sum(p.numel() for p in G.parameters()) == 11_378_179  # the reference code's resnet_9blocks
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in G.modules()) == 2 + 2 * 9
    assert all(not isinstance(m, nn.BatchNorm2d) for m in G.modules())
    small = ResnetGenerator(3, 3, ngf=4, n_blocks=1)
    small(torch.randn(2, 3, 32, 32)).mean().backward()
    assert_gradients_reach(small)
    with pytest.raises(ValueError, match="not divisible by 4"):
        small(torch.randn(1, 3, 30, 30))


# --------------------------------------------------------------------------- image pool


def test_pool_returns_input_until_full() -> None:
    pool = ImagePool(5, seed=0)
    fakes = torch.arange(5.0).view(5, 1, 1, 1)
    assert torch.equal(pool.query(fakes[:3]), fakes[:3])
    assert torch.equal(pool.query(fakes[3:]), fakes[3:])
    assert len(pool) == 5
    assert torch.equal(ImagePool(0).query(fakes), fakes)


def test_pool_once_full_returns_stored_half_the_time() -> None:
    pool = ImagePool(50, seed=1)
    pool.query(-torch.ones(50, 1, 1, 1))  # fill with -1
    n, old = 4000, 0
    for i in range(n):
        out = pool.query(torch.full((1, 1, 1, 1), float(i)))
        old += int(out.item() != i)
    assert abs(old / n - 0.5) < 0.03  # binomial sd 0.008
    stored = torch.stack(pool.images).flatten()
    assert (stored >= 0).all()  # every -1 was swapped out long ago


def test_pool_swaps_the_returned_image_for_the_new_one() -> None:
    pool = ImagePool(3, seed=0)
    pool.query(torch.tensor([10.0, 11.0, 12.0]).view(3, 1, 1, 1))
    for i in range(20):
        before = sorted(float(t) for t in pool.images)
        out = float(pool.query(torch.full((1, 1, 1, 1), 100.0 + i)))
        after = sorted(float(t) for t in pool.images)
        if out == 100.0 + i:
            assert after == before
        else:
            assert out in before and sorted(before[:before.index(out)] + before[before.index(out) + 1:]
                                            + [100.0 + i]) == after


def test_pool_state_round_trip_and_determinism() -> None:
    a = ImagePool(4, seed=3)
    a.query(torch.randn(6, 2, 3, 3))
    b = ImagePool(4, seed=99)
    b.load_state_dict(a.state_dict())
    x = torch.randn(8, 2, 3, 3)
    assert torch.equal(a.query(x), b.query(x))
    with pytest.raises(ValueError, match="pool_size"):
        ImagePool(5).load_state_dict(a.state_dict())
    empty = ImagePool(4)
    c = ImagePool(4)
    c.load_state_dict(empty.state_dict())
    assert len(c) == 0


def test_pool_detaches() -> None:
    w = torch.ones(1, requires_grad=True)
    out = ImagePool(2).query(w * torch.ones(2, 1, 2, 2))
    assert not out.requires_grad


# --------------------------------------------------------------------------- LR decay


def test_linear_decay_schedule_and_resume() -> None:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2e-4)
    sched = linear_decay(opt, n_constant=3, n_decay=4)
    lrs = []
    for _ in range(8):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [2e-4 * f for f in (1, 1, 1, 4 / 5, 3 / 5, 2 / 5, 1 / 5, 0)]
    assert lrs == pytest.approx(expected)
    opt2 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2e-4)
    sched2 = linear_decay(opt2, 3, 4)
    state = sched.state_dict()
    sched2.load_state_dict(state)
    opt2.param_groups[0]["lr"] = sched2.get_last_lr()[0]
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    with pytest.raises(ValueError, match="n_decay"):
        linear_decay(opt, 1, 0)


# --------------------------------------------------------------------------- losses


def test_lsgan_losses_by_hand() -> None:
    d_real, d_fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 1.0])
    assert float(d_loss_lsgan(d_real, d_fake)) == pytest.approx((0 + 0.25) / 2 + (0 + 1) / 2)
    assert float(g_loss_lsgan(d_fake)) == pytest.approx((1 + 0) / 2)


def test_pix2pix_objective_by_hand() -> None:
    d_fake = torch.zeros(1, 1, 2, 2)  # D says 1/2 on every patch
    y = torch.zeros(1, 3, 2, 2)
    y_fake = torch.full((1, 3, 2, 2), 0.5)
    total, gan, l1 = g_loss_pix2pix(d_fake, y_fake, y, lambda_L1=100.0)
    assert float(gan) == pytest.approx(math.log(2))
    assert float(l1) == pytest.approx(0.5)
    assert float(total) == pytest.approx(math.log(2) + 50)
    assert float(g_loss_pix2pix(d_fake, y_fake, y, lambda_L1=0)[0]) == pytest.approx(math.log(2))


def test_l1_cycle_identity_by_hand() -> None:
    x = torch.tensor([[0.0, 1.0], [-1.0, 0.5]])
    x_rec = torch.tensor([[0.5, 1.0], [0.0, 0.5]])
    assert float(l1_loss(x_rec, x)) == pytest.approx(1.5 / 4)
    assert float(cycle_loss(x, x_rec)) == pytest.approx(1.5 / 4)
    assert float(identity_loss(x, x)) == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        l1_loss(x, x[0])


# --------------------------------------------------------------------------- the training steps


def _pix2pix(seed: int = 0) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    G, D = UnetGenerator(4, 3, n_down=5, ngf=4), PatchDiscriminator(7, 4, n_layers=2)
    return G, D, torch.optim.Adam(G.parameters(), 2e-4), torch.optim.Adam(D.parameters(), 2e-4)


def test_pix2pix_step_updates_both_and_logs_its_terms() -> None:
    G, D, opt_G, opt_D = _pix2pix()
    g0, d0 = [p.clone() for p in G.parameters()], [p.clone() for p in D.parameters()]
    x, y = torch.randn(2, 4, 32, 32), torch.rand(2, 3, 32, 32) * 2 - 1
    torch.manual_seed(1)
    logs = pix2pix.train_step(G, D, opt_G, opt_D, x, y, lambda_L1=100.0)
    assert set(logs) == {"loss_D", "loss_G_cGAN", "L1"} and all(math.isfinite(v) for v in logs.values())
    assert all(not torch.equal(a, b) for a, b in zip(g0, G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d0, D.parameters(), strict=True))
    # D's loss is the halved cross-entropy on the weights D had before its update
    G2, D2, _, _ = _pix2pix()
    torch.manual_seed(1)
    with torch.no_grad():
        y_fake = G2(x)
        expected = 0.5 * d_loss_bce(D2(torch.cat([x, y], 1)), D2(torch.cat([x, y_fake], 1)))
    assert logs["loss_D"] == pytest.approx(float(expected), rel=1e-5)


def test_pix2pix_l1_only_step_leaves_D_out() -> None:
    G, _, opt_G, _ = _pix2pix()
    x, y = torch.randn(2, 4, 32, 32), torch.rand(2, 3, 32, 32) * 2 - 1
    assert set(pix2pix.train_step(G, None, opt_G, None, x, y)) == {"L1"}
    G, D, opt_G, _ = _pix2pix()
    with pytest.raises(ValueError, match="opt_D"):
        pix2pix.train_step(G, D, opt_G, None, x, y)


def test_cyclegan_step_fills_the_pools_and_steps_the_schedules() -> None:
    torch.manual_seed(0)
    G, F_ = ResnetGenerator(3, 3, ngf=4, n_blocks=1), ResnetGenerator(3, 3, ngf=4, n_blocks=1)
    D_Y, D_X = PatchDiscriminator(3, 4, 2, "instance"), PatchDiscriminator(3, 4, 2, "instance")
    opt_G = torch.optim.Adam([*G.parameters(), *F_.parameters()], 2e-4)
    opt_D = torch.optim.Adam([*D_Y.parameters(), *D_X.parameters()], 2e-4)
    scheds = (linear_decay(opt_G, 1, 2), linear_decay(opt_D, 1, 2))
    pool_X, pool_Y = ImagePool(3, seed=0), ImagePool(3, seed=1)
    x, y = torch.rand(1, 3, 16, 16) * 2 - 1, torch.rand(1, 3, 16, 16) * 2 - 1
    logs = cyclegan.train_step(G, F_, D_Y, D_X, opt_G, opt_D, pool_X, pool_Y, x, y, schedulers=scheds)
    assert set(logs) == {"G_gan", "cycle", "identity", "D"} and all(math.isfinite(v) for v in logs.values())
    assert len(pool_X) == len(pool_Y) == 1
    assert opt_G.param_groups[0]["lr"] == pytest.approx(2e-4 * 2 / 3)  # one decay step of three
    assert cyclegan.train_step(G, F_, D_Y, D_X, opt_G, opt_D, pool_X, pool_Y, x, y, lambda_cyc=0.0)["cycle"] > 0


def test_cyclegan_identity_weight_can_outlive_the_cycle() -> None:
    """lambda_cyc=0 alone drops the identity term (the reference code scales it by lambda_cyc); lambda_identity
    keeps it, so that a no-cycle ablation differs from the full model by the cycle term only."""
    def g_grad(**kw):
        torch.manual_seed(0)
        G, F_ = ResnetGenerator(3, 3, ngf=4, n_blocks=1), ResnetGenerator(3, 3, ngf=4, n_blocks=1)
        D_Y, D_X = PatchDiscriminator(3, 4, 2, "instance"), PatchDiscriminator(3, 4, 2, "instance")
        opt_G = torch.optim.SGD([*G.parameters(), *F_.parameters()], lr=1.0)
        opt_D = torch.optim.SGD([*D_Y.parameters(), *D_X.parameters()], lr=0.0)
        before = [p.detach().clone() for p in G.parameters()]
        x, y = torch.rand(1, 3, 16, 16) * 2 - 1, torch.rand(1, 3, 16, 16) * 2 - 1
        cyclegan.train_step(G, F_, D_Y, D_X, opt_G, opt_D, ImagePool(0), ImagePool(0), x, y, **kw)
        return torch.cat([(b - p.detach()).flatten() for b, p in zip(before, G.parameters(), strict=True)])

    gan_only = g_grad(lambda_cyc=0.0)
    assert torch.equal(g_grad(lambda_cyc=0.0, lambda_identity=0.0), gan_only)
    with_idt = g_grad(lambda_cyc=0.0, lambda_identity=5.0)
    assert (with_idt - gan_only).abs().max() > 1e-4                      # the identity term moves G
    assert torch.allclose(g_grad(lambda_cyc=10.0), g_grad(lambda_cyc=10.0, lambda_identity=5.0))  # 0.5 * 10
