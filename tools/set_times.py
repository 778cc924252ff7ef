"""Write measured run times into a notebook's header table (its source script and the executed notebook).

Usage: python tools/set_times.py 03_dcgan "≈ 45 s (measured)" "≈ 12 min (measured)"
"""
import sys
from pathlib import Path

import nbformat

name, fast, default = sys.argv[1:4]
src = Path(f"tools/make_{name[:2]}.py")
nb = Path(f"notebooks/{name}.ipynb")
text = src.read_text()
src.write_text(text.replace("TIME_FAST", fast).replace("TIME_DEFAULT", default))
data = nbformat.read(str(nb), as_version=4)
for cell in data.cells:
    if cell.cell_type == "markdown":
        cell.source = cell.source.replace("TIME_FAST", fast).replace("TIME_DEFAULT", default)
nbformat.write(data, str(nb))
