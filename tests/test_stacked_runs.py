import copy

import pytest
import torch

from gan_utils.data.synthetic.mixtures import ring8
from gan_utils.models.pacgan import PacMLPDiscriminator, PacMLPGenerator, init_normal
from gan_utils.train.seed_runs import StackedGAN, StackedMLP, train_mixture_runs
from gan_utils.train.trainer import train_discriminator, train_generator

R, B, Z = 3, 8, 2
LR, BETAS = 1e-2, (0.8, 0.999)  # a large lr so that a wrong update would show


def make_runs(pack: int) -> tuple[list[PacMLPGenerator], list[PacMLPDiscriminator]]:
    Gs, Ds = [], []
    for s in range(R):
        gen = torch.Generator().manual_seed(s)
        G, D = PacMLPGenerator(Z, 2, width=16, layers=2), PacMLPDiscriminator(2, pack, width=12, layers=2, pieces=3)
        init_normal(G, std=0.3, generator=gen)  # larger than 0.02 so that every layer matters
        init_normal(D, std=0.3, generator=gen)
        with torch.no_grad():  # BN gains and biases away from 1 and 0, so that a mix-up between runs would show
            for m in G.modules():
                if isinstance(m, torch.nn.BatchNorm1d):
                    m.weight.uniform_(0.5, 1.5, generator=gen)
                    m.bias.uniform_(-0.5, 0.5, generator=gen)
        Gs.append(G)
        Ds.append(D)
    return Gs, Ds


@pytest.mark.parametrize("pack", [1, 2])
def test_stacked_steps_equal_separate_eager_runs(pack: int) -> None:
    Gs, Ds = make_runs(pack)
    refs = [(copy.deepcopy(G), copy.deepcopy(D)) for G, D in zip(Gs, Ds, strict=True)]
    opts = [(torch.optim.Adam(G.parameters(), LR, BETAS), torch.optim.Adam(D.parameters(), LR, BETAS))
            for G, D in refs]
    gan = StackedGAN(Gs, Ds, LR, BETAS)
    gen = torch.Generator().manual_seed(123)
    for _ in range(3):  # several steps, so that Adam's moments and BN's running statistics enter
        x_real = torch.randn(R, B * pack, 2, generator=gen)
        z_D, z_G = torch.randn(2, R, B * pack, Z, generator=gen)
        loss_D, loss_G = gan.step(x_real, z_D, z_G)
        for r, ((G, D), (opt_G, opt_D)) in enumerate(zip(refs, opts, strict=True)):
            ld = train_discriminator(D, G, opt_D, x_real[r], z_D[r])
            lg = train_generator(D, G, opt_G, z_G[r])
            assert loss_D[r].item() == pytest.approx(ld, rel=1e-5, abs=1e-6)
            assert loss_G[r].item() == pytest.approx(lg, rel=1e-5, abs=1e-6)
    for r, (G, D) in enumerate(refs):
        G_out = gan.G.export(r, copy.deepcopy(G))
        D_out = gan.D.export(r, copy.deepcopy(D))
        for ref, out in ((G, G_out), (D, D_out)):
            for (name, a), b in zip(ref.state_dict().items(), out.state_dict().values(), strict=True):
                if name.endswith("num_batches_tracked"):
                    continue
                torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=f"run {r}: {name} differs")
    # eval-mode samples use each run's own running BN statistics
    z = torch.randn(R, 5, Z, generator=gen)
    gan.G.eval()
    x = gan.G(z)  # (R, 5, 2)
    gan.G.train()
    for r, (G, _) in enumerate(refs):
        G.eval()
        torch.testing.assert_close(x[r], G(z[r]), rtol=1e-5, atol=1e-6)


