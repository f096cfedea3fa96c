"""The system model every pool size of ``optimize-concurrency`` is priced on, so that two
recommendations never price one change differently.

- Laws (Little's law, the utilization law, the CPU ceiling): a request holds a pool thread for
  S = W + C (a station of ``threads`` servers and demand S) and uses the CPU for C (a station of
  ``cpu_servers`` servers: the cores, or 1 when CPU-bound Python runs in threads of one process
  under the GIL). The pool carries what the bottleneck law of ``laws/network`` allows:
  X ≤ min(threads / S, cpu_servers / C); at the saturation target U every station carries U × that.
- A sweep: the USL's X(N) when its fit decided the size, else the throughput measured at N.
"""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.advisors.concurrency.inputs import ConcurrencyInputs, service_time
from throughput_expert.advisors.usl_report import SweepChoice, measured_at
from throughput_expert.laws.network import Station, max_throughput
from throughput_expert.laws.usl import usl_throughput
from throughput_expert.model.analysis.common import UslFitRecord
from throughput_expert.model.sweep import Sweep

__all__ = ["Config", "capacity", "stations", "sweep_capacity"]


@dataclass(frozen=True)
class Config:
    """A deployment of the pool: threads (or processes) a request holds, cores the CPU work
    can use."""

    threads: int
    cpu_servers: int


def stations(i: ConcurrencyInputs, c: Config) -> list[Station]:
    out = []
    hold = service_time(i)
    if hold:
        out.append(Station("pool", hold, c.threads))
    if i.compute_s:
        out.append(Station("cpu", i.compute_s, c.cpu_servers))
    return out


def capacity(i: ConcurrencyInputs, c: Config) -> float | None:
    """The bottleneck law on the model: min(threads / (W + C), cpu_servers / C); None without
    the times."""
    found = stations(i, c)
    return max_throughput(found) if found else None


def sweep_capacity(
    sweep: Sweep, usl: UslFitRecord | None, choice: SweepChoice, threads: int
) -> float | None:
    """Throughput at ``threads`` by the model that chose the size: the USL fit's X(N), or the
    measurement at that level (None when it was not measured)."""
    if choice.basis == "usl" and usl is not None:
        assert usl.sigma is not None and usl.kappa is not None and usl.lambda_ is not None
        return usl_throughput(float(threads), usl.sigma, usl.kappa, usl.lambda_)
    return measured_at(sweep, float(threads))
