import pytest
import torch

from gan_utils.models.dcgan import DCGANGenerator
from gan_utils.models.pacgan import (
    Maxout,
    PacDCGANDiscriminator,
    PacMLPDiscriminator,
    PacMLPGenerator,
    PacSmallDiscriminator,
    SmallStackedGenerator,
    pack,
)


def test_pack_groups_consecutive_samples() -> None:
    x = torch.arange(12.0).view(6, 2)  # 6 points
    p = pack(x, 3)  # (2, 6)
    assert p.shape == (2, 6)
    assert p[0].tolist() == [0, 1, 2, 3, 4, 5] and p[1].tolist() == [6, 7, 8, 9, 10, 11]
    imgs = torch.randn(4, 3, 5, 5)
    p = pack(imgs, 2)  # (2, 6, 5, 5): along channels
    assert p.shape == (2, 6, 5, 5) and torch.equal(p[1, 3:], imgs[3])
    assert torch.equal(pack(x, 1), x)


def test_pack_errors() -> None:
    with pytest.raises(ValueError, match="groups of m=4"):
        pack(torch.randn(6, 2), 4)
    with pytest.raises(ValueError, match="at least 1"):
        pack(torch.randn(6, 2), 0)


def test_maxout_is_max_over_pieces() -> None:
    mo = Maxout(3, 2, pieces=4)
    x = torch.randn(5, 3)
    h = mo.linear(x).view(5, 2, 4)
    assert torch.equal(mo(x), h.max(-1).values)


def test_paper_sizes_and_packing_widens_only_the_input() -> None:
    G = PacMLPGenerator()
    assert G(torch.randn(10, 2)).shape == (10, 2)
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules()) == 4
    D1, D3 = PacMLPDiscriminator(pack=1), PacMLPDiscriminator(pack=3)
    assert D1.net[0].linear.in_features == 2 and D3.net[0].linear.in_features == 6
    assert D1.net[0].linear.out_features == 200 * 5
    shapes1 = [p.shape for p in D1.parameters()][2:]
    shapes3 = [p.shape for p in D3.parameters()][2:]
    assert shapes1 == shapes3  # nothing but the first layer changes
    assert D3(torch.randn(12, 2)).shape == (4,)
    with pytest.raises(ValueError, match="groups of m=3"):
        D3(torch.randn(10, 2))
    with pytest.raises(ValueError, match=r"\(B·m, 2\)"):
        D3(torch.randn(12, 3))


def test_pac_dcgan_for_stacked_mnist() -> None:
    G = DCGANGenerator(z_dim=16, channels=3, ngf=8)
    D = PacDCGANDiscriminator(pack=2, channels=3, ndf=8)
    x = G(torch.randn(6, 16))  # (6, 3, 28, 28)
    assert x.shape == (6, 3, 28, 28)
    assert D(x).shape == (3,)
    assert D.body[0].in_channels == 6


def test_table3_generator_shapes_and_official_sizes() -> None:
    G = SmallStackedGenerator()
    x = G(torch.randn(5, 256))
    assert x.shape == (5, 3, 28, 28) and x.abs().max() <= 1
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d | torch.nn.Conv2d)]
    assert [m.out_channels for m in convs] == [32, 16, 8, 3] and G.fc.out_features == 64 * 4 * 4
    # Linear 256 -> 1024, transposed convs 64 -> 32 -> 16 -> 8, conv 8 -> 3 (all 3x3, with biases), 4 BNs
    n = 256 * 1024 + 1024 + (64 * 32 + 32 * 16 + 16 * 8 + 8 * 3) * 9 + 32 + 16 + 8 + 3 + 2 * (64 + 32 + 16 + 8)
    assert sum(p.numel() for p in G.parameters()) == n
    assert G.fc.bias.abs().sum() == 0 and 0.015 < G.fc.weight.std() < 0.025  # N(0, 0.02), biases 0
    with pytest.raises(ValueError, match=r"\(B, 256\)"):
        G(torch.randn(5, 100))


def test_table3_discriminator_packing_widens_only_the_first_conv() -> None:
    x = torch.randn(12, 3, 28, 28)
    for ndf in (2, 4):
        D1, D3 = PacSmallDiscriminator(pack=1, ndf=ndf), PacSmallDiscriminator(pack=3, ndf=ndf)
        assert D1(x).shape == (12,) and D3(x).shape == (4,)
        convs = [m for m in D3.modules() if isinstance(m, torch.nn.Conv2d)]
        assert [(m.in_channels, m.out_channels) for m in convs] == [(9, ndf), (ndf, 2 * ndf), (2 * ndf, 4 * ndf)]
        assert D3.net[-1].in_features == 4 * ndf * 16  # 28 -> 14 -> 7 -> 4
        extra = sum(p.numel() for p in D3.parameters()) - sum(p.numel() for p in D1.parameters())
        assert extra == 2 * 3 * ndf * 9  # (m - 1) · 3 more input channels of 3x3 kernels
    assert sum(p.numel() for p in PacSmallDiscriminator(ndf=2).parameters()) == (
        (3 * 2 + 2 * 4 + 4 * 8) * 9 + (2 + 4 + 8) * 3 + 8 * 16 + 1)  # weights, conv biases + BN, linear
    with pytest.raises(ValueError, match="groups of m=3"):
        PacSmallDiscriminator(pack=3)(torch.randn(10, 3, 28, 28))
    with pytest.raises(ValueError, match=r"\(B·m, 3, 28, 28\)"):
        PacSmallDiscriminator()(torch.randn(4, 6, 28, 28))
    with pytest.raises(ValueError, match="at least 1"):
        PacSmallDiscriminator(ndf=0)
