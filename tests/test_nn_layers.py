import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.nn import (
    LabelEmbedding,
    MinibatchDiscrimination,
    VirtualBatchNorm,
    concat_condition,
    one_hot,
    vbn_reference_pass,
    weights_init,
)

torch.set_num_threads(1)


# -- init --------------------------------------------------------------------------------------------------

def test_weights_init_resets_plain_layers_and_vbn() -> None:
    torch.manual_seed(0)
    lin, vbn, bn = nn.Linear(100, 200), VirtualBatchNorm(500), nn.BatchNorm1d(500)
    for m in (lin, vbn, bn):
        m.apply(weights_init)
    assert abs(lin.weight.std().item() - 0.02) < 0.002 and torch.all(lin.bias == 0)
    assert abs(vbn.weight.mean().item() - 1.0) < 0.005 and abs(vbn.weight.std().item() - 0.02) < 0.003
    assert abs(bn.weight.mean().item() - 1.0) < 0.005 and torch.all(bn.bias == 0)


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
    with pytest.raises(ValueError, match="flatten"):
        mbd(torch.randn(5, 2, 4))


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


def test_vbn_errors_say_what_to_do() -> None:
    vbn = VirtualBatchNorm(3)
    with pytest.raises(ValueError, match=r"\(B, 3, ...\)"):
        vbn(torch.randn(4, 5))
