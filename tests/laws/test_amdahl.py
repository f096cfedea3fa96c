"""Amdahl's law on hand-computed numbers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert.errors import InputError
from throughput_expert.laws.amdahl import (
    amdahl_improvement_pct,
    amdahl_max_speedup,
    amdahl_speedup,
)


def test_speedup_by_hand() -> None:
    # p = 0.31, s = 3: 1 / (0.69 + 0.31/3) = 1 / (0.69 + 0.10333) = 1 / 0.79333 = 1.2605
    assert amdahl_speedup(0.31, 3) == pytest.approx(1.2605, abs=1e-4)
    assert amdahl_speedup(0.31, 3) == pytest.approx(1 / (0.69 + 0.31 / 3), rel=1e-12)


def test_improvement_pct_by_hand() -> None:
    # (1.2605 − 1) × 100 = 26.05 %
    assert amdahl_improvement_pct(0.31, 3) == pytest.approx(26.05, abs=0.01)
    # p = 0.5, s = 2: S = 1 / (0.5 + 0.25) = 4/3 → 33.33 %
    assert amdahl_improvement_pct(0.5, 2) == pytest.approx(100 / 3, rel=1e-12)


def test_max_speedup_by_hand() -> None:
    # p = 0.31: 1 / 0.69 = 1.4493; p = 0.9: 1 / 0.1 = 10
    assert amdahl_max_speedup(0.31) == pytest.approx(1.4493, abs=1e-4)
    assert amdahl_max_speedup(0.9) == pytest.approx(10.0)
    assert amdahl_max_speedup(1.0) == math.inf
    assert amdahl_max_speedup(0.0) == 1.0


def test_infinite_speedup_reaches_the_ceiling() -> None:
    assert amdahl_speedup(0.9, math.inf) == pytest.approx(amdahl_max_speedup(0.9))


def test_edge_cases() -> None:
    # nothing sped up, or sped up 1×: no change; a slower part (s = 0.5) slows the whole
    assert amdahl_speedup(0.0, 10) == 1.0
    assert amdahl_speedup(0.4, 1) == pytest.approx(1.0)
    # p = 0.5, s = 0.5: 1 / (0.5 + 1) = 2/3, a 33.3 % loss
    assert amdahl_improvement_pct(0.5, 0.5) == pytest.approx(-100 / 3)


@pytest.mark.parametrize(("fraction", "speedup"), [(-0.1, 2), (1.1, 2), (math.nan, 2), (0.5, 0),
                                                   (0.5, -1), (0.5, math.nan)])  # fmt: skip
def test_rejects_impossible_arguments(fraction: float, speedup: float) -> None:
    with pytest.raises(InputError):
        amdahl_speedup(fraction, speedup)


@given(st.floats(0, 1), st.floats(1, 1e6))
def test_speedup_lies_between_one_and_the_ceiling(fraction: float, speedup: float) -> None:
    result = amdahl_speedup(fraction, speedup)
    assert 1 - 1e-12 <= result <= amdahl_max_speedup(fraction) * (1 + 1e-12)
