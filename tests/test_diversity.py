import pytest
import torch
from torchmetrics.functional.image import structural_similarity_index_measure

from gan_utils.metrics.diversity import mean_pairwise_ms_ssim, ms_ssim

torch.set_num_threads(1)


def blobs(n: int, channels: int = 3, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Smooth random images in [-1, 1], a stand-in for natural images."""
    g = torch.Generator().manual_seed(seed)
    low = torch.randn(n, channels, 4, 4, generator=g)
    return torch.tanh(torch.nn.functional.interpolate(low, size=size, mode="bilinear", align_corners=False))


def test_identical_images_score_one_and_the_score_is_symmetric() -> None:
    x, y = blobs(4), blobs(4, seed=1)
    assert torch.allclose(ms_ssim(x, x), torch.ones(4), atol=1e-5)
    assert torch.allclose(ms_ssim(x, y), ms_ssim(y, x), atol=1e-6)
    v = ms_ssim(x, y)
    assert v.shape == (4,) and (v >= 0).all() and (v < 0.9).all()


def test_single_scale_is_plain_ssim_on_unit_range_images() -> None:
    # With one scale MS-SSIM reduces to SSIM; our [-1, 1] -> [0, 1] mapping and window must match that call.
    x, y = blobs(3, size=28), blobs(3, size=28, seed=2)
    ours = ms_ssim(x, y, scales=1)
    ref = structural_similarity_index_measure((x + 1) / 2, (y + 1) / 2, gaussian_kernel=True, sigma=0.8,
                                              kernel_size=7, data_range=1.0, reduction="none")
    assert torch.allclose(ours, ref.clamp_min(0), atol=1e-5)


def test_score_falls_as_noise_grows() -> None:
    x = blobs(8, channels=1, size=28)
    g = torch.Generator().manual_seed(3)
    noise = torch.randn(x.shape, generator=g)
    scores = [ms_ssim(x, (x + s * noise).clamp(-1, 1)).mean().item() for s in (0.0, 0.1, 0.3, 0.6)]
    assert scores[0] > 0.999 and all(a > b for a, b in zip(scores, scores[1:], strict=False))


def test_mean_pairwise_ms_ssim_separates_a_collapsed_set_from_a_diverse_one() -> None:
    diverse = blobs(64)
    jitter = 0.02 * torch.randn(64, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    collapsed = blobs(1).repeat(64, 1, 1, 1) + jitter
    d, c = mean_pairwise_ms_ssim(diverse, n_pairs=200), mean_pairwise_ms_ssim(collapsed.clamp(-1, 1), n_pairs=200)
    assert c > 0.9 and d < 0.5
    # two copies of one image: every pair is (i, j) with i != j, so the mean is exactly that of the copies
    two = torch.cat([diverse[:1], diverse[1:2]])
    assert mean_pairwise_ms_ssim(two, n_pairs=10) == pytest.approx(ms_ssim(two[:1], two[1:]).item(), abs=1e-5)
    assert mean_pairwise_ms_ssim(diverse, n_pairs=50, seed=1) == mean_pairwise_ms_ssim(diverse, n_pairs=50, seed=1)


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="too small"):
        ms_ssim(blobs(2, size=16), blobs(2, size=16))
    with pytest.raises(ValueError, match="same shape"):
        ms_ssim(blobs(2), blobs(3))
    with pytest.raises(ValueError, match="at least two"):
        mean_pairwise_ms_ssim(blobs(1))
