"""Recommendations of ``optimize-concurrency``, each citing the evidence its numbers come from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from throughput_expert.advisors.concurrency.inputs import Plan
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.laws.little import response_time_from
from throughput_expert.laws.usl import usl_throughput
from throughput_expert.model import Recommendation
from throughput_expert.model.units import fmt_count, fmt_duration

__all__ = ["recommendations"]

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
    recs: list[tuple[Recommendation, str]] = [(_size(p), "immediate")]
    for make, when in (
        (_processes, "short_term"),
        (_usl, "immediate"),
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


def _size(p: Plan) -> Recommendation:
    sizes = {pool.pool: pool.threads for pool in p.pools}
    cpu, io = sizes.get("cpu", sizes.get("shared", 1)), sizes.get("io", sizes.get("shared", 1))
    now = p.expected.current.max_throughput
    then = p.expected.recommended.max_throughput
    gain = (then / now - 1) * 100 if now and then else None
    words = ", ".join(
        f"{pool.pool} pool {pool.threads} {pool.kind} ({pool.formula})" for pool in p.pools
    )
    rationale = f"Set {words}."
    if len(p.pools) == 2:
        rationale += (
            " Separate pools keep slow I/O from starving CPU work and let each be "
            "sized by its own law."
        )
    if now and then:
        rationale += f" The pool carries up to {fmt_count(then)} rps instead of {fmt_count(now)}."
    example = _EXAMPLES.get(p.inputs.runtime or "", _DEFAULT_EXAMPLE).format(cpu=cpu, io=io)
    ids = tuple(dict.fromkeys(i for pool in p.pools for i in pool.evidence_ids))
    if gain is not None:
        ids += ("expected-throughput",)
    return Recommendation(
        "Size the pools: " + ", ".join(f"{pool.pool} {pool.threads}" for pool in p.pools),
        gain,
        "low",
        "low",
        rationale,
        ids,
        example,
    )


def _processes(p: Plan, runtime: Mapping[str, Any]) -> Recommendation | None:
    if not p.gil or p.inputs.workload_type == "io":
        return None
    ceiling = p.cpu_ceiling_rps
    gain = (p.inputs.cores - 1) * 100.0 if ceiling is not None else None
    why = str(runtime["cpu"])
    rationale = (
        f"CPU-bound Python holds the GIL: one process runs at most "
        f"{fmt_count(ceiling)} rps of this work (1 / C) whatever its threads. Use "
        f"{why}; {p.inputs.cores} processes multiply the ceiling by the cores."
        if ceiling
        else f"CPU-bound Python holds the GIL: use {why}."
    )
    return Recommendation(
        "Run CPU-bound work in processes, not threads",
        gain,
        "medium",
        "medium",
        rationale,
        ("cpu-ceiling",) if ceiling else (),
    )


def _usl(p: Plan, runtime: Mapping[str, Any]) -> Recommendation | None:
    u = p.usl
    if u is None or not u.available or u.recommended_concurrency is None:
        return None
    if u.sigma is None or u.kappa is None or u.lambda_ is None:
        return None
    n, now = u.recommended_concurrency, p.inputs.current_threads
    x_now = usl_throughput(float(now), u.sigma, u.kappa, u.lambda_)
    x_rec = usl_throughput(float(n), u.sigma, u.kappa, u.lambda_)
    past = bool(u.peak_concurrency) and now > (u.peak_concurrency or 0.0)
    where = "past the peak: fewer in flight is faster" if past else "at the knee"
    # Little's law: the time a request spends in the system is R = N / X at each concurrency
    r_now, r_rec = response_time_from(now, x_now), response_time_from(n, x_rec)
    where += f"; by Little's law R = N / X goes from {fmt_duration(r_now)} to {fmt_duration(r_rec)}"
    rationale = (
        f"The measured sweep fits the USL with σ = {u.sigma:.3g}, κ = "
        f"{u.kappa:.3g}; {n} in flight reaches 95 % of the best throughput "
        f"({fmt_count(x_rec)} rps predicted, {fmt_count(x_now)} at {now}): {where}."
    )
    return Recommendation(
        f"Cap concurrency at {n} (measured: USL fit)",
        (x_rec / x_now - 1) * 100,
        "low",
        "low",
        rationale,
        ("usl-fit",),
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
    target, ceiling = p.inputs.target_rps, p.cpu_ceiling_rps
    if target is None or ceiling is None or target <= ceiling:
        return None
    factor = target / ceiling
    rationale = (
        f"The target {fmt_count(target)} rps is {factor:.3g}× the CPU ceiling "
        f"({fmt_count(ceiling)} rps): threads cannot add CPU. Cut compute time per "
        f"request {factor:.3g}× or spread the load over {factor:.3g}× the cores "
        "(tpx scaling-plan)."
    )
    return Recommendation(
        "Cut CPU time per request or add cores/instances: the target is past the CPU ceiling",
        None,
        "high",
        "medium",
        rationale,
        ("cpu-ceiling",),
    )
