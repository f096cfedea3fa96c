"""The analysis record of ``sweep``: the levels measured, and what they say — the USL fit and
the measured peak in closed loop, the highest rate sustained in open loop.

``usl`` is written in closed loop only. ``measured_peak`` (closed loop), ``highest_sustained_rps``
and ``slo_ms`` (open loop) are always written, null where they do not apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.model.analysis.common import UslFitRecord
from throughput_expert.model.record import item, measure
from throughput_expert.model.sweep import LevelKind, SweepMode

__all__ = ["LevelLatency", "LevelRecord", "MeasuredPeak", "SweepAnalysis", "SweepNoise"]


@dataclass(frozen=True, kw_only=True)
class LevelLatency:
    """The response times measured at one level; a statistic the load test did not give is
    left out."""

    mean: float | None = measure("ms", key="mean", omit_none=True)
    p50: float | None = measure("ms", key="p50", omit_none=True)
    p90: float | None = measure("ms", key="p90", omit_none=True)
    p95: float | None = measure("ms", key="p95", omit_none=True)
    p99: float | None = measure("ms", key="p99", omit_none=True)
    p999: float | None = measure("ms", key="p999", omit_none=True)
    max: float | None = measure("ms", key="max", omit_none=True)


@dataclass(frozen=True, kw_only=True)
class LevelRecord:
    """One load level: its throughput, latency and counts."""

    level: float = item(doc="work in flight (concurrency or instances) driven at this level")
    throughput: float = measure("rps", doc="achieved")
    latency: LevelLatency = item(key="latency_ms")
    errors: int | None
    requests: int | None
    duration: float | None = measure("s")
    offered: float | None = measure(
        "rps", omit_none=True, doc="open loop: the rate offered (written when known)"
    )
    sustained: bool | None = item(
        omit_none=True,
        doc="open loop: achieved at least 99 % of the offered rate (and the p99 within the SLO)",
    )
    readings: int | None = item(
        omit_none=True, doc="closed loop: how many times this level was measured (repeats)"
    )
    mean: float | None = measure(
        "rps", omit_none=True, doc="closed loop: the mean throughput over this level's readings"
    )
    ci_low: float | None = measure(
        "rps",
        omit_none=True,
        doc="closed loop: the lower bound of the mean's 95 % confidence interval (written when "
        "the noise is known: a level read twice, or sub-windows)",
    )
    ci_high: float | None = measure(
        "rps", omit_none=True, doc="closed loop: the upper bound of the mean's 95 % interval"
    )


@dataclass(frozen=True, kw_only=True)
class SweepNoise:
    """The measurement noise of a closed-loop sweep and the level it recommends by it: the
    smallest whose mean throughput is not significantly below the best level's."""

    relative_sd: float | None = measure(
        "pct",
        doc="the pooled relative noise of one reading (standard deviation over mean); null when "
        "no level was read twice and no sub-window was given",
    )
    df: int = item(doc="the degrees of freedom of the pooled noise")
    confidence: float = measure("pct", doc="of each level's interval")
    test: str = item(doc="the test that decides 'significantly below the best'")
    best: float = item(doc="the level with the highest mean throughput")
    smallest_not_below: float | None = item(
        doc="the smallest level not significantly below the best; null when the noise is unknown"
    )
    evidence: str | None = item(doc="the evidence id (null when the noise is unknown)")


@dataclass(frozen=True, kw_only=True)
class MeasuredPeak:
    """The best level when both of its neighbours measured less: a peak bracketed by
    measurements, whatever a fit says."""

    level: float
    throughput: float = measure("rps")
    between: tuple[float, float] = item(
        doc="the levels measured below and above it (below: 1 when the peak is at 1)"
    )
    evidence: str = item(doc="the evidence id")


@dataclass(frozen=True, kw_only=True)
class SweepAnalysis:
    """What a load sweep says: the USL fit of closed-loop levels, or in open loop the highest
    rate sustained."""

    mode: SweepMode = item(doc="closed: levels of work in flight; open: offered rates")
    level_kind: LevelKind
    driver: str | None = item(doc="the load generator or tpx driver")
    target: str | None = item(doc="what was driven (secrets masked)")
    levels: tuple[LevelRecord, ...] = item(doc="in level order")
    notes: tuple[str, ...]
    usl: UslFitRecord | None = item(omit_none=True, doc="closed loop only")
    measured_peak: MeasuredPeak | None = item(
        default=None, doc="closed loop: null when throughput still rose at the top"
    )
    noise: SweepNoise | None = item(
        default=None, omit_none=True, doc="closed loop: the noise and the level it recommends"
    )
    highest_sustained: float | None = measure(
        "rps", default=None, doc="open loop: null when no rate was sustained (or closed loop)"
    )
    slo: float | None = measure(
        "ms", default=None, doc="open loop: the p99 a sustained rate had to meet"
    )
