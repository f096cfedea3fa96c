"""Per-component laws of ``scaling-plan``: fan-out, capacity per instance, instances needed
(linear or by the USL), the strategy and the autoscaling policy.

Capacity and instances are the system model's answers: each component is a ``SystemModel`` in
its own calls per second (``advisors/system/architecture.component_model``), its capacity
today's ``project`` ceiling, its instances the fewest whose ``apply``-ed model carries the
demand (the USL over instances, when known, is the model's ``scaling``).

One strategy per component: a component that cannot add instances (``scales_out`` is false: a
stateful, unpartitioned service or store, or an external dependency) is never given a count of
instances, a scale-out or an HPA; its instances stay as they are (``fixed``) and, when they
cannot carry the target, the plan says so with its numbers. A store is one for all instances of
its callers: scaling them never multiplies it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.system.architecture import GIVEN, SERVICE_TIME, scales_out
from throughput_expert.advisors.system.project import apply, project
from throughput_expert.errors import InputError
from throughput_expert.laws.little import concurrency
from throughput_expert.model import Resource
from throughput_expert.model.analysis.scaling import AutoscalingPolicy
from throughput_expert.model.architecture import Architecture, Component
from throughput_expert.model.quantity import disagree, in_range
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import Change, SystemModel
from throughput_expert.model.units import fmt_count, fmt_pct

__all__ = [
    "Capacity",
    "Scaled",
    "autoscaling",
    "capacity",
    "fanouts",
    "fixed",
    "instances_needed",
    "scales_out",
    "strategy",
]

_MAX_N = 100_000


def fanouts(arch: Architecture, settings: Settings, ledger: Ledger) -> dict[str, float]:
    """Calls per entry request for each component: given, else from the callers' edges (a
    given value that disagrees with the edges by more than ``conflict_tolerance`` is a
    finding)."""
    tolerance = settings.threshold("conflict_tolerance")
    callers: dict[str, list[tuple[str, float]]] = {}
    for e in arch.edges:
        callers.setdefault(e.callee, []).append((e.caller, e.calls))
    derived: dict[str, float] = {}

    consumed = {c.name: c.consumes for c in arch.components if c.consumes}
    where = arch.source.source if arch.source else "architecture"

    def of(name: str) -> float:
        # Depth first without recursion (a chain of a thousand components costs no stack): a
        # component is derived once the ones it is derived from are.
        stack, expanded = [name], set()
        while stack:
            top = stack[-1]
            if top in derived:
                stack.pop()
                continue
            ins = callers.get(top, [])
            queue = consumed.get(top)
            needs = [c for c, _ in ins] if ins else [queue] if queue else []
            missing = [n for n in needs if n not in derived]
            if missing:
                if top in expanded:  # the reader refuses cycles; an Architecture built by hand
                    raise InputError(
                        f"a fan-out cycle through {top!r}", source=where, field="calls"
                    )
                expanded.add(top)
                stack.extend(missing)
                continue
            if ins:
                value = math.fsum(derived[c] * n for c, n in ins)
            else:  # a consumer gets what its queue gets; an entry component gets every request
                value = derived[queue] if queue else 1.0
            derived[top] = in_range(
                value, "count", source=where, field=f"components.{top}: calls per entry request"
            )
            stack.pop()
        return derived[name]

    out = {}
    for c in arch.components:
        from_edges = of(c.name) if c.name in callers or c.name in consumed else None
        if (
            c.fanout is not None
            and from_edges is not None
            and disagree(c.fanout, from_edges, tolerance)
        ):
            ledger.find(
                f"{c.name}: calls_per_request disagrees with the calls of its callers",
                {"calls_per_request": c.fanout, "from_edges": from_edges},
                "calls_per_request",
            )
        out[c.name] = c.fanout if c.fanout is not None else of(c.name)
    return out


@dataclass(frozen=True)
class Capacity:
    """Rate one instance sustains at its saturation target, and what binds it: today's ceiling
    of the component's model (``project``) over today's instances."""

    per_instance_rps: float
    binding: str
    source: str
    evidence_id: str
    today_rps: float
    """Today's instances together at their targets: the model's ceiling."""


def capacity(c: Component, model: SystemModel | None, ledger: Ledger) -> Capacity | None:
    """One instance's capacity at its targets, from the component's model (``component_model``):
    the ceiling of today's instances (the utilization law at each station's target,
    X = U·m / D) over their count; what binds it is the station that sets the ceiling."""
    if model is None:
        return None
    today = project(model)
    cap = today.ceiling / model.instances
    if today.binding == GIVEN:
        eid = ledger.prove(
            f"capacity-{c.name}",
            f"{c.name}: one instance sustains {fmt_count(cap)} rps at its targets",
            "given: capacity_per_instance",
            {},
            cap,
        )
        return Capacity(cap, "given capacity", "capacity_per_instance", eid, today.ceiling)
    station = model.station(today.binding)
    if today.binding == SERVICE_TIME and station is not None:
        eid = ledger.prove(
            f"capacity-{c.name}",
            f"{c.name}: {c.concurrency_per_instance} in "
            f"flight at {station.demand * 1e3:.3g} ms each, kept {fmt_pct(station.target)} "
            f"busy: {fmt_count(cap)} rps per instance",
            "utilization law: X = c · U / S",
            {
                "concurrency": c.concurrency_per_instance,
                "service_time_ms": station.demand * 1e3,
                "target": station.target,
            },
            cap,
        )
        return Capacity(cap, "service time", "service_time", eid, today.ceiling)
    caps = {name: limit / model.instances for name, limit in today.limits.items()}
    eid = ledger.prove(
        f"capacity-{c.name}",
        f"{c.name}: one instance reaches its {today.binding} target at {fmt_count(cap)} rps",
        "utilization law: X_target = X · t / U (per instance)",
        {
            "rps_per_instance": (model.rate or 0.0) / model.instances,
            "utilization": dict(c.utilization),
            "targets": {st.name: st.target for st in model.stations},
        },
        caps,
    )
    return Capacity(cap, today.binding, "measured utilization", eid, today.ceiling)


@dataclass(frozen=True)
class Scaled:
    instances: int | None
    feasible: bool
    why: str | None
    capacity_rps: float | None
    peak_instances: float | None = None
    peak_capacity_rps: float | None = None
    bound: int | None = None
    """Set when ``max_instances`` (this value) is what makes the plan infeasible."""
    wanted: int | None = None
    """With ``bound``: the instances the demand needs (None: more than the bound, by the USL)."""


def fixed(c: Component, model: SystemModel, demand: float, binding: str, ledger: Ledger) -> Scaled:
    """A component that cannot add instances (its stations are shared): its instances today
    carry ``demand`` or not, by the model's ceiling."""
    total = project(model).ceiling
    cap1 = total / c.instances
    factor = demand / total
    ledger.prove(
        f"instances-{c.name}",
        f"{c.name} cannot add instances: its {c.instances} carry {fmt_count(total)} rps at "
        f"the {binding} target, {fmt_count(demand)} rps needed ({factor:.3g}×)",
        "utilization law: capacity = instances × X_target per instance",
        {"demand_rps": demand, "capacity_per_instance_rps": cap1, "instances": c.instances},
        {"capacity_rps": total, "factor": factor},
    )
    if total >= demand * (1 - 1e-9):
        return Scaled(c.instances, True, None, total)
    carry = "instances carry" if c.instances > 1 else "instance carries"
    why = (
        f"{_why_fixed(c)}; {c.instances} {carry} "
        f"{fmt_count(total)} rps at the {binding} target, the target needs "
        f"{fmt_count(demand)} rps ({factor:.3g}×)"
    )
    return Scaled(None, False, why, total)


