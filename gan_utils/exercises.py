"""Check cells for the exercises: they tell the learner whether an answer is right, and never raise.

A wrong answer gets the hint, not the answer. The expected value is shown only on request:
`check(my_answer, expected, "name", reveal=True)`.
"""

from __future__ import annotations

from typing import Any

import torch


def _compare(got: Any, expected: Any, atol: float) -> tuple[bool, str]:
    """(correct?, what is wrong in words that do not give the answer away)."""
    try:
        g = torch.as_tensor(got, dtype=torch.float64)
        e = torch.as_tensor(expected, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return got == expected, "that is not the expected value"
    if g.shape != e.shape:
        return False, f"the answer should have shape {tuple(e.shape)}, yours has {tuple(g.shape)}"
    if not torch.isfinite(g).all():
        return False, "your answer contains NaN or inf"
    if torch.allclose(g, e, atol=atol, rtol=1e-4):
        return True, ""
    return False, "the shape is right but the values are not" if g.ndim else "the value is not right yet"


def check(got: Any, expected: Any, name: str, hint: str = "", atol: float = 1e-4, reveal: bool = False) -> bool:
    """Compare an exercise answer with the expected value and print a verdict; the answer only if reveal=True."""
    if got is None:
        print(f"[ ] {name}: not answered yet. Fill in the exercise cell above, run it, then run this cell again.")
        return False
    ok, why = _compare(got, expected, atol)
    if ok:
        print(f"[x] {name}: correct.")
    else:
        print(f"[!] {name}: not yet: {why}. {hint}".rstrip())
        if not reveal:
            print("    Stuck? Add reveal=True to this check call to see the expected answer.")
    if reveal and not ok:
        print(f"    Expected: {expected}")
    return ok
