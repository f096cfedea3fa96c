"""The analysis of ``analyze``: today's throughput, the bottleneck, the headroom of each resource,
latency as load grows, and the rating against the seed's benchmarks.

Times are seconds (``_ms`` in JSON), rates per second (``_rps``), utilizations fractions
(``_pct``). Resources are keyed by name: ``cpu``, ``memory``, ``disk_io``, ``network``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from throughput_expert.model.analysis.common import Finding
from throughput_expert.model.record import item, measure
from throughput_expert.model.records import BottleneckType, Resource

__all__ = [
    "AnalyzeAnalysis",
    "AtTargetRate",
    "BottleneckVerdict",
    "CurrentThroughput",
    "Grade",
    "HeadroomTable",
    "LatencyGrowth",
    "Rating",
    "ResourceHeadroom",
    "SaturationSignal",
    "WorkerBound",
]

Grade = Literal["below good", "good", "excellent"]


@dataclass(frozen=True, kw_only=True)
class CurrentThroughput:
    """Today's rate and what is known about it: time per item, concurrency, utilization."""

    rate: float | None = measure("rps", key="rps", doc="today's throughput")
    avg_processing_time: float | None = measure(
        "ms", doc="mean time per item: measured, or by Little's law"
    )
    processing_time_source: str | None = item(
        doc="measured, little's law from measured concurrency, or little's law from workers"
    )
    concurrency: float | None = item(doc="requests in flight on average (L = X·R)")
    workers: int | None
    cores: float | None
    utilization: Mapping[str, float] = measure("pct", doc="busy share of each resource")
    latency: Mapping[str, float] = measure("ms", doc="measured latency by statistic (mean, p99…)")
    errors: float | None = measure("rps")


@dataclass(frozen=True, kw_only=True)
class SaturationSignal:
    """A saturation signal above its threshold (run queue, swap, drops…)."""

    signal: str = item(doc="the signal's name in the metrics' saturation block")
    value: float
    threshold: float
    resource: Resource = item(doc="the resource it points at")


@dataclass(frozen=True, kw_only=True)
class BottleneckVerdict:
    """The bottleneck: the resource that saturates first, or what requests wait on."""

    type: BottleneckType | None = item(doc="null: no verdict")
    resource: Resource | None = item(doc="null for contention and downstream waits")
    component: str
    saturated: bool
    reason: str
    signals: tuple[SaturationSignal, ...]
    evidence_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class AtTargetRate:
    """A resource at the target rate, its demand per request unchanged."""

    utilization: float = measure("pct", doc="may exceed 100: the demand must fall")
    demand_reduction_factor: float = item(
        doc="how many times less demand per request keeps it at its saturation target (>= 1)"
    )
    meets_target: bool


@dataclass(frozen=True, kw_only=True)
class ResourceHeadroom:
    """One resource: its utilization, saturation target, demand and the rate at its target."""

    utilization: float = measure("pct")
    target: float = measure("pct", doc="the saturation target")
    max_rate_at_target: float | None = measure(
        "rps", key="max_rps_at_target", doc="X·target/U; null if it does not scale with rate"
    )
    headroom: float | None = measure("pct", doc="growth in rate before the target (t/U − 1)")
    over_target: bool
    scales_with_rate: bool
    service_demand: float | None = measure("ms", doc="busy time per request, D = U·c / X")
    servers: int = item(doc="parallel servers: cores for the CPU, 1 otherwise")
    evidence_ids: tuple[str, ...]
    at_target: AtTargetRate | None = item(
        omit_none=True, doc="absent without a target rate or for a resource that does not scale"
    )


@dataclass(frozen=True, kw_only=True)
class WorkerBound:
    """The workers' bound on throughput by Little's law."""

    workers: int
    time_per_item: float = measure("ms")
    busy_target: float = measure("pct", doc="the share of the time the workers may be busy")
    max_rate: float = measure("rps", key="max_rps")
    law: str


@dataclass(frozen=True, kw_only=True)
class HeadroomTable:
    """Per-resource headroom, the ceiling (the lowest rate at a target) and the worker bound."""

    resources: Mapping[str, ResourceHeadroom]
    ceiling: float | None = measure("rps")
    binding_resource: Resource | None = item(doc="the resource that reaches its target first")
    workers: WorkerBound | None = item(doc="null unless workers and the time per item are known")


@dataclass(frozen=True, kw_only=True)
class LatencyGrowth:
    """Predicted response time as load grows (an open queueing network over the resources),
    or why there is none (``available: false`` with ``why``, and null figures)."""

    available: bool
    why: str | None = item(omit_none=True)
    model: str | None = None
    includes_unexplained: bool | None = item(
        key="includes_unexplained_ms",
        default=None,
        doc="a flag despite its suffix: true when the response times include the measured "
        "time spent outside every resource, false when they are time at the resources only",
    )
    current: float | None = measure("ms", default=None, doc="response time now")
    unexplained: float | None = measure(
        "ms", default=None, doc="measured time not spent at any measured resource"
    )
    unexplained_share: float | None = measure("pct", default=None)
    saturation: float | None = measure("rps", default=None, doc="where response time diverges")
    knee: float | None = measure(
        "rps", default=None, doc="the rate where latency doubles its low-load value"
    )
    at_ceiling: float | None = measure(
        "ms", default=None, doc="at the ceiling; null at or beyond saturation"
    )
    at_target: float | None = measure(
        "ms", default=None, doc="at the target; null without a target or beyond saturation"
    )
    evidence_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Rating:
    """The throughput rated against the seed's benchmarks for its system type, or why not
    (``available: false`` with ``why``, and null figures)."""

    system_type: str
    available: bool
    why: str | None = item(omit_none=True)
    unit: str | None = item(default=None, doc="the benchmark's unit (per core for some)")
    good: float | None = item(default=None, doc="in unit")
    excellent: float | None = item(default=None, doc="in unit")
    measured: float | None = item(default=None, doc="today's throughput, in unit")
    rating: Grade | None = None
    ceiling: float | None = item(default=None, doc="the ceiling, in unit")
    ceiling_rating: Grade | None = None
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class AnalyzeAnalysis:
    """What ``analyze`` found in the metrics: throughput, bottleneck, headroom, latency."""

    current_throughput: CurrentThroughput
    bottleneck: BottleneckVerdict
    headroom: HeadroomTable
    latency: LatencyGrowth
    target: float | None = measure("rps", doc="the rate to reach")
    rating: Rating | None = item(doc="null without a system type with a benchmark")
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = item(doc="notes carried by the metrics")
