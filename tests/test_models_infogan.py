import pytest
import torch
from torch import nn

from gan_utils.losses import g_loss_nonsaturating, info_loss
from gan_utils.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_utils.models.infogan import InfoGANDiscriminator, InfoGANGenerator, QHead, latent_input, sample_latent
from tests.conftest import assert_gradients_reach

torch.set_num_threads(1)


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


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


@pytest.mark.parametrize("img_size,channels", [(28, 1), (32, 3)])
def test_q_head_on_a_dcgan_body_passes_gradients_to_g(img_size: int, channels: int) -> None:
    # Notebook 04 tried notebook 03's DCGAN first: Q shares the DCGAN D's body through features().
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=74, channels=channels, img_size=img_size)
    D = DCGANDiscriminator(channels=channels, img_size=img_size)
    z, c_idx, c_cont = sample_latent(6)
    f = D.features(G(latent_input(z, c_idx, c_cont)))
    q = QHead(D.feature_dim)(f)
    loss = g_loss_nonsaturating(D.from_features(f)) + info_loss(q.cat_logits, c_idx, q.cont_mean, c_cont)
    loss.backward()
    assert_gradients_reach(G)
