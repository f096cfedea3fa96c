"""The ``analyze`` advisor: from measured metrics to a bottleneck verdict, headroom, latency
growth and advice.

Steps: the current throughput (and Little's law where latency or concurrency is known), per-
resource demand and headroom (``resources``), latency as load grows (``latency``), the verdict
(``verdict``), the rating against the seed's benchmarks, then the playbook (``playbook``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from throughput_expert.advisors.analyze.latency import latency_model, measured_response_time
from throughput_expert.advisors.analyze.planning import (
    plan_for,
    price_for,
    record,
    step_recommendations,
)
from throughput_expert.advisors.analyze.playbook import Situation, implementation_plan, recommend
from throughput_expert.advisors.analyze.summary import summarize
from throughput_expert.advisors.analyze.verdict import Verdict, judge, switches_per_request
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.resources import Headroom, ResourceView, headroom
from throughput_expert.advisors.system.project import WORKERS, project
from throughput_expert.laws.little import concurrency, response_time_from
from throughput_expert.laws.utilization import utilization_at_rate
from throughput_expert.model import InputRef, Report, Series, ServiceMetrics
from throughput_expert.model.analysis.analyze import (
    AnalyzeAnalysis,
    AtTargetRate,
    CurrentThroughput,
    Grade,
    HeadroomTable,
    Rating,
    ResourceHeadroom,
    WorkerBound,
)
from throughput_expert.model.analysis.common import Finding
from throughput_expert.model.quantity import RANGES, disagree
from throughput_expert.model.settings import Settings
from throughput_expert.model.sweep import Sweep
from throughput_expert.model.system import Sink, SystemModel
from throughput_expert.model.trials import CallCost
from throughput_expert.model.units import fmt_pct

__all__ = ["AnalyzeInputs", "advise"]


@dataclass(frozen=True)
class AnalyzeInputs:
    metrics: ServiceMetrics
    current_rps: float | None = None
    target_rps: float | None = None
    system_type: str | None = None
    service: str | None = None
    sink: Sink | None = None
    """What the service writes to (from its architecture sentence): its disk is read as the
    sink's, shared by every instance."""
    trials: tuple[CallCost, ...] = ()
    """Calls measured at several batch sizes (latency, and CPU and disk time where measured):
    how much of each station's demand a batch cuts."""
    sweep: Sweep | None = None
    """A sweep of one instance (concurrency against throughput): its USL fit becomes the
    workers' limit per instance, and its recommended level the most workers the plan sizes."""


def advise(inputs: AnalyzeInputs, settings: Settings) -> Report:
    ledger = Ledger()
    m = inputs.metrics.with_(service=inputs.service) if inputs.service else inputs.metrics
    _notes_to_findings(m, ledger)
    x = _throughput(m, inputs.current_rps, settings, ledger)
    m = _consistent(m, x, ledger)
    target = _target(m, inputs.target_rps, x, ledger)
    h = headroom(m, x, settings, ledger)
    measured = measured_response_time(m, x, ledger)
    per_item = _per_item(m, x, measured, h, ledger)
    lat = latency_model(m, x, h, target, per_item, settings, ledger)
    verdict = judge(m, h, lat.unexplained_share, settings, ledger)
    situation = Situation(
        _triggers(m, h, verdict, target, lat.unexplained_share, inputs, settings),
        verdict.type,
        verdict.resource,
        h,
        x,
        target,
        per_item,
        m.workers,
        settings.threshold("pool_busy_target"),
    )
    model, planned = plan_for(
        m, x, target, inputs.sink, settings, ledger, inputs.trials, inputs.sweep
    )
    curve = model is not None and model.contention is not None
    situation = _on_curve(situation, model)
    steps = step_recommendations(planned, situation.triggers, settings) if planned else ()
    kinds = frozenset(p.change for p, _ in steps if p.change)
    goal = planned[1].target if planned else target  # the plan's rate: today's when no target
    chosen = steps + recommend(situation, settings, price_for(model, goal, ledger), kinds)
    _standing_assumptions(m, settings, ledger)
    system_type = inputs.system_type or m.system_type
    analysis = AnalyzeAnalysis(
        current_throughput=_current(m, x, lat.measured_s, per_item, ledger),
        bottleneck=verdict.record(),
        headroom=_headroom(h, x, target, situation, curve),
        latency=lat.record,
        target=target,
        rating=_rating(system_type, x, h.ceiling_rps, m.cores, settings),
        findings=tuple(Finding(**f) for f in ledger.findings),
        notes=tuple(n for n in m.notes if not n.startswith("conflict:")),
    )
    recs = tuple(rec for _, rec in chosen)
    return Report(
        command="analyze",
        summary=summarize(m, x, target, h, verdict, situation, recs, planned),
        analysis=analysis,
        series=lat.series | _utilization_series(h, x, target),
        recommendations=recs,
        implementation_plan=implementation_plan(chosen),
        plan=record(planned) if planned else None,
        evidence=tuple(ledger.evidence),
        assumptions=tuple(ledger.assumptions),
        inputs=m.inputs + _sweep_input(inputs.sweep),
    )


