"""``optimize-concurrency``: pool sizes a user can deploy, each step a law with its inputs.

1. The seed's formulas (the baseline): CPU-bound threads = cores (processes for Python: the
   GIL); I/O-bound cores × (1 + W/C); mixed: separate pools, the I/O one cores × 10 when W/C is
   unknown. The I/O formula is Little's law at the CPU ceiling: X_max = cores / C,
   N = X_max · (W + C), so the pool is exactly as busy as the CPU at any rate.
2. Little's law for a target rate: N = X · (W + C) in flight, and a pool of N / U threads so that
   it stays at the saturation target U (``saturation_targets.cpu``), not at 100 %.
3. Erlang C (M/M/c) for an arrival rate and a latency SLO: the smallest pool meeting it, raised
   to stay at or under the saturation target.
4. A bounded queue: capacity ≤ X · (SLO − service time) (Little's law on the queue).
5. Async when W/C or the pool size passes the thresholds in the defaults data.
6. With a sweep: the USL fit, and the level ``choose_level`` recommends (what ``tpx sweep``
   recommends on the same file): the USL's, or the measured best when the fit is unreliable
   (R² below ``thresholds.usl_min_r_squared``) or misses the measured peak.

Every gain is one model's answer with the change applied against today (``model``): the pool
and the CPU as stations (the CPU ceiling cores / C), or the sweep's USL or measurements when
the sweep sized the pool; the ``expected`` block shows both sides and its ``basis``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from throughput_expert.advisors.concurrency.inputs import (
    ConcurrencyInputs,
    Plan,
    arrival_rate,
    asked_rate,
    service_time,
)
from throughput_expert.advisors.concurrency.model import (
    Config,
    capacity,
    closed_loop,
    sweep_capacity,
)
from throughput_expert.advisors.concurrency.queue import erlang_pool, pool_load, queue_bound
from throughput_expert.advisors.concurrency.recs import recommendations
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.advisors.usl_report import (
    SweepChoice,
    UslReport,
    choose_level,
    measured_peak,
    usl_report,
)
from throughput_expert.errors import InputError, Parameter
from throughput_expert.laws.little import concurrency
from throughput_expert.laws.network import ClosedSolution
from throughput_expert.laws.usl import TARGET_SHARE
from throughput_expert.laws.utilization import max_throughput, utilization
from throughput_expert.model import Report, Series
from throughput_expert.model.analysis.concurrency import (
    AsyncAdvice,
    ConcurrencyAnalysis,
    ErlangPool,
    Expected,
    Pool,
    PoolLoad,
    PoolName,
    Workload,
)
from throughput_expert.model.quantity import COUNT_BOUNDS, check_count
from throughput_expert.model.settings import Settings
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_pct

__all__ = ["advise"]


def advise(inputs: ConcurrencyInputs, settings: Settings) -> Report:
    _check(inputs)
    ledger = Ledger()
    runtime = settings.runtime(inputs.runtime)
    gil = inputs.runtime == "python" and bool(runtime and runtime["gil"])
    # CPU-bound work moves to processes under a GIL (one per core); I/O work stays in threads
    servers = 1 if gil and inputs.workload_type == "io" else inputs.cores
    target_u = settings.target("cpu")  # the CPU's saturation target
    pool_u = settings.threshold("pool_busy_target")  # a pool's, as in the system model
    ceiling = _cpu_ceiling(inputs, gil, servers, target_u, ledger)
    needed = _littles_need(inputs, ledger)
    erlang = erlang_pool(inputs, ceiling, ledger)
    usl, choice = _sweep(inputs, settings, ledger)
    cpu_cap = target_u * ceiling if ceiling is not None else None
    io = _io_threads(inputs, needed, erlang, pool_u, settings, ledger, cpu_cap)
    sized = (
        choice.level
        if choice is not None
        and inputs.sweep is not None
        and inputs.sweep.level_kind == "concurrency"
        else None
    )
    pools = _pools(inputs, io, gil, sized, choice, pool_u, settings, ledger)
    expected = _expected(
        inputs, pools, gil, servers, usl, choice, sized, ledger, (target_u, pool_u)
    )
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
        choice,
        target_u,
        servers,
    )
    recs, steps = recommendations(plan, runtime, ledger)
    series = _throughput_series(inputs, pools, servers) | (usl.series if usl else {})
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


def _sweep(
    i: ConcurrencyInputs, settings: Settings, ledger: Ledger
) -> tuple[UslReport | None, SweepChoice | None]:
    """The sweep's USL fit and the level it recommends: the decision ``tpx sweep`` makes on the
    same file (``choose_level``), so the two commands agree."""
    if i.sweep is None:
        return None, None
    usl = usl_report(i.sweep, ledger, min_r_squared=settings.threshold("usl_min_r_squared"))
    if i.sweep.mode == "open":
        return usl, None
    return usl, choose_level(i.sweep, usl.analysis, measured_peak(i.sweep, ledger))


def _check(i: ConcurrencyInputs) -> None:
    if i.cores < 1:
        raise InputError("must be at least 1", source=Parameter("cpu_cores"))
    if i.current_threads is not None and i.current_threads < 1:
        raise InputError("must be at least 1", source=Parameter("current_thread_pool"))
    check_count(i.cores, source=i.cores_source, kind="cores")
    if i.current_threads is not None:
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
    _check_in_flight(i)


def _check_in_flight(i: ConcurrencyInputs) -> None:
    """A rate and a time per request that put more requests in flight (Little's law) than any
    pool holds: each is plausible alone, together they describe no system, and every pool size
    and queue computed from them would be beyond the laws' bounds."""
    hold = service_time(i)
    if hold is None:
        return
    limit, why = COUNT_BOUNDS["workers"]
    for name, rate in (("arrival_rate", i.arrival_rps), ("target_throughput", i.target_rps)):
        if rate is None or rate * hold <= limit:
            continue
        times = " + ".join(
            "{" + flag + "}"
            for flag, value in (("wait_time", i.wait_s), ("compute_time", i.compute_s))
            if value is not None
        )
        raise InputError(
            f"{fmt_count(rate)} rps holding each request {fmt_duration(hold)} keeps "
            f"{rate * hold:.3g} requests in flight (Little's law: {{{name}}} × ({times})), "
            f"{why} (at most {limit:,}): check the rate and the times",
            mentions=(name, "wait_time", "compute_time"),
            source=Parameter(name),
        )


def _ratio(i: ConcurrencyInputs) -> float | None:
    if i.wait_s is None or i.compute_s is None:
        return None
    return i.wait_s / i.compute_s


def _cpu_ceiling(
    i: ConcurrencyInputs, gil: bool, servers: int, target_u: float, ledger: Ledger
) -> float | None:
    """X_max = cores / C: the CPU is busy all the time (1 / C per process under a GIL, so the
    ceiling of the recommended pools is the cores' when CPU work runs in processes)."""
    if i.compute_s is None:
        return None
    ceiling = max_throughput(i.compute_s, servers)
    law = "utilization law at U = 1: X_max = cores / C"
    if gil:
        law += "; under the GIL one thread runs Python at a time: 1 / C per process"
    result = {"max_rps": ceiling, "at_saturation_target_rps": target_u * ceiling}
    if gil and servers > 1:
        result["one_process_rps"] = max_throughput(i.compute_s, 1)
    where = "in threads of one process" if gil and servers == 1 else f"on {servers} cores"
    if gil and servers > 1:
        where = f"in {servers} processes"
    ledger.prove(
        "cpu-ceiling",
        f"CPU work {where} caps throughput at {fmt_count(ceiling)} rps "
        f"({fmt_count(target_u * ceiling)} at the {fmt_pct(target_u)} saturation target)",
        law,
        {"cores": servers, "compute_ms": i.compute_s * 1e3, "saturation_target": target_u},
        result,
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


def _at_target(rate: float, hold: float, target_u: float) -> int:
    """The smallest pool a rate keeps at or under the saturation target: U = X · S / N ≤ U_t."""
    return max(1, math.ceil(concurrency(rate, hold) / target_u - 1e-9))


def _io_threads(
    i: ConcurrencyInputs,
    needed: int | None,
    erlang: ErlangPool | None,
    target_u: float,
    settings: Settings,
    ledger: Ledger,
    cpu_cap: float | None = None,
) -> int | None:
    """The I/O pool by the strongest law that applies, never smaller than what keeps it at or
    under the saturation target at the rate it is sized for. That rate is never above what the
    CPU carries at its own target (``cpu_cap``): threads beyond it would only let the CPU run
    past its target."""
    rate, hold = arrival_rate(i), service_time(i)
    wanted = max(i.target_rps, i.arrival_rps or 0.0) if i.target_rps is not None else None
    if cpu_cap is not None and hold is not None:
        capped = [r for r in (rate, wanted) if r is not None and r > cpu_cap * (1 + 1e-9)]
        if capped:
            ledger.prove(
                "pool-capped-by-cpu",
                f"the pools are sized for {fmt_count(cpu_cap)} rps, what the CPU carries at its "
                f"saturation target, not {fmt_count(max(capped))} rps: threads for more would "
                "only run the CPU past its target",
                "utilization law: X ≤ U_target · cores / C",
                {"asked_rps": max(capped), "cpu_at_target_rps": cpu_cap},
                {"sized_for_rps": cpu_cap},
            )
            rate = min(rate, cpu_cap) if rate is not None else None
            wanted = min(wanted, cpu_cap) if wanted is not None else None
            if needed is not None:
                needed = max(1, math.ceil(concurrency(cpu_cap, hold) - 1e-9))
    if i.workload_type == "cpu":
        # CPU-bound work needs a thread per core; requests that also wait hold their thread
        # longer: the pool is then sized for the rate as well (``_pools`` keeps at least cores)
        if not i.wait_s or rate is None or hold is None:
            return None
        if erlang is not None and erlang.threads:
            return _raised(erlang.threads, rate, hold, target_u, ledger)
        if needed is not None and wanted is not None:
            return _raised(needed, wanted, hold, target_u, ledger)
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
        # cores × (1 + W/C) is Little's law at the CPU ceiling: N = (cores / C) · (W + C); at
        # any rate the pool is then exactly as busy as the CPU
        at_ceiling = max_throughput(i.compute_s, i.cores)
        seed = math.ceil(concurrency(at_ceiling, i.compute_s + (i.wait_s or 0.0)) - 1e-9)
    ledger.prove(
        "seed-io-pool",
        f"the seed's I/O pool: {seed} threads",
        "seed: threads = cores × (1 + W/C) (Little's law at the CPU ceiling)",
        {"cores": i.cores, "wait_over_compute": ratio},
        {"threads": seed},
    )
    if erlang is not None and erlang.threads and rate is not None and hold is not None:
        return _raised(erlang.threads, rate, hold, target_u, ledger)
    if needed is not None and wanted is not None and hold is not None:
        # sized for the target, and for the arrival rate when one is given and higher
        return _raised(needed, wanted, hold, target_u, ledger)
    return seed


def _raised(threads: int, rate: float, hold: float, target_u: float, ledger: Ledger) -> int:
    size = max(threads, _at_target(rate, hold, target_u))
    busy = utilization(rate, hold, size)
    ledger.prove(
        "pool-at-target",
        f"{size} threads carry {fmt_count(rate)} rps at {fmt_pct(busy)} busy "
        f"(the saturation target is {fmt_pct(target_u)})",
        "utilization law: U = X · (W + C) / N ≤ the saturation target",
        {"rate_rps": rate, "service_time_ms": hold * 1e3, "saturation_target": target_u},
        {"threads": size, "utilization": busy},
    )
    return size


def _pools(
    i: ConcurrencyInputs,
    io: int | None,
    gil: bool,
    sized: int | None,
    choice: SweepChoice | None,
    target_u: float,
    settings: Settings,
    ledger: Ledger,
) -> tuple[Pool, ...]:
    """The seed's pools, the I/O one sized by the strongest law that applies; a concurrency
    sweep sizes the pool it measured (the I/O one unless CPU-bound) at the level it recommends
    (``choose_level``, as ``tpx sweep`` does)."""
    cpu_kind = "processes" if gil else "threads"
    ledger.prove(
        "seed-cpu-pool",
        f"CPU-bound work: {i.cores} {cpu_kind}",
        "seed: CPU-bound threads = cores",
        {"cores": i.cores},
        {"threads": i.cores},
    )
    measured: Pool | None = None
    if sized is not None and choice is not None:
        formula = (
            f"USL fit of the sweep: smallest N reaching {fmt_pct(TARGET_SHARE)} of the peak "
            "(or asymptote)"
            if choice.basis == "usl"
            else "the best level the sweep measured"
        )
        name: PoolName = "cpu" if i.workload_type == "cpu" else "io"
        kind = cpu_kind if name == "cpu" else "threads"
        measured = Pool(name, sized, i.current_threads, kind, formula, choice.evidence_ids)
    if i.workload_type == "cpu":
        if measured is not None:
            return (measured,)
        if io is not None and io > i.cores:  # requests wait too: sized for the rate
            formula = _io_formula(i, io, target_u, settings, ledger)
            known = {e.id for e in ledger.evidence}
            ids: tuple[str, ...] = tuple(
                x for x in ("little-threads", "erlang-pool", "pool-at-target") if x in known
            )
            return (Pool("cpu", io, i.current_threads, cpu_kind, formula, ids),)
        return (
            Pool(
                "cpu", i.cores, i.current_threads, cpu_kind, "threads = cores", ("seed-cpu-pool",)
            ),
        )
    if measured is not None:
        io_pool = measured
    else:
        known = {e.id for e in ledger.evidence}
        ids = tuple(
            x
            for x in ("seed-io-pool", "little-threads", "erlang-pool", "pool-at-target")
            if x in known
        )
        io_pool = Pool(
            "io",
            io or 1,
            i.current_threads,
            "threads",
            _io_formula(i, io or 1, target_u, settings, ledger),
            ids,
        )
    if i.workload_type == "io":
        return (io_pool,)
    cpu = Pool("cpu", i.cores, i.current_threads, cpu_kind, "threads = cores", ("seed-cpu-pool",))
    return (cpu, io_pool)


def _io_formula(
    i: ConcurrencyInputs, threads: int, target_u: float, settings: Settings, ledger: Ledger
) -> str:
    ids = {e.id for e in ledger.evidence}
    if "erlang-pool" in ids and i.slo is not None:
        text = f"Erlang C: smallest pool with {i.slo.describe()}"
        erlang = next(e.result for e in ledger.evidence if e.id == "erlang-pool")
        if isinstance(erlang, ErlangPool) and erlang.threads and threads > erlang.threads:
            text += f", raised to stay ≤ {fmt_pct(target_u)} busy"
        return text
    if "little-threads" in ids:
        return f"Little's law at the {fmt_pct(target_u)} saturation target: N = X · (W + C) / U"
    if _ratio(i) is None:
        mult = int(settings.setting("thread_pools", "io_multiplier_when_unknown"))
        return f"seed: cores × {mult} (wait/compute unknown)"
    return "seed: cores × (1 + W/C)"


def _expected(
    i: ConcurrencyInputs,
    pools: tuple[Pool, ...],
    gil: bool,
    servers: int,
    usl: UslReport | None,
    choice: SweepChoice | None,
    sized: int | None,
    ledger: Ledger,
    targets: tuple[float, float] = (1.0, 1.0),
) -> Expected:
    """Today's pool and the recommended one on one system model (``model``): the sweep's USL
    as the workers' contention (or its measurements) when it sized the pool, else the pool and
    the CPU, with the closed loop's answer (MVA) beside the bound. Without today's pool only the
    recommended one is priced."""
    recommended = max(p.threads for p in pools if p.pool != "cpu" or len(pools) == 1)
    current = i.current_threads
    basis: Literal["little", "usl", "measured"] = "little"
    loops: tuple[ClosedSolution | None, ClosedSolution | None] = (None, None)
    if sized is not None and choice is not None and choice.basis is not None and i.sweep:
        basis = choice.basis
        fit = usl.analysis if usl else None
        now = None if current is None else sweep_capacity(i.sweep, fit, choice, current)
        then = sweep_capacity(i.sweep, fit, choice, recommended)
        law = (
            "USL fit of the sweep as the workers' contention on the system model: "
            "X(N) = λN / (1 + σ(N−1) + κN(N−1))"
            if basis == "usl"
            else "measurement: the sweep's throughput at each level"
        )
        inputs: dict[str, Any] = {
            "current_threads": current,
            "recommended_threads": recommended,
        }
    else:
        # today's threads share one process under a GIL; the recommended CPU work uses `servers`
        cpu_u, pool_u = targets
        today = None if current is None else Config(current, 1 if gil else i.cores, cpu_u, pool_u)
        rec = Config(recommended, servers, cpu_u, pool_u)
        now = None if today is None else capacity(i, today)
        then = capacity(i, rec)
        loops = (None if today is None else closed_loop(i, today), closed_loop(i, rec))
        law = (
            "bottleneck law on the system model (the pool's threads, the CPU a station of its "
            "cores): X ≤ min(N / (W + C), cores / C)"
        )
        inputs = {
            "current_threads": current,
            "current_cpu_servers": None if today is None else today.cpu_servers,
            "recommended_threads": recommended,
            "recommended_cpu_servers": servers,
            "wait_ms": None if i.wait_s is None else i.wait_s * 1e3,
            "compute_ms": None if i.compute_s is None else i.compute_s * 1e3,
        }
    if then is not None and (now is not None or current is None):
        claim = f"the pool carries up to {fmt_count(then)} rps"
        claim += " (today's pool not given)" if current is None else f" (now {fmt_count(now)})"
        ledger.prove(
            "expected-throughput",
            claim,
            law,
            inputs,
            {"current_rps": now, "recommended_rps": then},
        )
    _prove_closed_loop(i, current, recommended, loops, ledger)
    return Expected(
        current=PoolLoad(None, None) if current is None else pool_load(i, current, now, loops[0]),
        recommended=pool_load(i, recommended, then, loops[1]),
        basis=basis,
    )


def _prove_closed_loop(
    i: ConcurrencyInputs,
    current: int | None,
    recommended: int,
    loops: tuple[ClosedSolution | None, ClosedSolution | None],
    ledger: Ledger,
) -> None:
    """The evidence of the closed loop's answer (MVA), today's pool and the recommended one."""
    now, then = loops
    if then is None:
        return
    held = then.response_time + then.think_time
    claim = (
        f"as a closed loop of {recommended} requests the pool carries {fmt_count(then.throughput)} "
        f"rps, each holding a thread {fmt_duration(held)}"
    )
    if now is not None and current is not None:
        claim += f" (today's {current}: {fmt_count(now.throughput)} rps)"
    ledger.prove(
        "closed-loop",
        claim,
        "Mean Value Analysis of the closed loop (N threads always holding a request"
        + ("; the CPU a queue of its cores" if i.compute_s else "")
        + ("; the wait W a delay" if i.wait_s else "")
        + f"): {then.method}",
        {
            "recommended_threads": recommended,
            "current_threads": current,
            "wait_ms": None if i.wait_s is None else i.wait_s * 1e3,
            "compute_ms": None if i.compute_s is None else i.compute_s * 1e3,
        },
        {
            "recommended_rps": then.throughput,
            "recommended_hold_ms": held * 1e3,
            "current_rps": None if now is None else now.throughput,
            "current_hold_ms": None if now is None else (now.response_time + now.think_time) * 1e3,
        },
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
    i: ConcurrencyInputs, pools: tuple[Pool, ...], servers: int
) -> dict[str, Series]:
    """Throughput against threads on the system model: the asymptotic bound (``project``'s
    capacity) and the closed loop's answer (``closed``, MVA), which queues for the CPU near the
    knee where the bound turns."""
    if not service_time(i):
        return {}
    top = max(2 * max(p.threads for p in pools), i.current_threads or 0, 4)
    n = [int(k) for k in np.unique(np.linspace(1, top, 50).round().astype(int))]
    bound: list[tuple[float, float]] = []
    mva: list[tuple[float, float]] = []
    for k in n:
        bound.append((float(k), float(capacity(i, Config(k, servers)) or 0.0)))
        loop = closed_loop(i, Config(k, servers))
        if loop is not None:
            mva.append((float(k), loop.throughput))
    out = {"throughput_vs_threads": Series("threads", "max throughput (rps)", tuple(bound))}
    if mva:
        out["throughput_vs_threads_mva"] = Series(
            "threads", "throughput, closed loop (MVA, rps)", tuple(mva)
        )
    return out


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
        saturation_target=p.saturation_target,
        target=i.target_rps,
        threads_for_target=p.needed_for_target,
        target_reachable=(
            None
            if asked_rate(i) is None or p.cpu_ceiling_rps is None
            else (asked_rate(i) or 0.0) <= p.saturation_target * p.cpu_ceiling_rps * (1 + 1e-9)
        ),
        erlang=p.erlang,
        queue=p.queue,
        async_=p.async_advice,
        usl=p.usl,
    )


def _summary(p: Plan, recs: tuple[Any, ...]) -> str:
    sizes = ", ".join(f"{pool.pool} {pool.threads} {pool.kind}" for pool in p.pools)
    now = p.inputs.current_threads
    text = f"Pools: {sizes} " + ("(today's pool not given)" if now is None else f"(now {now})")
    ceiling = p.cpu_ceiling_rps
    if ceiling is not None:
        at_target = p.saturation_target * ceiling
        text += (
            f"; CPU caps throughput at {fmt_count(ceiling)} rps ({fmt_count(at_target)} at the "
            f"{fmt_pct(p.saturation_target)} saturation target)"
        )
        i = p.inputs
        if i.target_rps is not None and i.target_rps > at_target * (1 + 1e-9):
            text += f", below the {fmt_count(i.target_rps)} target: more threads cannot reach it"
    u = p.usl
    if u is not None and u.available and u.reliable is False:
        text += f"; the sweep's USL fit is unreliable (R² {u.r_squared:.3g}) and decides nothing"
    if recs:
        first = recs[0].optimization
        text += f". First: {first[0].lower()}{first[1:]}"
    return text + "."
