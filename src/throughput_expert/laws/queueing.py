"""M/M/1 and M/M/c queues: Erlang B and C, mean waits, and wait and response-time percentiles.

Sources: Kleinrock, "Queueing Systems" vol. 1, 1975, §3.2 (M/M/1) and §3.5 (M/M/m); Gross and
Harris, "Fundamentals of Queueing Theory", §2.3; Gunther, "Analyzing Computer System Performance
with Perl::PDQ", ch. 2. Poisson arrivals at rate λ (per second), exponential service of mean S
(seconds, μ = 1/S), c identical servers, FCFS, infinite queue. Offered load a = λ·S (erlangs),
utilization ρ = a / c; every formula needs ρ < 1 and raises ``UnstableSystem`` otherwise.

Nothing here loops over the servers: Erlang B is the Poisson ratio B(c, a) = P(N = c) / P(N ≤ c)
for N ~ Poisson(a) (the truncated Poisson distribution of busy servers, Kleinrock §3.6), so a
pool of 10⁸ costs what a pool of 8 does, and the smallest pool meeting a target is found by
bisection. Both agree with the textbook recurrence B(k) = a·B(k−1) / (k + a·B(k−1)) to about
1e-12 relative (a property test compares them). A pool is at most 2³² servers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

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
    "service_time_percentile",
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


_MAX_SERVERS = 1 << 32  # bounds the one series below (overloaded Erlang B) to ~600,000 terms


def _servers(count: int) -> int:
    whole = servers(count, _SOURCE)
    if whole > _MAX_SERVERS:
        got = (
            f"{whole:,}" if whole.bit_length() <= 64 else f"an integer of {whole.bit_length()} bits"
        )
        raise InputError(
            f"must be at most {_MAX_SERVERS:,}: no pool has more servers, got {got}",
            source=_SOURCE,
            field="servers",
        )
    return whole


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


_STIRLING = (1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_CHUNK = 4096


def _stirling_error(n: float) -> float:
    # ln n! − ln(√(2πn)·(n/e)ⁿ), by its asymptotic series for large n (Loader 2000).
    if n <= 15:
        return math.lgamma(n + 1) - (n + 0.5) * math.log(n) + n - _HALF_LOG_2PI
    inv2 = 1 / (n * n)
    s0, s1, s2, s3, s4 = _STIRLING
    return (s0 - (s1 - (s2 - (s3 - s4 * inv2) * inv2) * inv2) * inv2) / n


def _deviance(x: float, mean: float) -> float:
    # x·ln(x/mean) + mean − x without cancellation when x ≈ mean (Loader 2000, "bd0").
    if abs(x - mean) < 0.1 * (x + mean):
        v = (x - mean) / (x + mean)
        total, term = (x - mean) * v, 2 * x * v
        for j in range(1, 1000):  # |v| < 0.1: each term is 100 times smaller; ~8 are enough
            term *= v * v
            updated = total + term / (2 * j + 1)
            if updated == total:
                break
            total = updated
        return total
    return x * math.log(x / mean) + mean - x


def _log_poisson_pmf(k: int, mean: float) -> float:
    # ln P(N = k), N ~ Poisson(mean > 0), k ≥ 1: −δ(k) − bd0(k, mean) − ½ln(2πk), accurate to
    # a few ulps at any size (ln aᵏ − ln k! would lose digits to cancellation for large k).
    return -_stirling_error(k) - _deviance(k, mean) - _HALF_LOG_2PI - 0.5 * math.log(k)


def _erlang_b_series(servers: int, offered_load: float) -> float:
    # 1/B = Σ_{j=0..c} c!/((c−j)!·aʲ) for c < a, where P(N ≤ c) is a far tail that loses
    # digits (or underflows): each term is the last times (c−j+1)/a < 1, so they shrink faster
    # than (c/a)ʲ and like exp(−j²/2c) near c = a: at most about 9·√c of them count (9,000
    # for a million servers), never more than c + 1.
    import numpy as np  # only an overloaded queue sums this series; analyze need not pay for numpy

    total, last, start = 1.0, 1.0, 1
    while start <= servers:
        j = np.arange(start, min(start + _CHUNK, servers + 1), dtype=np.float64)
        terms = last * np.cumprod((servers - j + 1) / offered_load)
        total += float(terms.sum())
        last = float(terms[-1])
        if last <= total * 1e-17:
            break
        start += _CHUNK
    return 1 / total


def _erlang_b(servers: int, offered_load: float) -> float:
    # B(c, a) = P(N = c) / P(N ≤ c), N ~ Poisson(a): O(1) in c for a stable queue (c ≥ a,
    # P(N ≤ c) near or above one half); an overloaded one (c < a, Erlang B only) sums a
    # series. Checked arguments only.
    if offered_load == 0:
        return 0.0
    if servers < offered_load:
        return _erlang_b_series(servers, offered_load)
    log_pmf = _log_poisson_pmf(servers, offered_load)
    below = _poisson_cdf_short(servers, offered_load, log_pmf)
    if below is None:
        from scipy.special import pdtr  # type: ignore[import-untyped]  # ~0.1 s to import

        below = float(pdtr(servers, offered_load))
    return min(1.0, math.exp(log_pmf - math.log(below)))


_SHORT_TAIL = 1000


def _poisson_cdf_short(servers: int, offered_load: float, log_pmf: float) -> float | None:
    # P(N ≤ c) = 1 − P(N = c)·Σ_{j≥1} Π_{i=1..j} a/(c+i) for c ≥ a, in pure Python (importing
    # scipy for pdtr costs more than a small `tpx analyze`): the tail is at most about one half,
    # so 1 − tail keeps its digits, and the terms shrink like exp(−j²/2c) or faster. None when
    # they need more than _SHORT_TAIL of them (c near a and above ~12,000): pdtr answers those.
    total, term = 0.0, 1.0
    for i in range(1, _SHORT_TAIL + 1):
        term *= offered_load / (servers + i)
        updated = total + term
        if updated == total:
            return 1 - math.exp(log_pmf) * total
        total = updated
    return None


def _erlang_c_from_b(blocking: float, rho: float) -> float:
    # C = B / (1 − ρ(1 − B)) (Gross & Harris; Kleinrock §3.5 in terms of Erlang B).
    return blocking / (1 - rho * (1 - blocking))


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B blocking probability of M/M/c/c: B = P(N = c) / P(N ≤ c), N ~ Poisson(a).

    The same number as the recurrence B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)), in constant
    time whatever the number of servers.
    """
    count, load = _servers(servers), _non_negative(offered_load, "offered_load")
    return _erlang_b(count, load)


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
    return _result(rate, service, count, _erlang_b(count, rate * service))


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
    from scipy.optimize import brentq  # type: ignore[import-untyped]  # ~0.3 s to import: lazy

    root = brentq(lambda t: _response_tail(result, t) - tail, 0.0, upper, xtol=upper * 1e-14)
    return float(root)


