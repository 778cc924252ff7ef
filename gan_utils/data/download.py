"""Download, verify and unpack data sets without ever leaving half-finished files behind.

Apart from the data package's own error class, everything here uses the standard library (``tqdm`` is
used for progress bars when it is installed).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import IO, Any

from gan_utils.data.base import DataError
from gan_utils.paths import shown_path

__all__ = [
    "ChecksumError",
    "CorruptArchiveError",
    "DataError",
    "DownloadError",
    "UnsafeArchiveError",
    "download_url",
    "extract_archive",
    "fetch_and_extract",
    "md5sum",
    "progress_bar",
    "sha256sum",
]

StrPath = str | os.PathLike[str]
Opener = Callable[[str], IO[bytes]]

_CHUNK = 1024 * 1024
# Without a timeout urlopen can hang forever on a dead connection, which in a notebook
# looks exactly like a slow download.
_TIMEOUT_S = 60.0
# Same limit as Linux's ELOOP, so a symlink cycle in an archive cannot hang the check.
_MAX_SYMLINK_HOPS = 40


class DownloadError(DataError):
    """Raised when a file cannot be fetched (no network, server error, cut-off transfer)."""


class ChecksumError(DataError):
    """Raised when a downloaded file does not match its expected hash."""


class UnsafeArchiveError(DataError):
    """Raised when an archive member would be written outside the target folder."""


class CorruptArchiveError(DataError):
    """Raised when an archive is truncated or otherwise unreadable."""


# --------------------------------------------------------------------------- checksums


def _file_digest(path: StrPath, algo: str) -> str:
    # usedforsecurity=False keeps md5 usable on FIPS-enabled machines; these hashes only
    # detect corruption, they are not a security boundary.
    h = hashlib.new(algo, usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256sum(path: StrPath) -> str:
    """Return the hex SHA-256 of a file, read in chunks so large files fit in memory."""
    return _file_digest(path, "sha256")


def md5sum(path: StrPath) -> str:
    """Return the hex MD5 of a file, read in chunks so large files fit in memory."""
    return _file_digest(path, "md5")


def _expected_hashes(sha256: str | None, md5: str | None) -> dict[str, str]:
    expected = {}
    if sha256:
        expected["sha256"] = sha256.strip().lower()
    if md5:
        expected["md5"] = md5.strip().lower()
    return expected


def _first_mismatch(actual: dict[str, str], expected: dict[str, str]) -> tuple[str, str, str] | None:
    for algo, want in expected.items():
        if actual[algo] != want:
            return algo, want, actual[algo]
    return None


# --------------------------------------------------------------------------- download


def _default_opener(url: str) -> IO[bytes]:
    return urllib.request.urlopen(url, timeout=_TIMEOUT_S)  # noqa: S310 - URLs come from the course code


def _content_length(response: Any) -> int | None:
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        return int(headers.get("Content-Length"))
    except (TypeError, ValueError):
        return None


@contextmanager
def progress_bar(total: int | None, desc: str) -> Iterator[Callable[[int], object]]:
    """A tqdm bar in bytes (a no-op where tqdm is missing); yields the function that advances it by n bytes."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        yield lambda n: None
        return
    bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc)
    try:
        yield bar.update
    finally:
        bar.close()


def _network_error(url: str, dest: Path, reason: object) -> DownloadError:
    return DownloadError(
        f"Could not download {url}: {reason}.\n"
        "There may be no network access here (offline machine, proxy or firewall), or the server is down.\n"
        f"Download the file by hand and place it at {shown_path(dest)}, then run this again."
    )


def _fetch_once(
    url: str, dest: Path, opener: Opener, expected: dict[str, str], progress: bool = True
) -> tuple[str, str, str] | None:
    """Fetch url next to dest; move it into place and return None, or return the mismatch."""
    # The temporary file lives in the same folder so that os.replace is a same-filesystem
    # rename: dest either holds a complete, verified file or does not exist at all.
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=dest.name + ".", suffix=".part")
    tmp = Path(tmp_name)
    total: int | None = None
    received = 0
    hashers = {algo: hashlib.new(algo, usedforsecurity=False) for algo in ("sha256", "md5")}
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = opener(url)
            except (OSError, http.client.HTTPException) as exc:
                raise _network_error(url, dest, exc) from exc
            try:
                total = _content_length(response)
                bar = progress_bar(total, dest.name) if progress else nullcontext(lambda n: None)
                with bar as advance:
                    while True:
                        try:
                            chunk = response.read(_CHUNK)
                        except (OSError, http.client.HTTPException) as exc:
                            raise _network_error(url, dest, exc) from exc
                        if not chunk:
                            break
                        out.write(chunk)
                        for h in hashers.values():
                            h.update(chunk)
                        received += len(chunk)
                        advance(len(chunk))
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()
        # http.client may end a dropped connection as a short, error-free read; the
        # length check catches that even when no checksum is known.
        if total is not None and received != total:
            raise _network_error(url, dest, f"transfer cut off after {received} of {total} bytes")
        mismatch = _first_mismatch({a: h.hexdigest() for a, h in hashers.items()}, expected)
        if mismatch is None:
            os.chmod(tmp, 0o644)  # mkstemp makes files private; a download is as readable as any other file
            os.replace(tmp, dest)
        else:
            tmp.unlink()
        return mismatch
    except BaseException:
        # BaseException so that Ctrl-C in a notebook also removes the partial file.
        tmp.unlink(missing_ok=True)
        raise


