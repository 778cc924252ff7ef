"""vid2vid's pieces: warping, the occlusion-mask combination, D_V's input, the losses, G, flicker, the clip player."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch

from gan_utils.display.animation import clip_player_html, filmstrip, frames_to_uint8
from gan_utils.metrics.temporal import endpoint_error, flow_confidence, tvl1_flows, warp_error, warp_errors
from gan_utils.models.pix2pixhd import MultiscaleDiscriminator, gan_feat_loss, multiscale_gan_loss
from gan_utils.models.vid2vid import (
    SequentialGenerator,
    combine,
    flow_loss,
    flow_terms,
    foreground_composite,
    generate_window,
    mask_loss,
    train_step,
    video_d_input,
    warp_loss,
)
from gan_utils.nn.warp import warp


def test_warp_by_a_known_translation() -> None:
    x = torch.arange(6 * 8, dtype=torch.float32).view(1, 1, 6, 8)
    flow = torch.zeros(1, 2, 6, 8)
    flow[:, 0] = 2.0  # every pixel looks 2 columns to the right: the image moves left by 2
    flow[:, 1] = -1.0  # and one row up: the image moves down by 1
    out = warp(x, flow)
    assert torch.allclose(out[0, 0, 1:, :6], x[0, 0, :-1, 2:], atol=1e-4)
    # a half-pixel shift averages two neighbours (bilinear)
    half = torch.zeros(1, 2, 6, 8)
    half[:, 0] = 0.5
    assert torch.allclose(warp(x, half)[0, 0, :, :7], (x[0, 0, :, :7] + x[0, 0, :, 1:]) / 2, atol=1e-4)
    assert torch.allclose(warp(x, torch.zeros(1, 2, 6, 8)), x, atol=1e-4)
    with pytest.raises(ValueError, match="flow"):
        warp(x, torch.zeros(1, 2, 5, 8))


def test_warp_passes_gradients_to_the_flow() -> None:
    x = torch.linspace(-1, 1, 8).view(1, 1, 1, 8).expand(1, 1, 4, 8).contiguous()
    flow = torch.full((1, 2, 4, 8), 0.3, requires_grad=True)
    warp(x, flow).sum().backward()
    assert flow.grad is not None and flow.grad[:, 0, :, :7].abs().min() > 0


def test_occlusion_mask_combination_by_hand() -> None:
    warped = torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]]])
    hallucinated = torch.tensor([[[[-1.0, -1.0], [-1.0, -1.0]]]])
    mask = torch.tensor([[[[0.0, 1.0], [0.25, 0.5]]]])  # m = 1: hallucinate (the paper's m)
    out = combine(warped, hallucinated, mask)
    assert torch.allclose(out, torch.tensor([[[[1.0, -1.0], [0.5, 0.0]]]]))
    fg = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    comp = foreground_composite(out, torch.full_like(out, 7.0), fg)
    assert torch.allclose(comp, torch.tensor([[[[7.0, -1.0], [0.5, 7.0]]]]))


def test_video_d_input_shapes() -> None:
    frames, flows = torch.randn(2, 3, 3, 16, 32), torch.randn(2, 2, 2, 16, 32)
    v = video_d_input(frames, flows)
    assert v.shape == (2, 3 * 3 + 2 * 2, 16, 32)
    assert torch.equal(v[:, 3:6], frames[:, 1]) and torch.equal(v[:, 9:11], flows[:, 0])
    with pytest.raises(ValueError, match="flows"):
        video_d_input(frames, torch.randn(2, 3, 2, 16, 32))


def test_video_discriminator_takes_frames_and_flows() -> None:
    torch.manual_seed(0)
    k = 3
    D_V = MultiscaleDiscriminator(3 * k + 2 * (k - 1), ndf=8, n_layers=3, num_D=2)
    real = video_d_input(torch.randn(2, k, 3, 32, 64), torch.randn(2, k - 1, 2, 32, 64))
    fake = video_d_input(torch.randn(2, k, 3, 32, 64, requires_grad=True), torch.randn(2, k - 1, 2, 32, 64))
    out_real, out_fake = D_V(real), D_V(fake)
    assert len(out_fake) == 2 and out_fake[0][-1].shape[:2] == (2, 1)
    assert out_fake[1][-1].shape[-1] < out_fake[0][-1].shape[-1]  # the second scale sees a half-size input
    loss = multiscale_gan_loss(out_fake, True) + gan_feat_loss(out_fake, out_real)
    loss.backward()
    assert all(p.grad is not None for p in D_V.parameters())


def test_flow_and_warp_losses_by_hand() -> None:
    flow, ref = torch.zeros(1, 2, 2, 2), torch.ones(1, 2, 2, 2)
    conf = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    assert flow_loss(flow, ref).item() == pytest.approx(1.0)
    assert flow_loss(flow, ref, conf).item() == pytest.approx(2 / 8)  # conf broadcast over (dx, dy)
    assert mask_loss(torch.full((1, 1, 2, 2), 0.5), conf).item() == pytest.approx(0.125)
    x = torch.randn(1, 3, 4, 4)
    assert warp_loss(x, x, torch.zeros(1, 2, 4, 4)).item() == 0.0


@pytest.mark.parametrize("n_past", [0, 2])
def test_generator_shapes_and_gradients(n_past: int) -> None:
    torch.manual_seed(0)
    G = SequentialGenerator(map_channels=5, n_past=n_past, ngf=8, n_down=2, n_blocks=1)
    maps = torch.randn(2, 5 * (n_past + 1), 16, 32)
    prev = torch.rand(2, 3 * n_past, 16, 32) * 2 - 1 if n_past else None
    fg = torch.zeros(2, 1, 16, 32)
    fg[..., :4] = 1
    out = G(maps, prev, fg)
    assert out["image"].shape == (2, 3, 16, 32) and out["image"].abs().max() <= 1
    if n_past:
        assert out["flow"].shape == (2, 2, 16, 32) and out["mask"].shape == (2, 1, 16, 32)
        assert out["flow"].abs().max() == 0  # starts from zero flow: the first frames copy the previous one
        assert torch.allclose(out["image"][..., :4], out["foreground"][..., :4])
        out["image"].mean().backward()
        assert G.head_flow[1].weight.grad.abs().sum() > 0 and G.enc_prev[0][1].weight.grad.abs().sum() > 0
        with pytest.raises(ValueError, match="past frames"):
            G(maps, None)
    else:
        assert set(out) == {"image", "hallucinated"}


def test_generate_window_feeds_g_its_own_frames_and_the_step_trains_all_three() -> None:
    torch.manual_seed(0)
    C_map, L, T = 5, 2, 5
    G = SequentialGenerator(C_map, n_past=L, ngf=4, n_down=2, n_blocks=1)
    s, x = torch.randn(2, T, C_map, 16, 32), torch.rand(2, T, 3, 16, 32) * 2 - 1
    fg = torch.zeros(2, T, 1, 16, 32)
    flow, conf = torch.randn(2, T - 1, 2, 16, 32), torch.ones(2, T - 1, 1, 16, 32)
    fake, outs = generate_window(G, s, x, fg, L)
    assert fake.shape == (2, T - L, 3, 16, 32) and len(outs) == T - L
    prev = torch.cat([x[:, 1], fake[:, 0]], 1)  # the third frame sees real frame 1 and G's frame 2
    assert torch.allclose(G(s[:, 1:4].flatten(1, 2), prev, fg[:, 3])["image"], fake[:, 1], atol=1e-6)
    f, w, m = flow_terms(outs, x, flow, conf, L)
    assert f.item() == pytest.approx(sum(flow_loss(o["flow"], flow[:, L + i - 1]).item()
                                         for i, o in enumerate(outs)) / len(outs), rel=1e-5)
    D_I = MultiscaleDiscriminator(C_map + 3, ndf=4, n_layers=2, num_D=1)
    D_V = MultiscaleDiscriminator(3 * 3 + 2 * 2, ndf=4, n_layers=2, num_D=1)
    nets = (G, D_I, D_V)
    before = [[p.clone() for p in m.parameters()] for m in nets]
    logs = train_step(*nets, *(torch.optim.Adam(m.parameters(), 2e-4) for m in nets), s, x, fg, flow, conf)
    assert set(logs) == {"D_I", "D_V", "G_gan", "FM", "flow", "warp", "mask", "L1"}
    for m, b0 in zip(nets, before, strict=True):
        assert any(not torch.equal(p, q) for p, q in zip(m.parameters(), b0, strict=True))


def test_flicker_is_zero_for_a_static_clip_and_grows_with_noise() -> None:
    torch.manual_seed(0)
    frame = torch.rand(1, 3, 16, 24) * 2 - 1
    static, flow = frame.expand(6, -1, -1, -1), torch.zeros(5, 2, 16, 24)
    assert warp_error(static, flow) == pytest.approx(0.0, abs=1e-6)
    errs = [warp_error(static + s * torch.randn(6, 3, 16, 24), flow) for s in (0.01, 0.05, 0.2)]
    assert errs[0] < errs[1] < errs[2]
    # noise of sd s adds about s * 2/sqrt(pi) per pixel (the mean |difference| of two draws)
    assert errs[1] == pytest.approx(0.05 * 2 / torch.pi ** 0.5, rel=0.1)
    valid = torch.zeros(5, 1, 16, 24)
    valid[..., :8] = 1
    assert warp_errors(static, flow, valid).shape == (5,)


def test_flicker_of_a_moving_clip_under_its_flow() -> None:
    x = torch.linspace(-1, 1, 40).view(1, 1, 1, 40).expand(1, 3, 8, 40)
    clip = torch.cat([x[..., t:t + 32] for t in range(4)])  # slides left one pixel a frame
    flow = torch.zeros(3, 2, 8, 32)
    flow[:, 0] = 1.0
    inside = torch.ones(3, 1, 8, 32)
    inside[..., -1] = 0  # the last column comes from outside the previous frame
    assert warp_error(clip, flow, inside) < 1e-6 < warp_error(clip, torch.zeros_like(flow), inside)
    assert flow_confidence(clip, flow).min() == 1.0
    assert endpoint_error(flow, torch.zeros_like(flow)) == pytest.approx(1.0)


def test_tvl1_flow_finds_a_translation_and_caches(tmp_path) -> None:  # noqa: ANN001
    g = torch.Generator().manual_seed(0)
    big = torch.nn.functional.interpolate(torch.rand(1, 3, 12, 20, generator=g), size=(36, 60), mode="bicubic")
    frames = (big.clamp(0, 1) * 255).round().to(torch.uint8)
    clip = torch.cat([frames[..., 4:28, 4 - t:52 - t] for t in range(3)])  # moves right one pixel a frame
    flow = tvl1_flows(clip, tmp_path)
    inner = flow[..., 4:-4, 4:-4]
    assert inner[:, 0].mean().item() == pytest.approx(-1.0, abs=0.15) and inner[:, 1].abs().mean() < 0.15
    assert len(list(tmp_path.glob("tvl1_flow_*.npz"))) == 1
    assert torch.equal(tvl1_flows(clip, tmp_path), flow)
    with pytest.raises(ValueError, match="uint8"):
        tvl1_flows(clip.float())


def test_clip_player_and_filmstrip() -> None:
    a, b = torch.rand(4, 3, 8, 16) * 2 - 1, torch.randint(0, 256, (4, 3, 8, 16), dtype=torch.uint8)
    html = clip_player_html({"vid2vid": a, "real <b>": b}, fps=4)
    assert html.count("data:image/jpeg;base64,") == 8 + 2 and "real &lt;b&gt;" in html and "setInterval" in html
    assert frames_to_uint8(a).shape == (4, 8, 16, 3)
    with pytest.raises(ValueError, match="same number"):
        clip_player_html({"a": a, "b": b[:3]})
    fig = filmstrip({"a": a, "b": b}, n=3)
    assert len(fig.axes) == 6
    plt.close(fig)
