"""``scaling-plan``: from today's architecture to a target rate, component by component.

For each component: demand at the target (entry rate × fan-out), capacity per instance at its
saturation targets (utilization law), instances needed (linear, or bent by the USL when its
coefficients or an instances sweep are known) — both the system model's answers on the
component built from the architecture (``advisors/system/architecture.component_model``,
``project``, ``apply``) — the strategy (vertical, horizontal, functional,
data), queue partitions, an autoscaling policy and the cost. Then the saturation order: as load
rises from today toward the target, which component reaches its targets first, and next.

One strategy per component (``parts.scales_out``): a stateful, unpartitioned component or store
keeps its instances (no scale-out, no autoscaler) and is sized vertically; a store is one for all
instances of its callers, so scaling them out never multiplies it, and when it cannot carry the
target its writes are batched on one model of it and its caller (``writes``), or, where that
model does not apply or does not reach it, the plan is infeasible and says so with the store's
numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.scaling.parts import (
    Capacity,
    Scaled,
    autoscaling,
    capacity,
    fanouts,
    fixed,
    instances_for,
    instances_needed,
    scales_out,
    strategy,
)
from throughput_expert.advisors.scaling.recs import recommendations, summary
from throughput_expert.advisors.scaling.writes import Writes, applies, plan_writes
from throughput_expert.advisors.system.architecture import component_model
from throughput_expert.errors import InputError, Parameter
from throughput_expert.laws.utilization import forced_flow
from throughput_expert.model import Report, Series
from throughput_expert.model.analysis.common import Finding
from throughput_expert.model.analysis.scaling import (
    ComponentRecord,
    SaturationStep,
    ScalingAnalysis,
    ScalingTotals,
    UslCoefficients,
)
from throughput_expert.model.architecture import Architecture, Component
from throughput_expert.model.settings import Settings
from throughput_expert.model.sweep import Sweep
from throughput_expert.model.units import fmt_count

__all__ = ["ComponentPlan", "ScalingInputs", "advise"]


@dataclass(frozen=True)
class ScalingInputs:
    architecture: Architecture
    target_rps: float
    sweeps: Mapping[str, Sweep] = field(default_factory=dict)


@dataclass(frozen=True)
class ComponentPlan:
    component: Component
    fanout: float
    demand_now: float
    demand_target: float
    capacity: Capacity | None
    scaled: Scaled | None
    usl: tuple[float, float] | None
    record: ComponentRecord

    @property
    def saturates_at(self) -> float | None:
        """Entry rate at which today's instances reach their targets: the forced flow law
        X_k = V_k·X solved for the entry rate X, with X_k today's capacity."""
        if self.capacity is None or self.demand_now <= 0:
            return None
        return self.capacity.today_rps / self.fanout


def advise(inputs: ScalingInputs, settings: Settings) -> Report:
    arch, target = inputs.architecture, inputs.target_rps
    if target <= arch.entry_rate_rps:
        raise InputError(
            f"the target {target:g} rps is not above today's entry rate "
            f"{arch.entry_rate_rps:g} rps",
            source=Parameter("target_rps"),
        )
    ledger = Ledger()
    fan = fanouts(arch, settings, ledger)
    plans = [
        _plan(c, fan[c.name], arch, target, inputs.sweeps, settings, ledger)
        for c in arch.components
    ]
    plans, writes = _batched(plans, arch, fan, target, settings, ledger)
    plans = _queues(plans, ledger)
    order = _saturation_order(plans, target)
    totals = _totals(plans, order)
    recs, steps = recommendations(plans, totals, arch, target, writes)
    analysis = ScalingAnalysis(
        system=arch.system,
        entry_rate=arch.entry_rate_rps,
        target=target,
        components=tuple(p.record for p in plans),
        saturation_order=order,
        totals=totals,
        findings=tuple(Finding(**f) for f in ledger.findings),
    )
    return Report(
        command="scaling-plan",
        summary=summary(plans, order, arch, target, writes),
        analysis=analysis,
        series=_series(plans, arch, target),
        recommendations=recs,
        implementation_plan=steps,
        evidence=tuple(ledger.evidence),
        assumptions=tuple(ledger.assumptions),
        inputs=tuple(x for x in [arch.source, *(s.source for s in inputs.sweeps.values())] if x),
        plan=writes.record() if writes is not None else None,
    )


