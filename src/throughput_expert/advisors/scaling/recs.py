"""Recommendations and summary of ``scaling-plan``.

One recommendation of strategy per component: a scale-out (with its autoscaler) for a component
that scales out, a vertical resize (or partitioning) for one that cannot. An infeasible plan
names its actual limit: the instance bound (``max_instances``, lifted by raising it), the USL's
peak (contention: split or partition the work), or a component that cannot add instances (a
store every caller shares: its capacity at its target against the demand). A scale-out whose
callee store cannot carry more is priced by the entry rate the pair can carry: the store caps it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING

from throughput_expert.advisors.scaling.parts import scales_out
from throughput_expert.model import Recommendation
from throughput_expert.model.analysis.scaling import (
    AutoscalingPolicy,
    ComponentRecord,
    SaturationStep,
    ScalingTotals,
)
from throughput_expert.model.architecture import Architecture
from throughput_expert.model.system import Change
from throughput_expert.model.units import fmt_count, fmt_pct

if TYPE_CHECKING:
    from throughput_expert.advisors.scaling.advisor import ComponentPlan
    from throughput_expert.advisors.scaling.writes import Writes

__all__ = ["recommendations", "summary"]

Maker = Callable[["ComponentPlan", float], "tuple[Recommendation, str] | None"]


def recommendations(
    plans: list[ComponentPlan],
    totals: ScalingTotals,
    arch: Architecture,
    target: float,
    writes: Writes | None = None,
) -> tuple[tuple[Recommendation, ...], dict[str, list[str]]]:
    recs: list[tuple[Recommendation, str, bool]] = []
    if writes is not None:  # the pair's plan first, its steps in order
        recs.extend((*made, False) for made in _plan_steps(writes, plans))
    pair = {writes.store.name, writes.caller.name} if writes is not None else set()
    caps = capped_by(plans, arch)
    lifts = system_gains(plans)
    for p in plans:
        blocked = bool(caps.get(p.component.name))
        scale = partial(_scale, caps=caps, lifts=lifts)
        makers: tuple[Maker, ...] = (
            scale,
            _infeasible,
            _store,
            _vertical,
            _partitions,
            _autoscale,
        )
        if p.component.name in pair:  # its scale-out or resize is the plan's step
            makers = (_partitions, _autoscale)
        for make in makers:
            made = make(p, target)
            if made is not None:
                recs.append((*made, blocked))
    order = {"immediate": 0, "short_term": 1, "long_term": 2}
    # what a store that cannot add instances blocks comes after that store's own change
    recs.sort(key=lambda rw: (order[rw[1]], rw[2]))
    plan: dict[str, list[str]] = {"immediate": [], "short_term": [], "long_term": []}
    for chosen, when, _ in recs:
        plan[when].append(chosen.optimization)
    return tuple(r for r, _, _ in recs), plan


def capped_by(plans: list[ComponentPlan], arch: Architecture) -> dict[str, list[ComponentPlan]]:
    """For each component, the components it calls (directly or further down) that cannot add
    instances and cannot carry the target: whatever it scales to, they cap it.

    Bounded work: each component's set of such callees is the union of its callees' (each
    computed once, callees before callers), not a walk of everything below each component."""
    stuck = {
        p.component.name: p
        for p in plans
        if not scales_out(p.component) and p.scaled is not None and not p.scaled.feasible
    }
    if not stuck:
        return {}
    callees: dict[str, list[str]] = {}
    for e in arch.edges:
        callees.setdefault(e.caller, []).append(e.callee)
    below = _stuck_below(callees, set(stuck))
    out: dict[str, list[ComponentPlan]] = {}
    for p in plans:
        name = p.component.name
        found = [stuck[n] for n in sorted(below.get(name, ())) if n != name]
        if found:
            out[name] = found
    return out


def _stuck_below(callees: Mapping[str, list[str]], stuck: set[str]) -> dict[str, frozenset[str]]:
    """For each caller, the ``stuck`` components reachable through its calls. The calls form a
    DAG (the architecture refuses a cycle); should one hold a cycle anyway, its members are
    walked one by one (``_walk``)."""
    below: dict[str, frozenset[str]] = {}
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    cyclic = False
    for root in callees:
        if state.get(root) == 2:
            continue
        stack = [(root, iter(callees.get(root, ())))]
        state[root] = 1
        while stack:
            name, rest = stack[-1]
            nxt = next(rest, None)
            if nxt is None:
                stack.pop()
                found: set[str] = set()
                for c in callees.get(name, ()):
                    if c in stuck:
                        found.add(c)
                    found |= below.get(c, frozenset())
                below[name] = frozenset(found)
                state[name] = 2
            elif state.get(nxt) is None:
                state[nxt] = 1
                stack.append((nxt, iter(callees.get(nxt, ()))))
            elif state[nxt] == 1:
                cyclic = True
    if cyclic:
        return {name: _walk(callees, name, stuck) for name in callees}
    return below


def _walk(callees: Mapping[str, list[str]], start: str, stuck: set[str]) -> frozenset[str]:
    seen: set[str] = set()
    todo = list(callees.get(start, []))
    while todo:
        name = todo.pop()
        if name in seen or name == start:
            continue
        seen.add(name)
        todo.extend(callees.get(name, []))
    return frozenset(seen & stuck)


def entry_cap(p: ComponentPlan) -> float:
    """The entry rate a component's instances today carry at its targets (forced flow)."""
    total = p.scaled.capacity_rps if p.scaled is not None else None
    if total is None and p.capacity is not None:
        total = p.capacity.today_rps
    return (total or 0.0) / p.fanout if p.fanout > 0 else float("inf")


