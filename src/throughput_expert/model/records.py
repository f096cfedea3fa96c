"""Measured records: what a source hands to the advisors.

Everything here is in SI units: seconds, requests per second, and fractions (0..1) for
utilization. Percentages and milliseconds exist only in the Report's JSON form and in renderers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Literal, get_args

__all__ = [
    "RESOURCES",
    "BottleneckType",
    "InputRef",
    "Latency",
    "Level",
    "Resource",
    "Saturation",
    "ServiceMetrics",
]

Resource = Literal["cpu", "memory", "disk_io", "network"]
BottleneckType = Literal["cpu", "memory", "io_disk", "io_network", "contention", "downstream"]
Level = Literal["low", "medium", "high"]

RESOURCES: tuple[Resource, ...] = get_args(Resource)


@dataclass(frozen=True)
class InputRef:
    """Where a record came from: shown under the Report's ``inputs``."""

    source: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Latency:
    """Response time of the service, in seconds (None where unknown)."""

    mean_s: float | None = None
    p50_s: float | None = None
    p90_s: float | None = None
    p95_s: float | None = None
    p99_s: float | None = None
    p999_s: float | None = None
    max_s: float | None = None

    def known(self) -> dict[str, float]:
        """The known fields, keyed by name without the ``_s`` suffix."""
        out: dict[str, float] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name.removesuffix("_s")] = value
        return out


@dataclass(frozen=True)
class Saturation:
    """Signals that work is queueing for a resource (None where not measured).

    Fractions are of wall time (PSI, iowait, steal) in 0..1; rates are per second.
    """

    run_queue_per_core: float | None = None
    iowait: float | None = None
    cpu_steal: float | None = None
    disk_queue: float | None = None
    psi_cpu: float | None = None
    psi_memory: float | None = None
    psi_io: float | None = None
    swap_pages_per_s: float | None = None
    major_faults_per_s: float | None = None
    network_drops_per_s: float | None = None
    tcp_retransmits_per_s: float | None = None
    context_switches_per_s: float | None = None

    def known(self) -> dict[str, float]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


@dataclass(frozen=True)
class ServiceMetrics:
    """One service (or host) as measured over an interval.

    ``utilization`` maps a resource to its busy fraction (0..1). ``concurrency`` is the mean
    number of requests in flight; ``workers`` the number of parallel servers (threads,
    consumers) when known. ``memory_grows_with_rate`` is True only when the data shows it.
    """

    service: str | None = None
    throughput_rps: float | None = None
    latency: Latency = field(default_factory=Latency)
    concurrency: float | None = None
    workers: int | None = None
    instances: int | None = None
    """Hosts (or replicas) the service runs on today, when known; the rest is per instance."""
    max_instances: int | None = None
    """The most it may run on (a fixed host, a licence, a partition count)."""
    batch_size: int | None = None
    """Items per call to the sink today (1 when not said)."""
    cores: float | None = None
    utilization: Mapping[Resource, float] = field(default_factory=dict)
    saturation: Saturation = field(default_factory=Saturation)
    cpu_by_mode: Mapping[str, float] = field(default_factory=dict)
    errors_rps: float | None = None
    memory_grows_with_rate: bool | None = None
    interval_s: float | None = None
    target_rps: float | None = None
    system_type: str | None = None
    architecture: str | None = None
    inputs: tuple[InputRef, ...] = ()
    notes: tuple[str, ...] = ()

    def with_(self, **changes: object) -> ServiceMetrics:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
