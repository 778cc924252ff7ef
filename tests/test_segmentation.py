"""The FCN-score pieces: pixel accuracy, class accuracy and mean IoU on a hand-made case; the small segmenter."""

from __future__ import annotations

import pytest
import torch

from gan_utils.data.synthetic.facades import FACADE_CLASSES, synthetic_facades
from gan_utils.metrics.segmentation import (
    SegNet,
    class_accuracy,
    degrade,
    fit_segmenter,
    mean_iou,
    pixel_accuracy,
    segment,
    segmentation_scores,
    train_segmenter,
)

TARGET = torch.tensor([[[0, 0, 1, 1], [2, 2, 2, 1]]])  # (1, 2, 4); class 3 occurs nowhere
PRED = torch.tensor([[[0, 1, 1, 1], [2, 2, 0, 1]]])


def test_scores_by_hand() -> None:
    assert pixel_accuracy(PRED, TARGET, 4) == pytest.approx(6 / 8)
    # IoU: class 0 1/3, class 1 3/4, class 2 2/3; class 3 is in neither map, so it is left out of the mean
    assert mean_iou(PRED, TARGET, 4) == pytest.approx((1 / 3 + 3 / 4 + 2 / 3) / 3)
    # recall: class 0 1/2, class 1 3/3, class 2 2/3
    assert class_accuracy(PRED, TARGET, 4) == pytest.approx((1 / 2 + 1 + 2 / 3) / 3)
    scores = segmentation_scores(PRED, TARGET, 4)
    assert set(scores) == {"pixel_acc", "class_acc", "mean_iou"}
    assert segmentation_scores(TARGET, TARGET, 4) == {"pixel_acc": 1.0, "class_acc": 1.0, "mean_iou": 1.0}


def test_void_pixels_are_not_scored() -> None:
    assert pixel_accuracy(PRED, TARGET, 4, ignore_index=0) == pytest.approx(5 / 6)
    assert class_accuracy(PRED, TARGET, 4, ignore_index=0) == pytest.approx((1 + 2 / 3) / 2)


def test_logits_and_shape_errors() -> None:
    logits = torch.nn.functional.one_hot(PRED, 4).permute(0, 3, 1, 2).float()  # (1, 4, 2, 4)
    assert pixel_accuracy(logits, TARGET, 4) == pytest.approx(6 / 8)
    with pytest.raises(ValueError, match="differ in shape"):
        pixel_accuracy(PRED[:, :1], TARGET, 4)


def test_segnet_learns_the_procedural_facades() -> None:
    torch.manual_seed(0)
    labels, photos, _ = synthetic_facades(16, 32, seed=0)
    net = SegNet(len(FACADE_CLASSES), width=8, depth=2)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 12, 32, 32)
    losses = train_segmenter(net, photos, labels, steps=40, batch_size=8, generator=torch.Generator().manual_seed(0))
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5
    pred = segment(net, photos)  # (16, 32, 32)
    assert pred.shape == (16, 32, 32) and not net.training
    assert pixel_accuracy(pred, labels[:, 0], 12) > 0.6
    with pytest.raises(ValueError, match="divisible"):
        net(torch.zeros(1, 3, 30, 30))


def test_degrade_blurs_and_noises_each_image_on_its_own() -> None:
    x = torch.zeros(3, 3, 16, 16)
    x[:, :, :, 8:] = 1.0                                   # a sharp vertical edge in every image
    g = torch.Generator().manual_seed(0)
    y = degrade(x, g, max_sigma=2.0, max_noise=0.0)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    edge = (y[:, 0, 8, 8] - y[:, 0, 8, 7]).abs()            # step across the edge: 1 when unblurred
    assert (edge < 1).all() and edge.std() > 0             # blurred, each image by its own sigma
    assert torch.allclose(y[:, :, :, 0], torch.zeros(3, 3, 16), atol=1e-4)   # far from the edge: unchanged
    flat = degrade(torch.zeros(4, 3, 16, 16), torch.Generator().manual_seed(1), max_sigma=0.0, max_noise=0.2)
    assert flat.abs().mean() > 0 and flat.abs().max() <= 1  # noise alone
    again = degrade(x, torch.Generator().manual_seed(0), max_sigma=2.0, max_noise=0.0)
    assert torch.equal(y, again)                           # seeded: the same draws


def test_segmenter_trained_with_degradation_reads_blurred_photos() -> None:
    labels, photos, _ = synthetic_facades(16, 32, seed=0)
    blurred = degrade(photos.float() / 127.5 - 1 if photos.dtype == torch.uint8 else photos,
                      torch.Generator().manual_seed(5), max_sigma=1.5, max_noise=0.05)
    acc = {}
    for augment in (False, True):
        torch.manual_seed(0)
        net = SegNet(len(FACADE_CLASSES), width=8, depth=2)
        train_segmenter(net, photos, labels, steps=60, batch_size=8, generator=torch.Generator().manual_seed(0),
                        augment=augment)
        acc[augment] = pixel_accuracy(segment(net, blurred), labels[:, 0], 12)
    assert acc[True] > 0.5 and acc[True] >= acc[False] - 0.05


def test_fit_segmenter_saves_loads_and_retrains_on_new_settings(tmp_path) -> None:
    labels, photos, _ = synthetic_facades(8, 32, seed=0)
    x = photos.float() / 127.5 - 1 if photos.dtype == torch.uint8 else photos
    path = tmp_path / "seg" / "segmenter.pt"
    state = torch.random.get_rng_state()
    net, losses = fit_segmenter(x, labels, 12, path, width=4, depth=2, steps=6, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)     # the caller's random stream is untouched
    assert path.exists() and len(losses) == 6 and not net.training
    again, losses_again = fit_segmenter(x, labels, 12, path, width=4, depth=2, steps=6, seed=3)
    assert losses_again == losses                                # loaded, not retrained
    for a, b in zip(net.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    fresh, _ = fit_segmenter(x, labels, 12, None, width=4, depth=2, steps=6, seed=3)
    for a, b in zip(net.state_dict().values(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b)                                 # seeded: training again gives the same net
    other, losses_other = fit_segmenter(x, labels, 12, path, width=4, depth=2, steps=4, seed=3)
    assert len(losses_other) == 4                                # other settings: retrained, file replaced
    assert torch.load(path, weights_only=True)["settings"]["steps"] == 4
    torch.save(net.state_dict(), path)                           # an older plain state dict
    _, losses_old = fit_segmenter(x, labels, 12, path, width=4, depth=2, steps=6, seed=3)
    assert losses_old == losses