def system_gains(plans: list[ComponentPlan]) -> dict[str, tuple[float | None, str]]:
    """Each scale-out priced on the whole system, in the order the components saturate: the
    entry rate the system carries at its targets is the lowest of its components'
    (``saturates_at``); scaling the first k to their planned instances lifts it to the lowest
    of theirs at the plan and the others' today. The gain of step k is cumulative; a step that
    lifts nothing alone (another component caps at the same rate, or a store that cannot
    scale) has no number, and says which component caps it."""
    today: dict[str, float] = {}
    planned: dict[str, float] = {}
    for p in plans:
        now = p.saturates_at
        if now is None:
            continue
        today[p.component.name] = now
        d = p.record
        if d.capacity_at_plan is not None and d.instances_needed and p.fanout > 0:
            planned[p.component.name] = d.capacity_at_plan / p.fanout
    if not today:
        return {}
    base = min(today.values())
    out: dict[str, tuple[float | None, str]] = {}
    done: set[str] = set()
    # the lowest cap (ties: the first component) as steps are taken, kept in a heap whose
    # entries a step replaces (today's cap -> the planned one): not a scan of all per step
    index = {n: i for i, n in enumerate(today)}
    heap = [(value, index[n], n, False) for n, value in today.items()]
    heapq.heapify(heap)
    for name in sorted(planned, key=lambda n: today.get(n, float("inf"))):
        if name not in today:
            continue
        done.add(name)
        heapq.heappush(heap, (planned[name], index[name], name, True))
        while heap[0][2] in done and not heap[0][3]:  # today's cap of a scaled component
            heapq.heappop(heap)
        cap, _, limit, _ = heap[0]
        gain = cap / base - 1 if base > 0 else 0.0
        if gain > 1e-9:
            note = f" The system then carries {fmt_count(cap)} rps at the entry"
            note += "." if limit in done else f", until {limit} saturates."
            out[name] = (gain * 100, note)
        else:
            out[name] = (
                None,
                f" Alone it lifts nothing: {limit} caps the system at "
                f"{fmt_count(cap)} rps at the entry too (scale it as well).",
            )
    return out


