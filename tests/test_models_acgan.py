import math

import pytest
import torch
import torch.nn.functional as F

from gan_utils.losses import d_loss_bce, g_loss_nonsaturating
from gan_utils.models.acgan import (
    ACGANDiscriminator,
    ACGANGenerator,
    LabelInputDiscriminator,
    class_log_likelihood,
    d_loss,
    g_loss,
    source_log_likelihood,
)
from gan_utils.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_utils.nn.conditioning import one_hot
from tests.conftest import assert_gradients_reach

torch.set_num_threads(1)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


# One real and one fake image, two classes: P(real|x_real) = 0.8, P(real|x_fake) = 0.3, class probabilities
# (0.75, 0.25) for the real image of class 0 and (0.4, 0.6) for the fake one asked to be class 1.
S_REAL, S_FAKE = torch.tensor([logit(0.8)]), torch.tensor([logit(0.3)])
C_REAL, C_FAKE = torch.tensor([[0.75, 0.25]]).log(), torch.tensor([[0.4, 0.6]]).log()
Y_REAL, Y_FAKE = torch.tensor([0]), torch.tensor([1])


@pytest.mark.parametrize("ngf,n_classes", [(8, 10), (16, 3)])
def test_shapes(ngf: int, n_classes: int) -> None:
    torch.manual_seed(0)
    G, D = ACGANGenerator(ngf=ngf, n_classes=n_classes), ACGANDiscriminator(ndf=ngf, n_classes=n_classes)
    z, y = torch.randn(5, 100), torch.arange(5) % n_classes
    x = G(z, y)
    assert x.shape == (5, 3, 32, 32) and x.abs().max() <= 1.0
    s, c = D(x)
    assert s.shape == (5,) and c.shape == (5, n_classes)
    assert D.features(x).shape == (5, D.feature_dim)
    # the two heads are one Linear with 1 + K outputs on the shared features
    assert D.head[-1].out_features == 1 + n_classes


def test_mnist_size_and_the_dcgan_parts() -> None:
    G, D = ACGANGenerator(channels=1, img_size=28, ngf=8), ACGANDiscriminator(channels=1, img_size=28, ndf=8)
    assert isinstance(G, DCGANGenerator) and isinstance(D, DCGANDiscriminator)
    x = G(torch.randn(4, 100), torch.tensor([0, 1, 2, 9]))
    assert x.shape == (4, 1, 28, 28)
    assert D(x)[1].shape == (4, 10)


def test_generator_uses_the_class() -> None:
    torch.manual_seed(0)
    G = ACGANGenerator(ngf=8).eval()
    z = torch.randn(2, 100).repeat(2, 1)
    x = G(z, torch.tensor([0, 0, 5, 5]))
    assert not torch.allclose(x[:2], x[2:])


def test_log_likelihoods_by_hand() -> None:
    assert math.isclose(source_log_likelihood(S_REAL, S_FAKE).item(), math.log(0.8) + math.log(0.7), rel_tol=1e-5)
    assert math.isclose(class_log_likelihood(C_REAL, Y_REAL, C_FAKE, Y_FAKE).item(),
                        math.log(0.75) + math.log(0.6), rel_tol=1e-5)


def test_losses_by_hand() -> None:
    expected_d = -(math.log(0.8) + math.log(0.7) + math.log(0.75) + math.log(0.6))  # 1.3783
    assert math.isclose(d_loss(S_REAL, C_REAL, Y_REAL, S_FAKE, C_FAKE, Y_FAKE).item(), expected_d, rel_tol=1e-5)
    # non-saturating: -log P(c|x_fake) - log P(real|x_fake)
    assert math.isclose(g_loss(S_FAKE, C_FAKE, Y_FAKE).item(), -math.log(0.6) - math.log(0.3), rel_tol=1e-5)
    # the paper's form: the G-dependent terms of -(L_C - L_S) = -log P(c|x_fake) + log P(fake|x_fake)
    assert math.isclose(g_loss(S_FAKE, C_FAKE, Y_FAKE, saturating=True).item(), -math.log(0.6) + math.log(0.7),
                        rel_tol=1e-5)


