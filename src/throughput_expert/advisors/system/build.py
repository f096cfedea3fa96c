"""The system model from what was measured: a service's metrics and the sink it writes to.

- Each busy resource is a station whose demand per request is the service-demand law,
  D = U·m / X (``laws/utilization.service_demand``), with m its servers (the cores for the CPU
  when known; else one server of the measured capacity, which leaves every ceiling at a target
  unchanged because D and m scale together).
- Scope: the CPU and the network are each instance's own. A disk measured beside a named sink (a
  database or a queue the service writes to) is read as the sink's: one for all instances —
  the reading a senior engineer takes for "disk 80 %" beside "PostgreSQL sink", since a consumer
  that writes to a database does little disk I/O of its own. It is listed as an assumption.
- ``instances`` (hosts or replicas today, from the metrics; 1 when not said) and
  ``max_instances`` bound scale-out. Throughput is all instances' together and a per-instance
  utilization one instance's, so its demand counts every instance's servers: D = U·m·n / X.
- The share of the disk's demand paid per call (a commit's flush) is the operation's
  ``fixed_share`` in the batching data (``batching_operations``), with its source; the worker's
  time per item (Little's law: R = N / X) is split the same way, since the worker waits on each
  commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from throughput_expert.errors import ThroughputError
from throughput_expert.laws.batching import fit_call_cost
from throughput_expert.laws.little import response_time_from
from throughput_expert.laws.utilization import service_demand
from throughput_expert.model import Assumption, ServiceMetrics
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import Scope, Sink, StationKind, SystemModel, SystemStation
from throughput_expert.model.trials import CallCost

__all__ = ["Sink", "from_metrics"]

# the operation whose per-call share applies to a sink of each kind (batching data)
_OPERATION = {"database": "database-insert", "queue": "message-publish", "cache": "api-call"}
_RATE_BOUND: tuple[tuple[str, StationKind], ...] = (
    ("cpu", "cpu"),
    ("disk_io", "disk_io"),
    ("network", "network"),
)


def from_metrics(
    m: ServiceMetrics,
    settings: Settings,
    sink: Sink | None = None,
    trials: Sequence[CallCost] = (),
) -> tuple[SystemModel, tuple[Assumption, ...]] | None:
    """The model of ``m`` (None without a measured throughput), and what had to be assumed
    (or derived from ``trials``: measured calls at several batch sizes)."""
    x = m.throughput_rps
    if not x or x <= 0:
        return None
    assumed: list[Assumption] = []
    share = 0.0
    if sink is not None and not trials:
        operation = _OPERATION.get(sink.kind, "database-insert")
        entry = settings.batching_operation(operation)
        share = float(entry["fixed_share"])
        assumed.append(
            Assumption(
                f"share of a {operation} paid per call",
                share,
                f"{entry['source']} (confidence {entry['confidence']})",
            )
        )
    stations = []
    for resource, kind in _RATE_BOUND:
        u = m.utilization.get(resource)  # type: ignore[call-overload]
        if not u:
            continue
        # whole servers: a fractional core count (a container's quota) rounds, at least one;
        # the ceiling at a target does not depend on it (D and m scale together)
        servers = max(1, round(m.cores)) if resource == "cpu" and m.cores else 1
        instances = m.instances or 1
        scope: Scope = "per_instance"
        per_call = 0.0
        if resource == "disk_io" and sink is not None:
            scope, per_call = "shared", share
            assumed.append(
                Assumption(
                    "the disk is the sink's",
                    sink.name,
                    f"disk_io at {u:.0%} beside a {sink.kind} sink ({sink.name}) is read as the "
                    "sink's disk, shared by every instance: scaling out does not add to it, "
                    "batching its commits does",
                )
            )
        # a per-instance resource's utilization is one instance's, and all of them serve X
        every = servers * (instances if scope == "per_instance" else 1)
        stations.append(
            SystemStation(
                name=resource,
                kind=kind,
                demand=service_demand(u, x, every),
                servers=servers,
                target=settings.target(resource),  # type: ignore[arg-type]
                scope=scope,
                per_call=per_call,
                source=f"service-demand law: D = U·m / X = {u:.3g}·{every} / {x:.6g}",
            )
        )
    # Little's law over every instance's workers: R = N·n / X
    item_time = response_time_from(m.workers * (m.instances or 1), x) if m.workers else None
    today = m.batch_size or 1
    item_share = share if item_time is not None else 0.0
    if trials:
        table = _table_share(settings, sink)
        limit = settings.threshold("trial_max_relative_error")
        measured = _measured_shares(trials, today, stations, item_time, assumed, table, limit)
        stations = [replace(st, per_call=measured.get(st.name, 0.0)) for st in stations]
        item_share = measured.get(WORKER, 0.0) if item_time is not None else 0.0
    elif sink is not None and any(st.kind == "cpu" for st in stations):
        assumed.append(
            Assumption(
                "the CPU's time per item does not fall with batching",
                0.0,
                "not measured: a batch trial with the CPU time of each call (analyze's batch "
                "trials, a cpu_ms column) says how much of it is paid per call (a round trip, "
                "a statement's start, a commit: on a plain insert path most of it)",
            )
        )
    model = SystemModel(
        name=m.service or "service",
        stations=tuple(stations),
        rate=x,
        instances=m.instances or 1,
        max_instances=m.max_instances,
        workers=m.workers,
        worker_target=settings.threshold("pool_busy_target"),
        item_time=item_time,
        item_per_call=item_share,
        batch=int(today),
    )
    return model, tuple(assumed)


WORKER = "worker"  # the worker's time per item, fitted from the calls' latency


def _table_share(settings: Settings, sink: Sink | None) -> float:
    """The batching table's share paid per call for the sink's operation (a database insert
    when no sink is named)."""
    operation = _OPERATION.get(sink.kind, "database-insert") if sink else "database-insert"
    return float(settings.batching_operation(operation)["fixed_share"])


_COLUMNS = (("worker", "latency_ms"), ("cpu", "cpu_ms"), ("disk_io", "disk_ms"))


def _measured_shares(
    trials: Sequence[CallCost],
    today: float,
    stations: Sequence[SystemStation],
    item_time: float | None,
    notes: list[Assumption],
    table: float,
    max_error: float,
) -> dict[str, float]:
    """Each measured quantity's share paid per call at today's batch: the cost line
    T(b) = c0 + c1·b fitted to the calls (``laws/batching.fit_call_cost``); at b₀ items per call
    an item carries c0 / b₀ of per-call cost: that share of the demand measured today (the rest
    of a station's demand, work the trial did not do, stays per item), and never more than the
    trial's own share c0 / (c0 + c1·b₀) (a trial run apart from today's load may be slower or
    faster in absolute terms). When today's demand is within twice the line's relative error of
    the trial's own cost per item (c0 / b₀ + c1), it is that cost measured again and takes the
    trial's own split: the difference of two nearly equal numbers is noise, and read as work per
    item it would stay whole while batching cuts the rest. A line is kept when its relative
    error is at most ``max_error`` (a flat line, all of it per call, has an R² near 0 however
    well it fits); a quantity the
    trial did not measure, or measured too noisily, takes the batching table's share (``table``)
    for the worker and the sink's disk, and none for the CPU (said so)."""
    demands = {st.name: st.demand for st in stations}
    if item_time is not None:
        demands[WORKER] = item_time
    values: dict[str, list[float | None]] = {
        WORKER: [c.latency_s for c in trials],
        "cpu": [c.cpu_s for c in trials],
        "disk_io": [c.disk_s for c in trials],
    }
    sizes = [c.batch_size for c in trials]
    out: dict[str, float] = {}
    for name, column in _COLUMNS:
        demand = demands.get(name)
        if demand is None or demand <= 0:
            continue
        fallback = 0.0 if name == "cpu" else table
        measured = values[name]
        why = None
        fit = None
        if any(v is None for v in measured):
            why = f"the batch trial has no {column} column"
        else:
            try:
                fit = fit_call_cost(sizes, [float(v) for v in measured if v is not None])
            except ThroughputError as err:
                why = f"its {column} column gives no cost line ({err.message})"
            if fit is not None and fit.relative_error > max_error:
                why = (
                    f"its {column} column strays {fit.relative_error:.0%} from the best line "
                    f"(over thresholds.trial_max_relative_error = {max_error:.0%})"
                )
                fit = None
        if fit is None:
            out[name] = fallback
            notes.append(
                Assumption(
                    f"{name}'s share paid per call",
                    fallback,
                    f"{why}: "
                    + (
                        "the batching table's share is used"
                        if fallback
                        else f"{name}'s time per item is taken not to fall with batching"
                    ),
                )
            )
            continue
        per_item_at_today = fit.c0_s / today
        own = per_item_at_today / (per_item_at_today + fit.c1_s)  # the trial's own split
        # today's demand within the trial's noise of the trial's own cost per item is that
        # cost measured again: split as the trial measured it (taking the difference of two
        # nearly equal numbers as work per item would multiply the noise by the batch size);
        # beyond it, the excess is work the trial did not do and stays per item
        trial_item = per_item_at_today + fit.c1_s
        within = demand <= trial_item * (1 + 2 * fit.relative_error)
        share = own if within else min(own, per_item_at_today / demand)
        out[name] = share
        notes.append(
            Assumption(
                f"{name}'s share paid per call",
                round(share, 4),
                f"measured: T(b) = c0 + c1·b fitted to {len(sizes)} calls ({column}): c0 = "
                f"{fit.c0_s * 1e6:.4g} µs per call, c1 = {fit.c1_s * 1e6:.4g} µs per item "
                f"(relative error {fit.relative_error:.1%}"
                + (f"; {fit.note}" if fit.note else "")
                + f"); at {today:g} item(s) per call that is "
                f"{per_item_at_today * 1e6:.4g} µs of the {demand * 1e6:.4g} µs per item "
                "measured today"
                + (
                    f"; today's {demand * 1e6:.4g} µs is within twice the line's relative error "
                    f"of the trial's own {trial_item * 1e6:.4g} µs per item, so the trial's own "
                    f"split c0/(c0 + c1·b₀) = {own:.4g} is used"
                    if within
                    else (
                        f", or the trial's own share c0/(c0 + c1·b₀) = {own:.4g} if less (a "
                        "trial run apart from today's load is slower or faster in absolute terms)"
                        if share == own
                        else "; the rest, beyond the trial's noise, is work the trial did not "
                        "do and stays per item"
                    )
                ),
            )
        )
    return out
