"""From a diagnosed situation to recommendations, using the playbook data (``data/playbook.yaml``).

A play is selected by its triggers. Its expected improvement is computed, never guessed, as the
gain in *sustainable throughput*: the lowest of the resource ceilings at their saturation targets
and, when known, the worker bound (workers / time per item, Little's law).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.resources import Headroom, ResourceView
from throughput_expert.laws.little import concurrency, throughput_from
from throughput_expert.model import BottleneckType, Recommendation, Resource
from throughput_expert.model.settings import Play, Settings
from throughput_expert.model.units import fmt_count, fmt_factor

__all__ = ["Situation", "implementation_plan", "recommend"]

_HORIZON_ORDER = {"quick": 0, "short": 1, "long": 2}
_LEVEL_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class Situation:
    triggers: frozenset[str]
    bottleneck: BottleneckType | None
    resource: Resource | None
    headroom: Headroom
    x: float | None
    target: float | None
    per_item_s: float | None
    workers: int | None

    def worker_bound(self, workers: float | None = None) -> float | None:
        """Little's law: at most ``workers`` items in flight, each taking ``per_item_s``."""
        w = workers if workers is not None else self.workers
        if not w or not self.per_item_s:
            return None
        return throughput_from(w, self.per_item_s)

    def sustainable(self, ceilings: dict[Resource, float], workers: float | None = None) -> float:
        bounds = list(ceilings.values())
        bound = self.worker_bound(workers)
        if bound is not None:
            bounds.append(bound)
        return min(bounds) if bounds else math.inf


Chosen = tuple[tuple[Play, Recommendation], ...]


def recommend(s: Situation, settings: Settings, ledger: Ledger) -> Chosen:
    """The plays the situation triggers, most relevant first, each as a recommendation."""
    plays = [p for p in settings.plays if s.triggers.intersection(p.when)]
    plays.sort(key=lambda p: _rank(p, s))
    return tuple((p, _recommendation(p, s, settings, ledger)) for p in plays)


def implementation_plan(chosen: Chosen) -> dict[str, list[str]]:
    """Immediate: quick, low-effort wins; short term: the other quick ones; long term: the rest."""
    plan: dict[str, list[str]] = {"immediate": [], "short_term": [], "long_term": []}
    for play, rec in chosen:
        if play.horizon == "long":
            key = "long_term"
        elif play.horizon == "quick" and rec.effort == "low":
            key = "immediate"
        else:
            key = "short_term"
        gain = rec.expected_improvement_pct
        plan[key].append(rec.optimization + (f" (+{gain:.0f} %)" if gain else ""))
    return plan


def _rank(p: Play, s: Situation) -> tuple[int, int, int]:
    primary = 0 if f"bottleneck:{s.bottleneck}" in p.when else 1
    return (primary, _HORIZON_ORDER[p.horizon], _LEVEL_ORDER[p.effort])


def _recommendation(p: Play, s: Situation, settings: Settings, ledger: Ledger) -> Recommendation:
    gain, note, ids = _quantify(p, s, settings, ledger)
    rationale = p.rationale + (f" {note}" if note else "")
    return Recommendation(p.optimization, gain, p.effort, p.risk, rationale, ids, p.example)


def _ceilings(h: Headroom) -> dict[Resource, float]:
    return {v.resource: v.max_rps_at_target for v in h.scaling() if v.max_rps_at_target}


def _quantify(
    p: Play, s: Situation, settings: Settings, ledger: Ledger
) -> tuple[float | None, str, tuple[str, ...]]:
    if p.quantify == "halve_binding" and f"bottleneck:{s.bottleneck}" in p.when:
        return _halve(s, settings, ledger)
    if p.quantify == "scale_out":
        return _scale_out(s, ledger)
    if p.quantify == "parallelism":
        return _parallelism(s, ledger)
    return None, "", ()


def _halve(
    s: Situation, settings: Settings, ledger: Ledger
) -> tuple[float | None, str, tuple[str, ...]]:
    view = s.headroom.view(s.resource) if s.resource else None
    ceilings = _ceilings(s.headroom)
    if view is None or view.resource not in ceilings:
        return None, "", ()
    f = settings.demand_reduction_factor
    before = s.sustainable(ceilings)
    after_ceilings = ceilings | {view.resource: ceilings[view.resource] * f}
    after = s.sustainable(after_ceilings)
    gain = (after / before - 1) * 100
    eid = ledger.prove(
        f"gain-{view.resource}",
        f"if {view.resource} demand per request falls {fmt_factor(f)}, sustainable throughput "
        f"goes from {fmt_count(before)} to {fmt_count(after)} rps",
        "bottleneck bound: X = min(ceilings at targets, workers / time per item)",
        {
            "ceilings_before": ceilings,
            "ceilings_after": after_ceilings,
            "worker_bound_rps": s.worker_bound(),
            "demand_reduction_factor": f,
        },
        {"before_rps": before, "after_rps": after, "gain_pct": gain},
    )
    ledger.assume("demand reduction of an optimization", f, settings.demand_reduction_source)
    return gain, _cap_note(after, after_ceilings, s, view), (eid,)


def _cap_note(
    after: float, ceilings: dict[Resource, float], s: Situation, view: ResourceView
) -> str:
    bound = s.worker_bound()
    if bound is not None and after >= bound * 0.999:
        return f"The gain is capped by the workers ({s.workers} at {fmt_count(bound)} rps)."
    capping = min(ceilings, key=lambda r: ceilings[r])
    if capping != view.resource:
        at = fmt_count(ceilings[capping])
        return f"The gain is capped by {capping}, which binds next at {at} rps."
    return ""


def _scale_out(s: Situation, ledger: Ledger) -> tuple[float | None, str, tuple[str, ...]]:
    ceiling = s.headroom.ceiling_rps
    if s.target is None or not ceiling or s.target <= ceiling:
        return None, "", ()
    n = math.ceil(s.target / ceiling)
    eid = ledger.prove(
        "scale-out",
        f"{n} instances reach {fmt_count(s.target)} rps if capacity adds up linearly",
        "linear scale-out (USL with sigma = kappa = 0): X(n) = n · X(1)",
        {"target_rps": s.target, "ceiling_per_instance_rps": ceiling},
        {"instances": n},
    )
    ledger.assume(
        "scale-out is linear",
        "sigma = kappa = 0",
        "each instance brings its own CPU, disk and network; a shared store does not scale this "
        "way (tpx scaling-plan) and contention bends the curve (fit the USL with tpx sweep)",
    )
    return (n - 1) * 100.0, f"Needs {n} instances in all for the target.", (eid,)


def _parallelism(s: Situation, ledger: Ledger) -> tuple[float | None, str, tuple[str, ...]]:
    if s.target is None or not s.per_item_s:
        return None, "", ()
    needed = math.ceil(concurrency(s.target, s.per_item_s) - 1e-9)
    ceilings = _ceilings(s.headroom)
    before, after = s.sustainable(ceilings), s.sustainable(ceilings, needed)
    gain = max(0.0, (after / before - 1) * 100)
    eid = ledger.prove(
        "little-parallelism",
        f"the target needs {needed} items in flight",
        "Little's law: N = X · R",
        {"target_rps": s.target, "time_per_item_ms": s.per_item_s * 1e3},
        {"in_flight": needed, "sustainable_before_rps": before, "sustainable_after_rps": after},
    )
    note = f"The target needs {needed} in flight (Little's law)."
    if after < s.target and ceilings:
        capping = min(ceilings, key=lambda r: ceilings[r])
        note += f" Alone it is capped by {capping} at {fmt_count(ceilings[capping])} rps."
    return gain, note, (eid,)
