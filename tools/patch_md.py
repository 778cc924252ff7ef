"""Replace a passage of markdown in a notebook's source script and in the executed notebook (no re-run needed).

Usage: python tools/patch_md.py 01 OLD_FILE NEW_FILE   (files hold the exact old and new text)
"""
import sys
from pathlib import Path

import nbformat

num, old_file, new_file = sys.argv[1:4]
old, new = Path(old_file).read_text(), Path(new_file).read_text()
src = Path(f"tools/make_{num}.py")
text = src.read_text()
if old not in text:
    sys.exit(f"old text not found in {src}")
src.write_text(text.replace(old, new))
nb_path = next(Path("notebooks").glob(f"{num}_*.ipynb"))
nb = nbformat.read(str(nb_path), as_version=4)
hits = 0
for cell in nb.cells:
    if cell.cell_type == "markdown" and old in cell.source:
        cell.source = cell.source.replace(old, new)
        hits += 1
if hits != 1:
    sys.exit(f"old text found in {hits} markdown cells of {nb_path}")
nbformat.write(nb, str(nb_path))
print(f"patched {src} and {nb_path}")
