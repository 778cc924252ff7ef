"""NVIDIA's Cityscapes example files (pix2pixHD, vid2vid): the pinned URLs, the sha256 manifest, a resumable download
into the loaders' layout. Offline: a fake opener serves small PNG/JPEG files in the real formats, made here."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import gan_utils.data.download as download_module
import gan_utils.data.nvidia_examples as nv
from gan_utils.data import DataError
from gan_utils.data.cityscapes import load_cityscapes, load_cityscapes_label_maps
from gan_utils.data.nvidia_examples import (
    EXAMPLE_SETS,
    FILES,
    STAGING,
    ExampleFile,
    download_nvidia_examples,
    example_url,
    missing_files,
)
from gan_utils.data.video import load_video

SHARED = Path(__file__).resolve().parents[2] / "shared" / "realdata"
RAW = "https://raw.githubusercontent.com"
PIX2PIXHD = f"{RAW}/NVIDIA/pix2pixHD/14b3b3c7fff413086e3b58df52096f16b6891172/datasets/cityscapes/"
VID2VID = f"{RAW}/NVIDIA/vid2vid/4501f4b75d561f1c1db2cf39584404f9eb579fa6/datasets/Cityscapes/"
W, H = 64, 32
ROAD, CAR, SKY, BUILDING = 7, 26, 23, 11


# --------------------------------------------------------------------------- fixtures in the real formats


def label_ids(seed: int) -> np.ndarray:
    a = np.full((H, W), BUILDING, np.uint8)
    a[: H // 4] = SKY
    a[H // 2:] = ROAD
    a[H // 2 + 4: H // 2 + 10, 8 + seed: 24 + seed] = CAR
    return a


def encode(array: np.ndarray, fmt: str, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    image = Image.fromarray(array) if mode is None else Image.fromarray(array, mode)
    image.save(buf, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buf.getvalue()


def fixture_bytes(path: str, seed: int) -> bytes:
    """A small file in the format the real one has (see shared/realdata/MANIFEST.md)."""
    ids = label_ids(seed % 5)
    if "/train_img/" in path or "/train_B/" in path:  # photos: RGB PNG (pix2pixHD), JPEG (vid2vid)
        rgb = np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)
        return encode(rgb, "JPEG" if path.endswith(".jpg") else "PNG")
    if path.startswith("pix2pixhd/") and "_inst/" in path:  # 16-bit instanceIds: id * 1000 + k for objects
        inst = ids.astype(np.uint16)
        inst[ids == CAR] = CAR * 1000 + seed
        return encode(inst, "PNG")
    if path.startswith("vid2vid/") and "_inst/" in path:  # 8-bit: 255 = no object, k = object k
        inst = np.full((H, W), 255, np.uint8)
        inst[ids == CAR] = 3
        return encode(inst, "PNG")
    return encode(ids, "PNG")  # label ids, 8-bit


def pick(folder: str, n: int) -> list[ExampleFile]:
    return [f for f in FILES if f.path.startswith(folder + "/")][:n]


@pytest.fixture
def fixtures(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """A few of the real paths with small stand-in bytes; the manifest is swapped for their sums. URL -> bytes."""
    chosen = [*pick("pix2pixhd/cityscapes/test_inst", 2), *pick("pix2pixhd/cityscapes/test_label", 2)]
    for kind in ("img", "inst", "label"):
        chosen += pick(f"pix2pixhd/cityscapes/train_{kind}", 2)
    for folder in ("test_A/stuttgart_00", "test_inst/stuttgart_00", "train_A/seq0000", "train_B/seq0000",
                   "train_inst/seq0000"):
        chosen += pick(f"vid2vid/Cityscapes/{folder}", 4)
    served, files = {}, []
    for f in chosen:
        data = fixture_bytes(f.path, int(f.path.split("_")[-2]) if "vid2vid" in f.path else len(files))
        files.append(ExampleFile(f.path, len(data), hashlib.sha256(data).hexdigest()))
        served[example_url(f)] = data
    monkeypatch.setattr(nv, "FILES", tuple(files))
    return served


class FakeGitHub:
    """Serves `served` by URL and records the calls; fails (an exception, or junk bytes) where told."""

    def __init__(self, served: dict[str, bytes], fail_at: int | None = None, exc: BaseException | None = None,
                 junk_for: str | None = None) -> None:
        self.served, self.fail_at, self.exc, self.junk_for = served, fail_at, exc, junk_for
        self.calls: list[str] = []

    def __call__(self, url: str) -> io.BytesIO:
        self.calls.append(url)
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise self.exc or ConnectionResetError("connection reset by peer")
        if url == self.junk_for:
            return io.BytesIO(b"<html>Please log in</html>")
        if url not in self.served:
            raise OSError(f"404 for {url}")
        return io.BytesIO(self.served[url])


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def parts(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".part")]


def online(monkeypatch: pytest.MonkeyPatch, github: FakeGitHub) -> None:
    """Make the loaders' own download (no opener passed) reach the fake GitHub."""
    monkeypatch.setattr(nv, "network_available", lambda *a, **k: True)
    monkeypatch.setattr(download_module, "_default_opener", github)


