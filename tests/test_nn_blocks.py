import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.losses import d_loss_bce, feature_matching, g_loss_nonsaturating, semi_supervised_d_loss
from gan_utils.nn import (
    DCGANDiscriminator,
    DCGANGenerator,
    HistoricalAverage,
    InfoGANDiscriminator,
    InfoGANGenerator,
    LabelEmbedding,
    MinibatchDiscrimination,
    QHead,
    VirtualBatchNorm,
    concat_condition,
    feature_matching_loss,
    info_loss,
    latent_input,
    one_hot,
    sample_latent,
    vbn_reference_pass,
    weights_init,
)

torch.set_num_threads(1)

SIZES = [(28, 1), (32, 3)]


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def leaves(m: nn.Module) -> list[nn.Module]:
    return [c for c in m.modules() if not list(c.children())]


# -- DCGAN G and D ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("img_size,channels", SIZES)
@pytest.mark.parametrize("n_classes,embed_dim", [(0, 0), (10, 0), (10, 8)])
def test_dcgan_shapes(img_size: int, channels: int, n_classes: int, embed_dim: int) -> None:
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=100, channels=channels, img_size=img_size, n_classes=n_classes, embed_dim=embed_dim)
    D = DCGANDiscriminator(channels=channels, img_size=img_size, n_classes=n_classes, embed_dim=embed_dim)
    z = torch.randn(5, 100)
    y = torch.arange(5) if n_classes else None
    x = G(z, y)
    assert x.shape == (5, channels, img_size, img_size)
    assert x.abs().max() <= 1.0
    assert D(x, y).shape == (5,)
    assert D.features(x, y).shape == (5, D.feature_dim)
    assert D.feature_dim == {28: 128 * 7 * 7, 32: 256 * 4 * 4}[img_size]
    assert torch.allclose(D.from_features(D.features(x, y)), D(x, y))


@pytest.mark.parametrize("img_size,channels", SIZES)
def test_dcgan_minibatch_and_multi_output_heads(img_size: int, channels: int) -> None:
    x = torch.randn(6, channels, img_size, img_size)
    D = DCGANDiscriminator(channels=channels, img_size=img_size, minibatch_kernels=16, minibatch_dim=5)
    assert D(x).shape == (6,)
    assert D.head.in_features == D.feature_dim + 16
    D10 = DCGANDiscriminator(channels=channels, img_size=img_size, n_outputs=10)
    assert D10(x).shape == (6, 10)


def test_conditional_models_use_the_label() -> None:
    torch.manual_seed(0)
    G = DCGANGenerator(n_classes=10).eval()
    D = DCGANDiscriminator(n_classes=10).eval()
    z = torch.randn(2, 100).repeat(2, 1)  # the same z twice
    y = torch.tensor([0, 0, 3, 3])
    x = G(z, y)
    assert not torch.allclose(x[:2], x[2:])
    assert not torch.allclose(D(x[:2], y[:2]), D(x[:2], y[2:]))
    with pytest.raises(ValueError, match="pass the labels"):
        G(z)
    with pytest.raises(ValueError, match="takes no labels"):
        DCGANGenerator()(z, y)


def test_dcgan_rejects_unsupported_sizes_and_shapes() -> None:
    with pytest.raises(ValueError, match="img_size"):
        DCGANGenerator(img_size=30)
    with pytest.raises(ValueError, match="expects images"):
        DCGANDiscriminator(img_size=28)(torch.randn(2, 1, 32, 32))


@pytest.mark.parametrize("img_size,channels", SIZES)
def test_dcgan_sizes_fit_a_cpu_and_g_is_larger_than_d(img_size: int, channels: int) -> None:
    G = DCGANGenerator(channels=channels, img_size=img_size)
    D = DCGANDiscriminator(channels=channels, img_size=img_size)
    assert n_params(G) > n_params(D)
    if img_size == 28:  # the measured CPU model: G 0.77M, D 0.14M
        assert 0.6e6 < n_params(G) < 0.9e6 and n_params(D) < 0.2e6
    else:
        assert n_params(G) <= 1.5e6