def test_losses_are_batch_means() -> None:
    torch.manual_seed(0)
    s_r, s_f, c_r, c_f = torch.randn(7), torch.randn(7), torch.randn(7, 4), torch.randn(7, 4)
    y_r, y_f = torch.randint(0, 4, (7,)), torch.randint(0, 4, (7,))
    expected = (torch.log(torch.sigmoid(s_r)).mean() + torch.log(1 - torch.sigmoid(s_f)).mean()
                + torch.log_softmax(c_r, 1)[torch.arange(7), y_r].mean()
                + torch.log_softmax(c_f, 1)[torch.arange(7), y_f].mean())
    assert torch.allclose(-d_loss(s_r, c_r, y_r, s_f, c_f, y_f), expected, atol=1e-6)
    assert torch.allclose(g_loss(s_f, c_f, y_f), F.cross_entropy(c_f, y_f) - torch.log(torch.sigmoid(s_f)).mean(),
                          atol=1e-6)


def test_gradients_reach_both_heads_and_G() -> None:
    torch.manual_seed(0)
    G, D = ACGANGenerator(ngf=8), ACGANDiscriminator(ndf=8, dropout=0.0)
    x_real, y_real = torch.rand(6, 3, 32, 32) * 2 - 1, torch.arange(6)
    y_fake = torch.tensor([9, 8, 7, 6, 5, 4])
    x_fake = G(torch.randn(6, 100), y_fake)
    (s_r, c_r), (s_f, c_f) = D(x_real), D(x_fake.detach())
    d_loss(s_r, c_r, y_real, s_f, c_f, y_fake).backward()
    assert_gradients_reach(D)
    W = D.head[-1].weight.grad  # row 0: the source head; rows 1..K: the class head
    assert W[0].abs().sum() > 0 and W[1:].abs().sum() > 0
    D.zero_grad()
    # only the class head: gradients reach the class rows and the body, not the source row
    (_, c_r), (_, c_f) = D(x_real), D(x_fake.detach())
    (-class_log_likelihood(c_r, y_real, c_f, y_fake)).backward()
    assert D.head[-1].weight.grad[0].abs().sum() == 0 and D.head[-1].weight.grad[1:].abs().sum() > 0
    assert D.body[0].weight.grad.abs().sum() > 0
    s_f, c_f = D(x_fake)
    g_loss(s_f, c_f, y_fake).backward()
    assert_gradients_reach(G)


@pytest.mark.parametrize("bad", [torch.tensor([0, 10]), torch.tensor([-1, 2])])
def test_labels_out_of_range_give_a_clear_error(bad: torch.Tensor) -> None:
    G = ACGANGenerator(ngf=8)
    with pytest.raises(ValueError, match=r"must lie in \[0, 9\]"):
        G(torch.randn(2, 100), bad)
    s, c = torch.randn(2), torch.randn(2, 10)
    with pytest.raises(ValueError, match=r"y_fake must lie in \[0, 9\]"):
        d_loss(s, c, torch.tensor([0, 1]), s, c, bad)
    with pytest.raises(ValueError, match=r"y_real must lie in \[0, 9\]"):
        class_log_likelihood(c, bad, c, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"must lie in \[0, 9\]"):
        g_loss(s, c, bad)


def test_other_bad_inputs() -> None:
    G, D = ACGANGenerator(ngf=8), ACGANDiscriminator(ndf=8)
    z = torch.randn(2, 100)
    with pytest.raises(ValueError, match="G\\(z, y\\)"):
        G(z)
    with pytest.raises(ValueError, match="integer tensor"):
        G(z, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="batch size"):
        G(z, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="expects images"):
        D(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="at least 2 classes"):
        ACGANDiscriminator(n_classes=1)
    with pytest.raises(ValueError, match=r"\(B, K\)"):
        class_log_likelihood(torch.randn(3), torch.tensor([0, 1, 0]), torch.randn(3, 2), torch.tensor([0, 1, 0]))


# -- the baseline without the auxiliary classifier -----------------------------------------------------------------


