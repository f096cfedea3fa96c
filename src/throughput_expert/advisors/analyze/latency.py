"""Latency as load grows: an open queueing network over the measured resources.

Each resource that scales with rate is a queue with its measured demand D_i per request: the
CPU as M/M/c with c = cores (Erlang C), a disk or a link as M/M/1 (R = S/(1−U)). The response
time at rate X' is R(X') = R_0 + Σ_i R_i(X'), where R_0 = R_measured − Σ_i R_i(X) is the time
no measured resource accounts for (waits on dependencies, sleeps), taken as load-independent.
"""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.resources import Headroom, ResourceView
from throughput_expert.errors import UnstableSystem
from throughput_expert.laws.little import response_time_from, throughput_from
from throughput_expert.laws.queueing import mmc
from throughput_expert.laws.utilization import rate_at_utilization
from throughput_expert.model import Series, ServiceMetrics
from throughput_expert.model.analysis.analyze import LatencyGrowth
from throughput_expert.model.settings import Settings

__all__ = ["LatencyModel", "latency_model"]


@dataclass(frozen=True)
class LatencyModel:
    record: LatencyGrowth
    series: dict[str, Series]
    measured_s: float | None
    unexplained_share: float | None


def measured_response_time(m: ServiceMetrics, x: float | None, ledger: Ledger) -> float | None:
    """Mean response time: measured, or by Little's law from measured concurrency."""
    if m.latency.mean_s is not None:
        return m.latency.mean_s
    if m.concurrency and x:
        r = response_time_from(m.concurrency, x)
        ledger.prove(
            "little-response-time",
            f"mean response time {r * 1e3:.4g} ms from the measured concurrency",
            "Little's law: R = L / X",
            {"concurrency": m.concurrency, "throughput_rps": x},
            {"response_time_ms": r * 1e3},
        )
        return r
    return None


def residence(views: list[ResourceView], rate: float) -> float:
    """Σ_i R_i at ``rate``: time spent queueing and being served at the measured resources."""
    return sum(mmc(rate, v.demand_s or 0.0, v.servers).mean_response_s for v in views)


def latency_model(
    m: ServiceMetrics,
    x: float | None,
    h: Headroom,
    target: float | None,
    per_item: float | None,
    settings: Settings,
    ledger: Ledger,
) -> LatencyModel:
    measured = measured_response_time(m, x, ledger)
    views = [v for v in h.scaling() if v.demand_s]
    if x is None or not views:
        why = "needs the throughput and at least one measured resource utilization"
        return LatencyModel(LatencyGrowth(available=False, why=why), {}, measured, None)
    top = max(views, key=lambda v: v.utilization)
    saturation_rps = rate_at_utilization(x, top.utilization, 1.0)
    pool = _pool_bound(m, per_item)
    if pool is not None and pool < saturation_rps:
        ledger.assume(
            "latency curve ends at the worker bound",
            pool,
            f"{m.workers} worker(s) hold at most {m.workers} requests in flight, so past "
            f"{pool:.6g} rps requests queue for a worker, not at a resource; below it the open "
            "model overstates queueing at the resources",
        )
        saturation_rps = pool
    base, share = _unexplained(measured, views, x, ledger)
    curve = _curve(views, base, saturation_rps, settings)
    _assume_model(ledger)
    knee = _knee(curve)
    record = LatencyGrowth(
        available=True,
        model="open network: CPU as M/M/c (Erlang C), disk and network as M/M/1",
        includes_unexplained=measured is not None,
        current=measured if measured is not None else _at(views, base, x, saturation_rps),
        unexplained=base if measured is not None else None,
        unexplained_share=share,
        saturation=saturation_rps,
        knee=knee,
        at_ceiling=_at(views, base, h.ceiling_rps, saturation_rps),
        at_target=_at(views, base, target, saturation_rps),
        evidence_ids=("latency-model",),
    )
    ledger.prove(
        "latency-model",
        f"response time grows without bound as {top.resource} nears 100 % at "
        f"{saturation_rps:.6g} rps",
        "M/M/c (Erlang C) per resource; R(X) = R_0 + Σ R_i(X)",
        {v.resource: {"demand_ms": (v.demand_s or 0) * 1e3, "servers": v.servers} for v in views}
        | {"unexplained_ms": base * 1e3},
        {"saturation_rps": saturation_rps, "knee_rps": knee},
    )
    label = "predicted response time (ms)" if measured is not None else "time at resources (ms)"
    series = {"latency_vs_throughput": Series("throughput (rps)", label, curve)}
    return LatencyModel(record, series, measured, share)


def _pool_bound(m: ServiceMetrics, per_item: float | None) -> float | None:
    """Little's law: with W workers and time R per item, X <= W / R."""
    if not m.workers or not per_item:
        return None
    return throughput_from(m.workers, per_item)


def _unexplained(
    measured: float | None, views: list[ResourceView], x: float, ledger: Ledger
) -> tuple[float, float | None]:
    if measured is None or measured <= 0:
        return 0.0, None
    try:
        at_resources = residence(views, x)
    except UnstableSystem:
        return 0.0, None
    if at_resources > measured:
        ledger.assume(
            "time not at resources",
            0.0,
            f"the model puts {at_resources * 1e3:.4g} ms at the resources, more than the measured "
            f"{measured * 1e3:.4g} ms: requests overlap resources (pipelining, async I/O) or the "
            "utilization includes other work; the unexplained part is taken as 0",
        )
        return 0.0, 0.0
    base = measured - at_resources
    return base, base / measured


def _curve(
    views: list[ResourceView], base: float, saturation_rps: float, settings: Settings
) -> tuple[tuple[float, float], ...]:
    n = settings.latency_curve_points
    top = settings.latency_curve_max_utilization
    rates = _linspace(saturation_rps * 0.02, saturation_rps * top, n)
    return tuple((r, (base + residence(views, r)) * 1e3) for r in rates)


def _linspace(start: float, stop: float, n: int) -> list[float]:
    """``numpy.linspace(start, stop, n)`` to the bit (i·step + start, the last point ``stop``),
    without importing numpy (~60 ms, more than the whole analysis of a small file)."""
    if n <= 1:
        return [start] * max(n, 0)
    delta = stop - start
    step = delta / (n - 1)
    if step == 0:
        points = [i / (n - 1) * delta + start for i in range(n)]
    else:
        points = [i * step + start for i in range(n)]
    points[-1] = stop
    return points


def _at(views: list[ResourceView], base: float, rate: float | None, limit: float) -> float | None:
    """Predicted response time at ``rate`` (s); None at or beyond saturation."""
    if rate is None or rate <= 0 or rate >= limit:
        return None
    try:
        return base + residence(views, rate)
    except UnstableSystem:
        return None


def _knee(curve: tuple[tuple[float, float], ...]) -> float | None:
    """The first rate where predicted latency is twice its low-load value."""
    if not curve:
        return None
    floor = curve[0][1]
    return next((x for x, y in curve if y >= 2 * floor), None)


def _assume_model(ledger: Ledger) -> None:
    ledger.assume(
        "queueing model for latency",
        "M/M/c per resource",
        "Poisson arrivals and exponential service times: a standard first model; bursty "
        "traffic queues more, regular traffic less. Validate with a load sweep (tpx sweep).",
    )