def _sweep_input(sweep: Sweep | None) -> tuple[InputRef, ...]:
    return (sweep.source,) if sweep is not None and sweep.source is not None else ()


def _notes_to_findings(m: ServiceMetrics, ledger: Ledger) -> None:
    for note in m.notes:
        if note.startswith("conflict:"):
            ledger.find(note.removeprefix("conflict: "), {}, "the first input that has it")


def _throughput(
    m: ServiceMetrics, flag: float | None, settings: Settings, ledger: Ledger
) -> float | None:
    measured = m.throughput_rps
    if measured is not None and flag is not None:
        tolerance = settings.threshold("conflict_tolerance")
        if disagree(measured, flag, tolerance):
            ledger.find(
                f"current_rps and the metrics disagree by more than {fmt_pct(tolerance)}",
                {"metrics_rps": measured, "current_rps_flag": flag},
                "metrics: the utilization was measured at that rate",
            )
        return measured if measured > 0 else None
    if flag is not None and m.utilization:
        ledger.assume(
            "utilization was measured at current_rps",
            flag,
            "the metrics carry no rate; the service-demand law needs the rate the "
            "utilization was measured at",
        )
    rate = measured if measured is not None else flag
    return rate if rate else None


# Latency statistics in the order their values must keep: a higher percentile is never lower.
_ORDER = ("p50", "p90", "p95", "p99", "p999", "max")


def _consistent(m: ServiceMetrics, x: float | None, ledger: Ledger) -> ServiceMetrics:
    """The metrics without values that contradict others, each named in a finding and not
    used: percentiles out of order (p99 below p50, a mean above the maximum), more errors than
    requests, a utilization so small that the rate at full use is beyond any system."""
    known = m.latency.known()
    inverted = [
        (lo, hi)
        for i, lo in enumerate(_ORDER)
        for hi in _ORDER[i + 1 :]
        if lo in known and hi in known and known[lo] > known[hi]
    ]
    if "mean" in known and "max" in known and known["mean"] > known["max"]:
        inverted.append(("mean", "max"))
    if inverted:
        dropped = sorted({k for pair in inverted for k in pair}, key=list(known).index)
        ledger.find(
            "latency out of order: "
            + "; ".join(f"{hi} below {lo}" for lo, hi in inverted)
            + " (a higher percentile cannot be lower, nor the mean above the maximum)",
            {f"{k}_ms": known[k] * 1e3 for k in dropped},
            f"none of {', '.join(dropped)}: one of each pair is wrong and the data "
            "cannot tell which",
        )
        m = m.with_(latency=replace(m.latency, **{f"{k}_s": None for k in dropped}))
    if m.errors_rps is not None and x is not None and m.errors_rps > x:
        ledger.find(
            "errors_rps is above the throughput: failed requests are a share of the requests, "
            "so they cannot outnumber them (unless the throughput counts only successes)",
            {"errors_rps": m.errors_rps, "throughput_rps": x},
            "the throughput; errors_rps is not used",
        )
        m = m.with_(errors_rps=None)
    if x:
        # the utilization law puts the rate at full use at X / U: past the largest rate any
        # system has (the rate range every reader holds rates to), U is no measurement
        top = RANGES["rate"].high
        tiny = {r: u for r, u in m.utilization.items() if u > 0 and not x / u <= top}
        if tiny:
            ledger.find(
                "a utilization so small that the rate at full use (X / U) passes "
                f"{top:.0e}/s, beyond any system: " + ", ".join(str(r) for r in tiny),
                {f"{r}_utilization": u for r, u in tiny.items()},
                "not used: the resource is taken as unmeasured",
            )
            m = m.with_(utilization={r: u for r, u in m.utilization.items() if r not in tiny})
    return m


