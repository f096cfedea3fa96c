"""One picture of the system advised: its stations, their demands and limits, and the changes a
recommendation may make to it.

A **station** is a resource requests queue for: a CPU, a disk, a network link, a worker pool, a
downstream service, a database, a lock. It has a **service demand** (seconds of its service one
request needs, all visits together: D = U / X by the service-demand law), a number of servers, a
**saturation target** (the utilization it may run at), and a **scope**: ``per_instance`` stations
come with every instance (each consumer's own CPU), ``shared`` ones are one for all instances (the
sink database's disk, a lock, a partition), so scaling out never multiplies them.

A **change** is what a recommendation does to the model: more instances, more servers at a
station, a batch size (the cost model c0 + c1·b gives the demand per item), a faster station (a
share of its demand sped up, Amdahl), more workers. Its gain is the solver's answer on the changed
model against today's (``advisors/system/``). Values are SI: seconds, per second, fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

__all__ = [
    "Change",
    "ChangeKind",
    "Contention",
    "InstanceScaling",
    "Scope",
    "Sink",
    "StationKind",
    "SystemModel",
    "SystemStation",
]

Scope = Literal["per_instance", "shared"]
StationKind = Literal[
    "cpu",
    "memory",
    "disk_io",
    "network",
    "pool",
    "downstream",
    "database",
    "lock",
    "contention",
    "capacity",
]
"""``capacity``: a rate the user gives for one instance at its targets (no resource measured)."""
ChangeKind = Literal["instances", "servers", "batch", "speedup", "workers"]


@dataclass(frozen=True)
class Sink:
    """What the service writes to, as its architecture names it ("PostgreSQL sink")."""

    name: str
    kind: str
    """database, queue or cache"""


@dataclass(frozen=True)
class SystemStation:
    """A resource with its demand per request (seconds), servers, saturation target and scope."""

    name: str
    kind: StationKind
    demand: float
    servers: int | None
    target: float
    scope: Scope = "per_instance"
    per_call: float = 0.0
    """The share of its demand paid once per call, not per item (a commit's fsync): a batch of b
    items cuts the demand per item to D·((1 − per_call) + per_call / b)."""
    source: str = ""
    """How its demand was found (the law and the inputs), for the evidence."""


@dataclass(frozen=True)
class Contention:
    """A sweep of one instance, fitted by the Universal Scalability Law: the throughput one
    instance carries with N requests in flight (its workers), X(N) = λN / (1 + σ(N−1) +
    κN(N−1)), with every worker busy (the curve is measured at saturation). ``level`` is the
    most workers the sweep supports: the level it recommends (``usl_report.choose_level``),
    never past the peak; None when it recommends none (no cap but the curve's own)."""

    lambda_rps: float
    sigma: float
    kappa: float
    level: int | None = None

    def throughput(self, n: float) -> float:
        """X(N), per second, one instance."""
        return self.lambda_rps * n / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1))


@dataclass(frozen=True)
class InstanceScaling:
    """How instances add capacity, by the Universal Scalability Law over instances: n instances
    carry n / (1 + σ(n−1) + κn(n−1)) times what one does (``relative``), measured at
    ``measured_at`` instances (today's: the stations' demands are read there). Linear when σ =
    κ = 0."""

    sigma: float
    kappa: float
    measured_at: int

    def relative(self, n: float) -> float:
        """Capacity of n instances relative to one: n / (1 + σ(n−1) + κn(n−1))."""
        return 1.0 * n / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1))

    def demand_factor(self, n: float) -> float:
        """What a per-instance station's demand per request becomes at n instances, relative to
        its demand measured at ``measured_at``: (n / n₀) · rel(n₀) / rel(n), so that the
        stations of n instances carry rel(n) / rel(n₀) times today's."""
        return (n / self.measured_at) * (self.relative(self.measured_at) / self.relative(n))


@dataclass(frozen=True)
class SystemModel:
    """The system today: stations, instances, and the requests each instance keeps in flight."""

    name: str
    stations: tuple[SystemStation, ...]
    rate: float | None
    """Today's throughput (per second), when measured."""
    instances: int = 1
    max_instances: int | None = None
    workers: int | None = None
    """Requests in flight per instance (a consumer's threads, a pool); None: open arrivals."""
    worker_target: float = 1.0
    """The share of the time a worker may be busy at the target rate (its saturation target)."""
    item_time: float | None = None
    """Seconds a worker holds per item (Little's law: workers / throughput), when known."""
    item_per_call: float = 0.0
    """The share of ``item_time`` paid once per call (batching cuts it like a station's)."""
    batch: int = 1
    """Items per call today."""
    contention: Contention | None = None
    """The workers' limit per instance from a sweep's USL fit (replaces Little's linear N / R):
    X ≤ worker_target · X(N) · instances."""
    think_time: float = 0.0
    """Seconds a worker spends per request outside every station (a client's think time, a wait
    on something not modelled): with ``workers`` the system is a closed loop of N requests,
    solved by Mean Value Analysis (``advisors/system/project.closed``)."""
    scaling: InstanceScaling | None = None
    """The USL over instances (an architecture's ``scaling: {sigma, kappa}`` or an instances
    sweep): the ``per_instance`` stations of n instances carry rel(n) / rel(n₀) times today's
    (``InstanceScaling``, used by ``project``); None: linear, each instance adds what one
    carries."""

    def station(self, name: str) -> SystemStation | None:
        return next((s for s in self.stations if s.name == name), None)

    def with_station(self, new: SystemStation) -> SystemModel:
        return replace(
            self, stations=tuple(new if s.name == new.name else s for s in self.stations)
        )


@dataclass(frozen=True)
class Change:
    """One change to the model: ``kind`` at ``station`` (None: the whole system) to ``value``
    (instances, servers, workers, a batch size; for ``speedup`` the factor on ``share`` of the
    station's demand)."""

    kind: ChangeKind
    value: float
    station: str | None = None
    share: float = 1.0
    what: str = ""
    """The recommendation's words ("batch 20 items per commit")."""
