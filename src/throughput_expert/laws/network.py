"""Queueing networks: the one solver behind every projection (closed and open).

A system is a list of stations, each with a **service demand** D_i (seconds of service one request
needs there, all visits together: D = V·S) and a number of servers m_i; a delay station (think
time, a pure sleep, a call to a service that never queues) has infinitely many. Sources:

- Lazowska, Zahorjan, Graham, Sevcik, "Quantitative System Performance", 1984: the utilization
  law U_i = X·D_i/m_i (§3.2), the asymptotic bounds X(N) ≤ min(N/(D+Z), min_i m_i/D_i) (§5.2),
  Schweitzer's approximate MVA (§6.4.2), and load-dependent stations (§8).
- Buzen, "Computational algorithms for closed queueing networks with exponential servers", 1973:
  the exact solution of a product-form network by convolution. Station k contributes
  f_k(j) = D_k^j / Π_{i=1..j} min(i, m_k) (a delay: Z^j / j!); G = f_1 ⊛ … ⊛ f_K and
  X(N) = G(N−1) / G(N); the queue at k follows from G without k. Exact for any number of servers,
  computed with scaling so that no term overflows. Used up to ``EXACT_MVA_LIMIT`` requests,
  and wherever its scaled terms stay within a float (a long delay beside a station of
  hundreds of servers can leave every kept term at 0: then the approximation below).
- Seidmann, Schweitzer, Shalev-Oren, "Computerized closed queueing network models of flexible
  manufacturing systems", 1987: beyond that limit, a station of m servers and demand D is solved
  as one server of demand D/m followed by a delay of D·(m−1)/m, by Schweitzer's approximation.
  Exact at light load (R = D) and at saturation (X = m/D); near the knee it is pessimistic (by up
  to ~10 % against the exact solution, in the tests), which at such populations is far past it.
- Open networks of M/M/c stations (Jackson, 1963): each station is an M/M/c queue at the arrival
  rate λ with service time D_i (``laws/queueing.py``); the response time is the sum.

Everything is in SI units: seconds, requests per second. Nothing here formats or reads files.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from throughput_expert.errors import InputError, ModelError, UnstableSystem
from throughput_expert.laws._checks import non_negative

__all__ = [
    "EXACT_MVA_LIMIT",
    "ClosedSolution",
    "OpenSolution",
    "Station",
    "bottleneck",
    "closed_network",
    "max_throughput",
    "open_network",
    "utilizations",
]

FloatArray = Any  # numpy arrays of float64
_SOURCE = "queueing network"
EXACT_MVA_LIMIT = 2_000  # populations above this are solved by Schweitzer's approximation
_SCHWEITZER_TOLERANCE = 1e-9
_SCHWEITZER_ROUNDS = 10_000


@dataclass(frozen=True)
class Station:
    """A resource requests visit: demand D (seconds per request), servers m (None: a delay)."""

    name: str
    demand: float
    servers: int | None = 1

    @property
    def is_delay(self) -> bool:
        return self.servers is None

    @property
    def capacity(self) -> float:
        """Requests per second it completes when saturated, m / D (∞ for a delay or D = 0)."""
        if self.servers is None or self.demand == 0:
            return math.inf
        return self.servers / self.demand


@dataclass(frozen=True)
class ClosedSolution:
    """A closed network with ``population`` requests in flight and think time ``think_time``."""

    population: int
    think_time: float
    throughput: float
    response_time: float
    utilization: tuple[float, ...]
    residence: tuple[float, ...]
    queue_length: tuple[float, ...]
    method: str


@dataclass(frozen=True)
class OpenSolution:
    """An open network at ``arrival_rate``: per-station utilization and residence time."""

    arrival_rate: float
    response_time: float
    utilization: tuple[float, ...]
    residence: tuple[float, ...]


def _check(stations: Sequence[Station]) -> tuple[Station, ...]:
    if not stations:
        raise InputError("needs at least one station", source=_SOURCE, field="stations")
    for i, s in enumerate(stations):
        non_negative(s.demand, f"stations[{i}].demand", _SOURCE)
        if s.servers is not None:
            try:
                count = operator.index(s.servers)
            except TypeError:
                count = 0
            if count < 1:
                raise InputError(
                    f"must be a whole number >= 1 or None (a delay), got {s.servers!r}",
                    source=_SOURCE,
                    field=f"stations[{i}].servers",
                )
    return tuple(stations)


def max_throughput(stations: Sequence[Station]) -> float:
    """The bottleneck law: X ≤ min_i m_i / D_i (Lazowska §5.2); ∞ when nothing queues."""
    return min((s.capacity for s in _check(stations)), default=math.inf)


def bottleneck(stations: Sequence[Station]) -> int | None:
    """The index of the station with the lowest capacity m/D (None when nothing queues)."""
    checked = _check(stations)
    best = min(range(len(checked)), key=lambda i: checked[i].capacity)
    return None if math.isinf(checked[best].capacity) else best


def utilizations(stations: Sequence[Station], throughput: float) -> tuple[float, ...]:
    """The utilization law U_i = X·D_i / m_i (0 for a delay station)."""
    non_negative(throughput, "throughput", _SOURCE)
    return tuple(
        0.0 if s.servers is None else throughput * s.demand / s.servers for s in _check(stations)
    )


def _split(stations: Sequence[Station], think_time: float) -> tuple[list[float], float]:
    """Seidmann's reduction: queueing demands of single servers, and the total delay."""
    queues: list[float] = []
    delay = think_time
    for s in stations:
        if s.servers is None:
            delay += s.demand
        else:
            queues.append(s.demand / s.servers)
            delay += s.demand * (s.servers - 1) / s.servers
    return queues, delay


