import math

import pytest
import torch

from gan_utils.losses import (
    d_loss_bce,
    feature_matching,
    g_loss_nonsaturating,
    g_loss_saturating,
    info_loss,
    semi_supervised_d_loss,
)


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


def test_feature_matching_by_hand() -> None:
    f_real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    f_fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]], requires_grad=True)  # mean (1, 1): difference (1, 2)
    assert math.isclose(feature_matching(f_real, f_fake).item(), 2.5)  # mean over features (official code)
    assert math.isclose(feature_matching(f_real, f_fake, reduction="sum").item(), 5.0)  # the paper's norm
    assert feature_matching(f_real, f_real).item() == 0.0
    f_real_g = f_real.clone().requires_grad_(True)
    feature_matching(f_real_g, f_fake).backward()
    assert f_real_g.grad is None and f_fake.grad is not None
    assert feature_matching(torch.ones(3, 2, 2, 2), torch.zeros(3, 2, 2, 2)).item() == 1.0


def test_feature_matching_errors_say_what_to_do() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        feature_matching(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="'mean'"):
        feature_matching(torch.zeros(2, 3), torch.zeros(2, 3), reduction="max")


def test_info_loss_by_hand() -> None:
    cat_logits = torch.tensor([[0.0, math.log(3.0)]])  # Q(c = 1 | x) = 3/4
    c_idx = torch.tensor([1])
    cont_mean, c_cont = torch.tensor([[0.5, -0.5]]), torch.tensor([[1.0, 0.0]])
    ce = -math.log(0.75)
    nll = math.log(2 * math.pi) + 0.5 * (0.25 + 0.25)  # two codes, std 1
    assert math.isclose(info_loss(cat_logits, c_idx, cont_mean, c_cont).item(), ce + nll, rel_tol=1e-6)
    assert math.isclose(info_loss(cat_logits, c_idx, cont_mean, c_cont, lambda_cat=2.0, lambda_cont=0.1).item(),
                        2 * ce + 0.1 * nll, rel_tol=1e-6)
    log_std = torch.full((1, 2), math.log(2.0))  # std 2
    nll2 = math.log(2 * math.pi) + 2 * math.log(2.0) + 0.5 * (0.0625 + 0.0625)
    assert math.isclose(info_loss(cat_logits, c_idx, cont_mean, c_cont, cont_log_std=log_std).item(),
                        ce + nll2, rel_tol=1e-6)
    # A Q that knows nothing about a 10-way code: the categorical term is H(c) = log 10, so L_I = 0.
    no_info = info_loss(torch.zeros(3, 10), torch.tensor([0, 4, 9]), torch.zeros(3, 0), torch.zeros(3, 0))
    assert math.isclose(no_info.item(), math.log(10), rel_tol=1e-6)


def test_semi_supervised_d_loss_against_the_k_plus_1_softmax() -> None:
    torch.manual_seed(0)
    logits_lab, y = torch.randn(4, 3), torch.tensor([0, 2, 1, 2])
    logits_unl, logits_fake = torch.randn(5, 3), torch.randn(6, 3) - 1
    loss = semi_supervised_d_loss(logits_lab, y, logits_unl, logits_fake)

    def p_real(logits: torch.Tensor) -> torch.Tensor:  # 1 - p(y = K+1 | x), with l_{K+1} = 0 appended
        full = torch.cat([logits, torch.zeros(len(logits), 1)], dim=1)
        return 1 - full.softmax(1)[:, -1]

    sup = -torch.log(logits_lab.softmax(1)[torch.arange(4), y]).mean()  # p(y | x, y < K+1)
    unsup = -(torch.log(p_real(logits_unl)).mean() + torch.log(1 - p_real(logits_fake)).mean())
    assert torch.allclose(loss, sup + 0.5 * unsup, atol=1e-6)  # the official code halves the GAN part
    assert torch.allclose(semi_supervised_d_loss(logits_lab, y, logits_unl, logits_fake, unlabeled_weight=0.0), sup)
