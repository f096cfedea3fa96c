"""Recommendations of ``optimize-concurrency``, each citing the evidence its numbers come from."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from throughput_expert.advisors.concurrency.inputs import Plan, asked_rate
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.laws.little import response_time_from
from throughput_expert.model import Recommendation
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_pct

__all__ = ["recommendations"]

Level = Literal["low", "medium", "high"]

_EXAMPLES = {
    "python": "cpu_pool = ProcessPoolExecutor(max_workers={cpu})   # CPU work: processes (GIL)\n"
    "io_pool = ThreadPoolExecutor(max_workers={io})     # waits release the GIL",
    "jvm": "ExecutorService cpu = Executors.newFixedThreadPool({cpu});\n"
    "ExecutorService io = Executors.newFixedThreadPool({io});  // or virtual threads",
    "go": "sem := make(chan struct{{}}, {io})  // at most {io} calls in flight\n"
    "runtime.GOMAXPROCS({cpu})",
    "node": "const pool = new Piscina({{ maxThreads: {cpu} }})  // CPU work off the event loop\n"
    "process.env.UV_THREADPOOL_SIZE = '{io}'",
}
# How to serve waits asynchronously when no runtime is named (each runtime's own way is its
# ``io`` entry in advisors/data/defaults.yaml).
_ANY_RUNTIME_IO = "async I/O (asyncio, virtual threads, an event loop)"
_DEFAULT_EXAMPLE = (
    "cpu_pool = ThreadPoolExecutor(max_workers={cpu})\n"
    "io_pool = ThreadPoolExecutor(max_workers={io})"
)


def recommendations(
    p: Plan, runtime: Mapping[str, Any], ledger: Ledger
) -> tuple[tuple[Recommendation, ...], dict[str, list[str]]]:
    """One recommendation per change: the pool sizes (with processes for CPU-bound Python, and
    the sweep's level when a sweep sized the pool: one change, one price, from ``expected``),
    then the bounded queue, async waits and the CPU ceiling."""
    recs: list[tuple[Recommendation, str]] = [(_size(p, runtime), "immediate")]
    for make, when in (
        (_queue, "immediate"),
        (_async, "short_term"),
        (_ceiling, "long_term"),
    ):
        rec = make(p, runtime)
        if rec is not None:
            recs.append((rec, when))
    plan: dict[str, list[str]] = {"immediate": [], "short_term": [], "long_term": []}
    for rec, when in recs:
        plan[when].append(rec.optimization)
    return tuple(r for r, _ in recs), plan


def _processes(p: Plan) -> bool:
    """CPU-bound Python work moves from threads to processes (the GIL)."""
    return p.gil and any(pool.pool == "cpu" and pool.kind == "processes" for pool in p.pools)


def _size(p: Plan, runtime: Mapping[str, Any]) -> Recommendation:
    """The pools, priced once: the gain is ``expected`` (today's pool and the recommended one
    on the same model), given only when the recommended pool carries more than today's."""
    sizes = {pool.pool: pool.threads for pool in p.pools}
    cpu, io = sizes.get("cpu", sizes.get("shared", 1)), sizes.get("io", sizes.get("shared", 1))
    now = p.expected.current.max_throughput
    then = p.expected.recommended.max_throughput
    gain = (then / now - 1) * 100 if now and then and then > now * (1 + 1e-9) else None
    words = ", ".join(
        f"{pool.pool} pool {pool.threads} {pool.kind} ({pool.formula})" for pool in p.pools
    )
    rationale = f"Set {words}."
    if len(p.pools) == 2:
        rationale += (
            " Separate pools keep slow I/O from starving CPU work and let each be "
            "sized by its own law."
        )
    processes = _processes(p)
    if processes:
        one = p.cpu_ceiling_rps / p.cpu_servers if p.cpu_ceiling_rps else None
        how = str(runtime["cpu"]) if runtime else "processes"
        rationale += (
            " CPU-bound Python holds the GIL: one process runs at most "
            + (f"{fmt_count(one)} rps of this work (1 / C) " if one else "one core of this work ")
            + f"whatever its threads. Use {how}; {p.inputs.cores} processes multiply the "
            "ceiling by the cores."
        )
    if p.sized_by_sweep and p.choice is not None:
        rationale += f" {p.choice.why[0].upper()}{p.choice.why[1:]}"
    short = _closed_loop(p)
    rationale += _carries(p, now, then) + short
    example = _EXAMPLES.get(p.inputs.runtime or "", _DEFAULT_EXAMPLE).format(cpu=cpu, io=io)
    ids = tuple(dict.fromkeys(i for pool in p.pools for i in pool.evidence_ids))
    if processes and p.cpu_ceiling_rps:
        ids += ("cpu-ceiling",)
    if then is not None and (now is not None or p.inputs.current_threads is None):
        ids += ("expected-throughput",)
    if short:
        ids += ("closed-loop",)
    what = "Size the pools: " + ", ".join(f"{pool.pool} {pool.threads}" for pool in p.pools)
    if processes:
        what += "; CPU work in processes, not threads (the GIL)"
    level: Level = "medium" if processes else "low"
    return Recommendation(what, gain, level, level, rationale, ids, example, "workers")


def _carries(p: Plan, now: float | None, then: float | None) -> str:
    """What the recommended pool carries against today's, on the model of ``expected``."""
    if then is not None and p.inputs.current_threads is None:
        return (
            f" The pool carries up to {fmt_count(then)} rps; today's pool not given: no gain "
            "against it is priced."
        )
    if now is None or then is None:
        return ""
    text = f" The pool carries up to {fmt_count(then)} rps"
    if then > now * (1 + 1e-9):
        text += f" instead of {fmt_count(now)}."
    elif then >= now * (1 - 1e-9):
        text += ", as today: no throughput gain" + (
            "; the CPU, not the pool, is the limit."
            if p.expected.basis == "little" and p.cpu_ceiling_rps is not None
            else "."
        )
    elif p.expected.basis == "little":
        text += (
            f", against {fmt_count(now)} today: no throughput gain; it is sized for what it "
            "must carry, not for more."
        )
    else:
        text += (
            f", against {fmt_count(now)} today: no throughput gain; fewer in flight give up "
            f"{fmt_pct(1 - then / now)} of it for a shorter response time."
        )
    n, current = p.expected.recommended.threads, p.inputs.current_threads
    if p.expected.basis == "usl" and then > 0 and now > 0 and n and current:
        # Little's law: the time a request spends in the system is R = N / X
        r_now, r_rec = response_time_from(current, now), response_time_from(n, then)
        text += (
            f" By Little's law R = N / X goes from {fmt_duration(r_now)} to {fmt_duration(r_rec)}."
        )
    return text


def _closed_loop(p: Plan) -> str:
    """The closed loop's answer (MVA) when it falls short of the rate asked while the bound
    reaches it: near the knee requests queue for the CPU, and the bound does not count that."""
    rec, asked = p.expected.recommended, asked_rate(p.inputs)
    mva, bound = rec.mva_throughput, rec.max_throughput
    if mva is None or bound is None or asked is None:
        return ""
    if not mva < asked <= bound * (1 + 1e-9):
        return ""
    held = f", each holding a thread {fmt_duration(rec.mva_response)}" if rec.mva_response else ""
    return (
        f" As a closed loop of {rec.threads} threads always busy (Mean Value Analysis), requests "
        f"queue for the CPU: the pool carries {fmt_count(mva)} rps{held}, below the "
        f"{fmt_count(asked)} rps asked, though the bound says {fmt_count(bound)}: the "
        "rate is near the knee, where threads wait for the CPU."
    )


def _queue(p: Plan, runtime: Mapping[str, Any]) -> Recommendation | None:
    q = p.queue
    if q is None:
        return None
    rationale = (
        f"Requests waiting beyond {q.capacity} in the queue would miss the SLO anyway; {q.policy}."
    )
    example = (
        f"work = queue.Queue(maxsize={max(q.capacity, 1)})\ntry:\n    work.put_nowait(item)\n"
        "except queue.Full:\n    reject(item)   # 429 / nack: the caller backs off"
    )
    return Recommendation(
        f"Bound the waiting queue at {q.capacity} and apply backpressure",
        None,
        "low",
        "low",
        rationale,
        ("queue-bound",),
        example,
    )


def _async(p: Plan, runtime: Mapping[str, Any]) -> Recommendation | None:
    if p.async_advice is None:
        return None
    how = str(runtime["io"]) if runtime else _ANY_RUNTIME_IO
    rationale = "; ".join(p.async_advice.why) + f". Use {how}."
    return Recommendation(
        "Serve the waits asynchronously instead of with a large pool",
        None,
        "medium",
        "medium",
        rationale,
        (),
    )


def _ceiling(p: Plan, runtime: Mapping[str, Any]) -> Recommendation | None:
    """The target is past what the CPU of the recommended pools carries at its saturation
    target: threads cannot help, less CPU per request or more cores can."""
    target, ceiling, compute = asked_rate(p.inputs), p.cpu_ceiling_rps, p.inputs.compute_s
    if target is None or ceiling is None or compute is None:
        return None
    at_target = p.saturation_target * ceiling
    if target <= at_target * (1 + 1e-9):
        return None
    factor = target / at_target
    cores = math.ceil(target * compute / p.saturation_target - 1e-9)
    where = "one process (threads under the GIL)" if p.cpu_servers == 1 and p.gil else "the cores"
    rationale = (
        f"The target {fmt_count(target)} rps keeps {fmt_count(target * compute)} cores busy "
        f"(X · C); {where} at the {fmt_pct(p.saturation_target)} saturation target carry "
        f"{fmt_count(at_target)} rps (of {fmt_count(ceiling)} at 100 %): threads cannot add "
        f"CPU. Cut compute time per request {factor:.3g}× or spread the load over {cores} "
        "cores (tpx scaling-plan)."
    )
    return Recommendation(
        "Cut CPU time per request or add cores/instances: the target is past the CPU ceiling",
        None,
        "high",
        "medium",
        rationale,
        ("cpu-ceiling",),
    )
