"""Tidy an executed notebook before it is committed: stable execution counts, no widget state, no machine paths.

Usage: python tools/tidy_notebook.py notebooks/03_dcgan.ipynb [...]   (`make notebook NB=...` runs it for you)

- execution counts become 1..N (nbval refuses outputs without a count, and 1..N does not change between runs);
- saved widget state and tqdm's stale first frame ("0%| 0/8000") are dropped: GitHub cannot render the first,
  and the second is misleading once the widget is gone;
- cell metadata other than tags and nbgrader's exercise marks, and execution timestamps, are removed;
- absolute paths of the machine that ran it (the repository, GAN_DATA_ROOT, the home folder) are replaced by
  relative ones, and the boxes of the data banners are re-padded so that they stay aligned;
- figures over 200 kB are stored as 256-colour PNGs, which keeps a notebook under ~3 MB (STYLE.md) at no visible
  cost for sample grids.
"""

from __future__ import annotations

import base64
import io
import os
import re
import sys
from pathlib import Path

import nbformat
from PIL import Image

WIDGET = "application/vnd.jupyter.widget-view+json"
REPO = Path(__file__).resolve().parent.parent
PNG_LIMIT = 200_000  # bytes of PNG above which a figure is re-encoded with a 256-colour palette


def _path_replacements() -> list[tuple[str, str]]:
    pairs = []
    if os.environ.get("GAN_DATA_ROOT"):
        pairs.append((str(Path(os.environ["GAN_DATA_ROOT"]).expanduser().resolve()), "$GAN_DATA_ROOT"))
    pairs += [(str(REPO) + "/", ""), (str(REPO), "."), (str(Path.home()), "~")]
    return pairs


def _realign_boxes(text: str) -> str:
    """Re-pad banner boxes ('#####' / '# line #' / '#####', or with '!') after their text changed length."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        edge = lines[i][:1]
        if edge in "#!" and edge and set(lines[i]) == {edge} and len(lines[i]) > 4:
            j = i + 1
            while j < len(lines) and lines[j].startswith(edge + " ") and lines[j].endswith(" " + edge):
                j += 1
            if j < len(lines) and j > i + 1 and set(lines[j]) == {edge}:
                body = [s[2:-2].rstrip() for s in lines[i + 1:j]]
                width = max(len(s) for s in body)
                out += [edge * (width + 4)] + [f"{edge} {s:<{width}} {edge}" for s in body] + [edge * (width + 4)]
                i = j + 1
                continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def scrub(text: str, pairs: list[tuple[str, str]]) -> str:
    """Replace machine paths by relative ones and keep banner boxes aligned."""
    new = text
    for old, rep in pairs:
        new = new.replace(old, rep)
    return _realign_boxes(new) if new != text else text


def shrink_png(b64: str) -> str:
    """A large PNG (base64) re-encoded as an optimised 256-colour PNG, if that is smaller."""
    raw = base64.b64decode(b64)
    if len(raw) <= PNG_LIMIT:
        return b64
    out = io.BytesIO()
    Image.open(io.BytesIO(raw)).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(
        out, "PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii") if out.tell() < len(raw) else b64


def _stale_progress_bar(output: dict) -> bool:
    data = output.get("data", {})
    if output.get("output_type") != "display_data" or set(data) - {"text/plain", WIDGET}:
        return False
    return WIDGET in data or bool(re.match(r"[^\n]*\d+%\|", data.get("text/plain", "")))


def _scrub_output(o: dict, pairs: list[tuple[str, str]]) -> None:
    if "text" in o:
        text = o["text"] if isinstance(o["text"], str) else "".join(o["text"])
        o["text"] = scrub(text, pairs)
    for mime in ("text/plain", "text/html"):
        if mime in o.get("data", {}):
            value = o["data"][mime]
            o["data"][mime] = scrub(value if isinstance(value, str) else "".join(value), pairs)


def tidy(path: str | Path) -> None:
    """Tidy one executed notebook in place (outputs are kept)."""
    pairs = _path_replacements()
    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    count = 0
    for c in nb.cells:
        c.metadata = {k: v for k, v in c.metadata.items() if k in ("tags", "nbgrader")}
        c.pop("id", None)
        if c.cell_type != "code":
            continue
        count += 1
        c.execution_count = count
        c.outputs = [o for o in c.outputs if not _stale_progress_bar(o)]
        for o in c.outputs:
            if "execution_count" in o:
                o["execution_count"] = count
            o.get("metadata", {}).pop("execution", None)
            if o.get("output_type") == "display_data":
                o.get("data", {}).pop(WIDGET, None)
            if "image/png" in o.get("data", {}):
                o["data"]["image/png"] = shrink_png(o["data"]["image/png"])
            _scrub_output(o, pairs)
    nb.nbformat_minor = 4
    nbformat.write(nb, str(path))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        tidy(p)
        print(f"tidied {p}")
