"""Copy the markdown of tools/make_NN.py into the executed notebook, after checking its code cells are unchanged.

Usage: python tools/sync_markdown.py 03   (fails if any code cell differs: then re-run the notebook instead)
"""
import importlib.util
import sys
import tempfile
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).parent))
num = sys.argv[1]
spec = importlib.util.spec_from_file_location("make", Path(__file__).parent / f"make_{num}.py")
make = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make)
from nbbuild import build  # noqa: E402

nb_path = next(Path("notebooks").glob(f"{num}_*.ipynb"))
with tempfile.TemporaryDirectory() as tmp:
    fresh_path = Path(tmp) / "fresh.ipynb"
    build(make.C, fresh_path)
    fresh = nbformat.read(str(fresh_path), as_version=4)
executed = nbformat.read(str(nb_path), as_version=4)
if len(fresh.cells) != len(executed.cells):
    sys.exit(f"{nb_path}: {len(executed.cells)} cells executed, {len(fresh.cells)} in the source; re-run it.")
for i, (f, e) in enumerate(zip(fresh.cells, executed.cells, strict=True)):
    if f.cell_type != e.cell_type or (f.cell_type == "code" and f.source != e.source):
        sys.exit(f"{nb_path}: cell {i} differs from the source; re-run the notebook.")
    if f.cell_type == "markdown":
        e.source = f.source
nbformat.write(executed, str(nb_path))
print(f"{nb_path}: markdown synced, code cells match the source")
