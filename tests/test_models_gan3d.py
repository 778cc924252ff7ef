"""3D-GAN: G and D shapes at 32^3 and 64^3, D's pooled features, the accuracy-gated D update, the 3D blocks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_utils.models.gan3d import (
    VoxelDiscriminator,
    VoxelGenerator,
    d_accuracy,
    d_step_gated,
    pooled_features,
)
from gan_utils.nn.blocks3d import volume_stages


@pytest.mark.parametrize("size, width", [(32, 8), (64, 4)])
def test_shapes(size: int, width: int) -> None:
    G, D = VoxelGenerator(200, size, ngf=width), VoxelDiscriminator(size, ndf=width)
    x = G(torch.randn(2, 200)).detach()  # (2, 1, size, size, size)
    assert x.shape == (2, 1, size, size, size) and 0 < float(x.min()) and float(x.max()) < 1
    assert D(x).shape == (2,)
    feats = D.features(x)
    assert [f.shape[-1] for f in feats] == [size // 2 ** (i + 1) for i in range(len(feats))]
    assert feats[-1].shape[-1] == 4
    assert pooled_features(D, x).shape == (2, sum(f.shape[1] for f in feats[-3:]) * 8)


def test_paper_channels_at_64() -> None:
    G = VoxelGenerator(200, 64, ngf=64)
    convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose3d)]
    assert [m.out_channels for m in convs] == [512, 256, 128, 64, 1]
    assert all(m.kernel_size == (4, 4, 4) for m in convs) and all(m.stride == (2, 2, 2) for m in convs[1:])
    D = VoxelDiscriminator(64, ndf=64)
    assert [m.out_channels for m in D.modules() if isinstance(m, nn.Conv3d)] == [64, 128, 256, 512, 1]
    assert not any(isinstance(m, (nn.MaxPool3d, nn.AvgPool3d)) for m in D.modules())


def test_volume_stages() -> None:
    assert volume_stages(32) == 3 and volume_stages(64) == 4
    with pytest.raises(ValueError, match="32 or 64"):
        volume_stages(48)


def test_d_accuracy_by_hand() -> None:
    # real logits: 2 of 3 right; fake logits: 1 of 3 right (<= 0 counts as fake) -> 3 / 6.
    assert d_accuracy(torch.tensor([1.0, 2.0, -1.0]), torch.tensor([0.0, 3.0, 0.5])) == 0.5


class _Fixed(nn.Module):
    """A D whose logit is w * (mean occupancy - 0.5): its accuracy is set by the sign of w."""

    def __init__(self, w: float) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w * (x.flatten(1).mean(1) - 0.5)


def test_gate_skips_a_confident_d_and_updates_a_weak_one() -> None:
    x_real, x_fake = torch.ones(4, 1, 4, 4, 4), torch.zeros(4, 1, 4, 4, 4)
    strong = _Fixed(5.0)  # accuracy 1.0 > 0.8: no step
    opt = torch.optim.SGD(strong.parameters(), lr=0.1)
    r = d_step_gated(strong, opt, x_real, x_fake)
    assert r.accuracy == 1.0 and not r.updated and strong.w.item() == 5.0
    weak = _Fixed(-1.0)  # accuracy 0.0: a step, which moves w towards telling them apart
    opt = torch.optim.SGD(weak.parameters(), lr=0.1)
    r = d_step_gated(weak, opt, x_real, x_fake)
    assert r.accuracy == 0.0 and r.updated and weak.w.item() > -1.0
    assert d_step_gated(_Fixed(5.0), opt, x_real, x_fake, threshold=1.0).updated  # exactly at the threshold