def _batched(
    plans: list[ComponentPlan],
    arch: Architecture,
    fan: dict[str, float],
    target: float,
    s: Settings,
    ledger: Ledger,
) -> tuple[list[ComponentPlan], Writes | None]:
    """The first store that cannot carry the target by itself and has one caller that scales
    out: the pair planned on one system model (``writes.plan_writes``), the store's and the
    caller's records from that plan. Every other component keeps its own plan."""
    index = {p.component.name: i for i, p in enumerate(plans)}
    for p in plans:
        c = p.component
        if p.scaled is None or p.scaled.feasible or p.capacity is None:
            continue
        names = sorted({e.caller for e in arch.edges if e.callee == c.name})
        caller = applies(c, [plans[index[n]].component for n in names if n in index])
        if caller is None:
            continue
        cp = plans[index[caller.name]]
        if cp.capacity is None or cp.scaled is None:
            continue
        writes = plan_writes(c, caller, fan, arch, target, s, cp.usl, ledger)
        if writes is None:
            continue
        out = list(plans)
        out[index[c.name]] = _store_planned(p, writes, target, s, ledger)
        out[index[caller.name]] = _caller_planned(cp, writes, s, ledger)
        return out, writes
    return plans, None


def _store_planned(
    p: ComponentPlan, w: Writes, target: float, s: Settings, ledger: Ledger
) -> ComponentPlan:
    """The store after the plan: one for all its callers' instances as before, carrying the
    target with the writes batched, or capped (by which station, at what rate, and what would
    lift it)."""
    c, b = p.component, w.batch
    carries = w.limit_of(c)
    calls = carries * p.fanout
    if carries >= target * (1 - 1e-9):
        scaled = Scaled(c.instances, True, None, calls)
        how = f"batch the callers' writes: {b} per commit"
    else:
        binds = w.binding_of(c)
        why = (
            f"with the writes batched ({b} per commit) {c.name} carries {fmt_count(carries)} "
            f"rps at the entry at its targets ({binds} binds), {fmt_count(target)} needed"
            + (f": {w.plan.lift}" if w.plan.lift and w.plan.cap == binds else "")
        )
        scaled = Scaled(None, False, why, calls)
        how = f"batch the callers' writes: {b} per commit, then vertical: a bigger instance"
    rec = _record(c, p.fanout, p.demand_now, p.demand_target, p.capacity, scaled, p.usl, s, ledger)
    return replace(p, scaled=scaled, record=replace(rec, strategy=how, batch=b))


def _caller_planned(p: ComponentPlan, w: Writes, s: Settings, ledger: Ledger) -> ComponentPlan:
    """The caller with the plan's instance count and what its stations carry there."""
    assert p.scaled is not None  # checked by _batched
    scaled = replace(
        p.scaled, instances=w.instances, capacity_rps=w.limit_of(p.component) * p.fanout
    )
    rec = _record(
        p.component, p.fanout, p.demand_now, p.demand_target, p.capacity, scaled, p.usl, s, ledger
    )
    return replace(p, scaled=scaled, record=rec)


def _usl(
    c: Component, sweeps: Mapping[str, Sweep], ledger: Ledger, min_r_squared: float
) -> tuple[float, float] | None:
    """σ and κ given, or fitted to the component's instances sweep when the fit is reliable
    (R² at least ``thresholds.usl_min_r_squared``; else the plan scales it linearly)."""
    if c.sigma is not None or c.kappa is not None:
        return (c.sigma or 0.0, c.kappa or 0.0)
    sweep = sweeps.get(c.name)
    if sweep is None:
        return None
    from throughput_expert.advisors.usl_report import usl_report  # numpy, scipy: with a sweep

    fit = usl_report(sweep, ledger, label="instances", min_r_squared=min_r_squared).reliable_fit
    return (fit.sigma, fit.kappa) if fit is not None else None


