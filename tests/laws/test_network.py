"""The queueing-network solver (laws/network.py) against independent computations: Buzen's
convolution algorithm for exact MVA, the asymptotic bounds, M/M/1 for an open station."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from throughput_expert.errors import InputError, UnstableSystem
from throughput_expert.laws.network import (
    EXACT_MVA_LIMIT,
    Station,
    bottleneck,
    closed_network,
    max_throughput,
    open_network,
    utilizations,
)


def convolution_throughput(demands: list[float], think: float, n: int) -> float:
    """Buzen's convolution: G(n) over single-server stations and a delay; X(N) = G(N−1)/G(N).
    An independent product-form computation (no MVA recursion)."""
    g = [1.0] + [0.0] * n
    for d in demands:  # queueing stations: g_k(j) = g_{k−1}(j) + D_k·g_k(j−1)
        for j in range(1, n + 1):
            g[j] = g[j] + d * g[j - 1]
    if think > 0:  # the delay station: Z^j / j!, convolved
        delay = [think**j / math.factorial(j) for j in range(n + 1)]
        g = [sum(g[i] * delay[j - i] for i in range(j + 1)) for j in range(n + 1)]
    return g[n - 1] / g[n]


@settings(max_examples=200, deadline=None)
@given(
    demands=st.lists(st.floats(0.001, 2.0), min_size=1, max_size=5),
    think=st.sampled_from([0.0, 0.5, 3.0]),
    n=st.integers(1, 40),
)
def test_exact_mva_equals_the_convolution_algorithm(
    demands: list[float], think: float, n: int
) -> None:
    solved = closed_network([Station(f"s{i}", d) for i, d in enumerate(demands)], n, think)
    assert solved.method.startswith("exact")
    assert solved.throughput == pytest.approx(convolution_throughput(demands, think, n), rel=1e-9)
    # Little's law on the whole loop: N = X·(R + Z)
    assert n == pytest.approx(solved.throughput * (solved.response_time + think), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    demands=st.lists(st.floats(0.001, 2.0), min_size=1, max_size=5),
    servers=st.lists(st.integers(1, 16), min_size=5, max_size=5),
    think=st.floats(0.0, 5.0),
    n=st.integers(1, 300),
)
def test_throughput_obeys_the_asymptotic_bounds_and_grows_with_n(
    demands: list[float], servers: list[int], think: float, n: int
) -> None:
    stations = [Station(f"s{i}", d, servers[i]) for i, d in enumerate(demands)]
    x = closed_network(stations, n, think).throughput
    total = sum(demands)
    assert x <= min(n / (total + think), max_throughput(stations)) * (1 + 1e-9)
    assert closed_network(stations, n + 1, think).throughput >= x * (1 - 1e-9)
    u = utilizations(stations, x)
    assert all(0 <= ui <= 1 + 1e-9 for ui in u)


def repairman_throughput(n: int, m: int, demand: float, think: float) -> float:
    """The machine-repairman model M/M/m//N solved from its birth-death chain (in logs): an
    independent exact answer for one multi-server station and think time."""
    r = demand / think
    logs = []
    for k in range(n + 1):
        w = math.lgamma(n + 1) - math.lgamma(n - k + 1) + k * math.log(r)
        w -= math.lgamma(k + 1) if k <= m else math.lgamma(m + 1) + (k - m) * math.log(m)
        logs.append(w)
    top = max(logs)
    weights = [math.exp(w - top) for w in logs]
    busy = sum(min(k, m) * w for k, w in enumerate(weights)) / sum(weights)
    return busy / demand


@settings(max_examples=150, deadline=None)
@given(
    m=st.sampled_from([1, 2, 4, 8, 16, 64]),
    n=st.integers(1, 400),
    think=st.sampled_from([0.0001, 0.05, 0.2, 1.0, 30.0]),
)
def test_a_multi_server_station_is_solved_exactly(m: int, n: int, think: float) -> None:
    demand = 0.01 * m
    solved = closed_network([Station("cpu", demand, m)], n, think)
    assert solved.throughput == pytest.approx(repairman_throughput(n, m, demand, think), rel=1e-9)
    assert n == pytest.approx(solved.throughput * (solved.response_time + think), rel=1e-9)


def test_seidmann_is_exact_at_light_load_and_at_saturation() -> None:
    cpu = Station("cpu", 0.010, servers=8)
    one = closed_network([cpu], 1)
    assert one.response_time == pytest.approx(0.010)  # one request never queues
    many = closed_network([cpu], 1_000)
    assert many.throughput == pytest.approx(800.0, rel=1e-3)  # m / D
    assert many.utilization[0] == pytest.approx(1.0, rel=1e-3)


def test_schweitzer_beyond_the_exact_limit_agrees_with_exact_mva() -> None:
    stations = [Station("cpu", 0.004, 4), Station("disk", 0.003), Station("net", 0.001)]
    n = EXACT_MVA_LIMIT
    exact = closed_network(stations, n, think_time=5.0)
    approx = closed_network(stations, n + 1, think_time=5.0)
    assert approx.method.startswith("approximate")
    assert approx.throughput == pytest.approx(exact.throughput, rel=0.02)


def test_an_underflowing_exact_solution_falls_back_to_the_approximation() -> None:
    """A 1 s delay beside 1,024 cores of 1 ms at 1,000 requests: each scaled sequence's mass lies
    past N, every kept term of the convolution underflows (it raised "math domain error").
    Nothing queues at 1 ms on 1,024 cores: X = N / (Z + D)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy underflow warning either
        got = closed_network([Station("wait", 1.0, None), Station("cpu", 0.001, 1024)], 1000)
    assert got.method.startswith("approximate")
    assert got.throughput == pytest.approx(1000 / 1.001, rel=1e-6)
    assert math.isfinite(got.response_time)


