"""The analysis of ``optimize-concurrency``: the pools to deploy and the laws that sized them.

Times are seconds (``_ms`` in JSON), rates per second (``_rps``), utilizations fractions
(``_pct``). A pool's latency figures are those of an M/M/c queue: each request holds a thread
for S = wait + compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from throughput_expert.model.analysis.common import UslFitRecord
from throughput_expert.model.record import item, measure

__all__ = [
    "AsyncAdvice",
    "ConcurrencyAnalysis",
    "ErlangPool",
    "Expected",
    "Pool",
    "PoolLoad",
    "QueueBound",
    "Workload",
    "WorkloadType",
]

WorkloadType = Literal["cpu", "io", "mixed"]
PoolName = Literal["cpu", "io", "shared"]


@dataclass(frozen=True)
class Pool:
    """A pool to deploy: its size, today's size, and the law that sized it."""

    pool: PoolName = item(doc="the work it runs: cpu-bound, io-bound, or both (shared)")
    threads: int = item(doc="the recommended size")
    current_threads: int | None = item(doc="the size today; null when not given")
    kind: str = item(doc="threads, or processes for CPU-bound work under a GIL")
    formula: str = item(doc="the law that gave the size")
    evidence_ids: tuple[str, ...] = item(doc="the evidence behind the size")


@dataclass(frozen=True)
class PoolLoad:
    """A pool of some size: the rate it can carry and, with an arrival rate, its M/M/c queue."""

    threads: int | None = item(
        doc="the pool's size; null for today's pool when it is not given (nothing else is "
        "then known of it)"
    )
    max_throughput: float | None = measure(
        "rps",
        doc="the rate the pool can carry, by the model named in expected.basis; null when "
        "that model cannot tell",
    )
    stable: bool | None = item(
        omit_none=True,
        doc="the arrival rate is below the pool's capacity (max_throughput: its threads and the "
        "CPU) and its threads as an M/M/c queue (absent: no rate)",
    )
    mean_latency: float | None = measure("ms", omit_none=True, doc="M/M/c mean response time")
    p_wait: float | None = item(
        omit_none=True, doc="probability (0..1) that a request waits for a thread (Erlang C)"
    )
    pool_utilization: float | None = measure(
        "pct",
        omit_none=True,
        doc="offered load over threads (above 100: the threads alone cannot carry it)",
    )
    mva_throughput: float | None = measure(
        "rps",
        omit_none=True,
        doc="what the pool carries as a closed loop with every thread always holding a request "
        "(exact Mean Value Analysis: the CPU a queue of its cores, the wait a delay), queueing "
        "for the CPU included; at most max_throughput (absent: no model of the pool's times)",
    )
    mva_response: float | None = measure(
        "ms",
        omit_none=True,
        doc="the time a request holds a thread in that closed loop, wait + CPU queueing + "
        "compute (Little's law: threads / mva_throughput)",
    )


@dataclass(frozen=True)
class Expected:
    """The pool today and the recommended one, side by side, projected by one model."""

    current: PoolLoad
    recommended: PoolLoad
    basis: Literal["little", "usl", "measured"] = item(
        doc="how max_throughput is projected: little = min(threads / (wait + compute), the "
        "CPU ceiling); usl = the sweep's USL fit X(N); measured = the sweep's throughput at "
        "that level (null when that level was not measured)"
    )


@dataclass(frozen=True)
class Workload:
    """The workload described by the inputs."""

    type: WorkloadType
    cores: int
    cores_source: str = item(doc="where the core count came from")
    wait: float | None = measure("ms", doc="time a request waits on I/O (W)")
    compute: float | None = measure("ms", doc="CPU time per request (C)")
    wait_over_compute: float | None = item(doc="W / C")
    runtime: str | None = item(doc="python, jvm, go, node or native, when given")
    gil: bool = item(doc="CPU-bound code is serialized by a GIL (Python)")


@dataclass(frozen=True)
class ErlangPool:
    """The smallest pool meeting the latency SLO at the arrival rate (M/M/c, Erlang C), or why
    none does (``feasible: false`` with ``why``)."""

    threads: int | None
    feasible: bool
    why: str | None = item(omit_none=True, doc="why no pool size meets the SLO")
    slo: str | None = item(omit_none=True, doc="the SLO, e.g. p99 ≤ 200 ms")
    arrival: float | None = measure("rps", omit_none=True)
    service_time: float | None = measure("ms", omit_none=True, doc="wait + compute")
    p_wait: float | None = item(
        omit_none=True, doc="probability (0..1) that a request waits for a thread"
    )
    mean_wait: float | None = measure("ms", omit_none=True)
    mean_response: float | None = measure("ms", omit_none=True)
    pool_utilization: float | None = measure("pct", omit_none=True)
    percentile_response: float | None = measure(
        "ms", omit_none=True, doc="response time at the SLO's percentile (absent for a mean SLO)"
    )


@dataclass(frozen=True)
class QueueBound:
    """The longest waiting queue that can still meet the SLO (Little's law), and what to do
    when it is full."""

    capacity: int
    policy: str
    evidence_ids: tuple[str, ...]


@dataclass(frozen=True)
class AsyncAdvice:
    """Serve the waits asynchronously, and why."""

    recommended: bool
    why: tuple[str, ...]


@dataclass(frozen=True)
class ConcurrencyAnalysis:
    """Pool sizes for a workload: the seed's formulas, Little's law, Erlang C for a latency SLO,
    a bounded queue, and the USL fit of a concurrency sweep."""

    pools: tuple[Pool, ...]
    expected: Expected
    workload: Workload
    cpu_ceiling: float | None = measure(
        "rps",
        doc="the CPU ceiling of the recommended pools: cores / compute time (1 / compute time "
        "when CPU work stays in the threads of one process under a GIL)",
    )
    saturation_target: float = measure(
        "pct",
        doc="the utilization pools and the CPU are sized to stay under (saturation_targets.cpu)",
    )
    target: float | None = measure("rps", doc="the rate to reach")
    threads_for_target: int | None = item(doc="requests in flight the target needs (Little)")
    target_reachable: bool | None = item(
        doc="the target (or the arrival rate, if higher) is at most the CPU ceiling at the "
        "saturation target"
    )
    erlang: ErlangPool | None = item(doc="present with a latency SLO and a rate")
    queue: QueueBound | None = item(doc="present with a latency SLO and a rate")
    async_: AsyncAdvice | None = item(key="async", doc="present when async I/O is advised")
    usl: UslFitRecord | None = item(doc="present with a sweep")