def _plan(
    c: Component,
    fanout: float,
    arch: Architecture,
    target: float,
    sweeps: Mapping[str, Sweep],
    s: Settings,
    ledger: Ledger,
) -> ComponentPlan:
    now, then = forced_flow(arch.entry_rate_rps, fanout), forced_flow(target, fanout)
    usl = _usl(c, sweeps, ledger, s.threshold("usl_min_r_squared"))
    model = component_model(c, fanout, arch.entry_rate_rps, s, usl)
    cap = capacity(c, model, ledger)
    scaled = None
    if model is not None and cap is not None and not scales_out(c):
        scaled = fixed(c, model, then, cap.binding, ledger)
    elif model is not None and cap is not None:
        scaled = instances_needed(c, model, cap.per_instance_rps, _scaled_demand(c, then), ledger)
    record = _record(c, fanout, now, then, cap, scaled, usl, s, ledger)
    return ComponentPlan(c, fanout, now, then, cap, scaled, usl, record)


def _scaled_demand(c: Component, demand: float) -> float:
    """What instances must carry: for a store with read replicas, the reads (the primary takes
    the writes); otherwise everything."""
    if c.kind in ("database", "cache") and not c.partitionable and (c.read_share or 0) >= 0.5:
        return demand * (c.read_share or 0)
    return demand


def _record(
    c: Component,
    fanout: float,
    now: float,
    then: float,
    cap: Capacity | None,
    scaled: Scaled | None,
    usl: tuple[float, float] | None,
    s: Settings,
    ledger: Ledger,
) -> ComponentRecord:
    out = ComponentRecord(
        name=c.name,
        kind=c.kind,
        fanout=fanout,
        demand_now=now,
        demand_at_target=then,
        instances_now=c.instances,
        capacity_per_instance=cap.per_instance_rps if cap else None,
        binding=cap.binding if cap else None,
        capacity_source=cap.source if cap else None,
        usl=UslCoefficients(sigma=usl[0], kappa=usl[1]) if usl else None,
    )
    if c.kind != "queue" and cap is None:
        why = "no utilization, capacity_per_instance or service_time: cannot be planned"
        ledger.find(f"{c.name}: {why}", {}, "none: the component is left out of the plan")
        return replace(out, why=why)
    if scaled is None or cap is None:
        return out
    needed = scaled.instances
    store = _store(c, then, cap)
    if store is not None and scaled.feasible and scales_out(c):
        # a primary for the writes plus replicas for the reads
        needed = store.write_primaries_needed + store.read_replicas_needed
    out = replace(
        out,
        instances_needed=needed,
        feasible=scaled.feasible,
        why=scaled.why,
        capacity_at_plan=scaled.capacity_rps,
        peak_instances=scaled.peak_instances,
        strategy=strategy(c, scaled),
        autoscaling=(
            autoscaling(c, cap, _min_replicas(c, cap, now), scaled.instances or c.max_instances, s)
            if scales_out(c)
            else None
        ),
    )
    if store is not None:
        out = replace(
            out,
            reads_at_target=store.reads_at_target,
            writes_at_target=store.writes_at_target,
            write_primaries_needed=store.write_primaries_needed,
            read_replicas_needed=store.read_replicas_needed,
        )
    if c.unit_cost is not None:
        out = replace(
            out,
            cost_now=c.unit_cost * c.instances,
            cost_at_target=c.unit_cost * needed if needed is not None else None,
        )
    return out


def _min_replicas(c: Component, cap: Capacity, now: float) -> int:
    return instances_for(now, cap.per_instance_rps)