@pytest.mark.parametrize("img_size,channels", SIZES)
def test_dcgan_follows_the_architecture_guidelines(img_size: int, channels: int) -> None:
    G = DCGANGenerator(channels=channels, img_size=img_size)
    D = DCGANDiscriminator(channels=channels, img_size=img_size)
    g_leaves, d_leaves = leaves(G), leaves(D)
    # No BN on G's output: the last layers are a transposed conv and the Tanh.
    assert isinstance(g_leaves[-2], nn.ConvTranspose2d) and isinstance(g_leaves[-1], nn.Tanh)
    # No BN on D's input: the first conv goes straight into the LeakyReLU.
    assert isinstance(d_leaves[0], nn.Conv2d) and isinstance(d_leaves[1], nn.LeakyReLU)
    assert d_leaves[1].negative_slope == 0.2
    # BN in both, elsewhere.
    assert any(isinstance(m, nn.BatchNorm2d) for m in g_leaves)
    assert any(isinstance(m, nn.BatchNorm2d) for m in d_leaves)
    # No pooling; strided convs in D, transposed convs in G.
    for m in g_leaves + d_leaves:
        assert not isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d))
    assert all(m.stride == (2, 2) for m in d_leaves if isinstance(m, nn.Conv2d))
    assert all(m.stride == (2, 2) for m in g_leaves if isinstance(m, nn.ConvTranspose2d))
    assert not any(isinstance(m, nn.Conv2d) for m in g_leaves)
    # ReLU in G, LeakyReLU in D.
    assert any(isinstance(m, nn.ReLU) for m in g_leaves) and not any(isinstance(m, nn.LeakyReLU) for m in g_leaves)
    assert not any(isinstance(m, nn.ReLU) for m in d_leaves)
    # No fully connected hidden layers: G's projection and D's logit are the only Linear layers.
    assert sum(isinstance(m, nn.Linear) for m in g_leaves) == 1
    assert sum(isinstance(m, nn.Linear) for m in d_leaves) == 1 and isinstance(d_leaves[-1], nn.Linear)


def test_weights_init_statistics() -> None:
    torch.manual_seed(0)
    G, D = DCGANGenerator(img_size=32, channels=3), DCGANDiscriminator(img_size=32, channels=3)
    gains = []
    for model in (G, D):
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and m.weight.numel() >= 1000:
                assert abs(m.weight.std().item() - 0.02) < 0.002, m
                assert abs(m.weight.mean().item()) < 0.002, m
            if isinstance(m, nn.BatchNorm2d):
                gains.append(m.weight.detach())
                assert torch.all(m.bias == 0)
            if getattr(m, "bias", None) is not None:
                assert torch.all(m.bias == 0), m
    gains_all = torch.cat(gains)
    assert abs(gains_all.mean().item() - 1.0) < 0.005
    assert 0.016 < gains_all.std().item() < 0.024
    # weights_init also resets a plain layer and a VirtualBatchNorm.
    lin, vbn = nn.Linear(100, 200), VirtualBatchNorm(500)
    lin.apply(weights_init)
    vbn.apply(weights_init)
    assert abs(lin.weight.std().item() - 0.02) < 0.002 and torch.all(lin.bias == 0)
    assert abs(vbn.weight.mean().item() - 1.0) < 0.005 and abs(vbn.weight.std().item() - 0.02) < 0.003


# -- conditioning ------------------------------------------------------------------------------------------

def test_one_hot_and_concat_condition() -> None:
    y = torch.tensor([2, 0])
    c = one_hot(y, 3)
    assert torch.equal(c, torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))
    v = concat_condition(torch.zeros(2, 4), c)
    assert v.shape == (2, 7) and torch.equal(v[:, 4:], c)
    img = concat_condition(torch.zeros(2, 1, 5, 5), c)
    assert img.shape == (2, 4, 5, 5)
    assert torch.all(img[0, 3] == 1) and torch.all(img[0, 1:3] == 0) and torch.all(img[1, 1] == 1)
    emb = LabelEmbedding(10, 8)
    assert emb(torch.tensor([1, 2, 3])).shape == (3, 8) and emb.out_features == 8