def test_schweitzer_is_close_to_exact_in_the_knee() -> None:
    """Where approximations err most (around N* = (D + Z)/D_max), within 5 %."""
    from throughput_expert.laws import network

    stations = [Station("a", 0.02), Station("b", 0.015), Station("c", 0.01)]
    for n in (2, 4, 8, 16, 64):
        exact = closed_network(stations, n, 0.1).throughput
        approx = network._schweitzer([0.02, 0.015, 0.01], 0.1, n)[0]
        assert approx == pytest.approx(exact, rel=0.05), n
    assert closed_network(stations, 64, 0.1).throughput == pytest.approx(50.0, rel=0.01)


def test_open_network_of_one_station_is_mm1() -> None:
    solved = open_network([Station("disk", 0.005)], 100.0)  # U = 0.5
    assert solved.utilization == (0.5,)
    assert solved.response_time == pytest.approx(0.005 / (1 - 0.5))


def test_open_network_adds_delays_and_refuses_an_overloaded_station() -> None:
    stations = [Station("cpu", 0.002, 4), Station("downstream", 0.050, None)]
    solved = open_network(stations, 1000.0)
    assert solved.utilization == (0.5, 0.0)
    assert solved.residence[1] == 0.050
    with pytest.raises(UnstableSystem, match="cpu"):
        open_network(stations, 2000.0)


def test_bottleneck_and_bad_stations() -> None:
    stations = [Station("cpu", 0.002, 4), Station("disk", 0.004), Station("sleep", 1.0, None)]
    assert bottleneck(stations) == 1 and max_throughput(stations) == pytest.approx(250.0)
    assert bottleneck([Station("sleep", 1.0, None)]) is None
    with pytest.raises(InputError, match="servers"):
        closed_network([Station("x", 0.1, 0)], 1)
    with pytest.raises(InputError, match="population"):
        closed_network([Station("x", 0.1)], 0)
    with pytest.raises(InputError, match="demand"):
        max_throughput([Station("x", -1.0)])
