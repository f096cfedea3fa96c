"""The analysis record of ``design-batching``: the cost model T(b) = c0 + c1·b, where it comes
from, and the smallest batch (with the batches in flight) that carries the target.

The design is sized for the writer's saturation target, not for 100 %: the batches in flight
must carry ``target / saturation_target`` (``sized_for_rps``), so the writer is at or under its
target at the target rate (``utilization_at_target_pct``).

When no batch size meets the target, ``batch_size`` is null and the keys that describe a design
(``flush_interval_ms``, ``expected_throughput_rps``, ``added_latency_ms``, ``gain_vs_current``)
are left out; ``what_else`` says what would be needed. When one item per call already carries the
target within the saturation target (``met_today``), ``batch_size`` is 1 (no change), the
expected throughput is today's and no fill or linger is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.model.record import item, measure

__all__ = [
    "AddedLatencyRecord",
    "BatchingAnalysis",
    "CostFitRecord",
    "CostModelRecord",
    "MethodRow",
]


@dataclass(frozen=True, kw_only=True)
class CostFitRecord:
    """The least-squares fit of T(b) = c0 + c1·b to measured batch latencies."""

    points: int = item(doc="batch latencies fitted")
    r_squared: float
    residual_std_error: float | None = measure("ms")
    residuals: tuple[float, ...] = measure(
        "ms", doc="measured minus fitted, per point (the first 1,000 of them)"
    )
    note: str | None = item(doc="a caveat about the fit")


@dataclass(frozen=True, kw_only=True)
class CostModelRecord:
    """The cost of one batch of b items, T(b) = c0 + c1·b, and where it comes from."""

    c0: float = measure("ms", doc="fixed cost per call (per batch)")
    c1: float = measure("ms", doc="cost per item")
    source: str = item(
        doc="a trial (with its method), measurements, flags, or the operation's default split"
    )
    fit: CostFitRecord | None = item(omit_none=True, doc="written when the model was fitted")


@dataclass(frozen=True, kw_only=True)
class MethodRow:
    """One insert method measured by a trial: its cost model and its design."""

    method: str
    c0: float = measure("ms", doc="fixed cost per call (per batch)")
    c1: float = measure("ms", doc="cost per item")
    batch_size: int | None = item(doc="null: no batch size meets the target")
    concurrency: int = item(doc="batches in flight")
    feasible: bool = item(doc="the target is met with the concurrency given")
    limit: float = measure("rps", doc="no batch passes k / c1 with the concurrency given")


@dataclass(frozen=True, kw_only=True)
class AddedLatencyRecord:
    """The latency batching adds to an item: the wait for its batch to fill, then T(b)."""

    p50: float = measure("ms", key="p50", doc="median")
    max: float = measure("ms", key="max", doc="the first item of a batch")


@dataclass(frozen=True, kw_only=True)
class BatchingAnalysis:
    """The batch size, linger and batches in flight that carry a target rate, from the cost
    model T(b) = c0 + c1·b."""

    operation: str
    method: str | None = item(doc="the insert method of the design (a trial), else null")
    target: float = measure("rps")
    concurrency: int = item(doc="batches in flight of the design")
    feasible: bool = item(
        doc="the target is met at the saturation target with the concurrency given"
    )
    why: str | None = item(doc="why the design differs from the request, or cannot meet it")
    limit: float = measure("rps", doc="no batch passes k / c1 with the concurrency given")
    current_throughput: float = measure("rps", doc="one item per call, today")
    saturation_target: float = measure(
        "pct", doc="the utilization the writer (the batches in flight) may run at"
    )
    sized_for: float = measure(
        "rps", doc="the capacity the design needs: target / saturation target"
    )
    met_today: bool = item(
        doc="one item per call carries the target within the saturation target: no change"
    )
    utilization_at_target: float | None = measure(
        "pct", doc="the writer's utilization at the target rate with the design (null: none)"
    )
    cost_model: CostModelRecord
    methods: tuple[MethodRow, ...] | None = item(
        doc="each method a trial measured (null: one cost model)"
    )
    batch_size: int | None = item(doc="null: no batch size meets the target")
    flush_interval: float | None = measure(
        "ms", omit_none=True, doc="linger: flush a partial batch after this long"
    )
    expected_throughput: float | None = measure("rps", omit_none=True)
    added_latency: AddedLatencyRecord | None = item(key="added_latency_ms", omit_none=True)
    gain_vs_current: float | None = item(
        omit_none=True, doc="expected throughput over today's, a factor"
    )
    what_else: tuple[str, ...] = item(doc="what else is needed when the target is not met")