def _scale(
    p: ComponentPlan,
    target: float,
    caps: Mapping[str, list[ComponentPlan]],
    lifts: Mapping[str, tuple[float | None, str]] | None = None,
) -> tuple[Recommendation, str] | None:
    d, c = p.record, p.component
    n = d.instances_needed
    if not d.feasible or n is None or n <= c.instances or not scales_out(c):
        return None
    law = "the USL" if p.usl else "the utilization law (linear scale-out)"
    gain: float | None = (n / c.instances - 1) * 100
    rationale = (
        f"{c.name} gets {fmt_count(d.demand_at_target)} rps at the target "
        f"({p.fanout:g} per entry request); one instance sustains "
        f"{fmt_count(d.capacity_per_instance)} rps before {d.binding} passes "
        f"its target, so {n} instances by {law}."
    )
    blockers = caps.get(c.name, [])
    if blockers and p.capacity is not None and d.capacity_at_plan is not None:
        # the entry rate the component and the stores it calls carry: the lowest of them;
        # the component's own today and at the plan are its model's ceilings (forced flow)
        store = min(blockers, key=entry_cap)
        cap = entry_cap(store)
        own = p.capacity.today_rps / p.fanout
        pair = min(d.capacity_at_plan / p.fanout, cap) / min(own, cap) - 1
        # priced at what the pair carries; nothing until the store is scaled: not priced
        gain = pair * 100 if pair > 1e-9 else None
        rationale += (
            f" But {store.component.name}, one for all {c.name} instances, carries "
            f"{fmt_count(cap)} rps at the entry at its {store.record.binding} target: "
            f"{c.name} can carry more only once {store.component.name} is scaled "
            "(its own recommendation, first)."
        )
    if lifts is not None and c.name in lifts and not blockers:
        # priced on the whole system, cumulatively in the order the components saturate
        gain, note = lifts[c.name]
        rationale += note
    cost = _cost_text(d)
    return (
        Recommendation(
            f"Scale {c.name} from {c.instances} to {n} instances ({d.strategy})",
            gain,
            "low" if c.stateless is not False else "medium",
            "low",
            rationale + cost,
            (f"capacity-{c.name}", f"instances-{c.name}"),
            change="instances",
        ),
        "long_term" if blockers else "short_term",
    )


def _plan_steps(w: Writes, plans: list[ComponentPlan]) -> list[tuple[Recommendation, str]]:
    """One recommendation per step of the pair's plan; its gain the solver's (cumulative, the
    ceiling after the step over today's, at the saturation targets). The first step is the
    first thing to do (immediate), the others follow it (short term)."""
    out: list[tuple[Recommendation, str]] = []
    store, caller = w.store, w.caller
    record = next((p.record for p in plans if p.component.name == caller.name), None)
    before = w.plan.today
    for i, (step, eid) in enumerate(zip(w.plan.steps, w.ids, strict=True), 1):
        after = step.projection
        used = ", ".join(f"{k} {fmt_pct(v)}" for k, v in after.utilization.items())
        rationale = (
            f"Step {i} of the plan on one model of {caller.name} and {store.name} (entry "
            f"requests per second): {step.change.what}. The model with it: ceiling "
            f"{fmt_count(before.ceiling)} -> {fmt_count(after.ceiling)} rps at the saturation "
            f"targets, bound by {after.binding}; at {fmt_count(after.rate)} rps: {used}."
        )
        value = int(step.change.value)
        if step.change.kind == "batch":
            text = f"Batch the writes to {store.name}: {value} items per commit"
            rationale += (
                f" One statement and one commit per {value} writes instead of per write: the "
                f"share of {store.name}'s work paid per call is paid once per batch "
                "(multi-row INSERT or COPY; tpx design-batching measures it)."
            )
            made = Recommendation(
                text, step.gain * 100, "low", "low", rationale, (eid,), change="batch"
            )
            out.append((made, "immediate" if i == 1 else "short_term"))
        elif step.change.kind == "instances":
            text = f"Scale {caller.name} from {caller.instances} to {value} instances"
            rationale += (
                f" {store.name} is one for all {caller.name} instances: scaling out never "
                "multiplies it."
            )
            if record is not None:
                text += f" ({record.strategy})"
                rationale += _cost_text(record)
            made = Recommendation(
                text,
                step.gain * 100,
                "low" if caller.stateless is not False else "medium",
                "low",
                rationale,
                (eid, f"capacity-{caller.name}"),
                change="instances",
            )
            out.append((made, "immediate" if i == 1 else "short_term"))
        elif step.change.kind == "servers":  # a bigger instance of the caller
            text = f"Scale {caller.name} vertically: {step.change.what}"
            made = Recommendation(
                text,
                step.gain * 100,
                "medium",
                "low",
                rationale,
                (eid, f"capacity-{caller.name}"),
                change="servers",
            )
            out.append((made, "immediate" if i == 1 else "short_term"))
        before = after
    if not w.plan.reaches_target:
        final = w.plan.final
        text = (
            f"{w.plan.cap} caps the plan at {fmt_count(final.ceiling)} rps, below "
            f"{fmt_count(w.plan.target)}"
        )
        why = f"After the plan's steps {w.plan.cap} binds at its saturation target."
        if w.plan.lift:
            why += f" What would lift it: {w.plan.lift}."
        ids = w.ids[-1:] or (f"capacity-{store.name}",)
        out.append((Recommendation(text, None, "high", "high", why, ids), "long_term"))
    return out


