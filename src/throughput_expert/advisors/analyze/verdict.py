"""The bottleneck verdict of ``analyze``.

1. The resource with the largest demand per server, i.e. the highest utilization (service-demand
   law: at one rate X, U_i = X·D_i/c_i), is the one that saturates first.
2. Saturation signals (run queue, disk queue, PSI, swap, drops) back it or point elsewhere:
   memory pressure makes memory the verdict when the busiest resource is under its target.
3. When no resource is busy and most of the response time is spent outside every measured
   resource, requests wait on something else: a dependency (``downstream``) or each other
   (``contention``, when context switches per request are high).
"""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.resources import Headroom, ResourceView, Signal, bottleneck_type
from throughput_expert.model import BottleneckType, Resource, ServiceMetrics
from throughput_expert.model.analysis.analyze import BottleneckVerdict, SaturationSignal
from throughput_expert.model.settings import Settings
from throughput_expert.model.units import fmt_pct

__all__ = ["Verdict", "judge", "switches_per_request"]


@dataclass(frozen=True)
class Verdict:
    type: BottleneckType | None
    resource: Resource | None
    component: str
    saturated: bool
    reason: str
    evidence_ids: tuple[str, ...]
    signals: tuple[Signal, ...]

    def record(self) -> BottleneckVerdict:
        """``analysis.bottleneck``."""
        return BottleneckVerdict(
            type=self.type,
            resource=self.resource,
            component=self.component,
            saturated=self.saturated,
            reason=self.reason,
            signals=tuple(
                SaturationSignal(
                    signal=s.name, value=s.value, threshold=s.threshold, resource=s.resource
                )
                for s in self.signals
            ),
            evidence_ids=self.evidence_ids,
        )


def judge(
    m: ServiceMetrics,
    h: Headroom,
    unexplained_share: float | None,
    settings: Settings,
    ledger: Ledger,
) -> Verdict:
    component = m.service or "service"
    busiest = max(h.views, key=lambda v: v.utilization, default=None)
    memory = _memory_pressure(h, settings)
    if memory is not None and (busiest is None or not _hot(busiest, h)):
        return _resource_verdict(memory, component, h, "memory pressure signals", ledger)
    busy = settings.threshold("busy_utilization")
    if busiest is not None and (_hot(busiest, h) or busiest.utilization >= busy):
        why = "highest utilization, i.e. the largest demand per server"
        return _resource_verdict(busiest, component, h, why, ledger)
    limit = settings.threshold("unexplained_wait_share")
    if unexplained_share is not None and unexplained_share >= limit:
        return _waiting_verdict(m, unexplained_share, component, h, settings, ledger)
    first = max(h.scaling(), key=lambda v: v.utilization, default=None)
    if first is not None:
        why = "no resource is busy; this is the one that saturates first as load grows"
        return _resource_verdict(first, component, h, why, ledger)
    why = "no resource is busy" if h.views else "no utilization or latency data"
    return Verdict(None, None, component, False, why, (), h.signals)


def _hot(v: ResourceView, h: Headroom) -> bool:
    """Over its target, or showing saturation signals of its own."""
    return v.utilization > v.target or any(s.resource == v.resource for s in h.signals)


def _memory_pressure(h: Headroom, settings: Settings) -> ResourceView | None:
    if not any(s.resource == "memory" for s in h.signals):
        return None
    return h.view("memory") or ResourceView("memory", 0.0, settings.target("memory"), 1, False)


def _resource_verdict(
    v: ResourceView, component: str, h: Headroom, why: str, ledger: Ledger
) -> Verdict:
    signals = tuple(s for s in h.signals if s.resource == v.resource)
    saturated = v.utilization > v.target or bool(signals)
    eid = ledger.prove(
        "bottleneck",
        f"{v.resource} is the bottleneck: {why}",
        "service-demand law: the resource with the largest D_i/c_i saturates first",
        {view.resource: view.utilization for view in h.views}
        | {f"signal:{s.name}": s.value for s in signals},
        {"resource": v.resource, "utilization": v.utilization, "target": v.target},
    )
    ids = (eid, *v.evidence_ids)
    return Verdict(bottleneck_type(v.resource), v.resource, component, saturated, why, ids, signals)


def _waiting_verdict(
    m: ServiceMetrics,
    share: float,
    component: str,
    h: Headroom,
    settings: Settings,
    ledger: Ledger,
) -> Verdict:
    per_request = switches_per_request(m)
    limit = settings.threshold("context_switches_per_request")
    kind: BottleneckType = "contention" if per_request and per_request >= limit else "downstream"
    what = "each other (locks)" if kind == "contention" else "a dependency (database, remote API)"
    eid = ledger.prove(
        "bottleneck",
        f"{fmt_pct(share)} of the response time is spent outside every measured resource: requests "
        f"wait on {what}",
        "response-time decomposition: R = R_unexplained + Σ residence time at each resource",
        {"unexplained_share": share, "context_switches_per_request": per_request},
        {"type": kind},
    )
    ledger.assume(
        "waiting is on a dependency unless context switches per request are high",
        kind,
        "metrics alone cannot tell lock waits from remote waits; a wall-clock profile "
        "(tpx find-bottleneck with py-spy --idle) tells them apart",
    )
    reason = f"no resource is busy, yet {fmt_pct(share, 2)} of the response time is waiting"
    return Verdict(kind, None, component, True, reason, (eid,), h.signals)


def switches_per_request(m: ServiceMetrics) -> float | None:
    """Context switches per request: their rate over the throughput (None without either)."""
    rate = m.saturation.context_switches_per_s
    if rate is None or not m.throughput_rps:
        return None
    return rate / m.throughput_rps
