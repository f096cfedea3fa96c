"""The analysis record of ``scaling-plan``: each component from today's rate to the target, the
order in which they saturate, and the totals.

A key that may be null when the component has it is always written (null when it has not); a
key that is never null is left out when the component has none (``strategy``, the read/write
split of a store, the partitions of a queue with consumers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from throughput_expert.model.analysis.common import Finding
from throughput_expert.model.architecture import ComponentKind
from throughput_expert.model.record import item, measure

__all__ = [
    "AutoscalingPolicy",
    "ComponentRecord",
    "SaturationStep",
    "ScalingAnalysis",
    "ScalingTotals",
    "UslCoefficients",
]


@dataclass(frozen=True, kw_only=True)
class UslCoefficients:
    """The USL coefficients of a component's scale-out: given, or fitted to its sweep."""

    sigma: float = item(doc="contention (σ)")
    kappa: float = item(doc="coherency (κ)")


@dataclass(frozen=True, kw_only=True)
class AutoscalingPolicy:
    """An autoscaling policy: an HPA on utilization or rate per instance, or KEDA on queue lag.
    Exactly one of ``target_pct``, ``target_rps`` and ``target`` is written."""

    style: Literal["HPA", "KEDA"]
    metric: str = item(doc="what the autoscaler watches")
    target_utilization: float | None = measure(
        "pct", key="target_pct", omit_none=True, doc="HPA on a utilization: its target"
    )
    target_rate: float | None = measure(
        "rps", key="target_rps", omit_none=True, doc="HPA on the rate: per instance"
    )
    target_lag: int | None = item(
        key="target", omit_none=True, doc="KEDA: messages of lag per replica"
    )
    min_replicas: int
    max_replicas: int | None = item(doc="null: no count carries the target and no maximum")
    formula: str


@dataclass(frozen=True, kw_only=True)
class ComponentRecord:
    """One component: its demand now and at the target, its capacity, the instances it needs
    and how it scales (or why it cannot be planned)."""

    name: str
    kind: ComponentKind
    fanout: float = item(doc="calls per entry request")
    demand_now: float = measure("rps")
    demand_at_target: float = measure("rps")
    instances_now: int
    capacity_per_instance: float | None = measure(
        "rps", doc="the rate one instance sustains at its saturation targets"
    )
    binding: str | None = item(doc="what limits one instance: a resource, or the source")
    capacity_source: str | None
    usl: UslCoefficients | None
    instances_needed: int | None = item(
        default=None, doc="null: not planned, or no count carries the target"
    )
    feasible: bool | None = item(omit_none=True, doc="written when the component is planned")
    why: str | None = item(default=None, doc="why it is infeasible or cannot be planned")
    capacity_at_plan: float | None = measure(
        "rps", default=None, doc="the capacity of instances_needed instances"
    )
    peak_instances: float | None = item(default=None, doc="the USL's peak N* = √((1 − σ)/κ)")
    strategy: str | None = item(omit_none=True)
    batch: int | None = item(
        default=None,
        omit_none=True,
        doc="a store: the writes per commit its callers' writes are batched into by the plan",
    )
    autoscaling: AutoscalingPolicy | None = None
    reads_at_target: float | None = measure("rps", omit_none=True)
    writes_at_target: float | None = measure("rps", omit_none=True)
    write_primaries_needed: int | None = item(omit_none=True)
    read_replicas_needed: int | None = item(omit_none=True)
    cost_now: float | None = item(omit_none=True, doc="in the architecture's cost unit")
    cost_at_target: float | None = item(
        default=None, doc="null: no unit cost, or no instance count"
    )
    consumers_needed: int | None = item(omit_none=True, doc="a queue: its consumers at target")
    partitions: int | None = item(
        default=None, doc="a queue consumed: its partitions (null: unset)"
    )
    partitions_needed: int | None = item(omit_none=True)
    partitions_enough: bool | None = item(omit_none=True)


@dataclass(frozen=True, kw_only=True)
class SaturationStep:
    """A component reaching its saturation targets as the entry rate rises."""

    component: str
    saturates_at_entry: float = measure(
        "rps", doc="the entry rate at which today's count saturates"
    )
    binding: str | None
    before_target: bool


@dataclass(frozen=True, kw_only=True)
class ScalingTotals:
    """The whole system: instances and cost now and at the target, and whether the plan holds."""

    instances_now: int = item(doc="of the planned components")
    instances_at_target: int | None = item(doc="null: some component has no count")
    binding_component: str | None = item(doc="the first to saturate")
    feasible: bool
    cost_now: float | None
    cost_at_target: float | None


@dataclass(frozen=True, kw_only=True)
class ScalingAnalysis:
    """``scaling-plan``: from today's architecture to a target rate, component by component."""

    system: str
    entry_rate: float = measure("rps", doc="today's rate at the entry")
    target: float = measure("rps", doc="the entry rate to reach")
    components: tuple[ComponentRecord, ...]
    saturation_order: tuple[SaturationStep, ...] = item(doc="first to saturate first")
    totals: ScalingTotals
    findings: tuple[Finding, ...]