def test_conditioning_errors_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="integer"):
        one_hot(torch.tensor([0.0, 1.0]), 3)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        one_hot(torch.tensor([3]), 3)
    with pytest.raises(ValueError, match="batch size"):
        concat_condition(torch.zeros(3, 4), one_hot(torch.tensor([0, 1]), 3))
    with pytest.raises(ValueError, match=r"\(B, K\)"):
        concat_condition(torch.zeros(2, 4), torch.tensor([0, 1]))


# -- minibatch discrimination ------------------------------------------------------------------------------

def test_minibatch_discrimination_by_hand() -> None:
    # A = 2 features, B = 1 kernel, C = 2 dims, T all ones: M_i = (f_i1 + f_i2) * (1, 1).
    mbd = MinibatchDiscrimination(2, n_kernels=1, kernel_dim=2)
    with torch.no_grad():
        mbd.T.fill_(1.0)
    f = torch.tensor([[0.0, 1.0], [1.0, 1.0]])  # M_1 = (1, 1), M_2 = (2, 2): L1 distance 2
    out = mbd(f)
    assert out.shape == (2, 3)
    assert torch.allclose(out[:, :2], f)
    assert torch.allclose(out[:, 2], torch.full((2,), math.exp(-2)))
    mbd.include_self = True  # the paper's sum, with j = i giving exp(0) = 1
    assert torch.allclose(mbd(f)[:, 2], torch.full((2,), 1 + math.exp(-2)))


def test_minibatch_discrimination_sees_collapse() -> None:
    torch.manual_seed(0)
    mbd = MinibatchDiscrimination(8, n_kernels=4, kernel_dim=3)
    assert mbd(torch.randn(5, 8)).shape == (5, 8 + 4)
    same = torch.randn(1, 8).repeat(5, 1)  # a collapsed batch: every o(x_i)_b = N - 1
    assert torch.allclose(mbd.closeness(same), torch.full((5, 4), 4.0))
    assert (mbd.closeness(torch.randn(5, 8) * 10) < 1.0).all()


# -- virtual batch norm ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(6, 3), (6, 3, 4, 4)])
def test_vbn_reference_batch_uses_its_own_statistics(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(3)
    with torch.no_grad():
        vbn.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        vbn.bias.copy_(torch.tensor([0.0, -1.0, 3.0]))
    x_ref = torch.randn(*shape) * 3 + 1
    out = vbn(x_ref)  # the first call is the reference pass
    expected = F.batch_norm(x_ref, None, None, vbn.weight, vbn.bias, training=True, eps=vbn.eps)
    assert torch.allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("shape", [(6, 3), (6, 3, 4, 4)])
def test_vbn_normalises_each_example_with_reference_plus_itself(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(3)
    x_ref = torch.randn(*shape)
    vbn(x_ref)
    x = torch.randn(4, *shape[1:]) * 2 + 0.5
    out = vbn(x)
    # The paper's version: example i is normalised like BN over the reference batch with x_i appended.
    for i in range(4):
        joint = torch.cat([x_ref, x[i:i + 1]])
        bn = F.batch_norm(joint, None, None, vbn.weight, vbn.bias, training=True, eps=vbn.eps)
        assert torch.allclose(out[i], bn[-1], atol=1e-5)
    # So an example's output does not depend on its batch-mates.
    other = torch.cat([x[:1], torch.randn(7, *shape[1:]) * 5])
    assert torch.allclose(vbn(other)[0], out[0], atol=1e-6)
    assert torch.allclose(vbn(x[:1])[0], out[0], atol=1e-6)


def test_vbn_by_hand() -> None:
    vbn = VirtualBatchNorm(1, eps=0.0)
    vbn(torch.tensor([[0.0], [2.0]]))  # reference: mean 1, mean of squares 2
    # x = 4: mean (2*1 + 4)/3 = 2, mean of squares (2*2 + 16)/3 = 20/3, var 20/3 - 4 = 8/3.
    assert math.isclose(vbn(torch.tensor([[4.0]])).item(), 2 / math.sqrt(8 / 3), rel_tol=1e-6)


def test_vbn_reference_pass_and_gradients_in_a_generator() -> None:
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(4, 8), VirtualBatchNorm(8), nn.ReLU(), nn.Linear(8, 6), VirtualBatchNorm(6),
                      nn.Tanh())
    z_ref, z = torch.randn(16, 4), torch.randn(5, 4)
    vbn_reference_pass(G, z_ref)
    x_fake = G(z)
    single = G(z[:2])
    assert torch.allclose(single, x_fake[:2], atol=1e-6)
    vbn_reference_pass(G, z_ref)  # redone every step, as in the paper: the statistics depend on G
    G(z).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())


