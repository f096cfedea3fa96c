"""What the model can carry: the ceiling at the saturation targets, what binds it, and every
station's utilization at a rate; and a change applied to the model.

- Each station caps the rate at its target by the utilization law: X_i = target_i · m_i / D_i,
  with m_i the servers of all instances for a ``per_instance`` station, its own for a ``shared``
  one (``laws/utilization.rate_at_utilization``, ``laws/network``).
- Workers cap it by Little's law at their saturation target: X ≤ u·N / R, N = workers ×
  instances, R the time a worker holds per item (``laws/little.throughput_from``). With a
  sweep's USL fit of one instance (``SystemModel.contention``) the curve replaces Little's
  linear N / R: X(N) = λN / (1 + σ(N−1) + κN(N−1)) is what one instance carries with N
  workers all busy (the sweep drives it at saturation), so its limit at the workers'
  saturation target is X ≤ u · X(N) · instances, and the workers' busy share at a rate X is
  X / (X(N) · instances).
- With the USL over instances (``SystemModel.scaling``: σ, κ measured at n₀ instances) a
  per-instance station's demand per request at n instances is D·(n / n₀)·rel(n₀) / rel(n),
  rel(n) = n / (1 + σ(n−1) + κn(n−1)): n instances carry rel(n) / rel(n₀) times today's; shared
  stations and the workers are not scaled by it.
- The ceiling is the lowest of those; the binding limit is the one that sets it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from throughput_expert.laws.amdahl import amdahl_speedup
from throughput_expert.laws.little import throughput_from
from throughput_expert.laws.network import ClosedSolution, Station, closed_network, utilizations
from throughput_expert.model.system import Change, SystemModel, SystemStation

__all__ = ["WORKERS", "Projection", "apply", "closed", "demand_of", "project", "servers_of"]

WORKERS = "workers"  # the binding limit's name when the workers cap the rate


@dataclass(frozen=True)
class Projection:
    """The model's ceiling at its targets and what binds it; utilizations at ``rate``."""

    ceiling: float
    binding: str
    limits: Mapping[str, float]
    """Each limit's rate: a station's at its target, and the workers'."""
    rate: float
    utilization: Mapping[str, float]
    """Every station's utilization at ``rate``, and the workers' busy share."""
    capacity: float = math.inf
    """The most the model carries with every limit at 100 % (the workers always busy): the
    asymptotic bound X ≤ min(m_i / D_i, N / R)."""


def servers_of(model: SystemModel, s: SystemStation) -> int | None:
    """The servers a station has in the whole system (a per-instance one's times instances)."""
    if s.servers is None:
        return None
    return s.servers * model.instances if s.scope == "per_instance" else s.servers


def demand_of(model: SystemModel, s: SystemStation) -> float:
    """A station's demand per request at the model's instances: as measured, or, with the USL
    over instances (``SystemModel.scaling``) on a per-instance station, grown by its coherence
    and contention, D·(n / n₀)·rel(n₀) / rel(n), so that n instances' servers carry rel(n) /
    rel(n₀) times today's."""
    scaling = model.scaling
    if scaling is None or s.scope != "per_instance" or model.instances == scaling.measured_at:
        return s.demand
    return s.demand * scaling.demand_factor(model.instances)


def _network(model: SystemModel) -> list[Station]:
    return [Station(s.name, demand_of(model, s), servers_of(model, s)) for s in model.stations]


