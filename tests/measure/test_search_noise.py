"""The noise of a sweep (laws/significance.py), on numbers worked by hand."""

from __future__ import annotations

import math

import pytest

from throughput_expert.laws.significance import TEST_NAME, estimate_noise, t_quantile


def test_student_t_quantiles_match_the_tables() -> None:
    assert t_quantile(0.95, 1) == pytest.approx(6.3138, abs=1e-4)
    assert t_quantile(0.975, 2) == pytest.approx(4.3027, abs=1e-4)
    assert t_quantile(0.95, 10) == pytest.approx(1.8125, abs=1e-4)


def test_pooled_relative_noise_and_intervals_by_hand() -> None:
    # level 1: 10, 12 (mean 11); level 2: 20, 22 (mean 21); level 4: one reading.
    # s² = ((1/11)² · 2 + (1/21)² · 2) / 2 = 0.0105320, df = 2, s = 0.102625
    noise = estimate_noise([(1, 10.0), (2, 20.0), (1, 12.0), (2, 22.0), (4, 25.0)])
    assert noise.df == 2
    assert noise.relative_sd == pytest.approx(math.sqrt((2 / 121 + 2 / 441) / 2))
    one = noise.at(1)
    assert one is not None and one.mean == 11 and one.readings == 2
    se = noise.relative_sd * 11 / math.sqrt(2)  # type: ignore[operator]
    assert one.se == pytest.approx(se)
    assert (one.low, one.high) == pytest.approx((11 - 4.302653 * se, 11 + 4.302653 * se))
    four = noise.at(4)
    assert four is not None and four.readings == 1 and four.se == pytest.approx(0.102625 * 25, 1e-4)


def test_sub_windows_give_the_noise_of_one_reading() -> None:
    # one reading, 4 sub-windows 9, 11, 9, 11 (mean 10): Σ(x − x̄)²/x̄² = 0.04, over 4 windows
    # 0.01 with 3 degrees of freedom: s² = 0.01 / 3
    noise = estimate_noise([(1, 10.0), (2, 18.0)], windows={0: (9.0, 11.0, 9.0, 11.0)})
    assert noise.df == 3 and noise.relative_sd == pytest.approx(math.sqrt(0.01 / 3))


def test_without_a_repeat_the_noise_is_unknown_and_nothing_is_significant() -> None:
    noise = estimate_noise([(1, 10.0), (2, 18.0), (4, 30.0)])
    assert not noise.known and noise.at(2).se is None  # type: ignore[union-attr]
    assert noise.below(noise.levels[0], noise.best()) is None
    assert noise.smallest_not_below() is None


def test_the_smallest_level_not_significantly_below_the_best() -> None:
    # s ≈ 1 %: 9 at 95 % of 12 is significantly below, 11 at 99.5 % is not
    readings = [(9, 95.0), (9, 96.0), (11, 99.5), (11, 100.5), (12, 100.0), (12, 101.0)]
    noise = estimate_noise(readings)
    best = noise.best()
    assert best.level == 12
    assert noise.below(noise.at(9), best) is True  # type: ignore[arg-type]
    assert noise.below(noise.at(11), best) is False  # type: ignore[arg-type]
    assert noise.smallest_not_below().level == 11  # type: ignore[union-attr]
    assert "one-sided" in TEST_NAME and "5 %" in TEST_NAME
