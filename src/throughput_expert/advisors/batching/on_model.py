"""design-batching on the system model (``model/system.py``, ``advisors/system/project.py``).

The writer is the model's workers: ``k`` batches in flight, each holding an item for T(b) / b
seconds. At one item per call that is T(1) = c0 + c1, of which c0 / T(1) is paid once per call;
a batch of b cuts it to c1 + c0 / b (``apply`` of a ``batch`` change), and Little's law on the
workers gives X(b) = k / (c1 + c0 / b) = k·b / T(b): the model's ``capacity`` (every writer
busy), and at the pools' busy target u its ``ceiling``, u·X(b). This is the model ``analyze``
builds from a service measured at X = k / T(1) with ``k`` workers and the same calls as its
batch trial (Little's law: R = k / X = T(1), split by the trial's own line).

With measurements that time the disk's busy time per call (a ``disk_ms`` column), the disk is a
station too: one server, shared, its demand per item at one item per call the disk line's
Td(1) = d0 + d1, d0 / Td(1) of it per call (the split ``analyze --batch-trials`` takes from
the same column), at its saturation target; a batch is then sized for both. The calls' CPU time
(``cpu_ms``) is not a limit here: the cores that serve them are not known (``analyze`` with the
host's metrics makes it one).

The smallest batch for a target is the smallest b whose projected ceiling carries it: the
ceiling rises with b (every per-call part shrinks) toward the model with every per-call part
amortised away (b → ∞: X = k / c1), so it is found by doubling, then bisection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.system.project import WORKERS, Projection, apply, project
from throughput_expert.errors import ThroughputError
from throughput_expert.laws.batching import batch_time, fit_call_cost
from throughput_expert.laws.little import throughput_from
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import Change, SystemModel, SystemStation
from throughput_expert.model.trials import CallCost
from throughput_expert.model.units import fmt_count, fmt_pct

__all__ = [
    "DISK",
    "WORKERS",
    "at_batch",
    "limit",
    "measured_stations",
    "smallest_batch",
    "writer_model",
]

DISK: Final = "disk_io"

# A projection within this relative distance of the target carries it (rounding aside), as
# ``laws/batching.smallest_batch_for`` counts X(b) within 1e-12 of its target as meeting it;
# and a target within 1e-9 of the asymptote needs an astronomically large batch: none.
_MEETS = 1e-12
_AT_LIMIT = 1e-9


def writer_model(
    c0: float,
    c1: float,
    concurrency: int,
    busy_target: float,
    stations: Sequence[SystemStation] = (),
) -> SystemModel:
    """The writer of the cost line T(b) = c0 + c1·b as the model's workers at one item per
    call: ``concurrency`` of them, each holding an item T(1), c0 / T(1) of it per call; and the
    ``stations`` the calls were measured at."""
    t1 = batch_time(1, c0, c1)
    return SystemModel(
        name="writer",
        stations=tuple(stations),
        rate=throughput_from(concurrency, t1) if t1 > 0 else None,
        workers=concurrency,
        worker_target=busy_target,
        item_time=t1,
        item_per_call=c0 / t1 if t1 > 0 else 0.0,
        batch=1,
    )


def at_batch(
    model: SystemModel, b: int, concurrency: int | None = None, rate: float | None = None
) -> Projection:
    """The model with batches of ``b`` (and ``concurrency`` in flight), projected (utilizations
    at ``rate``; default the ceiling)."""
    changed = apply(model, Change("batch", b))
    if concurrency is not None:
        changed = apply(changed, Change("workers", concurrency))
    return project(changed, rate)


def limit(model: SystemModel, concurrency: int | None = None) -> Projection:
    """The model as b → ∞: every per-call part amortised away (the limit of ``apply`` of a
    batch change), projected: its ceiling is what no batch size passes."""
    amortised = replace(
        model,
        stations=tuple(
            replace(s, demand=s.demand * (1 - s.per_call), per_call=0.0) for s in model.stations
        ),
        item_time=None if model.item_time is None else model.item_time * (1 - model.item_per_call),
        item_per_call=0.0,
    )
    if concurrency is not None:
        amortised = apply(amortised, Change("workers", concurrency))
    return project(amortised)


def smallest_batch(model: SystemModel, target: float, concurrency: int) -> int | None:
    """The smallest b whose projected ceiling (at the saturation targets) carries ``target``;
    None when even b → ∞ does not."""

    def meets(b: int) -> bool:
        return at_batch(model, b, concurrency).ceiling >= target * (1 - _MEETS)

    if target >= limit(model, concurrency).ceiling * (1 - _AT_LIMIT):
        return None
    if meets(1):
        return 1
    low, high = 1, 2  # meets(low) is False
    while not meets(high):
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (low, mid) if meets(mid) else (mid, high)
    return high


def measured_stations(
    calls: Sequence[CallCost] | None, settings: Settings, ledger: Ledger
) -> tuple[SystemStation, ...]:
    """The disk as a station when every call timed its busy time, its line kept by the rule
    ``analyze --batch-trials`` applies to the same column (relative error at most
    ``thresholds.trial_max_relative_error``)."""
    if not calls:
        return ()
    if all(c.cpu_s is not None for c in calls):
        ledger.assume(
            "the calls' CPU time is not a limit here",
            "cpu_ms read, not used",
            "the cores serving the calls are not known: analyze, given these batch trials "
            "with the host's metrics (its cores and CPU utilization), makes the CPU a station",
        )
    times = [c.disk_s for c in calls]
    if any(t is None for t in times):
        return ()
    sizes = [c.batch_size for c in calls]
    max_error = settings.threshold("trial_max_relative_error")
    try:
        fit = fit_call_cost(sizes, [float(t) for t in times if t is not None])
    except ThroughputError as err:
        ledger.assume("the disk is not a limit here", "disk_ms read, not used", err.message)
        return ()
    if fit.relative_error > max_error:
        ledger.assume(
            "the disk is not a limit here",
            "disk_ms read, not used",
            f"its disk_ms column strays {fit.relative_error:.0%} from the best line (over "
            f"thresholds.trial_max_relative_error = {max_error:.0%})",
        )
        return ()
    demand = fit.c0_s + fit.c1_s
    if demand <= 0:
        return ()
    target = settings.target(DISK)
    ledger.prove(
        "cost-disk",
        f"the disk is busy {fit.c0_s * 1e3:.3g} ms per call plus {fit.c1_s * 1e3:.3g} ms per "
        f"item: at one item per call it caps the rate at {fmt_count(target / demand)} rps at "
        f"its {fmt_pct(target)} target",
        "least squares on relative errors: Td(b) = d0 + d1·b; a station of one server, "
        "X ≤ target / D (utilization law)",
        {"points": len(sizes), "saturation_target": target},
        {
            "d0_ms": fit.c0_s * 1e3,
            "d1_ms": fit.c1_s * 1e3,
            "relative_error": fit.relative_error,
        },
    )
    return (
        SystemStation(
            name=DISK,
            kind="disk_io",
            demand=demand,
            servers=1,
            target=target,
            scope="shared",
            per_call=fit.c0_s / demand,
            source=f"disk_ms: Td(1) = {fit.c0_s:.6g} + {fit.c1_s:.6g} s",
        ),
    )
