"""NVIDIA's Cityscapes example files, the real data of notebooks 09-12: a verified, resumable download.

pix2pixHD ships 54 Cityscapes files in `datasets/cityscapes/` (8 training photos with their label and instance
maps, 15 test label and instance maps), and vid2vid's first commit shipped a 30-frame training sequence and a
30-frame test sequence of label maps in `datasets/Cityscapes/` (deleted from the repository later, so only that
commit has them). `download_nvidia_examples` fetches exactly those 204 files from GitHub at the pinned commits,
checks each against the sha256 in `nvidia_manifest`, and puts them where the loaders look:
`<root>/pix2pixhd/cityscapes/` and `<root>/vid2vid/Cityscapes/`, the repositories' own layouts.

The files are fetched into a hidden folder, `<root>/.nvidia_examples.partial/`, and each set folder is moved into
place only when every one of its files is there and verified, so a loader never sees half a set. An interrupted
download resumes from that folder: files already there with the right sum are not fetched again.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple
from urllib.parse import quote

from gan_utils.data.base import DataError, writable
from gan_utils.data.nvidia_manifest import SUMS
from gan_utils.network import network_available
from gan_utils.paths import shown_path

__all__ = ["CITYSCAPES_TERMS", "EXAMPLE_SETS", "FILES", "STAGING", "ExampleFile", "ExampleSet",
           "download_nvidia_examples", "example_url", "licence_note", "missing_files"]

_HOST = "raw.githubusercontent.com"
STAGING = ".nvidia_examples.partial"  # under the data root; hidden, so no loader takes it for a data set
CITYSCAPES_TERMS = ("the images are Cityscapes data (Cordts et al., CVPR 2016): under the Cityscapes terms of use "
                    "(https://www.cityscapes-dataset.com/license/) they are for non-commercial purposes only, must "
                    "be cited and must not be redistributed; the full data set needs a registration at "
                    "cityscapes-dataset.com")


@dataclass(frozen=True)
class ExampleSet:
    """One repository's example folder: where it is on GitHub, where it goes under the data root, its licence."""

    name: str  # "pix2pixhd" or "vid2vid"
    folder: str  # under the data root, as the loaders look for it
    repo: str
    commit: str
    repo_folder: str  # the same folder inside the repository
    licence: str  # what the repository's LICENSE.txt says, in a few words

    def url(self, rel: str) -> str:
        """The raw GitHub URL of file `rel` (relative to the set's folder) at the pinned commit."""
        return f"https://{_HOST}/{self.repo}/{self.commit}/{self.repo_folder}/{quote(rel)}"


EXAMPLE_SETS: dict[str, ExampleSet] = {
    "pix2pixhd": ExampleSet("pix2pixhd", "pix2pixhd/cityscapes", "NVIDIA/pix2pixHD",
                            "14b3b3c7fff413086e3b58df52096f16b6891172", "datasets/cityscapes",
                            "BSD licence (its LICENSE.txt, Copyright 2019 NVIDIA Corporation)"),
    "vid2vid": ExampleSet("vid2vid", "vid2vid/Cityscapes", "NVIDIA/vid2vid",
                          "4501f4b75d561f1c1db2cf39584404f9eb579fa6", "datasets/Cityscapes",
                          "CC BY-NC-SA 4.0, non-commercial purposes only (its LICENSE.txt, Copyright 2017 NVIDIA "
                          "Corporation)"),
}


class ExampleFile(NamedTuple):
    """One file of the manifest: its path under the data root, its size in bytes and its sha256."""

    path: str
    size: int
    sha256: str

    @property
    def example_set(self) -> ExampleSet:
        """The example set this file belongs to (by its path's leading folders)."""
        for s in EXAMPLE_SETS.values():
            if self.path.startswith(s.folder + "/"):
                return s
        raise ValueError(f"{self.path} is in no example set's folder ({[s.folder for s in EXAMPLE_SETS.values()]}).")


def _parse(text: str) -> tuple[ExampleFile, ...]:
    rows = (line.split() for line in text.splitlines() if line.strip())
    return tuple(ExampleFile(path, int(size), sha) for sha, size, path in rows)


FILES: tuple[ExampleFile, ...] = _parse(SUMS)


def example_url(f: ExampleFile) -> str:
    """Where `f` is on GitHub, at its repository's pinned commit."""
    s = f.example_set
    return s.url(f.path[len(s.folder) + 1:])


def _files(sets: tuple[str, ...]) -> list[ExampleFile]:
    unknown = [s for s in sets if s not in EXAMPLE_SETS]
    if unknown:
        raise ValueError(f"sets={unknown} unknown; use names from {list(EXAMPLE_SETS)}.")
    return [f for f in FILES if f.example_set.name in sets]