def closed_network(
    stations: Sequence[Station], population: int, think_time: float = 0.0
) -> ClosedSolution:
    """Throughput and response time of a closed network of ``population`` requests (each thinks
    ``think_time`` seconds between requests): exact MVA up to ``EXACT_MVA_LIMIT``, Schweitzer's
    approximation beyond; multi-server stations by Seidmann's reduction."""
    checked = _check(stations)
    try:
        n = operator.index(population)
    except TypeError:
        n = 0
    if n < 1:
        raise InputError(
            f"must be a whole number >= 1, got {population!r}", source=_SOURCE, field="population"
        )
    non_negative(think_time, "think_time", _SOURCE)
    queues, delay = _split(checked, think_time)
    if delay == 0 and not any(queues):
        raise ModelError("every demand is 0: nothing limits the system", source=_SOURCE)
    exact = _convolution(checked, think_time, n) if n <= EXACT_MVA_LIMIT else None
    if exact is not None:
        x, residence, method = exact
    else:
        x, residence_q, method = _schweitzer(queues, delay, n)
        residence = _residences(checked, residence_q)
    response = sum(residence)
    return ClosedSolution(
        population=n,
        think_time=think_time,
        throughput=x,
        response_time=response,
        utilization=utilizations(checked, x),
        residence=residence,
        queue_length=tuple(x * r for r in residence),
        method=method,
    )


def _log_factors(station: Station, n: int) -> FloatArray:
    """log f(j), j = 0..n: D^j / Π_{i≤j} min(i, m) (a delay: D^j / j!)."""
    import numpy as np  # lazy: only the exact closed network needs arrays

    j = np.arange(n + 1, dtype=float)
    if station.demand == 0:
        out = np.full(n + 1, -np.inf)
        out[0] = 0.0
        return out
    servers = np.arange(1, n + 1, dtype=float)
    if station.servers is not None:
        servers = np.minimum(servers, station.servers)
    return np.asarray(
        j * math.log(station.demand) - np.concatenate(([0.0], np.cumsum(np.log(servers))))
    )


def _convolve(a: tuple[FloatArray, float], b: tuple[FloatArray, float]) -> tuple[FloatArray, float]:
    """Two scaled sequences (values, log scale) convolved and truncated to the same length."""
    import numpy as np  # lazy: only the exact closed network needs arrays

    n = len(a[0])
    out = np.convolve(a[0], b[0])[:n]
    top = float(out.max())
    if not (top > 0 and math.isfinite(top)):
        # every kept term underflowed: each sequence's mass lies past N (a long delay beside a
        # station of many servers), beyond what one scale per sequence can hold
        raise _Underflow
    return out / top, a[1] + b[1] + math.log(top)


class _Underflow(ArithmeticError):
    """The exact convolution left the range of a float."""


def _scaled(log_f: FloatArray) -> tuple[FloatArray, float]:
    import numpy as np  # lazy: only the exact closed network needs arrays

    top = float(log_f.max())
    return np.exp(log_f - top), top


def _convolution(
    stations: tuple[Station, ...], think_time: float, n: int
) -> tuple[float, tuple[float, ...], str] | None:
    """Buzen's algorithm: X(N) = G(N−1)/G(N); Q_k(N) = Σ_j j·f_k(j)·G_{−k}(N−j) / G(N).

    Demands are first scaled by α, the bottleneck's capacity (G scales by α^N, X by α; the queues
    do not change), so that the bottleneck's factors stay near 1 and G(N) rarely underflows;
    None when it does all the same (the caller then uses Schweitzer's approximation)."""
    import numpy as np  # lazy: only the exact closed network needs arrays

    with np.errstate(under="ignore", over="ignore", invalid="ignore", divide="ignore"):
        try:
            solved = _buzen(stations, think_time, n)
        except _Underflow:
            return None
    x, residence, _ = solved
    if not (math.isfinite(x) and x > 0 and all(math.isfinite(r) for r in residence)):
        return None
    return solved