def service_time_percentile(service_time: float, q: float) -> float:
    """q-quantile of an exponential service time of mean S, t_q = −S·ln(1 − q), in seconds.

    The response time of an M/M/c queue whose arrivals never wait (Kleinrock §3.5): no pool,
    however large, gives a lower q-quantile (``mmc_response_percentile`` tends to it as c grows).
    """
    return -_positive(service_time, "service_time") * math.log(1 - _probability(q))


def smallest_servers_for(
    arrival_rate: float,
    service_time: float,
    predicate: Callable[[QueueResult], bool],
    max_servers: int = 100_000,
) -> QueueResult | None:
    """The smallest stable M/M/c pool whose result satisfies ``predicate``, or None.

    ``predicate`` must be monotone in the pool size — once met, met by every larger pool — as
    every response-time, wait or P(wait) target is: adding a server never slows M/M/c. The
    search starts at the smallest stable pool c = ⌊a⌋ + 1 (a = λ·S), gallops up (c + 1, c + 3,
    c + 7, …, at most ``max_servers``) to a pool that meets it, then bisects: O(log c) queue
    evaluations, each O(1), so a = 10⁶ erlangs costs about what a = 6 does.
    """
    rate = _non_negative(arrival_rate, "arrival_rate")
    service = _positive(service_time, "service_time")
    limit = min(servers(max_servers, _SOURCE), _MAX_SERVERS)  # a search limit: clamped
    load = rate * service
    first = math.floor(load) + 1
    while load / first >= 1:  # rounding: the first count whose utilization is below 1
        first += 1

    def meets(count: int) -> QueueResult | None:
        result = _result(rate, service, count, _erlang_b(count, load))
        return result if predicate(result) else None

    failed, step, probe = first - 1, 1, first  # every pool up to `failed` is unstable or fails
    while True:
        if probe > limit:
            return None
        found = meets(probe)
        if found is not None:
            break
        if probe == limit:
            return None
        failed, probe, step = probe, min(probe + step, limit), step * 2
    while probe - failed > 1:  # failed fails, probe meets it: bisect between them
        middle = (failed + probe) // 2
        met = meets(middle)
        if met is None:
            failed = middle
        else:
            probe, found = middle, met
    return found
