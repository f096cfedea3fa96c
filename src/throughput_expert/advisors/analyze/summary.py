"""The one-sentence summary of an ``analyze`` report: the verdict, the ceiling, the first action."""

from __future__ import annotations

from throughput_expert.advisors.analyze.planning import Planned
from throughput_expert.advisors.analyze.playbook import Situation
from throughput_expert.advisors.analyze.verdict import Verdict
from throughput_expert.advisors.resources import Headroom
from throughput_expert.model import Recommendation, ServiceMetrics
from throughput_expert.model.units import fmt_count, fmt_factor, fmt_pct

__all__ = ["summarize"]

_NAMES = {"cpu": "CPU", "memory": "memory", "disk_io": "disk I/O", "network": "network"}


def summarize(
    m: ServiceMetrics,
    x: float | None,
    target: float | None,
    h: Headroom,
    v: Verdict,
    s: Situation,
    recs: tuple[Recommendation, ...],
    planned: Planned | None = None,
) -> str:
    parts = [_verdict(v, h), _ceiling(x, h, s), _target(target, h), _plan(planned, target)]
    text = "; ".join(p for p in parts if p)
    if recs:
        first = recs[0].optimization
        text += f". First: {first[0].lower()}{first[1:]}"
    return text + "."


def _plan(planned: Planned | None, target: float | None = None) -> str:
    """The plan's outcome: the target (without one, today's rate) reached in n steps, or what
    caps it."""
    if planned is None:
        return ""
    model, p, _ = planned
    if p.reaches_target:
        if not p.steps:
            return ""
        n = len(p.steps)
        shared = {st.name for st in model.stations if st.scope == "shared"}
        used = ", ".join(
            ("the shared " if k in shared else "")
            + f"{k} {fmt_pct(u)}"
            + (
                f" (it takes up to {fmt_count(p.final.limits[k])} rps at its target)"
                if k in shared and k in p.final.limits
                else ""
            )
            for k, u in p.final.utilization.items()
        )
        steps = ", then ".join(st.change.what for st in p.steps)
        goal = f"{fmt_count(p.target)} rps" + (" (today's rate)" if target is None else "")
        return (
            f"the plan reaches {goal} in {n} step{'s' * (n > 1)} ({steps}), "
            f"every limit within its target there ({used})"
        )
    return f"the plan reaches {fmt_count(p.final.ceiling)} rps at most, capped by {p.cap}" + (
        f" ({p.lift})" if p.lift else ""
    )


def _verdict(v: Verdict, h: Headroom) -> str:
    if v.type is None and h.views:
        return "No bottleneck at this load: no resource is busy and none grows with the rate here"
    if v.type is None:
        return "Not enough data for a verdict: give utilization and throughput"
    if v.resource is None:
        return f"Bottleneck: {v.type} ({v.reason})"
    view = h.view(v.resource)
    name = _NAMES[v.resource]
    if view is None or view.utilization <= 0:
        return f"Bottleneck: {name} ({v.reason})"
    state = "" if v.saturated else ", not yet saturated"
    return (
        f"Bottleneck: {name} at {fmt_pct(view.utilization)} (target {fmt_pct(view.target)}){state}"
    )


def _ceiling(x: float | None, h: Headroom, s: Situation) -> str:
    bound = s.worker_bound()
    if h.ceiling_rps is None or h.binding is None:
        return ""
    text = f"ceiling {fmt_count(h.ceiling_rps)} rps at {_NAMES[h.binding.resource]}'s target"
    if x is not None and h.ceiling_rps < x:
        text += f", below today's {fmt_count(x)}"
    if bound is not None and bound < h.ceiling_rps:
        workers = "the worker caps" if s.workers == 1 else f"the {s.workers} workers cap"
        text += f" ({workers} it at {fmt_count(bound)}, busy at most {fmt_pct(s.pool_target)})"
    return text


def _target(target: float | None, h: Headroom) -> str:
    if target is None or h.ceiling_rps is None or h.binding is None or target <= h.ceiling_rps:
        return ""
    factor = target / h.ceiling_rps
    return (
        f"{fmt_count(target)} rps needs {fmt_factor(factor)} less "
        f"{_NAMES[h.binding.resource]} per request, or that many times the capacity"
    )
