"""M/M/1 and M/M/c queues: Erlang B and C, mean waits, and wait and response-time percentiles.

Sources: Kleinrock, "Queueing Systems" vol. 1, 1975, §3.2 (M/M/1) and §3.5 (M/M/m); Gross and
Harris, "Fundamentals of Queueing Theory", §2.3; Gunther, "Analyzing Computer System Performance
with Perl::PDQ", ch. 2. Poisson arrivals at rate λ (per second), exponential service of mean S
(seconds, μ = 1/S), c identical servers, FCFS, infinite queue. Offered load a = λ·S (erlangs),
utilization ρ = a / c; every formula needs ρ < 1 and raises ``UnstableSystem`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scipy.optimize import brentq  # type: ignore[import-untyped]

from throughput_expert.errors import InputError, UnstableSystem
from throughput_expert.laws._checks import non_negative, positive, servers

__all__ = [
    "QueueResult",
    "erlang_b",
    "erlang_c",
    "mm1",
    "mmc",
    "mmc_response_percentile",
    "mmc_wait_percentile",
    "smallest_servers_for",
]

_SOURCE = "M/M/c"


@dataclass(frozen=True)
class QueueResult:
    """Steady state of an M/M/c queue; times in seconds, rates per second."""

    servers: int
    arrival_rate: float
    service_time: float
    utilization: float
    p_wait: float
    mean_wait_s: float
    mean_response_s: float
    mean_queue_length: float
    mean_in_system: float


def _non_negative(value: float, field: str) -> float:
    return non_negative(value, field, _SOURCE)


def _positive(value: float, field: str) -> float:
    return positive(value, field, _SOURCE)


def _servers(count: int) -> int:
    return servers(count, _SOURCE)


def _probability(q: float) -> float:
    if not 0 < q < 1:
        raise InputError(f"must be a probability in (0, 1), got {q!r}", source=_SOURCE, field="q")
    return q


def _unstable(rho: float) -> UnstableSystem:
    return UnstableSystem(
        f"utilization {rho:g} >= 1: the queue grows without bound",
        source=_SOURCE,
        field="utilization",
    )


def _next_erlang_b(previous: float, servers: int, offered_load: float) -> float:
    # B(k) = a·B(k−1) / (k + a·B(k−1)): stays in [0, 1], so no factorial and no overflow.
    blocked = offered_load * previous
    return blocked / (servers + blocked)


def _erlang_c_from_b(blocking: float, rho: float) -> float:
    # C = B / (1 − ρ(1 − B)) (Gross & Harris; Kleinrock §3.5 in terms of Erlang B).
    return blocking / (1 - rho * (1 - blocking))


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B blocking probability of M/M/c/c, by B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))."""
    count, load = _servers(servers), _non_negative(offered_load, "offered_load")
    blocking = 1.0
    for k in range(1, count + 1):
        blocking = _next_erlang_b(blocking, k, load)
    return blocking


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C, the probability an arrival waits: C = B / (1 − ρ(1 − B)), ρ = a / c < 1."""
    rho = _non_negative(offered_load, "offered_load") / _servers(servers)
    if rho >= 1:
        raise _unstable(rho)
    return _erlang_c_from_b(erlang_b(servers, offered_load), rho)


def _result(arrival_rate: float, service_time: float, servers: int, blocking: float) -> QueueResult:
    # Wq = C·S / (c − a) = C / (cμ − λ); R = Wq + S; Lq = λ·Wq and L = λ·R by Little's law.
    rho = arrival_rate * service_time / servers
    p_wait = _erlang_c_from_b(blocking, rho)
    wait = p_wait * service_time / (servers * (1 - rho))
    response = wait + service_time
    return QueueResult(
        servers=servers,
        arrival_rate=arrival_rate,
        service_time=service_time,
        utilization=rho,
        p_wait=p_wait,
        mean_wait_s=wait,
        mean_response_s=response,
        mean_queue_length=arrival_rate * wait,
        mean_in_system=arrival_rate * response,
    )


def mmc(arrival_rate: float, service_time: float, servers: int) -> QueueResult:
    """M/M/c steady state: P(wait) = C, Wq = C·S / (c(1 − ρ)), R = Wq + S (Kleinrock §3.5)."""
    rate = _non_negative(arrival_rate, "arrival_rate")
    service, count = _positive(service_time, "service_time"), _servers(servers)
    if rate * service / count >= 1:
        raise _unstable(rate * service / count)
    return _result(rate, service, count, erlang_b(count, rate * service))


def mm1(arrival_rate: float, service_time: float) -> QueueResult:
    """M/M/1 steady state, mmc(λ, S, 1): P(wait) = ρ, R = S / (1 − ρ) (Kleinrock §3.2)."""
    return mmc(arrival_rate, service_time, 1)


def mmc_wait_percentile(arrival_rate: float, service_time: float, servers: int, q: float) -> float:
    """q-quantile of the queueing delay Wq, in seconds.

    P(Wq > t) = C·exp(−(cμ − λ)t) (Kleinrock §3.5), so t_q = max(0, ln(C / (1 − q)) / (cμ − λ));
    it is 0 when q ≤ 1 − C, the share of arrivals that find a free server.
    """
    result = mmc(arrival_rate, service_time, servers)
    tail = 1 - _probability(q)
    if result.p_wait <= tail:
        return 0.0
    return math.log(result.p_wait / tail) / _drain_rate(result)


def _drain_rate(result: QueueResult) -> float:
    # θ = cμ − λ = c(1 − ρ) / S, written so that it is > 0 whenever ρ < 1.
    return result.servers * (1 - result.utilization) / result.service_time


def _sum_of_exponentials_tail(theta: float, mu: float, t: float) -> float:
    # P(E_θ + E_μ > t) = (θe^{−μt} − μe^{−θt}) / (θ − μ), symmetric in θ and μ. Factoring out the
    # slower rate lo gives e^{−lo·t}·(1 + lo·t·φ((hi − lo)t)), φ(x) = (1 − e^{−x}) / x ∈ (0, 1]:
    # exact, stable as θ → μ (φ → 1, the Erlang-2 tail (1 + μt)e^{−μt}), and never overflows.
    lo, hi = min(theta, mu), max(theta, mu)
    x = (hi - lo) * t
    phi = 1.0 if x == 0 else -math.expm1(-x) / x
    return math.exp(-lo * t) * (1 + lo * t * phi)


def _response_tail(result: QueueResult, t: float) -> float:
    # FCFS M/M/c: R = Wq + S, S ~ Exp(μ) independent of Wq, and Wq is 0 with probability 1 − C
    # else Exp(θ), θ = cμ − λ; so P(R > t) = (1 − C)e^{−μt} + C·P(E_θ + E_μ > t).
    mu = 1 / result.service_time
    waited = _sum_of_exponentials_tail(_drain_rate(result), mu, t)
    return (1 - result.p_wait) * math.exp(-mu * t) + result.p_wait * waited


def mmc_response_percentile(
    arrival_rate: float, service_time: float, servers: int, q: float
) -> float:
    """q-quantile of the response time R = Wq + S of FCFS M/M/c, in seconds.

    Solves P(R > t) = 1 − q, with P(R > t) = (1 − C)e^{−μt} + C·P(E_θ + E_μ > t), θ = cμ − λ
    (Gross & Harris §2.3), by Brent's method on a bracket found by doubling. For c = 1 this is
    the exponential response time of M/M/1, t_q = −ln(1 − q)·S / (1 − ρ).
    """
    result = mmc(arrival_rate, service_time, servers)
    tail = 1 - _probability(q)
    upper = result.service_time
    while _response_tail(result, upper) > tail:
        upper *= 2
    root = brentq(lambda t: _response_tail(result, t) - tail, 0.0, upper, xtol=upper * 1e-14)
    return float(root)


def smallest_servers_for(
    arrival_rate: float,
    service_time: float,
    predicate: Callable[[QueueResult], bool],
    max_servers: int = 100_000,
) -> QueueResult | None:
    """The smallest stable M/M/c pool whose result satisfies ``predicate``, or None.

    Searches c = ⌊a⌋ + 1, ⌊a⌋ + 2, … up to ``max_servers`` (a = λ·S), carrying the Erlang B
    recurrence along so the whole search costs O(c) rather than O(c²).
    """
    rate = _non_negative(arrival_rate, "arrival_rate")
    service, limit = _positive(service_time, "service_time"), _servers(max_servers)
    load = rate * service
    blocking = 1.0
    for count in range(1, limit + 1):
        blocking = _next_erlang_b(blocking, count, load)
        if load / count < 1:
            result = _result(rate, service, count, blocking)
            if predicate(result):
                return result
    return None
