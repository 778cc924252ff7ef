"""Check cells for the exercises: they tell the learner whether an answer is right, and never show the answer.

A wrong answer gets the hint, not the answer. A learner's session gets a printed verdict; under a grader
(nbgrader's autograde, or GAN_GRADING=1) a wrong or missing answer raises, so the check cell scores no points.
See gan_utils.grading for the comparison, the fixed-input function checks and the sealed answers.
"""

from __future__ import annotations

from typing import Any

from gan_utils.grading import Sealed, check_function, compare, seal, sealed, verdict

__all__ = ["Sealed", "check", "check_function", "seal", "sealed"]


def check(got: Any, expected: Any, name: str, hint: str = "", atol: float = 1e-4) -> bool:
    """Compare an exercise answer with the expected value (or a seal of it) and print a verdict without the answer."""
    if got is None:
        return verdict(None, "", name, hint)
    ok, why = compare(got, expected, atol)
    return verdict(ok, why, name, hint)
