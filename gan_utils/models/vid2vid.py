"""vid2vid (Wang et al. 2018): video-to-video synthesis, which extends pix2pixHD to sequences.

The sequential generator sees the current and L past label maps and the L past frames, and outputs a flow
w, a soft occlusion mask m and a hallucinated image h; the frame is x_t = (1 - m) * warp(x_{t-1}, w) + m * h
(the paper's notation, m = 1 hallucinates). With the foreground/background split, foreground pixels take a
second hallucinated image instead. An image discriminator D_I judges (map, frame) pairs and a video
discriminator D_V judges K consecutive frames with the flows between them; both are pix2pixHD's multi-scale
discriminators with its feature-matching loss, imported from gan_utils.models.pix2pixhd. `train_step` is notebook
12's step: G generates a window's frames in a row, then D_I and D_V, then G on GAN, feature matching, the flow
terms and L1. Flow warping is a shared layer, `gan_utils.nn.warp`.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_utils.models.pix2pixhd import gan_feat_loss, multiscale_gan_loss
from gan_utils.nn.warp import warp

__all__ = ["SequentialGenerator", "combine", "flow_loss", "flow_terms", "foreground_composite", "generate_window",
           "mask_loss", "train_step", "video_d_input", "warp_loss"]


def combine(warped: torch.Tensor, hallucinated: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """vid2vid's frame: (1 - m) * warped previous frame + m * hallucinated image, m in [0, 1] (B, 1, H, W).

    Taught in notebook 12.
    """
    return (1 - mask) * warped + mask * hallucinated


def foreground_composite(background: torch.Tensor, foreground: torch.Tensor, fg_mask: torch.Tensor) -> torch.Tensor:
    """The foreground/background split: foreground pixels (fg_mask 1) from `foreground`, the rest from `background`."""
    return fg_mask * foreground + (1 - fg_mask) * background


def video_d_input(frames: torch.Tensor, flows: torch.Tensor) -> torch.Tensor:
    """D_V's input from K frames (B, K, C, H, W) and the K-1 flows between them (B, K-1, 2, H, W).

    Stacked along channels: (B, K*C + 2*(K-1), H, W), frames first, as vid2vid's temporal discriminator takes them.

    Taught in notebook 12.
    """
    if frames.dim() != 5 or flows.dim() != 5:
        raise ValueError(f"frames must be (B, K, C, H, W) and flows (B, K-1, 2, H, W); got {tuple(frames.shape)} "
                         f"and {tuple(flows.shape)}.")
    b, k = frames.shape[:2]
    if flows.shape[:3] != (b, k - 1, 2) or flows.shape[-2:] != frames.shape[-2:]:
        raise ValueError(f"{k} frames need {k - 1} flows of shape (2, H, W) between them; got {tuple(flows.shape)}.")
    return torch.cat([frames.flatten(1, 2), flows.flatten(1, 2)], 1)


def flow_loss(flow: torch.Tensor, flow_ref: torch.Tensor, conf: torch.Tensor | None = None) -> torch.Tensor:
    """L1 between the estimated and the reference flow (pixels), counted where the reference is trusted (conf)."""
    err = (flow - flow_ref).abs()
    return err.mean() if conf is None else (err * conf).mean()


def warp_loss(prev_real: torch.Tensor, real: torch.Tensor, flow: torch.Tensor,
              conf: torch.Tensor | None = None) -> torch.Tensor:
    """L1 between the real frame and the previous real frame warped by the estimated flow (vid2vid's loss_F_Warp)."""
    err = (warp(prev_real, flow) - real).abs()
    return err.mean() if conf is None else (err * conf).mean()


def mask_loss(mask: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
    """Penalise hallucinating (m > 0) where the flow is trusted, so that G warps there (vid2vid's loss_W)."""
    return (mask * conf).mean()


def _conv(c_in: int, c_out: int, k: int, stride: int = 1, norm: bool = True, act: bool = True) -> nn.Sequential:
    pad = (k - 1) // 2 if stride == 1 else 1
    layers: list[nn.Module] = [nn.ReflectionPad2d(pad) if stride == 1 and pad else nn.Identity(),
                               nn.Conv2d(c_in, c_out, k, stride, 0 if stride == 1 else pad)]
    if norm:
        layers.append(nn.InstanceNorm2d(c_out, affine=False))
    if act:
        layers.append(nn.ReLU(True))
    return nn.Sequential(*layers)


class _ResBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(c, c, 3), _conv(c, c, 3, act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _encoder(c_in: int, ngf: int, n_down: int) -> nn.Sequential:
    """pix2pixHD's global G front end: c7s1-ngf, then n_down stride-2 3x3 convolutions doubling the channels."""
    return nn.Sequential(_conv(c_in, ngf, 7), *[_conv(ngf * 2 ** i, ngf * 2 ** (i + 1), 3, 2) for i in range(n_down)])


def _decoder(ngf: int, n_down: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in reversed(range(n_down)):
        layers += [nn.ConvTranspose2d(ngf * 2 ** (i + 1), ngf * 2 ** i, 3, 2, 1, output_padding=1),
                   nn.InstanceNorm2d(ngf * 2 ** i), nn.ReLU(True)]
    return nn.Sequential(*layers)


def _head(ngf: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(ngf, c_out, 7))


class SequentialGenerator(nn.Module):
    """vid2vid's composite G (small): maps of frames t-L..t and frames t-L..t-1 -> dict of image, flow, mask, ...

    Two encoders (maps; past frames) are summed, as in vid2vid's CompositeGenerator; an image branch decodes
    the hallucinated image h (and h_fg for the foreground split), a flow branch the flow w (pixels) and the
    mask m. With n_past=0 it is a single-frame (pix2pixHD-style global) generator that returns h only: the
    frame-by-frame baseline, also used for the first L frames of a clip.
    """

    def __init__(self, map_channels: int, n_past: int = 2, ngf: int = 32, n_down: int = 2, n_blocks: int = 3,
                 n_blocks_flow: int = 1, out_channels: int = 3, foreground: bool = True) -> None:
        super().__init__()
        self.n_past, self.out_channels, self.foreground = n_past, out_channels, foreground and n_past > 0
        c = ngf * 2 ** n_down
        self.enc_maps = _encoder(map_channels * (n_past + 1), ngf, n_down)
        self.res_img = nn.Sequential(*[_ResBlock(c) for _ in range(n_blocks)])
        self.up_img = _decoder(ngf, n_down)
        self.head_img = _head(ngf, out_channels)
        if n_past > 0:
            self.enc_prev = _encoder(out_channels * n_past, ngf, n_down)
            self.res_flow = nn.Sequential(*[_ResBlock(c) for _ in range(n_blocks_flow)])
            self.up_flow = _decoder(ngf, n_down)
            self.head_flow = _head(ngf, 2)
            self.head_mask = _head(ngf, 1)
            nn.init.zeros_(self.head_flow[1].weight)  # start from zero flow
            nn.init.zeros_(self.head_flow[1].bias)
            if self.foreground:
                self.head_fg = _head(ngf, out_channels)

    def forward(self, maps: torch.Tensor, prev: torch.Tensor | None = None,
                fg_mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """maps (B, (L+1)*C_map, H, W), oldest first; prev (B, L*C, H, W), oldest first; fg_mask (B, 1, H, W)."""
        feat = self.enc_maps(maps)
        if self.n_past == 0:
            h = torch.tanh(self.head_img(self.up_img(self.res_img(feat))))
            return {"image": h, "hallucinated": h}
        if prev is None or prev.shape[1] != self.out_channels * self.n_past:
            got = None if prev is None else tuple(prev.shape)
            c = self.out_channels * self.n_past
            raise ValueError(f"G conditions on {self.n_past} past frames: prev must be (B, {c}, H, W), got {got}.")
        feat = feat + self.enc_prev(prev)
        img_feat = self.up_img(self.res_img(feat))
        h = torch.tanh(self.head_img(img_feat))
        flow_feat = self.up_flow(self.res_flow(feat))
        flow = self.head_flow(flow_feat)  # (B, 2, H, W) in pixels
        mask = torch.sigmoid(self.head_mask(flow_feat))  # (B, 1, H, W), 1 = hallucinate
        warped = warp(prev[:, -self.out_channels:], flow)
        x = combine(warped, h, mask)
        out = {"flow": flow, "mask": mask, "warped": warped, "hallucinated": h}
        if self.foreground and fg_mask is not None:
            h_fg = torch.tanh(self.head_fg(img_feat))
            x = foreground_composite(x, h_fg, fg_mask)
            out["foreground"] = h_fg
        out["image"] = x
        return out


# --------------------------------------------------------------------------- the training step


def generate_window(G: nn.Module, s: torch.Tensor, x: torch.Tensor, fg: torch.Tensor,
                    n_past: int = 2) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """Frames n_past .. T-1 of windows, each from the n_past frames before it (G's own outputs, detached, after the
    real first ones): their stack (B, T - n_past, C, H, W) and G's output dict per frame.

    s: G's per-frame maps (B, T, C_map, H, W); x: the real frames (B, T, C, H, W); fg: foreground masks (B, T, 1, H, W).
    """
    c = x.shape[2]
    prev, outs = x[:, :n_past].flatten(1, 2), []  # (B, n_past * C, H, W)
    for j in range(n_past, s.shape[1]):
        o = G(s[:, j - n_past:j + 1].flatten(1, 2), prev, fg[:, j])
        outs.append(o)
        prev = torch.cat([prev[:, c:], o["image"].detach()], 1)
    return torch.stack([o["image"] for o in outs], 1), outs


def flow_terms(outs: list[dict[str, torch.Tensor]], x: torch.Tensor, flow: torch.Tensor, conf: torch.Tensor,
               n_past: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The flow, warp and mask losses of `generate_window`'s frames, each averaged over them.

    Frame j's predicted flow is compared with the reference flow[:, j - 1] (frame j to j - 1) and must warp the
    real frame j - 1 onto the real frame j; all three count where conf[:, j - 1] trusts the reference.
    """
    f = w = m = 0.0
    for i, o in enumerate(outs):
        j = n_past + i  # frame j, flow j-1 -> j
        ref, c = flow[:, j - 1], conf[:, j - 1]  # (B, 2, H, W), (B, 1, H, W)
        f = f + flow_loss(o["flow"], ref, c)
        w = w + warp_loss(x[:, j - 1], x[:, j], o["flow"], c)
        m = m + mask_loss(o["mask"], c)
    n = len(outs)
    return f / n, w / n, m / n


def train_step(G: nn.Module, D_I: nn.Module, D_V: nn.Module, opt_G: torch.optim.Optimizer,
               opt_D_I: torch.optim.Optimizer, opt_D_V: torch.optim.Optimizer, s: torch.Tensor, x: torch.Tensor,
               fg: torch.Tensor, flow: torch.Tensor, conf: torch.Tensor, n_past: int = 2, n_frames_D: int = 3,
               lambda_feat: float = 10.0, lambda_F: float = 10.0, lambda_T: float = 10.0,
               lambda_L1: float = 10.0) -> dict[str, float]:
    """One vid2vid step on windows of T = n_past + t_gen frames (t_gen >= n_frames_D).

    s (B, T, C_map, H, W) maps, x (B, T, 3, H, W) real frames, fg (B, T, 1, H, W) foreground masks, flow
    (B, T-1, 2, H, W) reference flows and conf (B, T-1, 1, H, W) their confidence. G generates the last t_gen
    frames; D_I judges every generated (map, frame) pair and D_V the last n_frames_D frames with the reference flows
    between them, each D's LSGAN loss halved. Then G on both GAN terms, both feature-matching terms (lambda_feat),
    the flow (lambda_F), warp (lambda_T) and mask terms, and lambda_L1 * L1 to the real frames (in place of the
    paper's VGG loss).

    Taught in notebook 12.
    """
    fake, outs = generate_window(G, s, x, fg, n_past)  # (B, t_gen, 3, H, W)
    real = x[:, n_past:]
    s_img = s[:, n_past:].flatten(0, 1)  # (B t_gen, C_map, H, W)
    img_real, img_fake = torch.cat([s_img, real.flatten(0, 1)], 1), torch.cat([s_img, fake.flatten(0, 1)], 1)
    v_flow = flow[:, -(n_frames_D - 1):]  # the reference flows between the last n_frames_D frames
    v_real = video_d_input(real[:, -n_frames_D:], v_flow)
    v_fake = video_d_input(fake[:, -n_frames_D:], v_flow)
    loss_D_I = 0.5 * (multiscale_gan_loss(D_I(img_real), True) + multiscale_gan_loss(D_I(img_fake.detach()), False))
    loss_D_V = 0.5 * (multiscale_gan_loss(D_V(v_real), True) + multiscale_gan_loss(D_V(v_fake.detach()), False))
    opt_D_I.zero_grad(set_to_none=True)
    loss_D_I.backward()
    opt_D_I.step()
    opt_D_V.zero_grad(set_to_none=True)
    loss_D_V.backward()
    opt_D_V.step()
    fI_fake, fI_real, fV_fake, fV_real = D_I(img_fake), D_I(img_real), D_V(v_fake), D_V(v_real)
    loss_gan = multiscale_gan_loss(fI_fake, True) + multiscale_gan_loss(fV_fake, True)
    loss_fm = (gan_feat_loss(fI_fake, fI_real, lambda_feat)
               + gan_feat_loss(fV_fake, fV_real, lambda_feat))
    l_flow, l_warp, l_mask = flow_terms(outs, x, flow, conf, n_past)
    l1 = (fake - real).abs().mean()
    loss_G = loss_gan + loss_fm + lambda_F * l_flow + lambda_T * l_warp + l_mask + lambda_L1 * l1
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    opt_G.step()
    return {"D_I": loss_D_I.item(), "D_V": loss_D_V.item(), "G_gan": loss_gan.item(), "FM": loss_fm.item(),
            "flow": l_flow.item(), "warp": l_warp.item(), "mask": l_mask.item(), "L1": l1.item()}
