"""Build a notebook from a list of ("md" | "code", source) cells: keeps the JSON tidy and the kernel python3."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat

WIDGET = "application/vnd.jupyter.widget-view+json"

REPO = "gan-course/gans-from-scratch"  # where the course is published (the Colab badge and install cell use it)

COLAB_INSTALL = r"""
import subprocess
import sys

if "google.colab" in sys.modules:  # True only on Colab
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "git+https://github.com/REPO.git"], check=True)
""".replace("REPO", REPO)


def notebook_source() -> tuple[list[tuple[str, str]], Callable[[str], None], Callable[[str], None]]:
    """A fresh cell list and its `md(text)` / `code(text)` appenders, for a tools/make_NN.py source."""
    cells: list[tuple[str, str]] = []
    return cells, lambda s: cells.append(("md", s)), lambda s: cells.append(("code", s))


def colab_badge(name: str) -> str:
    """The "Open in Colab" badge for notebooks/<name>.ipynb."""
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{REPO}/blob/main/notebooks/{name}.ipynb)")


def setup_cells(intro: str = "The Colab cell installs the course package on Colab only.") -> list[tuple[str, str]]:
    """The skeleton's Setup heading and the Colab install cell that every notebook starts with."""
    return [("md", f"## Setup\n\n{intro}"), ("code", COLAB_INSTALL)]


def build(cells: list[tuple[str, str]], path: str | Path) -> None:
    """Write cells to `path` as an nbformat-4 notebook with kernel python3 and no outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    for kind, src in cells:
        src = src.strip("\n")
        nb.cells.append(nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src))
    for c in nb.cells:
        c.pop("id", None)
    nb.nbformat_minor = 4
    nbformat.write(nb, str(path))


def _stale_progress_bar(output: dict) -> bool:
    data = output.get("data", {})
    if output.get("output_type") != "display_data" or set(data) - {"text/plain", WIDGET}:
        return False
    return WIDGET in data or bool(re.match(r"[^\n]*\d+%\|", data.get("text/plain", "")))


def strip(path: str | Path) -> None:
    """Renumber execution counts 1..N and remove widget state and metadata noise; keep outputs."""
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    count = 0
    for c in nb.cells:
        c.metadata = {k: v for k, v in c.metadata.items() if k in ("tags",)}
        c.pop("id", None)
        if c.cell_type == "code":
            # Sequential counts, not None: nbval refuses cells that have outputs but no count, and 1..N does
            # not change from one run to the next.
            count += 1
            c.execution_count = count
            # A tqdm widget's saved text is its first frame ("0%| 0/8000"): misleading once the widget is gone.
            c.outputs = [o for o in c.outputs if not _stale_progress_bar(o)]
            for o in c.outputs:
                if "execution_count" in o:
                    o["execution_count"] = count
                o.get("metadata", {}).pop("execution", None)
                if o.get("output_type") == "display_data":
                    o.get("data", {}).pop(WIDGET, None)
    nb.nbformat_minor = 4
    nbformat.write(nb, str(path))


if __name__ == "__main__":
    for p in sys.argv[1:]:
        strip(p)