def _buzen(
    stations: tuple[Station, ...], think_time: float, n: int
) -> tuple[float, tuple[float, ...], str]:
    import numpy as np  # lazy: only the exact closed network needs arrays

    capacity = min((s.capacity for s in stations), default=math.inf)
    if math.isinf(capacity):  # nothing queues: every request is a delay
        total = think_time + sum(s.demand for s in stations)
        return n / total, tuple(s.demand for s in stations), "exact (delays only)"
    alpha = capacity
    scaled = [Station(s.name, s.demand * alpha, s.servers) for s in stations]
    parts = [_scaled(_log_factors(s, n)) for s in scaled]
    if think_time > 0:
        parts.append(_scaled(_log_factors(Station("think", think_time * alpha, None), n)))
    # prefix[k] = f_0 ⊛ … ⊛ f_{k−1}, suffix[k] = f_k ⊛ … ⊛ f_{K−1}: G without k in K convolutions
    one = np.zeros(n + 1)
    one[0] = 1.0
    prefix = [(one, 0.0)]
    for part in parts:
        prefix.append(_convolve(prefix[-1], part))
    suffix = [(one, 0.0)]
    for part in reversed(parts):
        suffix.append(_convolve(suffix[-1], part))
    suffix.reverse()
    g, g_log = prefix[-1]
    x = alpha * float(g[n - 1] / g[n])
    j = np.arange(n + 1, dtype=float)
    residence = []
    for k, (values, scale) in enumerate(parts[: len(stations)]):
        without, w_log = _convolve(prefix[k], suffix[k + 1])
        # Q_k = Σ_j j·f_k(j)·G_{−k}(N−j) / G(N), in the scaled units
        terms = j * values * without[::-1]
        queue = float(terms.sum()) * math.exp(scale + w_log - g_log) / g[n]
        residence.append(queue / x)
    return x, tuple(residence), "exact solution (Buzen's convolution)"


def _schweitzer(queues: list[float], delay: float, n: int) -> tuple[float, list[float], str]:
    """Schweitzer's approximate MVA: Q_k(n−1) ≈ (n−1)/n · Q_k(n), iterated to a fixed point."""
    q = [n / max(len(queues), 1)] * len(queues)
    x, r = 0.0, list(queues)
    shrink = (n - 1) / n
    for _ in range(_SCHWEITZER_ROUNDS):
        r = [d * (1.0 + shrink * qk) for d, qk in zip(queues, q, strict=True)]
        x = n / (delay + sum(r))
        new = [x * rk for rk in r]
        if max((abs(a - b) for a, b in zip(new, q, strict=True)), default=0.0) <= (
            _SCHWEITZER_TOLERANCE * n
        ):
            q = new
            break
        q = new
    return x, r, "approximate mean value analysis (Schweitzer)"


def _residences(stations: tuple[Station, ...], queue_residence: list[float]) -> tuple[float, ...]:
    """Each station's residence time: its queueing part (Seidmann) plus its delay part."""
    out = []
    it = iter(queue_residence)
    for s in stations:
        if s.servers is None:
            out.append(s.demand)
        else:
            out.append(next(it) + s.demand * (s.servers - 1) / s.servers)
    return tuple(out)


def open_network(stations: Sequence[Station], arrival_rate: float) -> OpenSolution:
    """Each station an M/M/c queue at rate λ with service time D_i (a delay adds D_i); the
    response time is the sum. Raises ``UnstableSystem`` when a station's U ≥ 1."""
    from throughput_expert.laws.queueing import mmc

    checked = _check(stations)
    rate = non_negative(arrival_rate, "arrival_rate", _SOURCE)
    utilization = utilizations(checked, rate)
    residence = []
    for s, u in zip(checked, utilization, strict=True):
        if s.servers is None or s.demand == 0 or rate == 0:
            residence.append(s.demand)
            continue
        if u >= 1:
            raise UnstableSystem(
                f"{s.name} would run at {u:.0%} (≥ 100 %): the rate exceeds its capacity "
                f"{s.capacity:.4g}/s",
                source=_SOURCE,
                field=s.name,
            )
        residence.append(mmc(rate, s.demand, s.servers).mean_response_s)
    return OpenSolution(rate, sum(residence), utilization, tuple(residence))