# -- historical averaging ----------------------------------------------------------------------------------

def test_historical_average_by_hand_over_three_steps() -> None:
    lin = nn.Linear(1, 1, bias=False)
    ha = HistoricalAverage(lin)
    assert ha.penalty().item() == 0.0
    for theta in (1.0, 2.0, 4.0):
        with torch.no_grad():
            lin.weight.fill_(theta)
        ha.update()
    # mean of theta_1..3 = 7/3, so the penalty at theta = 4 is (4 - 7/3)^2 = 25/9.
    penalty = ha.penalty()
    assert math.isclose(penalty.item(), 25 / 9, rel_tol=1e-6)
    penalty.backward()  # the average is a constant: d/dtheta = 2 (theta - 7/3)
    assert math.isclose(lin.weight.grad.item(), 2 * (4 - 7 / 3), rel_tol=1e-6)
    with torch.no_grad():
        lin.weight.fill_(0.0)
    assert math.isclose(ha.penalty().item(), (7 / 3) ** 2, rel_tol=1e-6)
    restored = HistoricalAverage(lin)
    restored.load_state_dict(ha.state_dict())
    assert restored.count == 3 and math.isclose(restored.penalty().item(), (7 / 3) ** 2, rel_tol=1e-6)


# -- feature matching --------------------------------------------------------------------------------------

def test_feature_matching_by_hand() -> None:
    f_real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    f_fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]], requires_grad=True)  # mean (1, 1): difference (1, 2)
    assert math.isclose(feature_matching(f_real, f_fake).item(), 2.5)  # mean over features (official code)
    assert math.isclose(feature_matching(f_real, f_fake, reduction="sum").item(), 5.0)  # the paper's norm
    assert math.isclose(feature_matching_loss(f_real, f_fake).item(), 2.5)
    assert feature_matching(f_real, f_real).item() == 0.0
    f_real_g = f_real.clone().requires_grad_(True)
    feature_matching(f_real_g, f_fake).backward()
    assert f_real_g.grad is None and f_fake.grad is not None
    assert feature_matching(torch.ones(3, 2, 2, 2), torch.zeros(3, 2, 2, 2)).item() == 1.0


# -- InfoGAN -----------------------------------------------------------------------------------------------

def test_sample_latent_and_q_head_shapes() -> None:
    gen = torch.Generator().manual_seed(0)
    z, c_idx, c_cont = sample_latent(256, generator=gen)
    assert z.shape == (256, 62) and c_idx.shape == (256,) and c_cont.shape == (256, 2)
    assert c_idx.dtype == torch.long and 0 <= c_idx.min() and c_idx.max() <= 9
    assert z.min() >= -1 and z.max() <= 1 and c_cont.min() >= -1 and c_cont.max() <= 1
    assert z.min() < -0.9 and z.max() > 0.9  # uniform on (-1, 1), not N(0, 1) squeezed
    again = sample_latent(256, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip((z, c_idx, c_cont), again, strict=True))
    g_in = latent_input(z, c_idx, c_cont)
    assert g_in.shape == (256, 74) and torch.equal(g_in[:, 62:72].argmax(1), c_idx)
    Q = QHead(6272)
    q = Q(torch.randn(4, 6272))
    assert q.cat_logits.shape == (4, 10) and q.cont_mean.shape == (4, 2) and q.cont_log_std is None
    q = QHead(6272, learn_std=True)(torch.randn(4, 6272))
    assert q.cont_log_std is not None and q.cont_log_std.shape == (4, 2)


