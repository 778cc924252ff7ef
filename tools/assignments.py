"""Make one of the course's six suggested assignments in an nbgrader course folder:  make assignment A=a1

    python tools/assignments.py a1 [--course DIR]     source/a1/ from notebooks/, then `nbgrader generate_assignment a1`
    python tools/assignments.py --list                 the assignments and their notebooks

The course folder (default: course/ in the repository, git-ignored) gets tools/nbgrader_config.py the first time;
your edits to it are kept. The release copies are in DIR/release/aN/. docs/teaching.md has the rest of the workflow.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENTS = {  # docs/teaching.md, "Suggested assignments"
    "a1": ("01_vanilla_gan", "02_conditional_gan"),
    "a2": ("03_dcgan", "04_infogan"),
    "a3": ("05_improved_techniques", "06_acgan", "08_pacgan"),
    "a4": ("09_pix2pix", "10_cyclegan"),
    "a5": ("11_pix2pixhd", "12_vid2vid"),
    "a6": ("07_3dgan", "13_biggan"),
}


def make(assignment: str, course: Path) -> Path:
    """Copy the instructor notebooks of `assignment` into course/source/ and generate the release copies."""
    if assignment not in ASSIGNMENTS:
        sys.exit(f"Unknown assignment {assignment!r}; the course's assignments are {', '.join(ASSIGNMENTS)}.")
    course.mkdir(parents=True, exist_ok=True)
    config = course / "nbgrader_config.py"
    if not config.exists():
        shutil.copy(REPO / "tools" / "nbgrader_config.py", config)
        print(f"wrote {config} (edit it: course id, LMS file names)")
    source = course / "source" / assignment
    source.mkdir(parents=True, exist_ok=True)
    for name in ASSIGNMENTS[assignment]:
        shutil.copy(REPO / "notebooks" / f"{name}.ipynb", source / f"{name}.ipynb")
    bindir = str(Path(sys.executable).parent)  # nbgrader calls alembic from the PATH
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force"], cwd=course,
                   env=env, check=True)
    print(f"release copies of {assignment}: {course / 'release' / assignment}")
    return course / "release" / assignment


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("assignment", nargs="?", help="a1 ... a6")
    ap.add_argument("--course", type=Path, default=REPO / "course", help="the nbgrader course folder")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list or not args.assignment:
        for name, notebooks in ASSIGNMENTS.items():
            print(f"{name}: {', '.join(notebooks)}")
        return 0
    make(args.assignment, args.course)
    return 0


if __name__ == "__main__":
    sys.exit(main())
