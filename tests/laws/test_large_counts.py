"""Counts a user gives (cores, servers, instances) must not size a loop: the laws answer a pool of
10⁸ as fast as a pool of 8, the same numbers as before for ordinary sizes, and the front doors
refuse counts no system has, in one line."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.support import run_tpx

from throughput_expert.advisors.scaling.parts import _smallest
from throughput_expert.errors import InputError
from throughput_expert.laws.queueing import (
    QueueResult,
    erlang_b,
    erlang_c,
    mmc,
    mmc_response_percentile,
    mmc_wait_percentile,
    smallest_servers_for,
)
from throughput_expert.model.quantity import check_count, parse_count


def recurrence_b(servers: int, load: float) -> float:
    """Erlang B as the laws computed it before: B(k) = a·B(k−1) / (k + a·B(k−1)), O(c)."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocked = load * blocking
        blocking = blocked / (k + blocked)
    return blocking


def linear_search(
    rate: float, service: float, predicate: Callable[[QueueResult], bool], limit: int
) -> int | None:
    """The pool size the laws returned before: the first stable c from 1 meeting it."""
    load = rate * service
    for count in range(1, limit + 1):
        if load / count < 1 and predicate(mmc(rate, service, count)):
            return count
    return None


# --- the same numbers as the recurrence -------------------------------------------------------


@settings(max_examples=1500, deadline=None)
@given(
    st.integers(min_value=1, max_value=500),
    st.floats(min_value=0.0, max_value=3.0) | st.floats(min_value=0.0, max_value=1e-3),
)
def test_erlang_b_matches_the_recurrence(servers: int, load_per_server: float) -> None:
    load = load_per_server * servers
    assert erlang_b(servers, load) == pytest.approx(
        recurrence_b(servers, load), rel=1e-10, abs=1e-290
    )


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=1, max_value=500), st.floats(min_value=0.0, max_value=0.9999))
def test_erlang_c_matches_the_recurrence(servers: int, rho: float) -> None:
    load = rho * servers
    b = recurrence_b(servers, load)
    assert erlang_c(servers, load) == pytest.approx(b / (1 - rho * (1 - b)), rel=1e-10, abs=1e-290)


@pytest.mark.parametrize(("servers", "rho"), [(10_000, 0.97), (100_000, 0.999), (1_000_000, 1.0)])
def test_erlang_b_matches_the_recurrence_for_large_pools(servers: int, rho: float) -> None:
    load = rho * servers
    assert erlang_b(servers, load) == pytest.approx(recurrence_b(servers, load), rel=1e-11)


@settings(max_examples=150, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=80.0),
    st.floats(min_value=1e-3, max_value=10.0),
    st.sampled_from(["mean", "p_wait", "p99"]),
    st.floats(min_value=1.0001, max_value=3.0),
)
def test_the_bisection_finds_the_pool_the_linear_search_found(
    load: float, service: float, kind: str, slack: float
) -> None:
    rate = load / service

    def meets(r: QueueResult) -> bool:
        if kind == "mean":
            return r.mean_response_s <= slack * service
        if kind == "p_wait":
            return r.p_wait <= slack - 1
        return mmc_response_percentile(rate, service, r.servers, 0.99) <= 4.6 * slack * service

    found = smallest_servers_for(rate, service, meets, max_servers=300)
    expected = linear_search(rate, service, meets, 300)
    assert (found.servers if found else None) == expected
    if found is not None:
        assert found == mmc(rate, service, found.servers)


# --- large pools answer at once ------------------------------------------------------------


def test_a_hundred_million_servers_cost_what_eight_do() -> None:
    """The recurrence ran 10⁸ steps per call (minutes); the Poisson form is O(1)."""
    started = time.monotonic()
    assert erlang_b(10**8, 1.2e8) == pytest.approx(1 / 6, rel=1e-6)  # overloaded: ≈ 1 − c/a
    assert erlang_c(10**8, 0.99e8) == 0.0  # 10⁶ spare servers (100 σ): nobody waits
    assert 0.0 < erlang_c(10**8, 10**8 - 10**4) < 1.0
    big = mmc(1e9, 1.0, 10**9 + 10**5)
    assert 0.0 < big.p_wait < 1.0
    assert big.mean_response_s == pytest.approx(1.0, rel=1e-3)
    assert mmc_response_percentile(1e7, 1.0, 10**7 + 10**4, 0.99) > 1.0
    assert time.monotonic() - started < 5.0
    assert erlang_c(100_000, 99_000.0) == pytest.approx(
        _c_by_recurrence(100_000, 99_000.0), rel=1e-11
    )