def _why_fixed(c: Component) -> str:
    if c.kind == "external":
        return "an external dependency (its quota is not ours to add to)"
    if c.kind in ("database", "cache"):
        return "one store for all instances of its callers (not partitioned, not read mostly)"
    return "stateful and not partitionable (more instances do not add capacity)"


def instances_for(rate: float, per_instance: float, least: int = 1) -> int:
    """ceil(rate / per_instance), at least ``least``; past the bound on a count of instances
    (``_MAX_N``: a capacity of 0, or so small the ratio is astronomic) one over it, never an
    int() of inf."""
    ratio = rate / per_instance if per_instance > 0 else math.inf
    return _MAX_N + 1 if not ratio <= _MAX_N else max(least, math.ceil(ratio - 1e-9))


def instances_needed(
    c: Component,
    model: SystemModel,
    cap1: float,
    demand: float,
    ledger: Ledger,
) -> Scaled:
    """The smallest N whose model carries ``demand`` at its targets: the ceiling of
    ``apply(model, instances N)`` (linear, or bent by the model's USL over instances, measured
    at today's n0: total(N) = today's · rel(N) / rel(n0))."""
    limit = c.max_instances or _MAX_N

    def at(n: int) -> float:
        return project(apply(model, Change("instances", n))).ceiling

    scaling = model.scaling
    if scaling is None:
        # N = ceil(demand / capacity per instance), within a billionth of an instance
        slack = 1e-9 * cap1
        found = _smallest(lambda k: at(k) >= demand - slack, _MAX_N, None)
        linear = found if found is not None else _MAX_N + 1  # past the bound: not reachable
        ledger.prove(
            f"instances-{c.name}",
            f"{c.name} needs {linear} instances",
            "linear scale-out: N = ceil(demand / capacity per instance)",
            {"demand_rps": demand, "capacity_per_instance_rps": cap1},
            linear,
        )
        return _capped(c, linear, at(linear), limit, None, None)
    from throughput_expert.laws.usl import usl_peak_concurrency

    sigma, kappa, rel = scaling.sigma, scaling.kappa, scaling.relative
    today = project(model).ceiling
    base = today / rel(c.instances)  # one instance by the USL
    peak = usl_peak_concurrency(sigma, kappa) if kappa > 0 else None
    if peak is not None and not math.isfinite(peak):
        peak = None  # a κ so small its peak is past any count: rising all the way
    n = _smallest(lambda k: at(k) >= demand, limit, peak)
    # the peak is a fraction of an instance: today's ceiling times the model's USL ratio there
    peak_cap = today * rel(peak) / rel(c.instances) if peak else None
    ledger.prove(
        f"instances-{c.name}",
        f"{c.name}: with σ = {sigma:.3g}, κ = {kappa:.3g}, "
        + (f"{n} instances carry the demand" if n else "no instance count carries it"),
        "USL: X(N) = X(1) · N / (1 + σ(N−1) + κN(N−1))",
        {"demand_rps": demand, "capacity_one_rps": base, "sigma": sigma, "kappa": kappa},
        {"instances": n, "peak_instances": peak, "peak_capacity_rps": peak_cap},
    )
    if n is None:
        if peak is not None and peak <= limit:
            why = (
                f"adding instances cannot reach {fmt_count(demand)} rps: the USL peaks at "
                f"{peak:.3g} instances with {fmt_count(peak_cap)} rps"
            )
            return Scaled(None, False, why, peak_cap, peak, peak_cap)
        capped = _capped(c, limit + 1, at(limit), limit, peak, peak_cap)
        return replace(capped, wanted=None)
    return Scaled(n, True, None, at(n), peak, peak_cap)


