"""Each advisor a task asks for, called through the public API (``api.py``, the one caller of
the advisors) with what the task supplies: the understood context, the architecture sentence
and quantities derived by a law (listed as assumptions by the caller).

The operator's ``tpx task --defaults FILE`` reaches every call. The task's own numbers are
passed as loaded objects (a ``ServiceMetrics``, an ``Architecture``), durations in seconds and
rates per second.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from throughput_expert import api
from throughput_expert.agents.confine import Confine
from throughput_expert.agents.context import Understood
from throughput_expert.errors import InputError
from throughput_expert.laws.little import throughput_from
from throughput_expert.model import Assumption, Evidence, Report, ServiceMetrics
from throughput_expert.model.analysis.common import PlanRecord
from throughput_expert.model.architecture import Architecture
from throughput_expert.model.units import fmt_count
from throughput_expert.sources.sentence import Part

__all__ = ["Given", "analyze", "batching", "concurrency", "find_bottleneck", "scaling"]

_OPERATION = {"database": "database-insert", "queue": "message-publish", "cache": "api-call"}


@dataclass
class Given:
    """What every advisor call of one task shares; ``derived`` and ``skipped`` are filled as
    the advisors run (quantities a law gave, and why an advisor asked for could not run)."""

    understood: Understood
    parts: list[Part]
    metrics: ServiceMetrics
    confine: Confine
    base: Path
    defaults: str | None = None
    derived: list[Assumption] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    plan: PlanRecord | None = None
    """analyze's plan, once analyze has run: the other advisors start from it."""
    architecture: Architecture | None = None
    """The task's architecture, once read."""


def analyze(g: Given) -> Report:
    report = api.analyze(_with_store(g), defaults=g.defaults)
    g.plan = report.plan
    return report


def _with_store(g: Given) -> ServiceMetrics:
    """The task's metrics; with an architecture given as a file or an object and no sentence,
    the store its components write to as the sink (the sentence "database NAME", as "PostgreSQL
    sink" names one) and the writer's concurrency as the workers, when given: analyze's model
    then shares that store between instances, as scaling-plan does with the same file."""
    m, u = g.metrics, g.understood
    if m.architecture or (u.architecture_file is None and not u.architecture_doc):
        return m
    written = _architecture(g, m).store_written()
    if written is None:
        return m
    store, caller = written
    m = dataclasses.replace(m, architecture=f"{store.kind} {store.name}")
    said = f"{store.name} ({store.kind}), the store {caller.name} writes to"
    if m.workers is None and caller.concurrency_given:
        m = dataclasses.replace(m, workers=caller.concurrency_per_instance)
        said += f"; workers {caller.concurrency_per_instance}, {caller.name}'s concurrency"
    g.derived.append(Assumption("sink (from the architecture)", said, "the task's architecture"))
    return m


def _architecture(g: Given, m: ServiceMetrics) -> Architecture:
    """The architecture file the task names, the one it gives as an object, or one read from
    its sentence (read once per task)."""
    from throughput_expert.sources.architecture import architecture_from_doc, load_architecture

    if g.architecture is not None:
        return g.architecture
    u = g.understood
    if u.architecture_file is not None:
        g.architecture = load_architecture(u.architecture_file)
    else:
        doc = dict(u.architecture_doc) if u.architecture_doc else _from_parts(g, m)
        doc.setdefault("entry_rate", m.throughput_rps)
        base = Path(os.path.abspath(g.base))
        g.architecture = architecture_from_doc(doc, "task: architecture", base)
    return g.architecture


def find_bottleneck(g: Given) -> Report:
    m = g.metrics
    profiles = [str(p) for p in g.understood.files["profile"]]
    return api.find_bottleneck(profiles, metrics=m if m.utilization else (), defaults=g.defaults)


def _sink(parts: list[Part]) -> Part | None:
    return next((p for p in parts if p.kind in ("database", "queue", "cache")), None)