def download_url(
    url: str,
    dest: StrPath,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    retries: int = 1,
    opener: Opener | None = None,
    progress: bool = True,
) -> Path:
    """Download url to dest, verifying its checksum, unless a verified copy is already there.

    `progress=False` hides the file's own progress bar (for a caller that shows one bar for many files).
    """
    dest = Path(dest)
    expected = _expected_hashes(sha256, md5)
    open_url = opener if opener is not None else _default_opener

    if dest.exists():
        if not expected:
            # Only complete downloads are ever renamed to dest, so without a checksum its
            # presence is the best evidence available, and it lets offline runs proceed.
            return dest
        actual = {algo: _file_digest(dest, algo) for algo in expected}
        if _first_mismatch(actual, expected) is None:
            return dest
        # A mismatching file is a leftover from an older or damaged copy; fetching again is
        # the only way to get the file the code expects.
        dest.unlink()

    dest.parent.mkdir(parents=True, exist_ok=True)
    attempts = max(0, retries) + 1
    mismatch = None
    for _ in range(attempts):
        mismatch = _fetch_once(url, dest, open_url, expected, progress)
        if mismatch is None:
            return dest

    assert mismatch is not None
    algo, want, got = mismatch
    raise ChecksumError(
        f"Downloaded file for {shown_path(dest)} failed its {algo} check {attempts} time(s); "
        "nothing was saved there.\n"
        f"  expected {algo}: {want}\n"
        f"  actual   {algo}: {got}\n"
        f"Check that the URL is right ({url}) and still serves the same file. Otherwise download it by "
        f"hand, check its {algo}, delete any old copy and place it at {shown_path(dest)}."
    )


# --------------------------------------------------------------------------- extraction


def _split(name: str) -> list[str]:
    # Backslashes count as separators too: an archive made on Windows may use them, and
    # treating them as separators can only make the check stricter.
    return [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]


def _is_absolute(name: str) -> bool:
    return name.startswith(("/", "\\")) or (len(name) >= 2 and name[0].isalpha() and name[1] == ":")


def _resolve_in_archive(parts: list[str], symlinks: dict[str, list[str]], member: str) -> list[str] | None:
    """Resolve parts like realpath would, following the archive's own symlinks; None if it escapes."""
    # Lexical normalisation alone is not enough: with "a -> ." in the archive, "a/../x"
    # normalises to "x" but really lands beside the target folder. So every component that is
    # a symlink seen earlier in the archive is followed, just as the OS will do on extraction.
    resolved: list[str] = []
    pending = list(parts)
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not resolved:
                return None
            resolved.pop()
            continue
        resolved.append(part)
        link = symlinks.get("/".join(resolved))
        if link is not None:
            hops += 1
            if hops > _MAX_SYMLINK_HOPS:
                raise UnsafeArchiveError(f"Refusing to extract {member!r}: symlink loop in the archive.")
            resolved.pop()
            pending = link + pending
    return resolved


def _unsafe(archive: Path, member: str, why: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"Refusing to extract {shown_path(archive)}: member {member!r} {why}. Nothing was extracted. "
        "The archive may be malicious or not the file the course expects; delete it and download it again "
        "from the official source."
    )


def _check_tar_members(archive: Path, members: list[tarfile.TarInfo]) -> None:
    symlinks: dict[str, list[str]] = {}

    def inside(parts: list[str], name: str) -> bool:
        return _resolve_in_archive(parts, symlinks, name) is not None

    for m in members:
        name = m.name
        if _is_absolute(name):
            raise _unsafe(archive, name, "has an absolute path")
        parts = _split(name)
        if not (m.isfile() or m.isdir() or m.issym() or m.islnk()):
            raise _unsafe(archive, name, "is a device, FIFO or other special file")
        if m.issym() or m.islnk():
            # The link itself is created, not followed, so only its folder must stay inside.
            if not inside(parts[:-1], name):
                raise _unsafe(archive, name, "would be written outside the target folder")
            if _is_absolute(m.linkname):
                raise _unsafe(archive, name, f"links to the absolute path {m.linkname!r}")
            # Symlink targets are relative to the link's folder, hard-link targets to the archive root.
            base = parts[:-1] if m.issym() else []
            if not inside(base + _split(m.linkname), name):
                raise _unsafe(archive, name, f"links outside the target folder ({m.linkname!r})")
        if m.issym():
            symlinks["/".join(parts)] = _split(m.linkname)
        # tarfile opens files by path (and falls back to that for hard links it cannot
        # make), which follows an earlier symlink of the same name, so the full path must
        # resolve inside too; only a new symlink replaces what was there.
        elif not inside(parts, name):
            raise _unsafe(archive, name, "would be written outside the target folder")

    # A later link can change where an earlier one points, so check them all once more
    # against the final set of links.
    for link_path, target in symlinks.items():
        if not inside(_split(link_path)[:-1] + target, link_path):
            raise _unsafe(archive, link_path, "links outside the target folder")