# --------------------------------------------------------------------------- the committed manifest


def test_manifest_lists_both_sets_at_the_pinned_commits() -> None:
    by_set = {name: [f for f in FILES if f.example_set.name == name] for name in EXAMPLE_SETS}
    assert len(by_set["pix2pixhd"]) == 54 and len(by_set["vid2vid"]) == 150
    assert len({f.path for f in FILES}) == len(FILES)
    assert all(len(f.sha256) == 64 and int(f.sha256, 16) >= 0 and f.size > 0 for f in FILES)
    assert 28_000_000 < sum(f.size for f in FILES) < 30_000_000
    for f in by_set["pix2pixhd"]:
        assert example_url(f) == PIX2PIXHD + f.path.removeprefix("pix2pixhd/cityscapes/")
    for f in by_set["vid2vid"]:
        assert example_url(f) == VID2VID + f.path.removeprefix("vid2vid/Cityscapes/")
    folders = {f.path.rsplit("/", 1)[0] for f in FILES}
    assert "pix2pixhd/cityscapes/train_img" in folders and "vid2vid/Cityscapes/train_B/seq0000" in folders


def test_manifest_matches_the_shared_realdata_sums() -> None:
    if not (SHARED / "SHA256SUMS").exists():
        pytest.skip("../shared/realdata is not here (a fresh clone has none)")
    sums = {}
    for line in (SHARED / "SHA256SUMS").read_text().splitlines():
        sha, path = line.split(None, 1)
        if path.startswith(("pix2pixhd/", "vid2vid/")):
            sums[path] = sha
    assert {f.path: f.sha256 for f in FILES} == sums
    assert all((SHARED / f.path).stat().st_size == f.size for f in FILES)


def test_the_shared_copy_counts_as_downloaded_and_is_never_written(tmp_path: Path) -> None:
    if not (SHARED / "pix2pixhd" / "cityscapes").is_dir():
        pytest.skip("../shared/realdata is not here (a fresh clone has none)")
    assert missing_files(SHARED) == []
    never = FakeGitHub({}, fail_at=1, exc=AssertionError("nothing may be fetched"))
    assert download_nvidia_examples(SHARED, opener=never) is None and never.calls == []


# --------------------------------------------------------------------------- the download


