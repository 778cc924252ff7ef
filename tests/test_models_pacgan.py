import pytest
import torch

from gan_utils.models.dcgan import DCGANGenerator
from gan_utils.models.pacgan import Maxout, PacDCGANDiscriminator, PacMLPDiscriminator, PacMLPGenerator, pack


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
