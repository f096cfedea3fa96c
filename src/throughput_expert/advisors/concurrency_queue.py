"""Queueing for ``optimize-concurrency``: the pool as an M/M/c queue (each request holds a
thread for S = W + C), the smallest pool meeting a latency SLO by Erlang C, and the bound on a
waiting queue by Little's law."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.errors import UnstableSystem
from throughput_expert.laws.queueing import (
    QueueResult,
    mmc,
    mmc_response_percentile,
    smallest_servers_for,
)
from throughput_expert.model.units import fmt_count, fmt_duration

if TYPE_CHECKING:
    from throughput_expert.advisors.concurrency import ConcurrencyInputs

__all__ = ["erlang_pool", "pool_latency", "queue_bound"]


def _rate(i: ConcurrencyInputs) -> float | None:
    return i.arrival_rps if i.arrival_rps is not None else i.target_rps


def _service(i: ConcurrencyInputs) -> float | None:
    if i.wait_s is None and i.compute_s is None:
        return None
    return (i.wait_s or 0.0) + (i.compute_s or 0.0)


def pool_latency(i: ConcurrencyInputs, threads: int) -> dict[str, Any]:
    """Mean response time of a pool of ``threads`` at the arrival rate (M/M/c), if known."""
    rate, service = _rate(i), _service(i)
    if rate is None or service is None:
        return {}
    try:
        r = mmc(rate, service, threads)
    except UnstableSystem:
        return {"stable": False, "pool_utilization": rate * service / threads}
    return {
        "stable": True,
        "mean_latency_ms": r.mean_response_s * 1e3,
        "p_wait": r.p_wait,
        "pool_utilization": r.utilization,
    }


def _meets(i: ConcurrencyInputs, rate: float, service: float) -> Any:
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
    return -service * math.log(1 - i.slo.quantile)


def erlang_pool(
    i: ConcurrencyInputs, ceiling: float | None, ledger: Ledger
) -> dict[str, Any] | None:
    rate, service = _rate(i), _service(i)
    if i.slo is None or rate is None or service is None:
        return None
    if ceiling is not None and rate >= ceiling:
        why = (
            f"{fmt_count(rate)} rps is at or above the CPU ceiling of {fmt_count(ceiling)} "
            "rps: no pool size meets any SLO; cut compute time or add cores"
        )
        return {"threads": None, "feasible": False, "why": why}
    if _floor(i, service) > i.slo.seconds:
        why = (
            f"the SLO ({i.slo.describe()}) is below what the service time alone gives "
            f"({fmt_duration(_floor(i, service))} with exponential service times, as M/M/c "
            "assumes): no pool size meets it; if service times are nearly constant, size for "
            "a mean SLO instead"
        )
        return {"threads": None, "feasible": False, "why": why}
    found = smallest_servers_for(rate, service, _meets(i, rate, service))
    if found is None:
        return {"threads": None, "feasible": False, "why": "no pool up to 100,000 meets the SLO"}
    return _found(i, rate, service, found, ledger)


def _found(
    i: ConcurrencyInputs, rate: float, service: float, r: QueueResult, ledger: Ledger
) -> dict[str, Any]:
    assert i.slo is not None
    out: dict[str, Any] = {
        "threads": r.servers,
        "feasible": True,
        "slo": i.slo.describe(),
        "arrival_rps": rate,
        "service_time_ms": service * 1e3,
        "p_wait": r.p_wait,
        "mean_wait_ms": r.mean_wait_s * 1e3,
        "mean_response_ms": r.mean_response_s * 1e3,
        "pool_utilization": r.utilization,
    }
    if i.slo.quantile is not None:
        q = mmc_response_percentile(rate, service, r.servers, i.slo.quantile)
        out[f"p{i.slo.quantile * 100:g}_response_ms"] = q * 1e3
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


def queue_bound(i: ConcurrencyInputs, ledger: Ledger) -> dict[str, Any] | None:
    """Little's law on the queue: items wait at most SLO − S, so capacity ≤ X · (SLO − S)."""
    rate, service = _rate(i), _service(i)
    if i.slo is None or rate is None or service is None:
        return None
    slack = i.slo.seconds - service
    capacity = max(0, math.floor(rate * slack)) if slack > 0 else 0
    ledger.prove(
        "queue-bound",
        f"a waiting queue longer than {capacity} breaks the SLO",
        "Little's law on the queue: capacity ≤ X · (SLO − service time)",
        {"rate_rps": rate, "slo_ms": i.slo.seconds * 1e3, "service_time_ms": service * 1e3},
        {"capacity": capacity},
    )
    return {
        "capacity": capacity,
        "policy": "when full, reject at once (HTTP 429 / nack and requeue) or block the "
        "producer (backpressure) — never queue without bound",
        "evidence_ids": ["queue-bound"],
    }