def test_the_largest_pool_answers_at_once_and_a_larger_one_is_refused() -> None:
    started = time.monotonic()
    # overloaded by a hair (the one case that sums a series): about 9·√c terms, not c
    assert erlang_b(2**32, 2**32 + 10.0) == pytest.approx(1.2176e-5, rel=1e-3)
    assert erlang_b(2**32, 2.0**33) == pytest.approx(0.5, rel=1e-9)
    assert time.monotonic() - started < 5.0
    with pytest.raises(InputError, match="servers: must be at most 4,294,967,296"):
        erlang_c(2**32 + 1, 1.0)
    with pytest.raises(InputError, match="an integer of 1329 bits"):
        mmc(1.0, 1.0, 10**400)
    # a search limit past the largest pool is only a limit
    found = smallest_servers_for(1.0, 1.0, lambda r: True, max_servers=10**30)
    assert found is not None and found.servers == 2


def _c_by_recurrence(servers: int, load: float) -> float:
    b, rho = recurrence_b(servers, load), load / servers
    return b / (1 - rho * (1 - b))


def test_pool_sizing_for_five_million_erlangs_bisects() -> None:
    """Counting up from 1 with an O(c) Erlang B per step was O(c²): never finished."""
    started = time.monotonic()
    found = smallest_servers_for(5e6, 1.0, lambda r: r.p_wait < 0.01, max_servers=10**7)
    assert found is not None
    assert found.p_wait < 0.01
    assert mmc(5e6, 1.0, found.servers - 1).p_wait >= 0.01
    # 99.9 % start at once: ~1,400 pools past a = 200,000, each an O(c) Erlang B before
    at_once = smallest_servers_for(
        2e5, 1.0, lambda r: mmc_wait_percentile(2e5, 1.0, r.servers, 0.999) == 0.0, 10**6
    )
    assert at_once is not None
    assert at_once.p_wait <= 0.001 < mmc(2e5, 1.0, at_once.servers - 1).p_wait
    slo = smallest_servers_for(
        2e6, 0.5, lambda r: mmc_response_percentile(2e6, 0.5, r.servers, 0.99) <= 2.4
    )
    assert slo is None  # a = 10⁶ erlangs: beyond the default 100,000 servers
    assert time.monotonic() - started < 5.0


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=1.0, max_value=1e6),
    st.floats(min_value=0.1, max_value=100.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.just(0.0) | st.floats(min_value=1e-9, max_value=2.0),
    st.integers(min_value=1, max_value=2000),
)
def test_instances_needed_bisects_to_the_first_that_carries(
    demand: float, base: float, sigma: float, kappa: float, limit: int
) -> None:
    # σ within rounding of 1 (and κ = 0): rel(N) = N / (1 + σ(N − 1)) is 1 for every N up to the
    # last bit, so "the first N that carries" is rounding noise, not a rising curve
    assume(kappa > 0 or sigma == 1.0 or sigma < 1 - 1e-9)

    def relative(n: float) -> float:  # the USL by hand: N / (1 + σ(N−1) + κN(N−1))
        return n / (1 + sigma * (n - 1) + kappa * n * (n - 1))

    peak = math.sqrt((1 - sigma) / kappa) if kappa > 0 else None
    top = min(limit, int(peak) + 1 if peak else limit)
    expected = next((k for k in range(1, top + 1) if base * relative(k) >= demand), None)
    if peak == 0.0:  # σ = 1: every count was tried, and only N = 1 can carry
        expected = 1 if base * relative(1) >= demand else None
    assert _smallest(lambda k: base * relative(k) >= demand, limit, peak) == expected


