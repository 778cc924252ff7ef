import ast
from pathlib import Path

import pytest
import torch
from torch import nn

from gan_utils.losses import d_loss_bce, feature_matching, g_loss_nonsaturating
from gan_utils.models.dcgan import DCGANDiscriminator, DCGANGenerator
from tests.conftest import assert_gradients_reach

torch.set_num_threads(1)

SIZES = [(28, 1), (32, 3)]


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def leaves(m: nn.Module) -> list[nn.Module]:
    return [c for c in m.modules() if not list(c.children())]


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
    with pytest.raises(ValueError, match="pass the labels"):
        D(x)
    with pytest.raises(ValueError, match="takes no labels"):
        DCGANDiscriminator()(x, y)


def test_dcgan_rejects_unsupported_sizes_and_shapes() -> None:
    with pytest.raises(ValueError, match="img_size"):
        DCGANGenerator(img_size=30)
    with pytest.raises(ValueError, match="expects images"):
        DCGANDiscriminator(img_size=28)(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="expects z"):
        DCGANGenerator()(torch.randn(2, 64))


@pytest.mark.parametrize("img_size,channels", SIZES)
def test_dcgan_sizes_fit_a_cpu_and_g_is_larger_than_d(img_size: int, channels: int) -> None:
    G = DCGANGenerator(channels=channels, img_size=img_size)
    D = DCGANDiscriminator(channels=channels, img_size=img_size)
    assert n_params(G) > n_params(D)
    if img_size == 28:  # the measured CPU model: G 0.77M, D 0.14M
        assert 0.6e6 < n_params(G) < 0.9e6 and n_params(D) < 0.2e6
    else:
        assert n_params(G) <= 1.5e6


def test_textbook_mnist_widths() -> None:
    """03's width sweep, textbook layout: ngf 128, ndf 64 is z -> 256x7x7 -> 128x14x14 -> image, D 64 -> 128."""
    G, D = DCGANGenerator(ngf=128), DCGANDiscriminator(ndf=64)
    shapes = []
    h = G.project(torch.randn(2, 100))
    shapes.append(tuple(h.shape[1:]))
    for layer in G.body:
        h = layer(h)
        if isinstance(layer, nn.ConvTranspose2d):
            shapes.append(tuple(h.shape[1:]))
    assert shapes == [(256, 7, 7), (128, 14, 14), (1, 28, 28)]
    assert [c.out_channels for c in D.modules() if isinstance(c, nn.Conv2d)] == [64, 128]
    assert n_params(G) > 10 * n_params(D)  # G larger than D, as the course's rule asks


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


def test_dcgan_uses_the_papers_initialisation() -> None:
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


def test_dcgan_imports_only_shared_layers() -> None:
    # The STYLE rule: a paper's module builds on nn/, not on the papers that came after it.
    import gan_utils.models.dcgan as dcgan

    tree = ast.parse(Path(dcgan.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert {m for m in imported if m.startswith("gan_utils")} == {"gan_utils.nn.conditioning", "gan_utils.nn.init"}


# -- gradients reach G through D ---------------------------------------------------------------------------

def _g_loss(block: str, img_size: int, channels: int) -> tuple[nn.Module, torch.Tensor]:
    n_classes = 10 if block == "conditional" else 0
    G = DCGANGenerator(channels=channels, img_size=img_size, n_classes=n_classes)
    D = DCGANDiscriminator(channels=channels, img_size=img_size, n_classes=n_classes)
    y = torch.arange(6) % 10 if n_classes else None
    x_real = torch.rand(6, channels, img_size, img_size) * 2 - 1
    x_fake = G(torch.randn(6, 100), y)
    if block == "feature_matching":
        return G, feature_matching(D.features(x_real), D.features(x_fake))
    return G, g_loss_nonsaturating(D(x_fake, y)) + 0 * d_loss_bce(D(x_real, y), D(x_fake, y))


@pytest.mark.parametrize("block", ["plain", "conditional", "feature_matching"])
@pytest.mark.parametrize("img_size,channels", SIZES)
def test_gradients_reach_g(block: str, img_size: int, channels: int) -> None:
    torch.manual_seed(0)
    G, loss = _g_loss(block, img_size, channels)
    loss.backward()
    assert_gradients_reach(G)
