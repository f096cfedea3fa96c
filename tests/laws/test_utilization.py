"""Operational laws (Denning & Buzen; Lazowska ch. 3) on hand-computed numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert.errors import InputError, ModelError, UnstableSystem
from throughput_expert.laws.utilization import (
    forced_flow,
    max_throughput,
    mm1_response_time,
    rate_at_utilization,
    service_demand,
    throughput_at_utilization,
    utilization,
    utilization_at_rate,
)


def test_utilization_law_one_server() -> None:
    # U = X·D = 100/s × 0.005 s = 0.5
    assert utilization(100.0, 0.005) == pytest.approx(0.5)


def test_utilization_law_spreads_over_servers() -> None:
    # U = X·D / c = 100 × 0.005 / 4 = 0.125
    assert utilization(100.0, 0.005, servers=4) == pytest.approx(0.125)


def test_utilization_above_one_is_returned_for_what_ifs() -> None:
    # 300/s × 0.005 s = 1.5: the offered load is 1.5 times what one server completes
    assert utilization(300.0, 0.005) == pytest.approx(1.5)


def test_service_demand_law() -> None:
    # D = U·c / X = 0.6 × 2 / 200 = 0.006 s
    assert service_demand(0.6, 200.0, servers=2) == pytest.approx(0.006)


def test_bottleneck_bound() -> None:
    # X ≤ c / D: 1 / 0.005 = 200/s; 4 / 0.005 = 800/s
    assert max_throughput(0.005) == pytest.approx(200.0)
    assert max_throughput(0.005, servers=4) == pytest.approx(800.0)


def test_rate_at_target_utilization() -> None:
    # 100 req/s at 50 % → 100 × 0.7 / 0.5 = 140 req/s at 70 %
    assert rate_at_utilization(100.0, 0.5, 0.7) == pytest.approx(140.0)


def test_mm1_response_time() -> None:
    # R = S / (1 − U) = 0.010 / 0.25 = 0.040 s
    assert mm1_response_time(0.010, 0.75) == pytest.approx(0.040)
    assert mm1_response_time(0.010, 0.0) == pytest.approx(0.010)


@pytest.mark.parametrize("u", [1.0, 1.2])
def test_mm1_at_or_above_saturation_is_unstable(u: float) -> None:
    with pytest.raises(UnstableSystem) as raised:
        mm1_response_time(0.010, u)
    assert raised.value.field == "utilization"
    assert "grows without bound" in str(raised.value)


def test_impossible_arguments() -> None:
    with pytest.raises(InputError):
        utilization(-1.0, 0.005)
    with pytest.raises(InputError):
        utilization(1.0, 0.005, servers=0)
    with pytest.raises(InputError):
        service_demand(1.5, 10.0)
    with pytest.raises(InputError):
        rate_at_utilization(100.0, 0.5, -0.1)
    with pytest.raises(InputError):
        mm1_response_time(-0.01, 0.5)


def test_what_the_laws_cannot_answer() -> None:
    with pytest.raises(ModelError, match="throughput"):
        service_demand(0.5, 0.0)
    with pytest.raises(ModelError, match="service_demand"):
        max_throughput(0.0)
    with pytest.raises(ModelError, match="current_utilization"):
        rate_at_utilization(100.0, 0.0, 0.7)


@given(
    st.floats(min_value=1e-3, max_value=1e5),
    st.floats(min_value=1e-6, max_value=1.0),
    st.integers(min_value=1, max_value=512),
)
def test_utilization_and_service_demand_are_inverse(x: float, d: float, c: int) -> None:
    u = utilization(x, d, servers=c)
    if u <= 1:
        assert service_demand(u, x, servers=c) == pytest.approx(d, rel=1e-12)
    # at the bottleneck bound the resource is exactly saturated
    assert utilization(max_throughput(d, servers=c), d, servers=c) == pytest.approx(1.0)


def test_throughput_at_utilization() -> None:
    # X = U·c / D: 8 servers, 10 ms each, kept 70 % busy: 8 × 0.7 / 0.01 = 560/s
    assert throughput_at_utilization(0.7, 0.010, servers=8) == pytest.approx(560.0)
    # it inverts the utilization law
    assert utilization(throughput_at_utilization(0.7, 0.010, 8), 0.010, 8) == pytest.approx(0.7)


def test_throughput_at_utilization_needs_a_demand() -> None:
    with pytest.raises(ModelError) as err:
        throughput_at_utilization(0.7, 0.0)
    assert err.value.field == "service_demand"
    with pytest.raises(InputError):
        throughput_at_utilization(1.2, 0.01)


def test_utilization_at_rate_is_proportional_to_the_rate() -> None:
    # U' = U·X' / X: 40 % busy at 1000/s is 60 % at 1500/s, and 120 % (over) at 3000/s
    assert utilization_at_rate(0.4, 1000.0, 1500.0) == pytest.approx(0.6)
    assert utilization_at_rate(0.4, 1000.0, 3000.0) == pytest.approx(1.2)
    assert utilization_at_rate(0.0, 1000.0, 3000.0) == 0.0


def test_utilization_at_rate_inverts_rate_at_utilization() -> None:
    rate = rate_at_utilization(250.0, 0.5, 0.7)
    assert utilization_at_rate(0.5, 250.0, rate) == pytest.approx(0.7)


def test_utilization_at_rate_needs_a_rate_it_was_measured_at() -> None:
    with pytest.raises(ModelError) as err:
        utilization_at_rate(0.5, 0.0, 100.0)
    assert err.value.field == "current_rate"
    with pytest.raises(InputError):
        utilization_at_rate(0.5, 100.0, -1.0)


def test_forced_flow_law() -> None:
    # X_k = V_k·X: 3 database calls per request at 200 requests/s is 600 calls/s
    assert forced_flow(200.0, 3.0) == pytest.approx(600.0)
    assert forced_flow(200.0, 0.0) == 0.0
    with pytest.raises(InputError):
        forced_flow(200.0, -1.0)