@pytest.mark.parametrize("ndf,n_classes", [(8, 10), (16, 3)])
def test_label_input_discriminator_shapes_and_head(ndf: int, n_classes: int) -> None:
    torch.manual_seed(0)
    D = LabelInputDiscriminator(n_classes=n_classes, ndf=ndf)
    x, y = torch.rand(5, 3, 32, 32) * 2 - 1, torch.arange(5) % n_classes
    assert isinstance(D, DCGANDiscriminator)
    assert D(x, y).shape == (5,)
    assert D.features(x, y).shape == (5, D.feature_dim)
    # the head: dropout, then one Linear with a single output (no class logits)
    assert isinstance(D.head[0], torch.nn.Dropout) and D.head[0].p == 0.5
    assert D.head[-1].out_features == 1 and D.head[-1].in_features == D.feature_dim
    # the label enters as n_classes extra input channels of the first conv
    assert D.body[0].in_channels == 3 + n_classes


def test_label_input_discriminator_is_the_acgan_trunk_with_label_channels() -> None:
    """Every layer but the first conv's input and the head's outputs has AC-GAN's D's shape."""
    D_base, D_ac = LabelInputDiscriminator(ndf=8), ACGANDiscriminator(ndf=8)
    shapes = lambda D: {k: tuple(v.shape) for k, v in D.state_dict().items()}
    base, ac = shapes(D_base), shapes(D_ac)
    assert base.keys() == ac.keys()
    differ = {k for k in base if base[k] != ac[k]}
    assert differ == {"body.0.weight", "head.1.weight", "head.1.bias"}
    assert base["body.0.weight"] == (8, 13, 4, 4) and ac["body.0.weight"] == (8, 3, 4, 4)
    assert base["head.1.weight"] == (1, D_base.feature_dim) and ac["head.1.weight"] == (11, D_ac.feature_dim)


def test_label_input_discriminator_by_hand() -> None:
    """The logit is Linear(dropout(body(cat[x, one-hot maps of y]))), the maps constant over each image."""
    torch.manual_seed(0)
    D = LabelInputDiscriminator(n_classes=4, ndf=8).eval()
    x, y = torch.rand(3, 3, 32, 32) * 2 - 1, torch.tensor([0, 3, 1])
    maps = one_hot(y, 4)[:, :, None, None].expand(-1, -1, 32, 32)  # (3, 4, 32, 32)
    expected = D.head(D.body(torch.cat([x, maps], dim=1)).flatten(1)).squeeze(1)
    assert torch.allclose(D(x, y), expected, atol=1e-6)
    assert maps[1, 3].eq(1).all() and maps[1, :3].eq(0).all()


def test_label_input_discriminator_uses_the_label() -> None:
    torch.manual_seed(0)
    D = LabelInputDiscriminator(ndf=8).eval()
    x = (torch.rand(2, 3, 32, 32) * 2 - 1).repeat(2, 1, 1, 1)
    d = D(x, torch.tensor([0, 0, 7, 7]))
    assert not torch.allclose(d[:2], d[2:])


def test_label_input_discriminator_gradients_and_losses() -> None:
    torch.manual_seed(0)
    G, D = ACGANGenerator(ngf=8), LabelInputDiscriminator(ndf=8, dropout=0.0)
    x_real, y_real = torch.rand(6, 3, 32, 32) * 2 - 1, torch.arange(6)
    y_fake = torch.tensor([9, 8, 7, 6, 5, 4])
    x_fake = G(torch.randn(6, 100), y_fake)
    d_real, d_fake = D(x_real, y_real), D(x_fake.detach(), y_fake)
    loss_D = d_loss_bce(d_real, d_fake)
    # the conditional GAN's D loss is AC-GAN's -L_S on (image, label) pairs
    assert torch.allclose(loss_D, -source_log_likelihood(d_real, d_fake), atol=1e-6)
    loss_D.backward()
    assert_gradients_reach(D)
    assert D.body[0].weight.grad[:, 3:].abs().sum() > 0  # the label channels' weights learn too
    g_loss_nonsaturating(D(x_fake, y_fake)).backward()
    assert_gradients_reach(G)


def test_label_input_discriminator_bad_inputs() -> None:
    D, x = LabelInputDiscriminator(ndf=8), torch.randn(2, 3, 32, 32)
    with pytest.raises(ValueError, match=r"D\(x, y\)"):
        D(x)
    with pytest.raises(ValueError, match=r"must lie in \[0, 9\]"):
        D(x, torch.tensor([0, 10]))
    with pytest.raises(ValueError, match="integer tensor"):
        D(x, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="batch size"):
        D(x, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="expects images"):
        D(torch.randn(2, 1, 32, 32), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="at least 2 classes"):
        LabelInputDiscriminator(n_classes=1)
