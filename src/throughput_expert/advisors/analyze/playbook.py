"""From a diagnosed situation to recommendations, using the playbook data (``data/playbook.yaml``).

A play is selected by its triggers. Its expected improvement is computed, never guessed, as the
gain in *sustainable throughput*: the lowest of the resource ceilings at their saturation targets
and, when known, the worker bound (workers / time per item, Little's law).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from throughput_expert.advisors.resources import Headroom
from throughput_expert.laws.little import throughput_from
from throughput_expert.model import BottleneckType, Recommendation, Resource
from throughput_expert.model.settings import Play, Settings

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
    pool_target: float = 1.0
    """The share of the time the workers may be busy (``thresholds.pool_busy_target``)."""

    def worker_bound(self, workers: float | None = None) -> float | None:
        """Little's law at the pool's busy target: X = u · N / R, ``workers`` in flight, each
        taking ``per_item_s``."""
        w = workers if workers is not None else self.workers
        if not w or not self.per_item_s:
            return None
        return throughput_from(self.pool_target * w, self.per_item_s)

    def sustainable(self, ceilings: dict[Resource, float], workers: float | None = None) -> float:
        bounds = list(ceilings.values())
        bound = self.worker_bound(workers)
        if bound is not None:
            bounds.append(bound)
        return min(bounds) if bounds else math.inf


Chosen = tuple[tuple[Play, Recommendation], ...]


# A play's price: (expected improvement in percent or None, a note, evidence ids).
Price = Callable[[Play], tuple[float | None, str, tuple[str, ...]]]


def recommend(
    s: Situation, settings: Settings, price: Price, planned: frozenset[str] = frozenset()
) -> Chosen:
    """The plays the situation triggers, most relevant first, each as a recommendation priced
    by ``price`` (the solver on the system model with the play's change made; a play the model
    cannot express has no number). A play whose change the plan already makes (``planned``
    kinds) is left out: the plan's step stands for it."""
    plays = [
        p
        for p in settings.plays
        if s.triggers.intersection(p.when) and (p.change is None or p.change not in planned)
    ]
    plays.sort(key=lambda p: _rank(p, s))
    out: list[tuple[Play, Recommendation]] = []
    priced: dict[str, str] = {}  # a change kind -> the play that priced it
    for p in plays:
        if p.change is not None and p.change in priced:
            # the same change as a play above: priced once, there
            rec = _recommendation(p, _unpriced(priced[p.change]))
        else:
            rec = _recommendation(p, price)
            if rec.change is not None:
                priced[rec.change] = p.optimization
        out.append((p, rec))
    return tuple(out)


def _unpriced(first: str) -> Price:
    def price(p: Play) -> tuple[float | None, str, tuple[str, ...]]:
        return None, f'(It makes the same change as "{first}", priced there.)', ()

    return price


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


def _recommendation(p: Play, price: Price) -> Recommendation:
    gain, note, ids = price(p)
    rationale = p.rationale + (f" {note}" if note else "")
    change = p.change if gain is not None else None
    return Recommendation(p.optimization, gain, p.effort, p.risk, rationale, ids, p.example, change)
