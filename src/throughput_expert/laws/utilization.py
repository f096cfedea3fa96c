"""Operational laws: utilization, service demand and the bottleneck bound.

Source: P. J. Denning and J. P. Buzen, "The Operational Analysis of Queueing Network Models",
Computing Surveys 10(3), 1978; Lazowska et al., "Quantitative System Performance", 1984, ch. 3.
For a resource with ``servers`` identical servers, throughput X (completions per second) and
service demand D (seconds of that resource per completion), the utilization law is U = X·D / c;
the forced flow law X_k = V_k·X relates a resource's rate to the system's. These laws hold for
measured averages over an interval, whatever the distributions.
"""

from __future__ import annotations

from throughput_expert.errors import ModelError, UnstableSystem
from throughput_expert.laws._checks import fraction, non_negative, servers

__all__ = [
    "forced_flow",
    "max_throughput",
    "mm1_response_time",
    "rate_at_utilization",
    "service_demand",
    "throughput_at_utilization",
    "utilization",
    "utilization_at_rate",
]

_SOURCE = "utilization law"


def _non_negative(value: float, field: str) -> float:
    return non_negative(value, field, _SOURCE)


def _fraction(value: float, field: str) -> float:
    return fraction(value, field, _SOURCE)


def _servers(count: int) -> int:
    return servers(count, _SOURCE)


def utilization(throughput: float, service_demand: float, servers: int = 1) -> float:
    """Utilization law, U = X·D / c (Denning & Buzen 1978; Lazowska ch. 3).

    A result above 1 means the offered rate exceeds what the resource can complete; the caller
    decides whether that is an error (a measurement) or an answer (a what-if).
    """
    demand = _non_negative(service_demand, "service_demand")
    return _non_negative(throughput, "throughput") * demand / _servers(servers)


def service_demand(utilization: float, throughput: float, servers: int = 1) -> float:
    """Service demand law, D = U·c / X (Lazowska ch. 3): seconds of the resource per completion."""
    if _non_negative(throughput, "throughput") == 0:
        raise ModelError(
            "is 0: no completions, so the demand per completion is unknown",
            source=_SOURCE,
            field="throughput",
        )
    return _fraction(utilization, "utilization") * _servers(servers) / throughput


def max_throughput(service_demand: float, servers: int = 1) -> float:
    """Bottleneck bound, X ≤ c / D (Lazowska §5.2): the rate at which the resource saturates."""
    if _non_negative(service_demand, "service_demand") == 0:
        raise ModelError("is 0: the resource sets no bound", source=_SOURCE, field="service_demand")
    return _servers(servers) / service_demand


def throughput_at_utilization(utilization: float, service_demand: float, servers: int = 1) -> float:
    """Utilization law solved for the rate, X = U·c / D: the throughput at which a resource of
    ``servers`` servers and demand D per completion is ``utilization`` busy (Lazowska ch. 3)."""
    busy = _fraction(utilization, "utilization")
    if _non_negative(service_demand, "service_demand") == 0:
        raise ModelError(
            "is 0: a resource nothing uses is never busy", source=_SOURCE, field="service_demand"
        )
    return _servers(servers) * busy / service_demand


def rate_at_utilization(
    current_rate: float, current_utilization: float, target_utilization: float
) -> float:
    """Rate at which utilization reaches a target, X_target = X·U_target / U.

    From the utilization law with a fixed demand, U = X·D / c: utilization is proportional to
    the rate, so scaling the rate by U_target / U reaches U_target.
    """
    rate = _non_negative(current_rate, "current_rate")
    if _fraction(current_utilization, "current_utilization") == 0:
        raise ModelError(
            "is 0: an idle resource says nothing about its demand",
            source=_SOURCE,
            field="current_utilization",
        )
    return rate * _fraction(target_utilization, "target_utilization") / current_utilization


def utilization_at_rate(current_utilization: float, current_rate: float, rate: float) -> float:
    """Utilization at another rate, U' = U·X' / X, the demand per completion staying constant.

    The utilization law U = X·D / c with D and c fixed: utilization is proportional to the rate.
    A result above 1 means the resource cannot carry ``rate``; the caller decides what that says.
    """
    busy = _fraction(current_utilization, "current_utilization")
    if _non_negative(current_rate, "current_rate") == 0:
        raise ModelError(
            "is 0: utilization at no throughput says nothing about the demand",
            source=_SOURCE,
            field="current_rate",
        )
    return busy * _non_negative(rate, "rate") / current_rate


def forced_flow(throughput: float, visits: float) -> float:
    """Forced flow law, X_k = V_k·X (Denning & Buzen 1978; Lazowska §3.2): a resource visited
    V_k times per completion of the system completes V_k·X per second."""
    return _non_negative(throughput, "throughput") * _non_negative(visits, "visits")


def mm1_response_time(service_time: float, utilization: float) -> float:
    """M/M/1 mean response time, R = S / (1 − U) (Kleinrock, "Queueing Systems" vol. 1, §3.2)."""
    service = _non_negative(service_time, "service_time")
    if _non_negative(utilization, "utilization") >= 1:
        raise UnstableSystem(
            f"utilization {utilization:g} >= 1: the queue grows without bound",
            source="M/M/1",
            field="utilization",
        )
    return service / (1 - utilization)
