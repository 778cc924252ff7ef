import math

import pytest
import torch

from gan_utils.metrics.mixtures import mode_stats

CENTERS = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])


def test_all_on_two_modes_by_hand() -> None:
    # 6 samples on mode 0, 2 on mode 1, 2 far from everything.
    s = torch.tensor([[0.0, 0.0]] * 6 + [[10.0, 0.5]] * 2 + [[5.0, 5.0]] * 2)
    st = mode_stats(s, CENTERS, std=0.2)  # 0.5 away = 2.5 std: high quality; (5,5) is 35 std away: not
    assert st.modes_covered == 2
    assert st.counts == (6, 2, 0, 0)
    assert math.isclose(st.high_quality, 0.8)
    # q = (0.75, 0.25, 0, 0) against uniform 1/4: 0.75 log 3 + 0.25 log 1
    assert math.isclose(st.reverse_kl, 0.75 * math.log(3), rel_tol=1e-9)


def test_uniform_coverage_has_zero_kl() -> None:
    st = mode_stats(CENTERS.repeat(5, 1), CENTERS, std=1.0)
    assert st.modes_covered == 4 and st.high_quality == 1.0 and abs(st.reverse_kl) < 1e-12


def test_threshold_is_three_std() -> None:
    s = torch.tensor([[2.99, 0.0], [0.0, 3.01]])
    assert mode_stats(s, CENTERS, std=1.0).counts == (1, 0, 0, 0)


def test_single_mode_kl_is_log_k() -> None:
    st = mode_stats(torch.zeros(10, 2), CENTERS, std=1.0)
    assert math.isclose(st.reverse_kl, math.log(4))


def test_no_high_quality_sample() -> None:
    st = mode_stats(torch.full((3, 2), 100.0), CENTERS, std=1.0)
    assert st.modes_covered == 0 and st.high_quality == 0.0 and math.isinf(st.reverse_kl)


def test_shape_error() -> None:
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        mode_stats(torch.zeros(3, 3), CENTERS, std=1.0)
