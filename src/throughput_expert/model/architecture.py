"""An architecture: the components of a system, how much of the entry traffic reaches each, what
each measured, and how each scales out. Read from YAML by ``sources/architecture.py``.

Rates are per second; utilization fractions 0..1 per instance, measured at today's entry rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from throughput_expert.model.records import InputRef, Resource

__all__ = ["KINDS", "Architecture", "Component", "ComponentKind", "Edge"]

ComponentKind = Literal["service", "worker", "queue", "database", "cache", "external"]
KINDS: tuple[ComponentKind, ...] = ("service", "worker", "queue", "database", "cache", "external")


@dataclass(frozen=True)
class Edge:
    """``caller`` makes ``calls`` calls to ``callee`` for each call it serves."""

    caller: str
    callee: str
    calls: float


@dataclass(frozen=True)
class Component:
    name: str
    kind: ComponentKind
    instances: int = 1
    max_instances: int | None = None
    cores: float | None = None
    memory_bytes: float | None = None
    fanout: float | None = None
    read_share: float | None = None
    utilization: Mapping[Resource, float] = field(default_factory=dict)
    memory_grows_with_rate: bool = False
    capacity_per_instance_rps: float | None = None
    service_time_s: float | None = None
    concurrency_per_instance: int = 1
    concurrency_given: bool = False
    """Whether the architecture says its ``concurrency`` (else 1 is assumed for a service time,
    and nothing is known of its workers)."""
    stateless: bool | None = None
    partitionable: bool = False
    partition_key: str | None = None
    partitions: int | None = None
    consumes: str | None = None
    sigma: float | None = None
    kappa: float | None = None
    sweep: str | None = None
    unit_cost: float | None = None
    acceptable_delay_s: float | None = None
    prometheus: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Architecture:
    system: str
    entry_rate_rps: float
    components: tuple[Component, ...]
    edges: tuple[Edge, ...] = ()
    cost_unit: str = "per hour"
    source: InputRef | None = None

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def store_written(self) -> tuple[Component, Component] | None:
        """The store a component writes to (calls), with the last component that calls it: the
        last database called, else the last cache (a queue a component consumes is its source,
        not its sink); None when no component calls a store."""
        for kind in ("database", "cache"):
            found = [
                (c, e.caller)
                for c in self.components
                if c.kind == kind
                for e in self.edges
                if e.callee == c.name
            ]
            if found:
                store, name = found[-1]
                caller = self.component(name)
                if caller is not None:
                    return store, caller
        return None
