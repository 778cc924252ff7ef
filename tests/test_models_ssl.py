"""The paper's semi-supervised MNIST networks, EMA and training steps (gan_utils.models.improved, SSL part)."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.losses import feature_matching, semi_supervised_d_loss
from gan_utils.models.improved import (
    GaussianNoise,
    SSLDiscriminator,
    SSLGenerator,
    ssl_accuracy,
    ssl_ema,
    ssl_step,
    supervised_step,
)

torch.set_num_threads(1)


def _trainable(module: nn.Module) -> list[nn.Parameter]:
    return [p for p in module.parameters() if p.requires_grad]


def _setup(seed: int = 0) -> tuple[SSLDiscriminator, SSLGenerator, torch.optim.Optimizer, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    D, G = SSLDiscriminator(), SSLGenerator()
    D.data_init(torch.rand(200, 784))
    opt_D = torch.optim.Adam(_trainable(D), 3e-3, betas=(0.5, 0.999))
    opt_G = torch.optim.Adam(_trainable(G), 3e-3, betas=(0.5, 0.999))
    return D, G, opt_D, opt_G


def test_shapes_and_ranges() -> None:
    torch.manual_seed(0)
    D, G = SSLDiscriminator(), SSLGenerator()
    z = G.sample_z(6)
    assert z.shape == (6, 100) and z.min() >= 0 and z.max() <= 1  # U(0, 1), as the official code
    x_fake = G(z)
    assert x_fake.shape == (6, 1, 28, 28) and x_fake.min() >= 0 and x_fake.max() <= 1  # sigmoid: [0, 1]
    assert D(x_fake).shape == (6, 10)
    assert D(x_fake.flatten(1)).shape == (6, 10)  # (B, 784) works too
    assert D.features(x_fake).shape == (6, 250)


def test_parameter_counts_by_hand() -> None:
    D, G = SSLDiscriminator(), SSLGenerator()
    sizes = [(784, 1000), (1000, 500), (500, 250), (250, 250), (250, 250), (250, 10)]
    # Each weight-normed layer: v (out x in), g (out), bias (out).
    assert sum(p.numel() for p in D.parameters()) == sum(i * o + 2 * o for i, o in sizes) == 1_541_020
    # The hidden layers' g stay where the data-dependent init puts them (official train_scale=False).
    assert sum(p.numel() for p in _trainable(D)) == 1_541_020 - (1000 + 500 + 250 + 250 + 250)
    # G: 100x500 and 500x500 without bias, BN (shift trained, scale fixed), then 500x784 with g and bias.
    total_G = 100 * 500 + 1000 + 500 * 500 + 1000 + 500 * 784 + 784 + 784
    assert sum(p.numel() for p in G.parameters()) == total_G == 695_568
    assert sum(p.numel() for p in _trainable(G)) == total_G - 1000


def test_weight_norm_on_every_d_layer_and_g_output() -> None:
    D, G = SSLDiscriminator(), SSLGenerator()
    linears = [m for m in D.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 6 and not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
    for layer in [*linears, G.net[-2]]:
        g = layer.parametrizations.weight.original0  # (out, 1)
        assert torch.allclose(layer.weight.norm(dim=1, keepdim=True), g, atol=1e-5)  # w = g v / ||v||
    assert [m.sigma for m in D.modules() if isinstance(m, GaussianNoise)] == [0.3, 0.5, 0.5, 0.5, 0.5, 0.5]


def test_noise_only_in_training_mode() -> None:
    torch.manual_seed(0)
    D = SSLDiscriminator()
    x = torch.rand(4, 784)
    D.eval()
    assert torch.equal(D(x), D(x)) and torch.equal(D.features(x), D.features(x))
    D.train()
    assert not torch.allclose(D(x), D(x))
    assert torch.equal(GaussianNoise(0.5).eval()(x), x)


def test_data_init_standardises_pre_activations() -> None:
    torch.manual_seed(0)
    D = SSLDiscriminator(input_noise=0.0, hidden_noise=0.0)  # without noise the statistics are exact
    x = torch.rand(300, 784)
    D.data_init(x)
    first = D.body[1]
    a = first(x)  # (300, 1000)
    assert torch.allclose(a.mean(0), torch.zeros(1000), atol=1e-4)
    assert torch.allclose(a.var(0, unbiased=False), torch.ones(1000), atol=1e-3)
    logits = D.eval()(x)
    assert torch.allclose(logits.std(0, unbiased=False), torch.ones(10), atol=1e-3)


def test_gradients_reach_g_through_feature_matching() -> None:
    torch.manual_seed(0)
    D, G = SSLDiscriminator(), SSLGenerator()
    loss = feature_matching(D.features(torch.rand(8, 784)), D.features(G(G.sample_z(8))))
    loss.backward()
    for name, p in G.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, name


def test_official_unlabeled_loss_matches_semi_supervised_d_loss() -> None:
    torch.manual_seed(0)
    l_lab, l_unl, l_fake, y = torch.randn(5, 10), torch.randn(7, 10), torch.randn(7, 10), torch.randint(10, (5,))
    lse_unl, lse_fake = torch.logsumexp(l_unl, 1), torch.logsumexp(l_fake, 1)
    # train_mnist_feature_matching.py's loss_unl, written with logsumexp as in the paper.
    loss_unl = (-0.5 * lse_unl.mean() + 0.5 * F.softplus(lse_unl).mean() + 0.5 * F.softplus(lse_fake).mean())
    expected = F.cross_entropy(l_lab, y) + loss_unl
    assert torch.allclose(semi_supervised_d_loss(l_lab, y, l_unl, l_fake), expected, atol=1e-6)


def test_ssl_step_updates_both_and_keeps_frozen_scales() -> None:
    D, G, opt_D, opt_G = _setup()
    frozen_D = [p.clone() for p in D.parameters() if not p.requires_grad]
    D_before, G_before = copy.deepcopy(D.state_dict()), copy.deepcopy(G.state_dict())
    x, y = torch.rand(20, 784), torch.arange(20) % 10
    for _ in range(2):
        out = ssl_step(D, G, opt_D, opt_G, x, y, torch.rand(16, 784), torch.rand(16, 784))
    assert set(out) == {"loss_D", "loss_G", "acc_lab"} and all(torch.isfinite(torch.tensor(v)) for v in out.values())
    assert any(not torch.equal(a, D.state_dict()[k]) for k, a in D_before.items())
    assert any(not torch.equal(a, G.state_dict()[k]) for k, a in G_before.items())
    assert all(torch.equal(a, b) for a, b in zip(frozen_D, [p for p in D.parameters() if not p.requires_grad],
                                                strict=True))
    assert all(torch.equal(m.weight, torch.ones_like(m.weight)) for m in G.modules()
               if isinstance(m, nn.BatchNorm1d))


def test_ema_differs_from_d_and_is_what_eval_uses() -> None:
    D, G, opt_D, opt_G = _setup()
    D_ema = ssl_ema(D, decay=0.9)
    assert all(torch.equal(a, b) for a, b in zip(D_ema.module.parameters(), D.parameters(), strict=True))
    start = [p.detach().clone() for p in D.parameters()]
    x, y = torch.rand(20, 784), torch.arange(20) % 10
    ssl_step(D, G, opt_D, opt_G, x, y, torch.rand(16, 784), D_ema=D_ema)
    for a, p0, p1 in zip(D_ema.module.parameters(), start, D.parameters(), strict=True):
        assert torch.allclose(a, 0.9 * p0 + 0.1 * p1.detach(), atol=1e-6)  # one EMA update with decay 0.9
    ssl_step(D, G, opt_D, opt_G, x, y, torch.rand(16, 784), D_ema=D_ema)
    x_test = torch.rand(50, 784)
    D_copy = copy.deepcopy(D)
    D_copy.load_state_dict(D_ema.module.state_dict())
    with torch.no_grad():
        ema_logits = D_ema.eval()(x_test)
        assert torch.equal(ema_logits, D_ema(x_test))  # eval: no noise
        assert torch.allclose(ema_logits, D_copy.eval()(x_test), atol=1e-6)
        assert not torch.allclose(ema_logits, D.eval()(x_test), atol=1e-3)
    labels = ema_logits.argmax(1)
    assert ssl_accuracy(D_ema, x_test, labels, batch=16) == 1.0  # batched, in eval mode


def test_ssl_accuracy_restores_mode_and_supervised_step_runs() -> None:
    D, _, opt_D, _ = _setup()
    x, y = torch.rand(20, 784), torch.arange(20) % 10
    out = supervised_step(D, opt_D, x, y, ssl_ema(D))
    assert set(out) == {"loss_D", "acc_lab"}
    D.train()
    ssl_accuracy(D, x, y)
    assert D.training
    D.eval()
    ssl_accuracy(D, x, y)
    assert not D.training


def test_wrong_input_sizes_say_what_to_do() -> None:
    D, G = SSLDiscriminator(), SSLGenerator()
    with pytest.raises(ValueError, match=r"784 pixels.*got \(2, 3, 32, 32\)"):
        D(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="784 pixels"):
        D.features(torch.rand(2, 28, 27))
    with pytest.raises(ValueError, match=r"G.sample_z"):
        G(torch.rand(2, 64))


def test_draw_labels_is_balanced_seeded_and_checked() -> None:
    from gan_utils.models.improved import draw_labels

    y = torch.arange(200) % 10  # 20 of each class
    a, b = draw_labels(y, 3, seed=0), draw_labels(y, 3, seed=1)
    assert torch.bincount(y[a], minlength=10).tolist() == [3] * 10 and len(set(a.tolist())) == 30
    assert torch.equal(a, draw_labels(y, 3, seed=0)) and not torch.equal(a, b)
    with pytest.raises(ValueError, match="fewer than per_class"):
        draw_labels(y, 21, seed=0)


def test_ema_weights_saved_and_loaded_into_a_fresh_d_score_the_same() -> None:
    # Notebook 05 keeps the best-on-validation EMA weights as D_ema.module.state_dict() in a file and scores a fresh
    # SSLDiscriminator loaded from it: the weight-norm parametrisation must survive the round trip exactly.
    import io

    D, G, opt_D, opt_G = _setup()
    D_ema = ssl_ema(D, decay=0.9)
    x, y = torch.rand(20, 784), torch.arange(20) % 10
    ssl_step(D, G, opt_D, opt_G, x, y, torch.rand(16, 784), D_ema=D_ema)
    buffer = io.BytesIO()
    torch.save({"step": 1, "D": D_ema.module.state_dict()}, buffer)
    buffer.seek(0)
    fresh = SSLDiscriminator()
    fresh.load_state_dict(torch.load(buffer, weights_only=True)["D"])
    x_test = torch.rand(30, 784)
    with torch.no_grad():
        assert torch.equal(fresh.eval()(x_test), D_ema.module.eval()(x_test))
    labels = torch.arange(30) % 10
    assert ssl_accuracy(fresh, x_test, labels) == ssl_accuracy(D_ema, x_test, labels)
    assert not fresh.training  # ssl_accuracy restored the mode it found
