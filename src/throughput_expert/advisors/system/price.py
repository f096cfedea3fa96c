"""One change priced on the system model ``analyze`` builds from the same metrics: the ceiling
at the saturation targets before and after it, and what binds each. Other front doors (the task
worker) price their own advice with it, so that one report never holds two answers for one
system."""

from __future__ import annotations

from dataclasses import dataclass, replace

from throughput_expert.advisors.system.build import from_metrics
from throughput_expert.advisors.system.project import apply, project
from throughput_expert.laws.amdahl import amdahl_speedup
from throughput_expert.model import ServiceMetrics
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import Change, ChangeKind, Sink, SystemModel

__all__ = ["ChangePrice", "model_of", "price_change", "price_on"]


@dataclass(frozen=True)
class ChangePrice:
    """The model's ceiling (per second, at the saturation targets) today and with the change,
    and the limit that binds each."""

    ceiling_today: float
    binding_today: str
    ceiling_after: float
    binding_after: str

    @property
    def gain_pct(self) -> float | None:
        """The change's gain in percent; None when it lifts nothing (never a loss: a change
        that does not lift the ceiling is not priced)."""
        if self.ceiling_after <= self.ceiling_today * (1 + 1e-9):
            return None
        return (self.ceiling_after / self.ceiling_today - 1) * 100


def price_change(
    m: ServiceMetrics,
    kind: ChangeKind,
    value: float,
    sink: Sink | None,
    settings: Settings,
    station: str | None = None,
) -> ChangePrice | None:
    """``kind`` set to ``value`` on the model of ``m`` (None when ``m`` gives no model: no
    measured rate or no busy resource)."""
    model = model_of(m, settings, sink)
    return None if model is None else price_on(model, Change(kind, value, station))


def model_of(m: ServiceMetrics, settings: Settings, sink: Sink | None = None) -> SystemModel | None:
    """The model ``analyze`` builds from ``m``; None when ``m`` gives none (no measured rate or
    no busy resource)."""
    built = from_metrics(m, settings, sink)
    return None if built is None or not built[0].stations else built[0]


def price_on(model: SystemModel, change: Change) -> ChangePrice:
    """``change`` priced on ``model``: the ceiling today, the change applied, the ceiling after.
    A ``speedup`` (``change.share`` of the station's demand ``change.value`` times faster,
    Amdahl) also shortens the time a worker holds an item by the station time it saves: a
    worker waits on its request's service (never by more than Amdahl's factor on the whole
    of it)."""
    today = project(model)
    changed = apply(model, change)
    if change.kind == "speedup" and model.item_time is not None and model.workers:
        before, after = model.station(change.station or ""), changed.station(change.station or "")
        saved = (before.demand if before else 0.0) - (after.demand if after else 0.0)
        floor = model.item_time / amdahl_speedup(change.share, change.value)
        changed = replace(changed, item_time=max(model.item_time - saved, floor))
    after_p = project(changed)
    return ChangePrice(today.ceiling, today.binding, after_p.ceiling, after_p.binding)
