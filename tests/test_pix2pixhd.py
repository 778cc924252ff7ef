"""pix2pixHD: boundary map, per-instance pooling, multi-scale D, FM and GAN losses, G1/G2/E shapes, VGG, K-means."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from gan_utils.models import pix2pixhd
from gan_utils.models.pix2pixhd import (
    GlobalGenerator,
    InstanceEncoder,
    LocalEnhancer,
    MultiscaleDiscriminator,
    VGGLoss,
    cluster_instance_features,
    gan_feat_loss,
    generator_input,
    instance_boundary,
    instance_means,
    instance_pool,
    load_vgg_loss,
    multiscale_gan_loss,
)
from gan_utils.nn import PatchDiscriminator, receptive_field
from tests.conftest import assert_gradients_reach

# Two cars of one class side by side (ids 26000, 26001) on a road (7): the label map cannot tell them apart.
INST = torch.tensor([
    [7, 7, 7, 7, 7],
    [7, 26000, 26000, 26001, 7],
    [7, 26000, 26000, 26001, 7],
    [7, 7, 7, 7, 7],
]).view(1, 1, 4, 5)  # fmt: skip


def test_boundary_map_by_hand() -> None:
    expected = torch.tensor([
        [0, 1, 1, 1, 0],
        [1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1],
        [0, 1, 1, 1, 0],
    ], dtype=torch.float32).view(1, 1, 4, 5)  # fmt: skip
    edge = instance_boundary(INST)
    assert edge.dtype == torch.float32 and torch.equal(edge, expected)
    # Only the 4 neighbours count: a diagonal touch leaves the corner pixels alone.
    diag = torch.tensor([[1, 0], [0, 1]]).view(1, 1, 2, 2)
    assert torch.equal(instance_boundary(diag), torch.ones(1, 1, 2, 2))
    flat = torch.full((2, 1, 3, 3), 5)
    assert instance_boundary(flat).sum() == 0


def test_boundary_map_separates_two_cars_of_one_class() -> None:
    inst = torch.zeros(1, 1, 1, 6, dtype=torch.long)
    inst[..., :3], inst[..., 3:] = 26000, 26001
    edge = instance_boundary(inst)[0, 0, 0]
    assert edge.tolist() == [0, 0, 1, 1, 0, 0]  # both pixels of the touching pair


def test_boundary_map_errors() -> None:
    with pytest.raises(ValueError, match="integer ids"):
        instance_boundary(torch.rand(1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        instance_boundary(torch.zeros(4, 4, dtype=torch.long))


def test_instance_pool_by_hand_and_gradient() -> None:
    inst = torch.tensor([[0, 0, 1], [0, 2, 1]]).view(1, 1, 2, 3)
    feats = torch.tensor([[1.0, 2.0, 10.0], [3.0, 7.0, 20.0]]).view(1, 1, 2, 3).requires_grad_()
    pooled = instance_pool(feats, inst)
    # instance 0: (1 + 2 + 3) / 3 = 2; instance 1: (10 + 20) / 2 = 15; instance 2: 7
    assert pooled[0, 0].tolist() == [[2.0, 2.0, 15.0], [2.0, 7.0, 15.0]]
    pooled.sum().backward()
    assert feats.grad is not None and torch.allclose(feats.grad, torch.ones_like(feats))  # each instance sums to 1


def test_instance_pool_keeps_images_apart() -> None:
    inst = torch.zeros(2, 1, 2, 2, dtype=torch.long)  # the same id 0 in both images
    feats = torch.stack([torch.full((2, 2, 2), 1.0), torch.full((2, 2, 2), 5.0)])  # (2, 2, 2, 2)
    assert torch.equal(instance_pool(feats, inst), feats)
    means, keys = instance_means(feats, inst)
    assert keys.tolist() == [[0, 0], [1, 0]] and means.tolist() == [[1.0, 1.0], [5.0, 5.0]]


def test_instance_means_shape_error() -> None:
    with pytest.raises(ValueError, match="share"):
        instance_means(torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 4, 5, dtype=torch.long))


@pytest.mark.parametrize(("size", "n_layers"), [((64, 128), 3), ((32, 64), 2)])
def test_multiscale_d_shapes(size: tuple[int, int], n_layers: int) -> None:
    D = MultiscaleDiscriminator(12, ndf=4, n_layers=n_layers, num_D=3)
    out = D(torch.randn(2, 12, *size))
    assert len(out) == 3 and all(len(o) == n_layers + 2 for o in out)
    widths = [min(4 * 2 ** i, 32) for i in range(n_layers + 1)] + [1]
    for k, scale in enumerate(out):
        assert [f.shape[1] for f in scale] == widths
        assert all(f.shape[0] == 2 for f in scale)
        h, w = size[0] // 2 ** k, size[1] // 2 ** k
        # pad 2: a stride-2 4x4 conv gives floor(h / 2) + 1; a stride-1 one adds 1
        for _ in range(n_layers):
            h, w = h // 2 + 1, w // 2 + 1
        assert scale[-1].shape[-2:] == (h + 2, w + 2)
    assert out[0][-1].shape[-1] > out[1][-1].shape[-1] > out[2][-1].shape[-1]  # finest first


def test_multiscale_d_is_pix2pix_patchgan() -> None:
    D = MultiscaleDiscriminator(6, ndf=8, num_D=2)
    assert all(isinstance(d, PatchDiscriminator) for d in D.Ds)
    assert receptive_field(D.Ds[0]) == 70  # padding does not change the 70x70 field
    x = torch.randn(1, 6, 32, 32)
    assert torch.allclose(D(x)[0][-1], D.Ds[0](x))  # the last block output is the PatchGAN's own output
    with pytest.raises(ValueError, match="at least 1"):
        MultiscaleDiscriminator(6, num_D=0)


def test_gan_feat_loss_by_hand() -> None:
    # one scale, 2 intermediate layers (+ logits): weight 4 / 2 = 2 per layer, 1 / num_D = 1
    fake = [[torch.full((1, 1, 2, 2), 1.0), torch.full((1, 1, 1, 1), 3.0), torch.full((1, 1, 1, 1), 9.0)]]
    real = [[torch.full((1, 1, 2, 2), 0.5), torch.full((1, 1, 1, 1), 1.0), torch.full((1, 1, 1, 1), -9.0)]]
    # lambda 10 * 2 * (0.5 + 2) = 50; the logits (9 vs -9) are not matched
    assert torch.isclose(gan_feat_loss(fake, real), torch.tensor(50.0))
    # two scales: each gets 1 / 2
    assert torch.isclose(gan_feat_loss(fake * 2, real * 2, lambda_feat=1.0), torch.tensor(5.0))
    with pytest.raises(ValueError, match="scales"):
        gan_feat_loss(fake, real * 2)


def test_feature_matching_gradient_reaches_fake_only() -> None:
    real = [[torch.ones(1, 2, 2, 2, requires_grad=True), torch.zeros(1, 1, 1, 1)]]
    fake = [[torch.zeros(1, 2, 2, 2, requires_grad=True), torch.zeros(1, 1, 1, 1)]]
    gan_feat_loss(fake, real).backward()
    assert fake[0][0].grad is not None and fake[0][0].grad.abs().sum() > 0
    assert real[0][0].grad is None


def test_multiscale_gan_loss_by_hand() -> None:
    outs = [[torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5)], [torch.full((1, 1, 1, 1), 2.0)]]
    # real: (0.5 - 1)^2 + (2 - 1)^2 = 1.25; fake: 0.25 + 4 = 4.25 (summed over the scales)
    assert torch.isclose(multiscale_gan_loss(outs, True), torch.tensor(1.25))
    assert torch.isclose(multiscale_gan_loss(outs, False), torch.tensor(4.25))
    with pytest.raises(ValueError, match="no discriminator"):
        multiscale_gan_loss([], True)


def test_d_and_g_gradients_flow() -> None:
    D = MultiscaleDiscriminator(5, ndf=4, n_layers=2, num_D=2)
    G = GlobalGenerator(2, 3, ngf=4, n_downsample_global=2, n_blocks_global=1)
    x = torch.randn(2, 2, 32, 32)
    y = torch.rand(2, 3, 32, 32) * 2 - 1
    fake = G(x)
    pred_fake, pred_real = D(torch.cat([x, fake], 1)), D(torch.cat([x, y], 1))
    (multiscale_gan_loss(pred_fake, True) + gan_feat_loss(pred_fake, pred_real)).backward()
    assert_gradients_reach(G)


def test_global_generator_shapes() -> None:
    G1 = GlobalGenerator(11, 3, ngf=8, n_downsample_global=3, n_blocks_global=2)
    x = torch.randn(2, 11, 32, 64)
    y = G1(x)
    assert y.shape == (2, 3, 32, 64) and y.abs().max() <= 1
    assert G1.features(x).shape == (2, 8, 32, 64)
    with pytest.raises(ValueError, match="divisible"):
        G1(torch.randn(1, 11, 36, 64))


def test_local_enhancer_shapes_and_freezing() -> None:
    G1 = GlobalGenerator(11, 3, ngf=8, n_downsample_global=2, n_blocks_global=1)
    G = LocalEnhancer(11, 3, ngf=4, n_blocks_local=1, global_G=G1)
    assert G.G1 is G1
    x = torch.randn(2, 11, 32, 64)
    y = G(x)  # (2, 3, 32, 64): G1 works at 16 x 32 inside
    assert y.shape == (2, 3, 32, 64) and y.abs().max() <= 1
    G.freeze_global()
    y.detach_()
    G(x).mean().backward()
    assert all(p.grad is None for p in G1.parameters())
    assert all(p.grad is not None for p in G.local_parameters())
    G.freeze_global(False)
    assert all(p.requires_grad for p in G.parameters())
    with pytest.raises(ValueError, match="twice as wide"):
        LocalEnhancer(11, 3, ngf=8, global_G=G1)
    with pytest.raises(ValueError, match="divisible by 8"):
        G(torch.randn(1, 11, 36, 64))


def test_local_enhancer_default_builds_its_global() -> None:
    G = LocalEnhancer(4, 3, ngf=4, n_downsample_global=1, n_blocks_global=1, n_blocks_local=1)
    assert G.G1.ngf == 8 and G(torch.randn(1, 4, 16, 16)).shape == (1, 3, 16, 16)


def test_instance_encoder_is_constant_per_instance() -> None:
    E = InstanceEncoder(3, feat_num=3, ngf=4, n_downsampling=2)
    inst = torch.zeros(2, 1, 16, 16, dtype=torch.long)
    inst[:, :, 4:10, 2:9] = 26000
    inst[1, :, 12:, :] = 24000
    feat = E(torch.randn(2, 3, 16, 16), inst)
    assert feat.shape == (2, 3, 16, 16)
    for b in range(2):
        for i in inst[b].unique():
            vals = feat[b][:, inst[b, 0] == i]  # (3, n_pixels)
            assert torch.allclose(vals, vals[:, :1].expand_as(vals))
    feat.sum().backward()
    assert_gradients_reach(E)


def test_generator_input_channels() -> None:
    ids = torch.tensor([[0, 1], [2, 2]]).view(1, 1, 2, 2)
    inst = torch.tensor([[5, 6], [7, 7]]).view(1, 1, 2, 2)
    x = generator_input(ids, 3, inst, feat=torch.zeros(1, 3, 2, 2))
    assert x.shape == (1, 3 + 1 + 3, 2, 2)
    assert torch.equal(x[0, :3].argmax(0), ids[0, 0]) and torch.equal(x[:, 3:4], instance_boundary(inst))
    assert generator_input(ids, 3, boundary=False).shape == (1, 3, 2, 2)
    with pytest.raises(ValueError, match="needs the instance map"):
        generator_input(ids, 3)
    with pytest.raises(ValueError, match="num_classes"):
        generator_input(ids, 2, boundary=False)


def _tiny_features() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())


def test_vgg_loss_on_a_stand_in_net() -> None:
    loss_fn = VGGLoss(_tiny_features(), cuts=(2, 4), weights=(0.5, 1.0))
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    assert loss_fn(x, x).item() == 0.0
    fake = x.clone().requires_grad_()
    loss = loss_fn(fake + 0.3, x)
    loss.backward()
    assert loss.item() > 0 and fake.grad is not None and fake.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in loss_fn.parameters())
    loss_fn.train()
    assert not loss_fn.training  # a fixed instrument
    with pytest.raises(ValueError, match="one weight per slice"):
        VGGLoss(_tiny_features(), cuts=(2, 4), weights=(1.0,))


def test_vgg_loss_off_with_a_notice_when_offline(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))  # nothing cached
    assert load_vgg_loss() is None  # GAN_OFFLINE=1 in the tests
    assert "VGG loss is OFF" in capsys.readouterr().out

    def failing() -> nn.Sequential:
        raise OSError("no route to host")

    assert load_vgg_loss(builder=failing) is None
    assert "no route to host" in capsys.readouterr().out
    assert isinstance(load_vgg_loss(builder=_tiny_features), VGGLoss)
    assert pix2pixhd.VGG_LAYERS == (2, 7, 12, 21, 30)  # relu1_1 .. relu5_1 of torchvision's vgg19().features


def test_kmeans_finds_separated_styles() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[-0.8, 0.0, 0.5], [0.7, 0.7, -0.5], [0.0, -0.9, 0.0]])
    feats = np.concatenate([c + 0.02 * rng.standard_normal((20, 3)) for c in centres])
    found = cluster_instance_features(feats, k=3, seed=0)
    assert found.shape == (3, 3)
    dist = np.linalg.norm(found[:, None] - centres[None], axis=-1).min(0)
    assert (dist < 0.05).all()
    again = cluster_instance_features(torch.from_numpy(feats), k=3, seed=0)
    assert np.allclose(again, found)  # seeded: the same styles each run
    few = cluster_instance_features(feats[:2], k=10)
    assert few.shape == (2, 3)  # never more centres than distinct instances
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        cluster_instance_features(np.zeros((0, 3)))