def _smallest(carries: Callable[[int], bool], limit: int, peak: float | None) -> int | None:
    """The smallest N ≤ ``limit`` that ``carries``, by bisection, not a count from 1
    (``max_instances`` is the user's number): capacity rises up to the USL's peak N* =
    √((1 − σ)/κ) (None: it never falls) and falls after it, so the test is monotone on 1..⌊N*⌋
    and ⌊N*⌋ + 1 is the only other candidate."""
    rising = int(min(limit, peak)) if peak is not None else limit
    if rising >= 1 and carries(rising):
        low, high = 0, rising  # low does not carry (N = 0 carries nothing), high does
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if carries(middle) else (middle, high)
        return high
    past = rising + 1
    return past if peak is not None and past <= limit and carries(past) else None


def _capped(
    c: Component, n: int, total: float, limit: int, peak: float | None, peak_cap: float | None
) -> Scaled:
    if n > limit:
        why = f"needs {n} instances but max_instances is {limit}"
        return Scaled(None, False, why, None, peak, peak_cap, bound=limit, wanted=n)
    return Scaled(n, True, None, total, peak, peak_cap)


def strategy(c: Component, scaled: Scaled) -> str:
    """The seed's scaling strategies: vertical, horizontal, functional, data."""
    if c.kind in ("database", "cache"):
        if c.partitionable:
            return f"data: shard by {c.partition_key or 'a key'}"
        if (c.read_share or 0) >= 0.5:
            return "data: read replicas"
        return "vertical: a bigger instance"
    if c.kind == "queue":
        return "partitions"
    if c.kind == "external":
        return "none: an external dependency (check its quota)"
    if not scaled.feasible and scaled.peak_instances is not None and scaled.bound is None:
        return "functional: split the workload (or partition it) — more copies cannot help"
    if c.stateless is False and not c.partitionable:
        return "vertical: a bigger instance (stateful, not partitionable)"
    return "horizontal: add instances"


def autoscaling(
    c: Component, cap: Capacity, now_n: int, max_n: int | None, s: Settings
) -> AutoscalingPolicy | None:
    if c.kind not in ("service", "worker"):
        return None
    if c.consumes and c.acceptable_delay_s is not None:
        # Little's law: messages waiting = rate × the delay each may wait (whole messages,
        # within a billionth: 350 rps × 5 s is 1,750 however the rate's last bit was rounded)
        waiting = concurrency(cap.per_instance_rps, c.acceptable_delay_s)
        lag = max(1, math.floor(waiting * (1 + 1e-9)))
        return AutoscalingPolicy(
            style="KEDA",
            metric=f"lag of {c.consumes}",
            target_lag=lag,
            min_replicas=now_n,
            max_replicas=max_n,
            formula="target lag per replica = acceptable delay / processing time per "
            "message (= delay × rate per replica)",
        )
    formula = "desired = ceil(current × metric / target)"
    if cap.source != "measured utilization":
        return AutoscalingPolicy(
            style="HPA",
            metric="requests per second per instance",
            target_rate=cap.per_instance_rps,
            min_replicas=now_n,
            max_replicas=max_n,
            formula=formula,
        )
    default: Resource = "cpu"
    metric = next((r for r in s.saturation_targets if r == cap.binding), default)
    return AutoscalingPolicy(
        style="HPA",
        metric=f"{metric} utilization",
        target_utilization=s.target(metric),
        min_replicas=now_n,
        max_replicas=max_n,
        formula=formula,
    )