@dataclass(frozen=True)
class _Store:
    reads_at_target: float
    writes_at_target: float
    write_primaries_needed: int
    read_replicas_needed: int


def _store(c: Component, then: float, cap: Capacity) -> _Store | None:
    """A store's reads and writes at the target: primaries for the writes, replicas for the
    reads."""
    if c.kind not in ("database", "cache") or c.read_share is None:
        return None
    writes = then * (1 - c.read_share)
    reads = then * c.read_share
    return _Store(
        reads_at_target=reads,
        writes_at_target=writes,
        write_primaries_needed=instances_for(writes, cap.per_instance_rps),
        read_replicas_needed=instances_for(reads, cap.per_instance_rps, least=0),
    )


def _queues(plans: list[ComponentPlan], ledger: Ledger) -> list[ComponentPlan]:
    """Each consumed queue's partitions against its consumers at the target."""
    out = list(plans)
    index = {p.component.name: i for i, p in enumerate(plans)}
    for p in plans:
        c = p.component
        at = index.get(c.consumes or "")
        if at is None or p.scaled is None or p.scaled.instances is None:
            continue
        queue = out[at]
        consumers = p.scaled.instances * c.concurrency_per_instance
        partitions = queue.component.partitions
        record = replace(
            queue.record,
            consumers_needed=consumers,
            partitions=partitions,
            partitions_needed=consumers,
            partitions_enough=partitions is None or partitions >= consumers,
        )
        out[at] = replace(queue, record=record)
        ledger.prove(
            f"partitions-{queue.component.name}",
            f"{queue.component.name} needs at "
            f"least {consumers} partitions for {consumers} consumers",
            "one consumer per partition in a group: partitions ≥ consumers",
            {"consumers": consumers, "partitions": partitions},
            consumers,
        )
    return out


def _saturation_order(plans: list[ComponentPlan], target: float) -> tuple[SaturationStep, ...]:
    rows = [(at, p) for p in plans if (at := p.saturates_at) is not None]
    rows.sort(key=lambda r: r[0])
    return tuple(
        SaturationStep(
            component=p.component.name,
            saturates_at_entry=at,
            binding=p.capacity.binding if p.capacity else None,
            before_target=at < target,
        )
        for at, p in rows
    )


def _totals(plans: list[ComponentPlan], order: tuple[SaturationStep, ...]) -> ScalingTotals:
    planned = [p for p in plans if p.scaled is not None]
    after = [p.scaled.instances for p in planned if p.scaled and p.scaled.instances]
    # components with a unit_cost only: none given, no cost (not a total of 0)
    costs = [
        (p.record.cost_now, p.record.cost_at_target)
        for p in planned
        if p.record.cost_now is not None
    ]
    return ScalingTotals(
        instances_now=sum(p.component.instances for p in planned),
        instances_at_target=sum(after) if len(after) == len(planned) else None,
        binding_component=order[0].component if order else None,
        feasible=all(p.scaled and p.scaled.feasible for p in planned)
        and not any(p.record.partitions_enough is False for p in plans),
        cost_now=sum(a for a, _ in costs if a is not None) if costs else None,
        cost_at_target=(
            sum(b for _, b in costs if b is not None)
            if costs and all(b is not None for _, b in costs)
            else None
        ),
    )


def _series(plans: list[ComponentPlan], arch: Architecture, target: float) -> dict[str, Series]:
    out = {}
    steps = [arch.entry_rate_rps + (target - arch.entry_rate_rps) * k / 20 for k in range(21)]
    for p in plans:
        if p.capacity is None:
            continue
        total = p.capacity.today_rps
        points = tuple((x, forced_flow(x, p.fanout) / total * 100) for x in steps)
        out[f"load_vs_capacity_{p.component.name}"] = Series(
            "entry rate (rps)", f"{p.component.name}: % of today's capacity at target", points
        )
    return out
