"""The advisor of ``design-batching``: the smallest batch that meets a target rate within a
latency budget, with the writer at or under its saturation target.

Cost model T(b) = c0 + c1·b (``laws.batching``), from, in order of trust (``cost_model``): a
real trial (``--measure``: one fit per method), measurements (``--measurements``), explicit
flags, or the current single-item latency split by the operation's default share
(``advisors/data/batching.yaml``). Every throughput is the system model's (``on_model``): the
writer is its workers, a batch size ``apply``-ed to it and ``project``-ed, so with ``k`` batches
in flight X(b) = k·b / T(b) and no batch size passes k / c1 (a disk timed per call can bind
first).

Sizing for the saturation target, not for 100 %: the writer is k servers (the batches in flight:
threads or connections), each held T(b) per batch of b, so at a rate λ it is busy
U = λ·T(b) / (k·b) = λ / X(b) (the utilization law). A batch is sized so that U ≤ u at the
target, i.e. X(b) ≥ target / u, with u the pools' busy target ``thresholds.pool_busy_target``
(the same the system model's workers use; listed under assumptions; ``--defaults`` changes it).

No recommendation projects less than today: when today's one-item calls already carry target / u
(``met_today``), the report says so and recommends no change; otherwise every design carries at
least target / u, which is above today's rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from throughput_expert.advisors.batching.cost_model import CostModel, cost_models
from throughput_expert.advisors.batching.inputs import BatchingInputs
from throughput_expert.advisors.batching.on_model import (
    WORKERS,
    at_batch,
    limit,
    measured_stations,
    smallest_batch,
    writer_model,
)
from throughput_expert.advisors.ledger import Ledger
from throughput_expert.errors import InputError, Parameter
from throughput_expert.laws.batching import added_latency, fill_time
from throughput_expert.laws.little import concurrency, throughput_from
from throughput_expert.model import Recommendation, Report, Series
from throughput_expert.model.analysis.batching import (
    AddedLatencyRecord,
    BatchingAnalysis,
    MethodRow,
)
from throughput_expert.model.settings import Settings
from throughput_expert.model.system import SystemModel
from throughput_expert.model.units import fmt_count, fmt_duration, fmt_pct

__all__ = ["advise"]

_MAX_CONCURRENCY = 1024


@dataclass(frozen=True)
class Design:
    model: CostModel
    system: SystemModel
    """The writer of ``model`` on the system model (``on_model.writer_model``)."""
    batch_size: int | None
    concurrency: int
    feasible: bool
    why: str | None


def advise(inputs: BatchingInputs, settings: Settings) -> Report:
    _check(inputs)
    ledger = Ledger()
    models = cost_models(inputs, settings, ledger)
    u = settings.threshold("pool_busy_target")
    ledger.assume(
        "saturation target of the writer",
        u,
        "thresholds.pool_busy_target: the batches in flight are a pool (threads or "
        "connections), sized like every pool so the writer is busy at most this share at the "
        "target, not 100 %",
    )
    need = inputs.target_rps / u
    stations = measured_stations(inputs.calls, settings, ledger)
    systems = [writer_model(m.c0, m.c1, inputs.concurrency, u, stations) for m in models]
    today = _current(inputs, models, systems, ledger)
    met = today >= need * (1 - 1e-9)
    designs = [_design(inputs, m, s) for m, s in zip(models, systems, strict=True)]
    best = _unchanged(inputs, designs) if met else min(designs, key=_rank)
    rate = inputs.arrival_rps or inputs.target_rps
    analysis = _analysis(inputs, best, designs, rate, today, u, met, ledger)
    recs = () if met else _recommendations(inputs, best, designs, analysis, settings)
    return Report(
        command="design-batching",
        summary=_summary(inputs, best, analysis),
        analysis=analysis,
        series=_series(best, rate),
        recommendations=recs,
        implementation_plan={
            "immediate": [r.optimization for r in recs[:1]],
            "short_term": [r.optimization for r in recs[1:]],
            "long_term": [],
        },
        evidence=tuple(ledger.evidence),
        assumptions=tuple(ledger.assumptions),
        inputs=_inputs(inputs),
    )


def _check(i: BatchingInputs) -> None:
    checks = (
        (Parameter("current_latency"), i.current_latency_s),
        (Parameter("fixed_overhead"), i.fixed_overhead_s),
        (Parameter("per_item_cost"), i.per_item_s),
        (Parameter("max_latency"), i.max_latency_s),
        (Parameter("target_throughput"), i.target_rps),
        (Parameter("arrival_rate"), i.arrival_rps),
    )
    for flag, value in checks:
        if value is not None and not value > 0:
            raise InputError("must be above zero", source=flag)
    if i.concurrency < 1:
        raise InputError("must be at least 1", source=Parameter("concurrency"))


def _design(i: BatchingInputs, m: CostModel, system: SystemModel) -> Design:
    """The smallest batch whose projection on the model carries the target at the saturation
    target, at the given concurrency and latency budget; if none, the smallest concurrency (up
    to 1024) for which one exists."""
    for k in range(i.concurrency, _MAX_CONCURRENCY + 1):
        b = smallest_batch(system, i.target_rps, k)
        if b is not None and _within_budget(i, m, b):
            why = (
                None
                if k == i.concurrency
                else (f"needs {k} batches in flight instead of {i.concurrency}")
            )
            return Design(m, system, b, k, k == i.concurrency, why)
    return Design(
        m,
        system,
        None,
        i.concurrency,
        False,
        "no batch size and concurrency up to 1024 meet the target within the budget",
    )


def _unchanged(i: BatchingInputs, designs: list[Design]) -> Design:
    """Today's way, one item per call: the target is met with headroom, nothing changes."""
    single = [d for d in designs if d.model.method == "single"]
    d = (single or designs)[0]
    return Design(d.model, d.system, 1, i.concurrency, True, None)


