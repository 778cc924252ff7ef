"""Pin the course to one release: the version in pyproject.toml names the git tag that Colab installs and opens.

Usage: python tools/release.py 0.3.0     (`make release VERSION=0.3.0` runs it)
       python tools/release.py --check   (exit 1 if any notebook, student copy or README names another release)

A learner on Colab opens a notebook from its badge and the notebook's first cell installs `gan_utils`. Both must be
the same release, or a notebook from `main` meets a package from another commit. So pyproject.toml's version is
the one place the release is kept, and this script writes its tag (v<version>) into:
- the Colab install cell of every notebook (notebooks/*.py and *.ipynb, student/*.ipynb): `...git@v<version>`;
- every Colab badge (notebooks and README.md): `.../blob/v<version>/notebooks/...`;
- `gan_utils.__version__`.
Outputs are kept: only those strings change. Then commit, `git tag v<version>` and push the tag.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
VERSION_LINE = re.compile(r'^version = "([^"]+)"$', re.M)
INIT_VERSION = re.compile(r'^__version__ = "([^"]+)"$', re.M)
INSTALL = re.compile(r"(git\+https://github\.com/gan-course/gans-from-scratch\.git)(@[\w.\-]+)?")
BADGE = re.compile(r"(colab\.research\.google\.com/github/gan-course/gans-from-scratch/blob/)[\w.\-]+(/(?:notebooks|student)/)")


def current_version() -> str:
    """The version in pyproject.toml."""
    m = VERSION_LINE.search((REPO / "pyproject.toml").read_text())
    if m is None:
        raise SystemExit("pyproject.toml has no `version = \"...\"` line.")
    return m.group(1)


def pin(text: str, tag: str) -> str:
    """`text` with every install URL and Colab badge naming `tag`."""
    text = INSTALL.sub(lambda m: f"{m.group(1)}@{tag}", text)
    return BADGE.sub(lambda m: f"{m.group(1)}{tag}{m.group(2)}", text)


def files() -> list[Path]:
    return (sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py")) + sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
            + sorted((REPO / "student").glob("[0-9][0-9]_*.ipynb")) + [REPO / "README.md"])


def pinned(path: Path, tag: str) -> bool:
    """True if every install URL and badge in `path` names `tag`."""
    return pin(path.read_text(), tag) == path.read_text()


def write(path: Path, tag: str) -> None:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            cell.source = pin(cell.source, tag)
        nbformat.write(nb, path)
    else:
        path.write_text(pin(path.read_text(), tag))


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        tag = "v" + current_version()
        stale = [p.relative_to(REPO).as_posix() for p in files() if not pinned(p, tag)]
        if INIT_VERSION.search((REPO / "gan_utils" / "__init__.py").read_text()).group(1) != tag[1:]:
            stale.append("gan_utils/__init__.py (__version__)")
        if stale:
            print(f"These files do not name the release {tag} of pyproject.toml: {stale}. Run "
                  f"`make release VERSION={tag[1:]}`.")
            return 1
        return 0
    if len(argv) != 1 or not re.fullmatch(r"\d+\.\d+\.\d+", argv[0]):
        print(__doc__)
        return 2
    version = argv[0]
    pyproject = REPO / "pyproject.toml"
    pyproject.write_text(VERSION_LINE.sub(f'version = "{version}"', pyproject.read_text(), count=1))
    init = REPO / "gan_utils" / "__init__.py"
    init.write_text(INIT_VERSION.sub(f'__version__ = "{version}"', init.read_text(), count=1))
    for path in files():
        write(path, "v" + version)
    print(f"Pinned to v{version}. Commit, then `git tag v{version}` and push the tag (`git push origin v{version}`): "
          f"until the tag is on GitHub, the badges and Colab install cells point at a release that does not exist.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
