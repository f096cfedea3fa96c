"""The plan of an ``analyze`` report: the system model built from the metrics, the steps that take
it to the target (``advisors/system``), each step a recommendation priced by the solver, and the
price of every other play the model can express (its change sized for the target, applied to
today's model). A play the model cannot express carries no number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from throughput_expert.advisors.analyze.playbook import Price
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.system import Plan, Projection, apply, plan, project
from throughput_expert.advisors.system.build import from_metrics
from throughput_expert.advisors.system.plan import batch_delay, sized_change
from throughput_expert.model import Recommendation, ServiceMetrics
from throughput_expert.model.analysis.common import PlanRecord, PlanStepRecord
from throughput_expert.model.settings import Play, Settings
from throughput_expert.model.sweep import Sweep
from throughput_expert.model.system import Change, Contention, Sink, SystemModel
from throughput_expert.model.trials import CallCost
from throughput_expert.model.units import fmt_count, fmt_pct

__all__ = ["Planned", "plan_for", "price_for", "record", "step_recommendations"]

LAW = (
    "utilization law at each station's saturation target, X = target·m / D (a shared station "
    "is not multiplied by instances); workers by Little's law, X = N / R; a batch of b items "
    "cuts a per-call demand to D·((1 − f) + f / b)"
)

LAW_USL = LAW.replace(
    "workers by Little's law, X = N / R",
    "workers by the sweep's USL of one instance, X = u · λN / (1 + σ(N−1) + κN(N−1)) · instances",
)


def _law(model: SystemModel) -> str:
    return LAW if model.contention is None else LAW_USL


Planned = tuple[SystemModel, Plan, tuple[str, ...]]


def plan_for(
    m: ServiceMetrics,
    x: float | None,
    target: float | None,
    sink: Sink | None,
    settings: Settings,
    ledger: Ledger,
    trials: Sequence[CallCost] = (),
    sweep: Sweep | None = None,
) -> tuple[SystemModel | None, Planned | None]:
    """Today's model (None without a rate or a busy resource), and with a target its plan and
    the evidence ids of its steps. A ``sweep`` of one instance gives the workers' limit its
    contention (``_with_sweep``)."""
    if not x:
        return None, None
    built = from_metrics(m.with_(throughput_rps=x), settings, sink, trials)
    if built is None or not built[0].stations:
        return None, None
    model, assumed = built
    for a in assumed:
        ledger.assume(a.what, a.value, a.why)
    if sweep is not None:
        model = _with_sweep(model, sweep, settings, ledger)
    if target is None or target <= 0:
        if project(model).ceiling >= x * (1 - 1e-9):
            return model, None
        # no target, but today's rate is past a limit's saturation target: the plan carries
        # today's rate with every limit back within its target
        target = x
        ledger.assume(
            "the plan's rate",
            x,
            "no target was given and today's rate is past the ceiling at the saturation "
            "targets: the plan brings every limit back within its target at today's rate",
        )
    found = plan(model, target)
    if sink is not None:
        _other_reading(model, found, sink, ledger)
    ids = tuple(
        _prove(i, step.change, step.projection, ledger, _law(model))
        for i, step in enumerate(found.steps, 1)
    )
    return model, (model, found, ids)


def _with_sweep(
    model: SystemModel, sweep: Sweep, settings: Settings, ledger: Ledger
) -> SystemModel:
    """The model with the sweep's USL fit as the workers' limit per instance (the sweep is of
    one instance: requests in flight, its workers, against throughput). The fit and the level
    are the ones ``tpx sweep`` and ``optimize-concurrency --sweep`` take from the same file
    (``usl_report``, ``choose_level``): an open-loop sweep, a failed fit or one whose R² is
    below ``thresholds.usl_min_r_squared`` is not used, and said so; nor is a sweep when the
    metrics give no workers (nothing to put on its curve)."""
    # the fit needs numpy: imported only when a sweep is given (analyze stays light without)
    from throughput_expert.advisors.usl_report import choose_level, measured_peak, usl_report

    floor = settings.threshold("usl_min_r_squared")
    usl = usl_report(sweep, ledger, min_r_squared=floor)
    choice = choose_level(sweep, usl.analysis, measured_peak(sweep, ledger))
    fit = usl.reliable_fit
    why = None
    if sweep.level_kind != "concurrency" or sweep.mode == "open":
        why = "it is not a closed-loop sweep of concurrency (requests in flight)"
    elif fit is None:
        why = usl.analysis.why or (
            f"its USL fit is unreliable (R² {usl.analysis.r_squared:.3g} is below "
            f"thresholds.usl_min_r_squared = {floor:.3g})"
        )
    elif model.workers is None:
        why = "the metrics give no workers (requests in flight per instance) to place on its curve"
    if why is not None or fit is None:
        ledger.assume(
            "the sweep's contention",
            "not used",
            f"{why}: the workers' limit stays Little's law, X = u·N / R",
        )
        return model
    contention = Contention(fit.lambda_rps, fit.sigma, fit.kappa, choice.level)
    workers = model.workers or 1
    at_today = contention.throughput(workers)
    ledger.prove(
        "workers-usl",
        f"one instance carries {fmt_count(at_today)} rps with its {workers} workers busy, "
        f"{fmt_count(model.worker_target * at_today)} at their saturation target "
        f"({fmt_pct(model.worker_target)}); the sweep supports "
        + (
            f"at most {choice.level} workers per instance ({choice.basis} basis)"
            if choice.level is not None
            else "no level of its own: workers are sized on its curve, never past its peak"
        ),
        "Universal Scalability Law of one instance as the workers' limit: "
        "X ≤ u · λN / (1 + σ(N−1) + κN(N−1)) · instances",
        {
            "lambda_rps": fit.lambda_rps,
            "sigma": fit.sigma,
            "kappa": fit.kappa,
            "r_squared": fit.r_squared,
            "points": fit.points,
            "workers": workers,
            "instances": model.instances,
            "worker_target": model.worker_target,
        },
        {
            "per_instance_rps": at_today,
            "level": choice.level,
            "basis": choice.basis,
            "peak_concurrency": fit.peak_concurrency,
        },
    )
    ledger.assume(
        "the sweep is of one instance of this service",
        choice.level,
        "its concurrency is the requests one instance keeps in flight (its workers), measured "
        "at saturation and at today's batch size: the USL curve replaces Little's linear "
        "N / R for the workers' limit, at their saturation target u·X(N); a batch does not "
        "move the curve (the sweep did not measure one)",
    )
    top = choice.level
    if top is not None and workers > top and contention.throughput(top) > at_today:
        ledger.find(
            f"today's {workers} workers per instance are past the level the sweep supports "
            f"({top}): its curve carries less with them than with {top}",
            {
                f"X({workers})_rps": at_today,
                f"X({top})_rps": contention.throughput(top),
            },
            "the sweep's curve: fewer workers carry more",
        )
    return replace(model, contention=contention)


def _other_reading(model: SystemModel, found: Plan, sink: Sink, ledger: Ledger) -> None:
    """The scope of a disk measured beside a sink is a reading, not a measurement: the plan
    under the other one (the disk each instance's own, its demand not the sink's commits, so
    scaling out multiplies it and batching the sink's writes does not cut it), said beside
    the reading taken so that a reader who knows better sees what would change."""
    disk = model.station("disk_io")
    if disk is None or disk.scope != "shared":
        return
    own = replace(disk, scope="per_instance", demand=disk.demand * model.instances, per_call=0.0)
    other = plan(model.with_station(own), found.target)
    ledger.assume(
        "if the disk is each instance's own instead",
        _steps_text(other),
        f"the other reading of disk_io beside the {sink.name} sink: the consumer's own disk, "
        "not the sink's commits, so more instances add to it and batching the writes does not "
        "cut it; the solver's plan on that model"
        + (" is the same; it" if _steps_text(other) == _steps_text(found) else "")
        + (
            f" reaches {fmt_count(other.target)} rps at the saturation targets"
            if other.reaches_target
            else f" stops at {fmt_count(other.final.ceiling)} rps, capped by {other.cap}"
        ),
    )


def _steps_text(p: Plan) -> str:
    return ", then ".join(s.change.what for s in p.steps) or "no change"


def _prove(i: int, change: Change, after: Projection, ledger: Ledger, law: str) -> str:
    return ledger.prove(
        f"plan-step-{i}",
        f"step {i}, {change.what}: the ceiling at the saturation targets becomes "
        f"{fmt_count(after.ceiling)} rps, bound by {after.binding}",
        law,
        {"change": change.kind, "station": change.station, "value": change.value},
        {
            "ceiling_rps": after.ceiling,
            "binding": after.binding,
            "limits_rps": dict(after.limits),
            "utilization_at_rate": dict(after.utilization),
            "rate_rps": after.rate,
        },
    )


def _play_for(kind: str, triggers: frozenset[str], settings: Settings) -> Play | None:
    """The playbook's words, effort and risk for a change: a triggered play first."""
    plays = [p for p in settings.plays if p.change == kind]
    triggered = [p for p in plays if triggers.intersection(p.when)]
    found = triggered or plays
    return found[0] if found else None


def _utilization(p: Projection) -> str:
    return ", ".join(f"{k} {fmt_pct(v)}" for k, v in p.utilization.items())


def step_recommendations(
    planned: Planned, triggers: frozenset[str], settings: Settings
) -> tuple[tuple[Play, Recommendation], ...]:
    """One recommendation per step, in order; its gain is the solver's (cumulative, over
    today's ceiling at the targets)."""
    model, found, ids = planned
    out = []
    before = found.today
    for i, (step, eid) in enumerate(zip(found.steps, ids, strict=True), 1):
        play = _play_for(step.change.kind, triggers, settings)
        if play is None:  # every change kind has a play (tests/advisors/test_system_plan.py)
            continue
        if step.change.kind == "workers" and model.contention is not None:
            play = _on_sweep(play)
        after = step.projection
        rationale = (
            f"Step {i} of the plan: {step.change.what}. The model with it: ceiling "
            f"{fmt_count(before.ceiling)} -> {fmt_count(after.ceiling)} rps at the saturation "
            f"targets, bound by {after.binding}; at {fmt_count(after.rate)} rps: "
            f"{_utilization(after)}. {play.rationale}"
        )
        out.append(
            (
                play,
                Recommendation(
                    f"{play.optimization}: {step.change.what}",
                    step.gain * 100,
                    play.effort,
                    play.risk,
                    rationale,
                    (eid,),
                    play.example,
                    step.change.kind,
                ),
            )
        )
        before = after
    return tuple(out)


def _on_sweep(play: Play) -> Play:
    """The workers play in the words of the sweep that sized it (not an I/O pool sized by
    Little's law): its effort, risk and horizon stay the playbook's."""
    return replace(
        play,
        optimization="Run each instance at the concurrency its sweep supports",
        rationale=(
            "The sweep's USL fit gives what one instance carries with N requests in flight: "
            "up to the level it recommends more workers add throughput, past it the "
            "serialization (σ) and crosstalk (κ) it measured take it back; tpx sweep and "
            "optimize-concurrency choose the same level from the same sweep file."
        ),
        example=None,
    )


def price_for(model: SystemModel | None, target: float | None, ledger: Ledger) -> Price:
    """A play's price: its change sized for the target, applied to today's model, the solver's
    ceiling over today's; no number when the model cannot express it or has no target."""

    def price(p: Play) -> tuple[float | None, str, tuple[str, ...]]:
        if p.change is None or model is None or target is None:
            return None, "", ()
        change = sized_change(model, p.change, target)
        today = project(model)
        if change is None:
            return None, f"It does not lift the binding limit ({today.binding}).", ()
        after = project(apply(model, change))
        if after.ceiling <= today.ceiling * (1 + 1e-9):
            return None, f"On its own it does not lift the binding limit ({today.binding}).", ()
        gain = (after.ceiling / today.ceiling - 1) * 100
        eid = ledger.prove(
            f"alone-{p.id}",
            f"{change.what} alone: the ceiling goes from {fmt_count(today.ceiling)} to "
            f"{fmt_count(after.ceiling)} rps, bound by {after.binding}",
            _law(model),
            {"change": change.kind, "station": change.station, "value": change.value},
            {"ceiling_rps": after.ceiling, "binding": after.binding},
        )
        note = (
            f"Alone, sized for the target ({change.what}): the ceiling goes to "
            f"{fmt_count(after.ceiling)} rps, bound by {after.binding}."
        )
        return gain, note, (eid,)

    return price


def record(planned: Planned) -> PlanRecord:
    model, found, ids = planned
    delays = []
    for s in found.steps:  # the model after each step: what its batch adds to an item's latency
        model = apply(model, s.change)
        delays.append(batch_delay(model, s.projection.rate) if s.change.kind == "batch" else None)
    return PlanRecord(
        target=found.target,
        ceiling_today=found.today.ceiling,
        capacity_today=_finite(found.today.capacity),
        binding_today=found.today.binding,
        steps=tuple(
            PlanStepRecord(
                change=s.change.kind,
                station=s.change.station,
                value=float(s.change.value),
                what=s.change.what,
                ceiling=s.projection.ceiling,
                binding=s.projection.binding,
                rate=s.projection.rate,
                utilization=dict(s.projection.utilization),
                capacity=_finite(s.projection.capacity),
                gain=s.gain,
                batch_delay=delay,
                evidence_ids=(eid,),
            )
            for s, eid, delay in zip(found.steps, ids, delays, strict=True)
        ),
        reaches_target=found.reaches_target,
        cap=found.cap,
        lift=found.lift,
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