def _within_budget(i: BatchingInputs, m: CostModel, b: int) -> bool:
    if i.max_latency_s is None:
        return True
    rate = i.arrival_rps or i.target_rps
    return added_latency(b, rate, m.c0, m.c1).max_s <= i.max_latency_s


def _rank(d: Design) -> tuple[int, int, float]:
    """Feasible first, then fewest in flight, then the cheapest per item."""
    return (0 if d.feasible else 1, d.concurrency if d.batch_size else 10**6, d.model.c1)


def _analysis(
    i: BatchingInputs,
    d: Design,
    designs: list[Design],
    rate: float,
    current: float,
    u: float,
    met: bool,
    ledger: Ledger,
) -> BatchingAnalysis:
    m = d.model
    need = i.target_rps / u
    top = limit(d.system, i.concurrency)
    ledger.prove(
        "batch-limit",
        f"with {i.concurrency} in flight no batch passes {fmt_count(top.capacity)} rps "
        f"({fmt_count(top.ceiling)} rps at the writer's {fmt_pct(u)} target)",
        "on the system model, X(b) = k·b / (c0 + c1·b) → k / c1 as b grows",
        {"c1_ms": m.c1 * 1e3, "concurrency": i.concurrency, "saturation_target": u},
        {"limit_rps": top.capacity, "limit_at_target_rps": top.ceiling},
    )
    common = BatchingAnalysis(
        operation=i.operation,
        method=m.method,
        target=i.target_rps,
        concurrency=d.concurrency,
        feasible=d.feasible,
        why=d.why,
        limit=top.capacity,
        current_throughput=current,
        saturation_target=u,
        sized_for=need,
        met_today=met,
        utilization_at_target=None,
        cost_model=m.record(),
        methods=tuple(_method_row(x, i) for x in designs) if len(designs) > 1 else None,
        batch_size=None,
        what_else=_what_else(i, m, need, u, d.system),
    )
    if met:
        ledger.prove(
            "target-met",
            f"one item per call carries {fmt_count(current)} rps today: the writer would be "
            f"at {fmt_pct(i.target_rps / current)} at {fmt_count(i.target_rps)} rps, within "
            f"its {fmt_pct(u)} target",
            "utilization law: U = λ / X",
            {"target_rps": i.target_rps, "today_rps": current, "saturation_target": u},
            {"utilization": i.target_rps / current},
        )
        return replace(
            common,
            batch_size=1,
            expected_throughput=current,
            gain_vs_current=1.0,
            utilization_at_target=i.target_rps / current,
            what_else=(),
        )
    if d.batch_size is None:
        return common
    b, k = d.batch_size, d.concurrency
    lat = added_latency(b, rate, m.c0, m.c1)
    projected = at_batch(d.system, b, k, rate=i.target_rps)
    expected = projected.capacity
    busy = projected.utilization[WORKERS]
    bound = projected.binding
    also = (
        "" if bound == WORKERS else f"; {bound} binds, {fmt_pct(projected.utilization[bound])} busy"
    )
    ledger.prove(
        "batch-size",
        f"batches of {b} carry {fmt_count(expected)} rps with {k} in flight: the writer at "
        f"{fmt_pct(busy)} at {fmt_count(i.target_rps)} rps{also}",
        "on the system model (k writers, each holding an item c1 + c0/b): X(b) = k·b / "
        "(c0 + c1·b)"
        + ("" if bound == WORKERS else f"; {bound}: X ≤ m / D(b), D(b) = D·((1 − f) + f / b)")
        + "; smallest b with X(b) ≥ target / saturation target",
        {
            "c0_ms": m.c0 * 1e3,
            "c1_ms": m.c1 * 1e3,
            "concurrency": k,
            "target_rps": i.target_rps,
            "saturation_target": u,
        },
        {"batch_size": b, "throughput_rps": expected, "utilization": busy}
        | ({} if bound == WORKERS else {"binding": bound}),
    )
    ledger.prove(
        "batch-latency",
        f"batching adds {fmt_duration(lat.p50_s)} at the median and "
        f"{fmt_duration(lat.max_s)} at most",
        "fill (b − 1)/λ, then T(b)",
        {"batch_size": b, "arrival_rps": rate},
        {"p50_ms": lat.p50_s * 1e3, "max_ms": lat.max_s * 1e3},
    )
    return replace(
        common,
        batch_size=b,
        flush_interval=fill_time(b, rate),
        expected_throughput=expected,
        added_latency=AddedLatencyRecord(p50=lat.p50_s, max=lat.max_s),
        gain_vs_current=expected / current,
        utilization_at_target=busy,
        what_else=common.what_else if not d.feasible else (),
    )


