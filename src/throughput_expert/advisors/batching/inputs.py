"""What ``design-batching`` is given: the target, the latencies known, or measurements and
trials to fit the cost model T(b) = c0 + c1·b to. Times in seconds, rates per second."""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.model.trials import BatchTrials, CallCost

__all__ = ["BatchingInputs"]


@dataclass(frozen=True)
class BatchingInputs:
    operation: str
    target_rps: float
    current_latency_s: float | None = None
    fixed_overhead_s: float | None = None
    per_item_s: float | None = None
    max_latency_s: float | None = None
    arrival_rps: float | None = None
    concurrency: int = 1
    measurements: tuple[tuple[float, float], ...] | None = None
    measurements_source: str | None = None
    trials: BatchTrials | None = None
    calls: tuple[CallCost, ...] | None = None
    """The measurements as read, with their ``disk_ms`` / ``cpu_ms`` columns where given."""