def _target(m: ServiceMetrics, flag: float | None, x: float | None, ledger: Ledger) -> float | None:
    target = flag if flag is not None else m.target_rps
    if flag is not None and m.target_rps is not None and flag != m.target_rps:
        ledger.find(
            "target_rps overrides the target in the metrics file",
            {"metrics_target_rps": m.target_rps, "target_rps_flag": flag},
            "target_rps",
        )
    if target is not None and x is not None and target <= x:
        ledger.find(
            "the target is not above today's rate",
            {"target_rps": target, "current_rps": x},
            "target: headroom is reported against it",
        )
    return target if target else None


def _per_item(
    m: ServiceMetrics, x: float | None, measured: float | None, h: Headroom, ledger: Ledger
) -> float | None:
    """Time per item: the response time, or workers / X when every worker is always busy."""
    if measured is not None:
        return measured
    if not m.workers or not x:
        return None
    per_item = response_time_from(m.workers, x)
    ledger.assume(
        "time per item",
        f"{per_item * 1e3:.4g} ms",
        f"no latency was measured; with {m.workers} worker(s) at {x:.6g} items/s and each "
        "worker always busy, Little's law gives R = workers / X (an upper bound if they idle)",
    )
    serial = sum(v.demand_s or 0.0 for v in h.scaling())
    if m.workers == 1 and serial > per_item * 1.0001:
        ledger.find(
            "the resources' demands per item add up to more than one worker's time per item: "
            "they overlap (e.g. the disk belongs to a database working in parallel with the "
            "worker, or the CPU is shared with other processes)",
            {"sum_of_demands_ms": serial * 1e3, "time_per_item_ms": per_item * 1e3},
            "both: each resource's ceiling still holds on its own",
        )
    return per_item


def _current(
    m: ServiceMetrics,
    x: float | None,
    measured: float | None,
    per_item: float | None,
    ledger: Ledger,
) -> CurrentThroughput:
    in_flight = m.concurrency
    if in_flight is None and x and measured is not None:
        in_flight = concurrency(x, measured)
        ledger.prove(
            "little-concurrency",
            f"{in_flight:.4g} requests in flight on average",
            "Little's law: L = X · R",
            {"throughput_rps": x, "response_time_ms": measured * 1e3},
            {"concurrency": in_flight},
        )
    elif in_flight is None and m.workers and per_item is not None:
        in_flight = float(m.workers)
    return CurrentThroughput(
        rate=x,
        avg_processing_time=per_item,
        processing_time_source=_time_source(m, measured, per_item),
        concurrency=in_flight,
        workers=m.workers,
        cores=m.cores,
        utilization={str(r): u for r, u in m.utilization.items()},
        latency=dict(m.latency.known()),
        errors=m.errors_rps,
    )


def _time_source(m: ServiceMetrics, measured: float | None, per_item: float | None) -> str | None:
    if m.latency.mean_s is not None:
        return "measured"
    if measured is not None:
        return "little's law from measured concurrency"
    return "little's law from workers (assumed always busy)" if per_item is not None else None


def _headroom(
    h: Headroom, x: float | None, target: float | None, s: Situation, curve: bool = False
) -> HeadroomTable:
    """``analysis.headroom``: each resource, the ceiling, and the workers' bound."""
    return HeadroomTable(
        resources={v.resource: _resource(v, x, target) for v in h.views},
        ceiling=h.ceiling_rps,
        binding_resource=h.binding.resource if h.binding else None,
        workers=_worker_bound(s, curve),
    )


def _on_curve(s: Situation, model: SystemModel | None) -> Situation:
    """With a sweep's USL on the model, the workers' time per item is the curve's at today's
    workers (Little's law on it: R = N / X(N)), so that the workers' bound the headroom and
    the summary state is the model's."""
    if model is None or model.contention is None or not s.workers:
        return s
    limit = project(model).limits.get(WORKERS)
    if not limit:
        return s
    return replace(s, per_item_s=s.pool_target * s.workers / limit)


def _resource(v: ResourceView, x: float | None, target: float | None) -> ResourceHeadroom:
    at: AtTargetRate | None = None
    if target is not None and x and v.scales_with_rate:
        at_target = utilization_at_rate(v.utilization, x, target)
        at = AtTargetRate(
            utilization=at_target,
            demand_reduction_factor=max(1.0, at_target / v.target),
            meets_target=at_target <= v.target,
        )
    return ResourceHeadroom(
        utilization=v.utilization,
        target=v.target,
        max_rate_at_target=v.max_rps_at_target,
        headroom=v.headroom_fraction,
        over_target=v.utilization > v.target,
        scales_with_rate=v.scales_with_rate,
        service_demand=v.demand_s,
        servers=v.servers,
        evidence_ids=v.evidence_ids,
        at_target=at,
    )


