import math

import pytest
import torch
from torch import nn

from gan_utils.losses import feature_matching, g_loss_nonsaturating, semi_supervised_d_loss
from gan_utils.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_utils.models.improved import HistoricalAverage, ImprovedDiscriminator, replace_bn_with_vbn
from gan_utils.nn.minibatch import MinibatchDiscrimination
from gan_utils.nn.normalization import VirtualBatchNorm, vbn_reference_pass
from tests.conftest import assert_gradients_reach

torch.set_num_threads(1)

SIZES = [(28, 1), (32, 3)]


@pytest.mark.parametrize("img_size,channels", SIZES)
def test_minibatch_and_multi_output_heads(img_size: int, channels: int) -> None:
    x = torch.randn(6, channels, img_size, img_size)
    D = ImprovedDiscriminator(channels=channels, img_size=img_size, minibatch_kernels=16, minibatch_dim=5)
    assert D(x).shape == (6,)
    assert D.head.in_features == D.feature_dim + 16
    assert isinstance(D.mbd, MinibatchDiscrimination) and D.mbd.in_features == D.last_channels
    assert D.features(x).shape == (6, D.feature_dim)  # unchanged, for feature matching
    D10 = ImprovedDiscriminator(channels=channels, img_size=img_size, n_outputs=10)
    assert D10(x).shape == (6, 10) and D10.mbd is None
    both = ImprovedDiscriminator(channels=channels, img_size=img_size, minibatch_kernels=8, n_outputs=10)
    assert both(x).shape == (6, 10)


def test_improved_d_without_options_is_the_dcgan_d() -> None:
    # Same seed, same weights, same outputs: notebook 05's switches start from notebook 03's D.
    torch.manual_seed(0)
    D = DCGANDiscriminator(ndf=16)
    torch.manual_seed(0)
    D_imp = ImprovedDiscriminator(ndf=16)
    assert list(D.state_dict()) == list(D_imp.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(D.state_dict().values(), D_imp.state_dict().values(), strict=True))
    x = torch.randn(4, 1, 28, 28)
    assert torch.equal(D(x), D_imp(x))
    # With minibatch discrimination T sits between the body and the logit, as its place in the forward pass.
    keys = list(ImprovedDiscriminator(ndf=16, minibatch_kernels=4).state_dict())
    assert keys.index("mbd.T") == keys.index("head.weight") - 1


def test_minibatch_d_sees_a_collapsed_batch() -> None:
    torch.manual_seed(0)
    D = ImprovedDiscriminator(ndf=8, minibatch_kernels=4, minibatch_dim=3).eval()
    same = torch.randn(1, 1, 28, 28).repeat(5, 1, 1, 1)
    f = D.features(same)
    pooled = f.reshape(5, D.last_channels, -1).mean(2)
    assert torch.allclose(D.mbd.closeness(pooled), torch.full((5, 4), 4.0))  # every o_b = N - 1


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


# -- virtual batch norm in G -------------------------------------------------------------------------------

def test_replace_bn_with_vbn_keeps_params_and_uses_reference() -> None:
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


# -- gradients reach G through each of the paper's D variants ----------------------------------------------

def _g_loss(block: str, img_size: int, channels: int) -> tuple[nn.Module, torch.Tensor]:
    G = DCGANGenerator(channels=channels, img_size=img_size)
    D = ImprovedDiscriminator(channels=channels, img_size=img_size,
                              minibatch_kernels=8 if block == "minibatch" else 0,
                              n_outputs=10 if block == "semi_supervised" else 1)
    x_real = torch.rand(6, channels, img_size, img_size) * 2 - 1
    x_fake = G(torch.randn(6, 100))
    if block == "feature_matching":
        return G, feature_matching(D.features(x_real), D.features(x_fake))
    if block == "semi_supervised":
        return G, -semi_supervised_d_loss(D(x_real[:2]), torch.tensor([0, 1]), D(x_real), D(x_fake))
    return G, g_loss_nonsaturating(D(x_fake))


@pytest.mark.parametrize("block", ["minibatch", "feature_matching", "semi_supervised"])
@pytest.mark.parametrize("img_size,channels", SIZES)
def test_gradients_reach_g(block: str, img_size: int, channels: int) -> None:
    torch.manual_seed(0)
    G, loss = _g_loss(block, img_size, channels)
    loss.backward()
    assert_gradients_reach(G)


def test_vbn_generator_passes_gradients() -> None:
    torch.manual_seed(0)
    G = replace_bn_with_vbn(DCGANGenerator(ngf=8))
    D = ImprovedDiscriminator(ndf=8)
    vbn_reference_pass(G, torch.randn(16, 100))
    g_loss_nonsaturating(D(G(torch.randn(6, 100)))).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