def _cost_text(d: ComponentRecord) -> str:
    if d.cost_now is None or d.cost_at_target is None:
        return ""
    return f" Cost {d.cost_now:.4g} -> {d.cost_at_target:.4g}."


def _infeasible(p: ComponentPlan, target: float) -> tuple[Recommendation, str] | None:
    d, c = p.record, p.component
    if d.feasible is not False or not scales_out(c) or p.scaled is None:
        return None
    bound = p.scaled.bound
    if bound is not None:
        return _bounded(p, bound, p.scaled.wanted)
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


def _bounded(p: ComponentPlan, bound: int, wanted: int | None) -> tuple[Recommendation, str]:
    """The instance bound is the limit: name it and what lifts it."""
    d, c = p.record, p.component
    per = d.capacity_per_instance
    at_bound = p.scaled.capacity_rps if p.scaled is not None else None
    need = f"to {wanted}" if wanted is not None else f"above {bound}"
    rationale = (
        f"{d.why}: the instance bound is the limit. What lifts it: raise max_instances {need}"
    )
    if per is not None:
        carried = at_bound if at_bound is not None else per * bound
        rationale += (
            f" (one instance sustains {fmt_count(per)} rps at its {d.binding} target, so "
            f"{bound} carry about {fmt_count(carried)} of the {fmt_count(d.demand_at_target)} "
            "rps needed), or make each instance carry more (a bigger instance, faster code)"
        )
    return (
        Recommendation(
            f"{c.name}: max_instances ({bound}) caps it below the target: raise it {need}",
            None,
            "medium",
            "low",
            rationale + ".",
            (f"capacity-{c.name}", f"instances-{c.name}"),
        ),
        "short_term",
    )


def _vertical(p: ComponentPlan, target: float) -> tuple[Recommendation, str] | None:
    """A component that cannot add instances and cannot carry the target: a bigger instance,
    or partitioning it; an external dependency: its quota."""
    d, c = p.record, p.component
    if scales_out(c) or p.capacity is None or d.feasible is not False:
        return None
    total = p.capacity.today_rps
    factor = d.demand_at_target / total
    ids = (f"capacity-{c.name}", f"instances-{c.name}")
    if c.kind == "external":
        why = f"{d.why}. Ask for a quota of {fmt_count(d.demand_at_target)} rps, or call it less."
        text = f"Raise {c.name}'s quota {factor:.3g}× (an external dependency caps the target)"
        return Recommendation(text, None, "high", "medium", why, ids), "long_term"
    options = (
        # a store's disk pays a flush per commit: fewer commits per item lift it first
        "fewer commits per item (batch the callers' writes, one commit per batch: tpx analyze "
        "plans it when the metrics name the sink in their architecture, tpx design-batching "
        "sizes it), a bigger instance (a faster disk), caching reads, or partitioning the data"
        if c.kind == "database" and d.binding == "disk_io"
        else "a bigger instance, caching reads, or partitioning the data"
        if c.kind in ("database", "cache")
        else "a bigger instance, or making it stateless (state in a shared store) or "
        "partitioned so it can scale out"
    )
    why = (
        f"{c.name} is stateful and not partitionable: {c.instances} instance"
        f"{'s' if c.instances > 1 else ''} must carry {factor:.3g}× today's capacity "
        f"({fmt_count(total)} rps at its {d.binding} target, {fmt_count(d.demand_at_target)} "
        f"rps at the target). Options: {options}."
    )
    return Recommendation(
        f"Scale {c.name} vertically ({factor:.3g}× capacity) or partition it",
        None,
        "high",
        "high",
        why,
        ids,
    ), "long_term"


