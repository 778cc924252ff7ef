import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from gan_utils.display.viz import grid_image, plot_snapshots, render_views, show_voxels  # noqa: E402
from gan_utils.train.history import History  # noqa: E402


def test_grid_image_tiles_rows_of_nrow_images() -> None:
    x = -torch.ones(80, 1, 28, 28)  # black in G's [-1, 1] range
    x[8:16] = 1.0  # the second block of 8 (one class or code) is white
    img = grid_image(x, nrow=8)  # 10 rows of 8 tiles, 2-pixel padding
    assert img.shape == (10 * 30 + 2, 8 * 30 + 2, 3)
    tile = lambda r, c: img[2 + 30 * r:30 + 30 * r, 2 + 30 * c:30 + 30 * c]  # noqa: E731
    assert all(tile(1, c).min() == 1.0 and tile(0, c).max() == 0.0 for c in range(8))  # row 2 white, row 1 black
    assert grid_image(x).shape == (9 * 30 + 2, 9 * 30 + 2, 3)  # default: a square grid, 9 per row


def test_plot_snapshots_keeps_the_grid_width_and_picks_snapshots_across_training() -> None:
    h = History()
    for step in range(0, 700, 100):
        h.snapshots.append((step, torch.rand(80, 1, 28, 28) * 2 - 1))
    fig = plot_snapshots(h, max_cols=4, n_images=80, nrow=8)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["step 0", "step 200", "step 400", "step 600"]
    assert all(ax.images[0].get_array().shape[:2] == (302, 242) for ax in axes)
    plt.close(fig)


def test_value_range_is_explicit_not_guessed() -> None:
    bright = torch.full((4, 1, 8, 8), 0.5)  # a bright batch in G's [-1, 1] range: no value below 0
    assert grid_image(bright, padding=0).min() == 0.75  # read as [-1, 1], not guessed to be [0, 1]
    assert grid_image(bright, padding=0, value_range=(0, 1)).min() == 0.5
    assert grid_image(torch.full((1, 3, 4, 4), 255, dtype=torch.uint8), padding=0).min() == 1.0
    with pytest.raises(ValueError, match="high > low"):
        grid_image(bright, value_range=(1, -1))


def test_plot_snapshots_with_nothing_to_plot_says_so() -> None:
    with pytest.raises(ValueError, match="no sample snapshots.*sample_fn"):
        plot_snapshots(History())


# --------------------------------------------------------------------------- voxels


def _cube_grid(s: int = 32, lo: int = 12, hi: int = 20) -> torch.Tensor:
    g = torch.zeros(1, s, s, s)
    g[0, lo:hi, lo:hi, lo:hi] = 1.0
    return g


def test_render_views_of_a_cube() -> None:
    sil = render_views(_cube_grid(), (0.0, 90.0, 180.0), mode="silhouette", scale=1.0)
    assert sil.shape == (3, 32, 32) and sil.dtype == np.float32
    for view in sil:  # seen face-on from any side, the 8^3 cube is an 8x8 square in the middle
        assert view.sum() == 64 and view[12:20, 12:20].all()
    depth = render_views(_cube_grid(), (0.0,), mode="depth", scale=1.0, image_size=40)[0]
    face = depth[depth > 0]
    assert depth.shape == (40, 40) and face.size == 64 and np.allclose(face, face[0])  # a flat front face
    assert 0.2 <= face.min() and face.max() <= 1.0 and face[0] > 0.5  # the near face is the bright half
    tilted = render_views(_cube_grid(), [(45.0, 30.0)], mode="silhouette")[0]
    assert 0 < tilted.sum() and tilted[0].sum() == 0 and tilted[:, 0].sum() == 0  # fits inside the frame
    blank = render_views(torch.zeros(32, 32, 32), (0.0,))
    assert blank.sum() == 0


def test_render_views_bad_input() -> None:
    with pytest.raises(ValueError, match="mode"):
        render_views(_cube_grid(), mode="phong")
    with pytest.raises(ValueError, match="one grid"):
        render_views(torch.zeros(2, 1, 8, 8, 8))


@pytest.mark.parametrize("method", ["mesh", "voxels"])
def test_show_voxels(method: str) -> None:
    ax = show_voxels(_cube_grid(16, 4, 12), method=method, title="cube")
    assert ax.get_title() == "cube" and ax.get_xlim() == (0, 16)
    assert len(ax.collections) >= 1
    show_voxels(torch.zeros(8, 8, 8))  # an empty grid draws a note, not an error
    with pytest.raises(ValueError, match="3D axes"):
        show_voxels(_cube_grid(16, 4, 12), ax=plt.subplots()[1])
    plt.close("all")
