"""nbgrader preprocessors of the course, shared by `make student` (tools/make_student.py) and a class's
nbgrader_config.py (tools/nbgrader_config.py), so that nbgrader's release copies and student/ are made alike.

- ClearExerciseOutput: nbgrader's ClearOutput on the exercise cells only, so the released copies keep the
  teaching figures and numbers of the committed `default` run;
- NameTheExercise: each `raise NotImplementedError()` stub that ClearSolutions leaves names its exercise and
  function, so that a later teaching cell running the learner's unwritten code says which exercise to write;
- StudentBadge: the Colab badge opens the student copy.

Needs the `teach` extra (nbgrader); nothing else in gan_utils imports this module.
"""

from __future__ import annotations

import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import ClearOutput

BADGE = re.compile(r"blob/([\w.\-]+)/notebooks/")  # the release the badge opens (tools/release.py)


class ClearExerciseOutput(ClearOutput):
    """nbgrader's ClearOutput, applied to the exercise cells (those with nbgrader metadata) only."""

    def preprocess_cell(self, cell: Any, resources: Any, cell_index: int) -> tuple[Any, Any]:
        """Clear outputs and execution counts of nbgrader cells; leave the others alone."""
        if "nbgrader" in cell.metadata:
            return super().preprocess_cell(cell, resources, cell_index)
        return cell, resources


EXERCISE_ID = re.compile(r"^ex(\d+)")
STUB = "raise NotImplementedError()"
DEF = re.compile(r"^(\s*)(?:async\s+)?(?:def|class)\s+(\w+)")


def stub_message(grade_id: str, source_lines: list[str], at: int) -> str:
    """The message of the stub on line `at`: the exercise's number and the function (or class) it sits in."""
    number = EXERCISE_ID.match(grade_id)
    exercise = f"Exercise {number.group(1)}" if number else grade_id
    indent = len(source_lines[at]) - len(source_lines[at].lstrip())
    for line in reversed(source_lines[:at]):
        found = DEF.match(line)
        if found and len(found.group(1)) < indent:
            return (f"{exercise}: `{found.group(2)}` is not written yet. Write it in the exercise cell, run that "
                    "cell and its check, then run this cell again.")
    return f"{exercise} is not answered yet. Write your answer in the exercise cell and run it, then run this again."


class NameTheExercise(Preprocessor):
    """Give each `raise NotImplementedError()` stub of a solution cell a message naming its exercise and function."""

    def preprocess_cell(self, cell: Any, resources: Any, cell_index: int) -> tuple[Any, Any]:
        """Rewrite the stubs that ClearSolutions left in a code solution cell."""
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and STUB in cell.source:
            lines = cell.source.split("\n")
            for i, line in enumerate(lines):
                if line.strip() == STUB:
                    message = stub_message(meta["grade_id"], lines, i)
                    lines[i] = line.replace(STUB, f"raise NotImplementedError({message!r})")
            cell.source = "\n".join(lines)
        return cell, resources


class StudentBadge(Preprocessor):
    """Point the notebook's Colab badge at its student copy."""

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        """Rewrite notebooks/NN_name.ipynb into student/NN_name.ipynb in the badge links."""
        name = resources["metadata"]["name"]
        for cell in nb.cells:
            if cell.cell_type == "markdown" and f"/notebooks/{name}.ipynb" in cell.source:
                cell.source = BADGE.sub(r"blob/\1/student/", cell.source)
        return nb, resources