def _store(p: ComponentPlan, target: float) -> tuple[Recommendation, str] | None:
    d, c = p.record, p.component
    if c.kind not in ("database", "cache") or p.capacity is None or not scales_out(c):
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
    return None


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
    writes: Writes | None = None,
) -> str:
    pair = {writes.caller.name} if writes is not None else set()
    changes = [
        f"{p.component.name} {p.component.instances}→{p.record.instances_needed}"
        for p in plans
        if p.record.instances_needed
        and p.record.instances_needed != p.component.instances
        and p.component.name not in pair
    ]
    if writes is not None:  # the pair's steps first, in the plan's order
        changes.insert(0, ", then ".join(_step_words(s.change, writes) for s in writes.plan.steps))
    text = f"To go from {fmt_count(arch.entry_rate_rps)} to {fmt_count(target)} rps"
    text += ": " + (_few(changes, ", ", "components") if changes else "no instance changes")
    if order:
        first = order[0]
        text += (
            f"; {first.component} saturates first{' today' if writes else ''}, at "
            f"{fmt_count(first.saturates_at_entry)} rps ({first.binding})"
        )
    if writes is not None:
        final = writes.plan.final
        if writes.plan.reaches_target:
            text += (
                f"; writes batched, {writes.store.name} and {writes.caller.name} carry the "
                "target within their saturation targets"
            )
        else:
            text += (
                f"; with the writes batched the plan stops at {fmt_count(final.ceiling)} rps, "
                f"capped by {writes.plan.cap}"
            )
    blocked = [_blocked(p, arch) for p in plans if p.record.feasible is False]
    if blocked:
        text += f"; the target is not reachable as planned: {_few(blocked, '; ', 'components')}"
    short = [
        f"{p.component.name} needs ≥ {p.record.partitions_needed} partitions (has "
        f"{p.record.partitions})"
        for p in plans
        if p.record.partitions_enough is False
    ]
    if short:
        text += "; " + _few(short, "; ", "queues short of partitions")
    return text + "."


def _step_words(change: Change, w: Writes) -> str:
    """A step of the pair's plan in the summary's words: a scale-out as "consumer 1→4"."""
    if change.kind == "instances":
        return f"{w.caller.name} {w.caller.instances}→{int(change.value)}"
    return change.what


# The summary is one sentence: a plan of 1,000 components names the first few of each list and
# says how many more; the analysis (and the recommendations) hold every one.
SUMMARY_NAMES = 5


def _few(items: list[str], sep: str, what: str) -> str:
    """The first ``SUMMARY_NAMES`` of ``items`` joined by ``sep``, and "and N more WHAT"."""
    if len(items) <= SUMMARY_NAMES:
        return sep.join(items)
    more = len(items) - SUMMARY_NAMES
    return f"{sep.join(items[:SUMMARY_NAMES])}{sep}and {more:,} more {what}"


def _blocked(p: ComponentPlan, arch: Architecture) -> str:
    """Why one component does not reach the target, with its numbers."""
    c, d, scaled = p.component, p.record, p.scaled
    if scaled is not None and scaled.bound is not None:
        wanted = f"{scaled.wanted} needed" if scaled.wanted is not None else "more needed"
        return f"{c.name} is capped by max_instances {scaled.bound} ({wanted})"
    if scaled is not None and not scales_out(c) and scaled.capacity_rps:
        callers = sorted({e.caller for e in arch.edges if e.callee == c.name})
        shared = f", one for all instances of {', '.join(callers)}," if callers else ""
        factor = d.demand_at_target / scaled.capacity_rps
        return (
            f"{c.name}{shared} cannot add instances and carries "
            f"{fmt_count(scaled.capacity_rps)} rps at its {d.binding} target, "
            f"{fmt_count(d.demand_at_target)} rps needed ({factor:.3g}×)"
        )
    return f"{c.name} cannot reach it by adding instances"
