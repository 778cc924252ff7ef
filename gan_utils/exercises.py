"""Check cells for the exercises: they tell the learner whether an answer is right, and never raise."""

from __future__ import annotations

from typing import Any

import torch


def check(got: Any, expected: Any, name: str, hint: str = "", atol: float = 1e-4) -> bool:
    """Compare an exercise answer with the expected value and print a verdict with a hint."""
    if got is None:
        print(f"[ ] {name}: not answered yet. Fill in the exercise cell above, run it, then run this cell again.")
        return False
    try:
        g = torch.as_tensor(got, dtype=torch.float64)
        e = torch.as_tensor(expected, dtype=torch.float64)
        ok = g.shape == e.shape and bool(torch.allclose(g, e, atol=atol, rtol=1e-4))
    except (TypeError, ValueError, RuntimeError):
        ok = got == expected
    if ok:
        print(f"[x] {name}: correct.")
    else:
        print(f"[!] {name}: not yet. Expected {expected}, got {got}. {hint}")
    return ok
