import pytest
import torch
from torch import nn

from gan_utils.models.cgan import ConditionalDiscriminator, ConditionalGenerator, ProjectionDiscriminator
from gan_utils.models.vanilla import MLPDiscriminator, MLPGenerator, mlp

torch.set_num_threads(1)


def kinds(m: nn.Module) -> list[str]:
    return [type(c).__name__ for c in m.children()]


def test_mlp_layer_order() -> None:
    assert kinds(mlp((2, 8, 8, 1))) == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert kinds(mlp((4, 8, 3), nn.Tanh, batchnorm=True, out_act=nn.Tanh())) == [
        "Linear", "BatchNorm1d", "Tanh", "Linear", "Tanh"]
    assert kinds(mlp((4, 8, 3), dropout=0.0)) == ["Linear", "ReLU", "Dropout", "Linear"]
    assert mlp((2, 16, 16, 2))(torch.randn(5, 2)).shape == (5, 2)


def test_mlp_networks_keep_their_layer_names() -> None:
    # Checkpoints and the notebooks' promotion checks load state_dicts by these keys.
    assert list(MLPGenerator(hidden=(8, 16), img_shape=(1, 4, 4)).state_dict())[:6] == [
        "net.0.weight", "net.0.bias", "net.1.weight", "net.1.bias", "net.1.running_mean", "net.1.running_var"]
    assert list(MLPDiscriminator(img_shape=(1, 4, 4), hidden=(8, 4)).state_dict()) == [
        "net.1.weight", "net.1.bias", "net.4.weight", "net.4.bias", "net.7.weight", "net.7.bias"]
    assert list(ConditionalDiscriminator(img_shape=(1, 4, 4), hidden=(8,)).state_dict()) == [
        "net.0.weight", "net.0.bias", "net.3.weight", "net.3.bias"]


@pytest.mark.parametrize("batchnorm", [True, False])
def test_vanilla_shapes(batchnorm: bool) -> None:
    torch.manual_seed(0)
    G, D = MLPGenerator(z_dim=16, hidden=(32, 64), batchnorm=batchnorm), MLPDiscriminator(hidden=(64, 32))
    x = G(torch.randn(5, 16))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    assert D(x).shape == (5,)
    leaky = [m for m in D.modules() if isinstance(m, nn.LeakyReLU)]
    assert len(leaky) == 2 and all(m.negative_slope == 0.2 for m in leaky)
    assert any(isinstance(m, nn.BatchNorm1d) for m in G.modules()) == batchnorm


def test_conditional_mlps_use_the_label() -> None:
    torch.manual_seed(0)
    G, D = ConditionalGenerator(z_dim=16, hidden=(32,)).eval(), ConditionalDiscriminator(hidden=(32,)).eval()
    z = torch.randn(2, 16).repeat(2, 1)
    y = torch.tensor([0, 0, 3, 3])
    x = G(z, y)
    assert x.shape == (4, 1, 28, 28) and not torch.allclose(x[:2], x[2:])
    assert D(x, y).shape == (4,) and not torch.allclose(D(x[:2], y[:2]), D(x[:2], y[2:]))


def test_projection_discriminator_is_psi_plus_the_class_inner_product() -> None:
    torch.manual_seed(0)
    D = ProjectionDiscriminator(n_classes=3, img_shape=(1, 4, 4), hidden=(8, 6)).eval()
    assert list(D.state_dict()) == ["phi.0.weight", "phi.0.bias", "phi.3.weight", "phi.3.bias", "psi.weight",
                                    "psi.bias", "embed.weight"]
    x, y = torch.randn(5, 1, 4, 4), torch.tensor([0, 1, 2, 1, 0])
    f = D.phi(x.flatten(1))                                          # (5, 6): the features, no label
    by_hand = f @ D.psi.weight[0] + D.psi.bias + (D.embed.weight[y] * f).sum(1)
    assert D(x, y).shape == (5,) and torch.allclose(D(x, y), by_hand, atol=1e-6)
    assert not torch.allclose(D(x, y), D(x, (y + 1) % 3))              # the label changes the logit
    with torch.no_grad():
        D.embed.weight.zero_()
    assert torch.allclose(D(x, y), D(x, (y + 1) % 3))                  # without embeddings, y plays no part
    D.train()
    assert any(isinstance(m, nn.Dropout) and m.p == 0.5 for m in D.modules())