def test_scaling_plan_with_sixteen_million_max_instances(tmp_path: Path) -> None:
    """The USL search counted instances from 1 to max_instances (over 100 s here)."""
    arch = tmp_path / "arch.yaml"
    arch.write_text(
        "system: big\nentry_rate: 1000 rps\ncomponents:\n"
        "  - {name: api, kind: service, instances: 2, max_instances: 16000000, cores: 4,\n"
        '     utilization: {cpu: "50%"}, scaling: {sigma: 0.5, kappa: 0}}\n'
    )
    started = time.monotonic()
    proc = run_tpx(  # not a terminal: the report is JSON
        "scaling-plan", "--current-architecture", str(arch), "--target-rps", "1e12", timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 30
    (api,) = json.loads(proc.stdout)["analysis"]["components"]
    assert api["why"] == "needs 16000001 instances but max_instances is 16000000"


# --- the front doors refuse counts no system has ------------------------------------------------


def test_cpu_cores_flag_over_the_bound(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = run_tpx(
        "optimize-concurrency",
        *("--workload-type", "io", "--current-thread-pool", "20", "--cpu-cores", "100000000"),
        *("--wait-time", "50ms", "--compute-time", "5ms", "--arrival-rate", "1000"),
        *("--latency-slo", "200ms"),
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert "--cpu-cores: " in line and "100000000" in line
    assert "allowed: 1 to 100,000: more than any one host has" in line
    assert time.monotonic() - started < 30
    proc = run_tpx(
        "optimize-concurrency",
        *("--workload-type", "io", "--current-thread-pool", "100000000", "--cpu-cores", "8"),
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.splitlines()
    assert "--current-thread-pool: " in line and "100000000" in line
    assert "allowed: 1 to 16,777,216: more than any one service runs" in line


@pytest.mark.parametrize(
    ("field", "value", "line"),
    [
        ("cores", 100000000, "cores: 100000000 is more than any one host has (at most 100,000)"),
        ("cores", "2M", 'cores: "2M" is more than any one host has (at most 100,000)'),
        (
            "workers",
            1e9,
            "workers: 1000000000.0 is more than any one service runs (at most 16,777,216)",
        ),
    ],
)
def test_metrics_counts_over_the_bound(
    tmp_path: Path, field: str, value: object, line: str
) -> None:
    path = tmp_path / "m.json"
    doc = {"throughput_rps": 1000, "latency_ms": {"mean": 5}, "utilization": {"cpu": 0.5}}
    path.write_text(json.dumps(doc | {field: value}))
    started = time.monotonic()
    proc = run_tpx("analyze", "--metrics", str(path))
    assert proc.returncode == 2
    assert proc.stderr == f"{path}: {line}\n"
    assert time.monotonic() - started < 30


def test_a_host_at_the_bound_is_analyzed(tmp_path: Path) -> None:
    """100,000 cores: the latency model's M/M/c per resource took seconds per curve point."""
    path = tmp_path / "m.json"
    doc = {"throughput_rps": 1000, "cores": 100000, "latency_ms": {"mean": 5}}
    path.write_text(json.dumps(doc | {"utilization": {"cpu": 0.5}}))
    started = time.monotonic()
    proc = run_tpx("analyze", "--metrics", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["command"] == "analyze"
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("cores", "100K", True),
        ("cpu_cores", 100_001, False),
        ("components[3].max_instances", "16,777,216", True),
        ("components[3].instances", 16_777_217, False),
        ("concurrency", "20M", False),
        ("unit_cost", 1e12, True),  # a cost, not a count that sizes work
        ("saturation.run_queue", 1e9, True),
    ],
)
def test_which_counts_are_bounded(field: str, value: str | float, ok: bool) -> None:
    if ok:
        assert parse_count(value, source="f", field=field) > 0
    else:
        with pytest.raises(InputError, match=r"is more than any one (host has|service runs)"):
            parse_count(value, source="f", field=field)


def test_a_flag_names_its_kind_of_count() -> None:
    assert check_count(64, source="--cpu-cores", kind="cores") == 64
    with pytest.raises(InputError) as caught:
        check_count(100_001, source="--cpu-cores", kind="cores")
    assert caught.value.one_line() == (
        "--cpu-cores: 100001 is more than any one host has (at most 100,000)"
    )


# --- a need beyond every bound is capped, never an int() of inf ----------------------------------


def test_a_vanishing_throughput_plans_to_the_bound_not_to_inf(tmp_path: Path) -> None:
    """1e-300 rps today and 1e12 rps wanted: the instances asked for are held to the bound on
    a count of instances (the plan then says the target is not reached)."""
    path = tmp_path / "m.json"
    path.write_text(
        '{"format": "tpx-metrics", "version": 1, "throughput_rps": 1e-300, '
        '"target_rps": 1e12, "utilization": {"cpu": 0.5}}'
    )
    proc = run_tpx("analyze", "--metrics", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "internal error" not in proc.stderr


@pytest.mark.parametrize("capacity", ["1.0e-300", "0.000001"])
def test_a_vanishing_capacity_needs_more_instances_than_the_bound(
    tmp_path: Path, capacity: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(
        "system: s\nentry_rate: 10\ncomponents:\n"
        f"  - {{name: a, kind: service, capacity_per_instance: {capacity}}}\n"
        f"  - {{name: db, kind: database, read_share: 0.5, capacity_per_instance: {capacity}}}\n"
    )
    proc = run_tpx(
        "scaling-plan", "--target-rps", "1e12", "--current-architecture", str(path),
        "--format", "json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    for component in doc["analysis"]["components"]:
        assert component["instances_needed"] is None or component["instances_needed"] <= 100_001