def _verified(path: Path, f: ExampleFile) -> bool:
    from gan_utils.data.download import sha256sum

    try:
        return path.is_file() and path.stat().st_size == f.size and sha256sum(path) == f.sha256
    except OSError:
        return False


def missing_files(root: str | Path, sets: tuple[str, ...] = tuple(EXAMPLE_SETS)) -> list[ExampleFile]:
    """The example files of `sets` that are not under `root` with the right size and sha256."""
    root = Path(root)
    return [f for f in _files(sets) if not _verified(root / f.path, f)]


def licence_note(sets: tuple[str, ...] = tuple(EXAMPLE_SETS)) -> str:
    """The licence line printed before a download: Cityscapes' terms and each repository's licence."""
    repos = "; ".join(f"github.com/{EXAMPLE_SETS[s].repo}: {EXAMPLE_SETS[s].licence}" for s in sets)
    return f"Licences: {CITYSCAPES_TERMS}. The repositories: {repos}."


def _move_into_place(staging: Path, root: Path, sets: tuple[str, ...]) -> None:
    for name in sets:
        staged, target = staging / EXAMPLE_SETS[name].folder, root / EXAMPLE_SETS[name].folder
        if not staged.is_dir():
            continue  # every file of this set was already in place
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.replace(staged, target)  # the whole set appears at once
            except OSError:
                pass  # another process made target meanwhile: add the files one by one below
            else:
                # A *.part file came along from another process's unfinished fetch (a second notebook); that
                # process can no longer finish it, and target held nothing else before the rename.
                for stray in target.rglob("*.part"):
                    stray.unlink(missing_ok=True)
                continue
        for src in sorted(p for p in staged.rglob("*") if p.is_file() and p.suffix != ".part"):
            dest = target / src.relative_to(staged)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
    shutil.rmtree(staging, ignore_errors=True)


def _kept(staging: Path) -> int:
    return sum(1 for p in staging.rglob("*") if p.is_file()) if staging.is_dir() else 0


def download_nvidia_examples(root: str | Path, sets: tuple[str, ...] = tuple(EXAMPLE_SETS),
                             opener: Callable[[str], IO[bytes]] | None = None, verbose: bool = True) -> str | None:
    """Fetch NVIDIA's Cityscapes example files of `sets` into root, each sha256-verified; return why not, or None.

    Files already under root with the right sum are kept; nothing is fetched or written when all are there.
    `opener` replaces urllib's urlopen (tests); without one, the download is skipped at once when offline.
    """
    from gan_utils.data.download import ChecksumError, download_url, progress_bar

    root = Path(root)
    todo = missing_files(root, sets)
    if not todo:
        return None
    if opener is None and not network_available(_HOST):
        return "no network"
    if not writable(root):
        return f"{shown_path(root)} is not writable"
    staging = root / STAGING
    total = sum(f.size for f in todo)
    if verbose:
        where = " and ".join(f"github.com/{EXAMPLE_SETS[s].repo} (commit {EXAMPLE_SETS[s].commit[:7]})" for s in sets)
        for text in (f"Downloading NVIDIA's Cityscapes example files ({len(todo)} files, {total / 2**20:.1f} MiB) "
                     f"from {where} into {shown_path(root)}.", licence_note(sets)):
            print(textwrap.fill(text, 116, break_long_words=False, break_on_hyphens=False))
    f = todo[0]
    try:
        bar = progress_bar(total, "NVIDIA Cityscapes examples") if verbose else nullcontext(lambda n: None)
        with bar as advance:
            for f in todo:
                download_url(example_url(f), staging / f.path, sha256=f.sha256, opener=opener, progress=False)
                advance(f.size)
    except ChecksumError:
        # The reason goes into a banner or an error message; what to do about it is printed here in full.
        print(f"{f.path} from {example_url(f)} did not have the sha256 on record ({f.sha256}) in two tries, so it "
              "was not saved. A proxy or login page may have answered instead of GitHub: run this again on another "
              f"network (the {_kept(staging)} verified file(s) in {shown_path(staging)} are kept, so it resumes), or "
              f"copy the file by hand from github.com/{f.example_set.repo} at commit {f.example_set.commit} to "
              f"{shown_path(root / f.path)}.")
        return f"checksum mismatch for {f.path}; nothing was saved for it (the message above says what to do)"
    except (DataError, OSError) as e:
        if not missing_files(root, sets):
            return None  # another process (a second notebook) finished the same download meanwhile
        cause = e.__cause__ if isinstance(e, DataError) and e.__cause__ is not None else str(e).splitlines()[0]
        return (f"download failed at {f.path} ({cause}); {_kept(staging)} verified file(s) are kept in "
                f"{shown_path(staging)}, so running this again resumes")
    try:
        _move_into_place(staging, root, sets)
    except OSError as e:
        return f"the verified files in {shown_path(staging)} could not be moved into {shown_path(root)} ({e})"
    return None


