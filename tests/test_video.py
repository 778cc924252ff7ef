"""The vid2vid sequence reader (on a fixture in vid2vid's layout), the moving-shapes stand-in and its true flow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_utils.data.base import DataError
from gan_utils.data.cityscapes import CITYSCAPES_CLASSES
from gan_utils.data.synthetic.moving_shapes import moving_shapes
from gan_utils.data.video import find_vid2vid, load_video, read_vid2vid_sequences
from gan_utils.metrics.temporal import warp_error, warp_errors


def write_sequence(root: Path, split: str, seq: str, n: int, photos: bool = True, w: int = 32, h: int = 16) -> None:
    """n frames of a fake Cityscapes sequence: road (id 7) on the left, a car (26) on the right, one column a frame."""
    for t in range(n):
        stem = f"{seq}_000000_{t:06d}_leftImg8bit"
        ids = np.full((h, w), 7, np.uint8)
        ids[:, w // 2 + t:] = 26
        inst = (ids == 26).astype(np.uint8) * 5
        for kind, arr in (("A", ids), ("inst", inst)):
            (root / f"{split}_{kind}" / seq).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(root / f"{split}_{kind}" / seq / f"{stem}.png")
        if photos:
            (root / f"{split}_B" / seq).mkdir(parents=True, exist_ok=True)
            rgb = np.stack([ids * 5, np.full_like(ids, 100), np.full_like(ids, 30 * t)], -1)
            Image.fromarray(rgb.astype(np.uint8)).save(root / f"{split}_B" / seq / f"{stem}.png")


def test_reader_reads_vid2vid_layout(tmp_path: Path) -> None:
    root = tmp_path / "vid2vid" / "Cityscapes"
    write_sequence(root, "train", "seq0000", 4)
    write_sequence(root, "train", "seq0001", 4)
    clips = read_vid2vid_sequences(root, "train", size=(16, 8))
    assert clips.frames.shape == (2, 4, 3, 8, 16) and clips.label_maps.shape == (2, 4, 1, 8, 16)
    assert clips.inst is not None and clips.inst.shape == (2, 4, 1, 8, 16)
    assert clips.names == ("seq0000", "seq0001") and clips.has_frames
    road, vehicle = CITYSCAPES_CLASSES.index("road"), CITYSCAPES_CLASSES.index("vehicle")
    assert set(clips.label_maps.unique().tolist()) == {road, vehicle}
    assert clips.label_maps[0, 0, 0, :, 0].eq(road).all() and clips.label_maps[0, 0, 0, :, -1].eq(vehicle).all()
    # the car edge moves right by one source column (half a resized one) per frame
    car = (clips.label_maps[0, :, 0] == vehicle).float().sum((1, 2))
    assert (car[1:] <= car[:-1]).all() and car[-1] < car[0]
    assert clips.foreground_mask(clips.label_maps[0]).sum() == car.sum()
    assert find_vid2vid(tmp_path) == root


def test_reader_without_frames_and_raw_labels(tmp_path: Path) -> None:
    write_sequence(tmp_path, "test", "city_00", 3, photos=False)
    clips = read_vid2vid_sequences(tmp_path, "test", size=(16, 8), labels="raw")
    assert not clips.has_frames and clips.frames.shape == (1, 3, 3, 8, 16) and clips.frames.eq(0).all()
    assert clips.label_nc == 27 and set(clips.label_maps.unique().tolist()) == {7, 26}


def test_reader_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="No sequence folders"):
        read_vid2vid_sequences(tmp_path, "train")
    write_sequence(tmp_path, "train", "seq0000", 3)
    (tmp_path / "train_B" / "seq0000" / "seq0000_000000_000002_leftImg8bit.png").unlink()
    with pytest.raises(DataError, match="one file per frame"):
        read_vid2vid_sequences(tmp_path, "train", size=(16, 8))
    good = tmp_path / "good"
    write_sequence(good, "train", "seq0000", 3)
    with pytest.raises(DataError, match="fewer than n_frames"):
        read_vid2vid_sequences(good, "train", size=(16, 8), n_frames=9)
    with pytest.raises(ValueError, match="labels="):
        read_vid2vid_sequences(good, "train", labels="ade20k")


def test_load_video_falls_back_to_moving_shapes(tmp_path: Path) -> None:
    clips = load_video(tmp_path, source="auto", size=(32, 16), n_frames=5, verbose=False)
    assert not clips.is_real and clips.flow is not None and clips.flow.shape == (1, 4, 2, 16, 32)
    test = load_video(tmp_path, source="auto", size=(32, 16), n_frames=5, split="test", verbose=False)
    assert not torch.equal(test.frames, clips.frames)  # other seeds: new scenes
    with pytest.raises(DataError, match="GAN_DATA_ROOT"):
        load_video(tmp_path, source="real", verbose=False)


def test_moving_shapes_deterministic_by_seed() -> None:
    a, b, c = moving_shapes(4, (32, 16), seed=3), moving_shapes(4, (32, 16), seed=3), moving_shapes(4, (32, 16), seed=4)
    assert torch.equal(a.frames, b.frames) and torch.equal(a.flow, b.flow)
    assert not torch.equal(a.frames, c.frames)
    assert a.labels.shape == (4, 1, 16, 32) and a.inst.dtype == torch.int32 and a.visible.shape == (3, 1, 16, 32)
    assert set(a.labels.unique().tolist()) <= {0, 1, 2, 3}


def test_moving_shapes_flow_explains_the_frame_differences() -> None:
    clip = moving_shapes(12, (96, 48), seed=0)
    zero = torch.zeros_like(clip.flow)
    moved, still = warp_error(clip.frames, clip.flow, clip.visible), warp_error(clip.frames, zero, clip.visible)
    # Warping by the true flow explains almost all of the frame difference on visible pixels (bilinear
    # resampling of a smooth texture leaves a little; occluded pixels are left out).
    assert moved < 0.25 * still
    # On the background alone (a smooth texture panning by a sub-pixel amount) the warp is almost exact.
    bg = (clip.inst[1:] == 0) & (clip.inst[:-1] == 0) & clip.visible
    per_pair = warp_errors(clip.frames, clip.flow, bg)
    assert float(per_pair.max()) < 0.03
    # the flow is one vector per surface: constant over each instance
    for t in range(3):
        for k in clip.inst[t + 1].unique().tolist():
            f = clip.flow[t][:, clip.inst[t + 1, 0] == k]
            assert torch.allclose(f, f[:, :1].expand_as(f))


def test_frames_of_another_size_or_foreign_ids_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_OFFLINE", "1")
    root = tmp_path / "vid2vid" / "Cityscapes"
    write_sequence(root, "train", "seq0000", 3)
    stem = "seq0000_000000_000001_leftImg8bit"
    Image.fromarray(np.full((8, 16), 255, np.uint8)).save(root / "train_inst" / "seq0000" / f"{stem}.png")
    with pytest.raises(DataError, match=rf"The instance map .*train_inst/seq0000/{stem}\.png is 16x8, but its photo "
                                        rf".*train_B/seq0000/{stem}\.png is 32x16\. A map must be the size"):
        read_vid2vid_sequences(root, "train", size=(16, 8))
    with pytest.raises(DataError, match="is 16x8, but its photo"):
        load_video(tmp_path, source="auto", size=(16, 8), n_frames=3, verbose=False)  # no fallback to shapes
    test = tmp_path / "test_only"
    write_sequence(test, "test", "city_00", 2, photos=False)  # no frames: the label map is the reference
    Image.fromarray(np.zeros((16, 40), np.uint8)).save(test / "test_inst" / "city_00" / "city_00_000000_000000_"
                                                                                        "leftImg8bit.png")
    with pytest.raises(DataError, match=r"instance map .* is 40x16, but its label map .* is 32x16"):
        read_vid2vid_sequences(test, "test", size=(16, 8))


def test_label_ids_beyond_cityscapes_are_an_error_unless_raw(tmp_path: Path) -> None:
    write_sequence(tmp_path, "train", "seq0000", 2)
    stem = "seq0000_000000_000001_leftImg8bit"
    ids = np.full((16, 32), 7, np.uint8)
    ids[:, 20:] = 150  # a user's own class ids, not Cityscapes labelIds
    Image.fromarray(ids).save(tmp_path / "train_A" / "seq0000" / f"{stem}.png")
    with pytest.raises(DataError, match=rf"train_A/seq0000/{stem}\.png holds label id\(s\) 150 in 192 of 512 "
                                        r"pixels, outside Cityscapes' labelIds 0\.\.33"):
        read_vid2vid_sequences(tmp_path, "train", size=(16, 8))
    raw = read_vid2vid_sequences(tmp_path, "train", size=(16, 8), labels="raw")  # what labels="raw" is for
    assert raw.label_nc == 151
