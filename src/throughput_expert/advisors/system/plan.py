"""A plan that reaches the target step by step, every step a change to the one model.

At each step the binding limit (``project``) is lifted by the change that needs the least: the
candidates for it are sized to carry the target at their saturation targets (never sized for
100 %), each is applied to the model, and the one that lifts the ceiling most, at the lowest
effort, is taken. The plan stops when the ceiling reaches the target, or when nothing the model
can express lifts the binding limit; then it says what caps it and what kind of change would.

Changes and their sizing:

- **batch** (a station paying part of its demand per call, e.g. a commit's fsync): the smallest b
  with D(b) = D·((1 − f) + f·b₀/b) ≤ target·m / X_target; the workers' time per item falls the
  same way (the batching cost model T(b)/b = c0/b + c1).
- **instances** (per-instance stations and the workers): n = ⌈n₀ · X_target / X_limit⌉, within
  ``max_instances``. A shared station is never multiplied.
- **workers** per instance: N = ⌈X_target · R⌉ / instances (Little's law). With a sweep's USL
  fit (``SystemModel.contention``): the fewest N with u · X(N) · instances ≥ X_target, never
  more than the level the sweep recommends (``usl_report.choose_level``, at or before the
  curve's peak): past it more workers add contention, not throughput. When even that level
  cannot carry the target, the plan says the workers' contention caps it.
- **servers** at a per-instance station (a bigger instance): m = ⌈m₀ · X_target / X_limit⌉.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from throughput_expert.advisors.system.project import WORKERS, Projection, apply, project
from throughput_expert.laws.batching import smallest_batch_for
from throughput_expert.model.quantity import COUNT_BOUNDS
from throughput_expert.model.system import Change, Contention, SystemModel

__all__ = ["MAX_BATCH", "MAX_STEPS", "Plan", "Step", "batch_delay", "plan", "sized_change"]

MAX_STEPS = 8
MAX_BATCH = 10_000
# Effort of each kind of change, lowest first: a configuration value before a deployment change
# before a bigger machine (ties are broken by the larger ceiling).
_EFFORT = {"batch": 0, "workers": 1, "instances": 2, "servers": 3, "speedup": 4}


@dataclass(frozen=True)
class Step:
    change: Change
    projection: Projection
    """The model after this step and all before it: ceiling, binding limit, and every
    station's utilization at the target rate (or at the ceiling when the target is beyond it)."""
    gain: float
    """Cumulative: the ceiling after this step over today's, minus 1 (a fraction)."""


@dataclass(frozen=True)
class Plan:
    target: float
    today: Projection
    steps: tuple[Step, ...]
    reaches_target: bool
    cap: str | None = None
    """When the target is not reached: the limit that caps the last step."""
    lift: str | None = None
    """What kind of change would lift that cap (one the model cannot size)."""

    @property
    def final(self) -> Projection:
        return self.steps[-1].projection if self.steps else self.today


def _at(model: SystemModel, target: float) -> Projection:
    p = project(model)
    return project(model, min(target, p.ceiling))


_MAX_COUNT = COUNT_BOUNDS["instances"][0]


def plan(model: SystemModel, target: float) -> Plan:
    """The steps from ``model`` to ``target`` (per second)."""
    today = _at(model, target)
    steps: list[Step] = []
    current, now = model, today
    while now.ceiling < target and len(steps) < MAX_STEPS:
        options = []
        for change in _candidates(current, now, target):
            changed = apply(current, change)
            after = _at(changed, target)
            if after.ceiling > now.ceiling * (1 + 1e-9):
                options.append((change, changed, after))
        if not options:
            break
        change, _, chosen = min(
            options, key=lambda o: (-min(o[2].ceiling, target), _EFFORT[o[0].kind])
        )
        change = _trim(current, change, min(chosen.ceiling, target))
        current = apply(current, change)
        now = _at(current, target)
        gain = now.ceiling / today.ceiling - 1 if today.ceiling > 0 else math.inf
        steps.append(Step(change, now, gain))
    steps = _once_each(model, steps, target, today)
    reached = now.ceiling >= target * (1 - 1e-9)
    return Plan(
        target=target,
        today=today,
        steps=tuple(steps),
        reaches_target=reached,
        cap=None if reached else now.binding,
        lift=None if reached else _lift(current, now.binding),
    )