def _current(
    i: BatchingInputs, models: list[CostModel], systems: list[SystemModel], ledger: Ledger
) -> float:
    """Today's rate, one item per call: from --current-latency, else the measured single-row
    latency of a trial, else the model at b = 1 (a trial's ``single`` method; without it the
    fastest method at b = 1, so no design is priced against a slower today)."""
    if i.current_latency_s is not None:
        return throughput_from(i.concurrency, i.current_latency_s)
    single = i.trials.by_method().get("single", []) if i.trials is not None else []
    ones = [t for t in single if t.batch_size == 1 and t.latencies_s]
    if ones:  # the mean: what a writer sending one row per call pays on average
        t1 = math.fsum(ones[0].latencies_s) / len(ones[0].latencies_s)
        rate = throughput_from(i.concurrency, t1)
        ledger.prove(
            "current-rate",
            f"one row per call takes {fmt_duration(t1)} on average (measured)",
            "X = k / T(1)",
            {"mean_latency_ms": t1 * 1e3, "concurrency": i.concurrency},
            {"rps": rate},
        )
        return rate
    # the model at one item per call: a trial's ``single`` method, else the fastest
    plain = [s for m, s in zip(models, systems, strict=True) if m.method == "single"]
    return max(at_batch(s, 1).capacity for s in plain or systems)


def _method_row(d: Design, i: BatchingInputs) -> MethodRow:
    m = d.model
    return MethodRow(
        method=m.method or "",
        c0=m.c0,
        c1=m.c1,
        batch_size=d.batch_size,
        concurrency=d.concurrency,
        feasible=d.feasible,
        limit=limit(d.system, i.concurrency).capacity,
    )


def _what_else(
    i: BatchingInputs, m: CostModel, need: float, u: float, system: SystemModel
) -> tuple[str, ...]:
    # X ≤ k / c1 (throughput_limit), so k > X·c1: Little's law, items in flight at c1 each,
    # with X the target over the saturation target
    in_flight = concurrency(need, m.c1)
    needed = math.floor(in_flight * (1 + 1e-9)) + 1  # rounding aside
    out = [
        f"more in flight: at least {needed} concurrent batches (k > X·c1 / u = "
        f"{in_flight:.3g} at the writer's {fmt_pct(u)} target)"
    ]
    # a station no batch size lifts past the target, however many are in flight
    top = limit(system, _MAX_CONCURRENCY)
    if top.binding != WORKERS and top.ceiling < i.target_rps:
        # more in flight does not lift it
        out[0] = (
            f"less {top.binding} time per item: {top.binding} alone caps batching at "
            f"{fmt_count(top.ceiling)} rps at its target"
        )
    if m.cheaper_method:
        out.append(f"a cheaper method per item: {m.cheaper_method}")
    out.append("partition the work so several writers (or instances) share the target")
    return tuple(out)


