"""The exercise check cells: a verdict and a hint, never the answer; under a grader a wrong answer raises."""

from __future__ import annotations

import pytest
import torch

from gan_utils.teaching import check


@pytest.fixture(autouse=True)
def _learner_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("GAN_GRADING", raising=False)


def test_correct_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert check(0.75, 0.75, "D*(x)")
    assert "[x] D*(x): correct." in capsys.readouterr().out
    assert check(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-6], "vector")


def test_wrong_answer_gets_the_hint_not_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check(0.6, 0.75, "D*(x)", hint="Use D* = p_data / (p_data + p_g).")
    out = capsys.readouterr().out
    assert "not yet" in out and "Use D* = p_data" in out
    assert "0.75" not in out


def test_wrong_shape_is_named_without_the_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check([0.1, 0.2], [0.0, 0.0, 0.75], "soft label")
    out = capsys.readouterr().out
    assert "shape (3,)" in out and "(2,)" in out and "0.75" not in out


def test_unanswered_and_nan(capsys: pytest.CaptureFixture[str]) -> None:
    assert not check(None, 1.0, "x")
    assert "not answered yet" in capsys.readouterr().out
    assert not check(float("nan"), 1.0, "x")
    assert "NaN" in capsys.readouterr().out


def test_non_numeric_answers_compare_by_equality(capsys: pytest.CaptureFixture[str]) -> None:
    assert check("tanh", "tanh", "output layer")
    assert not check("relu", "tanh", "output layer")
    assert "tanh" not in capsys.readouterr().out.split("correct.")[-1]


def test_under_a_grader_wrong_and_missing_answers_raise(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert check(0.75, 0.75, "D*(x)")
    with pytest.raises(AssertionError, match="D\\*\\(x\\): not yet.*Use the formula") as err:
        check(0.6, 0.75, "D*(x)", hint="Use the formula.")
    assert "0.75" not in str(err.value) and "0.75" not in capsys.readouterr().out
    with pytest.raises(NotImplementedError, match="not answered yet"):
        check(None, 0.75, "D*(x)")
    monkeypatch.setenv("NBGRADER_EXECUTION", "")
    monkeypatch.setenv("GAN_GRADING", "1")
    with pytest.raises(AssertionError):
        check(0.6, 0.75, "D*(x)")


def test_check_that_verdicts(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from gan_utils.teaching import check_that

    assert check_that(True, "shape") and not check_that(False, "shape", hint="Reread the idea.")
    assert not check_that(torch.tensor([True, False]), "several values")   # ambiguous: ask for .all()
    out = capsys.readouterr().out
    assert "[x] shape: correct." in out and "Reread the idea." in out
    assert not check_that(None, "shape") and "not answered yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="shape: not yet"):
        check_that(False, "shape")
    with pytest.raises(NotImplementedError):
        check_that(None, "shape")


def test_written_here_spots_a_call_to_the_library() -> None:
    from gan_utils import losses
    from gan_utils.teaching import written_here

    def own(d_real, d_fake):
        return torch.nn.functional.softplus(-d_real).mean() + torch.nn.functional.softplus(d_fake).mean()

    def borrowed(d_real, d_fake):
        return losses.d_loss_bce(d_real, d_fake)

    class Block(torch.nn.Module):
        def forward(self, x):
            return losses.g_loss_nonsaturating(x)

    assert written_here(own, "losses", "d_loss_bce") and not written_here(borrowed, "losses")
    assert not written_here(Block, "g_loss_nonsaturating") and written_here(Block, "d_loss_bce")
    assert written_here(len, "losses")  # no source to read: nothing to hold against it


def test_answers_on_a_device_compare_on_the_host() -> None:
    """On an Apple GPU float64 does not exist: check() moves a device answer to the CPU before it compares."""
    from gan_utils.teaching import check, check_that
    from tests import standin_device

    with standin_device.active() as device:
        got = torch.tensor([1.0, 2.0], device=device)
        assert check(got, [1.0, 2.0], "vector") and check([got[0], got[1]], torch.tensor([1.0, 2.0]), "pair")
        assert check(got.sum(), torch.tensor(3.0, device=device), "sum") and not check(got, [1.0, 2.5], "vector")
        assert check_that((got > 0).all(), "positive")
