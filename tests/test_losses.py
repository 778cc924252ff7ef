import math

import torch

from gan_utils.losses import d_loss_bce, g_loss_nonsaturating, g_loss_saturating


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_d_loss_by_hand() -> None:
    # D(x) = 0.8 on the real image and D(G(z)) = 0.3 on the fake one.
    d_real, d_fake = torch.tensor([logit(0.8)]), torch.tensor([logit(0.3)])
    expected = -(math.log(0.8) + math.log(1 - 0.3))
    assert math.isclose(d_loss_bce(d_real, d_fake).item(), expected, rel_tol=1e-6)


def test_one_sided_label_smoothing_by_hand() -> None:
    d_real, d_fake = torch.tensor([logit(0.8)]), torch.tensor([logit(0.3)])
    expected = -(0.9 * math.log(0.8) + 0.1 * math.log(0.2)) - math.log(0.7)
    assert math.isclose(d_loss_bce(d_real, d_fake, real_label=0.9).item(), expected, rel_tol=1e-6)


def test_generator_losses_by_hand() -> None:
    d_fake = torch.tensor([logit(0.1), logit(0.6)])
    sat = (math.log(1 - 0.1) + math.log(1 - 0.6)) / 2
    nonsat = -(math.log(0.1) + math.log(0.6)) / 2
    assert math.isclose(g_loss_saturating(d_fake).item(), sat, rel_tol=1e-6)
    assert math.isclose(g_loss_nonsaturating(d_fake).item(), nonsat, rel_tol=1e-6)


def test_saturating_gradient_vanishes_when_d_wins() -> None:
    # When D confidently rejects fakes (D(G(z)) = 0.001), the minimax loss gives G almost no gradient.
    a = torch.tensor([logit(0.001)], requires_grad=True)
    g_loss_saturating(a).backward()
    sat_grad = a.grad.abs().item()
    a.grad = None
    g_loss_nonsaturating(a).backward()
    assert sat_grad < 0.002 and a.grad.abs().item() > 0.99


def test_losses_are_stable_for_extreme_logits() -> None:
    a = torch.tensor([-200.0, 200.0])
    for v in (d_loss_bce(a, a), g_loss_saturating(a), g_loss_nonsaturating(a)):
        assert torch.isfinite(v)