def concurrency(g: Given, per_item: float | None) -> Report | None:
    """Without the cores of the system advised the API sizes no pool (tpx does not assume the
    machine it runs on): the advisor is then skipped, and ``skipped`` says why."""
    m = g.metrics
    if per_item is None and m.workers is None:
        return None
    kind, why = _workload(g)
    try:
        report = api.optimize_concurrency(
            kind,
            m.workers or 1,
            cpu_cores=int(m.cores) if m.cores else None,
            wait_time=per_item,
            target_throughput=m.target_rps,
            defaults=g.defaults,
        )
    except InputError as err:
        if m.cores or err.parameter != "cpu_cores":
            raise
        g.skipped["concurrency"] = f"the task gives no cores (context: cores): {err.one_line()}"
        return None
    g.derived.append(Assumption("workload type", kind, why))
    if g.plan is not None:  # analyze's model stands: the pool's gain is its answer too
        report = _on_the_model(g, report)
    if per_item is not None:
        g.derived.append(
            Assumption(
                "time a message holds a worker",
                f"{per_item * 1e6:.4g} µs",
                "the split between waiting and computing is unknown: the "
                "whole time per item is used in Little's law (N = X · R)",
            )
        )
    return report


_MODEL_LAW = (
    "the system model analyze plans on: the utilization law at each station's saturation "
    "target, X = target·m / D (a shared station is not multiplied by instances); workers by "
    "Little's law at their busy target, X = u·N / R"
)


def _on_the_model(g: Given, report: Report) -> Report:
    """The pool's recommendation priced on analyze's system model (the one its plan changes),
    not on the pool alone: a pool that carries 80K rps adds nothing while a disk caps the
    system at 8.75K. Its gain is the model's ceiling with that many workers over today's; none
    when the workers are not what limits."""
    recommended = report.analysis.expected.recommended.threads
    recs = report.recommendations
    at = next((i for i, r in enumerate(recs) if r.change == "workers"), None)
    if at is None or not recommended:
        return report
    priced = api.price_on_model(g.metrics, "workers", recommended, defaults=g.defaults)
    if priced is None:
        return report
    today, binding, after, binding_after = priced
    lifts = after > today * (1 + 1e-9)
    gain = (after / today - 1) * 100 if lifts else None
    eid = "workers-on-model"
    evidence = Evidence(
        eid,
        f"{recommended} workers per instance on the system model: the ceiling goes from "
        f"{fmt_count(today)} to {fmt_count(after)} rps, bound by {binding_after}",
        _MODEL_LAW,
        {"workers": recommended, "ceiling_today_rps": today, "binding_today": binding},
        {"ceiling_rps": after, "binding": binding_after},
    )
    note = (
        f"On the system model the plan uses, {recommended} workers take the ceiling from "
        f"{fmt_count(today)} to {fmt_count(after)} rps, bound by {binding_after}."
        if lifts
        else f"On the system model the plan uses, the workers are not what limits: the ceiling "
        f"stays at {fmt_count(today)} rps, bound by {binding}; the pool's size matters once "
        "the plan's steps lift that limit."
    )
    rec = recs[at]
    rec = dataclasses.replace(
        rec,
        expected_improvement_pct=gain,
        rationale=f"{rec.rationale} {note}",
        evidence_ids=(*rec.evidence_ids, eid),
    )
    return dataclasses.replace(
        report,
        recommendations=(*recs[:at], rec, *recs[at + 1 :]),
        evidence=(*report.evidence, evidence),
    )


def _workload(g: Given) -> tuple[Literal["cpu", "io", "mixed"], str]:
    """Requests wait when the architecture has a sink; they also compute (``mixed``) when the
    CPU is at least ``thresholds.mixed_workload_cpu`` busy (the settings, ``--defaults``)."""
    from throughput_expert.sources.settings import load_settings

    sink = _sink(g.parts)
    if sink is None:
        return "cpu", "no database, queue or cache in the architecture: nothing to wait on"
    cpu = g.metrics.utilization.get("cpu", 0.0)
    limit = load_settings(g.defaults).threshold("mixed_workload_cpu")
    verb = "at least" if cpu >= limit else "below"
    why = (
        f"requests wait on {sink.name}; CPU at {cpu:.0%} is {verb} "
        f"thresholds.mixed_workload_cpu = {limit:.0%}"
    )
    return ("mixed" if cpu >= limit else "io"), why


