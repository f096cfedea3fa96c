"""One component of an architecture as a system model, in its own calls per second.

The same model and solver (``project``, ``apply``) that analyze plans on, built from what the
architecture YAML says of a component, in the order ``scaling-plan`` reads it:

- measured ``utilization`` (per instance, at today's calls X = entry rate × fan-out): a station
  per rate-bound resource, its demand per call by the service-demand law D = U·m·n / X (m its
  servers: the cores for the CPU when given, rounded, else one server of the measured capacity,
  which leaves every ceiling at a target unchanged since D and m scale together; n today's
  instances, which all serve X), its target the resource's saturation target; memory only when
  it grows with the rate;
- else a given ``capacity_per_instance``: one station of demand 1 / capacity at a target of
  100 % (the capacity is already at the component's targets);
- else ``service_time`` × ``concurrency``: a station of ``concurrency`` servers per instance and
  demand ``service_time`` at the CPU's target (the utilization law X = c·U / S).

Scope: ``per_instance`` when adding instances adds capacity (``scales_out``), else ``shared``
with today's instances' servers (a stateful, unpartitioned service, a store one node writes to,
an external dependency: scaling out never multiplies it). The USL over instances (σ, κ, given or
fitted) is ``SystemModel.scaling``, read at today's instances.
"""

from __future__ import annotations

from throughput_expert.errors import InputError
from throughput_expert.laws.utilization import service_demand
from throughput_expert.model import Resource
from throughput_expert.model.architecture import Component
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import (
    InstanceScaling,
    Scope,
    StationKind,
    SystemModel,
    SystemStation,
)

__all__ = ["GIVEN", "SERVICE_TIME", "component_model", "scales_out"]

GIVEN = "given capacity"  # the station of a component whose capacity per instance is given
SERVICE_TIME = "service time"  # the station of a component given service time × concurrency

_KIND: dict[Resource, StationKind] = {
    "cpu": "cpu",
    "memory": "memory",
    "disk_io": "disk_io",
    "network": "network",
}


def scales_out(c: Component) -> bool:
    """Whether adding instances adds capacity: not for a stateful service that is not
    partitioned, a store that is neither sharded nor read mostly (one node takes the writes), or
    an external dependency (its quota is someone else's)."""
    if c.kind in ("database", "cache"):
        return c.partitionable or (c.read_share or 0) >= 0.5
    if c.kind == "external":
        return False
    return not (c.stateless is False and not c.partitionable)


def component_model(
    c: Component,
    fanout: float,
    entry_rate: float,
    settings: Settings,
    usl: tuple[float, float] | None = None,
) -> SystemModel | None:
    """``c`` as a model of its calls per second (``entry_rate`` × ``fanout`` today), with the
    USL over instances ``usl`` = (σ, κ) when known; None when the architecture gives nothing to
    size it by (a queue, or no utilization, capacity or service time)."""
    if c.kind == "queue":
        return None
    rate = entry_rate * fanout
    scope: Scope = "per_instance" if scales_out(c) else "shared"
    # a shared station is today's instances' servers, all of them: scaling out adds none
    every = 1 if scope == "per_instance" else c.instances
    stations: list[SystemStation] = []
    if c.utilization and rate > 0:
        for resource, u in c.utilization.items():
            if resource == "memory" and not c.memory_grows_with_rate:
                continue
            if u <= 0:
                continue
            m = max(1, round(c.cores)) if resource == "cpu" and c.cores else 1
            # one instance's utilization, and all of today's instances serve the rate
            d = service_demand(u, rate, m * c.instances)
            stations.append(
                SystemStation(
                    name=resource,
                    kind=_KIND[resource],
                    demand=d,
                    servers=m * every,
                    target=settings.target(resource),
                    scope=scope,
                    source=f"service-demand law: D = U·m·n / X = {u:.3g}·{m}·{c.instances} / "
                    f"{rate:.6g}",
                )
            )
        if not stations:
            raise InputError(
                "no rate-bound resource has a utilization above 0",
                source=c.name,
                field="utilization",
            )
    elif c.capacity_per_instance_rps is not None:
        stations.append(
            SystemStation(
                name=GIVEN,
                kind="capacity",
                demand=1 / c.capacity_per_instance_rps,
                servers=every,
                target=1.0,
                scope=scope,
                source="given: capacity_per_instance (at the component's targets)",
            )
        )
    elif c.service_time_s is not None:
        stations.append(
            SystemStation(
                name=SERVICE_TIME,
                kind="pool",
                demand=c.service_time_s,
                servers=c.concurrency_per_instance * every,
                target=settings.target("cpu"),
                scope=scope,
                source=f"given: service_time {c.service_time_s:.6g} s × concurrency "
                f"{c.concurrency_per_instance}",
            )
        )
    else:
        return None
    scaling = InstanceScaling(usl[0], usl[1], c.instances) if usl is not None else None
    return SystemModel(
        name=c.name,
        stations=tuple(stations),
        rate=rate,
        instances=c.instances,
        max_instances=c.max_instances,
        scaling=scaling,
    )
