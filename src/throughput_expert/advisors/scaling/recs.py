"""Recommendations and summary of ``scaling-plan``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from throughput_expert.model import Recommendation
from throughput_expert.model.analysis.scaling import (
    AutoscalingPolicy,
    ComponentRecord,
    SaturationStep,
    ScalingTotals,
)
from throughput_expert.model.architecture import Architecture
from throughput_expert.model.units import fmt_count, fmt_pct

if TYPE_CHECKING:
    from throughput_expert.advisors.scaling.advisor import ComponentPlan

__all__ = ["recommendations", "summary"]


def recommendations(
    plans: list[ComponentPlan], totals: ScalingTotals, arch: Architecture, target: float
) -> tuple[tuple[Recommendation, ...], dict[str, list[str]]]:
    recs: list[tuple[Recommendation, str]] = []
    for p in plans:
        for make in (_scale, _infeasible, _store, _partitions, _autoscale):
            made = make(p, target)
            if made is not None:
                recs.append(made)
    order = {"immediate": 0, "short_term": 1, "long_term": 2}
    recs.sort(key=lambda rw: order[rw[1]])
    plan: dict[str, list[str]] = {"immediate": [], "short_term": [], "long_term": []}
    for chosen, when in recs:
        plan[when].append(chosen.optimization)
    return tuple(r for r, _ in recs), plan


def _scale(p: ComponentPlan, target: float) -> tuple[Recommendation, str] | None:
    d, c = p.record, p.component
    n = d.instances_needed
    if not d.feasible or n is None or n <= c.instances or c.kind in ("database", "cache"):
        return None
    law = "the USL" if p.usl else "the utilization law (linear scale-out)"
    gain = (n / c.instances - 1) * 100
    rationale = (
        f"{c.name} gets {fmt_count(d.demand_at_target)} rps at the target "
        f"({p.fanout:g} per entry request); one instance sustains "
        f"{fmt_count(d.capacity_per_instance)} rps before {d.binding} passes "
        f"its target, so {n} instances by {law}."
    )
    cost = _cost_text(d)
    return (
        Recommendation(
            f"Scale {c.name} from {c.instances} to {n} instances ({d.strategy})",
            gain,
            "low" if c.stateless is not False else "medium",
            "low",
            rationale + cost,
            (f"capacity-{c.name}", f"instances-{c.name}"),
        ),
        "short_term",
    )


def _cost_text(d: ComponentRecord) -> str:
    if d.cost_now is None or d.cost_at_target is None:
        return ""
    return f" Cost {d.cost_now:.4g} -> {d.cost_at_target:.4g}."


def _infeasible(p: ComponentPlan, target: float) -> tuple[Recommendation, str] | None:
    d, c = p.record, p.component
    if d.feasible is not False or c.kind in ("database", "cache"):
        return None
    what = (
        "partition the work by a key so each shard scales on its own"
        if c.partitionable
        else "split the workload into separate services (functional "
        "split) or remove the shared contention"
    )
    rationale = f"{d.why}. What must change: {what}."
    return (
        Recommendation(
            f"{c.name}: adding instances cannot reach the target",
            None,
            "high",
            "high",
            rationale,
            (f"instances-{c.name}",),
        ),
        "long_term",
    )


def _store(p: ComponentPlan, target: float) -> tuple[Recommendation, str] | None:
    d, c = p.record, p.component
    if c.kind not in ("database", "cache") or p.capacity is None:
        return None
    need = d.instances_needed
    if d.feasible and need is not None and need <= c.instances and not d.read_replicas_needed:
        return None
    ids = (f"capacity-{c.name}", f"instances-{c.name}")
    if c.partitionable:
        text = f"Shard {c.name} by {c.partition_key or 'a key'} into {need or 'more'} shards"
        why = (
            f"{c.name} must carry {fmt_count(d.demand_at_target)} rps; one node "
            f"sustains {fmt_count(d.capacity_per_instance)}."
        )
        return Recommendation(text, None, "high", "high", why, ids), "long_term"
    if d.read_replicas_needed is not None:
        primaries = d.write_primaries_needed or 1
        text = f"Add {d.read_replicas_needed} read replicas to {c.name}"
        why = (
            f"{fmt_pct(c.read_share)} of its {fmt_count(d.demand_at_target)} rps at the "
            f"target are reads ({fmt_count(d.reads_at_target)} rps), served by "
            f"replicas of {fmt_count(d.capacity_per_instance)} rps each."
        )
        if primaries > 1:
            why += (
                f" The writes alone ({fmt_count(d.writes_at_target)} rps) need "
                f"{primaries} primaries: shard by a key, or move to a store that scales "
                "writes."
            )
        return Recommendation(text, None, "medium", "medium", why, ids), "short_term"
    factor = d.demand_at_target / (p.capacity.per_instance_rps * c.instances)
    why = (
        f"{c.name} is stateful and not partitionable: one instance must carry "
        f"{factor:.3g}× today's capacity. Options: a bigger instance, caching reads, or "
        "partitioning the data."
    )
    return Recommendation(
        f"Scale {c.name} vertically ({factor:.3g}× capacity) or partition it",
        None,
        "high",
        "high",
        why,
        ids,
    ), "long_term"


def _partitions(p: ComponentPlan, target: float) -> tuple[Recommendation, str] | None:
    d = p.record
    if d.partitions_enough is not False:
        return None
    rationale = (
        f"{d.consumers_needed} consumers at the target, but {p.component.name} has "
        f"{d.partitions} partitions: consumers beyond the partitions sit idle."
    )
    return (
        Recommendation(
            f"Raise {p.component.name} to at least {d.partitions_needed} partitions",
            None,
            "medium",
            "medium",
            rationale,
            (f"partitions-{p.component.name}",),
        ),
        "immediate",
    )


def _autoscale(p: ComponentPlan, target: float) -> tuple[Recommendation, str] | None:
    a = p.record.autoscaling
    if a is None:
        return None
    text = (
        f"Autoscale {p.component.name} ({a.style}): {a.metric} at {_target_text(a)}, "
        f"{a.min_replicas}–{a.max_replicas} replicas"
    )
    return (
        Recommendation(
            text, None, "medium", "low", a.formula + ".", (f"capacity-{p.component.name}",)
        ),
        "long_term",
    )


def _target_text(a: AutoscalingPolicy) -> str:
    if a.target_utilization is not None:
        return fmt_pct(a.target_utilization)
    if a.target_rate is not None:
        return f"{a.target_rate:.4g}"
    return f"{a.target_lag:.4g}" if a.target_lag is not None else "n/a"


def summary(
    plans: list[ComponentPlan],
    order: tuple[SaturationStep, ...],
    arch: Architecture,
    target: float,
) -> str:
    changes = [
        f"{p.component.name} {p.component.instances}→{p.record.instances_needed}"
        for p in plans
        if p.record.instances_needed and p.record.instances_needed != p.component.instances
    ]
    text = f"To go from {fmt_count(arch.entry_rate_rps)} to {fmt_count(target)} rps"
    text += ": " + (", ".join(changes) if changes else "no instance changes")
    if order:
        first = order[0]
        text += (
            f"; {first.component} saturates first, at "
            f"{fmt_count(first.saturates_at_entry)} rps ({first.binding})"
        )
    blocked = [p.component.name for p in plans if p.record.feasible is False]
    if blocked:
        text += f"; not reachable by adding instances: {', '.join(blocked)}"
    short = [
        f"{p.component.name} needs ≥ {p.record.partitions_needed} partitions (has "
        f"{p.record.partitions})"
        for p in plans
        if p.record.partitions_enough is False
    ]
    if short:
        text += "; " + "; ".join(short)
    return text + "."