def test_pinned_urls_are_fetched_into_the_loaders_layout(
        tmp_path: Path, fixtures: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "data"
    github = FakeGitHub(fixtures)
    assert download_nvidia_examples(root, opener=github) is None
    assert github.calls == [example_url(f) for f in nv.FILES]  # each file once, from the pinned commit
    assert all(u.startswith((PIX2PIXHD, VID2VID)) for u in github.calls)
    assert tree(root) == {f.path: fixtures[example_url(f)] for f in nv.FILES}  # nothing else: no staging, no .part
    assert all(oct((root / f.path).stat().st_mode & 0o777) == oct(0o644) for f in nv.FILES)
    out = capsys.readouterr().out
    for words in ("cityscapes-dataset.com/license", "non-commercial", "registration", "NVIDIA/pix2pixHD",
                  "BSD", "NVIDIA/vid2vid", "CC BY-NC-SA 4.0", "14b3b3c", "4501f4b"):
        assert words in out, words
    again = FakeGitHub(fixtures, fail_at=1, exc=AssertionError("nothing may be fetched twice"))
    assert download_nvidia_examples(root, opener=again) is None and again.calls == []


def test_the_loaders_read_the_downloaded_files(tmp_path: Path, fixtures: dict[str, bytes]) -> None:
    root = tmp_path / "data"
    assert download_nvidia_examples(root, opener=FakeGitHub(fixtures), verbose=False) is None
    pairs = load_cityscapes(root, source="real", size=(32, 16), cache_dir=tmp_path / "c", verbose=False)
    assert pairs.is_real and len(pairs) == 2 + 4 and pairs.label_nc == 9  # 2 stills, 4 video frames
    assert pairs.A.shape == (6, 1, 16, 32) and pairs.B.shape == (6, 3, 16, 32) and pairs.inst is not None
    maps = load_cityscapes_label_maps(root, source="real", size=(32, 16), cache_dir=tmp_path / "c", verbose=False)
    assert maps.is_real and len(maps) == 2 and maps.inst.max() >= CAR * 1000  # 16-bit ids survive
    clips = load_video(root, source="real", size=(32, 16), n_frames=4, cache_dir=tmp_path / "c", verbose=False)
    assert clips.is_real and clips.frames.shape == (1, 4, 3, 16, 32) and clips.has_frames
    test = load_video(root, source="real", size=(32, 16), n_frames=4, split="test", verbose=False)
    assert test.is_real and not test.has_frames and test.names == ("stuttgart_00",)


def test_auto_downloads_through_the_loader_then_reads(
        tmp_path: Path, fixtures: dict[str, bytes], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    github = FakeGitHub(fixtures)
    online(monkeypatch, github)
    clips = load_video(tmp_path, source="auto", size=(32, 16), n_frames=4, cache_dir=tmp_path / "c")
    assert clips.is_real and len(github.calls) == len(nv.FILES)  # pix2pixHD's files come too, for 09-11
    out = capsys.readouterr().out
    assert "Licences:" in out and "REAL DATA" in out
    pairs = load_cityscapes(tmp_path, source="auto", size=32, cache_dir=tmp_path / "c", verbose=False)
    assert pairs.is_real and len(github.calls) == len(nv.FILES)  # read from disk, nothing fetched again
    only_standard = load_cityscapes(tmp_path / "other", layouts=("standard",), size=16, n_synthetic=3,
                                    cache_dir=tmp_path / "c", verbose=False)
    assert not only_standard.is_real and len(github.calls) == len(nv.FILES)  # no download for that layout


def test_checksum_mismatch_names_the_file_and_saves_nothing(
        tmp_path: Path, fixtures: dict[str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "data"
    bad = nv.FILES[5]
    github = FakeGitHub(fixtures, junk_for=example_url(bad))
    why = download_nvidia_examples(root, opener=github, verbose=False)
    assert why is not None and "checksum mismatch" in why and bad.path in why
    printed = capsys.readouterr().out
    assert bad.sha256 in printed and "by hand" in printed and "run this again" in printed
    assert github.calls.count(example_url(bad)) == 2  # one retry, then it gives up
    assert not (root / "pix2pixhd").exists() and not (root / "vid2vid").exists()  # no set appears half-done
    assert not parts(root) and not (root / STAGING / bad.path).exists()
    assert len(tree(root / STAGING)) == 5  # the files verified before it are kept for the next run
    resumed = FakeGitHub(fixtures)
    assert download_nvidia_examples(root, opener=resumed, verbose=False) is None
    assert resumed.calls == [example_url(f) for f in nv.FILES[5:]]
    assert (root / bad.path).read_bytes() == fixtures[example_url(bad)] and not (root / STAGING).exists()


@pytest.mark.parametrize("exc", [ConnectionResetError("connection reset by peer"), KeyboardInterrupt()])
def test_an_interrupted_download_resumes(tmp_path: Path, fixtures: dict[str, bytes], exc: BaseException) -> None:
    root = tmp_path / "data"
    github = FakeGitHub(fixtures, fail_at=8, exc=exc)
    if isinstance(exc, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            download_nvidia_examples(root, opener=github, verbose=False)
    else:
        why = download_nvidia_examples(root, opener=github, verbose=False)
        assert why is not None and "connection reset" in why and "resumes" in why and nv.FILES[7].path in why
    assert not parts(root) and len(tree(root / STAGING)) == 7
    assert not (root / "pix2pixhd").exists()  # the loaders see no half set...
    with pytest.raises(DataError, match="No Cityscapes pairs"):
        load_cityscapes(root, source="real", verbose=False)  # ...and, offline, say what to do
    resumed = FakeGitHub(fixtures)
    assert download_nvidia_examples(root, opener=resumed, verbose=False) is None
    assert resumed.calls == [example_url(f) for f in nv.FILES[7:]]
    assert tree(root) == {f.path: fixtures[example_url(f)] for f in nv.FILES}


def test_a_transfer_cut_off_mid_file_leaves_no_partial_file(tmp_path: Path, fixtures: dict[str, bytes]) -> None:
    class CutOff(io.BytesIO):
        def read(self, n: int = -1) -> bytes:
            raise TimeoutError("timed out")

    root = tmp_path / "data"
    why = download_nvidia_examples(root, opener=lambda url: CutOff(), verbose=False)
    assert why is not None and "timed out" in why and not parts(root) and not tree(root)


def test_files_already_in_place_are_kept_and_a_wrong_one_is_replaced(
        tmp_path: Path, fixtures: dict[str, bytes]) -> None:
    root = tmp_path / "data"
    keep, wrong = nv.FILES[0], nv.FILES[1]
    for f, data in ((keep, fixtures[example_url(keep)]), (wrong, b"an older copy")):
        (root / f.path).parent.mkdir(parents=True, exist_ok=True)
        (root / f.path).write_bytes(data)
    github = FakeGitHub(fixtures)
    assert download_nvidia_examples(root, opener=github, verbose=False) is None
    assert example_url(keep) not in github.calls and example_url(wrong) in github.calls
    assert tree(root) == {f.path: fixtures[example_url(f)] for f in nv.FILES}


def test_a_second_process_finishing_first_counts_as_success(tmp_path: Path, fixtures: dict[str, bytes]) -> None:
    root = tmp_path / "data"
    github = FakeGitHub(fixtures)

    def other_notebook_wins(url: str) -> io.BytesIO:
        if not github.calls:  # another kernel completes the whole download while this one is at its first file
            assert download_nvidia_examples(root, opener=github, verbose=False) is None
            raise ConnectionResetError("connection reset by peer")
        return github(url)

    assert download_nvidia_examples(root, opener=other_notebook_wins, verbose=False) is None
    assert missing_files(root) == [] and not parts(root)


def test_one_set_only(tmp_path: Path, fixtures: dict[str, bytes]) -> None:
    github = FakeGitHub(fixtures)
    assert download_nvidia_examples(tmp_path, sets=("vid2vid",), opener=github, verbose=False) is None
    assert all(u.startswith(VID2VID) for u in github.calls) and not (tmp_path / "pix2pixhd").exists()
    with pytest.raises(ValueError, match="sets"):
        download_nvidia_examples(tmp_path, sets=("cityscapes",))


# --------------------------------------------------------------------------- read-only roots, no network


def test_read_only_root_with_the_files_is_read_and_never_written(tmp_path: Path, fixtures: dict[str, bytes]) -> None:
    root = tmp_path / "ro"
    assert download_nvidia_examples(root, opener=FakeGitHub(fixtures), verbose=False) is None
    before = tree(root)
    dirs = [root, *[p for p in root.rglob("*") if p.is_dir()]]
    for d in dirs:
        d.chmod(0o555)
    try:
        pairs = load_cityscapes(root, source="auto", size=16, cache_dir=tmp_path / "c", verbose=False)
        clips = load_video(root, source="real", size=(16, 8), n_frames=4, cache_dir=tmp_path / "c", verbose=False)
        never = FakeGitHub({}, fail_at=1, exc=AssertionError("nothing may be fetched"))
        assert download_nvidia_examples(root, opener=never) is None and never.calls == []
    finally:
        for d in dirs:
            d.chmod(0o755)
    assert pairs.is_real and clips.is_real and tree(root) == before


def test_unwritable_root_falls_back_under_auto_and_errors_under_real(
        tmp_path: Path, fixtures: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the data root should be")  # unwritable even for root, unlike chmod
    root = blocker / "data"
    github = FakeGitHub(fixtures)
    online(monkeypatch, github)
    assert "is not writable" in download_nvidia_examples(root)
    pairs = load_cityscapes(root, source="auto", size=16, n_synthetic=3, cache_dir=tmp_path / "c", verbose=False)
    assert not pairs.is_real and "is not writable" in pairs.description
    with pytest.raises(DataError, match="could not be downloaded .*is not writable"):
        load_video(root, source="real", verbose=False)
    assert github.calls == []
    monkeypatch.setattr(nv, "writable", lambda path: False)  # a read-only mount, as a non-root user sees it
    assert "is not writable" in download_nvidia_examples(tmp_path / "ro")
    assert github.calls == [] and not (tmp_path / "ro").exists()


def test_no_network_gives_the_stand_in_under_auto_and_a_clear_error_under_real(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # conftest sets GAN_OFFLINE=1, which network_available honours, as on a machine without a connection
    root = tmp_path / "data"
    assert download_nvidia_examples(root) == "no network"
    pairs = load_cityscapes(root, source="auto", size=16, n_synthetic=3, cache_dir=tmp_path / "c")
    out = capsys.readouterr().out
    assert not pairs.is_real and "OFFLINE STAND-IN, NOT CITYSCAPES" in out and "(no network)" in out
    clips = load_video(root, source="auto", size=(16, 8), n_frames=3, verbose=False)
    assert not clips.is_real and "no network" in clips.description
    maps = load_cityscapes_label_maps(root, source="auto", size=16, n_synthetic=2, cache_dir=tmp_path / "c",
                                      verbose=False)
    assert not maps.is_real and "no network" in maps.description
    for load in (load_cityscapes, load_cityscapes_label_maps, load_video):
        with pytest.raises(DataError) as e:
            load(root, source="real", verbose=False)
        message = str(e.value)
        assert "could not be downloaded (no network)" in message, load.__name__
        assert "GAN_DATA_ROOT" in message and "GAN_DATA=synthetic" in message and "NVIDIA" in message
    assert not root.exists()  # nothing is created when offline


def test_real_bytes_through_a_fake_github(tmp_path: Path) -> None:
    """The committed manifest against the real files: each URL maps to its file in shared/realdata."""
    if not (SHARED / "pix2pixhd" / "cityscapes").is_dir():
        pytest.skip("../shared/realdata is not here (a fresh clone has none)")

    def opener(url: str) -> io.BufferedReader:
        for s in EXAMPLE_SETS.values():
            prefix = f"https://raw.githubusercontent.com/{s.repo}/{s.commit}/{s.repo_folder}/"
            if url.startswith(prefix):
                return open(SHARED / s.folder / url.removeprefix(prefix), "rb")
        raise OSError(f"404 for {url}")

    root = tmp_path / "data"
    assert download_nvidia_examples(root, opener=opener, verbose=False) is None
    assert missing_files(root) == [] and not (root / STAGING).exists()
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == sorted(f.path for f in FILES)
    maps = load_cityscapes_label_maps(root, source="real", size=(32, 16), cache_dir=tmp_path / "c", verbose=False)
    assert len(maps) == 15
    assert os.access(root / FILES[0].path, os.R_OK)
