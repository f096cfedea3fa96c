"""M/M/1 and M/M/c (Erlang B and C) on textbook numbers computed by hand."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert.errors import InputError, UnstableSystem
from throughput_expert.laws.queueing import (
    QueueResult,
    erlang_b,
    erlang_c,
    mm1,
    mmc,
    mmc_response_percentile,
    mmc_wait_percentile,
    service_time_percentile,
    smallest_servers_for,
)

# --- hand-computed textbook cases -------------------------------------------------------------


def test_erlang_b_classic_table_value() -> None:
    # a = 10 erlangs on c = 10 trunks: B ≈ 0.2146 (any Erlang B table)
    assert erlang_b(10, 10.0) == pytest.approx(0.2146, rel=1e-3)


def test_erlang_b_small_case_by_recurrence() -> None:
    # a = 2, c = 3: B1 = 2/3, B2 = (4/3)/(2 + 4/3) = 0.4, B3 = 0.8/(3 + 0.8) = 4/19
    assert erlang_b(3, 2.0) == pytest.approx(4 / 19, rel=1e-12)


def test_erlang_c_small_case() -> None:
    # a = 2, c = 3, ρ = 2/3, B = 4/19: C = (4/19) / (1 − (2/3)(15/19)) = (4/19) / (9/19) = 4/9
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)


def test_pdq_bank_mm4() -> None:
    # PDQ's bank: λ = 0.35/min, S = 10 min, c = 4 → a = 3.5, ρ = 0.875.
    # B1 = 3.5/4.5 = 0.77778, B2 = 2.72222/4.72222 = 0.57647, B3 = 2.01765/5.01765 = 0.40211,
    # B4 = 1.40740/5.40740 = 0.26027; C = 0.26027 / (1 − 0.875 × 0.73973) = 0.73787;
    # Wq = C·S / (c − a) = 0.73787 × 10 / 0.5 = 14.757 min; R = 24.757 min.
    result = mmc(0.35, 10.0, 4)
    assert result.utilization == pytest.approx(0.875)
    assert result.p_wait == pytest.approx(0.7379, rel=1e-3)
    assert result.mean_wait_s == pytest.approx(14.757, rel=1e-3)
    assert result.mean_response_s == pytest.approx(24.757, rel=1e-3)
    # Lq = λ·Wq = 0.35 × 14.757 = 5.165; L = λ·R = 0.35 × 24.757 = 8.665
    assert result.mean_queue_length == pytest.approx(5.165, rel=1e-3)
    assert result.mean_in_system == pytest.approx(8.665, rel=1e-3)


def test_mm1_half_loaded() -> None:
    # λ = 0.5, S = 1: ρ = 0.5, P(wait) = ρ = 0.5, R = S/(1 − ρ) = 2, Wq = 1,
    # Lq = ρ²/(1 − ρ) = 0.5, L = ρ/(1 − ρ) = 1
    result = mm1(0.5, 1.0)
    assert isinstance(result, QueueResult)
    assert dataclasses.asdict(result) == pytest.approx(
        {
            "servers": 1,
            "arrival_rate": 0.5,
            "service_time": 1.0,
            "utilization": 0.5,
            "p_wait": 0.5,
            "mean_wait_s": 1.0,
            "mean_response_s": 2.0,
            "mean_queue_length": 0.5,
            "mean_in_system": 1.0,
        }
    )


@pytest.mark.parametrize(("rate", "service"), [(0.1, 1.0), (0.9, 1.0), (950.0, 0.001), (3.0, 0.3)])
def test_one_server_reduces_to_mm1(rate: float, service: float) -> None:
    # M/M/1: C = ρ, R = S/(1 − ρ), Lq = ρ²/(1 − ρ), L = ρ/(1 − ρ)
    rho = rate * service
    result = mmc(rate, service, 1)
    assert result.p_wait == pytest.approx(rho, rel=1e-12)
    assert result.mean_response_s == pytest.approx(service / (1 - rho), rel=1e-12)
    assert result.mean_queue_length == pytest.approx(rho**2 / (1 - rho), rel=1e-12)
    assert result.mean_in_system == pytest.approx(rho / (1 - rho), rel=1e-12)


def test_no_traffic_never_waits() -> None:
    result = mmc(0.0, 0.2, 3)
    assert result.p_wait == 0.0
    assert result.mean_response_s == pytest.approx(0.2)
    assert mmc_wait_percentile(0.0, 0.2, 3, 0.99) == 0.0


def test_thousand_servers_at_95_percent() -> None:
    # a = 950 erlangs on 1,000 servers: no factorials, so no overflow and a quick answer
    started = time.perf_counter()
    result = mmc(950.0, 1.0, 1000)
    assert time.perf_counter() - started < 1.0
    assert 0 < result.p_wait < 1
    assert all(math.isfinite(v) for v in (result.mean_wait_s, result.mean_in_system))
    assert 0 < erlang_c(20_000, 19_900.0) < 1


# --- stability and bad input ------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "servers"), [(1.0, 1), (1.2, 1), (4.0, 4), (10.0, 4)])
def test_saturated_queue_is_unstable(rate: float, servers: int) -> None:
    with pytest.raises(UnstableSystem) as raised:
        mmc(rate, 1.0, servers)
    assert raised.value.source == "M/M/c"
    assert raised.value.field == "utilization"
    assert "grows without bound" in raised.value.one_line()


def test_erlang_c_at_full_load_is_unstable() -> None:
    with pytest.raises(UnstableSystem):
        erlang_c(4, 4.0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: mmc(-1.0, 1.0, 2), "arrival_rate"),
        (lambda: mmc(1.0, 0.0, 2), "service_time"),
        (lambda: mmc(1.0, float("inf"), 2), "service_time"),
        (lambda: mmc(0.1, 1.0, 0), "servers"),
        (lambda: erlang_b(0, 1.0), "servers"),
        (lambda: erlang_b(2, -1.0), "offered_load"),
        (lambda: mmc_wait_percentile(0.5, 1.0, 1, 0.0), "q"),
        (lambda: mmc_response_percentile(0.5, 1.0, 1, 1.0), "q"),
        (lambda: mmc_response_percentile(0.5, 1.0, 1, float("nan")), "q"),
    ],
)
def test_impossible_arguments(call: Callable[[], object], field: str) -> None:
    with pytest.raises(InputError) as raised:
        call()
    assert raised.value.field == field


# --- percentiles --------------------------------------------------------------------------------


def test_mm1_wait_percentile() -> None:
    # λ = 0.5, S = 1: C = 0.5, cμ − λ = 0.5; t_0.9 = ln(0.5 / 0.1) / 0.5 = 2 ln 5 = 3.2189
    assert mmc_wait_percentile(0.5, 1.0, 1, 0.9) == pytest.approx(2 * math.log(5), rel=1e-12)


@pytest.mark.parametrize("q", [0.05, 0.2, 0.26])
def test_wait_percentile_is_zero_when_most_arrivals_find_a_free_server(q: float) -> None:
    # PDQ bank: C = 0.7379, so 1 − C = 0.262 of customers never wait; for q ≤ 1 − C, t_q = 0
    assert mmc_wait_percentile(0.35, 10.0, 4, q) == 0.0


def test_pdq_bank_wait_percentile() -> None:
    # t_0.9 = ln(C / 0.1) / (cμ − λ) = ln(7.3786) / (0.4 − 0.35) = 1.99860 / 0.05 = 39.972 min
    assert mmc_wait_percentile(0.35, 10.0, 4, 0.9) == pytest.approx(39.972, rel=1e-3)


@pytest.mark.parametrize(("q", "factor"), [(0.5, math.log(2)), (0.99, math.log(100))])
def test_mm1_response_time_is_exponential(q: float, factor: float) -> None:
    # M/M/1 response time ~ Exp(μ − λ): t_q = −ln(1 − q)·S/(1 − ρ); λ = 0.5, S = 1 → 2·factor
    assert mmc_response_percentile(0.5, 1.0, 1, q) == pytest.approx(2 * factor, rel=1e-9)


def _response_tail_by_the_book(rate: float, service: float, servers: int, t: float) -> float:
    # P(R > t) = (1 − C)e^{−μt} + C·(θe^{−μt} − μe^{−θt}) / (θ − μ), θ = cμ − λ; (1 + μt)e^{−μt}
    # when θ = μ. Written straight from the formula, to check the stable form in the module.
    mu, c = 1 / service, erlang_c(servers, rate * service)
    theta = servers * mu - rate
    if theta == mu:
        both = (1 + mu * t) * math.exp(-mu * t)
    else:
        both = (theta * math.exp(-mu * t) - mu * math.exp(-theta * t)) / (theta - mu)
    return (1 - c) * math.exp(-mu * t) + c * both


@pytest.mark.parametrize(
    ("rate", "service", "servers"),
    [(0.35, 10.0, 4), (1.0, 1.0, 2), (900.0, 0.01, 10), (0.1, 1.0, 3)],
)
@pytest.mark.parametrize("q", [0.5, 0.9, 0.99, 0.999])
def test_response_percentile_solves_the_tail_equation(
    rate: float, service: float, servers: int, q: float
) -> None:
    # (1.0, 1.0, 2) is the θ = μ case: cμ − λ = 2 − 1 = 1 = μ
    t = mmc_response_percentile(rate, service, servers, q)
    assert _response_tail_by_the_book(rate, service, servers, t) == pytest.approx(1 - q, rel=1e-9)


def test_response_percentile_is_continuous_through_theta_equal_mu() -> None:
    # θ − μ = 1 − λ changes sign at λ = 1 on two servers of S = 1
    at = mmc_response_percentile(1.0, 1.0, 2, 0.95)
    for rate in (1.0 - 1e-12, 1.0 + 1e-12, 1.0 - 1e-7, 1.0 + 1e-7):
        assert mmc_response_percentile(rate, 1.0, 2, 0.95) == pytest.approx(at, rel=1e-6)


# --- sizing -------------------------------------------------------------------------------------


def test_smallest_pool_for_a_wait_target() -> None:
    # PDQ bank, target Wq < 1 min. c = 5: B5 = 0.91095/5.91095 = 0.15411, ρ = 0.7,
    # C = 0.15411 / (1 − 0.7 × 0.84589) = 0.37784, Wq = 0.37784 × 10 / 1.5 = 2.519 min (too slow);
    # c = 6: B6 = 0.53939/6.53939 = 0.082483, ρ = 0.58333, C = 0.17747, Wq = 0.17747 × 10 / 2.5
    # = 0.710 min (meets it).
    result = smallest_servers_for(0.35, 10.0, lambda r: r.mean_wait_s < 1.0)
    assert result is not None
    assert result.servers == 6
    assert result.mean_wait_s == pytest.approx(0.710, rel=1e-3)
    assert result == mmc(0.35, 10.0, 6)


def test_search_starts_at_the_first_stable_pool() -> None:
    # a = 3.5 erlangs: ⌊a⌋ + 1 = 4 servers is the smallest stable pool
    result = smallest_servers_for(0.35, 10.0, lambda r: True)
    assert result is not None
    assert result.servers == 4
    # a = 4 exactly: 4 servers would be saturated, so 5
    result = smallest_servers_for(0.4, 10.0, lambda r: True)
    assert result is not None
    assert result.servers == 5


def test_search_gives_up_at_max_servers() -> None:
    assert smallest_servers_for(0.35, 10.0, lambda r: False, max_servers=50) is None
    assert smallest_servers_for(0.35, 10.0, lambda r: True, max_servers=3) is None


def test_large_search_is_linear() -> None:
    # a = 5,000 erlangs, P(wait) < 1 %: the Erlang B recurrence is carried along, not restarted
    started = time.perf_counter()
    result = smallest_servers_for(5000.0, 1.0, lambda r: r.p_wait < 0.01)
    assert time.perf_counter() - started < 2.0
    assert result is not None
    assert result.p_wait < 0.01
    assert mmc(5000.0, 1.0, result.servers - 1).p_wait >= 0.01


# --- properties ---------------------------------------------------------------------------------

servers_st = st.integers(min_value=1, max_value=300)
rho_st = st.floats(min_value=0.0, max_value=0.999)
service_st = st.floats(min_value=1e-4, max_value=100.0)
q_st = st.floats(min_value=0.001, max_value=0.999)


@given(servers_st, rho_st, service_st)
def test_littles_law_holds(servers: int, rho: float, service: float) -> None:
    rate = rho * servers / service
    result = mmc(rate, service, servers)
    assert result.mean_in_system == pytest.approx(rate * result.mean_response_s, rel=1e-12)
    assert result.mean_queue_length == pytest.approx(rate * result.mean_wait_s, rel=1e-12)
    assert result.mean_response_s == pytest.approx(result.mean_wait_s + service, rel=1e-12)


@given(servers_st, st.floats(min_value=0.0, max_value=2.0))
def test_probabilities_stay_in_unit_interval(servers: int, rho: float) -> None:
    load = rho * servers
    assert 0.0 <= erlang_b(servers, load) <= 1.0
    if rho < 1:
        assert erlang_b(servers, load) <= erlang_c(servers, load) <= 1.0


@given(st.floats(min_value=0.0, max_value=500.0), st.integers(min_value=1, max_value=50))
def test_erlang_c_does_not_increase_with_servers(load: float, extra: int) -> None:
    servers = math.floor(load) + 1
    if load / servers >= 1:
        servers += 1
    assert erlang_c(servers + extra, load) <= erlang_c(servers, load) + 1e-12


@given(servers_st, rho_st, rho_st)
def test_erlang_c_does_not_decrease_with_load(servers: int, rho_a: float, rho_b: float) -> None:
    low, high = sorted((rho_a * servers, rho_b * servers))
    assert erlang_c(servers, low) <= erlang_c(servers, high) + 1e-12


@given(servers_st, rho_st, q_st, q_st)
def test_percentiles_are_monotone_in_q(servers: int, rho: float, q_a: float, q_b: float) -> None:
    low, high = sorted((q_a, q_b))
    rate = rho * servers
    wait_low, wait_high = (mmc_wait_percentile(rate, 1.0, servers, q) for q in (low, high))
    resp_low, resp_high = (mmc_response_percentile(rate, 1.0, servers, q) for q in (low, high))
    assert 0.0 <= wait_low <= wait_high
    assert 0.0 < resp_low <= resp_high * (1 + 1e-9)
    # R = Wq + S ≥ Wq on every path, so every response-time quantile is at least the wait's
    assert resp_high >= wait_high * (1 - 1e-9)


def test_service_time_percentile_is_exponential() -> None:
    # t_q = −S·ln(1 − q): the median of a 10 ms exponential service is 10 ms × ln 2
    assert service_time_percentile(0.010, 0.5) == pytest.approx(0.010 * math.log(2))
    assert service_time_percentile(0.010, 0.99) == pytest.approx(0.010 * math.log(100))


def test_service_time_percentile_is_the_floor_of_every_pool() -> None:
    # an idle M/M/c never waits: its response percentile is the service time's, and no pool's
    # response percentile is below it
    floor = service_time_percentile(0.010, 0.99)
    assert mmc_response_percentile(0.0, 0.010, 4, 0.99) == pytest.approx(floor, rel=1e-9)
    assert mmc_response_percentile(50.0, 0.010, 64, 0.99) >= floor * (1 - 1e-9)


@pytest.mark.parametrize(("service", "q"), [(0.0, 0.5), (0.01, 0.0), (0.01, 1.0)])
def test_service_time_percentile_refuses_impossible_arguments(service: float, q: float) -> None:
    with pytest.raises(InputError):
        service_time_percentile(service, q)
