"""``optimize-concurrency``: pool sizes a user can deploy, each step a law with its inputs.

1. The seed's formulas (the baseline): CPU-bound threads = cores; I/O-bound
   cores × (1 + W/C); mixed: separate pools, the I/O one cores × 10 when W/C is unknown. The I/O
   formula is Little's law at the CPU ceiling: X_max = cores / C, N = X_max · (W + C).
2. Little's law for a target rate: N = X · (W + C); the CPU ceiling X_max = cores / C (1 / C per
   process for CPU-bound code under a GIL).
3. Erlang C (M/M/c) for an arrival rate and a latency SLO: the smallest pool meeting it.
4. A bounded queue: capacity ≤ X · (SLO − service time) (Little's law on the queue).
5. Async when W/C or the pool size passes the thresholds in the defaults data.
6. With a sweep: the USL fit and its recommended concurrency (``usl_report``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from throughput_expert.advisors.concurrency.inputs import ConcurrencyInputs, Plan, service_time
from throughput_expert.advisors.concurrency.queue import erlang_pool, pool_load, queue_bound
from throughput_expert.advisors.concurrency.recs import recommendations
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.usl_report import usl_report
from throughput_expert.errors import InputError, Parameter
from throughput_expert.laws.little import concurrency, throughput_from
from throughput_expert.laws.utilization import max_throughput
from throughput_expert.model import Report, Series
from throughput_expert.model.analysis.concurrency import (
    AsyncAdvice,
    ConcurrencyAnalysis,
    ErlangPool,
    Expected,
    Pool,
    Workload,
)
from throughput_expert.model.quantity import check_count
from throughput_expert.model.settings import Settings
from throughput_expert.model.units import fmt_count

__all__ = ["advise"]


def advise(inputs: ConcurrencyInputs, settings: Settings) -> Report:
    _check(inputs)
    ledger = Ledger()
    runtime = settings.runtime(inputs.runtime)
    gil = inputs.runtime == "python" and bool(runtime and runtime["gil"])
    ceiling = _cpu_ceiling(inputs, gil, ledger)
    needed = _littles_need(inputs, ledger)
    erlang = erlang_pool(inputs, ceiling, ledger)
    usl = usl_report(inputs.sweep, ledger) if inputs.sweep is not None else None
    io = _io_threads(inputs, needed, erlang, settings, ledger)
    usl_n = usl.fit.recommended_concurrency if usl and usl.fit else None
    pools = _pools(inputs, io, gil, usl_n, settings, ledger)
    expected = _expected(inputs, pools, ceiling, ledger)
    plan = Plan(
        inputs,
        pools,
        ceiling,
        needed,
        io,
        gil,
        expected,
        erlang,
        queue_bound(inputs, ledger),
        _async(inputs, pools, settings),
        usl.analysis if usl else None,
    )
    recs, steps = recommendations(plan, runtime, ledger)
    series = _throughput_series(inputs, pools, ceiling) | (usl.series if usl else {})
    return Report(
        command="optimize-concurrency",
        summary=_summary(plan, recs),
        analysis=_analysis(plan),
        series=series,
        recommendations=recs,
        implementation_plan=steps,
        evidence=tuple(ledger.evidence),
        assumptions=tuple(ledger.assumptions),
        inputs=(inputs.sweep.source,) if inputs.sweep and inputs.sweep.source else (),
    )


def _check(i: ConcurrencyInputs) -> None:
    if i.cores < 1:
        raise InputError("must be at least 1", source=Parameter("cpu_cores"))
    if i.current_threads < 1:
        raise InputError("must be at least 1", source=Parameter("current_thread_pool"))
    check_count(i.cores, source=i.cores_source, kind="cores")
    check_count(i.current_threads, source=Parameter("current_thread_pool"), kind="workers")
    for flag, value in (
        (Parameter("wait_time"), i.wait_s),
        (Parameter("compute_time"), i.compute_s),
    ):
        if value is not None and value <= 0:
            raise InputError("must be above zero", source=flag)
    if i.slo is not None and i.arrival_rps is None and i.target_rps is None:
        raise InputError(
            "a latency SLO needs {arrival_rate} (or {target_throughput})",
            mentions=("arrival_rate", "target_throughput"),
            source=Parameter("latency_slo"),
        )


def _ratio(i: ConcurrencyInputs) -> float | None:
    if i.wait_s is None or i.compute_s is None:
        return None
    return i.wait_s / i.compute_s


def _cpu_ceiling(i: ConcurrencyInputs, gil: bool, ledger: Ledger) -> float | None:
    """X_max = cores / C: the CPU is busy all the time (1 / C per process under a GIL)."""
    if i.compute_s is None:
        return None
    servers = 1 if gil else i.cores
    ceiling = max_throughput(i.compute_s, servers)
    law = (
        "GIL: one thread runs Python at a time: X_max = 1 / C per process"
        if gil
        else "utilization law at U = 1: X_max = cores / C"
    )
    ledger.prove(
        "cpu-ceiling",
        f"CPU work caps throughput at {fmt_count(ceiling)} rps",
        law,
        {"cores": servers, "compute_ms": i.compute_s * 1e3},
        {"max_rps": ceiling},
    )
    return ceiling


def _littles_need(i: ConcurrencyInputs, ledger: Ledger) -> int | None:
    hold = service_time(i)
    if i.target_rps is None or hold is None:
        return None
    need = max(1, math.ceil(concurrency(i.target_rps, hold) - 1e-9))
    ledger.prove(
        "little-threads",
        f"{fmt_count(i.target_rps)} rps needs {need} requests in flight",
        "Little's law: N = X · (W + C)",
        {
            "target_rps": i.target_rps,
            "wait_ms": (i.wait_s or 0) * 1e3,
            "compute_ms": (i.compute_s or 0) * 1e3,
        },
        {"threads": need},
    )
    return need


def _io_threads(
    i: ConcurrencyInputs,
    needed: int | None,
    erlang: ErlangPool | None,
    settings: Settings,
    ledger: Ledger,
) -> int | None:
    if i.workload_type == "cpu":
        return None
    ratio = _ratio(i)
    if ratio is None or i.compute_s is None:
        mult = int(settings.setting("thread_pools", "io_multiplier_when_unknown"))
        seed = i.cores * mult
        ledger.assume(
            "I/O pool when wait/compute is unknown",
            f"cores × {mult}",
            "the seed's rule for mixed workloads; give wait_time and compute_time for Little's law",
        )
    else:
        # cores × (1 + W/C) is Little's law at the CPU ceiling: N = (cores / C) · (W + C)
        at_ceiling = max_throughput(i.compute_s, i.cores)
        seed = math.ceil(concurrency(at_ceiling, i.compute_s + (i.wait_s or 0.0)) - 1e-9)
    ledger.prove(
        "seed-io-pool",
        f"the seed's I/O pool: {seed} threads",
        "seed: threads = cores × (1 + W/C) (Little's law at the CPU ceiling)",
        {"cores": i.cores, "wait_over_compute": ratio},
        {"threads": seed},
    )
    if erlang is not None and erlang.threads:
        return erlang.threads
    return needed if needed is not None else seed


def _pools(
    i: ConcurrencyInputs,
    io: int | None,
    gil: bool,
    usl_n: int | None,
    settings: Settings,
    ledger: Ledger,
) -> tuple[Pool, ...]:
    """The seed's pools, the I/O one sized by the strongest law that applies; a USL fit of a
    concurrency sweep sizes the pool the sweep measured (the I/O one unless CPU-bound)."""
    cpu_kind = "processes" if gil else "threads"
    ledger.prove(
        "seed-cpu-pool",
        f"CPU-bound work: {i.cores} {cpu_kind}",
        "seed: CPU-bound threads = cores",
        {"cores": i.cores},
        {"threads": i.cores},
    )
    measured = usl_n is not None and i.sweep is not None and i.sweep.level_kind == "concurrency"
    usl_formula = "USL fit of the sweep: smallest N reaching 95 % of the peak (or asymptote)"
    if i.workload_type == "cpu":
        if measured and usl_n is not None:
            return (Pool("cpu", usl_n, i.current_threads, cpu_kind, usl_formula, ("usl-fit",)),)
        return (
            Pool(
                "cpu", i.cores, i.current_threads, cpu_kind, "threads = cores", ("seed-cpu-pool",)
            ),
        )
    if measured and usl_n is not None:
        io_pool = Pool("io", usl_n, i.current_threads, "threads", usl_formula, ("usl-fit",))
    else:
        known = {e.id for e in ledger.evidence}
        ids = tuple(x for x in ("seed-io-pool", "little-threads", "erlang-pool") if x in known)
        io_pool = Pool(
            "io", io or 1, i.current_threads, "threads", _io_formula(i, settings, ledger), ids
        )
    if i.workload_type == "io":
        return (io_pool,)
    cpu = Pool("cpu", i.cores, i.current_threads, cpu_kind, "threads = cores", ("seed-cpu-pool",))
    return (cpu, io_pool)


def _io_formula(i: ConcurrencyInputs, settings: Settings, ledger: Ledger) -> str:
    ids = {e.id for e in ledger.evidence}
    if "erlang-pool" in ids and i.slo is not None:
        return f"Erlang C: smallest pool with {i.slo.describe()}"
    if "little-threads" in ids:
        return "Little's law: N = X · (W + C)"
    if _ratio(i) is None:
        mult = int(settings.setting("thread_pools", "io_multiplier_when_unknown"))
        return f"seed: cores × {mult} (wait/compute unknown)"
    return "seed: cores × (1 + W/C)"


def _capacity(i: ConcurrencyInputs, threads: int, ceiling: float | None) -> float | None:
    """Throughput a pool of ``threads`` can carry: min(N / (W + C), CPU ceiling)."""
    hold = service_time(i)
    by_little = throughput_from(threads, hold) if hold else None
    bounds = [b for b in (by_little, ceiling) if b is not None]
    return min(bounds) if bounds else None


def _expected(
    i: ConcurrencyInputs, pools: tuple[Pool, ...], ceiling: float | None, ledger: Ledger
) -> Expected:
    recommended = max(p.threads for p in pools if p.pool != "cpu" or len(pools) == 1)
    now, then = _capacity(i, i.current_threads, ceiling), _capacity(i, recommended, ceiling)
    if now is not None and then is not None:
        ledger.prove(
            "expected-throughput",
            f"the pool carries up to {fmt_count(then)} rps (now {fmt_count(now)})",
            "Little's law with the CPU bound: X ≤ min(N / (W + C), X_max)",
            {
                "current_threads": i.current_threads,
                "recommended_threads": recommended,
                "cpu_ceiling_rps": ceiling,
            },
            {"current_rps": now, "recommended_rps": then},
        )
    return Expected(
        current=pool_load(i, i.current_threads, now),
        recommended=pool_load(i, recommended, then),
    )


def _async(i: ConcurrencyInputs, pools: tuple[Pool, ...], settings: Settings) -> AsyncAdvice | None:
    ratio = _ratio(i)
    limit = float(settings.setting("thread_pools", "async_wait_compute_ratio"))
    biggest = max(p.threads for p in pools)
    size_limit = int(settings.setting("thread_pools", "async_pool_threshold"))
    reasons = []
    if ratio is not None and ratio >= limit:
        reasons.append(f"wait/compute is {ratio:.3g} (≥ {limit:g}): threads mostly sleep")
    if biggest > size_limit:
        reasons.append(
            f"the pool would hold {biggest} threads (> {size_limit}): memory per "
            "thread and context switches add up"
        )
    if not reasons or i.workload_type == "cpu":
        return None
    return AsyncAdvice(recommended=True, why=tuple(reasons))


def _throughput_series(
    i: ConcurrencyInputs, pools: tuple[Pool, ...], ceiling: float | None
) -> dict[str, Series]:
    if not service_time(i):
        return {}
    top = max(2 * max(p.threads for p in pools), i.current_threads, 4)
    n = np.unique(np.linspace(1, top, 50).round().astype(int))
    points = tuple((float(k), float(_capacity(i, int(k), ceiling) or 0.0)) for k in n)
    return {"throughput_vs_threads": Series("threads", "max throughput (rps)", points)}


def _analysis(p: Plan) -> ConcurrencyAnalysis:
    i = p.inputs
    return ConcurrencyAnalysis(
        pools=p.pools,
        expected=p.expected,
        workload=Workload(
            type=i.workload_type,
            cores=i.cores,
            cores_source=str(i.cores_source),
            wait=i.wait_s,
            compute=i.compute_s,
            wait_over_compute=_ratio(i),
            runtime=i.runtime,
            gil=p.gil,
        ),
        cpu_ceiling=p.cpu_ceiling_rps,
        target=i.target_rps,
        threads_for_target=p.needed_for_target,
        target_reachable=(
            None
            if i.target_rps is None or p.cpu_ceiling_rps is None
            else i.target_rps <= p.cpu_ceiling_rps
        ),
        erlang=p.erlang,
        queue=p.queue,
        async_=p.async_advice,
        usl=p.usl,
    )


def _summary(p: Plan, recs: tuple[Any, ...]) -> str:
    sizes = ", ".join(f"{pool.pool} {pool.threads} {pool.kind}" for pool in p.pools)
    text = f"Pools: {sizes} (now {p.inputs.current_threads})"
    if p.cpu_ceiling_rps is not None:
        text += f"; CPU caps throughput at {fmt_count(p.cpu_ceiling_rps)} rps"
    i = p.inputs
    if (
        i.target_rps is not None
        and p.cpu_ceiling_rps is not None
        and i.target_rps > p.cpu_ceiling_rps
    ):
        text += f", below the {fmt_count(i.target_rps)} target: more threads cannot reach it"
    if recs:
        first = recs[0].optimization
        text += f". First: {first[0].lower()}{first[1:]}"
    return text + "."