def _once_each(
    model: SystemModel, steps: list[Step], target: float, today: Projection
) -> list[Step]:
    """One step per kind of change (and station): a later step that changes the same thing
    again (instances, then a batch, then more instances) is folded into the first one, which
    takes the final value; the projections are recomputed in that order. The end state is the
    same, and each step's ceiling is at least what it was (a count only grew)."""
    changes: list[Change] = []
    for step in steps:
        key = (step.change.kind, step.change.station)
        at = next((i for i, c in enumerate(changes) if (c.kind, c.station) == key), None)
        if at is None:
            changes.append(step.change)
        else:
            changes[at] = step.change
    if len(changes) == len(steps):
        return steps
    # the changes commute (each sets its own count or batch): reorder so that every step lifts
    # the ceiling; one that lifts nothing where it stands moves after the others, and one that
    # lifts nothing even last is not needed for the ceiling the others reach
    for _ in range(len(changes) ** 2):
        out = _replayed(model, changes, target, today)
        stuck = next(
            (
                i
                for i, step in enumerate(out)
                if step.projection.ceiling
                <= (out[i - 1].projection.ceiling if i else today.ceiling) * (1 + 1e-9)
            ),
            None,
        )
        if stuck is None:
            return out
        if stuck == len(changes) - 1:
            changes.pop()
        else:
            changes.append(changes.pop(stuck))
    return _replayed(model, changes, target, today)


def _replayed(
    model: SystemModel, changes: list[Change], target: float, today: Projection
) -> list[Step]:
    out, current = [], model
    for change in changes:
        current = apply(current, change)
        now = _at(current, target)
        gain = now.ceiling / today.ceiling - 1 if today.ceiling > 0 else math.inf
        out.append(Step(change, now, gain))
    return out


def _today(model: SystemModel, change: Change) -> int:
    if change.kind == "instances":
        return model.instances
    if change.kind == "workers":
        return model.workers or 1
    if change.kind == "batch":
        return model.batch
    station = model.station(change.station or "")
    return (station.servers or 1) if station is not None else 1


def _named(model: SystemModel, change: Change, value: int) -> Change:
    words = {
        "instances": f"{value} instances",
        "workers": f"{value} workers per instance",
        "batch": f"batch {value} items per call",
        "servers": _servers_words(model, change.station, value),
    }
    return Change(change.kind, value, change.station, change.share, words.get(change.kind, ""))


def _servers_words(model: SystemModel, station: str | None, value: int) -> str:
    """``value`` servers at ``station`` per instance, in words. A station of one server today
    may be one of unknown size (the CPU when the metrics give no cores is one server of the
    measured capacity), so its count reads as a multiple: "2× the cpu", not "2 cpu", which a
    host of 8 cores would read as fewer."""
    found = model.station(station or "")
    if found is not None and (found.servers or 1) == 1:
        return f"{value}× the {station} per instance"
    return f"{value} {station} per instance"


def _trim(model: SystemModel, change: Change, ceiling: float) -> Change:
    """The smallest count of ``change`` that still gives ``ceiling`` (no more instances, workers
    or servers than the limit that binds next lets count), by bisection: the ceiling grows with
    the count. A batch is left as sized: sized for the target, it is not re-tuned at every step."""
    if change.kind not in ("instances", "workers", "servers"):
        return change
    low, high = _today(model, change), int(change.value)

    def enough(value: int) -> bool:
        after = project(apply(model, _named(model, change, value)))
        return after.ceiling >= ceiling * (1 - 1e-9)

    if high <= low + 1 or not enough(high):
        return _named(model, change, high)
    while high - low > 1:
        mid = (low + high) // 2
        if enough(mid):
            high = mid
        else:
            low = mid
    return _named(model, change, high)