def _worker_bound(s: Situation, curve: bool = False) -> WorkerBound | None:
    bound = s.worker_bound()
    if bound is None or s.workers is None:
        return None
    return WorkerBound(
        workers=s.workers,
        time_per_item=s.per_item_s or 0.0,
        busy_target=s.pool_target,
        max_rate=bound,
        law=(
            "the sweep's USL at the pool's busy target: X <= u · X(N) · instances "
            "(the time per item shown is the one that bound implies: R = u · workers / X)"
            if curve
            else "Little's law at the pool's busy target: X <= u · workers / R"
        ),
    )


def _triggers(
    m: ServiceMetrics,
    h: Headroom,
    v: Verdict,
    target: float | None,
    unexplained: float | None,
    inputs: AnalyzeInputs,
    settings: Settings,
) -> frozenset[str]:
    out = {s.trigger for s in h.signals}
    if v.type is not None:
        out.add(f"bottleneck:{v.type}")
    if m.workers == 1:
        out.add("single_worker")
    if any(view.utilization > view.target for view in h.views):
        out.add("over_target")
    if target is not None and h.ceiling_rps is not None and target > h.ceiling_rps:
        out.add("target_beyond_ceiling")
    if unexplained is not None and unexplained >= settings.threshold("unexplained_wait_share"):
        out.add("unexplained_wait")
    per_request = switches_per_request(m)
    if per_request and per_request >= settings.threshold("context_switches_per_request"):
        out.add("context_switches")
    system_type = inputs.system_type or m.system_type
    if system_type:
        out.add(f"system:{system_type}")
    return frozenset(out)


def _rating(
    system_type: str | None,
    x: float | None,
    ceiling: float | None,
    cores: float | None,
    settings: Settings,
) -> Rating | None:
    bench = settings.benchmarks.get(system_type or "")
    if bench is None or x is None:
        return None
    name = system_type or ""
    if bench.per_core and not cores:
        why = "the benchmark is per core: give cores in the metrics"
        return Rating(system_type=name, available=False, why=why)
    scale = cores if bench.per_core and cores else 1.0
    return Rating(
        system_type=name,
        available=True,
        unit=bench.unit,
        good=bench.good,
        excellent=bench.excellent,
        measured=x / scale,
        rating=_grade(x / scale, bench.good, bench.excellent),
        ceiling=ceiling / scale if ceiling else None,
        ceiling_rating=_grade(ceiling / scale, bench.good, bench.excellent) if ceiling else None,
        source="seed: Throughput Benchmarks by System Type",
    )


def _grade(value: float, good: float, excellent: float) -> Grade:
    return "excellent" if value >= excellent else "good" if value >= good else "below good"


def _standing_assumptions(m: ServiceMetrics, settings: Settings, ledger: Ledger) -> None:
    targets = {r: t for r, t in settings.saturation_targets.items() if r in m.utilization}
    if targets:
        ledger.assume(
            "saturation targets",
            targets,
            "the seed's targets (CPU 70 %, memory 80 %, "
            "disk 70 %, network 60 %: headroom for spikes, GC, queues, bursts); "
            "override with defaults",
        )
        ledger.assume(
            "demand per request stays constant as load grows",
            "U proportional to X",
            "the utilization law; caches warming or batching forming under load "
            "make it pessimistic, contention makes it optimistic",
        )
    if "memory" in m.utilization and m.memory_grows_with_rate is not True:
        ledger.assume(
            "memory does not grow with throughput",
            "not scaled with rate",
            "memory holds caches, heaps and buffers whose size is set by configuration, "
            "not by request rate; it has no ceiling in rps unless the data shows it grows "
            "(set memory_grows_with_rate: true)",
        )


def _utilization_series(h: Headroom, x: float | None, target: float | None) -> dict[str, Series]:
    if not x:
        return {}
    end = max(x, target or 0.0, h.ceiling_rps or 0.0) * 1.1
    return {
        f"utilization_{v.resource}": Series(
            "throughput (rps)",
            f"{v.resource} utilization (%)",
            (
                (0.0, 0.0),
                (x, v.utilization * 100),
                (end, utilization_at_rate(v.utilization, x, end) * 100),
            ),
        )
        for v in h.scaling()
    }
