"""Per-resource laws for ``analyze``: service demand, headroom to the saturation target, and the
bottleneck verdict with saturation signals.

Demand per request at resource *i* with *c_i* servers: D_i = U_i·c_i / X (service-demand law);
the rate at which it reaches its target utilization t_i is X·t_i / U_i (utilization law, demand
constant). CPU has ``cores`` servers; a disk or a link is taken as one server (its busy fraction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from throughput_expert.advisors.ledger import Ledger
from throughput_expert.laws.utilization import rate_at_utilization, service_demand
from throughput_expert.model import BottleneckType, Resource, ServiceMetrics
from throughput_expert.model.settings import Settings
from throughput_expert.model.units import fmt_pct

__all__ = ["Headroom", "ResourceView", "bottleneck_type", "headroom", "saturation_signals"]

_TYPE: dict[Resource, BottleneckType] = {
    "cpu": "cpu",
    "memory": "memory",
    "disk_io": "io_disk",
    "network": "io_network",
}

# signal name in Saturation -> (resource it points at, threshold key, trigger name)
_SIGNALS: tuple[tuple[str, Resource, str], ...] = (
    ("run_queue_per_core", "cpu", "run_queue"),
    ("psi_cpu", "cpu", "run_queue"),
    ("cpu_steal", "cpu", "cpu_steal"),
    ("iowait", "disk_io", "iowait"),
    ("disk_queue", "disk_io", "disk_queue"),
    ("psi_io", "disk_io", "iowait"),
    ("swap_pages_per_s", "memory", "swap"),
    ("major_faults_per_s", "memory", "major_faults"),
    ("psi_memory", "memory", "psi_memory"),
    ("network_drops_per_s", "network", "network_drops"),
    ("tcp_retransmits_per_s", "network", "retransmits"),
)


def bottleneck_type(resource: Resource) -> BottleneckType:
    return _TYPE[resource]


@dataclass(frozen=True)
class Signal:
    name: str
    resource: Resource
    trigger: str
    value: float
    threshold: float


@dataclass(frozen=True)
class ResourceView:
    resource: Resource
    utilization: float
    target: float
    servers: int
    scales_with_rate: bool
    demand_s: float | None = None
    max_rps_at_target: float | None = None
    evidence_ids: tuple[str, ...] = ()

    @property
    def headroom_fraction(self) -> float | None:
        """Growth in rate before the target is reached (X_target / X − 1 = t/U − 1, utilization
        law); None if it does not scale."""
        if not self.scales_with_rate or self.utilization <= 0:
            return None
        return rate_at_utilization(1.0, self.utilization, self.target) - 1


@dataclass(frozen=True)
class Headroom:
    views: tuple[ResourceView, ...]
    ceiling_rps: float | None
    binding: ResourceView | None
    signals: tuple[Signal, ...] = field(default=())

    def view(self, resource: Resource) -> ResourceView | None:
        return next((v for v in self.views if v.resource == resource), None)

    def scaling(self) -> list[ResourceView]:
        return [v for v in self.views if v.scales_with_rate and v.utilization > 0]


def saturation_signals(m: ServiceMetrics, settings: Settings) -> tuple[Signal, ...]:
    """The saturation signals above their thresholds (defaults data)."""
    known = m.saturation.known()
    out = []
    for name, resource, trigger in _SIGNALS:
        value = known.get(name)
        if value is not None and value > (limit := settings.threshold(name)):
            out.append(Signal(name, resource, trigger, value, limit))
    return tuple(out)


def headroom(m: ServiceMetrics, x: float | None, settings: Settings, ledger: Ledger) -> Headroom:
    """Each measured resource's demand and rate at its saturation target, and the ceiling."""
    views = tuple(_view(m, r, u, x, settings, ledger) for r, u in m.utilization.items())
    scaling = [v for v in views if v.scales_with_rate and v.utilization > 0]
    binding = min(scaling, key=lambda v: v.target / v.utilization, default=None)
    ceiling = binding.max_rps_at_target if binding else None
    if binding is not None and ceiling is not None:
        ledger.prove(
            "ceiling",
            f"the ceiling is {binding.resource}'s rate at its target: the lowest of the "
            "per-resource rates",
            "bottleneck bound: X_max = min_i X·t_i/U_i",
            {v.resource: v.max_rps_at_target for v in scaling},
            {"ceiling_rps": ceiling, "binding_resource": binding.resource},
        )
    return Headroom(views, ceiling, binding, saturation_signals(m, settings))


def _view(
    m: ServiceMetrics, r: Resource, u: float, x: float | None, s: Settings, ledger: Ledger
) -> ResourceView:
    target = s.target(r)
    servers = max(1, round(m.cores)) if r == "cpu" and m.cores else 1
    scales = r != "memory" or m.memory_grows_with_rate is True
    if x is None or x <= 0 or u <= 0 or not scales:
        return ResourceView(r, u, target, servers, scales)
    if r == "cpu" and not m.cores:
        ledger.assume(
            "CPU cores",
            1,
            "cores are not in the metrics: the CPU is taken as one "
            "server (its demand per request is then CPU time / cores); give cores",
        )
    demand = service_demand(u, x, servers)
    ceiling = rate_at_utilization(x, u, target)
    ids = (
        ledger.prove(
            f"demand-{r}",
            f"each request costs {r} {demand * 1e3:.4g} ms of busy time",
            "service-demand law: D = U·c / X",
            {"utilization": u, "servers": servers, "throughput_rps": x},
            {"service_demand_ms": demand * 1e3},
        ),
        ledger.prove(
            f"ceiling-{r}",
            f"{r} reaches its {fmt_pct(target)} target at {ceiling:.6g} rps",
            "utilization law: U = X·D, so X_target = X·t / U",
            {"throughput_rps": x, "utilization": u, "target_utilization": target},
            {"max_rps_at_target": ceiling},
        ),
    )
    return ResourceView(r, u, target, servers, True, demand, ceiling, ids)