def _candidates(model: SystemModel, now: Projection, target: float) -> list[Change]:
    """Changes that could lift the binding limit to the target, each sized for it."""
    limit = now.binding
    rate = now.limits.get(limit, 0.0)
    out: list[Change] = []
    if rate <= 0:
        return out
    need = target / rate
    if limit == WORKERS:
        if model.workers is not None:
            per_instance = _workers_for(model, target, need)
            out.append(Change("workers", per_instance, what=f"{per_instance} workers per instance"))
            c = model.contention
            if c is not None and c.throughput(per_instance) > c.throughput(model.workers) * (
                1 + 1e-9
            ):
                # the sweep says each instance carries more with the workers it supports: that
                # configuration value comes before paying for more instances
                return out
        out.append(_instances(model, need))
        batch = _batch_for_workers(model, target) if model.contention is None else None
        if batch is not None:
            out.append(batch)
        return [c for c in out if c is not None]
    station = model.station(limit)
    if station is None:
        return out
    if station.per_call > 0:
        batch = _batch_for_station(model, limit, target)
        if batch is not None:
            out.append(batch)
    if station.scope == "per_instance":
        out.append(_instances(model, need))
        if station.servers is not None:
            servers = _times(station.servers, need)
            what = _servers_words(model, limit, servers)
            out.append(Change("servers", servers, limit, what=what))
    return [c for c in out if c is not None]


def _workers_for(model: SystemModel, target: float, need: float, slack: float = 0.0) -> int:
    """Workers per instance for ``target``: Little's law (today's workers × ``need``), or with
    the sweep's USL the fewest N with u · X(N) · instances ≥ target, up to the level the sweep
    recommends (or the curve's peak when it recommends none); that level when none reaches it."""
    c = model.contention
    if c is None:
        return _times(model.workers if model.workers is not None else 1, need, slack)
    top = _top(c)
    per_instance = target / (model.worker_target * model.instances)
    # X(N) rises up to its peak and falls after it: bisect the rising part
    low, high = 0, min(top, _peak_of(c))
    if c.throughput(high) < per_instance * (1 - 1e-9):
        return top
    while high - low > 1:
        mid = (low + high) // 2
        if c.throughput(mid) >= per_instance * (1 - 1e-9):
            high = mid
        else:
            low = mid
    return high


def _top(c: Contention) -> int:
    """The most workers per instance the sweep supports: the level it recommends, or the
    curve's peak when it recommends none."""
    return c.level if c.level is not None else _peak_of(c)


def _peak_of(c: Contention) -> int:
    """The whole N where X(N) peaks (⌊√((1 − σ)/κ)⌋ or the next, whichever carries more), or the
    bound on a count when the curve has no peak (κ = 0)."""
    if c.kappa <= 0:
        return _MAX_COUNT
    star = math.sqrt(max(1 - c.sigma, 0.0) / c.kappa)
    if not math.isfinite(star) or star >= _MAX_COUNT:
        return _MAX_COUNT
    low = max(1, math.floor(star))
    return max((low, low + 1), key=c.throughput)


def _times(count: float, need: float, slack: float = 0.0) -> int:
    """ceil(count × need − slack), held to the bound on a count of instances, workers or
    servers (``COUNT_BOUNDS``): a need that is astronomically large, or infinite (a rate of
    1e-300/s today), asks for the bound, and the plan then says the target is not reached
    instead of sizing a loop or an int() by it."""
    wanted = count * need - slack
    if not math.isfinite(wanted) or wanted > _MAX_COUNT:
        return _MAX_COUNT
    return math.ceil(wanted)


def _need(target: float, rate: float) -> float:
    """target / rate: how many times today's limit must grow (inf for a limit of 0)."""
    return target / rate if rate > 0 else math.inf


def _instances(model: SystemModel, need: float) -> Change:
    wanted = _times(model.instances, need, 1e-9)
    if model.max_instances is not None:
        wanted = min(wanted, model.max_instances)
    return Change("instances", max(wanted, model.instances), what=f"{wanted} instances")


def _batch_for_station(model: SystemModel, name: str, target: float) -> Change | None:
    """The smallest batch with the station at or under its target at ``target``."""
    s = model.station(name)
    if s is None or s.servers is None:
        return None
    from throughput_expert.advisors.system.project import servers_of

    allowed = s.target * (servers_of(model, s) or 1) / target  # demand per item it may have
    per_item, per_call = s.demand * (1 - s.per_call), s.demand * s.per_call * model.batch
    return _smallest_batch(per_item, per_call, allowed, model.batch)


