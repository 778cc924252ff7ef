import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity

from gan_utils.metrics.diversity import mean_pairwise_ms_ssim, ms_ssim

torch.set_num_threads(1)


def blobs(n: int, channels: int = 3, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Smooth random images in [-1, 1], a stand-in for natural images."""
    g = torch.Generator().manual_seed(seed)
    low = torch.randn(n, channels, 4, 4, generator=g)
    return torch.tanh(torch.nn.functional.interpolate(low, size=size, mode="bilinear", align_corners=False))


def strokes(n: int, size: int = 28, seed: int = 0) -> torch.Tensor:
    """MNIST-like images: bright smooth strokes in the middle, a black (-1) margin of 4 px all round."""
    g = torch.Generator().manual_seed(seed)
    low = torch.randn(n, 1, 5, 5, generator=g)
    inner = torch.nn.functional.interpolate(low, size=size - 8, mode="bicubic", align_corners=False)
    ink = torch.sigmoid(4 * (inner - 0.5))  # (n, 1, size-8, size-8) in (0, 1)
    return torch.nn.functional.pad(2 * ink - 1, (4,) * 4, value=-1.0)  # (n, 1, size, size)


def skimage_ssim(x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """skimage's SSIM of each pair and channel (B, C), with the settings the module docstring names."""
    unit = lambda t: ((t.double() + 1) / 2).numpy()  # noqa: E731
    return np.array([[structural_similarity(a, b, gaussian_weights=True, sigma=0.8, use_sample_covariance=False,
                                            data_range=1.0) for a, b in zip(u, v, strict=True)]
                     for u, v in zip(unit(x), unit(y), strict=True)])


def reference_ms_ssim(a: np.ndarray, b: np.ndarray, scales: int, sigma: float = 0.8) -> float:
    """MS-SSIM of two (H, W) images in [0, 1], written independently: scipy's filter, then crop the border."""
    betas = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333][:scales])
    betas = betas / betas.sum()
    pad = int(3.5 * sigma + 0.5)
    blur = lambda t: gaussian_filter(t, sigma, truncate=3.5, mode="reflect")[pad:-pad, pad:-pad]  # noqa: E731
    factors = []
    for s in range(scales):
        mx, my = blur(a), blur(b)
        vx, vy, cxy = blur(a * a) - mx**2, blur(b * b) - my**2, blur(a * b) - mx * my
        cs = (2 * cxy + 0.03**2) / (vx + vy + 0.03**2)
        lum = (2 * mx * my + 0.01**2) / (mx**2 + my**2 + 0.01**2)
        factors.append(cs.mean() if s < scales - 1 else (lum * cs).mean())
        h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
        a = a[:h, :w].reshape(h // 2, 2, w // 2, 2).mean((1, 3))
        b = b[:h, :w].reshape(h // 2, 2, w // 2, 2).mean((1, 3))
    return float(np.prod(np.maximum(factors, 0) ** betas))


def test_single_scale_is_skimage_ssim_over_the_valid_region() -> None:
    # Digit-like images with black margins, where a padded-border average would differ from skimage's crop.
    x, y = strokes(6), strokes(6, seed=1)
    ref = skimage_ssim(x, y)[:, 0]
    assert (ref > 0).all()
    assert np.allclose(ms_ssim(x, y, scales=1).numpy(), ref, atol=1e-3)
    # colour: each channel's value is clamped at 0, then the channels are averaged
    c, d = blobs(3, size=32), blobs(3, size=32, seed=2)
    ref = skimage_ssim(c, d)
    assert (ref < 0).any()  # the case where clamping per channel matters
    assert np.allclose(ms_ssim(c, d, scales=1).numpy(), ref.clip(0).mean(1), atol=1e-3)


def test_three_scales_match_an_independent_implementation() -> None:
    for size in (28, 32):
        x, y = strokes(3, size=size), strokes(3, size=size, seed=3)
        ours = ms_ssim(x, y, scales=3)
        ref = [reference_ms_ssim(((a[0].double() + 1) / 2).numpy(), ((b[0].double() + 1) / 2).numpy(), 3)
               for a, b in zip(x, y, strict=True)]
        assert np.allclose(ours.numpy(), ref, atol=1e-3)


def test_identical_images_score_one_independent_noise_about_zero() -> None:
    x, y = blobs(4), blobs(4, seed=1)
    assert torch.allclose(ms_ssim(x, x), torch.ones(4), atol=1e-5)
    assert torch.allclose(ms_ssim(x, y), ms_ssim(y, x), atol=1e-6)
    v = ms_ssim(x, y)
    assert v.shape == (4,) and (v >= 0).all() and (v < 0.9).all()
    g = torch.Generator().manual_seed(5)
    noise = lambda: torch.rand(100, 1, 28, 28, generator=g) * 2 - 1  # noqa: E731
    assert ms_ssim(noise(), noise()).mean().item() < 0.05


def test_score_falls_as_noise_grows() -> None:
    x = blobs(8, channels=1, size=28)
    g = torch.Generator().manual_seed(3)
    noise = torch.randn(x.shape, generator=g)
    scores = [ms_ssim(x, (x + s * noise).clamp(-1, 1)).mean().item() for s in (0.0, 0.1, 0.3, 0.6)]
    assert scores[0] > 0.999 and all(a > b for a, b in zip(scores, scores[1:], strict=False))


def test_mean_pairwise_ms_ssim_separates_a_collapsed_set_from_a_diverse_one() -> None:
    diverse = strokes(64)
    jitter = 0.05 * torch.randn(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    collapsed = (strokes(1).repeat(64, 1, 1, 1) + jitter).clamp(-1, 1)
    d, c = mean_pairwise_ms_ssim(diverse, n_pairs=200), mean_pairwise_ms_ssim(collapsed, n_pairs=200)
    assert c > 0.8 and d < 0.5
    # two images: every pair is (i, j) with i != j, so the mean is exactly that pair's value
    two = diverse[:2]
    assert mean_pairwise_ms_ssim(two, n_pairs=10) == pytest.approx(ms_ssim(two[:1], two[1:]).item(), abs=1e-5)
    assert mean_pairwise_ms_ssim(diverse, n_pairs=50, seed=1) == mean_pairwise_ms_ssim(diverse, n_pairs=50, seed=1)


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="too small.*fewer scales or a smaller sigma"):
        ms_ssim(blobs(2, size=16), blobs(2, size=16))
    ms_ssim(blobs(2, size=16), blobs(2, size=16), scales=2)  # 8 px at the coarsest scale: fits the 7-tap window
    with pytest.raises(ValueError, match="same shape"):
        ms_ssim(blobs(2), blobs(3))
    with pytest.raises(ValueError, match="1 to 5 scales"):
        ms_ssim(blobs(2), blobs(2), scales=6)
    with pytest.raises(ValueError, match="at least two"):
        mean_pairwise_ms_ssim(blobs(1))
