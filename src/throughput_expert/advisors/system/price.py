"""One change priced on the system model ``analyze`` builds from the same metrics: the ceiling
at the saturation targets before and after it, and what binds each. Other front doors (the task
worker) price their own advice with it, so that one report never holds two answers for one
system."""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.advisors.system.build import from_metrics
from throughput_expert.advisors.system.project import apply, project
from throughput_expert.model import ServiceMetrics
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import Change, ChangeKind, Sink

__all__ = ["ChangePrice", "price_change"]


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
    built = from_metrics(m, settings, sink)
    if built is None or not built[0].stations:
        return None
    model = built[0]
    today = project(model)
    after = project(apply(model, Change(kind, value, station)))
    return ChangePrice(today.ceiling, today.binding, after.ceiling, after.binding)
