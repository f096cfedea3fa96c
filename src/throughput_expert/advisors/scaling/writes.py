"""A store that cannot add instances, and the one component that writes to it: batch the writes,
then scale the writer out, planned on ONE system model of the pair.

When a store (a database or cache that is neither partitioned nor read mostly) cannot carry the
target by itself and its only caller scales out, ``scaling-plan`` builds the model ``analyze``
plans on (``model/system.SystemModel``), in entry requests per second: each component's stations
from ``advisors/system/architecture.component_model`` (demand per entry request = fan-out ×
demand per call), the caller's per instance, the store's shared (scaling out never multiplies
it) with the share of a write paid once per call (``batching_operations``: per statement and per
commit) on every rate-bound station of the store; the caller's instances, bound and USL. The
solver's plan (``advisors/system/plan.plan``) sizes the batch and the instances; each step's
ceiling, binding limit and utilizations are ``project()``'s on the changed model.

Not built (the current plan stands): several callers (their instance groups differ), a caller
that cannot scale out, a store that adds instances (read replicas, shards), a store the
architecture gives nothing to size by.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from throughput_expert.advisors.analyze.planning import record
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.system.architecture import component_model, scales_out
from throughput_expert.advisors.system.plan import Plan, Step, plan
from throughput_expert.laws.little import response_time_from
from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.architecture import Architecture, Component
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import SystemModel, SystemStation
from throughput_expert.model.units import fmt_count

__all__ = ["LAW", "Writes", "applies", "combined", "plan_writes", "station_name"]

LAW = (
    "utilization law at each station's saturation target, X = target·m / D, on one model of "
    "the caller and the store in entry requests per second (D = fan-out × demand per call; the "
    "store's stations shared: not multiplied by instances); a batch of b writes cuts the "
    "store's per-call demand to D·((1 − f) + f / b)"
)

# The operation a store's writes are, for the batching data (as analyze reads a sink)
_OPERATION = {"database": "database-insert", "cache": "api-call"}


@dataclass(frozen=True)
class Writes:
    """The pair's model and the solver's plan on it."""

    store: Component
    caller: Component
    model: SystemModel
    plan: Plan
    ids: tuple[str, ...]

    @property
    def batch(self) -> int | None:
        """Items per commit the plan batches the writes into (None: no batch step)."""
        found = [s.change.value for s in self.plan.steps if s.change.kind == "batch"]
        return int(found[-1]) if found else None

    @property
    def instances(self) -> int:
        """The caller's instances after the plan."""
        found = [s.change.value for s in self.plan.steps if s.change.kind == "instances"]
        return int(found[-1]) if found else self.caller.instances

    def stations_of(self, c: Component) -> list[str]:
        return [s.name for s in self.model.stations if s.name.startswith(f"{c.name} ")]

    def limit_of(self, c: Component) -> float:
        """The entry rate ``c``'s stations carry at their targets after the plan."""
        return self.plan.final.limits[self.binding_of(c)]

    def binding_of(self, c: Component) -> str:
        """The station of ``c`` that carries the least after the plan."""
        limits = self.plan.final.limits
        return min((n for n in self.stations_of(c) if n in limits), key=lambda n: limits[n])

    def record(self) -> PlanRecord:
        return record((self.model, self.plan, self.ids))


_WORDS = {"cpu": "CPU", "disk_io": "disk I/O"}


def station_name(c: Component, station: str) -> str:
    """A station of the pair's model: the component's name, then its own in words ("db disk
    I/O")."""
    return f"{c.name} {_WORDS.get(station, station)}"


def combined(
    store: Component,
    caller: Component,
    fanouts: dict[str, float],
    arch: Architecture,
    settings: Settings,
    usl: tuple[float, float] | None,
) -> tuple[SystemModel, float] | None:
    """The pair's model in entry requests per second, and the share of a write paid per call
    (None when either component has nothing to size it by)."""
    entry = arch.entry_rate_rps
    own = component_model(caller, fanouts[caller.name], entry, settings, usl)
    its = component_model(store, fanouts[store.name], entry, settings)
    if own is None or its is None:
        return None
    share = float(settings.batching_operation(_OPERATION[store.kind])["fixed_share"])
    stations: list[SystemStation] = []
    for c, model, per_call in ((caller, own, 0.0), (store, its, share)):
        fan = fanouts[c.name]
        for s in model.stations:
            stations.append(
                replace(
                    s,
                    name=station_name(c, s.name),
                    demand=s.demand * fan,
                    per_call=per_call if s.kind != "memory" else 0.0,
                    source=f"{s.source}; × {fan:g} calls per entry request",
                )
            )
    workers, item_time = _workers(caller, entry)
    pair = SystemModel(
        name=f"{caller.name} → {store.name}",
        stations=tuple(stations),
        rate=entry,
        instances=caller.instances,
        max_instances=caller.max_instances,
        workers=workers,
        worker_target=settings.threshold("pool_busy_target"),
        item_time=item_time,
        item_per_call=share if item_time is not None else 0.0,
        scaling=own.scaling,
    )
    return pair, share


