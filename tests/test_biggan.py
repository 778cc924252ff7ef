"""BigGAN's pieces: conditional BN, G and D shapes, hinge losses, the orthogonal regulariser, EMA, truncation."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_utils.models import biggan as bg
from gan_utils.nn.normalization import ConditionalBatchNorm2d


def test_conditional_bn_hand_values():
    cbn = ConditionalBatchNorm2d(2, cond_dim=3, spectral=False)
    with torch.no_grad():
        cbn.gain.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]))
        cbn.bias.weight.copy_(torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]))
    x = torch.randn(4, 2, 3, 3)
    c = torch.tensor([[0.5, 0.0, 2.0]] * 4)
    x_hat = F.batch_norm(x, None, None, training=True, eps=1e-5)
    # gamma = 1 + W_g c = (1.5, 1.0); beta = W_b c = (2.0, -2.0)
    expected = x_hat * torch.tensor([1.5, 1.0]).view(1, 2, 1, 1) + torch.tensor([2.0, -2.0]).view(1, 2, 1, 1)
    assert torch.allclose(cbn(x, c), expected, atol=1e-5)


def test_conditional_bn_zero_condition_is_plain_bn_and_per_example():
    cbn = ConditionalBatchNorm2d(3, cond_dim=4)
    x = torch.randn(5, 3, 4, 4)
    plain = nn.BatchNorm2d(3, affine=False)(x)
    assert torch.allclose(cbn(x, torch.zeros(5, 4)), plain, atol=1e-6)
    c = torch.randn(5, 4)
    out = cbn(x, c)
    out.sum().backward()
    assert cbn.gain.parametrizations.weight.original.grad is not None  # the projections learn
    assert not torch.allclose(out[0], cbn(x, c.roll(1, 0))[0])  # each example gets its own gain and bias


def test_conditional_bn_errors_and_sync_conversion():
    cbn = ConditionalBatchNorm2d(3, cond_dim=4)
    with pytest.raises(ValueError, match="expected a condition"):
        cbn(torch.randn(2, 3, 4, 4), torch.randn(2, 5))
    with pytest.raises(ValueError, match=r"expected \(B, 3, H, W\)"):
        cbn(torch.randn(2, 4, 4, 4), torch.randn(2, 4))
    G = nn.SyncBatchNorm.convert_sync_batchnorm(bg.Generator(z_dim=16, ch=2, shared_dim=8))
    kinds = [type(m) for m in G.modules()]
    assert nn.SyncBatchNorm in kinds and nn.BatchNorm2d not in kinds  # cBN's statistics become cross-replica


def test_generator_and_discriminator_shapes_and_gradients():
    torch.manual_seed(0)
    G, D = bg.Generator(z_dim=20, ch=4, shared_dim=8), bg.Discriminator(ch=4)
    assert G.chunk == 5 and len(G.blocks) == 3  # skip-z: 4 chunks, the first to the 4x4 input
    z, y = torch.randn(6, 20), torch.randint(0, 10, (6,))
    x = G(z, y)
    assert x.shape == (6, 3, 32, 32) and x.abs().max() <= 1
    d = D(x, y)
    assert d.shape == (6,)
    d.sum().backward()
    assert all(p.grad is not None for p in G.parameters())
    assert all(p.grad is not None for p in D.parameters())


def test_skip_z_reaches_every_block():
    torch.manual_seed(0)
    G = bg.Generator(z_dim=16, ch=2, shared_dim=8).eval()
    z, y = torch.randn(2, 16), torch.tensor([1, 2])
    for i in range(4):  # changing any one chunk changes the image
        z2 = z.clone()
        z2[:, 4 * i:4 * (i + 1)] += 1.0
        assert not torch.allclose(G(z, y), G(z2, y))


def test_model_errors():
    with pytest.raises(ValueError, match="split evenly"):
        bg.Generator(z_dim=10, ch=2)
    G, D = bg.Generator(z_dim=16, ch=2, shared_dim=8), bg.Discriminator(ch=2)
    with pytest.raises(ValueError, match="class indices"):
        G(torch.randn(2, 16), torch.tensor([0, 10]))
    with pytest.raises(ValueError, match="class indices"):
        D(torch.randn(2, 3, 32, 32), torch.tensor([0.0, 1.0]))


def test_orthogonal_init():
    D = bg.Discriminator(ch=2)
    w = D.linear.parametrizations.weight.original  # (1, 8): one row, unit norm
    assert torch.allclose(w.norm(), torch.tensor(1.0), atol=1e-5)
    w = D.blocks[1].conv1.parametrizations.weight.original.flatten(1)  # (8, 72): orthonormal rows
    assert torch.allclose(w @ w.t(), torch.eye(8), atol=1e-5)


def test_hinge_losses_hand_values():
    d_real, d_fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.5])
    # D: mean(relu(1 - [2, .5])) + mean(relu(1 + [-2, .5])) = 0.25 + 0.75
    assert bg.d_hinge_loss(d_real, d_fake).item() == pytest.approx(1.0)
    assert bg.g_hinge_loss(d_fake).item() == pytest.approx(0.75)


def test_ortho_reg_hand_computed():
    m = nn.Sequential(nn.Linear(2, 2, bias=True))
    with torch.no_grad():
        m[0].weight.copy_(torch.tensor([[1.0, 1.0], [0.0, 1.0]]))
    # W W^T = [[2, 1], [1, 1]]; the off-diagonal squares sum to 2; the bias is left out
    assert bg.ortho_reg(m, beta=1e-4).item() == pytest.approx(2e-4)
    q = torch.linalg.qr(torch.randn(4, 4))[0]
    with torch.no_grad():
        m2 = nn.Linear(4, 4)
        m2.weight.copy_(3.0 * q)  # orthogonal rows of any norm cost nothing
    assert bg.ortho_reg(m2, beta=1.0).item() == pytest.approx(0.0, abs=1e-4)
    W = m[0].weight
    bg.ortho_reg(m, beta=1.0).backward()
    off = W @ W.t() * (1 - torch.eye(2))
    assert torch.allclose(W.grad, 4 * off @ W)  # d/dW ||W W^T o (1 - I)||^2 = 4 (W W^T o (1 - I)) W


def test_ortho_reg_skips_shared_embedding():
    G = bg.Generator(z_dim=16, ch=2, shared_dim=8)
    with torch.no_grad():
        G.shared.weight.mul_(100.0)
    before = bg.ortho_reg(G).item()
    with torch.no_grad():
        G.shared.weight.mul_(10.0)
    assert bg.ortho_reg(G).item() == pytest.approx(before)


def test_ema_update_hand_values():
    model, ema = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    with torch.no_grad():
        model.weight.fill_(1.0)
        ema.weight.fill_(0.0)
        model.running_mean.fill_(3.0)
    bg.ema_update(ema, model, decay=0.9)
    assert torch.allclose(ema.weight, torch.full((2,), 0.1))
    bg.ema_update(ema, model, decay=0.9)
    assert torch.allclose(ema.weight, torch.full((2,), 0.19))  # 0.9 * 0.1 + 0.1 * 1
    assert torch.equal(ema.running_mean, model.running_mean)  # buffers are copied
    bg.ema_update(ema, model, decay=0.0)
    assert torch.equal(ema.weight, model.weight)
    with pytest.raises(ValueError, match="decay"):
        bg.ema_update(ema, model, decay=1.5)


def test_truncated_z():
    gen = torch.Generator().manual_seed(0)
    z = bg.truncated_z(2000, 16, threshold=0.5, generator=gen)
    assert z.shape == (2000, 16) and z.abs().max() <= 0.5
    assert z.std() < 0.35  # a N(0, 1) truncated at 0.5 has sd 0.28
    plain = bg.truncated_z(5, 3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(plain, torch.randn(5, 3, generator=torch.Generator().manual_seed(1)))
    with pytest.raises(ValueError, match="positive"):
        bg.truncated_z(2, 2, threshold=0.0)


def test_standing_stats_and_train_step():
    torch.manual_seed(0)
    G, D = bg.Generator(z_dim=16, ch=2, shared_dim=8), bg.Discriminator(ch=2)
    G_ema = bg.make_ema(G)
    opt_G = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.0, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.0, 0.999))
    x, y = torch.rand(8, 3, 32, 32) * 2 - 1, torch.randint(0, 10, (8,))
    before = [p.clone() for p in G.parameters()]
    logs = bg.train_step(G, D, opt_G, opt_D, lambda: (x, y), lambda n: (torch.randn(n, 16), torch.randint(0, 10, (n,))),
                         n_D=2, ortho_beta=1e-4, G_ema=G_ema, ema_decay=0.5)
    assert set(logs) == {"loss_D", "D_real", "D_fake", "loss_G", "ortho"}
    assert all(not torch.equal(a, b) for a, b in zip(before, G.parameters(), strict=True))
    for p0, p, pe in zip(before, G.parameters(), G_ema.parameters(), strict=True):
        assert torch.allclose(pe, 0.5 * p0 + 0.5 * p)
    bg.standing_stats(G_ema, n_batches=2, batch=8)
    assert not G_ema.training
    assert G_ema.blocks[0].bn1.bn.num_batches_tracked == 2


def test_standing_stats_follow_the_truncation_threshold():
    """Statistics accumulated on truncated z see smaller activations than those of untruncated z."""
    torch.manual_seed(0)
    G = bg.Generator(z_dim=16, ch=2, shared_dim=8)
    bn = G.blocks[0].bn1.bn  # the first conditional BN after the linear layer that takes z
    bg.standing_stats(G, n_batches=4, batch=32)
    var_plain = bn.running_var.clone()
    bg.standing_stats(G, n_batches=4, batch=32, threshold=0.1)
    var_tight = bn.running_var.clone()
    assert var_tight.mean() < 0.5 * var_plain.mean()
    # the same seed and threshold give the same statistics; None is the untruncated normal
    bg.standing_stats(G, n_batches=4, batch=32, threshold=None)
    assert torch.allclose(bn.running_var, var_plain)
    with pytest.raises(ValueError, match="positive"):
        bg.standing_stats(G, n_batches=1, batch=4, threshold=-1.0)