def _batch_for_workers(model: SystemModel, target: float) -> Change | None:
    if model.workers is None or not model.item_time or model.item_per_call <= 0:
        return None
    allowed = model.worker_target * model.workers * model.instances / target  # R ≤ u·N / X
    per_item = model.item_time * (1 - model.item_per_call)
    per_call = model.item_time * model.item_per_call * model.batch
    return _smallest_batch(per_item, per_call, allowed, model.batch)


def _smallest_batch(per_item: float, per_call: float, allowed: float, today: int) -> Change | None:
    """The smallest b with per_item + per_call / b ≤ allowed: the batching cost model with
    c0 = per_call, c1 = per_item, one call in flight, and the rate 1 / allowed
    (``laws/batching.smallest_batch_for``); when none does, the largest useful one (the per-call
    part then is 1 % of the demand)."""
    if per_call <= 0 or allowed <= 0:
        return None
    found = smallest_batch_for(1 / allowed, per_call, per_item)
    b = found if found is not None else math.ceil(per_call / max(per_item * 0.01, 1e-12))
    b = max(min(b, MAX_BATCH), 1)
    if b <= today:
        return None
    return Change("batch", b, what=f"batch {b} items per call")


def _lift(model: SystemModel, binding: str) -> str | None:
    """What would lift a limit the plan cannot: a shared station's capacity, a bound on
    instances."""
    station = model.station(binding)
    c = model.contention
    if binding == WORKERS and c is not None:
        more = (
            f"; instances are at their bound ({model.max_instances}): raise it"
            if model.max_instances is not None and model.instances >= model.max_instances
            else ", or more instances"
        )
        top = _top(c)
        return (
            f"the workers' contention: one instance carries at most "
            f"{c.throughput(top):.4g} rps with every worker busy, at {top} workers, the level "
            f"the sweep supports (USL σ = {c.sigma:.3g}, κ = {c.kappa:.3g}); remove the "
            f"serialization and crosstalk it measured (shard the lock, partition the data){more}"
        )
    if station is not None and station.scope == "shared":
        return (
            f"{binding} is shared by every instance: more of it (partition or shard the "
            "store, a faster device), or less demand per item"
        )
    if model.max_instances is not None and model.instances >= model.max_instances:
        return f"instances are at their bound ({model.max_instances}): raise it"
    return None


def sized_change(model: SystemModel, kind: str, target: float) -> Change | None:
    """One change of ``kind`` sized for ``target`` on today's model, as the plan would size it
    for the limit it lifts (the most constraining one it can lift); None when it lifts none."""
    now = project(model)
    if kind == "batch":
        found = [_batch_for_station(model, s.name, target) for s in model.stations if s.per_call]
        found.append(_batch_for_workers(model, target))
        sizes = [c for c in found if c is not None]
        return max(sizes, key=lambda c: c.value) if sizes else None
    per_instance = [
        rate
        for name, rate in now.limits.items()
        if name == WORKERS or getattr(model.station(name), "scope", "") == "per_instance"
    ]
    if kind == "instances" and per_instance:
        return _instances(model, _need(target, min(per_instance)))
    if kind == "workers" and model.workers is not None and WORKERS in now.limits:
        workers = _workers_for(model, target, _need(target, now.limits[WORKERS]), 1e-9)
        return Change("workers", workers, what=f"{workers} workers per instance")
    if kind == "servers":
        stations = [
            s
            for s in model.stations
            if s.scope == "per_instance" and s.servers and s.name in now.limits
        ]
        if stations:
            s = min(stations, key=lambda s: now.limits[s.name])
            servers = _times(s.servers or 1, _need(target, now.limits[s.name]), 1e-9)
            return Change("servers", servers, s.name, what=_servers_words(model, s.name, servers))
    return None


def batch_delay(model: SystemModel, rate: float) -> float | None:
    """What batching adds to an item's latency at ``rate``: the wait for its batch to fill, each
    of the N workers (all instances) collecting b items from a 1/N share of the arrivals,
    b·N / X, plus the call that writes the batch, b·R(b) (R the worker's time per item at that
    batch). None without batching (b = 1), workers or a rate."""
    if model.batch <= 1 or rate <= 0 or model.workers is None:
        return None
    workers = model.workers * model.instances
    fill = model.batch * workers / rate
    call = model.batch * model.item_time if model.item_time is not None else 0.0
    return fill + call