def test_infogan_networks_match_the_papers_table_1() -> None:
    G, D = InfoGANGenerator(), InfoGANDiscriminator()
    # G: FC 74->1024 (no bias) + BN, FC 1024->6272 + BN, upconv 128->64 + BN, upconv 64->1 (+ bias), by hand
    assert n_params(G) == 74 * 1024 + 2 * 1024 + 1024 * 6272 + 2 * 6272 + 128 * 64 * 16 + 2 * 64 + 64 * 16 + 1
    # D: conv 1->64 (+ bias), conv 64->128 + BN, FC 6272->1024 + BN, FC 1024->1 (+ bias)
    assert n_params(D) == 16 * 64 + 64 + 64 * 128 * 16 + 2 * 128 + 6272 * 1024 + 2 * 1024 + 1024 + 1
    z, c_idx, c_cont = sample_latent(5)
    x = G(latent_input(z, c_idx, c_cont))
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    f = D.features(x)
    assert f.shape == (5, 1024) == (5, D.feature_dim) and D.from_features(f).shape == (5,) and D(x).shape == (5,)
    assert [m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)] == [0.1] * 3
    assert not isinstance(D.body[1], nn.BatchNorm2d)  # no BN on D's input layer
    small = InfoGANGenerator(fc=32, ngf=8)
    assert small(torch.rand(2, 74)).shape == (2, 1, 28, 28)
    with pytest.raises(ValueError, match="28, 28"):
        D(torch.zeros(2, 3, 32, 32))


def test_infogan_networks_pass_gradients_to_g_through_d_and_q() -> None:
    torch.manual_seed(0)
    G, D = InfoGANGenerator(fc=64, ngf=8), InfoGANDiscriminator(ndf=8, fc=64)
    Q = QHead(D.feature_dim)
    z, c_idx, c_cont = sample_latent(6)
    f = D.features(G(latent_input(z, c_idx, c_cont)))
    q = Q(f)
    info = info_loss(q.cat_logits, c_idx, q.cont_mean, c_cont)
    info.backward()
    grads = [p.grad for p in G.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads) and sum(g.abs().sum() for g in grads) > 0


def test_info_loss_by_hand() -> None:
    cat_logits = torch.tensor([[0.0, math.log(3.0)]])  # Q(c = 1 | x) = 3/4
    c_idx = torch.tensor([1])
    cont_mean, c_cont = torch.tensor([[0.5, -0.5]]), torch.tensor([[1.0, 0.0]])
    ce = -math.log(0.75)
    nll = math.log(2 * math.pi) + 0.5 * (0.25 + 0.25)  # two codes, std 1
    assert math.isclose(info_loss(cat_logits, c_idx, cont_mean, c_cont).item(), ce + nll, rel_tol=1e-6)
    assert math.isclose(info_loss(cat_logits, c_idx, cont_mean, c_cont, lambda_cat=2.0, lambda_cont=0.1).item(),
                        2 * ce + 0.1 * nll, rel_tol=1e-6)
    log_std = torch.full((1, 2), math.log(2.0))  # std 2
    nll2 = math.log(2 * math.pi) + 2 * math.log(2.0) + 0.5 * (0.0625 + 0.0625)
    assert math.isclose(info_loss(cat_logits, c_idx, cont_mean, c_cont, cont_log_std=log_std).item(),
                        ce + nll2, rel_tol=1e-6)
    # A Q that knows nothing about a 10-way code: the categorical term is H(c) = log 10, so L_I = 0.
    no_info = info_loss(torch.zeros(3, 10), torch.tensor([0, 4, 9]), torch.zeros(3, 0), torch.zeros(3, 0))
    assert math.isclose(no_info.item(), math.log(10), rel_tol=1e-6)


# -- semi-supervised loss ----------------------------------------------------------------------------------

