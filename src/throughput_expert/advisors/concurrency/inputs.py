"""What ``optimize-concurrency`` is given (``ConcurrencyInputs``, ``LatencySlo``) and what its
advisor works out for the recommendation writer (``Plan``); the arrival rate and service time
the queueing steps use."""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.advisors.usl_report import SweepChoice
from throughput_expert.errors import Parameter
from throughput_expert.model.analysis.common import UslFitRecord
from throughput_expert.model.analysis.concurrency import (
    AsyncAdvice,
    ErlangPool,
    Expected,
    Pool,
    QueueBound,
    WorkloadType,
)
from throughput_expert.model.sweep import Sweep
from throughput_expert.model.units import fmt_duration

__all__ = [
    "ConcurrencyInputs",
    "LatencySlo",
    "Plan",
    "WorkloadType",
    "arrival_rate",
    "service_time",
]


@dataclass(frozen=True)
class LatencySlo:
    """A response-time objective: the mean (``quantile`` None) or a percentile."""

    seconds: float
    quantile: float | None = None

    def describe(self) -> str:
        which = "mean" if self.quantile is None else f"p{self.quantile * 100:g}"
        return f"{which} ≤ {fmt_duration(self.seconds)}"


@dataclass(frozen=True)
class ConcurrencyInputs:
    """The workload (times in seconds, rates per second) and, optionally, a sweep to fit."""

    workload_type: WorkloadType
    current_threads: int | None
    """the pool today; None when not given (no gain against today is then priced)"""
    cores: int
    cores_source: str = Parameter("cpu_cores")
    wait_s: float | None = None
    compute_s: float | None = None
    target_rps: float | None = None
    arrival_rps: float | None = None
    slo: LatencySlo | None = None
    runtime: str | None = None
    sweep: Sweep | None = None


@dataclass(frozen=True)
class Plan:
    """What the advisor worked out, handed to the recommendation writer."""

    inputs: ConcurrencyInputs
    pools: tuple[Pool, ...]
    cpu_ceiling_rps: float | None
    needed_for_target: int | None
    io_threads: int | None
    gil: bool
    expected: Expected
    erlang: ErlangPool | None
    queue: QueueBound | None
    async_advice: AsyncAdvice | None
    usl: UslFitRecord | None
    choice: SweepChoice | None
    """the level the sweep recommends (the decision ``sweep`` makes too); sizes the pool when
    its ``level`` is set and the sweep's levels are concurrency"""
    saturation_target: float
    """the utilization pools and the CPU are sized to stay under (``saturation_targets.cpu``)"""
    cpu_servers: int
    """cores the CPU work of the recommended pools can use (1: threads of one process, GIL)"""

    @property
    def sized_by_sweep(self) -> bool:
        s = self.inputs.sweep
        return (
            self.choice is not None
            and self.choice.level is not None
            and s is not None
            and s.level_kind == "concurrency"
        )


def arrival_rate(i: ConcurrencyInputs) -> float | None:
    """The rate requests arrive at: the arrival rate, else the target."""
    return i.arrival_rps if i.arrival_rps is not None else i.target_rps


def asked_rate(i: ConcurrencyInputs) -> float | None:
    """The most the pools are asked to carry: the target, or the arrival rate if higher."""
    rates = [r for r in (i.target_rps, i.arrival_rps) if r is not None]
    return max(rates) if rates else None


def service_time(i: ConcurrencyInputs) -> float | None:
    """S = W + C, the time a request holds a thread (None when neither is known)."""
    if i.wait_s is None and i.compute_s is None:
        return None
    return (i.wait_s or 0.0) + (i.compute_s or 0.0)