def project(model: SystemModel, rate: float | None = None) -> Projection:
    """The ceiling, the binding limit and each limit's rate; utilizations at ``rate`` (default:
    the ceiling)."""
    limits: dict[str, float] = {}
    full: list[float] = []
    network = _network(model)
    for s, station in zip(model.stations, network, strict=True):
        if station.servers is None or s.demand <= 0:
            continue
        # the utilization law at the station's target: X = U·m / D
        limits[s.name] = s.target * station.capacity
        full.append(station.capacity)
    workers = model.workers * model.instances if model.workers is not None else None
    contention = model.contention
    per_instance = 0.0
    if model.workers is not None and contention is not None:
        # the sweep's USL at the pool's saturation target: X = u · X(N) · instances
        per_instance = contention.throughput(model.workers)
        limits[WORKERS] = model.worker_target * per_instance * model.instances
        full.append(per_instance * model.instances)
    elif workers is not None and model.item_time:
        # Little's law at the pool's saturation target: X = u · N / R
        limits[WORKERS] = throughput_from(model.worker_target * workers, model.item_time)
        full.append(throughput_from(workers, model.item_time))
    binding = min(limits, key=lambda k: limits[k]) if limits else ""
    ceiling = limits[binding] if limits else math.inf
    at = ceiling if rate is None else rate
    shown = at if math.isfinite(at) else 0.0
    busy = utilizations(network, shown) if network else []  # a model of workers alone
    used = dict(zip((s.name for s in model.stations), busy, strict=True))
    if per_instance > 0:
        used[WORKERS] = shown / (per_instance * model.instances)  # busy = X / (X(N)·n)
    elif workers is not None and model.item_time:
        used[WORKERS] = shown * model.item_time / workers  # Little's law: busy = X·R / N
    return Projection(
        ceiling=ceiling,
        binding=binding,
        limits=limits,
        rate=shown,
        utilization=used,
        capacity=min(full, default=math.inf),
    )


def closed(model: SystemModel, workers: int | None = None) -> ClosedSolution | None:
    """The model as a closed loop: ``workers`` per instance (default the model's) times its
    instances in flight, each spending ``think_time`` outside the stations between visits,
    solved by Mean Value Analysis (exact up to ``laws/network.EXACT_MVA_LIMIT`` requests,
    Schweitzer's approximation beyond). Where the bounds say what the loop can never pass, this
    is what it carries, queueing included. None without workers or with nothing that queues."""
    per_instance = workers if workers is not None else model.workers
    network = [s for s in _network(model) if s.demand > 0]
    if per_instance is None or per_instance < 1 or (not network and model.think_time <= 0):
        return None
    if not network:
        network = [Station("none", 0.0, None)]
    return closed_network(network, per_instance * model.instances, model.think_time)


def _per_item(demand: float, per_call: float, batch: float, today: float) -> tuple[float, float]:
    """A demand measured at ``today`` items per call, at ``batch`` items per call (the batching
    cost model T(b)/b = c0/b + c1, split by the per-call share), and its new per-call share."""
    per_item = demand * (1 - per_call)
    per_call_part = demand * per_call * today / batch
    new = per_item + per_call_part
    return new, (per_call_part / new if new > 0 else 0.0)


def apply(model: SystemModel, change: Change) -> SystemModel:
    """The model with ``change`` made."""
    if change.kind == "instances":
        return replace(model, instances=int(change.value))
    if change.kind == "workers":
        return replace(model, workers=int(change.value))
    if change.kind == "batch":
        b = float(change.value)
        stations = []
        for s in model.stations:
            if s.per_call > 0:
                demand, share = _per_item(s.demand, s.per_call, b, model.batch)
                s = replace(s, demand=demand, per_call=share)
            stations.append(s)
        item_time, item_share = model.item_time, model.item_per_call
        if item_time is not None and item_share > 0:
            item_time, item_share = _per_item(item_time, item_share, b, model.batch)
        return replace(
            model,
            stations=tuple(stations),
            item_time=item_time,
            item_per_call=item_share,
            batch=int(b),
        )
    station = model.station(change.station or "")
    if station is None:
        raise KeyError(change.station)
    if change.kind == "servers":
        return model.with_station(replace(station, servers=int(change.value)))
    # speedup: Amdahl's law on the station's demand, D' = D / S(f, s)
    faster = amdahl_speedup(change.share, change.value)
    return model.with_station(replace(station, demand=station.demand / faster))