def _workers(caller: Component, entry: float) -> tuple[int | None, float | None]:
    """The caller's workers per instance and the time one holds per entry request, when the
    architecture gives its ``concurrency`` and no service time (that is a station already):
    Little's law over every instance's workers, R = N·n / X, each always busy (as analyze reads
    a worker count; the worker waits on each write, so a batch cuts its time as the store's)."""
    if not caller.concurrency_given or caller.service_time_s is not None or entry <= 0:
        return None, None
    n = caller.concurrency_per_instance
    return n, response_time_from(n * caller.instances, entry)


def applies(store: Component, callers: list[Component]) -> Component | None:
    """The one caller of ``store`` the pair's model is built for, or None."""
    if store.kind not in _OPERATION or scales_out(store) or len(callers) != 1:
        return None
    caller = callers[0]
    return caller if scales_out(caller) else None


def plan_writes(
    store: Component,
    caller: Component,
    fanouts: dict[str, float],
    arch: Architecture,
    target: float,
    settings: Settings,
    usl: tuple[float, float] | None,
    ledger: Ledger,
) -> Writes | None:
    """The solver's plan on the pair's model, its steps proved, its assumptions said."""
    built = combined(store, caller, fanouts, arch, settings, usl)
    if built is None:
        return None
    model, share = built
    found = plan(model, target)
    if not any(s.change.kind == "batch" for s in found.steps):
        return None  # batching does not lift the store: the current plan stands
    found = replace(found, steps=tuple(_worded(s, store, caller) for s in found.steps))
    operation = _OPERATION[store.kind]
    entry = settings.batching_operation(operation)
    cut = [s.name for s in model.stations if s.per_call > 0]
    ledger.assume(
        f"share of a {operation} paid per call",
        share,
        f"{entry['source']} (confidence {entry['confidence']}); applied to every rate-bound "
        f"station of {store.name} ({', '.join(cut)}): the source is about the whole write's "
        "per-statement and per-commit work, not one device's (analyze, which sees only the disk "
        "beside its sink, applies it to that disk)" + _disk_only(model, store, found),
    )
    if model.workers is not None and model.item_time is not None:
        ledger.assume(
            f"{caller.name}'s time per write",
            f"≤ {model.item_time * 1e6:.4g} µs",
            f"{model.workers} worker(s) per instance ({caller.name}'s concurrency) × "
            f"{caller.instances} at {fmt_count(arch.entry_rate_rps)} rps, each always busy: "
            "Little's law R = N·n / X (less if they idle); the worker waits on each write, so "
            f"the share paid per call is {share:g} of its time too, and the batch is sized for "
            f"it as for {store.name}'s stations",
        )
    elif not any(s.kind == "pool" for s in model.stations if s.name.startswith(f"{caller.name} ")):
        ledger.assume(
            f"{caller.name}'s time per write",
            "not a limit",
            f"the architecture gives {caller.name} no workers in flight with a time per item: "
            "its stations are its measured resources, which a batch does not cut, and the batch "
            f"is sized for {store.name}'s stations; analyze, given a worker count, also sizes it "
            "for the time one worker holds per item (Little's law, workers always busy), which "
            "can ask for a larger batch",
        )
    ids = tuple(
        ledger.prove(
            f"writes-step-{i}",
            f"step {i}, {s.change.what}: the ceiling at the saturation targets becomes "
            f"{fmt_count(s.projection.ceiling)} rps at the entry, bound by {s.projection.binding}",
            LAW,
            {"change": s.change.kind, "station": s.change.station, "value": s.change.value},
            {
                "ceiling_rps": s.projection.ceiling,
                "binding": s.projection.binding,
                "limits_rps": dict(s.projection.limits),
                "utilization_at_rate": dict(s.projection.utilization),
                "rate_rps": s.projection.rate,
            },
        )
        for i, s in enumerate(found.steps, 1)
    )
    return Writes(store, caller, model, found, ids)


def _disk_only(model: SystemModel, store: Component, found: Plan) -> str:
    """The plan under analyze's reading, the share on the store's disk alone, when the store
    has other stations it would cut: said when it differs."""
    disk = station_name(store, "disk_io")
    cut = [s for s in model.stations if s.per_call > 0 and s.name != disk]
    if not cut or model.station(disk) is None:
        return ""
    other = model
    for s in cut:
        other = other.with_station(replace(s, per_call=0.0))
    alt = plan(other, found.target)
    if alt.reaches_target == found.reaches_target and alt.cap == found.cap:
        return ""
    if alt.reaches_target:
        return f"; with it on {disk} alone the plan reaches the target too"
    return (
        f"; with it on {disk} alone the plan stops at {fmt_count(alt.final.ceiling)} rps, "
        f"capped by {alt.cap}"
    )


def _worded(step: Step, store: Component, caller: Component) -> Step:
    change = step.change
    if change.kind == "batch":
        what = f"batch the writes to {store.name}: {int(change.value)} items per commit"
    elif change.kind == "instances":
        what = f"{caller.name} to {int(change.value)} instances"
    else:
        return step
    return replace(step, change=replace(change, what=what))
