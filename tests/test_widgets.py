"""Sliders where ipywidgets runs, one clear line where it does not; the static call is the notebook's fallback."""

from __future__ import annotations

import pytest

from gan_utils.display import widgets


def test_without_ipywidgets_interact_says_so_and_does_not_call(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    calls = []
    monkeypatch.setattr(widgets, "widgets_available", lambda: False)
    assert widgets.interact(lambda digit=7: calls.append(digit), digit=(0, 9)) is None
    assert calls == [] and "ipywidgets is not installed" in capsys.readouterr().out


def test_with_ipywidgets_the_function_runs_at_its_defaults() -> None:
    pytest.importorskip("ipywidgets")
    calls = []
    widgets.interact(lambda digit=7, t=0.5: calls.append((digit, t)), digit=(0, 9), t=(0.0, 1.0, 0.05))
    assert calls == [(7, 0.5)]  # interact draws once at the defaults; the sliders start there
