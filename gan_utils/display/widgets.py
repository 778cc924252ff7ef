"""Interactive figures with one static fallback: sliders in a live kernel, a plain note everywhere else.

The house rule: a cell calls `interact(fn, ...)`, and the next cell calls `fn(...)` once with fixed values. That
static figure is what GitHub, nbviewer and the committed notebook show, since saved widget state is stripped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gan_utils.runtime import in_colab


def widgets_available() -> bool:
    """True if ipywidgets can be imported (it is installed with the course, but not everywhere)."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def interact(fn: Callable[..., Any], **controls: Any) -> None:
    """Sliders over `fn` (ipywidgets' `interact` abbreviations, e.g. digit=(0, 9), t=(0.0, 1.0, 0.05)).

    Each slider starts at `fn`'s default for that argument. Without ipywidgets it prints one line and returns, so
    that the notebook still runs; the static call in the next cell then shows the figure.
    """
    if not widgets_available():
        print("ipywidgets is not installed, so there are no sliders here; the cell below draws the static figure.")
        return
    if in_colab():  # Colab renders ipywidgets only through its custom widget manager
        from google.colab import output

        output.enable_custom_widget_manager()
    import ipywidgets

    ipywidgets.interact(fn, **controls)