def test_semi_supervised_d_loss_against_the_k_plus_1_softmax() -> None:
    torch.manual_seed(0)
    logits_lab, y = torch.randn(4, 3), torch.tensor([0, 2, 1, 2])
    logits_unl, logits_fake = torch.randn(5, 3), torch.randn(6, 3) - 1
    loss = semi_supervised_d_loss(logits_lab, y, logits_unl, logits_fake)

    def p_real(logits: torch.Tensor) -> torch.Tensor:  # 1 - p(y = K+1 | x), with l_{K+1} = 0 appended
        full = torch.cat([logits, torch.zeros(len(logits), 1)], dim=1)
        return 1 - full.softmax(1)[:, -1]

    sup = -torch.log(logits_lab.softmax(1)[torch.arange(4), y]).mean()  # p(y | x, y < K+1)
    unsup = -(torch.log(p_real(logits_unl)).mean() + torch.log(1 - p_real(logits_fake)).mean())
    assert torch.allclose(loss, sup + 0.5 * unsup, atol=1e-6)  # the official code halves the GAN part
    assert torch.allclose(semi_supervised_d_loss(logits_lab, y, logits_unl, logits_fake, unlabeled_weight=0.0), sup)


# -- gradients reach G through each block ------------------------------------------------------------------

def _g_loss(block: str, img_size: int, channels: int) -> tuple[nn.Module, torch.Tensor]:
    n_classes = 10 if block == "conditional" else 0
    z_dim = 74 if block == "info" else 100
    G = DCGANGenerator(z_dim=z_dim, channels=channels, img_size=img_size, n_classes=n_classes)
    D = DCGANDiscriminator(channels=channels, img_size=img_size, n_classes=n_classes,
                           minibatch_kernels=8 if block == "minibatch" else 0,
                           n_outputs=10 if block == "semi_supervised" else 1)
    y = torch.arange(6) % 10 if n_classes else None
    x_real = torch.rand(6, channels, img_size, img_size) * 2 - 1
    if block == "info":
        z, c_idx, c_cont = sample_latent(6)
        f = D.features(G(latent_input(z, c_idx, c_cont)))
        q = QHead(D.feature_dim)(f)
        return G, g_loss_nonsaturating(D.from_features(f)) + info_loss(q.cat_logits, c_idx, q.cont_mean, c_cont)
    x_fake = G(torch.randn(6, z_dim), y)
    if block == "feature_matching":
        return G, feature_matching(D.features(x_real), D.features(x_fake))
    if block == "semi_supervised":
        return G, -semi_supervised_d_loss(D(x_real[:2]), torch.tensor([0, 1]), D(x_real), D(x_fake))
    return G, g_loss_nonsaturating(D(x_fake, y)) + 0 * d_loss_bce(D(x_real, y), D(x_fake, y))


@pytest.mark.parametrize("block", ["plain", "conditional", "minibatch", "feature_matching", "info",
                                   "semi_supervised"])
@pytest.mark.parametrize("img_size,channels", SIZES)
def test_gradients_reach_g(block: str, img_size: int, channels: int) -> None:
    torch.manual_seed(0)
    G, loss = _g_loss(block, img_size, channels)
    loss.backward()
    for name, p in G.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_replace_bn_with_vbn_keeps_params_and_uses_reference() -> None:
    from gan_utils.nn.dcgan import DCGANGenerator
    from gan_utils.nn.improved import VirtualBatchNorm, replace_bn_with_vbn, vbn_reference_pass

    torch.manual_seed(0)
    G = DCGANGenerator()
    gains = [m.weight.clone() for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    replace_bn_with_vbn(G)
    vbns = [m for m in G.modules() if isinstance(m, VirtualBatchNorm)]
    assert len(vbns) == len(gains) and not any(isinstance(m, nn.BatchNorm2d) for m in G.modules())
    assert all(torch.equal(v.weight, g) for v, g in zip(vbns, gains, strict=True))
    z_ref, z = torch.randn(16, 100), torch.randn(4, 100)
    with torch.no_grad():
        vbn_reference_pass(G, z_ref)
        one = G(z[:1])
        vbn_reference_pass(G, z_ref)
        batch = G(z)
    assert torch.allclose(one[0], batch[0], atol=1e-5)  # an example's output does not depend on its batch-mates