def test_stacked_runs_differ_and_stay_independent() -> None:
    # changing run 0's batch must not move runs 1 and 2
    Gs, Ds = make_runs(2)
    a, b = StackedGAN(copy.deepcopy(Gs), copy.deepcopy(Ds), LR, BETAS), StackedGAN(Gs, Ds, LR, BETAS)
    x = torch.randn(R, 2 * B, 2)
    z = torch.randn(2, R, 2 * B, Z)
    x2 = x.clone()
    x2[0] += 1.0
    a.step(x, z[0], z[1])
    b.step(x2, z[0], z[1])
    wa, wb = a.D.layers[0].linear.weight, b.D.layers[0].linear.weight
    assert not torch.allclose(wa[0], wb[0])
    torch.testing.assert_close(wa[1:], wb[1:])


def test_shapes() -> None:
    Gs, Ds = make_runs(3)
    gan = StackedGAN(Gs, Ds)
    assert (gan.runs, gan.pack, gan.z_dim, gan.x_dim) == (R, 3, Z, 2)
    assert gan.G(torch.randn(R, 12, Z)).shape == (R, 12, 2)
    assert gan.D(torch.randn(R, 12, 2)).shape == (R, 4, 1)  # 12 points = 4 packs of 3
    assert gan.sample(7).shape == (R, 7, 2)


def test_clear_errors_on_mismatched_inputs() -> None:
    Gs, Ds = make_runs(2)
    gan = StackedGAN(Gs, Ds)
    z = torch.randn(R, 2 * B, Z)
    with pytest.raises(ValueError, match="R=3"):
        gan.step(torch.randn(R + 1, 2 * B, 2), z, z)
    with pytest.raises(ValueError, match="m=2"):
        gan.step(torch.randn(R, 2 * B + 1, 2), z, z)
    with pytest.raises(ValueError, match="as many"):
        gan.step(torch.randn(R, 4 * B, 2), z, z)
    with pytest.raises(ValueError, match="one of each"):
        StackedGAN(Gs, Ds[:2])
    with pytest.raises(ValueError, match="differ"):
        StackedMLP([PacMLPGenerator(width=8), PacMLPGenerator(width=9)])
    with pytest.raises(ValueError, match="cannot stack a Dropout"):
        StackedMLP([torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout())])


def test_train_mixture_runs_smoke() -> None:
    out = train_mixture_runs(ring8(), pack=2, seeds=(0, 1), steps=5, batch=16, g_width=8, g_layers=2,
                             d_width=8, d_layers=2, pieces=2, n_eval=100, progress=False, log_every=2)
    assert len(out.stats) == 2 and out.samples.shape == (2, 100, 2)
    assert len(out.losses["loss_D"]) == 3 and len(out.losses["loss_D"][0]) == 2
    assert set(out.summary()) == {"modes", "high quality %", "reverse KL"}
    # a seed fixes its run's initial weights whatever the other seeds
    G0 = PacMLPGenerator(2, 2, 8, 2)
    init_normal(G0, generator=torch.Generator().manual_seed(1))
    solo = train_mixture_runs(ring8(), pack=2, seeds=(1,), steps=0, batch=16, g_width=8, g_layers=2,
                              d_width=8, d_layers=2, pieces=2, n_eval=10, progress=False)
    torch.testing.assert_close(solo.gan.G.layers[0].weight[0], G0.net[0].weight.t())


def test_eval_every_records_history() -> None:
    out = train_mixture_runs(ring8(), pack=1, seeds=(0,), steps=4, batch=8, g_width=8, g_layers=1, d_width=8,
                             d_layers=1, pieces=2, n_eval=50, progress=False, eval_every=2)
    assert [s for s, _ in out.history] == [2, 4] and out.history[-1][1] == out.stats


def test_linear_lr_decay_reaches_zero() -> None:
    out = train_mixture_runs(ring8(), seeds=(0,), steps=4, batch=8, g_width=8, g_layers=1, d_width=8, d_layers=1,
                             pieces=2, n_eval=10, progress=False, lr=1e-3, decay_from=0.5)
    assert out.gan.opt_G.param_groups[0]["lr"] == pytest.approx(1e-3 / 2)  # the last step's rate: 1/2 of the way
