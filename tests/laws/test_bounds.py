"""Asymptotic bounds of a closed system (Lazowska §5.2) on hand-computed numbers."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert.errors import InputError, ModelError
from throughput_expert.laws.bounds import ClosedBounds, closed_bounds

# Demands 0.5 + 0.3 + 0.2 = D = 1.0 s, D_max = 0.5 s, think time Z = 4 s:
# N* = (D + Z) / D_max = 5 / 0.5 = 10 users.
DEMANDS = [0.5, 0.3, 0.2]
THINK = 4.0


def test_light_load_is_bounded_by_the_users() -> None:
    # N = 5: X ≤ min(5 / 5, 1 / 0.5) = 1/s; R ≥ max(1.0, 5 × 0.5 − 4) = 1.0 s
    bounds = closed_bounds(5, DEMANDS, THINK)
    assert bounds.throughput_upper == pytest.approx(1.0)
    assert bounds.response_time_lower == pytest.approx(1.0)
    assert bounds.saturation_users == pytest.approx(10.0)


def test_heavy_load_is_bounded_by_the_bottleneck() -> None:
    # N = 20: X ≤ min(20 / 5, 2) = 2/s; R ≥ max(1.0, 20 × 0.5 − 4) = 6 s
    bounds = closed_bounds(20, DEMANDS, THINK)
    assert isinstance(bounds, ClosedBounds)
    assert dataclasses.asdict(bounds) == pytest.approx(
        {"throughput_upper": 2.0, "response_time_lower": 6.0, "saturation_users": 10.0}
    )


def test_bounds_meet_at_n_star() -> None:
    # N = N* = 10: both throughput bounds give 2/s, both response-time bounds 1 s
    bounds = closed_bounds(10, DEMANDS, THINK)
    assert bounds.throughput_upper == pytest.approx(2.0)
    assert bounds.response_time_lower == pytest.approx(1.0)


def test_no_think_time_single_resource() -> None:
    # D = D_max = 0.1, Z = 0: N* = 1; N = 3 → X ≤ min(30, 10) = 10/s, R ≥ max(0.1, 0.3) = 0.3 s
    bounds = closed_bounds(3, [0.1])
    assert bounds.throughput_upper == pytest.approx(10.0)
    assert bounds.response_time_lower == pytest.approx(0.3)
    assert bounds.saturation_users == pytest.approx(1.0)


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="users"):
        closed_bounds(0, DEMANDS)
    with pytest.raises(InputError, match="demands"):
        closed_bounds(1, [])
    with pytest.raises(InputError, match=r"demands\[1\]"):
        closed_bounds(1, [0.1, -0.2])
    with pytest.raises(InputError, match="think_time"):
        closed_bounds(1, DEMANDS, -1.0)
    with pytest.raises(ModelError, match="demands"):
        closed_bounds(1, [0.0, 0.0])


@given(
    st.integers(min_value=1, max_value=10_000),
    st.lists(st.floats(min_value=1e-4, max_value=10.0), min_size=1, max_size=8),
    st.floats(min_value=0.0, max_value=100.0),
)
def test_bounds_pair_up_by_littles_law(users: int, demands: list[float], think: float) -> None:
    # N = X·(R + Z) (interactive response time law); the bounds are each other's Little's-law
    # image: below N*, N/(D+Z)·(D + Z) = N; above it, (1/D_max)·(N·D_max − Z + Z) = N.
    bounds = closed_bounds(users, demands, think)
    product = bounds.throughput_upper * (bounds.response_time_lower + think)
    assert product == pytest.approx(users, rel=1e-9)
    assert bounds.throughput_upper <= 1 / max(demands) * (1 + 1e-12)
