"""Exercises and their grading: check cells that compare answers with a tolerance, run a learner's function on
fixed inputs, and seal answers.

Nothing here prints an expected value. In a learner's session a wrong answer prints a verdict and a hint; under a
grader (nbgrader sets NBGRADER_EXECUTION while it autogrades or validates; `GAN_GRADING=1` does the same by hand)
it raises, so that the check cell fails and scores no points: `NotImplementedError` for an exercise not answered
yet, `AssertionError` with the hint for a wrong answer.

A numeric answer that the check cell would otherwise give away (a number worked out by hand) is written there as
a seal: `check(my_value, sealed("8f0c…"), "D*(x)")`, made with `seal(0.75)`. The seal keeps a digest of the value
rounded to `decimals` places, so the check compares without showing it.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

ANSWER_DECIMALS = 4
DIGEST_CHARS = 16  # 64 bits of sha256: short enough for a check cell, far too many to collide by chance


def grading_mode() -> bool:
    """True when a grader runs the notebook (nbgrader's autograde/validate, or GAN_GRADING=1)."""
    return bool(os.environ.get("NBGRADER_EXECUTION")) or os.environ.get("GAN_GRADING", "") not in ("", "0")


def grading_submission() -> bool:
    """True when this run grades a submission: nbgrader's autograde or GAN_GRADING=1 (not a learner's validate)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde" or os.environ.get("GAN_GRADING", "") not in ("", "0")


def _digest(value: Any, decimals: int) -> str:
    """sha256 of a value's shape and its entries rounded to `decimals` places (-0.0 counted as 0.0)."""
    t = torch.as_tensor(value, dtype=torch.float64)
    rounded = [round(float(v), decimals) + 0.0 for v in t.flatten().tolist()]
    text = f"{tuple(t.shape)}|" + ",".join(f"{v:.{decimals}f}" for v in rounded)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


@dataclass(frozen=True)
class Sealed:
    """An expected answer known only by its digest (see `seal`)."""

    digest: str
    decimals: int = ANSWER_DECIMALS

    def matches(self, got: Any) -> bool:
        """Whether `got`, rounded the same way, has this digest."""
        return _digest(got, self.decimals) == self.digest

    def __repr__(self) -> str:
        return f"sealed({self.digest!r})"


def seal(value: Any, decimals: int = ANSWER_DECIMALS) -> str:
    """The digest to write into a check cell instead of the answer itself: `sealed(seal(0.75))` == `sealed("…")`."""
    return _digest(value, decimals)


def sealed(digest: str, decimals: int = ANSWER_DECIMALS) -> Sealed:
    """An expected value given by its digest (made with `seal`), for check cells that must not show the answer."""
    if len(digest) != DIGEST_CHARS or any(ch not in "0123456789abcdef" for ch in digest):
        raise ValueError(f"sealed() takes the {DIGEST_CHARS}-hex-digit digest printed by "
                         f"gan_utils.teaching.seal(answer); got {digest!r}")
    return Sealed(digest, decimals)


def _on_host(value: Any) -> Any:
    """A tensor, or a list or tuple of them, detached and on the CPU, so that it can be compared in float64 (an
    Apple GPU has no float64, and a CUDA tensor cannot meet a CPU one)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, list | tuple):
        return type(value)(_on_host(v) for v in value)
    return value


def compare(got: Any, expected: Any, atol: float = 1e-4) -> tuple[bool, str]:
    """(correct?, what is wrong, in words that do not give the answer away)."""
    got, expected = _on_host(got), _on_host(expected)
    if isinstance(expected, Sealed):
        try:
            ok = expected.matches(got)
        except (TypeError, ValueError, RuntimeError):
            return False, "the answer should be a number or a list of numbers"
        return ok, "" if ok else "the value is not right yet"
    try:
        g = torch.as_tensor(got, dtype=torch.float64)
        e = torch.as_tensor(expected, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        ok = bool(got == expected)
        return ok, "" if ok else "that is not the expected value"
    if g.shape != e.shape:
        return False, f"the answer should have shape {tuple(e.shape)}, yours has {tuple(g.shape)}"
    if not torch.isfinite(g).all():
        return False, "your answer contains NaN or inf"
    if torch.allclose(g, e, atol=atol, rtol=1e-4):
        return True, ""
    return False, "the shape is right but the values are not" if g.ndim else "the value is not right yet"


def verdict(ok: bool | None, why: str, name: str, hint: str = "") -> bool:
    """Print the verdict for one answer (None: not answered); under a grader, raise instead of passing a wrong one."""
    if ok is None:
        message = f"{name}: not answered yet. Fill in the exercise cell above, run it, then run this cell again."
        print(f"[ ] {message}")
        if grading_mode():
            raise NotImplementedError(message)
        return False
    if ok:
        print(f"[x] {name}: correct.")
        return True
    message = f"{name}: not yet: {why}. {hint}".rstrip()
    print(f"[!] {message}")
    if grading_mode():
        raise AssertionError(message)
    return False


@dataclass(frozen=True)
class CaseResult:
    """The outcome of running a learner's function on fixed inputs: the first failing case, if any."""

    passed: int
    total: int
    answered: bool
    why: str = ""

    @property
    def ok(self) -> bool:
        """Whether every case passed."""
        return self.answered and self.passed == self.total


def run_cases(fn: Callable[..., Any], reference: Callable[..., Any], cases: Sequence[tuple | dict],
              atol: float = 1e-4) -> CaseResult:
    """Run `fn` and `reference` on each fixed input (a tuple of arguments or a dict of keywords) and compare."""
    if not cases:
        raise ValueError("run_cases needs at least one input case")
    for i, case in enumerate(cases):
        args, kwargs = ((), case) if isinstance(case, dict) else (tuple(case), {})
        got = fn(*args, **kwargs)
        if got is None:
            return CaseResult(i, len(cases), answered=False)
        ok, why = compare(_plain(got), _plain(reference(*args, **kwargs)), atol)
        if not ok:
            return CaseResult(i, len(cases), answered=True, why=f"input {i + 1} of {len(cases)}: {why}")
    return CaseResult(len(cases), len(cases), answered=True)


def _plain(value: Any) -> Any:
    """A tensor (detached) or a list of floats for comparison; tuples of tensors become one flat list."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, tuple | list) and any(isinstance(v, torch.Tensor) for v in value):
        return torch.cat([torch.as_tensor(v, dtype=torch.float64).detach().cpu().flatten() for v in value])
    return value


def check_function(fn: Callable[..., Any], reference: Callable[..., Any], cases: Sequence[tuple | dict], name: str,
                   hint: str = "", atol: float = 1e-4) -> bool:
    """Grade a learner's function against a reference on fixed inputs; print a verdict (raise under a grader)."""
    result = run_cases(fn, reference, cases, atol)
    return verdict(result.ok if result.answered else None, result.why, name, hint)


def check_that(condition: Any, name: str, hint: str = "") -> bool:
    """Check a property of a learner's answer (a shape, a sign, a finite value) that does not give the answer away.

    `condition` is a bool, or None when the answer is missing (e.g. `my_value is not None and my_value > 0` would
    hide a missing answer: pass `None if my_value is None else my_value > 0`)."""
    if condition is None:
        return verdict(None, "", name, hint)
    try:
        ok = bool(condition)
    except (RuntimeError, TypeError, ValueError):  # a tensor of several values: ask for .all()
        ok = False
    return verdict(ok, "the property does not hold", name, hint)


def _sources(obj: Any) -> list[str]:
    """The source of a function, or of every method of a class (a class defined in a notebook has no file)."""
    if isinstance(obj, type):
        return [src for member in vars(obj).values() if inspect.isfunction(member) for src in _sources(member)]
    try:
        return [textwrap.dedent(inspect.getsource(obj))]
    except (OSError, TypeError):
        return []


def written_here(obj: Any, *names: str) -> bool:
    """Whether a learner's function or class is written out rather than handed to the course's own version.

    False if its source uses any of `names` (a module, say `losses`, or a function such as `d_hinge_loss`) as a
    name or an attribute. For the hidden tests of a build exercise whose answer the library already holds."""
    used = set()
    for src in _sources(obj):
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
    return not used & set(names)


def check(got: Any, expected: Any, name: str, hint: str = "", atol: float = 1e-4) -> bool:
    """Compare an exercise answer with the expected value (or a seal of it) and print a verdict without the answer."""
    if got is None:
        return verdict(None, "", name, hint)
    ok, why = compare(got, expected, atol)
    return verdict(ok, why, name, hint)
