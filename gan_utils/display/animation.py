"""Play video clips in a notebook: an HTML5/JS player (no widgets, no ffmpeg) and a static filmstrip fallback.

`clip_player` encodes every frame as a JPEG data URI and writes a small self-contained player (play/pause, a
frame slider, the frame number) that shows several clips side by side in step. The HTML lives in the
notebook's output, so it plays on nbviewer and in JupyterLab; GitHub's renderer strips scripts and shows the
first frames only, which is why every player comes with a `filmstrip` figure of selected frames.
"""

from __future__ import annotations

import base64
import html
import io
import uuid

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image

__all__ = ["clip_player", "clip_player_html", "filmstrip", "frames_to_uint8"]


def frames_to_uint8(frames: torch.Tensor) -> np.ndarray:
    """Frames (T, C, H, W), uint8 or floats in [-1, 1], as uint8 (T, H, W, 3) for encoding or plotting."""
    x = frames.detach().cpu()
    if x.dtype != torch.uint8:
        x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"frames must be (T, 1 or 3, H, W), got {tuple(frames.shape)}.")
    return x.expand(-1, 3, -1, -1).permute(0, 2, 3, 1).numpy()


def _jpeg_uri(img: np.ndarray, quality: int) -> str:
    im = Image.fromarray(img)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def clip_player_html(clips: dict[str, torch.Tensor], fps: float = 6.0, scale: int = 2, quality: int = 85) -> str:
    """The player's HTML: one row of clips (title -> frames (T, C, H, W)), all of length T, played in step."""
    if not clips:
        raise ValueError("give at least one clip: {'title': frames (T, C, H, W)}.")
    arrays = {k: frames_to_uint8(v) for k, v in clips.items()}
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1:
        raise ValueError(f"clips must have the same number of frames, got {[len(a) for a in arrays.values()]}.")
    n = lengths.pop()
    uid = "clip" + uuid.uuid4().hex[:8]
    uris = [[_jpeg_uri(a[t], quality) for t in range(n)] for a in arrays.values()]
    h, w = next(iter(arrays.values())).shape[1:3]  # the browser scales, so the notebook stores small JPEGs
    cells = "".join(
        f'<figure style="margin:0 6px 0 0;display:inline-block;text-align:center">'
        f'<img id="{uid}_{i}" src="{u[0]}" width="{w * scale}" height="{h * scale}" '
        f'style="image-rendering:pixelated"/>'
        f'<figcaption style="font:12px sans-serif">{html.escape(title)}</figcaption></figure>'
        for i, (title, u) in enumerate(zip(arrays, uris, strict=True)))
    frames_js = "[" + ",".join("[" + ",".join(f'"{s}"' for s in u) + "]" for u in uris) + "]"
    return f"""<div id="{uid}">{cells}
<div style="font:12px sans-serif;margin-top:4px">
<button id="{uid}_play">pause</button>
<input id="{uid}_slider" type="range" min="0" max="{n - 1}" value="0" style="width:240px;vertical-align:middle"/>
<span id="{uid}_label">frame 1 / {n}</span></div>
<script>
(function() {{
  var frames = {frames_js}, n = {n}, t = 0, playing = true;
  var slider = document.getElementById("{uid}_slider"), label = document.getElementById("{uid}_label");
  var button = document.getElementById("{uid}_play");
  function show(k) {{
    t = k;
    for (var i = 0; i < frames.length; i++) document.getElementById("{uid}_" + i).src = frames[i][k];
    slider.value = k; label.textContent = "frame " + (k + 1) + " / " + n;
  }}
  slider.oninput = function() {{ playing = false; button.textContent = "play"; show(parseInt(slider.value)); }};
  button.onclick = function() {{ playing = !playing; button.textContent = playing ? "pause" : "play"; }};
  setInterval(function() {{ if (playing) show((t + 1) % n); }}, {round(1000 / fps)});
}})();
</script></div>"""


def clip_player(clips: dict[str, torch.Tensor], fps: float = 6.0, scale: int = 2, quality: int = 85):  # noqa: ANN201
    """An IPython HTML object that plays the clips side by side (display it, or end a cell with it)."""
    from IPython.display import HTML

    return HTML(clip_player_html(clips, fps, scale, quality))


def filmstrip(clips: dict[str, torch.Tensor], frames: list[int] | None = None, n: int = 6, width: float = 1.6,
              title: str | None = None) -> plt.Figure:
    """A static figure: one row per clip, one column per selected frame (`n` evenly spaced ones by default)."""
    arrays = {k: frames_to_uint8(v) for k, v in clips.items()}
    t_max = min(len(a) for a in arrays.values())
    idx = frames if frames is not None else np.linspace(0, t_max - 1, min(n, t_max)).round().astype(int).tolist()
    h, w = next(iter(arrays.values())).shape[1:3]
    fig, axes = plt.subplots(len(arrays), len(idx), squeeze=False,
                             figsize=(width * len(idx) + 1.2, width * h / w * len(arrays) + 0.4))
    for r, (name, a) in enumerate(arrays.items()):
        for c, t in enumerate(idx):
            ax = axes[r, c]
            ax.imshow(a[t], interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {t}", fontsize=9)
            if c == 0:
                ax.set_ylabel(name, fontsize=9, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
