"""A profile's fix priced on the system model ``analyze`` builds from the same host metrics.

- A fix of CPU work (serialization, regex, logging, ...) is a ``speedup`` change at the CPU
  station: its demand falls by Amdahl's law, D' = D / S(f, s), with f the category's share of the
  CPU time the profile measured and s the fix's speed-up. A worker waits on its own CPU work, so
  the time it holds an item falls by the CPU time saved (never by more than Amdahl's factor on
  the whole of it). The gain is the solver's answer: ceiling after / ceiling today − 1, with each
  ceiling the lowest station rate at its saturation target (``advisors/system/project``). A fix
  that does not move the binding limit gains nothing (None), whatever headroom there is today.
- A fix the model has no station for (a wait on a lock, a downstream, the disk as the serving
  threads see it; or CPU work when the metrics do not measure the CPU) is priced at fixed
  concurrency: the rate follows the time per request (Amdahl on the profile's share), but never
  past the ceiling the measured stations allow: X' = min(X·S, X_max).
- The ceiling ratio does not depend on the rate (every station's rate at its target is X·t/U),
  so metrics without a throughput are modelled at a unit rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.advisors.system.price import model_of, price_on
from throughput_expert.advisors.system.project import project
from throughput_expert.laws.amdahl import amdahl_speedup
from throughput_expert.model import ServiceMetrics
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import Change, SystemModel

__all__ = ["HostModel", "ModelPrice", "host_model", "price_off_model", "price_speedup"]

CPU = "cpu"


@dataclass(frozen=True)
class HostModel:
    """The system model of the host's metrics, and whether its rate is a unit stand-in."""

    model: SystemModel
    unit_rate: bool

    @property
    def has_cpu(self) -> bool:
        return self.model.station(CPU) is not None


@dataclass(frozen=True)
class ModelPrice:
    """A fix on the model: the ceilings (per second, at the saturation targets) and bindings
    before and after, Amdahl's answer alone, and the gain (None: it lifts nothing)."""

    share: float
    speedup: float
    ceiling_before: float
    binding_before: str
    ceiling_after: float
    binding_after: str
    amdahl_pct: float
    on_model: bool
    """True: the CPU station's demand changed; False: at fixed concurrency, capped."""

    @property
    def gain_pct(self) -> float | None:
        if self.ceiling_after <= self.ceiling_before * (1 + 1e-9):
            return None
        return (self.ceiling_after / self.ceiling_before - 1) * 100


def host_model(m: ServiceMetrics, settings: Settings) -> HostModel | None:
    """The model ``analyze`` builds from ``m`` (at a unit rate when ``m`` has no throughput);
    None when no resource that scales with the rate is measured."""
    unit = not m.throughput_rps or m.throughput_rps <= 0
    model = model_of(m.with_(throughput_rps=1.0) if unit else m, settings)
    return None if model is None else HostModel(model, unit)


def price_speedup(model: SystemModel, share: float, speedup: float) -> ModelPrice:
    """``share`` of the CPU station's demand made ``speedup`` times faster (the model must have
    a CPU station)."""
    price = price_on(model, Change("speedup", speedup, station=CPU, share=share))
    return ModelPrice(
        share,
        speedup,
        price.ceiling_today,
        price.binding_today,
        price.ceiling_after,
        price.binding_after,
        (amdahl_speedup(share, speedup) - 1) * 100,
        True,
    )


def price_off_model(model: SystemModel, share: float, speedup: float) -> ModelPrice:
    """A fix no station of the model carries: at fixed concurrency the rate follows the time
    per request, X' = X·S (Amdahl), up to the model's ceiling. The "ceilings" here are rates:
    today's and the one after."""
    today = project(model)
    rate = model.rate or 1.0
    s = amdahl_speedup(share, speedup)
    after = min(rate * s, today.ceiling)
    binding = today.binding if rate * s >= today.ceiling else "the serving threads"
    return ModelPrice(
        share,
        speedup,
        rate,
        "the serving threads",
        after,
        binding,
        (s - 1) * 100,
        False,
    )