def _recommendations(
    i: BatchingInputs, d: Design, designs: list[Design], a: BatchingAnalysis, settings: Settings
) -> tuple[Recommendation, ...]:
    m = d.model
    if d.batch_size is None:
        text = "; ".join(a.what_else)
        return (
            Recommendation(
                "Batching alone cannot reach the target",
                None,
                "medium",
                "medium",
                f"{a.why}. What else is needed: {text}.",
                ("batch-limit",),
            ),
        )
    how = f" using {m.method}" if m.method else ""
    assert a.flush_interval is not None and a.gain_vs_current is not None
    rationale = (
        f"Flush every {d.batch_size} items or after {a.flush_interval * 1e3:.3g} ms, whichever "
        f"comes first, with {d.concurrency} batch(es) in flight: "
        f"{fmt_count(a.expected_throughput)} rps, {a.gain_vs_current:.3g}× "
        f"today's single-item rate; at {fmt_count(i.target_rps)} rps the writer is "
        f"{fmt_pct(a.utilization_at_target)} busy (its target {fmt_pct(a.saturation_target)})."
    )
    if d.why:
        rationale += f" It {d.why}."
    recs = [
        Recommendation(
            f"Batch {d.batch_size} items per call{how}",
            (a.gain_vs_current - 1) * 100,
            "low",
            "low",
            rationale,
            ("batch-size", "batch-latency"),
            _example(i, d),
            "batch",
        )
    ]
    return tuple(recs)


def _example(i: BatchingInputs, d: Design) -> str:
    # the flush interval the report states: the first item waits (b − 1)/λ for the last
    linger = fill_time(d.batch_size or 1, i.arrival_rps or i.target_rps)
    return (
        f"batch, deadline = [], time.monotonic() + {linger:.3g}\n"
        "for item in source:\n"
        "    batch.append(item)\n"
        f"    if len(batch) >= {d.batch_size} or time.monotonic() >= deadline:\n"
        "        write_batch(batch)           # one call / one commit per batch\n"
        f"        batch, deadline = [], time.monotonic() + {linger:.3g}"
    )


def _series(d: Design, rate: float) -> dict[str, Series]:
    m = d.model
    top = max(8, 4 * (d.batch_size or 64))
    sizes = np.unique(np.geomspace(1, top, 40).round().astype(int))
    tp = tuple((float(b), at_batch(d.system, int(b), d.concurrency).capacity) for b in sizes)
    lat = tuple((float(b), added_latency(int(b), rate, m.c0, m.c1).max_s * 1e3) for b in sizes)
    return {
        "throughput_vs_batch_size": Series("batch size", "throughput (rps)", tp),
        "latency_vs_batch_size": Series("batch size", "max added latency (ms)", lat),
    }


def _summary(i: BatchingInputs, d: Design, a: BatchingAnalysis) -> str:
    u = fmt_pct(a.saturation_target)
    if a.met_today:
        return (
            f"The target {fmt_count(i.target_rps)} rps is met today: one item per call carries "
            f"{fmt_count(a.current_throughput)} rps, so the writer would be "
            f"{fmt_pct(a.utilization_at_target)} busy (its target {u}): no change needed."
        )
    top = limit(d.system, i.concurrency)
    of = f"{u} of k / c1" if top.binding == WORKERS else f"{top.binding} at its target"
    if d.batch_size is None:
        return (
            f"Batching alone cannot reach {fmt_count(i.target_rps)} rps with the writer at or "
            f"under {u}: at most {fmt_count(top.ceiling)} rps with "
            f"{i.concurrency} in flight ({of}); {a.what_else[0]}."
        )
    how = f" with {d.model.method}" if d.model.method else ""
    prefix = "B"
    if not d.feasible:
        prefix = (
            f"With {i.concurrency} in flight batching cannot reach {fmt_count(i.target_rps)} "
            f"rps with the writer at or under {u} (at most "
            f"{fmt_count(top.ceiling)}: {of}); b"
        )
    assert a.flush_interval is not None and a.added_latency is not None
    return prefix + (
        f"atch {d.batch_size} items{how} (flush after {a.flush_interval * 1e3:.3g} ms), "
        f"{d.concurrency} in flight: {fmt_count(a.expected_throughput)} rps, "
        f"{a.gain_vs_current:.3g}× today (the writer {fmt_pct(a.utilization_at_target)} busy "
        f"at the target), adding at most {a.added_latency.max * 1e3:.3g} ms."
    )


def _inputs(i: BatchingInputs) -> tuple[Any, ...]:
    from throughput_expert.model import InputRef

    out = []
    if i.measurements_source:
        out.append(
            InputRef(
                i.measurements_source, "batch-measurements", f"{len(i.measurements or ())} rows"
            )
        )
    if i.trials is not None:
        out.append(
            InputRef(
                i.trials.target,
                f"{i.trials.dialect}-trial",
                f"{len(i.trials.trials)} trials in {i.trials.duration_s:.3g} s"
                + "".join(f", {name} = {value}" for name, value in i.trials.settings),
            )
        )
    return tuple(out)
