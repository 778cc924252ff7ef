"""3D-VAE-GAN's encoder and losses on hand-computed values, voxel IoU against skimage-free hand counts, the probe."""

from __future__ import annotations

import math

import pytest
import torch

from gan_utils.metrics.probe import linear_probe, stratified_split
from gan_utils.metrics.voxels import largest_component, nearest_iou, pairwise_iou, voxel_iou
from gan_utils.models.gan3d import ImageEncoder, VoxelGenerator, kl_loss, recon_loss, reparameterize


def test_kl_by_hand() -> None:
    mu, logvar = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, math.log(4.0)]])
    # 0.5 * [(1 + 1 - 1 - 0) + (0 + 4 - 1 - log 4)]
    assert kl_loss(mu, logvar).item() == pytest.approx(0.5 * (1 + 3 - math.log(4.0)))
    assert kl_loss(torch.zeros(5, 200), torch.zeros(5, 200)).item() == 0.0  # q equal to the prior
    # the batch mean, not the sum: two copies give the same value as one
    assert kl_loss(mu.repeat(2, 1), logvar.repeat(2, 1)).item() == pytest.approx(kl_loss(mu, logvar).item())


def test_recon_by_hand() -> None:
    x = torch.zeros(2, 1, 2, 2, 2)
    x[0].view(-1)[:3] = 1  # 3 occupied voxels
    pred = torch.full_like(x, 0.5)
    assert recon_loss(pred, x).item() == pytest.approx(8 * 0.25)  # every voxel misses by 0.5, in both shapes
    assert recon_loss(x, x).item() == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        recon_loss(pred[:, :, :1], x)


def test_reparameterize_and_gradients() -> None:
    mu, logvar = torch.zeros(4, 3, requires_grad=True), torch.full((4, 3), math.log(0.25), requires_grad=True)
    g = torch.Generator().manual_seed(0)
    eps = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    z = reparameterize(mu, logvar, generator=g)
    assert torch.allclose(z, 0.5 * eps)  # mu + sigma * eps, sigma = 0.5
    z.sum().backward()
    assert mu.grad is not None and torch.allclose(mu.grad, torch.ones(4, 3)) and logvar.grad is not None


@pytest.mark.parametrize("size", [32, 64])
def test_encoder_into_generator(size: int) -> None:
    E, G = ImageEncoder(200, size, nef=4), VoxelGenerator(200, 32, ngf=4)
    mu, logvar = E(torch.rand(3, 1, size, size))
    assert mu.shape == logvar.shape == (3, 200)
    x = G(reparameterize(mu, logvar))
    loss = 5.0 * kl_loss(mu, logvar) + 1e-4 * recon_loss(x, torch.zeros_like(x))
    loss.backward()
    assert all(p.grad is not None for p in E.parameters())
    with pytest.raises(ValueError, match="power of two"):
        ImageEncoder(200, 48)


def test_iou_by_hand() -> None:
    a = torch.zeros(1, 1, 2, 2, 2)
    b = torch.zeros(1, 1, 2, 2, 2)
    a.view(-1)[:4] = 0.9   # 4 occupied
    b.view(-1)[2:6] = 0.7  # 4 occupied, 2 shared -> 2 / 6
    assert voxel_iou(a, b).item() == pytest.approx(2 / 6)
    assert voxel_iou(a, a).item() == 1.0
    assert voxel_iou(torch.zeros_like(a), torch.zeros_like(a)).item() == 1.0  # empty vs empty
    assert pairwise_iou(torch.cat([a, b]), torch.cat([a, b]))[0, 1].item() == pytest.approx(2 / 6)
    best, idx = nearest_iou(b, torch.cat([a, b, a]))
    assert best.item() == 1.0 and idx.item() == 1
    with pytest.raises(ValueError, match="same shape"):
        voxel_iou(a, b[:, :, :1])


def test_stratified_split_and_probe() -> None:
    y = torch.tensor([0] * 30 + [1] * 10)
    tr, te = stratified_split(y, 0.3, seed=0)
    assert len(set(tr.tolist()) & set(te.tolist())) == 0 and len(tr) + len(te) == 40
    assert (y[te] == 1).sum() == 3 and (y[te] == 0).sum() == 9
    g = torch.Generator().manual_seed(0)
    f = torch.randn(200, 5, generator=g)
    labels = (f[:, 0] + 0.5 * f[:, 1] > 0).long()  # linearly separable
    tr, te = stratified_split(labels, 0.3, seed=1)
    assert linear_probe(f[tr], labels[tr], f[te], labels[te]) >= 0.95
    noise = torch.randint(0, 2, (200,), generator=g)  # labels unrelated to the features
    assert linear_probe(f[tr], noise[tr], f[te], noise[te]) < 0.8


def test_largest_component_drops_specks_and_keeps_the_body():
    x = torch.zeros(3, 1, 8, 8, 8)
    x[0, 0, 1:4, 1:4, 1:4] = 1.0          # a 27-voxel cube
    x[0, 0, 6, 6, 6] = 0.9                # a loose voxel, not touching it
    x[0, 0, 4, 4, 4] = 0.8                # touches the cube at a corner: 26-connected, so kept
    x[1, 0, 0, 0, 0] = 0.4                # below the threshold: empty after thresholding
    x[2, 0, 2, 2, 0:8] = 1.0              # a rod of 8 beside a speck of 1
    x[2, 0, 5, 5, 5] = 1.0
    y = largest_component(x)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert y[0].sum() == 28 and y[0, 0, 6, 6, 6] == 0 and y[0, 0, 4, 4, 4] == 1
    assert y[1].sum() == 0
    assert y[2].sum() == 8 and y[2, 0, 5, 5, 5] == 0
    with pytest.raises(ValueError, match="grids"):
        largest_component(torch.zeros(8, 8, 8))
