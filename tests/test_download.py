"""Tests for gan_utils.data.download: offline, with archives built on the fly and a fake opener."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import urllib.error
import zipfile
from pathlib import Path

import pytest

from gan_utils.data.download import (
    ChecksumError,
    CorruptArchiveError,
    DataError,
    DownloadError,
    UnsafeArchiveError,
    download_url,
    extract_archive,
    fetch_and_extract,
    md5sum,
    progress_bar,
    sha256sum,
)
from gan_utils.paths import shown_path

URL = "https://example.invalid/data/file.bin"
GOOD = b"the real data set\n" * 1000
BAD = b"an HTML error page, not the data set\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


class FakeOpener:
    """Serves the given payloads in turn (the last one repeats) and counts calls."""

    def __init__(self, *payloads: object) -> None:
        self.payloads = list(payloads)
        self.calls: list[str] = []

    def __call__(self, url: str) -> io.BytesIO:
        self.calls.append(url)
        payload = self.payloads[min(len(self.calls), len(self.payloads)) - 1]
        if isinstance(payload, BaseException):
            raise payload
        if isinstance(payload, bytes):
            return io.BytesIO(payload)
        return payload  # a ready-made file-like


class FailingReader(io.RawIOBase):
    """A response that yields some bytes, then raises exc from read()."""

    def __init__(self, data: bytes, fail_after: int, exc: BaseException) -> None:
        self.data, self.fail_after, self.exc, self.pos = data, fail_after, exc, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.pos >= self.fail_after:
            raise self.exc
        end = self.fail_after if n < 0 else min(self.pos + n, self.fail_after)
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk


def leftovers(folder: Path, keep: set[str] = frozenset()) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def snapshot(root: Path) -> set[Path]:
    return set(root.rglob("*"))


# --------------------------------------------------------------------------- checksums


def test_sha256sum_and_md5sum_match_hashlib(tmp_path: Path) -> None:
    f = tmp_path / "f.bin"
    data = random.Random(0).randbytes(3 * 1024 * 1024 + 17)  # spans several read chunks
    f.write_bytes(data)
    assert sha256sum(f) == sha(data)
    assert md5sum(f) == md5(data)


def test_exceptions_share_a_base() -> None:
    for exc in (DownloadError, ChecksumError, UnsafeArchiveError, CorruptArchiveError):
        assert issubclass(exc, DataError)
    assert issubclass(DataError, RuntimeError)


# --------------------------------------------------------------------------- download_url


@pytest.mark.parametrize("kind", ["sha256", "md5", "both", "upper"])
def test_good_download_lands_under_final_name(tmp_path: Path, kind: str) -> None:
    dest = tmp_path / "sub" / "file.bin"
    sums = {
        "sha256": {"sha256": sha(GOOD)},
        "md5": {"md5": md5(GOOD)},
        "both": {"sha256": sha(GOOD), "md5": md5(GOOD)},
        "upper": {"sha256": sha(GOOD).upper()},
    }[kind]
    opener = FakeOpener(GOOD)
    assert download_url(URL, dest, opener=opener, **sums) == dest
    assert dest.read_bytes() == GOOD
    assert opener.calls == [URL]
    assert leftovers(dest.parent) == ["file.bin"]


def test_download_is_readable_by_all_and_its_bar_can_be_hidden(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "file.bin"
    download_url(URL, dest, sha256=sha(GOOD), opener=FakeOpener(GOOD), progress=False)
    assert oct(dest.stat().st_mode & 0o777) == oct(0o644)  # not mkstemp's private 0o600
    assert capsys.readouterr().err == ""  # no per-file bar: a caller fetching many files shows one of its own
    with progress_bar(10, "many files") as advance:
        advance(10)
    assert "many files" in capsys.readouterr().err


def test_download_without_checksum(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    download_url(URL, dest, opener=FakeOpener(GOOD))
    assert dest.read_bytes() == GOOD


def test_existing_good_file_is_not_downloaded_again(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    dest.write_bytes(GOOD)
    opener = FakeOpener(OSError("must not be called"))
    assert download_url(URL, dest, sha256=sha(GOOD), opener=opener) == dest
    assert download_url(URL, dest, md5=md5(GOOD), opener=opener) == dest
    assert opener.calls == []


def test_existing_file_without_checksum_is_trusted(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    dest.write_bytes(GOOD)
    opener = FakeOpener(OSError("offline"))
    download_url(URL, dest, opener=opener)
    assert opener.calls == []


def test_corrupt_existing_file_is_fetched_again(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    dest.write_bytes(GOOD[:100])  # e.g. an old, cut-off copy
    opener = FakeOpener(GOOD)
    download_url(URL, dest, sha256=sha(GOOD), opener=opener)
    assert dest.read_bytes() == GOOD
    assert len(opener.calls) == 1
    assert leftovers(tmp_path) == ["file.bin"]


def test_bad_bytes_then_good_bytes_succeeds_after_one_retry(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    opener = FakeOpener(BAD, GOOD)
    download_url(URL, dest, sha256=sha(GOOD), opener=opener)
    assert dest.read_bytes() == GOOD
    assert len(opener.calls) == 2
    assert leftovers(tmp_path) == ["file.bin"]


@pytest.mark.parametrize("algo", ["sha256", "md5"])
def test_always_bad_bytes_raise_checksum_error_and_leave_nothing(tmp_path: Path, algo: str) -> None:
    dest = tmp_path / "file.bin"
    expected = sha(GOOD) if algo == "sha256" else md5(GOOD)
    opener = FakeOpener(BAD)
    with pytest.raises(ChecksumError) as info:
        download_url(URL, dest, opener=opener, **{algo: expected})
    message = str(info.value)
    assert expected in message
    assert (sha(BAD) if algo == "sha256" else md5(BAD)) in message
    assert shown_path(dest) in message
    assert len(opener.calls) == 2  # first try + one retry
    assert leftovers(tmp_path) == []


def test_retries_zero_fetches_once(tmp_path: Path) -> None:
    opener = FakeOpener(BAD, GOOD)
    with pytest.raises(ChecksumError):
        download_url(URL, tmp_path / "file.bin", sha256=sha(GOOD), retries=0, opener=opener)
    assert len(opener.calls) == 1


@pytest.mark.parametrize(
    "exc", [urllib.error.URLError("Name or service not known"), OSError("Network is unreachable")]
)
def test_network_failure_raises_download_error_naming_url_and_path(tmp_path: Path, exc: OSError) -> None:
    dest = tmp_path / "file.bin"
    with pytest.raises(DownloadError) as info:
        download_url(URL, dest, sha256=sha(GOOD), opener=FakeOpener(exc))
    message = str(info.value)
    assert shown_path(dest) in message
    assert URL in message
    assert "network" in message
    assert leftovers(tmp_path) == []


def test_connection_dropped_midway_raises_download_error(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    reader = FailingReader(GOOD, fail_after=500, exc=ConnectionResetError("reset by peer"))
    with pytest.raises(DownloadError):
        download_url(URL, dest, opener=FakeOpener(reader))
    assert leftovers(tmp_path) == []


def test_short_transfer_without_checksum_is_caught_by_content_length(tmp_path: Path) -> None:
    response = io.BytesIO(GOOD[:100])
    response.headers = {"Content-Length": str(len(GOOD))}  # type: ignore[attr-defined]
    dest = tmp_path / "file.bin"
    with pytest.raises(DownloadError, match="cut off"):
        download_url(URL, dest, opener=FakeOpener(response))
    assert leftovers(tmp_path) == []


def test_keyboard_interrupt_midway_leaves_no_partial_file(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    reader = FailingReader(GOOD, fail_after=1000, exc=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        download_url(URL, dest, sha256=sha(GOOD), opener=FakeOpener(reader))
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- archives

FILES = {"celeba/a.txt": b"alpha", "celeba/sub/b.txt": b"beta"}


def make_tar_gz(path: Path, files: dict[str, bytes] = FILES) -> bytes:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path.read_bytes()


def make_zip(path: Path, files: dict[str, bytes] = FILES) -> bytes:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path.read_bytes()


def make_tar_with(path: Path, *members: tarfile.TarInfo) -> None:
    with tarfile.open(path, "w") as tf:
        ok = tarfile.TarInfo("ok.txt")
        ok.size = 2
        tf.addfile(ok, io.BytesIO(b"ok"))  # a harmless member first: it must not be extracted either
        for m in members:
            tf.addfile(m, io.BytesIO(b"x" * m.size) if m.isfile() else None)


def file_member(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 4
    return info


def link_member(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def assert_extracted(target: Path) -> None:
    for name, data in FILES.items():
        assert (target / name).read_bytes() == data


@pytest.mark.parametrize("suffix", [".tar.gz", ".tgz", ".tar", ".zip"])
def test_extraction_works(tmp_path: Path, suffix: str) -> None:
    archive = tmp_path / f"data{suffix}"
    if suffix == ".zip":
        make_zip(archive)
    elif suffix == ".tar":
        with tarfile.open(archive, "w") as tf:
            for name, data in FILES.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    else:
        make_tar_gz(archive)
    target = tmp_path / "out"
    assert extract_archive(archive, target) == target
    assert_extracted(target)
    assert leftovers(tmp_path) == sorted([archive.name, "out"])  # no staging folder left behind


def test_extraction_into_existing_folder_keeps_other_files(tmp_path: Path) -> None:
    archive = tmp_path / "data.tar.gz"
    make_tar_gz(archive)
    target = tmp_path / "out"
    (target / "celeba").mkdir(parents=True)
    (target / "celeba" / "stale.txt").write_text("from an old extraction")
    (target / "notes.txt").write_text("mine")
    extract_archive(archive, target)
    assert_extracted(target)
    assert (target / "notes.txt").read_text() == "mine"
    assert not (target / "celeba" / "stale.txt").exists()


def test_inner_symlink_is_allowed(tmp_path: Path) -> None:
    archive = tmp_path / "data.tar"
    make_tar_with(archive, file_member("d/real.txt"), link_member("d/alias.txt", "real.txt"))
    target = tmp_path / "out"
    extract_archive(archive, target)
    assert (target / "d" / "alias.txt").read_bytes() == b"xxxx"


def unsafe_tar_cases(tmp_path: Path) -> dict[str, list[tarfile.TarInfo]]:
    outside = tmp_path / "evil.txt"
    return {
        "dotdot": [file_member("../evil.txt")],
        "nested-dotdot": [file_member("a/../../evil.txt")],
        "absolute": [file_member(str(outside))],
        "symlink-relative": [link_member("link", "../evil.txt")],
        "symlink-absolute": [link_member("link", str(outside))],
        "write-through-symlink": [link_member("up", ".."), file_member("up/evil.txt")],
        # "a -> ." makes "a/../x" land beside the target although it normalises to "x".
        "symlink-chain": [link_member("a", "."), file_member("a/../evil.txt")],
        "hardlink-outside": [link_member("hard", "../evil.txt", tarfile.LNKTYPE)],
        "device": [link_member("dev", "", tarfile.CHRTYPE)],
    }


@pytest.mark.parametrize(
    "case",
    [
        "dotdot",
        "nested-dotdot",
        "absolute",
        "symlink-relative",
        "symlink-absolute",
        "write-through-symlink",
        "symlink-chain",
        "hardlink-outside",
        "device",
    ],
)
@pytest.mark.parametrize("tar_filter", ["with", "without"])
def test_unsafe_tar_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, tar_filter: str
) -> None:
    if tar_filter == "without":
        # Pretend to be a Python without tarfile's extraction filters: our own check must suffice.
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "evil.tar"
    make_tar_with(archive, *unsafe_tar_cases(tmp_path)[case])
    before = snapshot(tmp_path)
    target = work / "out"
    with pytest.raises(UnsafeArchiveError) as info:
        extract_archive(archive, target)
    assert "Nothing was extracted" in str(info.value)
    assert snapshot(tmp_path) == before
    assert not target.exists()


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/tmp/evil", "..\\evil.txt"])
def test_unsafe_zip_is_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok.txt", b"ok")
        zf.writestr(name, b"evil")
    before = snapshot(tmp_path)
    target = work / "out"
    with pytest.raises(UnsafeArchiveError):
        extract_archive(archive, target)
    assert snapshot(tmp_path) == before
    assert not target.exists()


def truncated_tar_gz(tmp_path: Path) -> bytes:
    # Random bytes do not compress, so cutting the file in half really cuts into the data.
    payload = random.Random(1).randbytes(200_000)
    data = make_tar_gz(tmp_path / "whole.tar.gz", {"celeba/a.bin": payload})
    (tmp_path / "whole.tar.gz").unlink()
    return data[: len(data) // 2]


def test_truncated_tar_gz_raises_corrupt_archive_error(tmp_path: Path) -> None:
    archive = tmp_path / "data.tar.gz"
    archive.write_bytes(truncated_tar_gz(tmp_path))
    target = tmp_path / "out"
    with pytest.raises(CorruptArchiveError, match="delete it and download it again"):
        extract_archive(archive, target)
    assert leftovers(tmp_path) == ["data.tar.gz"]  # no target, no staging folder


def test_truncated_zip_raises_corrupt_archive_error(tmp_path: Path) -> None:
    archive = tmp_path / "data.zip"
    data = make_zip(archive)
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptArchiveError):
        extract_archive(archive, tmp_path / "out")
    assert leftovers(tmp_path) == ["data.zip"]


def test_unknown_archive_type_raises_data_error(tmp_path: Path) -> None:
    archive = tmp_path / "data.rar"
    archive.write_bytes(b"whatever")
    with pytest.raises(DataError):
        extract_archive(archive, tmp_path / "out")


# --------------------------------------------------------------------------- fetch_and_extract


def test_fetch_and_extract(tmp_path: Path) -> None:
    good = make_tar_gz(tmp_path / "src.tar.gz")
    (tmp_path / "src.tar.gz").unlink()
    opener = FakeOpener(good)
    target = fetch_and_extract(
        URL, tmp_path / "data.tar.gz", tmp_path / "out", sha256=sha(good), opener=opener
    )
    assert target == tmp_path / "out"
    assert_extracted(target)
    assert len(opener.calls) == 1


def test_fetch_and_extract_refetches_once_when_archive_is_corrupt(tmp_path: Path) -> None:
    bad = truncated_tar_gz(tmp_path)
    good = make_tar_gz(tmp_path / "src.tar.gz")
    (tmp_path / "src.tar.gz").unlink()
    opener = FakeOpener(bad, good)
    target = fetch_and_extract(URL, tmp_path / "data.tar.gz", tmp_path / "out", opener=opener)
    assert len(opener.calls) == 2
    assert_extracted(target)


def test_fetch_and_extract_gives_up_after_second_corrupt_archive(tmp_path: Path) -> None:
    opener = FakeOpener(truncated_tar_gz(tmp_path))
    with pytest.raises(CorruptArchiveError):
        fetch_and_extract(URL, tmp_path / "data.tar.gz", tmp_path / "out", opener=opener)
    assert len(opener.calls) == 2
    assert not (tmp_path / "out").exists()
