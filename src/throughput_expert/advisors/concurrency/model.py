"""The system model every pool size of ``optimize-concurrency`` is priced on (``model/system``,
solved by ``advisors/system/project``), so that two recommendations never price one change
differently and this command answers as every other command does.

- The pool: a request holds one of ``threads`` workers for S = W + C (``item_time``); it uses
  the CPU for C (one ``cpu`` station of ``cpu_servers`` servers: the cores, or 1 when CPU-bound
  Python runs in threads of one process under the GIL) and waits W on I/O (a ``wait`` delay
  station, no servers: it never queues, as a think time in the closed loop).
- ``project(model).capacity`` is the asymptotic bound the pool carries with every limit at
  100 %: X ≤ min(threads / S, cpu_servers / C) (Little's law on the workers, the utilization law
  on the CPU); its ``ceiling`` is the same at the saturation targets.
- ``closed(model)`` is the same model as a closed loop of ``threads`` requests, solved by exact
  Mean Value Analysis: what the pool carries when every thread always has a request, queueing
  for the CPU included (the bound is what it can never pass).
- A sweep: its USL fit is the workers' contention (``Contention``: X(N) = λN / (1 + σ(N−1) +
  κN(N−1)), measured with every worker busy), so ``project`` gives X(N); when the fit did not
  decide the size, the throughput the sweep measured at N (a measurement, not a model).
"""

from __future__ import annotations

from dataclasses import dataclass

from throughput_expert.advisors.concurrency.inputs import ConcurrencyInputs, service_time
from throughput_expert.advisors.system.project import closed, project
from throughput_expert.advisors.usl_report import SweepChoice, measured_at
from throughput_expert.laws.network import ClosedSolution
from throughput_expert.model.analysis.common import UslFitRecord
from throughput_expert.model.sweep import Sweep
from throughput_expert.model.system import Contention, SystemModel, SystemStation

__all__ = ["Config", "capacity", "closed_loop", "sweep_capacity", "sweep_model", "system_model"]


@dataclass(frozen=True)
class Config:
    """A deployment of the pool: threads (or processes) a request holds, cores the CPU work
    can use, and the saturation targets of the CPU and of the pool (they set ``project``'s
    ceiling, never its capacity at 100 %)."""

    threads: int
    cpu_servers: int
    cpu_target: float = 1.0
    pool_target: float = 1.0


def system_model(i: ConcurrencyInputs, c: Config) -> SystemModel | None:
    """The pool of ``c`` on the system model; None without W or C (nothing to price)."""
    hold = service_time(i)
    if not hold:
        return None
    stations: list[SystemStation] = []
    if i.wait_s:
        # a delay: every request waits W on its own (no queue), as a think time does
        stations.append(
            SystemStation("wait", "downstream", i.wait_s, None, 1.0, source="wait time (W)")
        )
    if i.compute_s:
        stations.append(
            SystemStation(
                "cpu",
                "cpu",
                i.compute_s,
                c.cpu_servers,
                c.cpu_target,
                source="compute time per request (C)",
            )
        )
    return SystemModel(
        "optimize-concurrency",
        tuple(stations),
        rate=None,
        workers=c.threads,
        worker_target=c.pool_target,
        item_time=hold,
    )


def capacity(i: ConcurrencyInputs, c: Config) -> float | None:
    """The asymptotic bound on the model, min(threads / (W + C), cpu_servers / C): what
    ``project`` says it carries at 100 %; None without the times."""
    model = system_model(i, c)
    return project(model).capacity if model is not None else None


def closed_loop(i: ConcurrencyInputs, c: Config) -> ClosedSolution | None:
    """The model as a closed loop of ``c.threads`` requests (MVA); None without the times."""
    model = system_model(i, c)
    return closed(model) if model is not None else None


def sweep_model(usl: UslFitRecord, choice: SweepChoice, threads: int) -> SystemModel:
    """One instance whose workers' limit is the sweep's USL fit (the curve already holds every
    station the sweep loaded: it was measured with the workers busy)."""
    assert usl.sigma is not None and usl.kappa is not None and usl.lambda_ is not None
    return SystemModel(
        "the sweep's instance",
        (),  # the curve is the only limit
        rate=None,
        workers=threads,
        contention=Contention(usl.lambda_, usl.sigma, usl.kappa, choice.level),
    )


def sweep_capacity(
    sweep: Sweep, usl: UslFitRecord | None, choice: SweepChoice, threads: int
) -> float | None:
    """Throughput at ``threads`` by the model that chose the size: the USL fit's X(N) as the
    workers' contention on the system model, or the measurement at that level (None when it was
    not measured)."""
    if choice.basis == "usl" and usl is not None:
        return project(sweep_model(usl, choice, threads)).capacity
    return measured_at(sweep, float(threads))
