"""Queueing for ``optimize-concurrency``: the pool as an M/M/c queue (each request holds a
thread for S = W + C), the smallest pool meeting a latency SLO by Erlang C, and the bound on a
waiting queue by Little's law."""

from __future__ import annotations

import math
from collections.abc import Callable

from throughput_expert.advisors.concurrency.inputs import (
    ConcurrencyInputs,
    arrival_rate,
    service_time,
)
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.errors import UnstableSystem
from throughput_expert.laws.little import concurrency
from throughput_expert.laws.network import ClosedSolution
from throughput_expert.laws.queueing import (
    QueueResult,
    mmc,
    mmc_response_percentile,
    service_time_percentile,
    smallest_servers_for,
)
from throughput_expert.laws.utilization import utilization
from throughput_expert.model.analysis.concurrency import ErlangPool, PoolLoad, QueueBound
from throughput_expert.model.units import fmt_count, fmt_duration

__all__ = ["erlang_pool", "pool_load", "queue_bound"]


def pool_load(
    i: ConcurrencyInputs,
    threads: int,
    capacity: float | None,
    loop: ClosedSolution | None = None,
) -> PoolLoad:
    """A pool of ``threads`` carrying up to ``capacity`` (and ``loop``'s closed-loop answer,
    MVA); at the arrival rate, if known, its mean response time as an M/M/c queue. A rate at or
    past ``capacity`` (the CPU's limit included) is unstable whatever the threads."""
    rate, service = arrival_rate(i), service_time(i)
    mva_x = None if loop is None else loop.throughput
    mva_r = None if loop is None else loop.response_time + loop.think_time
    if rate is None or service is None:
        return PoolLoad(threads, capacity, mva_throughput=mva_x, mva_response=mva_r)
    try:
        if capacity is not None and rate >= capacity:  # the CPU (or the curve) cannot carry it
            raise UnstableSystem(f"{fmt_count(rate)} rps is past {fmt_count(capacity)} rps")
        r = mmc(rate, service, threads)
    except UnstableSystem:
        busy = utilization(rate, service, threads)
        return PoolLoad(
            threads,
            capacity,
            stable=False,
            pool_utilization=busy,
            mva_throughput=mva_x,
            mva_response=mva_r,
        )
    return PoolLoad(
        threads,
        capacity,
        stable=True,
        mean_latency=r.mean_response_s,
        p_wait=r.p_wait,
        pool_utilization=r.utilization,
        mva_throughput=mva_x,
        mva_response=mva_r,
    )


def _meets(i: ConcurrencyInputs, rate: float, service: float) -> Callable[[QueueResult], bool]:
    slo = i.slo
    assert slo is not None

    def check(r: QueueResult) -> bool:
        if slo.quantile is None:
            return r.mean_response_s <= slo.seconds
        return mmc_response_percentile(rate, service, r.servers, slo.quantile) <= slo.seconds

    return check


def _floor(i: ConcurrencyInputs, service: float) -> float:
    """The best response time any pool gives: the service time itself (its percentile for a
    percentile SLO, service times being exponential in the model)."""
    assert i.slo is not None
    if i.slo.quantile is None:
        return service
    return service_time_percentile(service, i.slo.quantile)


def erlang_pool(i: ConcurrencyInputs, ceiling: float | None, ledger: Ledger) -> ErlangPool | None:
    rate, service = arrival_rate(i), service_time(i)
    if i.slo is None or rate is None or service is None:
        return None
    if ceiling is not None and rate >= ceiling:
        why = (
            f"{fmt_count(rate)} rps is at or above the CPU ceiling of {fmt_count(ceiling)} "
            "rps: no pool size meets any SLO; cut compute time or add cores"
        )
        return ErlangPool(None, feasible=False, why=why)
    if _floor(i, service) > i.slo.seconds:
        why = (
            f"the SLO ({i.slo.describe()}) is below what the service time alone gives "
            f"({fmt_duration(_floor(i, service))} with exponential service times, as M/M/c "
            "assumes): no pool size meets it; if service times are nearly constant, size for "
            "a mean SLO instead"
        )
        return ErlangPool(None, feasible=False, why=why)
    found = smallest_servers_for(rate, service, _meets(i, rate, service))
    if found is None:
        return ErlangPool(None, feasible=False, why="no pool up to 100,000 meets the SLO")
    return _found(i, rate, service, found, ledger)


def _found(
    i: ConcurrencyInputs, rate: float, service: float, r: QueueResult, ledger: Ledger
) -> ErlangPool:
    assert i.slo is not None
    q = i.slo.quantile
    out = ErlangPool(
        r.servers,
        feasible=True,
        slo=i.slo.describe(),
        arrival=rate,
        service_time=service,
        p_wait=r.p_wait,
        mean_wait=r.mean_wait_s,
        mean_response=r.mean_response_s,
        pool_utilization=r.utilization,
        percentile_response=(
            None if q is None else mmc_response_percentile(rate, service, r.servers, q)
        ),
    )
    ledger.prove(
        "erlang-pool",
        f"{r.servers} threads meet {i.slo.describe()} at "
        f"{fmt_count(rate)} rps (P(wait) = {r.p_wait:.3g})",
        "M/M/c with Erlang C: the smallest c whose response time meets the SLO",
        {"arrival_rps": rate, "service_time_ms": service * 1e3, "slo": i.slo.describe()},
        out,
    )
    ledger.assume(
        "arrivals and service times for pool sizing",
        "Poisson, exponential (M/M/c)",
        "the standard first model; bursty arrivals need a larger pool; validate with tpx sweep",
    )
    return out


def queue_bound(i: ConcurrencyInputs, ledger: Ledger) -> QueueBound | None:
    """Little's law on the queue: items wait at most SLO − S, so capacity ≤ X · (SLO − S)."""
    rate, service = arrival_rate(i), service_time(i)
    if i.slo is None or rate is None or service is None:
        return None
    slack = i.slo.seconds - service
    capacity = max(0, math.floor(concurrency(rate, slack))) if slack > 0 else 0
    ledger.prove(
        "queue-bound",
        f"a waiting queue longer than {capacity} breaks the SLO",
        "Little's law on the queue: capacity ≤ X · (SLO − service time)",
        {"rate_rps": rate, "slo_ms": i.slo.seconds * 1e3, "service_time_ms": service * 1e3},
        {"capacity": capacity},
    )
    return QueueBound(
        capacity=capacity,
        policy="when full, reject at once (HTTP 429 / nack and requeue) or block the "
        "producer (backpressure) — never queue without bound",
        evidence_ids=("queue-bound",),
    )
