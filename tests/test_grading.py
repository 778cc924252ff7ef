"""gan_utils.teaching: sealed answers, a learner's function run on fixed inputs, verdicts under a grader."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gan_utils.teaching import check, check_function, run_cases, seal, sealed


@pytest.fixture(autouse=True)
def _learner_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("GAN_GRADING", raising=False)


def test_seal_matches_within_rounding_and_hides_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    digest = seal(0.75)
    assert len(digest) == 16 and "0.75" not in digest
    assert check(0.3 / (0.3 + 0.1), sealed(digest), "D*(x)")       # 0.7499999999999999 rounds to 0.75
    assert check(torch.tensor(0.75), sealed(digest), "D*(x)")
    assert not check(0.76, sealed(digest), "D*(x)")
    assert not check([0.75, 0.75], sealed(digest), "D*(x)")        # another shape, another digest
    assert "0.75" not in capsys.readouterr().out.replace("0.3 / (0.3 + 0.1)", "")
    assert seal(-0.0) == seal(0.0) and seal([2, 1]) == seal(torch.tensor([2.0, 1.0]))
    assert check([2, 1], sealed(seal([2, 1])), "padding") and not check([1, 2], sealed(seal([2, 1])), "padding")


def test_sealed_rejects_what_is_not_a_digest() -> None:
    with pytest.raises(ValueError, match="16-hex-digit digest"):
        sealed("0.75")


def test_run_cases_reports_the_first_failing_input() -> None:
    cases = [(torch.tensor([0.0, 1.0]),), (torch.tensor([-200.0, 200.0]),)]
    reference = lambda a: F.softplus(-a).mean()
    assert run_cases(reference, reference, cases).ok
    naive = lambda a: -torch.log(torch.sigmoid(a)).mean()          # overflows to inf at -200
    result = run_cases(naive, reference, cases)
    assert not result.ok and result.passed == 1 and result.why.startswith("input 2 of 2: ")
    assert not run_cases(lambda a: None, reference, cases).answered
    assert run_cases(lambda n, k=1: n + k, lambda n, k=1: n + k, [{"n": 3, "k": 2}]).ok
    with pytest.raises(ValueError, match="at least one"):
        run_cases(reference, reference, [])


def test_check_function_verdicts(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [(torch.tensor([3.0, -1.0]),)]
    assert check_function(lambda a: a.abs().sum(), lambda a: a.abs().sum(), cases, "L1")
    assert not check_function(lambda a: a.sum(), lambda a: a.abs().sum(), cases, "L1", hint="absolute values")
    out = capsys.readouterr().out
    assert "[x] L1: correct." in out and "input 1 of 1" in out and "absolute values" in out and "4.0" not in out
    monkeypatch.setenv("GAN_GRADING", "1")
    with pytest.raises(AssertionError, match="input 1 of 1"):
        check_function(lambda a: a.sum(), lambda a: a.abs().sum(), cases, "L1")
    with pytest.raises(NotImplementedError):
        check_function(lambda a: None, lambda a: a.abs().sum(), cases, "L1")


def test_tuples_of_tensors_compare_as_one_flat_vector() -> None:
    ref = lambda x: (x[:1], x[1:] * 2)
    assert run_cases(ref, ref, [(torch.arange(4.0),)]).ok
    assert not run_cases(lambda x: (x[:1], x[1:]), ref, [(torch.arange(4.0),)]).ok


def test_only_a_grader_of_submissions_counts_as_grading_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # setup() gives such a run a fresh checkpoint folder; nbgrader's validate is the learner checking their own work.
    from gan_utils.teaching import grading_mode, grading_submission

    assert not grading_submission()
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert grading_mode() and not grading_submission()
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert grading_submission()
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.setenv("GAN_GRADING", "0")
    assert not grading_submission()
    monkeypatch.setenv("GAN_GRADING", "1")
    assert grading_submission()