def batching(g: Given, per_item: float | None) -> Report | None:
    m = g.metrics
    if per_item is None or m.target_rps is None:
        return None
    sink = _sink(g.parts)
    operation = _OPERATION.get(sink.kind, "api-call") if sink else "database-insert"
    concurrency = m.workers or 1
    if m.target_rps <= throughput_from(concurrency, per_item):  # Little: X = N / R
        return None
    return api.design_batching(
        operation,
        target_throughput=m.target_rps,
        current_latency=per_item,
        concurrency=concurrency,
        defaults=g.defaults,
    )


def scaling(g: Given) -> Report | None:
    """The architecture file the task names, the one it gives as an object, or one read from
    its sentence; component sweep files must lie inside the task's workspace, like its own."""
    m = g.metrics
    if m.target_rps is None or m.throughput_rps is None or m.target_rps <= m.throughput_rps:
        return None
    arch = _architecture(g, m)
    return api.scaling_plan(
        _confined(arch, g.confine), target_rps=m.target_rps, defaults=g.defaults
    )


def _confined(arch: Architecture, confine: Confine) -> Architecture:
    """The architecture with each component's sweep file as a real path inside the workspace
    (refused when outside)."""
    components = tuple(
        dataclasses.replace(
            c,
            sweep=str(confine.resolve(c.sweep, field=f"architecture: components[{i}].sweep")),
        )
        if c.sweep
        else c
        for i, c in enumerate(arch.components)
    )
    return dataclasses.replace(arch, components=components)


def _from_parts(g: Given, m: ServiceMetrics) -> dict[str, Any]:
    """A scaling-plan architecture from the sentence: the measured utilization belongs to the
    first service or worker (the one the metrics describe), except the disk beside a sink,
    which is the sink's (shared by every instance, as analyze's model reads it). When analyze's
    plan changes the system before it scales out (a batch), the utilizations are the model's
    after those steps, at today's rate: scaling is planned on the system the plan leaves."""
    used, sink = _before_scale_out(g, m), _sink(g.parts)
    components: list[dict[str, Any]] = []
    measured = False
    for p in g.parts or [Part("service", m.service or "service", 1, "")]:
        c: dict[str, Any] = {"name": _unique(p.name, components), "kind": p.kind}
        if p.kind in ("service", "worker") and not measured:
            c["instances"] = p.count or m.workers or 1
            own = {r: v for r, v in used.items() if r != "disk_io" or sink is None}
            c["utilization"] = own
            measured = True
        elif p is sink and "disk_io" in used:
            c["utilization"] = {"disk_io": used["disk_io"]}
        components.append(c)
    return {
        "system": m.service or "system",
        "entry_rate": m.throughput_rps,
        "components": components,
    }


def _before_scale_out(g: Given, m: ServiceMetrics) -> dict[str, float]:
    """Each resource's utilization at today's rate: measured, or, when analyze's plan changes
    the system before its first scale-out step, the model's after those steps (the
    utilization law: U grows with the rate, U(x) = U(r)·x / r)."""
    measured: dict[str, float] = {r: v for r, v in m.utilization.items() if r != "memory"}
    x, plan = m.throughput_rps, g.plan
    if plan is None or not x:
        return measured
    before = []
    for step in plan.steps:
        if step.change == "instances":
            break
        before.append(step)
    if not before or len(before) == len(plan.steps) or before[-1].rate <= 0:
        return measured
    last = before[-1]
    used = {r: u * x / last.rate for r, u in last.utilization.items() if r in measured}
    g.derived.append(
        Assumption(
            "utilization before scaling out",
            {r: round(u * 100, 3) for r, u in used.items()},
            f"analyze's plan changes the system first ({'; '.join(s.what for s in before)}): "
            f"its model's utilizations at {last.rate:g} rps, scaled to today's {x:g} rps by "
            "the utilization law, are what scaling-plan sizes instances from",
        )
    )
    return measured | used


def _unique(name: str, components: list[dict[str, Any]]) -> str:
    taken = {c["name"] for c in components}
    out, i = name, 2
    while out in taken:
        out, i = f"{name}-{i}", i + 1
    return out
