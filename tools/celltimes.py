"""Print per-cell execution time and output size of an executed notebook (for sizing run modes)."""
import datetime
import json
import sys

nb = json.load(open(sys.argv[1]))
total = 0.0
for i, c in enumerate(nb["cells"]):
    if c["cell_type"] != "code":
        continue
    m = c["metadata"].get("execution", {})
    if "iopub.execute_input" in m:
        a = datetime.datetime.fromisoformat(m["iopub.execute_input"].replace("Z", ""))
        b = datetime.datetime.fromisoformat(m["shell.execute_reply"].replace("Z", ""))
        dt = (b - a).total_seconds()
        total += dt
        src = "".join(c["source"])[:60].replace("\n", " ")
        print(f"{i:3d} {dt:7.1f}s {len(json.dumps(c['outputs'])):8d}B  {src}")
print(f"total {total:.1f}s")