def _check_zip_members(archive: Path, names: list[str]) -> None:
    # zipfile itself never creates symlinks, so a lexical check suffices here.
    for name in names:
        if _is_absolute(name):
            raise _unsafe(archive, name, "has an absolute path")
        if _resolve_in_archive(_split(name), {}, name) is None:
            raise _unsafe(archive, name, "would be written outside the target folder")


def _corrupt(archive: Path, reason: object) -> CorruptArchiveError:
    return CorruptArchiveError(
        f"The archive {shown_path(archive)} is corrupt or truncated ({reason}). "
        "It was probably cut off while downloading: delete it and download it again."
    )


# Errors that mean the bytes of the archive are bad, as opposed to our own bugs.
_CORRUPT_ERRORS = (
    tarfile.ReadError,
    tarfile.CompressionError,
    zipfile.BadZipFile,
    gzip.BadGzipFile,
    EOFError,
    zlib.error,
)
# tarfile.FilterError only exists from Python 3.11.4; an empty tuple matches nothing.
_FILTER_ERRORS: tuple[type[BaseException], ...] = (
    (tarfile.FilterError,) if hasattr(tarfile, "FilterError") else ()
)


def _archive_kind(archive: Path) -> str:
    name = archive.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar", ".tar.gz", ".tgz")):
        return "tar"
    raise DataError(f"Don't know how to extract {shown_path(archive)}: expected a .zip, .tar, .tar.gz or "
                    ".tgz file.")


def _extract_tar(archive: Path, into: Path) -> None:
    with tarfile.open(archive, "r:*") as tf:
        members = tf.getmembers()
        # Our own check runs first on every Python version, so behaviour does not depend on
        # whether this interpreter has tarfile's extraction filters.
        _check_tar_members(archive, members)
        if hasattr(tarfile, "data_filter"):
            tf.extractall(into, members=members, filter="data")
        else:  # pragma: no cover - Python < 3.11.4
            tf.extractall(into, members=members)


def _extract_zip(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        _check_zip_members(archive, zf.namelist())
        zf.extractall(into)


def _move_into_place(staging: Path, target_dir: Path) -> None:
    if target_dir.is_dir() and not target_dir.is_symlink() and any(target_dir.iterdir()):
        # Keep unrelated files already in target_dir; only entries this archive provides
        # are replaced, which makes re-extracting the same archive idempotent.
        for entry in staging.iterdir():
            dst = target_dir / entry.name
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            elif dst.exists() or dst.is_symlink():
                dst.unlink()
            os.replace(entry, dst)
        staging.rmdir()
        return
    if target_dir.is_dir() and not target_dir.is_symlink():
        target_dir.rmdir()
    os.replace(staging, target_dir)


def extract_archive(archive: StrPath, target_dir: StrPath) -> Path:
    """Safely unpack a .zip, .tar, .tar.gz or .tgz archive into target_dir and return it."""
    archive = Path(archive)
    target_dir = Path(target_dir)
    kind = _archive_kind(archive)
    if not archive.is_file():
        raise DataError(f"Archive {shown_path(archive)} does not exist; download it first.")

    target_dir.parent.mkdir(parents=True, exist_ok=True)
    # Unpacking into a hidden sibling first means a crash or a bad archive never leaves a
    # half-filled target_dir that later code would mistake for a complete data set.
    staging = Path(
        tempfile.mkdtemp(dir=target_dir.parent, prefix=f".{target_dir.name}.", suffix=".extracting")
    )
    try:
        try:
            if kind == "zip":
                _extract_zip(archive, staging)
            else:
                _extract_tar(archive, staging)
        except UnsafeArchiveError:
            raise
        except _FILTER_ERRORS as exc:
            name = getattr(getattr(exc, "tarinfo", None), "name", "?")
            raise _unsafe(archive, name, f"was rejected by tarfile's data filter ({exc})") from exc
        except _CORRUPT_ERRORS as exc:
            raise _corrupt(archive, exc) from exc
        _move_into_place(staging, target_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target_dir


def fetch_and_extract(
    url: str,
    archive_path: StrPath,
    target_dir: StrPath,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    opener: Opener | None = None,
) -> Path:
    """Download an archive (verified) and unpack it into target_dir, re-fetching once if it is corrupt."""
    archive_path = Path(archive_path)
    download_url(url, archive_path, sha256=sha256, md5=md5, opener=opener)
    try:
        return extract_archive(archive_path, target_dir)
    except CorruptArchiveError:
        # Without a checksum a truncated earlier download looks complete until it is
        # unpacked; one fresh copy fixes that, a second failure means the source is bad.
        archive_path.unlink(missing_ok=True)
        download_url(url, archive_path, sha256=sha256, md5=md5, opener=opener)
        return extract_archive(archive_path, target_dir)
